//! The clients' connection rules over real sockets on 127.0.0.1: a read-idle timeout that
//! notices a silent connection, no total timeout on a healthy one, and a 204 that stops the
//! source for good. Each test is bounded in time.

use std::time::{Duration, Instant};

use sse_demo::client::{EventSource, Fatal, Incoming, Options};
use sse_demo::server::Config;
use sse_proto::{ErrorCause, OpenError};
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

#[tokio::test]
async fn read_idle_timeout_notices_a_silent_connection() {
    let url = silent_server(SILENT_STREAM).await;
    let idle = Duration::from_millis(300);
    let mut source = EventSource::new(
        url,
        Options {
            read_idle: Some(idle),
            default_retry: Duration::from_millis(100),
            ..Options::default()
        },
    );
    let mut log = Vec::new();
    tokio::time::timeout(LIMIT, async {
        while log
            .iter()
            .filter(|i| matches!(i, Incoming::Open { .. }))
            .count()
            < 2
        {
            log.push(source.next().await.unwrap().unwrap());
        }
    })
    .await
    .expect("reconnected in time");
    let reasons: Vec<_> = log
        .iter()
        .filter_map(|i| match i {
            Incoming::Reconnecting { reason, .. } => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, [ErrorCause::ReadTimeout.to_string()]);
    match log.last() {
        Some(Incoming::Open { last_event_id }) => assert_eq!(last_event_id.as_deref(), Some("1")),
        other => panic!("{other:?}"),
    }

    // The blocking client, through its socket's read timeout.
    let url = silent_server(SILENT_STREAM).await;
    let reasons = tokio::time::timeout(
        LIMIT,
        tokio::task::spawn_blocking(move || {
            let options = Options {
                read_idle: Some(idle),
                default_retry: Duration::from_millis(100),
                ..Options::default()
            };
            let source = sse_demo::blocking::EventSource::with_options(&url, options).unwrap();
            let mut reasons = Vec::new();
            for next in source {
                match next.unwrap() {
                    Incoming::Reconnecting { reason, .. } => reasons.push(reason),
                    Incoming::Open {
                        last_event_id: Some(id),
                    } => {
                        assert_eq!(id, "1");
                        break;
                    }
                    _ => {}
                }
            }
            reasons
        }),
    )
    .await
    .expect("reconnected in time")
    .unwrap();
    assert_eq!(reasons, [ErrorCause::ReadTimeout.to_string()]);
}

#[tokio::test]
async fn a_healthy_stream_outlives_the_read_idle_timeout() {
    let server = common::start(Config {
        tick: Duration::from_millis(50),
        ..Config::default()
    })
    .await;
    let mut source = EventSource::new(
        format!("http://{}/events/time", server.addr),
        Options {
            read_idle: Some(Duration::from_millis(300)),
            ..Options::default()
        },
    );
    let started = Instant::now();
    let mut events = 0;
    while started.elapsed() < Duration::from_millis(1500) {
        match tokio::time::timeout(LIMIT, source.next()).await.unwrap() {
            Some(Ok(Incoming::Event(_))) => events += 1,
            Some(Ok(Incoming::Reconnecting { reason, .. })) => panic!("reconnected: {reason}"),
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
                    sse_demo::blocking::EventSource::new(&url)
                        .unwrap()
                        .collect::<Vec<_>>()
                })
                .await
                .unwrap()
            } else {
                let mut source = EventSource::new(url, Options::default());
                let mut reports = Vec::new();
                while let Some(next) = source.next().await {
                    reports.push(next);
                }
                reports
            }
        })
        .await
        .expect("the source closed in time");
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert!(
            matches!(reports[0], Err(Fatal::Open(OpenError::NoContent))),
            "{reports:?}"
        );
    }
}
