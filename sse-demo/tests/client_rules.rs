//! The clients' connection rules over real sockets on 127.0.0.1: a read-idle timeout that
//! notices a silent connection, no total timeout on a healthy one, and a 204 that stops the
//! source for good. Each test is bounded in time.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_demo::server::Config;
use sse_proto::{ClientConfig, CloseReason, ErrorCause, OpenError};
use sse_proto_io::{Error, Incoming};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

mod common;

const LIMIT: Duration = Duration::from_secs(20);

/// A raw HTTP/1.1 server: answers each connection with `response` and then stays silent
/// (the socket open) until the test ends. Returns its URL.
async fn silent_server(response: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0; 4096];
            let _ = socket.read(&mut request).await;
            let _ = socket.write_all(response).await;
            open.push(socket); // never closed, never written to again
        }
    });
    url
}

const SILENT_STREAM: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
transfer-encoding: chunked\r\n\r\n13\r\nid: 1\ndata: hello\n\n\r\n";

/// Settings with a short read timeout and reconnection time.
fn quick(idle: Duration) -> ClientConfig {
    let mut config = ClientConfig::default();
    config.read_timeout = Some(idle);
    config.reconnection_time = Duration::from_millis(100);
    config
}

/// The causes of the reconnections until the stream opens again after `id: 1`.
fn causes_until_resumed(log: &[common::Item]) -> Vec<ErrorCause> {
    let resumed = log
        .iter()
        .position(|i| matches!(i, Ok(Incoming::Open { last_event_id: Some(id) }) if id == "1"))
        .expect("resumed after id 1");
    log[..resumed]
        .iter()
        .filter_map(|i| match i {
            Err(Error::Reconnecting { cause, .. }) => Some(cause.clone()),
            Err(other) => panic!("{other}"),
            _ => None,
        })
        .collect()
}

fn resumed(item: &common::Item) -> bool {
    matches!(
        item,
        Ok(Incoming::Open {
            last_event_id: Some(_)
        })
    )
}

#[tokio::test]
async fn read_idle_timeout_notices_a_silent_connection() {
    let url = silent_server(SILENT_STREAM).await;
    // A second, not less: the response head must arrive within it even on a loaded machine.
    let idle = Duration::from_secs(1);
    let mut source = common::async_source(&url, quick(idle));
    let mut log = Vec::new();
    tokio::time::timeout(LIMIT, async {
        while !log.last().is_some_and(resumed) {
            log.push(source.next().await.unwrap());
        }
    })
    .await
    .expect("reconnected in time");
    assert_eq!(causes_until_resumed(&log), [ErrorCause::ReadTimeout]);

    // The blocking client, through ureq's per-read timeout.
    let url = silent_server(SILENT_STREAM).await;
    let log = tokio::time::timeout(
        LIMIT,
        tokio::task::spawn_blocking(move || {
            let mut log = Vec::new();
            for item in common::blocking_source(&url, quick(idle)) {
                let done = resumed(&item);
                log.push(item);
                if done {
                    break;
                }
            }
            log
        }),
    )
    .await
    .expect("reconnected in time")
    .unwrap();
    assert_eq!(causes_until_resumed(&log), [ErrorCause::ReadTimeout]);
}

/// A server that accepts the connection and never answers: the read timeout covers the
/// wait for the response head too.
#[tokio::test]
async fn read_idle_timeout_covers_a_server_that_never_answers() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    let server = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            open.push(socket); // read nothing, answer nothing
        }
    });
    let idle = Duration::from_secs(1);
    let mut source = common::async_source(&url, quick(idle));
    let causes = tokio::time::timeout(LIMIT, async {
        let mut causes = Vec::new();
        while causes.len() < 2 {
            match source.next().await.unwrap() {
                Err(Error::Reconnecting { cause, .. }) => causes.push(cause),
                other => panic!("{other:?}"),
            }
        }
        causes
    })
    .await
    .expect("timed out twice in time");
    assert_eq!(causes, [ErrorCause::ReadTimeout, ErrorCause::ReadTimeout]);
    let url_blocking = url.clone();
    let causes = tokio::time::timeout(
        LIMIT,
        tokio::task::spawn_blocking(move || {
            let mut source = common::blocking_source(&url_blocking, quick(idle));
            let mut causes = Vec::new();
            while causes.len() < 2 {
                match source.next().unwrap() {
                    Err(Error::Reconnecting { cause, .. }) => causes.push(cause),
                    other => panic!("{other:?}"),
                }
            }
            causes
        }),
    )
    .await
    .expect("timed out twice in time")
    .unwrap();
    assert_eq!(causes, [ErrorCause::ReadTimeout, ErrorCause::ReadTimeout]);
    drop(source);
    server.abort();
    let accepted = accepted.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        accepted >= 4,
        "{accepted} connections: every attempt connected"
    );
}

#[tokio::test]
async fn a_healthy_stream_outlives_the_read_idle_timeout() {
    let server = common::start(Config {
        tick: Duration::from_millis(50),
        ..Config::default()
    })
    .await;
    let mut config = ClientConfig::default();
    config.read_timeout = Some(Duration::from_secs(1));
    let mut source = common::async_source(&format!("http://{}/events/time", server.addr), config);
    let started = Instant::now();
    let mut events = 0;
    while started.elapsed() < Duration::from_secs(3) {
        match tokio::time::timeout(LIMIT, source.next()).await.unwrap() {
            Some(Ok(Incoming::Event(_))) => events += 1,
            Some(Ok(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(events >= 10, "{events} events");
    source.close();
    server.shutdown().await;
}

#[tokio::test]
async fn no_content_stops_for_good() {
    let url = silent_server(b"HTTP/1.1 204 No Content\r\n\r\n").await;
    for blocking in [false, true] {
        let url = url.clone();
        let reports = tokio::time::timeout(LIMIT, async move {
            if blocking {
                tokio::task::spawn_blocking(move || {
                    common::blocking_source(&url, ClientConfig::default()).collect::<Vec<_>>()
                })
                .await
                .unwrap()
            } else {
                common::async_source(&url, ClientConfig::default())
                    .collect::<Vec<_>>()
                    .await
            }
        })
        .await
        .expect("the source closed in time");
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert!(
            matches!(
                &reports[0],
                Err(Error::Closed {
                    reason: CloseReason::Failed(OpenError::NoContent),
                    ..
                })
            ),
            "{reports:?}"
        );
    }
}
