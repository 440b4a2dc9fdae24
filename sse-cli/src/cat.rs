//! `sse cat`: print events as they arrive, from a URL (reconnecting) or from stdin.

use std::io::{IsTerminal, Read, Write};
use std::time::{Duration, Instant};

use clap::Args;
use futures_util::StreamExt;
use sse_proto::{ClientConfig, Event, Parser, ParserConfig, Step};
use sse_proto_io::reqwest::EventSource;
use sse_proto_io::{Error, Incoming};

use crate::request::RequestArgs;

/// `sse cat`'s arguments.
#[derive(Args, Debug)]
pub struct CatArgs {
    /// The stream's URL; without one, the stream is read from stdin.
    pub url: Option<String>,
    #[command(flatten)]
    pub request: RequestArgs,
    /// One JSON object per line for each event (type, data, id; retry and comment with
    /// --comments).
    #[arg(short = 'j', long)]
    pub json: bool,
    /// Only events of this type (repeatable).
    #[arg(short = 'e', long = "event", value_name = "TYPE")]
    pub events: Vec<String>,
    /// Show comments (keep-alives) and retry fields too.
    #[arg(long)]
    pub comments: bool,
    /// Stop after this many events.
    #[arg(short = 'n', long, value_name = "N")]
    pub count: Option<u64>,
    /// Resume after this event ID (sent as Last-Event-ID).
    #[arg(long, value_name = "ID")]
    pub last_event_id: Option<String>,
    /// Give up after this many failed reconnections in a row.
    #[arg(long, value_name = "N")]
    pub max_attempts: Option<u32>,
    /// Colours: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: Color,
    /// No summary on stderr at the end.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// When to use colours.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Color {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// What `cat` counts for its summary.
#[derive(Debug, Default)]
struct Summary {
    events: u64,
    first_event: Option<Duration>,
    reconnections: u64,
}

impl Summary {
    /// Counts what was printed (`Ok(true)`: an event); whether `cat` is done: the count is
    /// reached, or stdout closed (`sse cat URL | head`), which ends it quietly.
    fn done_after(
        &mut self,
        printed: std::io::Result<bool>,
        started: Instant,
        count: Option<u64>,
    ) -> bool {
        match printed {
            Ok(true) => {
                self.events += 1;
                self.first_event.get_or_insert_with(|| started.elapsed());
                count.is_some_and(|n| self.events >= n)
            }
            Ok(false) => false,
            Err(_) => true,
        }
    }
}

struct Printer {
    json: bool,
    color: bool,
    comments: bool,
    filter: Vec<String>,
    out: std::io::StdoutLock<'static>,
}

impl Printer {
    fn event(&mut self, event: &Event) -> std::io::Result<bool> {
        if !self.filter.is_empty() && !self.filter.iter().any(|t| t == event.event_type()) {
            return Ok(false);
        }
        if self.json {
            let line = serde_json::json!({
                "type": event.event_type(),
                "data": event.data(),
                "id": event.last_event_id(),
            });
            writeln!(self.out, "{line}")?;
        } else if self.color {
            let id = event.last_event_id();
            let id = if id.is_empty() {
                String::new()
            } else {
                format!("\x1b[2m#{id}\x1b[0m ")
            };
            writeln!(
                self.out,
                "{id}\x1b[1;36m{}\x1b[0m {}",
                event.event_type(),
                event.data()
            )?;
        } else {
            let id = event.last_event_id();
            let id = if id.is_empty() {
                String::new()
            } else {
                format!("#{id} ")
            };
            writeln!(self.out, "{id}{}: {}", event.event_type(), event.data())?;
        }
        self.out.flush()?;
        Ok(true)
    }

