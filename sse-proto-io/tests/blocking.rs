//! The blocking client against scripted servers on 127.0.0.1 (run on a tokio runtime's
//! threads, the client on a blocking thread): what every attempt sends, the cut mid-event
//! resumed with `Last-Event-ID`, dead peers noticed through ureq's per-read timeout, the
//! statuses that stop it, and the sseclient example.
#![cfg(feature = "blocking")]

mod common;
#[path = "../examples/sseclient_quickstart.rs"]
mod sseclient_quickstart;

use std::time::{Duration, Instant};

use common::{status, stream, Reply, Server, LIMIT, LOADED_MACHINE_READ_TIMEOUT};
use sse_proto::{ClientConfig, CloseReason, ErrorCause, OpenError};
use sse_proto_io::blocking::EventSource;
use sse_proto_io::{Error, Incoming};

type Item = Result<Incoming, Error>;

/// Runs `f` on a blocking thread, bounded by `LIMIT`.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::time::timeout(LIMIT, tokio::task::spawn_blocking(f))
        .await
        .expect("in time")
        .unwrap()
}

/// Items until `stop` says so or the source ends, failing past `LIMIT`.
fn collect_until(source: EventSource, stop: impl Fn(&Item) -> bool) -> Vec<Item> {
    let started = Instant::now();
    let mut items = Vec::new();
    for item in source {
        let done = stop(&item);
        items.push(item);
        assert!(started.elapsed() < LIMIT, "too slow: {items:?}");
        if done {
            break;
        }
    }
    items
}

fn data(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| Some(i.as_ref().ok()?.event()?.data().to_owned()))
        .collect()
}

fn quick() -> ClientConfig {
    let mut config = ClientConfig::default();
    config.reconnection_time = Duration::from_millis(20);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_is_resent_with_last_event_id_after_a_cut_mid_event() {
    let server = Server::start(common::cut_mid_event()).await;
    let url = server.url.clone();
    let items = blocking(move || {
        let request = ureq::http::Request::post(&url)
            .header("content-type", "application/json")
            .body(r#"{"stream":true}"#)
            .unwrap();
        let source = EventSource::with_config(request, quick()).unwrap();
        collect_until(
            source,
            |i| matches!(i, Ok(Incoming::Event(e)) if e.data() == "[DONE]"),
        )
    })
    .await;
    assert_eq!(
        data(&items),
        ["a", "b", "[DONE]"],
        "nothing lost, nothing twice"
    );
    common::assert_resent(
        &server.requests(),
        br#"{"stream":true}"#,
        &[("content-type", "application/json")],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_goes_silent_is_left_on_the_read_timeout() {
    let server = Server::start(vec![
        Reply::Hold(stream("id: 1\ndata: a\n\n")),
        Reply::Nothing,
        Reply::Close(stream("data: b\n\n")),
    ])
    .await;
    let url = server.url.clone();
    let items = blocking(move || {
        let mut config = quick();
        config.read_timeout = Some(LOADED_MACHINE_READ_TIMEOUT);
        let request = ureq::http::Request::get(&url).body("").unwrap();
        let source = EventSource::with_config(request, config).unwrap();
        collect_until(
            source,
            |i| matches!(i, Ok(Incoming::Event(e)) if e.data() == "b"),
        )
    })
    .await;
    assert_eq!(data(&items), ["a", "b"]);
    let causes: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            Err(Error::Reconnecting { cause, .. }) => Some(cause.clone()),
            _ => None,
        })
        .collect();
    // Silent in the body, then silent before the head.
    assert_eq!(causes, [ErrorCause::ReadTimeout, ErrorCause::ReadTimeout]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_content_closes_for_good() {
    let server = Server::start(vec![Reply::Close(status(204))]).await;
    let url = server.url.clone();
    let items = blocking(move || collect_until(EventSource::get(&url).unwrap(), |_| false)).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(matches!(
        &items[0],
        Err(Error::Closed {
            reason: CloseReason::Failed(OpenError::NoContent),
            ..
        })
    ));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_with_the_opt_in() {
    let server = Server::start(vec![
        Reply::Close(status(503)),
        Reply::Close(stream("data: up\n\n")),
    ])
    .await;
    let url = server.url.clone();
    let items = blocking(move || {
        let mut config = quick();
        config.retry_server_errors = true;
        let request = ureq::http::Request::get(&url).body("").unwrap();
        let source = EventSource::with_config(request, config).unwrap();
        collect_until(source, |i| i.as_ref().is_ok_and(|i| i.event().is_some()))
    })
    .await;
    assert!(matches!(
        &items[0],
        Err(Error::Reconnecting {
            cause: ErrorCause::Refused(OpenError::Status { status: 503 }),
            ..
        })
    ));
    assert_eq!(data(&items), ["up"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sseclient_quickstart_prints_id_type_and_data() {
    let server = Server::start(vec![
        Reply::Close(stream("retry: 20\nid: 7\nevent: greeting\ndata: hello\n\n")),
        Reply::Close(stream("data: again\n\n")),
    ])
    .await;
    let url = server.url.clone();
    let printed = blocking(move || {
        let mut out = Vec::new();
        sseclient_quickstart::run(&url, Some(2), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    })
    .await;
    assert_eq!(printed, "7 greeting hello\n7 message again\n");
    assert_eq!(
        server.requests()[0].header("accept"),
        Some("text/event-stream")
    );
}
