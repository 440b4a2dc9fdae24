//! Hostile and slow peers and callers, found in review: a slow consumer, a server that never
//! reads the request, the agent's own timeouts, hostile responses, cancelled futures, polls
//! that must not spin, and tokio's paused clock. Each was a defect before its fix.
#![cfg(all(feature = "reqwest", feature = "blocking"))]

mod common;

use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use common::{stream, Reply, Server, LIMIT, LOADED_MACHINE_READ_TIMEOUT};
use futures_util::StreamExt;
use sse_proto::{ClientConfig, ErrorCause};
use sse_proto_io::{Error, Incoming};

fn quick() -> ClientConfig {
    let mut config = ClientConfig::default();
    config.reconnection_time = Duration::from_millis(20);
    config
}

/// A server on a std thread: each connection reads the request head, sends a
/// `200 text/event-stream` head and `first`, then a keep-alive comment every 50 ms for
/// `for_how_long`. The server is never silent for more than 50 ms.
fn chatty_server(first: &'static str, for_how_long: Duration) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { return };
            std::thread::spawn(move || {
                let mut buf = [0; 4096];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = socket.read(&mut buf).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    head.extend_from_slice(&buf[..n]);
                }
                let _ = socket.write_all(&stream(first));
                let start = Instant::now();
                while start.elapsed() < for_how_long {
                    std::thread::sleep(Duration::from_millis(50));
                    if socket.write_all(b": ka\n\n").is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

/// A server that accepts and never reads anything.
fn deaf_server() -> (String, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        for socket in listener.incoming() {
            held.push(socket);
        }
    });
    (url, handle)
}

// ---- F1: `after` measured from the response head, not from the failure -------------

#[tokio::test]
async fn reqwest_after_of_a_read_timeout_on_an_open_stream_is_the_wait() {
    let server = Server::start(vec![
        Reply::Hold(stream("data: a\n\n")),
        Reply::Close(stream("data: b\n\n")),
    ])
    .await;
    let mut config = quick();
    config.read_timeout = Some(LOADED_MACHINE_READ_TIMEOUT);
    let mut source = sse_proto_io::reqwest::EventSource::with_config(
        reqwest::Client::new().get(&server.url),
        config,
    )
    .unwrap();
    let after = tokio::time::timeout(LIMIT, async {
        loop {
            if let Some(Err(Error::Reconnecting { cause, after, .. })) = source.next().await {
                assert_eq!(cause, ErrorCause::ReadTimeout);
                break after;
            }
        }
    })
    .await
    .unwrap();
    // reconnection_time is 20 ms, no backoff: the wait after the failure is 20 ms.
    assert!(after < Duration::from_millis(100), "after = {after:?}");
}

// ---- F2: a slow consumer is taken for a silent server --------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqwest_slow_consumer_is_not_a_dead_server() {
    let url = chatty_server("data: a\n\n", Duration::from_secs(5));
    let mut config = quick();
    config.read_timeout = Some(LOADED_MACHINE_READ_TIMEOUT);
    let mut source =
        sse_proto_io::reqwest::EventSource::with_config(reqwest::Client::new().get(&url), config)
            .unwrap();
    let mut items = Vec::new();
    let start = Instant::now();
    while start.elapsed() < LOADED_MACHINE_READ_TIMEOUT * 4 {
        let Ok(Some(item)) =
            tokio::time::timeout(LOADED_MACHINE_READ_TIMEOUT * 2, source.next()).await
        else {
            continue;
        };
        if matches!(&item, Ok(Incoming::Event(_))) {
            // The application takes 600 ms over this event (a database write, say),
            // while the server keeps sending keep-alives every 50 ms.
            tokio::time::sleep(LOADED_MACHINE_READ_TIMEOUT * 2).await;
        }
        items.push(format!("{item:?}"));
    }
    assert!(
        !items.iter().any(|i| i.contains("ReadTimeout")),
        "the server was never silent for more than 50 ms: {items:#?}"
    );
}

#[test]
fn blocking_slow_consumer_is_not_a_dead_server() {
    let url = chatty_server("data: a\n\n", Duration::from_secs(5));
    let mut config = quick();
    config.read_timeout = Some(LOADED_MACHINE_READ_TIMEOUT);
    let request = ureq::http::Request::get(&url).body("").unwrap();
    let mut source = sse_proto_io::blocking::EventSource::with_config(request, config).unwrap();
    let mut items = Vec::new();
    let start = Instant::now();
    while start.elapsed() < LOADED_MACHINE_READ_TIMEOUT * 4 {
        let item = source.next().unwrap();
        if matches!(&item, Ok(Incoming::Event(_))) {
            std::thread::sleep(LOADED_MACHINE_READ_TIMEOUT * 2);
        }
        items.push(format!("{item:?}"));
    }
    assert!(
        !items.iter().any(|i| i.contains("ReadTimeout")),
        "the server was never silent for more than 50 ms: {items:#?}"
    );
}

