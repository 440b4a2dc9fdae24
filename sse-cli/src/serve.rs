//! `sse serve`: each line of stdin becomes an event, sent to every client connected to a
//! local port, with `Last-Event-ID` resume: a quick server for a demo or a test.

use clap::Args;
use sse_proto::Event;
use sse_proto_io::server::{last_event_id, Hub, Sse};
use tokio::io::AsyncBufReadExt;

use crate::listen::{self, ListenArgs};

/// `sse serve`'s arguments.
#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub listen: ListenArgs,
    /// The event type of every event (default: none, which clients read as `message`).
    #[arg(short = 'e', long = "event", value_name = "TYPE")]
    pub event: Option<String>,
    /// Number the events (`id: 1`, `id: 2`, ...), so clients resume after a reconnection.
    #[arg(long)]
    pub ids: bool,
    /// Keep serving after stdin ends, until Ctrl-C (by default the streams end with stdin).
    #[arg(long)]
    pub linger: bool,
}

/// Runs `sse serve`; the exit code.
pub fn run(args: ServeArgs) -> i32 {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(serve(args)) {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("sse serve: {message}");
            1
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    // Each event is checked once, when it is built: a type with a line break is refused here.
    if let Some(event) = &args.event {
        Event::builder()
            .event(event.clone())
            .data("")
            .build()
            .map_err(|e| format!("--event {event:?}: {e}"))?;
    }
    let hub = Hub::new(Default::default());
    let mut server = {
        let hub = hub.clone();
        tokio::spawn(listen::serve(
            "sse serve",
            args.listen.addr(),
            move |request| {
                let hub = hub.clone();
                async move {
                    let subscription = hub.subscribe(last_event_id(request.headers()));
                    Sse::new(subscription).into_http_response(request.version())
                }
            },
        ))
    };
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            line = lines.next_line() => match line.map_err(|e| format!("stdin: {e}"))? {
                Some(line) => {
                    n += 1;
                    let mut builder = Event::builder().data(line);
                    if let Some(event) = &args.event {
                        builder = builder.event(event.clone());
                    }
                    if args.ids {
                        builder = builder.id(n.to_string());
                    }
                    hub.publish(builder.build().map_err(|e| e.to_string())?);
                }
                None => break,
            },
            result = tokio::signal::ctrl_c() => {
                result.map_err(|e| e.to_string())?;
                break;
            }
            // The listener only ends on an error (it could not bind, say).
            ended = &mut server => {
                return Err(match ended {
                    Ok(Err(error)) => error.to_string(),
                    Ok(Ok(())) => "the listener ended".to_owned(),
                    Err(error) => error.to_string(),
                });
            }
        }
    }
    eprintln!("sse serve: stdin ended after {n} events");
    if args.linger {
        tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    }
    hub.close();
    // Give the bodies a moment to send what they have queued and end, then exit.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
    while hub.stats().subscribers > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(())
}
