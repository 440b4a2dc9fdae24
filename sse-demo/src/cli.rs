//! What the two client binaries share: their arguments and how they print.

use std::time::Duration;

use std::process::ExitCode;

use sse_proto::Backoff;

use crate::client::{Incoming, Options};

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
}

/// Prints one report: events and comments on stdout, the rest on stderr. Returns whether it
/// was an event.
pub fn print(program: &str, incoming: &Incoming) -> bool {
    match incoming {
        Incoming::Event(event) => {
            println!(
                "event={:?} id={:?} data={:?}",
                event.event_type(),
                event.last_event_id(),
                event.data()
            );
            return true;
        }
        Incoming::Comment(text) => println!(": {text}"),
        Incoming::Open {
            last_event_id: Some(id),
        } => eprintln!("{program}: open (resuming after {id:?})"),
        Incoming::Open {
            last_event_id: None,
        } => eprintln!("{program}: open"),
        Incoming::Retry(delay) => eprintln!("{program}: retry {delay:?}"),
        Incoming::Dropped(limit) => eprintln!("{program}: dropped an event: {limit}"),
        Incoming::Reconnecting { reason, after } => {
            eprintln!("{program}: {reason}; reconnecting in {after:?}")
        }
    }
    false
}

/// Parses the command line of a client binary into its arguments and client options; on
/// `--help` or a bad argument, prints and gives the exit code to return.
pub fn client_setup(program: &str, usage: &str) -> Result<(ClientArgs, Options), ExitCode> {
    let args = match ClientArgs::parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            print!("{usage}");
            return Err(ExitCode::SUCCESS);
        }
        Err(message) => {
            eprintln!("{program}: {message}\n\n{usage}");
            return Err(ExitCode::from(2));
        }
    };
    let mut options = Options {
        last_event_id: args.last_event_id.clone(),
        comments: args.comments,
        max_attempts: args.max_attempts,
        ..Options::default()
    };
    if args.backoff {
        let mut backoff = Backoff::new(2, Duration::from_secs(60));
        backoff.jitter_percent = 20;
        options.backoff = Some(backoff);
    }
    if let Some(idle) = args.read_idle {
        options.read_idle = idle;
    }
    Ok((args, options))
}
