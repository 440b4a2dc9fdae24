//! The aiohttp SSE tutorial (the one built on a raw `web.StreamResponse`), step by step, on
//! axum: ids, an event type, `retry:`, comments, resuming from `Last-Event-ID`, and a weather
//! broadcast to many clients.
//!
//! | the tutorial, in aiohttp | here |
//! | --- | --- |
//! | `Content-Type`, `Cache-Control`, `Connection` set by hand | [`Sse`] sets them |
//! | `await resp.write(b": connected\n\n")` so the browser stops waiting | [`Sse::opening`] (`: ok` by default) |
//! | `f"id: {n}\nevent: count\ndata: {n}\n\n"` | [`Event::builder`]: a line break in an id or type is refused, not sent |
//! | `retry: 5000` | [`Sse::retry`], written inside the first event's block |
//! | `: ping` every 15 s | [`Sse::keep_alive_interval`], only when the stream is idle |
//! | `request.headers.get("Last-Event-ID")`, count on from there | [`last_event_id`], then the same |
//! | a set of `asyncio.Queue`s, the producer `put`s each update in every one | a [`Hub`]: each update encoded once, every client's queue bounded |
//! | (missing) a client that reconnects gets what it missed | the hub's history, after its `Last-Event-ID` |
//! | `try: ... finally: clients.remove(queue)` | nothing: a client that goes away drops its stream |
//!
//! `cargo run -p sse-proto-io --example aiohttp_tutorial --features axum`, then open
//! <http://127.0.0.1:8080/>, or `curl -N http://127.0.0.1:8080/count -H 'Last-Event-ID: 7'`.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Version};
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream};
use sse_proto::{Event, Frame, Message};
use sse_proto_io::server::{last_event_id, Hub, Sse, Subscription};

/// The tutorial's page: named events reach `addEventListener` only (`onmessage` sees events
/// without a type), and the browser resends the last id by itself when it reconnects.
const PAGE: &str = r#"<!doctype html>
<html><body>
<p>count: <span id="count">...</span></p>
<ul id="weather"></ul>
<script>
  const count = new EventSource("/count");
  count.addEventListener("count", (e) => {
    document.getElementById("count").textContent = e.data;
  });
  const weather = new EventSource("/weather");
  weather.addEventListener("weather", (e) => {
    const { city, temp_c } = JSON.parse(e.data);
    const li = document.createElement("li");
    li.textContent = `#${e.lastEventId} ${city}: ${temp_c} °C`;
    document.getElementById("weather").prepend(li);
  });
</script>
</body></html>
"#;

/// How fast things go (slower in `main` than in the tests).
#[derive(Clone, Copy, Debug)]
struct Pace {
    /// Between two counts of `/count`.
    count_every: Duration,
    /// The reconnection time sent to clients.
    retry: Duration,
    /// Idle time before a `: ping` comment.
    ping: Duration,
}

#[derive(Clone)]
struct Tutorial {
    pace: Pace,
    weather: Hub,
}

/// Steps 1 to 4: one client's own stream, counting on from the `Last-Event-ID` it sent.
async fn count(
    State(tutorial): State<Tutorial>,
    version: Version,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Event>> {
    let resumed = last_event_id(&headers).and_then(|id| id.parse::<u64>().ok());
    let from = resumed.map_or(1, |last| last.saturating_add(1));
    let hello = match resumed {
        Some(last) => format!("welcome back, counting on after {last}"),
        None => "counting from 1".to_owned(),
    };
    let every = tutorial.pace.count_every;
    let counting = stream::unfold(from, move |n| async move {
        tokio::time::sleep(every).await;
        let event = Event::builder()
            .id(n.to_string())
            .event("count")
            .data(n.to_string())
            .build();
        // Cannot fail (no line break in a number); ending the stream would be the answer.
        Some((event.ok()?, n.checked_add(1)?))
    });
    Sse::new(counting)
        .opening(Frame::from_message(&Message::comment(hello)))
        .retry(tutorial.pace.retry)
        .keep_alive_interval(tutorial.pace.ping)
        .http_version(version)
}

/// Step 5: the broadcast. A client that resumes gets what it missed from the hub's history;
/// a new one, or one whose id the history no longer has, gets the latest report first.
async fn weather(
    State(tutorial): State<Tutorial>,
    version: Version,
    headers: HeaderMap,
) -> Sse<Subscription> {
    let feed = tutorial
        .weather
        .subscribe_with(last_event_id(&headers), |latest| {
            latest.cloned().into_iter().collect()
        });
    Sse::new(feed)
        .retry(tutorial.pace.retry)
        .keep_alive_interval(tutorial.pace.ping)
        .http_version(version)
}

fn app(pace: Pace, hub: Hub) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/count", get(count))
        .route("/weather", get(weather))
        .with_state(Tutorial { pace, weather: hub })
}

