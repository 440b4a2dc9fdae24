//! The async client against scripted servers on 127.0.0.1: what every attempt sends, the
//! cut mid-event resumed with `Last-Event-ID`, dead peers noticed by the read timeout, the
//! statuses that stop it, refreshed credentials, and the examples.
#![cfg(feature = "reqwest")]

#[path = "../examples/aiohttp_sse_client_quickstart.rs"]
mod aiohttp_sse_client_quickstart;
mod common;
#[path = "../examples/llm_stream.rs"]
mod llm_stream;

use std::time::Duration;

use common::{status, stream, Reply, Server, LIMIT, LOADED_MACHINE_READ_TIMEOUT};
use futures_util::StreamExt;
use sse_proto::{ClientConfig, CloseReason, ErrorCause, OpenError};
use sse_proto_io::reqwest::EventSource;
use sse_proto_io::{Error, Incoming};

type Item = Result<Incoming, Error>;

/// Items until `stop` says so, or the source ends; bounded by `LIMIT`.
async fn collect_until(source: &mut EventSource, stop: impl Fn(&Item) -> bool) -> Vec<Item> {
    tokio::time::timeout(LIMIT, async {
        let mut items = Vec::new();
        while let Some(item) = source.next().await {
            let done = stop(&item);
            items.push(item);
            if done {
                break;
            }
        }
        items
    })
    .await
    .expect("in time")
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

#[tokio::test]
async fn post_is_resent_with_last_event_id_after_a_cut_mid_event() {
    let server = Server::start(common::cut_mid_event()).await;
    let request = reqwest::Client::new()
        .post(&server.url)
        .header("content-type", "application/json")
        .header("authorization", "Bearer t")
        .body(r#"{"stream":true}"#);
    let mut source = EventSource::new(request).unwrap();
    let items = collect_until(
        &mut source,
        |i| matches!(i, Ok(Incoming::Event(e)) if e.data() == "[DONE]"),
    )
    .await;
    assert_eq!(
        data(&items),
        ["a", "b", "[DONE]"],
        "nothing lost, nothing twice"
    );
    common::assert_resent(
        &server.requests(),
        br#"{"stream":true}"#,
        &[
            ("content-type", "application/json"),
            ("authorization", "Bearer t"),
        ],
    );
    let opens: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            Ok(Incoming::Open { last_event_id }) => Some(last_event_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(opens, [None, Some("1".to_owned())]);
}

#[tokio::test]
async fn a_peer_that_goes_silent_after_an_event_is_left_on_the_read_timeout() {
    let server = Server::start(vec![
        Reply::Hold(stream("id: 1\ndata: a\n\n")),
        Reply::Close(stream("data: b\n\n")),
    ])
    .await;
    let mut config = quick();
    config.read_timeout = Some(LOADED_MACHINE_READ_TIMEOUT);
    let mut source =
        EventSource::with_config(reqwest::Client::new().get(&server.url), config).unwrap();
    let items = collect_until(
        &mut source,
        |i| matches!(i, Ok(Incoming::Event(e)) if e.data() == "b"),
    )
    .await;
    assert_eq!(data(&items), ["a", "b"]);
    let causes: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            Err(Error::Reconnecting { cause, .. }) => Some(cause.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(causes, [ErrorCause::ReadTimeout]);
    assert_eq!(server.requests()[1].header("last-event-id"), Some("1"));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_on_the_head() {
    let server = Server::start(vec![Reply::Nothing, Reply::Close(stream("data: late\n\n"))]).await;
    let mut config = quick();
    config.read_timeout = Some(LOADED_MACHINE_READ_TIMEOUT);
    let mut source =
        EventSource::with_config(reqwest::Client::new().get(&server.url), config).unwrap();
    let started = std::time::Instant::now();
    let items = collect_until(&mut source, |i| {
        i.as_ref().is_ok_and(|i| i.event().is_some())
    })
    .await;
    assert!(matches!(
        &items[0],
        Err(Error::Reconnecting {
            cause: ErrorCause::ReadTimeout,
            ..
        })
    ));
    assert_eq!(data(&items), ["late"]);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn no_content_and_other_statuses_close_for_good() {
    for (code, reason) in [
        (204, OpenError::NoContent),
        (404, OpenError::Status { status: 404 }),
    ] {
        let server = Server::start(vec![Reply::Close(status(code))]).await;
        let mut source = EventSource::get(&server.url).unwrap();
        let items = collect_until(&mut source, |_| false).await;
        assert_eq!(items.len(), 1, "{items:?}");
        match &items[0] {
            Err(
                error @ Error::Closed {
                    reason: got, cause, ..
                },
            ) => {
                assert_eq!(got, &CloseReason::Failed(reason.clone()));
                assert_eq!(cause, &Some(ErrorCause::Refused(reason.clone())));
                assert!(!error.will_retry());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(server.requests().len(), 1, "no reconnection after {code}");
    }
}

#[tokio::test]
async fn refused_credentials_are_refreshed_once_with_the_opt_in() {
    let server = Server::start(vec![
        Reply::Close(status(401)),
        Reply::Close(stream("data: in\n\n")),
    ])
    .await;
    let mut config = quick();
    config.refresh_credentials = true;
    let request = reqwest::Client::new().get(&server.url).bearer_auth("old");
    let mut source = EventSource::with_config(request, config).unwrap();
    let first = tokio::time::timeout(LIMIT, source.next())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        first,
        Err(Error::Reconnecting {
            cause: ErrorCause::CredentialsRefused { status: 401 },
            ..
        })
    ));
    source.set_header("authorization", "Bearer new").unwrap();
    let items = collect_until(&mut source, |i| {
        i.as_ref().is_ok_and(|i| i.event().is_some())
    })
    .await;
    assert_eq!(data(&items), ["in"]);
    let requests = server.requests();
    assert_eq!(requests[0].header("authorization"), Some("Bearer old"));
    assert_eq!(requests[1].header("authorization"), Some("Bearer new"));
}

#[tokio::test]
async fn requests_the_client_cannot_resend_are_refused_up_front() {
    let http = reqwest::Client::new();
    let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>("x")]);
    let streaming = http
        .post("http://127.0.0.1:9/")
        .body(reqwest::Body::wrap_stream(chunks));
    assert!(matches!(
        EventSource::new(streaming),
        Err(Error::Request(_))
    ));
    let resume_by_hand = http.get("http://127.0.0.1:9/").header("last-event-id", "5");
    assert!(matches!(
        EventSource::new(resume_by_hand),
        Err(Error::Request(_))
    ));
    let mut source = EventSource::get("http://127.0.0.1:9/").unwrap();
    assert!(source.set_last_event_id("a\nb").is_err());
}

#[tokio::test]
async fn close_ends_the_stream_and_sends_nothing_more() {
    let server = Server::start(vec![Reply::Hold(stream("data: a\n\n"))]).await;
    let mut source = EventSource::get(&server.url).unwrap();
    let items = collect_until(&mut source, |i| {
        i.as_ref().is_ok_and(|i| i.event().is_some())
    })
    .await;
    assert_eq!(data(&items), ["a"]);
    source.close();
    assert!(source.next().await.is_none());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn aiohttp_sse_client_quickstart_prints_across_a_reconnection() {
    let server = Server::start(vec![
        Reply::Close(stream("retry: 20\nid: 1\ndata: one\n\n")),
        Reply::Close(stream("event: update\ndata: two\n\n")),
    ])
    .await;
    let printed = tokio::time::timeout(
        LIMIT,
        aiohttp_sse_client_quickstart::run(&server.url, Some(2)),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(printed, ["message: one", "update: two"]);
}

#[tokio::test]
async fn llm_stream_sends_a_post_and_stops_at_done() {
    let server = Server::start(vec![
        Reply::Close(stream(
            "retry: 20\nid: 1\ndata: {\"token\":\"Hel\"}\n\nid: 2\ndata: {\"tok",
        )),
        Reply::Hold(stream(
            "id: 2\ndata: {\"token\":\"lo\"}\n\ndata: [DONE]\n\n",
        )),
    ])
    .await;
    let answer = tokio::time::timeout(LIMIT, llm_stream::run(&server.url, "sk-1", "Say hello"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer, "Hello");
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        2,
        "it closed at [DONE] instead of reconnecting"
    );
    for request in &requests {
        assert!(request.line.starts_with("POST "));
        assert_eq!(request.header("authorization"), Some("Bearer sk-1"));
        assert!(String::from_utf8_lossy(&request.body).contains(r#""prompt":"Say hello""#));
    }
    assert_eq!(requests[1].header("last-event-id"), Some("1"));
}
