//! The blocking client (`sse_proto_io::blocking::EventSource`, on ureq):
//! `cargo run -p sse-demo --bin sse-client-blocking -- URL`.

use std::process::ExitCode;

use sse_demo::cli;
use sse_proto_io::blocking::EventSource;

const NAME: &str = "sse-client-blocking";

fn usage() -> String {
    format!(
        "usage: {NAME} http://HOST[:PORT]/PATH [options]\n\nPrints the events of an event stream \
         (plain http:// only), reconnecting with Last-Event-ID when it drops.\n\n{}",
        cli::CLIENT_OPTIONS
    )
}

fn main() -> ExitCode {
    let args = match cli::client_setup(NAME, &usage()) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let opened = http::Request::get(&args.url)
        .body(())
        .map_err(|error| sse_proto_io::Error::Request(Box::new(error)))
        .and_then(|request| EventSource::with_config(request.map(|()| ""), args.config()))
        .and_then(|mut source| {
            if let Some(id) = &args.last_event_id {
                source.set_last_event_id(id)?;
            }
            Ok(source)
        });
    let source = match opened {
        Ok(source) => source,
        Err(error) => {
            eprintln!("{NAME}: {}", cli::chain(&error));
            return ExitCode::from(2);
        }
    };
    let mut output = cli::Output::new(NAME, args.count);
    for item in source {
        if let Some(code) = output.take(&item) {
            return code;
        }
    }
    ExitCode::SUCCESS
}
