//! The demo server and the two clients together, on 127.0.0.1, each test bounded in time.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_demo::script::{self, Seen};
use sse_demo::server::Config;
use sse_proto::ErrorCause;
use sse_proto_io::{Error, Incoming};

mod common;
use common::{async_source, blocking_source, client_config, is_event_of_type, start, Item};

const LIMIT: Duration = Duration::from_secs(30);

/// Everything the async client yielded until the script's `end` event.
async fn receive_script(url: String) -> Vec<Item> {
    let mut source = async_source(&url, client_config());
    let mut log = Vec::new();
    while let Some(item) = source.next().await {
        let end = is_event_of_type(&item, script::END_TYPE);
        log.push(item);
        if end {
            break;
        }
    }
    source.close();
    log
}

fn events(log: &[Item]) -> Vec<Seen> {
    log.iter()
        .filter_map(|item| Some(Seen::of(item.as_ref().ok()?.event()?)))
        .collect()
}

/// The server cuts the first connection in the middle of an event; the client reconnects
/// after the `retry:` the stream set just before, sends `Last-Event-ID`, and ends with
/// exactly the scripted sequence.
#[tokio::test]
async fn async_client_resumes_the_script_exactly() {
    let server = start(Config::default()).await;
    let url = format!("http://{}/events/script", server.addr);
    let log = tokio::time::timeout(LIMIT, receive_script(url))
        .await
        .expect("the script ends in time");

    assert_eq!(
        events(&log),
        script::expected(),
        "nothing lost, nothing twice"
    );
    common::check_script_connections(&server);

    // What the client reported around the cut.
    let opens: Vec<_> = log
        .iter()
        .filter_map(|i| match i {
            Ok(Incoming::Open { last_event_id }) => Some(last_event_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(opens, [None, Some(script::CUT_AFTER_ID.to_owned())]);
    let waits: Vec<_> = log
        .iter()
        .filter_map(|i| match i {
            Err(Error::Reconnecting { after, .. }) => Some(*after),
            _ => None,
        })
        .collect();
    assert_eq!(
        waits,
        [script::RETRY_AT_CUT],
        "the wait is the server's latest retry"
    );
    let retries: Vec<_> = log
        .iter()
        .filter_map(|i| match i {
            Ok(Incoming::Retry(delay)) => Some(*delay),
            _ => None,
        })
        .collect();
    assert_eq!(retries, [script::RETRY_AT_START, script::RETRY_AT_CUT]);
    assert!(
        log.iter()
            .any(|i| matches!(i, Ok(Incoming::Comment(text)) if text == "script start")),
        "comments are reported"
    );
    server.shutdown().await;
}

/// The same script through the blocking client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_client_resumes_the_script_exactly() {
    let server = start(Config::default()).await;
    let url = format!("http://{}/events/script", server.addr);
    let log = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut source = blocking_source(&url, client_config());
        let mut log = Vec::new();
        for item in &mut source {
            let end = is_event_of_type(&item, script::END_TYPE);
            log.push(item);
            assert!(started.elapsed() < LIMIT, "the script ends in time");
            if end {
                break;
            }
        }
        log
    })
    .await
    .unwrap();
    assert_eq!(
        events(&log),
        script::expected(),
        "nothing lost, nothing twice"
    );
    common::check_script_connections(&server);
    server.shutdown().await;
}

/// A client that knows where it left off (here: a seeded id) gets every weather event
/// after it from the resume buffer, then the live ones, in order.
#[tokio::test]
async fn weather_resumes_from_the_resume_buffer() {
    let (server, url) = common::weather_server(10).await;
    let mut source = async_source(&url, client_config());
    source.set_last_event_id("3").unwrap();
    let mut ids = Vec::new();
    tokio::time::timeout(LIMIT, async {
        while ids.len() < 20 {
            if let Incoming::Event(event) = source.next().await.unwrap().unwrap() {
                ids.push(event.last_event_id().parse::<u64>().unwrap());
            }
        }
    })
    .await
    .expect("20 events in time");
    assert_eq!(ids, (4..24).collect::<Vec<_>>());
    server.shutdown().await;
}

