//! The demo with `--redis`: instances on one Redis share the weather stream. Each test
//! starts its own `redis-server` on a free loopback port with persistence off and stops it
//! by its PID; without one the tests fail under `CI=true` and say SKIPPED otherwise. Every
//! wait is bounded.

mod common;
// The Redis tests of sse-proto-io start their `redis-server` with the same helper.
#[path = "../../sse-proto-io/tests/common/redis_server.rs"]
mod redis_server;

use std::time::Duration;

use futures_util::StreamExt;
use sse_demo::server::Config;
use sse_proto_io::reqwest::EventSource;

use redis_server::Redis;

/// How long any one wait may take.
const LIMIT: Duration = Duration::from_secs(20);

/// A weather event as a client got it.
#[derive(Clone, Debug, PartialEq)]
struct Report {
    id: String,
    data: serde_json::Value,
}

impl Report {
    /// The instance that published it (`"from"`).
    fn from(&self) -> &str {
        self.data["from"].as_str().unwrap_or("")
    }

    /// Its place in the stream: the entry id behind the epoch (`<epoch>-<ms>-<seq>`).
    fn entry(&self) -> (u64, u64) {
        let mut parts = self.id.rsplitn(3, '-').map(|p| p.parse().unwrap_or(0));
        let (seq, ms) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        (ms, seq)
    }
}

/// The next weather event of `source`, or the first error (the source then reconnects,
/// when it is read again).
async fn next_report(source: &mut EventSource) -> Result<Report, sse_proto_io::Error> {
    loop {
        let item = tokio::time::timeout(LIMIT, source.next())
            .await
            .unwrap_or_else(|_| panic!("no weather event in {LIMIT:?}"))
            .expect("the source does not end");
        let incoming = item?;
        if let Some(event) = incoming.event().filter(|e| e.event_type() == "weather") {
            return Ok(Report {
                id: event.id().unwrap_or("").to_owned(),
                data: serde_json::from_str(event.data()).expect("a JSON report"),
            });
        }
    }
}

/// The next weather event of a source whose server must stay up.
async fn report(source: &mut EventSource) -> Report {
    next_report(source)
        .await
        .unwrap_or_else(|error| panic!("the stream failed: {error}"))
}

fn weather_source(base: &str, last_event_id: Option<&str>) -> EventSource {
    let mut source =
        common::async_source(&format!("{base}events/weather"), common::client_config());
    if let Some(id) = last_event_id {
        source.set_last_event_id(id).expect("a valid id");
    }
    source
}

/// Checks that `reports` are in stream order, each once.
fn assert_stream_order(reports: &[Report]) {
    let entries: Vec<_> = reports.iter().map(Report::entry).collect();
    assert!(
        entries.windows(2).all(|w| w[0] < w[1]),
        "not in stream order: {reports:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_weather_stream() {
    let Some(redis) = Redis::start() else { return };
    let config = || Config {
        weather_every: Duration::from_millis(20),
        redis: Some(redis.url()),
        ..Config::default()
    };
    let first = common::start(config()).await;
    let second = common::start(config()).await;
    let mut source = weather_source(&second.url(), None);
    // The client of the second gets the first's reports too, in the order the first
    // published them (its `n` counts them), none missing, in stream order with the
    // second's own.
    let from_first = first.addr.to_string();
    let mut reports = Vec::new();
    while reports
        .iter()
        .filter(|r: &&Report| r.from() == from_first)
        .count()
        < 10
    {
        reports.push(report(&mut source).await);
    }
    let numbers: Vec<u64> = reports
        .iter()
        .filter(|r| r.from() == from_first)
        .map(|r| r.data["n"].as_u64().expect("a count"))
        .collect();
    assert!(
        numbers.windows(2).all(|w| w[1] == w[0] + 1),
        "the first's reports, in order: {numbers:?}"
    );
    assert_stream_order(&reports);
    assert!(
        reports.iter().any(|r| r.from() == second.addr.to_string()),
        "and the second's own: {reports:?}"
    );
    drop(source);
    first.shutdown().await;
    second.shutdown().await;
}
