//! Streaming tokens from an LLM-style API: a `POST` with a JSON body, answered with an
//! event stream of JSON chunks that ends with `data: [DONE]`.
//!
//! ```text
//! cargo run -p sse-proto-io --features reqwest --example llm_stream -- URL [TOKEN]
//! ```
//!
//! The body and headers go out again if the stream drops and the client reconnects (with
//! `Last-Event-ID`, for a server that can resume). An API that cannot resume starts a new,
//! billed completion on each reconnection: hence the attempt limit below. Tokens arrive as
//! `data: {"token":"..."}` lines here; adapt the field to your API.

use futures_util::StreamExt;
use sse_proto_io::reqwest::EventSource;

/// Sends `prompt` to `url` and returns the tokens of the answer, up to `[DONE]`.
pub async fn run(
    url: &str,
    token: &str,
    prompt: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let body = format!(r#"{{"model":"demo","stream":true,"prompt":{prompt:?}}}"#);
    let request = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body);
    let mut config = sse_proto::ClientConfig::default();
    config.max_attempts = Some(3); // then give up rather than pay for completions for ever
    let mut source = EventSource::with_config(request, config)?;
    let mut answer = String::new();
    while let Some(item) = source.next().await {
        let incoming = match item {
            Ok(incoming) => incoming,
            Err(error) if error.will_retry() => continue, // it reconnects and resumes
            Err(error) => return Err(error.into()),
        };
        let Some(event) = incoming.event() else {
            continue;
        };
        if event.data() == "[DONE]" {
            source.close();
            break;
        }
        answer.push_str(token_of(event.data()).ok_or("a chunk without a token")?);
    }
    Ok(answer)
}

/// The `token` string of a `{"token":"..."}` chunk (a real program would use serde_json).
fn token_of(chunk: &str) -> Option<&str> {
    chunk.strip_prefix(r#"{"token":""#)?.strip_suffix(r#""}"#)
}

#[allow(dead_code)] // the tests include this file for `run`
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: llm_stream URL [TOKEN]")?;
    let token = args.next().unwrap_or_else(|| "secret".to_owned());
    println!("{}", run(&url, &token, "Say hello").await?);
    Ok(())
}
