//! `sse lint`: runs the [`Linter`](crate::lint::Linter) over a file, stdin or a URL and
//! prints what it found.

use std::io::Read;
use std::time::{Duration, Instant};

use clap::Args;
use futures_util::StreamExt;

use crate::lint::{Linter, Report, Severity, LISTED_PER_KIND};
use crate::recording;

/// `sse lint`'s arguments.
#[derive(Args, Debug)]
pub struct LintArgs {
    /// A file (a stream, or a recording of `sse record`), a URL, or `-` for stdin.
    #[arg(default_value = "-")]
    pub input: String,
    /// Warnings fail too (exit code 1).
    #[arg(long)]
    pub strict: bool,
    /// For a URL: stop reading after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub max_time: f64,
}

/// Runs `sse lint`; the exit code: 0 clean, 1 findings that fail, 2 the input could not be
/// read.
pub fn run(args: LintArgs) -> i32 {
    let mut linter = Linter::new();
    let read = if args.input.starts_with("http://") || args.input.starts_with("https://") {
        lint_url(&args, &mut linter)
    } else {
        lint_file(&args.input, &mut linter)
    };
    if let Err(message) = read {
        eprintln!("sse lint: {message}");
        return 2;
    }
    let report = linter.finish();
    print(&args.input, &report);
    let fails = report.has(if args.strict {
        Severity::Warning
    } else {
        Severity::Error
    });
    i32::from(fails)
}

fn print(input: &str, report: &Report) {
    let name = if input == "-" { "stdin" } else { input };
    for finding in &report.findings {
        println!("{name}: {finding}");
    }
    for (kind, count) in &report.counts {
        if *count as usize > LISTED_PER_KIND {
            println!(
                "{name}: ... and {} more like {kind:?}",
                *count as usize - LISTED_PER_KIND
            );
        }
    }
    let (errors, warnings) =
        report
            .counts
            .iter()
            .fold((0, 0), |(e, w), (kind, n)| match kind.severity() {
                Severity::Error => (e + n, w),
                Severity::Warning => (e, w + n),
            });
    eprintln!(
        "sse lint: {name}: {} bytes, {} events, {errors} errors, {warnings} warnings",
        report.bytes, report.events
    );
}

fn lint_file(path: &str, linter: &mut Linter) -> Result<(), String> {
    let mut bytes = Vec::new();
    if path == "-" {
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("stdin: {e}"))?;
    } else {
        bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    }
    let recording = recording::read(&bytes).map_err(|e| format!("{path}: {e}"))?;
    if bytes.starts_with(recording::MAGIC) {
        linter.content_type(recording.header("content-type"));
    }
    for (_, chunk) in &recording.chunks {
        linter.feed(chunk);
    }
    Ok(())
}

fn lint_url(args: &LintArgs, linter: &mut Linter) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(&args.input)
            .header("accept", sse_proto::EVENT_STREAM_MIME_TYPE)
            .send()
            .await
            .map_err(|e| crate::cat::chain(&e))?;
        if !response.status().is_success() {
            return Err(format!("the server answered {}", response.status()));
        }
        linter.content_type(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
        );
        let until = Instant::now() + Duration::from_secs_f64(args.max_time.max(0.0));
        let mut body = response.bytes_stream();
        loop {
            let next = tokio::select! {
                next = body.next() => next,
                () = tokio::time::sleep_until(until.into()) => None,
            };
            match next {
                Some(Ok(chunk)) => linter.feed(&chunk),
                Some(Err(error)) => return Err(crate::cat::chain(&error)),
                None => return Ok(()),
            }
        }
    })
}