/// Shutdown ends every stream cleanly (a last comment, then the end of the response) and
/// returns well within its grace period.
#[tokio::test]
async fn shutdown_ends_every_stream() {
    let server = start(Config {
        tick: Duration::from_millis(50),
        ..Config::default()
    })
    .await;
    let mut sources: Vec<_> = ["time", "weather", "script"]
        .iter()
        .map(|path| {
            async_source(
                &format!("http://{}/events/{path}", server.addr),
                client_config(),
            )
        })
        .collect();
    for source in &mut sources {
        match source.next().await.unwrap().unwrap() {
            Incoming::Open { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    while server
        .app
        .stats
        .streams
        .load(std::sync::atomic::Ordering::Relaxed)
        < 3
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stats = &server.app.clone();
    let started = Instant::now();
    let shutting_down = tokio::spawn(server.shutdown());
    for source in &mut sources {
        let cause = tokio::time::timeout(LIMIT, async {
            loop {
                if let Err(Error::Reconnecting { cause, .. }) = source.next().await.unwrap() {
                    return cause;
                }
            }
        })
        .await
        .expect("the stream ends");
        assert_eq!(cause, ErrorCause::BodyEnded);
        source.close();
    }
    shutting_down.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        stats
            .stats
            .streams
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}

/// A client that stops reading is dropped after the send timeout instead of being buffered
/// for ever, and the other clients carry on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_is_dropped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start(Config {
        weather_every: Duration::from_millis(1),
        send_timeout: Duration::from_millis(500),
        channel_capacity: 1 << 16,
        send_buffer: Some(8192),
        write_buffer: 8192,
        ..Config::default()
    })
    .await;
    // A reader that takes the headers, then nothing more, through a tiny receive window.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(server.addr).await.unwrap();
    stalled
        .write_all(b"GET /events/weather HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0; 64];
    let n = stalled.read(&mut head).await.unwrap();
    assert!(head[..n].starts_with(b"HTTP/1.1 200"));

    let mut healthy = async_source(
        &format!("http://{}/events/weather", server.addr),
        client_config(),
    );
    let deadline = Instant::now() + LIMIT;
    let mut healthy_events = 0;
    while server
        .app
        .stats
        .stalled
        .load(std::sync::atomic::Ordering::Relaxed)
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the stalled client was not dropped in time"
        );
        tokio::time::timeout(Duration::from_millis(100), async {
            if let Some(Ok(Incoming::Event(_))) = healthy.next().await {
                healthy_events += 1;
            }
        })
        .await
        .ok();
    }
    // Its socket is closed: after what was in flight, the read ends.
    let drained = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = vec![0; 1 << 16];
        loop {
            match stalled.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(drained.is_ok(), "the stalled connection was closed");
    assert!(healthy_events > 0, "the healthy client kept receiving");
    server.shutdown().await;
}

/// The head of the response to `GET path` with this `Accept`, lower-cased.
async fn response_head(addr: std::net::SocketAddr, path: &str, accept: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept: {accept}\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    tokio::time::timeout(LIMIT, async {
        let mut buf = [0; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before the end of the head");
            head.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("the response head in time");
    // Names are case-insensitive on HTTP/1.1; the values sent are all lower case.
    String::from_utf8_lossy(&head).to_ascii_lowercase()
}

/// A stream goes out with every header of `sse_proto::response_headers`, the UTF-8 charset
/// included (clients that decode by the header's charset need it).
#[tokio::test]
async fn streams_carry_the_event_stream_response_headers() {
    use sse_proto::{response_headers, HttpVersion};
    let server = start(Config::default()).await;
    let head = response_head(server.addr, "/events/time", "text/event-stream").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    for (name, value) in response_headers(HttpVersion::Http11) {
        assert!(
            head.contains(&format!("\r\n{name}: {value}\r\n")),
            "`{name}: {value}` missing from {head}"
        );
    }
    assert!(head.contains("\r\ncontent-type: text/event-stream; charset=utf-8\r\n"));
    server.shutdown().await;
}

/// Every stream route answers `406` to a request whose `Accept` excludes event streams, and
/// streams to one that allows them through a wildcard (`sse_proto::accepts_event_stream`).
#[tokio::test]
async fn streams_follow_the_accept_header() {
    let server = start(Config::default()).await;
    for path in ["/events/time", "/events/weather", "/events/script"] {
        let refused = response_head(server.addr, path, "application/json").await;
        assert!(refused.starts_with("http/1.1 406"), "{path}: {refused}");
        let refused = response_head(server.addr, path, "text/event-stream;q=0, */*").await;
        assert!(refused.starts_with("http/1.1 406"), "{path}: {refused}");
        let allowed = response_head(server.addr, path, "text/html, */*;q=0.8").await;
        assert!(allowed.starts_with("http/1.1 200"), "{path}: {allowed}");
    }
    server.shutdown().await;
}
