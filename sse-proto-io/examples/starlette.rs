//! sse-starlette's `EventSourceResponse`, on plain hyper: a generator-like stream, a ping
//! interval with a ping message factory, a send timeout, custom headers (a fan-out proxy's
//! `Cache-Control`, CORS for pages on other origins), cleanup when the
//! client goes away, and a graceful shutdown on Ctrl-C.
//!
//! `cargo run -p sse-proto-io --example starlette --features server`, then
//! `curl -N http://127.0.0.1:8080/numbers`.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, Stream};
use http::header::{HeaderValue, ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL};
use hyper_util::rt::{TokioExecutor, TokioIo};
use sse_proto::{Event, Frame};
use sse_proto_io::server::{Sse, Watchdog};
use tokio::net::TcpListener;
use tokio::sync::watch;

#[derive(Clone)]
struct Settings {
    every: Duration,
    ping: Duration,
    send_timeout: Duration,
    /// Generators whose cleanup has run.
    cleaned_up: Arc<AtomicUsize>,
}

/// Runs its cleanup when dropped: when the stream ends, and when the client goes away.
struct Cleanup(Arc<AtomicUsize>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The generator: `1`, `2`, ... every `every`, each with an id so a client can resume.
fn numbers(settings: &Settings) -> impl Stream<Item = Event> {
    let every = settings.every;
    let cleanup = Cleanup(settings.cleaned_up.clone());
    stream::unfold((1u64, cleanup), move |(n, cleanup)| async move {
        tokio::time::sleep(every).await;
        let event = Event::builder()
            .id(n.to_string())
            .data(n.to_string())
            .build();
        Some((event.ok()?, (n + 1, cleanup)))
    })
}

/// Serves `/numbers` (any path, in fact) until `shutdown` turns true.
async fn serve(listener: TcpListener, settings: Settings, shutdown: watch::Receiver<bool>) {
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let mut accepting = shutdown.clone();
    // One per connection is made from it; they share the count of clients dropped.
    let watchdogs = Watchdog::new(settings.send_timeout);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(_) => continue,
            },
            _ = accepting.wait_for(|stop| *stop) => return,
        };
        // The send timeout is the connection's watchdog's: it drops the connection.
        let watchdog = watchdogs.for_connection();
        let (settings, shutdown, per_request) =
            (settings.clone(), shutdown.clone(), watchdog.clone());
        let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
            let mut shutdown = shutdown.clone();
            let mut pings = 0u64;
            let mut response = Sse::new(numbers(&settings))
                .keep_alive_interval(settings.ping)
                // sse-starlette's ping_message_factory: each ping built when it is due.
                .ping_with(move || {
                    pings += 1;
                    let ping = Event::builder()
                        .event("ping")
                        .data(pings.to_string())
                        .build();
                    Frame::from_event(&ping.expect("no line break in the type"))
                })
                .watchdog(&per_request)
                .shutdown(async move {
                    let _ = shutdown.wait_for(|stop| *stop).await;
                })
                .into_http_response(request.version());
            // Behind a fan-out proxy: let it share the stream for 29 s.
            response.headers_mut().insert(
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=29"),
            );
            // starlette's CORSMiddleware: pages on any origin may open an EventSource on it.
            response
                .headers_mut()
                .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            async move { Ok::<_, Infallible>(response) }
        });
        let connection = builder
            .serve_connection(TokioIo::new(tcp), service)
            .into_owned();
        tokio::spawn(async move {
            tokio::select! {
                _ = connection => {}
                stalled = watchdog.stalled() => {
                    let (unread, dropped) = (stalled.pending, watchdog.stalls());
                    eprintln!("dropped a client that stopped reading ({unread} bytes unread; {dropped} so far)");
                }
            }
        });
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:8080").await?;
    println!(
        "serving on http://{}/numbers (Ctrl-C to stop)",
        listener.local_addr()?
    );
    let settings = Settings {
        every: Duration::from_millis(500),
        ping: Duration::from_secs(5),
        send_timeout: Duration::from_secs(10),
        cleaned_up: Arc::default(),
    };
    let (stop, stopped) = watch::channel(false);
    let server = tokio::spawn(serve(listener, settings, stopped));
    tokio::signal::ctrl_c().await?;
    stop.send_replace(true); // every stream sends `retry: 1000` and ends
    let _ = server.await;
    Ok(())
}

