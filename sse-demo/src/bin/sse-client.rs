//! The async client (`sse_proto_io::reqwest::EventSource`):
//! `cargo run -p sse-demo --bin sse-client -- URL`.

use std::process::ExitCode;

use futures_util::StreamExt;
use sse_demo::cli;
use sse_proto_io::reqwest::EventSource;

const NAME: &str = "sse-client";

fn usage() -> String {
    format!(
        "usage: {NAME} URL [options]\n\nPrints the events of an event stream (http:// or https://), \
         reconnecting with Last-Event-ID when it drops.\n\n{}",
        cli::CLIENT_OPTIONS
    )
}

fn main() -> ExitCode {
    let args = match cli::client_setup(NAME, &usage()) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let http = reqwest::Client::new();
        let opened =
            EventSource::with_config(http.get(&args.url), args.config()).and_then(|mut source| {
                if let Some(id) = &args.last_event_id {
                    source.set_last_event_id(id)?;
                }
                Ok(source)
            });
        let mut source = match opened {
            Ok(source) => source,
            Err(error) => {
                eprintln!("{NAME}: {}", cli::chain(&error));
                return ExitCode::from(2);
            }
        };
        let mut output = cli::Output::new(NAME, args.count);
        let code = loop {
            let item = tokio::select! {
                item = source.next() => item,
                _ = tokio::signal::ctrl_c() => None,
            };
            let Some(item) = item else {
                break ExitCode::SUCCESS;
            };
            if let Some(code) = output.take(&item) {
                break code;
            }
        };
        if !source.last_event_id().is_empty() {
            eprintln!(
                "{NAME}: last event id {:?} (pass --last-event-id to resume)",
                source.last_event_id()
            );
        }
        code
    })
}
