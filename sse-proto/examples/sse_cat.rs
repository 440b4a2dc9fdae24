//! Reads a `text/event-stream` on standard input and prints each event as it is dispatched.
//!
//! ```text
//! printf 'event: greet\nid: 1\ndata: hello\ndata: world\n\n' | cargo run -q -p sse-proto --example sse_cat
//! curl -sN https://example.test/stream | cargo run -q -p sse-proto --example sse_cat -- --comments
//! ```
//!
//! One line per step on standard output (events, retries and, with `--comments`, comments),
//! limit errors on standard error. Reads in small chunks and flushes after every event, so a
//! live stream shows up as it arrives.

use std::io::{self, Read, Write};

use sse_proto::{Parser, ParserConfig, Step};

fn main() -> io::Result<()> {
    let mut config = ParserConfig::default();
    config.emit_comments = std::env::args().any(|arg| arg == "--comments");
    let mut parser = Parser::with_config(config);

    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut chunk = [0u8; 8192];
    let mut events = 0u64;
    loop {
        let n = match stdin.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for step in parser.feed(&chunk[..n]) {
            match step {
                Ok(Step::Event(event)) => {
                    events += 1;
                    writeln!(
                        out,
                        "event={:?} id={:?} data={:?}",
                        event.event_type(),
                        event.last_event_id(),
                        event.data()
                    )?;
                }
                Ok(Step::Retry(delay)) => writeln!(out, "retry={}ms", delay.as_millis())?,
                Ok(Step::Comment(text)) => writeln!(out, "comment={:?}", text.as_str())?,
                Ok(_) => {}
                Err(error) => eprintln!("sse_cat: {error}"),
            }
        }
        out.flush()?;
    }
    // End of input: an event without its closing empty line is discarded, as browsers do.
    let unfinished = parser.buffered_len() > 0;
    parser.finish();
    let pending = if unfinished {
        " (an unfinished event was discarded)"
    } else {
        ""
    };
    eprintln!(
        "sse_cat: {events} event(s); last event ID {:?}{pending}",
        parser.last_event_id()
    );
    Ok(())
}