const CITIES: [&str; 3] = ["Lisbon", "Oslo", "Cairo"];

/// Report `n`: the cities in turn, each report with an id so that clients can resume.
fn report(n: u64) -> Event {
    let city = CITIES[(n % CITIES.len() as u64) as usize];
    let temp_c = 10.0 + (n % 11) as f64 * 1.5;
    Event::builder()
        .event("weather")
        .id(n.to_string())
        .data(format!(r#"{{"city":"{city}","temp_c":{temp_c:.1}}}"#))
        .build()
        .expect("no line break in the type or id")
}

/// The producer: one report every `every`, to every client at once.
async fn weather_station(hub: Hub, every: Duration) {
    for n in 1.. {
        hub.publish(report(n));
        tokio::time::sleep(every).await;
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let pace = Pace {
        count_every: Duration::from_secs(1),
        retry: Duration::from_secs(5),
        ping: Duration::from_secs(15),
    };
    let hub = Hub::new(Default::default());
    tokio::spawn(weather_station(hub.clone(), Duration::from_secs(2)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!("serving on http://{}/", listener.local_addr()?);
    axum::serve(listener, app(pace, hub)).await
}

#[cfg(test)]
#[path = "../tests/common/chromium.rs"]
mod chromium;

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const FAST: Pace = Pace {
        count_every: Duration::from_millis(50),
        retry: Duration::from_millis(2500),
        ping: Duration::from_millis(30),
    };

    async fn serve(hub: Hub) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app(FAST, hub)).await });
        addr
    }

    async fn open(
        addr: std::net::SocketAddr,
        path: &str,
        resume: Option<&str>,
    ) -> tokio::net::TcpStream {
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        let resume = resume
            .map(|id| format!("Last-Event-ID: {id}\r\n"))
            .unwrap_or_default();
        // HTTP/1.0: the body comes unchunked, so that frames can be matched across writes.
        let head = format!("GET {path} HTTP/1.0\r\nHost: x\r\n{resume}\r\n");
        socket.write_all(head.as_bytes()).await.unwrap();
        socket
    }

    /// What the socket sent until `needle` (10 s at most).
    async fn read_until(socket: &mut tokio::net::TcpStream, needle: &str) -> String {
        let mut seen = String::new();
        let mut buf = [0; 4096];
        tokio::time::timeout(Duration::from_secs(10), async {
            while !seen.contains(needle) {
                let n = socket.read(&mut buf).await.unwrap();
                assert!(n > 0, "closed before {needle:?}: {seen}");
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {needle:?} in time: {seen}"));
        seen
    }

    fn ids(seen: &str) -> Vec<u64> {
        seen.lines()
            .filter_map(|line| line.strip_prefix("id: ")?.parse().ok())
            .collect()
    }

    #[tokio::test]
    async fn count_has_ids_a_type_retry_comments_and_resumes() {
        let addr = serve(Hub::new(Default::default())).await;
        let mut first = open(addr, "/count", None).await;
        let seen = read_until(&mut first, "id: 3\n").await;
        assert!(seen.contains("\r\n\r\n: counting from 1\n\n"), "{seen}");
        assert!(
            seen.contains("retry: 2500\nevent: count\nid: 1\ndata: 1\n\n"),
            "the retry inside the first event: {seen}"
        );
        assert_eq!(ids(&seen), [1, 2, 3]);

        // The browser reconnects with the last id it got: counting goes on after it.
        let mut again = open(addr, "/count", Some("7")).await;
        let seen = read_until(&mut again, "id: 9\n").await;
        assert!(
            seen.contains(": welcome back, counting on after 7\n\n"),
            "{seen}"
        );
        assert_eq!(ids(&seen), [8, 9]);
        // An id this server never sent: from the start.
        let mut stranger = open(addr, "/count", Some("abc")).await;
        let seen = read_until(&mut stranger, "id: 1\n").await;
        assert!(seen.contains(": counting from 1\n\n"), "{seen}");
    }

    #[tokio::test]
    async fn an_idle_stream_gets_ping_comments() {
        let addr = serve(Hub::new(Default::default())).await;
        let mut socket = open(addr, "/weather", None).await;
        // Nothing published: after the opening comment, only pings.
        let seen = read_until(&mut socket, ": ok\n\n: ping\n\n: ping\n\n").await;
        assert!(!seen.contains("data:"), "{seen}");
    }

    #[tokio::test]
    async fn weather_reaches_every_client_and_resumes() {
        let hub = Hub::new(Default::default());
        let addr = serve(hub.clone()).await;
        for n in 1..=3 {
            hub.publish(report(n));
        }
        let mut clients = Vec::new();
        for _ in 0..5 {
            clients.push(open(addr, "/weather", None).await);
        }
        let mut resumed = open(addr, "/weather", Some("1")).await;
        while hub.stats().subscribers < 6 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for n in 4..=5 {
            hub.publish(report(n));
        }
        for client in &mut clients {
            let seen = read_until(client, "id: 5\n").await;
            assert_eq!(
                ids(&seen),
                [3, 4, 5],
                "the latest report, then live: {seen}"
            );
            assert!(seen.contains(r#"event: weather"#), "{seen}");
        }
        let seen = read_until(&mut resumed, "id: 5\n").await;
        assert_eq!(ids(&seen), [2, 3, 4, 5], "what it missed, then live");
        assert_eq!(hub.stats().resume_hits, 1);
    }

    #[tokio::test]
    async fn the_station_publishes_the_cities_in_turn() {
        let hub = Hub::new(Default::default());
        let mut feed = hub.subscribe(None);
        let station = tokio::spawn(weather_station(hub.clone(), Duration::from_millis(5)));
        let mut cities = Vec::new();
        for _ in 0..3 {
            let frame = futures_util::StreamExt::next(&mut feed).await.unwrap();
            let text = String::from_utf8_lossy(frame.as_bytes()).into_owned();
            let city = CITIES.iter().find(|c| text.contains(*c)).unwrap();
            cities.push(*city);
        }
        station.abort();
        assert_eq!(cities, ["Oslo", "Cairo", "Lisbon"]);
    }

    #[tokio::test]
    async fn chromium_reads_the_count_and_the_weather() {
        let hub = Hub::new(Default::default());
        let (check, mut reports) = chromium::routes();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = app(FAST, hub.clone()).merge(check);
        tokio::spawn(async move { axum::serve(listener, served).await });
        let station = tokio::spawn(weather_station(hub, Duration::from_millis(50)));
        let page =
            format!("http://{addr}/chromium?src=/count&src=/weather&n=3&types=count,weather");
        let Some(streams) = chromium::read(&page, &mut reports).await else {
            return;
        };
        station.abort();
        let (count, weather) = (&streams[0], &streams[1]);
        // The comments (opening, pings) and the retry reach no listener.
        assert_eq!(count.ids(), [1, 2, 3], "{count:?}");
        for (kind, id, data) in &count.events {
            assert_eq!((kind.as_str(), data), ("count", id));
        }
        let ids = weather.ids();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{weather:?}");
        assert!(weather
            .events
            .iter()
            .all(|(kind, _, data)| kind == "weather"
                && CITIES.iter().any(|city| data.contains(city))));
    }
}
