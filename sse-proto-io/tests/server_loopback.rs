//! The response body on a real hyper server on 127.0.0.1: first bytes at once, keep-alive
//! pings, a client that stops reading dropped after the send timeout while another carries
//! on, the producer dropped when its client goes away, and the graceful shutdown; over
//! HTTP/1.1, and the headers, pings and stall over HTTP/2. Every
//! wait is bounded; every server is stopped by the test that started it.
#![cfg(feature = "server")]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, Stream, StreamExt};
use hyper_util::rt::{TokioExecutor, TokioIo};
use sse_proto::{Event, Frame};
use sse_proto_io::server::{Sse, Watchdog};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

const LIMIT: Duration = Duration::from_secs(20);

type Producer = Pin<Box<dyn Stream<Item = Result<Frame, std::io::Error>> + Send>>;

#[derive(Clone)]
struct Settings {
    keep_alive: Duration,
    send_timeout: Duration,
}

/// Counts live producers: each one holds a guard, dropped with it.
struct Live(Arc<AtomicUsize>);

impl Live {
    fn new(count: &Arc<AtomicUsize>) -> Live {
        count.fetch_add(1, Ordering::SeqCst);
        Live(count.clone())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    stalls: Arc<AtomicU64>,
    producers: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Server {
    /// Opens a stream on `path` and reads its first bytes.
    async fn open(&self, path: &str) -> TcpStream {
        let mut socket = request(self.addr, path).await;
        read_until(&mut socket, b": ok\n\n").await;
        socket
    }

    /// Waits until `n` producers are alive.
    async fn producers_become(&self, n: usize) {
        let producers = self.producers.clone();
        wait_for(&format!("{n} producers"), || {
            producers.load(Ordering::SeqCst) == n
        })
        .await;
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        self.task.abort();
        let _ = self.task.await;
    }
}

/// `/fast`: 16 KiB events every millisecond; `/fail`: one event, then an error; `/idle`: a
/// producer that never yields.
fn producer(path: &str, producers: &Arc<AtomicUsize>) -> Producer {
    let live = Live::new(producers);
    match path {
        "/fast" => {
            let frame = Frame::from_event(&Event::new("x".repeat(16 * 1024)));
            Box::pin(stream::unfold((live, frame), |(live, frame)| async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                Some((Ok(frame.clone()), (live, frame)))
            }))
        }
        "/fail" => {
            let last = stream::iter([Ok(Frame::from_event(&Event::new("last")))]);
            // A pause, so hyper has flushed what came before: it closes at once on an error.
            let fail = stream::once(async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Err(std::io::ErrorKind::Other.into())
            });
            Box::pin(last.chain(fail))
        }
        _ => Box::pin(stream::unfold(live, |live| async move {
            std::future::pending::<()>().await;
            Some((Ok(Frame::keep_alive()), live))
        })),
    }
}

async fn start(settings: Settings) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = watch::channel(false);
    let stalls = Arc::new(AtomicU64::new(0));
    let producers = Arc::new(AtomicUsize::new(0));
    let (stall_count, live) = (stalls.clone(), producers.clone());
    let task = tokio::spawn(async move {
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        // A small write buffer: a stalled client pins little and is noticed soon.
        builder.http1().max_buf_size(8192);
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let watchdog = Watchdog::new(settings.send_timeout);
            let (settings, stopped, live) = (settings.clone(), stopped.clone(), live.clone());
            let for_requests = watchdog.clone();
            let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
                let mut stopped = stopped.clone();
                let body = Sse::new(producer(request.uri().path(), &live))
                    .keep_alive_interval(settings.keep_alive)
                    .watchdog(&for_requests)
                    .shutdown(async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    });
                let response = body.into_http_response(request.version());
                async move { Ok::<_, Infallible>(response) }
            });
            let connection = builder
                .serve_connection(TokioIo::new(tcp), service)
                .into_owned();
            let stall_count = stall_count.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = connection => {}
                    _ = watchdog.stalled() => {
                        stall_count.fetch_add(1, Ordering::SeqCst); // dropped: the socket closes
                    }
                }
            });
        }
    });
    Server {
        addr,
        stop,
        stalls,
        producers,
        task,
    }
}

