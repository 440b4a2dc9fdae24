//! The demo with `--redis`: instances on one Redis share the weather stream, in this
//! process and as processes of their own (the real binary), one of them killed with SIGKILL.
//! Each test starts its own `redis-server` on a free loopback port with persistence off and
//! stops it by its PID; without one the tests fail under `CI=true` and say SKIPPED
//! otherwise. Every wait is bounded; every process is stopped by its PID.

mod common;
// The Redis tests of sse-proto-io start their `redis-server` with the same helper.
#[path = "../../sse-proto-io/tests/common/redis_server.rs"]
mod redis_server;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
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

/// A demo instance in a process of its own, on a free port, with its weather on `redis`:
/// killed (SIGKILL, by its PID) when dropped.
struct Process {
    child: Child,
    /// Its page's URL (`http://127.0.0.1:PORT/`).
    base: String,
}

impl Process {
    async fn start(redis: &Redis) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sse-demo"))
            .args([
                "0",
                "--quiet",
                "--weather-ms",
                "50",
                "--redis",
                &redis.url(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start sse-demo");
        let stdout = child.stdout.take().expect("its stdout");
        // From here a failure kills it: the drop does.
        let mut process = Process {
            child,
            base: String::new(),
        };
        // It prints its URL once it serves; read on a thread, so that the wait is bounded.
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            line
        });
        let line = tokio::time::timeout(LIMIT, line)
            .await
            .expect("sse-demo did not print its URL in time")
            .expect("the reading thread");
        process.base = line
            .split_whitespace()
            .find(|word| word.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("sse-demo did not start: {line:?}"))
            .to_owned();
        process
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no shutdown, no closing frame, the
    /// connections cut by the kernel mid-stream.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The witness's reports from the one with `first`'s id to the one with `last`'s, both in.
fn span<'a>(witness: &'a [Report], first: &Report, last: &Report) -> &'a [Report] {
    let at = |report: &Report| {
        witness
            .iter()
            .position(|r| r.id == report.id)
            .unwrap_or_else(|| panic!("the witness never got {report:?}"))
    };
    &witness[at(first)..=at(last)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_with_sigkill_its_clients_get_exactly_what_they_missed_elsewhere() {
    let Some(redis) = Redis::start() else { return };
    let mut doomed = Process::start(&redis).await;
    let survivors = [Process::start(&redis).await, Process::start(&redis).await];
    // A witness on a survivor, never moved: what the stream carried, in order. It gets a few
    // reports before the others connect, so that it has everything they will get.
    let mut witness = weather_source(&survivors[0].base, None);
    let mut seen = Vec::new();
    while seen.len() < 3 {
        seen.push(report(&mut witness).await);
    }
    // Two clients on the instance that will be killed, mid-stream.
    let mut on_doomed = [
        weather_source(&doomed.base, None),
        weather_source(&doomed.base, None),
    ];
    let mut got = [Vec::new(), Vec::new()];
    for (source, got) in on_doomed.iter_mut().zip(&mut got) {
        while got.len() < 10 {
            got.push(report(source).await);
        }
    }
    doomed.kill();
    // What reached them before the kill still arrives; then their stream fails.
    for (source, got) in on_doomed.iter_mut().zip(&mut got) {
        while let Ok(report) = next_report(source).await {
            got.push(report);
        }
    }
    drop(on_doomed);
    // The survivors publish on while the clients are away.
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Each comes back to a survivor with the id of the last event it got, as its
    // EventSource would send it (given the other URL).
    let mut moved: Vec<_> = got
        .iter()
        .zip(&survivors)
        .map(|(got, to)| {
            let last = got.last().expect("it got events");
            (weather_source(&to.base, Some(&last.id)), Vec::new())
        })
        .collect();
    for (source, again) in &mut moved {
        while again.len() < 20 {
            again.push(report(source).await);
        }
    }
    for ((_, again), got) in moved.iter().zip(&got) {
        let until = again.last().expect("20 reports");
        while seen.iter().all(|r| r.id != until.id) {
            seen.push(report(&mut witness).await);
        }
        let last = got.last().expect("it got events");
        assert_eq!(
            again.as_slice(),
            &span(&seen, last, until)[1..],
            "exactly the events missed after {}: nothing lost, nothing twice",
            last.id
        );
        // And with what it got before the kill: the whole stream from its first event on.
        let whole: Vec<Report> = got.iter().chain(again).cloned().collect();
        assert_eq!(whole.as_slice(), span(&seen, &got[0], until));
        assert_stream_order(&whole);
    }
}
