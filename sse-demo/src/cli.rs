//! What the two client binaries share: their arguments, the client settings they ask for,
//! and how they print. The clients themselves are `sse_proto_io`'s.

use std::process::ExitCode;
use std::time::Duration;

use sse_proto::{Backoff, ClientConfig};
use sse_proto_io::{Error, Incoming};

/// The client binaries' arguments.
#[derive(Debug, Default)]
pub struct ClientArgs {
    /// The stream's URL.
    pub url: String,
    /// `--idle-s N`: `Some(None)` for 0 (never), `None` when not given.
    pub read_idle: Option<Option<Duration>>,
    /// `--last-event-id ID`.
    pub last_event_id: Option<String>,
    /// `--comments`.
    pub comments: bool,
    /// `--count N`.
    pub count: Option<u64>,
    /// `--backoff`: exponential backoff between failed attempts.
    pub backoff: bool,
    /// `--max-attempts N`.
    pub max_attempts: Option<u32>,
}

/// The options both clients take, for their usage text.
pub const CLIENT_OPTIONS: &str = "\
options:
  --idle-s N             reconnect after N seconds without a byte (default 45; 0: never)
  --last-event-id ID     resume after ID (e.g. saved by an earlier run)
  --comments             print comments (keep-alives) too
  --count N              stop after N events
  --backoff              double the wait after each failed attempt (up to 60 s, with jitter)
  --max-attempts N       give up after N failed attempts in a row
";

/// The read-idle timeout when `--idle-s` is not given: three missed 15 s keep-alives.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(45);

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    /// Run with these arguments.
    Run(ClientArgs),
    /// `--help`.
    Help,
}

impl ClientArgs {
    /// Parses the arguments after the program name.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
        let mut parsed = ClientArgs::default();
        let mut url = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut number = |name: &str| -> Result<u64, String> {
                let value = args.next().ok_or(format!("{name} needs a value"))?;
                value
                    .parse()
                    .map_err(|_| format!("{name}: not a number: {value}"))
            };
            match arg.as_str() {
                "-h" | "--help" => return Ok(Parsed::Help),
                "--idle-s" => {
                    let n = number("--idle-s")?;
                    parsed.read_idle = Some((n > 0).then(|| Duration::from_secs(n)));
                }
                "--count" => parsed.count = Some(number("--count")?),
                "--max-attempts" => {
                    let n = number("--max-attempts")?;
                    parsed.max_attempts = Some(u32::try_from(n).unwrap_or(u32::MAX));
                }
                "--backoff" => parsed.backoff = true,
                "--last-event-id" => {
                    parsed.last_event_id = Some(args.next().ok_or("--last-event-id needs a value")?)
                }
                "--comments" => parsed.comments = true,
                _ if url.is_none() && !arg.starts_with('-') => url = Some(arg),
                _ => return Err(format!("unknown argument: {arg}")),
            }
        }
        parsed.url = url.ok_or("no URL given")?;
        Ok(Parsed::Run(parsed))
    }

    /// The client settings these arguments ask for.
    pub fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::default();
        config.read_timeout = self.read_idle.unwrap_or(Some(DEFAULT_IDLE));
        config.max_attempts = self.max_attempts;
        config.parser.emit_comments = self.comments;
        if self.backoff {
            let mut backoff = Backoff::new(2, Duration::from_secs(60));
            backoff.jitter_percent = 20;
            config.backoff = Some(backoff);
        }
        config
    }
}

/// Prints one item: events and comments on stdout, the rest on stderr. Returns whether it
/// was an event.
pub fn print(program: &str, item: &Result<Incoming, Error>) -> bool {
    match item {
        Ok(Incoming::Event(event)) => {
            println!(
                "event={:?} id={:?} data={:?}",
                event.event_type(),
                event.last_event_id(),
                event.data()
            );
            return true;
        }
        Ok(Incoming::Comment(text)) => println!(": {text}"),
        Ok(Incoming::Open {
            last_event_id: Some(id),
        }) => eprintln!("{program}: open (resuming after {id:?})"),
        Ok(Incoming::Open {
            last_event_id: None,
        }) => eprintln!("{program}: open"),
        Ok(Incoming::Retry(delay)) => eprintln!("{program}: retry {delay:?}"),
        Ok(other) => eprintln!("{program}: {other:?}"),
        Err(error) => eprintln!("{program}: {}", chain(error)),
    }
    false
}

/// Prints the items of one run and says when it is over: after `--count` events, or after
/// an error that ends the source.
#[derive(Debug)]
pub struct Output {
    program: &'static str,
    count: Option<u64>,
    events: u64,
}

impl Output {
    /// Output for `program`, stopping after `count` events if given.
    pub fn new(program: &'static str, count: Option<u64>) -> Self {
        Output {
            program,
            count,
            events: 0,
        }
    }

    /// Prints `item`; `Some(code)` when the program should stop with it.
    pub fn take(&mut self, item: &Result<Incoming, Error>) -> Option<ExitCode> {
        if print(self.program, item) {
            self.events += 1;
            if self.count.is_some_and(|n| self.events >= n) {
                return Some(ExitCode::SUCCESS);
            }
        }
        match item {
            Err(error) if !error.will_retry() => Some(ExitCode::FAILURE),
            _ => None,
        }
    }
}

/// An error and its sources on one line (a transport's own message is often just "error
/// sending request").
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

/// Parses the command line of a client binary; on `--help` or a bad argument, prints and
/// gives the exit code to return.
pub fn client_setup(program: &str, usage: &str) -> Result<ClientArgs, ExitCode> {
    match ClientArgs::parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(args)) => Ok(args),
        Ok(Parsed::Help) => {
            print!("{usage}");
            Err(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("{program}: {message}\n\n{usage}");
            Err(ExitCode::from(2))
        }
    }
}
