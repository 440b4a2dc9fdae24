//! The async client: `cargo run -p sse-demo --bin sse-client -- URL`.

use std::process::ExitCode;

use sse_demo::cli;
use sse_demo::client::EventSource;

const NAME: &str = "sse-client";

fn usage() -> String {
    format!(
        "usage: {NAME} URL [options]\n\nPrints the events of an event stream (http:// or https://), \
         reconnecting with Last-Event-ID when it drops.\n\n{}",
        cli::CLIENT_OPTIONS
    )
}

fn main() -> ExitCode {
    let (args, options) = match cli::client_setup(NAME, &usage()) {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let mut source = EventSource::new(args.url, options);
        let mut events = 0;
        loop {
            let next = tokio::select! {
                next = source.next() => next,
                _ = tokio::signal::ctrl_c() => None,
            };
            match next {
                None => break,
                Some(Ok(incoming)) => {
                    if cli::print(NAME, &incoming) {
                        events += 1;
                        if args.count.is_some_and(|n| events >= n) {
                            break;
                        }
                    }
                }
                Some(Err(fatal)) => {
                    eprintln!("{NAME}: {fatal}");
                    return ExitCode::FAILURE;
                }
            }
        }
        if let Some(id) = source.last_event_id() {
            eprintln!("{NAME}: last event id {id:?} (pass --last-event-id to resume)");
        }
        ExitCode::SUCCESS
    })
}
