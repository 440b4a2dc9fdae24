//! `sse record`: the raw bytes of one response, with their arrival times.

use std::time::{Duration, Instant};

use clap::Args;
use futures_util::StreamExt;

use crate::recording::Writer;
use crate::request::RequestArgs;

/// `sse record`'s arguments.
#[derive(Args, Debug)]
pub struct RecordArgs {
    /// The stream's URL.
    pub url: String,
    /// Where to write the recording (see `docs/cli.md` for the format).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: std::path::PathBuf,
    /// Stop after this many seconds (default: when the server ends the stream).
    #[arg(long, value_name = "SECONDS")]
    pub max_time: Option<f64>,
    #[command(flatten)]
    pub request: RequestArgs,
}

/// Runs `sse record`; the exit code.
pub fn run(args: RecordArgs) -> i32 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(record(&args)) {
        Ok((chunks, bytes)) => {
            eprintln!(
                "sse record: {chunks} chunks, {bytes} bytes to {}",
                args.output.display()
            );
            0
        }
        Err(message) => {
            eprintln!("sse record: {message}");
            1
        }
    }
}

async fn record(args: &RecordArgs) -> Result<(u64, u64), String> {
    let http = reqwest::Client::new();
    // The request an EventSource sends: its headers are the core's (Accept, the cache
    // headers); the caller's -H come on top.
    let mut builder = args.request.build(&http, &args.url)?;
    let mut client = sse_proto::Client::new(sse_proto::ClientConfig::default());
    if let sse_proto::Action::Send(request) = client.poll(Instant::now(), 0) {
        let given = |name: &str| {
            args.request.headers.iter().any(|h| {
                h.split(':')
                    .next()
                    .is_some_and(|n| n.trim().eq_ignore_ascii_case(name))
            })
        };
        for (name, value) in request.headers().filter(|(name, _)| !given(name)) {
            builder = builder.header(name, value);
        }
    }
    let started = Instant::now();
    let response = builder.send().await.map_err(|e| crate::cat::chain(&e))?;
    let status = response.status();
    let kept = ["content-type", "cache-control", "x-accel-buffering"];
    let mut headers = vec![("status".to_owned(), status.as_u16().to_string())];
    for name in kept {
        if let Some(value) = response.headers().get(name).and_then(|v| v.to_str().ok()) {
            headers.push((name.to_owned(), value.to_owned()));
        }
    }
    let file = std::fs::File::create(&args.output)
        .map_err(|e| format!("{}: {e}", args.output.display()))?;
    let mut writer = Writer::new(std::io::BufWriter::new(file), &args.url, &headers)
        .map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("the server answered {status}"));
    }
    let deadline = args
        .max_time
        .map(|s| started + Duration::from_secs_f64(s.max(0.0)));
    let mut body = response.bytes_stream();
    let (mut chunks, mut bytes) = (0, 0);
    loop {
        let wait = match (deadline, args.request.idle()) {
            (Some(deadline), Some(idle)) => deadline.min(Instant::now() + idle),
            (Some(deadline), None) => deadline,
            (None, Some(idle)) => Instant::now() + idle,
            (None, None) => Instant::now() + Duration::from_secs(365 * 24 * 3600),
        };
        let next = tokio::select! {
            next = body.next() => next,
            () = tokio::time::sleep_until(wait.into()) => None,
            _ = tokio::signal::ctrl_c() => None,
        };
        let Some(next) = next else { break };
        let chunk = next.map_err(|e| crate::cat::chain(&e))?;
        writer
            .chunk(started.elapsed(), &chunk)
            .map_err(|e| e.to_string())?;
        chunks += 1;
        bytes += chunk.len() as u64;
    }
    Ok((chunks, bytes))
}