async fn request(addr: SocketAddr, path: &str) -> TcpStream {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
    socket.write_all(head.as_bytes()).await.unwrap();
    socket
}

/// Reads until `needle` has arrived; returns everything read.
async fn read_until(socket: &mut TcpStream, needle: &[u8]) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0; 4096];
    tokio::time::timeout(LIMIT, async {
        while !seen.windows(needle.len()).any(|w| w == needle) {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before {:?}", String::from_utf8_lossy(needle));
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("in time");
    seen
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not in time");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn quiet() -> Settings {
    Settings {
        keep_alive: Duration::from_secs(15),
        send_timeout: Duration::from_secs(30),
    }
}

#[tokio::test]
async fn headers_and_first_bytes_come_before_any_event() {
    let server = start(quiet()).await;
    let mut socket = request(server.addr, "/idle").await;
    let seen = read_until(&mut socket, b": ok\n\n").await;
    let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 200"), "{text}");
    for (name, value) in sse_proto::response_headers(sse_proto::HttpVersion::Http11) {
        assert!(
            text.contains(&format!("\r\n{name}: {value}\r\n")),
            "{name} missing: {text}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn an_idle_stream_gets_keep_alive_pings() {
    let server = start(Settings {
        keep_alive: Duration::from_millis(100),
        ..quiet()
    })
    .await;
    let mut socket = request(server.addr, "/idle").await;
    let started = Instant::now();
    read_until(&mut socket, b": ping\n\n").await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(90),
        "pinged after {elapsed:?}"
    );
    // And again, an interval later.
    read_until(&mut socket, b": ping\n\n").await;
    assert!(
        started.elapsed() >= Duration::from_millis(190),
        "{:?}",
        started.elapsed()
    );
    server.stop().await;
}

#[tokio::test]
async fn the_producer_is_dropped_when_the_client_goes_away() {
    let server = start(quiet()).await;
    let socket = server.open("/idle").await;
    assert_eq!(server.producers.load(Ordering::SeqCst), 1);
    drop(socket);
    server.producers_become(0).await;
    server.stop().await;
}

#[tokio::test]
async fn shutdown_writes_a_short_retry_and_ends_the_body() {
    let server = start(quiet()).await;
    let mut socket = server.open("/idle").await;
    server.stop.send(true).unwrap();
    // The closing frame, then the end of the chunked body.
    let seen = read_until(&mut socket, b"\r\n0\r\n\r\n").await;
    let text = String::from_utf8_lossy(&seen);
    assert!(text.ends_with("retry: 1000\n\n\r\n0\r\n\r\n"), "{text}");
    server.producers_become(0).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_and_the_others_carry_on() {
    let send_timeout = Duration::from_millis(500);
    let server = start(Settings {
        send_timeout,
        ..quiet()
    })
    .await;
    // Reads the head, then nothing, through a small receive window.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(server.addr).await.unwrap();
    stalled
        .write_all(b"GET /fast HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    read_until(&mut stalled, b": ok\n\n").await;
    let stopped_reading = Instant::now();

    // A healthy client reads all along, on its own task.
    let mut healthy = server.open("/fast").await;
    let healthy_bytes = Arc::new(AtomicU64::new(0));
    let counted = healthy_bytes.clone();
    let reader = tokio::spawn(async move {
        let mut buf = vec![0; 1 << 16];
        while let Ok(n @ 1..) = healthy.read(&mut buf).await {
            counted.fetch_add(n as u64, Ordering::Relaxed);
        }
    });

    let stalls = server.stalls.clone();
    wait_for("the stalled client dropped", || {
        stalls.load(Ordering::SeqCst) == 1
    })
    .await;
    let verdict_after = stopped_reading.elapsed();
    assert!(
        verdict_after >= send_timeout,
        "dropped after {verdict_after:?}"
    );
    eprintln!("a client that stopped reading was dropped {verdict_after:?} later (send timeout {send_timeout:?})");

    // Its producer is gone with it; the healthy one's is not.
    server.producers_become(1).await;
    // Its socket is closed: after what was in flight, the read ends.
    tokio::time::timeout(LIMIT, async {
        let mut buf = vec![0; 1 << 16];
        while let Ok(1..) = stalled.read(&mut buf).await {}
    })
    .await
    .expect("the stalled connection was closed");

    // The healthy client keeps receiving after the drop.
    let before = healthy_bytes.load(Ordering::Relaxed);
    let counted = healthy_bytes.clone();
    wait_for("the healthy client receives", || {
        counted.load(Ordering::Relaxed) > before + 1024 * 1024
    })
    .await;
    assert_eq!(
        server.stalls.load(Ordering::SeqCst),
        1,
        "only the stalled client was dropped"
    );
    reader.abort();
    server.stop().await;
}

#[tokio::test]
async fn a_producer_error_aborts_the_response() {
    let server = start(quiet()).await;
    let mut socket = request(server.addr, "/fail").await;
    let mut seen = Vec::new();
    tokio::time::timeout(LIMIT, socket.read_to_end(&mut seen))
        .await
        .expect("closed in time")
        .ok();
    let text = String::from_utf8_lossy(&seen);
    assert!(text.contains("data: last\n\n"), "{text}");
    // Closed without the chunked body's last chunk: the client sees a broken stream.
    assert!(!text.contains("\r\n0\r\n\r\n"), "{text}");
    server.stop().await;
}

/// An HTTP/2 (prior knowledge) request for `path`: the response, and the client
/// connection's task (it ends when the server drops the connection).
async fn h2_get(
    addr: SocketAddr,
    path: &str,
) -> (
    hyper::Response<hyper::body::Incoming>,
    JoinHandle<hyper::Result<()>>,
) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let handshake = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp));
    let (mut sender, connection) = handshake.await.unwrap();
    let connection = tokio::spawn(connection);
    let request = hyper::Request::get(format!("http://{addr}{path}"))
        .header("accept", "text/event-stream")
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let response = tokio::time::timeout(LIMIT, sender.send_request(request))
        .await
        .expect("a response in time")
        .unwrap();
    (response, connection)
}

#[tokio::test]
async fn over_http2_the_headers_first_bytes_and_pings() {
    use http_body_util::BodyExt;
    let server = start(Settings {
        keep_alive: Duration::from_millis(100),
        ..quiet()
    })
    .await;
    let (response, connection) = h2_get(server.addr, "/idle").await;
    assert_eq!(response.version(), hyper::Version::HTTP_2);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "text/event-stream; charset=utf-8");
    assert!(
        !headers.contains_key("connection"),
        "forbidden on HTTP/2: {headers:?}"
    );
    let mut body = response.into_body();
    let mut seen = Vec::new();
    tokio::time::timeout(LIMIT, async {
        while !seen.ends_with(b": ping\n\n") {
            let frame = body.frame().await.expect("more").expect("no error");
            seen.extend_from_slice(&frame.into_data().expect("data"));
        }
    })
    .await
    .expect("a ping in time");
    assert!(
        seen.starts_with(b": ok\n\n"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
    drop(body);
    connection.abort();
    server.stop().await;
}

/// Over HTTP/2 a client that stops reading stops granting flow-control window: hyper then
/// stops polling the body, and the watchdog drops the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http2_a_client_that_stops_reading_is_dropped() {
    let server = start(Settings {
        send_timeout: Duration::from_millis(500),
        ..quiet()
    })
    .await;
    let (response, connection) = h2_get(server.addr, "/fast").await;
    assert_eq!(response.status(), 200);
    // The body is never read: its window fills, then nothing more is granted.
    let stalls = server.stalls.clone();
    wait_for("the stalled HTTP/2 client dropped", || {
        stalls.load(Ordering::SeqCst) == 1
    })
    .await;
    server.producers_become(0).await;
    let ended = tokio::time::timeout(LIMIT, connection).await;
    assert!(
        ended.is_ok(),
        "the client's connection ended when the server dropped it"
    );
    drop(response);
    server.stop().await;
}
