//! Python's sseclient quickstart, in Rust: iterate over a stream's events, blocking, and
//! print each one's id, type and data.
//!
//! ```text
//! cargo run -p sse-proto-io --features blocking --example sseclient_quickstart -- URL
//! ```
//!
//! sseclient's users build the request themselves with `Accept: text/event-stream`; here the
//! client sends that header (and the cache headers) itself, and reconnects with
//! `Last-Event-ID` when the stream drops, which sseclient does too.

use std::io::Write;

use sse_proto_io::blocking::EventSource;

/// Prints up to `limit` events of `url` to `out` (all of them when `None`).
pub fn run(
    url: &str,
    limit: Option<usize>,
    out: &mut impl Write,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut printed = 0;
    for item in EventSource::get(url)? {
        match item {
            Ok(incoming) => {
                if let Some(event) = incoming.event() {
                    writeln!(
                        out,
                        "{} {} {}",
                        event.last_event_id(),
                        event.event_type(),
                        event.data()
                    )?;
                    printed += 1;
                    if limit.is_some_and(|limit| printed >= limit) {
                        break;
                    }
                }
            }
            Err(error) if error.will_retry() => eprintln!("{error}"),
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

#[allow(dead_code)] // the tests include this file for `run`
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .ok_or("usage: sseclient_quickstart URL")?;
    run(&url, None, &mut std::io::stdout().lock())
}
