//! aiohttp-sse's quickstart in Rust: the server time every second, on a page whose
//! `EventSource` shows it.
//!
//! `cargo run -p sse-proto-io --example quickstart --features axum`, then open
//! <http://127.0.0.1:8080/>.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream};
use sse_proto::Event;
use sse_proto_io::server::Sse;

const PAGE: &str = r#"<!doctype html>
<html><body>
<p id="time">waiting for the server...</p>
<script>
  const source = new EventSource("/hello");
  source.onmessage = (event) => { document.getElementById("time").textContent = event.data; };
</script>
</body></html>
"#;

/// The server time, every second, for as long as the client stays.
fn server_time() -> impl Stream<Item = Event> {
    stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Some((
            Event::new(format!("Server Time : {} s since 1970", now.as_secs())),
            (),
        ))
    })
}

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/hello",
            get(|version| async move { Sse::new(server_time()).http_version(version) }),
        )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!("serving on http://{}/", listener.local_addr()?);
    axum::serve(listener, app()).await
}

#[cfg(test)]
#[path = "../tests/common/chromium.rs"]
mod chromium;

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves the example on a free loopback port; returns what `path` sent until `until`
    /// had arrived `times` times (or 10 s passed).
    async fn get_until(path: &str, until: &str, times: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app()).await });
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        socket.write_all(head.as_bytes()).await.unwrap();
        let mut seen = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), async {
            let mut buf = [0; 4096];
            while String::from_utf8_lossy(&seen).matches(until).count() < times {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
        });
        read.await.expect("in time");
        server.abort();
        String::from_utf8_lossy(&seen).into_owned()
    }

    #[tokio::test]
    async fn the_page_opens_an_event_source_on_the_stream() {
        let page = get_until("/", "</html>", 1).await;
        assert!(page.contains(r#"new EventSource("/hello")"#), "{page}");
    }

    #[tokio::test]
    async fn the_stream_sends_the_time_every_second() {
        let started = std::time::Instant::now();
        let stream = get_until("/hello", "data: Server Time : ", 2).await;
        assert!(
            stream.contains("content-type: text/event-stream; charset=utf-8"),
            "{stream}"
        );
        assert!(stream.contains(": ok\n\n"), "first bytes at once: {stream}");
        assert!(
            started.elapsed() >= Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn chromium_reads_the_time() {
        let (check, mut reports) = chromium::routes();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app().merge(check)).await });
        let page = format!("http://{addr}/chromium?src=/hello&n=2&types=message");
        let Some(streams) = chromium::read(&page, &mut reports).await else {
            return;
        };
        let events = &streams[0].events;
        assert_eq!(events.len(), 2, "{streams:?}");
        for (kind, _, data) in events {
            assert_eq!(kind, "message");
            assert!(data.starts_with("Server Time : "), "{data}");
        }
    }
}