// ---- F3: blocking: a server that never reads the request body -----------------------

fn first_item_within(
    limit: Duration,
    f: impl FnOnce() -> Option<Result<Incoming, Error>> + Send + 'static,
) -> Option<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let item = f();
        let _ = tx.send(format!("{item:?}"));
    });
    rx.recv_timeout(limit).ok()
}

#[test]
fn blocking_read_timeout_covers_a_server_that_never_reads_the_body() {
    let (url, _server) = deaf_server();
    let item = first_item_within(Duration::from_secs(5), move || {
        let mut config = quick();
        config.read_timeout = Some(LOADED_MACHINE_READ_TIMEOUT);
        let body = vec![b'x'; 64 << 20];
        let request = ureq::http::Request::post(&url).body(body).unwrap();
        let mut source = sse_proto_io::blocking::EventSource::with_config(request, config).unwrap();
        source.next()
    });
    let item =
        item.expect("no item within 5 s, with a 300 ms read timeout: stuck writing the body");
    assert!(item.contains("ReadTimeout"), "{item}");
}

#[test]
fn reqwest_read_timeout_covers_a_server_that_never_reads_the_body() {
    let (url, _server) = deaf_server();
    let item = first_item_within(Duration::from_secs(5), move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut config = quick();
            config.read_timeout = Some(LOADED_MACHINE_READ_TIMEOUT);
            let body = vec![b'x'; 64 << 20];
            let request = reqwest::Client::new().post(&url).body(body);
            let mut source =
                sse_proto_io::reqwest::EventSource::with_config(request, config).unwrap();
            source.next().await
        })
    });
    let item = item.expect("no item within 5 s");
    assert!(item.contains("ReadTimeout"), "{item}");
}

// ---- F4: blocking: the agent's own timeouts are swallowed and reported as ReadTimeout --

#[test]
fn blocking_agent_send_body_timeout_is_a_request_failure_not_a_read_timeout() {
    let (url, _server) = deaf_server();
    let started = Instant::now();
    let item = first_item_within(Duration::from_secs(10), move || {
        let mut config = quick();
        config.read_timeout = Some(Duration::from_secs(3));
        let agent = ureq::Agent::config_builder()
            .timeout_send_body(Some(Duration::from_millis(100)))
            .build()
            .new_agent();
        let body = vec![b'x'; 64 << 20];
        let request = ureq::http::Request::post(&url).body(body).unwrap();
        let mut source =
            sse_proto_io::blocking::EventSource::with_agent(agent, request, config).unwrap();
        source.next()
    })
    .expect("an item");
    let took = started.elapsed();
    assert!(
        item.contains("RequestFailed") && took < Duration::from_secs(2),
        "after {took:?}: {item}"
    );
}

// ---- cancellation safety of poll_next (expected sound) ------------------------------

#[tokio::test]
async fn reqwest_dropping_next_mid_request_sends_nothing_twice() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0; 4096];
                let _ = socket.read(&mut buf).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                let _ = socket.write_all(&stream("data: a\n\n")).await;
                tokio::time::sleep(Duration::from_secs(5)).await;
            });
        }
    });
    let mut source = sse_proto_io::reqwest::EventSource::get(&url).unwrap();
    for _ in 0..5 {
        assert!(
            tokio::time::timeout(Duration::from_millis(20), source.next())
                .await
                .is_err()
        );
    }
    let first = tokio::time::timeout(LIMIT, source.next()).await.unwrap();
    assert!(
        matches!(first, Some(Ok(Incoming::Open { .. }))),
        "{first:?}"
    );
    let second = tokio::time::timeout(LIMIT, source.next()).await.unwrap();
    assert!(matches!(second, Some(Ok(Incoming::Event(_)))), "{second:?}");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);
}

// ---- hostile servers: no panic, sensible items --------------------------------------

