//! The aiohttp SSE tutorial's weather broadcast, on axum and a [`Hub`]: one producer, every
//! client gets the same encoded frame, a client that reconnects with `Last-Event-ID` gets
//! what it missed, and one the history cannot resume gets the current weather first. The
//! whole tutorial (ids, `retry:`, comments, resume, this broadcast) is `aiohttp_tutorial.rs`.
//!
//! `cargo run -p sse-proto-io --example broadcast --features axum`, then
//! `curl -N http://127.0.0.1:8080/weather` (add `-H 'Last-Event-ID: 3'` to resume).

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Version};
use axum::routing::get;
use axum::Router;
use sse_proto::Event;
use sse_proto_io::server::{last_event_id, Hub, Sse};

/// Subscribes the client, after its `Last-Event-ID`; the newest frame first if it needs a
/// full state.
async fn weather(
    State(hub): State<Hub>,
    version: Version,
    headers: HeaderMap,
) -> Sse<sse_proto_io::server::Subscription> {
    let subscription = hub.subscribe_with(last_event_id(&headers), |newest| {
        newest.cloned().into_iter().collect()
    });
    Sse::new(subscription)
        .retry(Duration::from_secs(3))
        .http_version(version)
}

async fn stats(State(hub): State<Hub>) -> String {
    format!("{:?}\n", hub.stats())
}

fn app(hub: Hub) -> Router {
    Router::new()
        .route("/weather", get(weather))
        .route("/stats", get(stats))
        .with_state(hub)
}

/// The weather in one city, as one event: each has an id, so every client can resume.
fn report(n: u64) -> Event {
    let temp = 15.0 + (n % 7) as f64 * 0.5;
    let data = format!(r#"{{"city":"Lisbon","temp_c":{temp:.1},"n":{n}}}"#);
    Event::builder()
        .event("weather")
        .id(n.to_string())
        .data(data)
        .build()
        .expect("no line break in the type or id")
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let hub = Hub::new(Default::default());
    let producer = hub.clone();
    tokio::spawn(async move {
        for n in 1.. {
            producer.publish(report(n));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!("serving on http://{}/weather", listener.local_addr()?);
    axum::serve(listener, app(hub)).await
}

#[cfg(test)]
#[path = "../tests/common/chromium.rs"]
mod chromium;

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn open(
        addr: std::net::SocketAddr,
        last_event_id: Option<&str>,
    ) -> tokio::net::TcpStream {
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        let resume = last_event_id
            .map(|id| format!("Last-Event-ID: {id}\r\n"))
            .unwrap_or_default();
        let head = format!("GET /weather HTTP/1.1\r\nHost: x\r\n{resume}\r\n");
        socket.write_all(head.as_bytes()).await.unwrap();
        socket
    }

    /// The ids of the events read until `last` arrives (10 s at most).
    async fn ids_until(socket: &mut tokio::net::TcpStream, last: u64) -> Vec<u64> {
        let mut seen = String::new();
        let mut buf = [0; 4096];
        let needle = format!("\nid: {last}\n");
        tokio::time::timeout(Duration::from_secs(10), async {
            while !seen.contains(&needle) {
                let n = socket.read(&mut buf).await.unwrap();
                assert!(n > 0, "closed: {seen}");
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
        .await
        .expect("in time");
        seen.lines()
            .filter_map(|line| line.strip_prefix("id: ")?.parse().ok())
            .collect()
    }

    #[tokio::test]
    async fn clients_share_the_feed_and_resume_after_their_last_event_id() {
        let hub = Hub::new(Default::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = hub.clone();
        let server = tokio::spawn(async move { axum::serve(listener, app(served)).await });
        for n in 1..=4 {
            hub.publish(report(n));
        }
        let mut resumed = open(addr, Some("2")).await; // missed 3 and 4
        let mut unknown = open(addr, Some("from-before-a-restart")).await;
        let mut fresh = open(addr, None).await;
        while hub.stats().subscribers < 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        hub.publish(report(5));
        assert_eq!(ids_until(&mut resumed, 5).await, [3, 4, 5]);
        assert_eq!(
            ids_until(&mut unknown, 5).await,
            [4, 5],
            "the current weather first"
        );
        assert_eq!(ids_until(&mut fresh, 5).await, [4, 5]);
        let stats = hub.stats();
        assert_eq!((stats.resume_hits, stats.resume_misses), (1, 1));
        server.abort();
    }

    #[tokio::test]
    async fn chromium_reads_the_broadcast() {
        let hub = Hub::new(Default::default());
        let (check, mut reports) = chromium::routes();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = app(hub.clone()).merge(check);
        tokio::spawn(async move { axum::serve(listener, served).await });
        for n in 1..=3 {
            hub.publish(report(n));
        }
        // Two tabs' worth of clients: both get the current weather, then the live feed.
        let page = format!("http://{addr}/chromium?src=/weather&src=/weather&n=3&types=weather");
        let publisher = hub.clone();
        let live = tokio::spawn(async move {
            while publisher.stats().subscribers < 2 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            for n in 4..=5 {
                publisher.publish(report(n));
            }
        });
        let Some(streams) = chromium::read(&page, &mut reports).await else {
            return;
        };
        live.abort();
        assert_eq!(streams.len(), 2);
        for stream in &streams {
            assert_eq!(stream.ids(), [3, 4, 5], "{stream:?}");
            let (kind, _, data) = &stream.events[2];
            assert_eq!(kind, "weather");
            assert!(data.contains(r#""n":5"#), "{data}");
        }
    }
}