#[cfg(test)]
#[path = "../tests/common/chromium.rs"]
mod chromium;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const LIMIT: Duration = Duration::from_secs(10);

    async fn read_until(socket: &mut tokio::net::TcpStream, seen: &mut String, needle: &str) {
        let mut buf = [0; 4096];
        let read = tokio::time::timeout(LIMIT, async {
            while !seen.contains(needle) {
                let n = socket.read(&mut buf).await.unwrap();
                assert!(n > 0, "closed before {needle:?}: {seen}");
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        read.await.expect("in time");
    }

    #[tokio::test]
    async fn numbers_pings_headers_cleanup_and_shutdown() {
        let settings = Settings {
            every: Duration::from_millis(150),
            ping: Duration::from_millis(100),
            send_timeout: Duration::from_secs(10),
            cleaned_up: Arc::default(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve(listener, settings.clone(), stopped));
        let open = || async {
            let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
            socket
                .write_all(b"GET /numbers HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            socket
        };

        let mut socket = open().await;
        let mut seen = String::new();
        read_until(&mut socket, &mut seen, "id: 3\ndata: 3\n\n").await;
        let head = seen.to_ascii_lowercase();
        assert!(
            head.contains("\r\ncache-control: public, max-age=29\r\n"),
            "{seen}"
        );
        assert!(
            !head.contains("no-store"),
            "the custom header replaces the default: {seen}"
        );
        let at = |n: u32| {
            let event = format!("id: {n}\ndata: {n}\n\n");
            seen.find(&event)
                .unwrap_or_else(|| panic!("no {event:?} in {seen}"))
        };
        assert!(at(1) < at(2) && at(2) < at(3), "in order: {seen}");

        // The client goes away: the generator's cleanup runs.
        drop(socket);
        let deadline = Instant::now() + LIMIT;
        while settings.cleaned_up.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < deadline, "no cleanup");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        // An idle gap longer than the ping interval shows the ping event; shutdown ends it.
        let mut socket = open().await;
        let mut seen = String::new();
        read_until(&mut socket, &mut seen, "event: ping\ndata: 1\n\n").await;
        stop.send_replace(true);
        read_until(&mut socket, &mut seen, "retry: 1000\n\n").await;
        read_until(&mut socket, &mut seen, "\r\n0\r\n\r\n").await;
        tokio::time::timeout(LIMIT, server)
            .await
            .expect("the server stops")
            .unwrap();
    }

    #[tokio::test]
    async fn chromium_reads_the_numbers_from_another_origin() {
        let settings = Settings {
            every: Duration::from_millis(100),
            ping: Duration::from_millis(50),
            send_timeout: Duration::from_secs(10),
            cleaned_up: Arc::default(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (_stop, stopped) = watch::channel(false);
        tokio::spawn(serve(listener, settings, stopped));
        // The page comes from another port, so the stream must allow it (CORS).
        let (check, mut reports) = chromium::routes();
        let page_at = chromium::serve_alone(check).await;
        let page =
            format!("http://{page_at}/chromium?src=http://{addr}/numbers&n=6&types=message,ping");
        let Some(streams) = chromium::read(&page, &mut reports).await else {
            return;
        };
        let stream = &streams[0];
        assert!(!stream.error, "{stream:?}");
        let numbers: Vec<_> = stream.events.iter().filter(|e| e.0 == "message").collect();
        assert!(numbers.len() >= 2, "{stream:?}");
        for (n, (_, id, data)) in numbers.iter().enumerate() {
            assert_eq!(
                (id.as_str(), data.as_str()),
                (&*(n + 1).to_string(), &*(n + 1).to_string())
            );
        }
        assert!(
            stream.events.iter().any(|e| e.0 == "ping"),
            "the named pings reach a listener: {stream:?}"
        );
    }
}