fn hostile_cases() -> Vec<(&'static str, Vec<u8>)> {
    let mut huge = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\ndata: ".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 3 << 20));
    huge.extend_from_slice(b"\n\ndata: after\n\n");
    let mut endless_head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n".to_vec();
    for i in 0..20000 {
        endless_head.extend_from_slice(format!("x-h{i}: v\r\n").as_bytes());
    }
    vec![
        ("garbage", b"\x00\xff garbage \r\n\r\n".to_vec()),
        ("no content type", b"HTTP/1.1 200 OK\r\n\r\ndata: x\n\n".to_vec()),
        ("non-utf8 content type", b"HTTP/1.1 200 OK\r\ncontent-type: \xfftext/event-stream\r\n\r\ndata: x\n\n".to_vec()),
        ("chunked cut mid-chunk", b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n10\r\ndata: one\n\nda".to_vec()),
        ("bad chunk size", b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\nzz\r\ndata: one\n\n".to_vec()),
        ("content-length cut", b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 100\r\n\r\ndata: one\n\n".to_vec()),
        ("huge line", huge),
        ("endless head", endless_head),
        ("http/0.9", b"data: x\n\n".to_vec()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_servers_reqwest_and_blocking() {
    for (name, raw) in hostile_cases() {
        for client in ["reqwest", "blocking"] {
            let server = Server::start(vec![Reply::Close(raw.clone()); 3]).await;
            let mut config = quick();
            config.parser.max_line_len = 1 << 20;
            config.max_attempts = Some(1);
            let url = server.url.clone();
            let items: Vec<String> = if client == "reqwest" {
                let mut source = sse_proto_io::reqwest::EventSource::with_config(
                    reqwest::Client::new().get(&url),
                    config,
                )
                .unwrap();
                tokio::time::timeout(LIMIT, async {
                    let mut v = Vec::new();
                    while let Some(i) = source.next().await {
                        v.push(format!("{i:?}"));
                        if v.len() > 8 {
                            break;
                        }
                    }
                    v
                })
                .await
                .unwrap()
            } else {
                tokio::time::timeout(
                    LIMIT,
                    tokio::task::spawn_blocking(move || {
                        let request = ureq::http::Request::get(&url).body("").unwrap();
                        let source =
                            sse_proto_io::blocking::EventSource::with_config(request, config)
                                .unwrap();
                        source.take(9).map(|i| format!("{i:?}")).collect()
                    }),
                )
                .await
                .unwrap()
                .unwrap()
            };
            let short: Vec<String> = items
                .iter()
                .map(|s| s.chars().take(160).collect())
                .collect();
            let expected: &[&str] = match name {
                "garbage" | "endless head" | "http/0.9" => &["RequestFailed", "GaveUp"],
                "no content type" | "non-utf8 content type" => &["ContentType"],
                "chunked cut mid-chunk" | "content-length cut" => &["\"one\"", "BodyEnded"],
                "bad chunk size" => &["BodyEnded"],
                "huge line" => &["Dropped", "\"after\""],
                other => panic!("no expectation for {other}"),
            };
            for want in expected {
                assert!(
                    items.iter().any(|item| item.contains(want)),
                    "{name} / {client}: no {want} in\n  {}",
                    short.join("\n  ")
                );
            }
            assert!(
                items.len() <= 8,
                "{name} / {client}: the source did not end"
            );
        }
    }
}

#[tokio::test]
async fn reqwest_polls_are_not_busy_while_waiting_or_idle() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // First connection: an event then close (=> 1 s wait); second: held silent.
    let server = Server::start(vec![
        Reply::Close(stream("retry: 1000\ndata: a\n\n")),
        Reply::Hold(stream("data: b\n\n")),
    ])
    .await;
    let mut config = ClientConfig::default();
    config.read_timeout = Some(Duration::from_secs(5));
    let mut source = sse_proto_io::reqwest::EventSource::with_config(
        reqwest::Client::new().get(&server.url),
        config,
    )
    .unwrap();
    let polls = AtomicUsize::new(0);
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_millis(2500), async {
        loop {
            let item = std::future::poll_fn(|cx| {
                polls.fetch_add(1, Ordering::Relaxed);
                futures_util::Stream::poll_next(std::pin::Pin::new(&mut source), cx)
            })
            .await;
            got.push(format!("{item:?}"));
        }
    })
    .await;
    let n = polls.load(Ordering::Relaxed);
    eprintln!("{n} polls: {got:#?}");
    assert!(n < 50, "{n} polls in 2.5 s");
}

#[tokio::test(start_paused = true)]
async fn reqwest_wait_under_paused_tokio_time_does_not_spin() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let server = Server::start(vec![Reply::Close(stream("retry: 1000\ndata: a\n\n"))]).await;
    let mut source = sse_proto_io::reqwest::EventSource::get(&server.url).unwrap();
    let polls = AtomicUsize::new(0);
    let started = Instant::now();
    let mut got = Vec::new();
    while got.len() < 6 && started.elapsed() < Duration::from_secs(3) {
        let item = std::future::poll_fn(|cx| {
            polls.fetch_add(1, Ordering::Relaxed);
            futures_util::Stream::poll_next(std::pin::Pin::new(&mut source), cx)
        })
        .await;
        got.push(format!("{item:?}"));
    }
    let n = polls.load(Ordering::Relaxed);
    eprintln!("{n} polls in {:?}: {got:#?}", started.elapsed());
    assert!(n < 50, "{n} polls");
}
