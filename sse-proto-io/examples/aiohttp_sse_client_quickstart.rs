//! aiohttp-sse-client's quickstart, in Rust: iterate over a stream asynchronously, with
//! reconnection, and print each event.
//!
//! ```text
//! cargo run -p sse-proto-io --features reqwest --example aiohttp_sse_client_quickstart -- URL
//! ```
//!
//! aiohttp-sse-client inherits aiohttp's total timeout of five minutes, which ends every
//! long stream; here there is none. A read-idle timeout (nothing received for 45 s, three
//! missed 15 s keep-alives) notices a dead connection instead, and the source reconnects.

use std::time::Duration;

use futures_util::StreamExt;
use sse_proto::ClientConfig;
use sse_proto_io::reqwest::EventSource;

/// Prints up to `limit` events of `url` (all of them when `None`), as aiohttp-sse-client's
/// `print(event)` does, and returns what it printed.
pub async fn run(url: &str, limit: Option<usize>) -> Result<Vec<String>, sse_proto_io::Error> {
    let mut config = ClientConfig::default();
    config.read_timeout = Some(Duration::from_secs(45));
    let http = reqwest::Client::new(); // no total timeout, ever
    let mut source = EventSource::with_config(http.get(url), config)?;
    let mut printed = Vec::new();
    while let Some(item) = source.next().await {
        match item {
            Ok(incoming) => {
                if let Some(event) = incoming.event() {
                    let line = format!("{}: {}", event.event_type(), event.data());
                    println!("{line}");
                    printed.push(line);
                    if limit.is_some_and(|limit| printed.len() >= limit) {
                        break;
                    }
                }
            }
            Err(error) if error.will_retry() => eprintln!("{error}"),
            Err(error) => return Err(error),
        }
    }
    Ok(printed)
}

#[allow(dead_code)] // the tests include this file for `run`
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .ok_or("usage: aiohttp_sse_client_quickstart URL")?;
    run(&url, None).await?;
    Ok(())
}
