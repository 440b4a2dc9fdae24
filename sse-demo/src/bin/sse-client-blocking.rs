//! The blocking client on `std::net` alone:
//! `cargo run -p sse-demo --bin sse-client-blocking -- URL`.

use std::process::ExitCode;

use sse_demo::blocking::EventSource;
use sse_demo::cli;

const NAME: &str = "sse-client-blocking";

fn usage() -> String {
    format!(
        "usage: {NAME} http://HOST[:PORT]/PATH [options]\n\nPrints the events of an event stream \
         (plain http:// only), reconnecting with Last-Event-ID when it drops.\n\n{}",
        cli::CLIENT_OPTIONS
    )
}

fn main() -> ExitCode {
    let (args, options) = match cli::client_setup(NAME, &usage()) {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    let source = match EventSource::with_options(&args.url, options) {
        Ok(source) => source,
        Err(error) => {
            eprintln!("{NAME}: {error}");
            return ExitCode::from(2);
        }
    };
    let mut events = 0;
    for next in source {
        match next {
            Ok(incoming) => {
                if cli::print(NAME, &incoming) {
                    events += 1;
                    if args.count.is_some_and(|n| events >= n) {
                        break;
                    }
                }
            }
            Err(fatal) => {
                eprintln!("{NAME}: {fatal}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