    fn extra(&mut self, what: &str, value: &str) -> std::io::Result<()> {
        if !self.comments {
            return Ok(());
        }
        if self.json {
            writeln!(self.out, "{}", serde_json::json!({ what: value }))?;
        } else if self.color {
            writeln!(self.out, "\x1b[2m{what}: {value}\x1b[0m")?;
        } else {
            writeln!(self.out, "({what}: {value})")?;
        }
        self.out.flush()
    }
}

/// Runs `sse cat`; the exit code.
pub fn run(args: CatArgs) -> i32 {
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let printer = Printer {
        json: args.json,
        color,
        comments: args.comments,
        filter: args.events.clone(),
        out: std::io::stdout().lock(),
    };
    let started = Instant::now();
    let mut summary = Summary::default();
    let result = match &args.url {
        Some(url) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime");
            runtime.block_on(from_url(url, &args, printer, &mut summary, started))
        }
        None => from_stdin(&args, printer, &mut summary, started),
    };
    let (code, bytes) = match result {
        Ok(bytes) => (0, bytes),
        Err((message, bytes)) => {
            eprintln!("sse cat: {message}");
            (1, bytes)
        }
    };
    if !args.quiet {
        let first = summary.first_event.map_or("no event".to_owned(), |t| {
            format!("first event after {t:.2?}")
        });
        eprintln!(
            "sse cat: {} events, {bytes} bytes, {first}, {} reconnections, {:.2?} in all",
            summary.events,
            summary.reconnections,
            started.elapsed()
        );
    }
    code
}

/// Reads from a URL until the count, a fatal error or Ctrl-C; the bytes received.
async fn from_url(
    url: &str,
    args: &CatArgs,
    mut printer: Printer,
    summary: &mut Summary,
    started: Instant,
) -> Result<u64, (String, u64)> {
    let mut config = ClientConfig::default();
    config.read_timeout = args.request.idle();
    config.max_attempts = args.max_attempts;
    config.parser.emit_comments = args.comments;
    let http = reqwest::Client::new();
    let request = args.request.build(&http, url).map_err(|e| (e, 0))?;
    let mut source = EventSource::with_config(request, config).map_err(|e| (chain(&e), 0))?;
    if let Some(id) = &args.last_event_id {
        source.set_last_event_id(id).map_err(|e| (chain(&e), 0))?;
    }
    loop {
        let item = tokio::select! {
            item = source.next() => item,
            _ = tokio::signal::ctrl_c() => None,
        };
        let Some(item) = item else { break };
        let printed = match item {
            Ok(Incoming::Event(event)) => printer.event(&event),
            Ok(Incoming::Comment(text)) => printer.extra("comment", &text).map(|()| false),
            Ok(Incoming::Retry(delay)) => printer
                .extra("retry", &delay.as_millis().to_string())
                .map(|()| false),
            Ok(_) => Ok(false),
            Err(error @ Error::Reconnecting { .. }) => {
                summary.reconnections += 1;
                eprintln!("sse cat: {}", chain(&error));
                Ok(false)
            }
            Err(error) if error.will_retry() => {
                eprintln!("sse cat: {}", chain(&error));
                Ok(false)
            }
            Err(error) => return Err((chain(&error), source.received_bytes())),
        };
        if summary.done_after(printed, started, args.count) {
            break;
        }
    }
    if !source.last_event_id().is_empty() {
        eprintln!(
            "sse cat: last event id {:?} (--last-event-id resumes there)",
            source.last_event_id()
        );
    }
    Ok(source.received_bytes())
}

/// Reads a stream from stdin to its end; the bytes read.
fn from_stdin(
    args: &CatArgs,
    mut printer: Printer,
    summary: &mut Summary,
    started: Instant,
) -> Result<u64, (String, u64)> {
    let mut config = ParserConfig::default();
    config.emit_comments = args.comments;
    let mut parser = Parser::with_config(config);
    let mut stdin = std::io::stdin().lock();
    let mut buf = vec![0; 64 * 1024];
    let mut bytes = 0;
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err((format!("stdin: {error}"), bytes)),
        };
        bytes += n as u64;
        for step in parser.feed(&buf[..n]) {
            let printed = match step {
                Ok(Step::Event(event)) => printer.event(&event),
                Ok(Step::Comment(text)) => printer.extra("comment", &text).map(|()| false),
                Ok(Step::Retry(delay)) => printer
                    .extra("retry", &delay.as_millis().to_string())
                    .map(|()| false),
                Ok(_) => Ok(false),
                Err(limit) => {
                    eprintln!("sse cat: {limit}");
                    Ok(false)
                }
            };
            if summary.done_after(printed, started, args.count) {
                return Ok(bytes);
            }
        }
    }
    parser.finish();
    Ok(bytes)
}

/// An error and its sources on one line.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
