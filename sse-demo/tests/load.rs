//! Load: the demo server (the real binary, in its own process) holds 1,000 concurrent
//! weather streams on 127.0.0.1 while it broadcasts; every client must receive every event
//! in order. Prints events/s delivered, server CPU per delivered event and memory per
//! connection: a benchmark print, not a timed assertion.
//!
//! `SSE_DEMO_LOAD_CLIENTS`, `SSE_DEMO_LOAD_RATE` (events/s) and `SSE_DEMO_LOAD_EVENTS` change
//! the run; the defaults are 1,000 clients and, in release builds, 200 events/s for 1,000
//! events (a debug build broadcasts 20/s for 60 events: same check, smaller figures).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_proto::ClientConfig;
use sse_proto_io::reqwest::EventSource;
use sse_proto_io::{Error, Incoming};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The server process: killed (by its pid) when dropped.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `/proc/PID/...` reading.
fn proc_field(pid: u32, file: &str, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap_or_default();
    text.lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resident memory in KiB.
fn rss_kib(pid: u32) -> u64 {
    proc_field(pid, "status", "VmRSS:")
}

/// User + system CPU time, in clock ticks (100 per second on Linux).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

async fn stats(http: &reqwest::Client, base: &str) -> serde_json::Value {
    let body = http
        .get(format!("{base}stats"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    serde_json::from_slice(&body).unwrap()
}

/// What one client saw.
#[derive(Debug, Default)]
struct Seen {
    first: u64,
    last: u64,
    count: u64,
    out_of_order: u64,
    reconnects: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_streams_get_every_broadcast_event_in_order() {
    let release = !cfg!(debug_assertions);
    let clients = env_or("SSE_DEMO_LOAD_CLIENTS", 1000) as usize;
    let rate = env_or("SSE_DEMO_LOAD_RATE", if release { 200 } else { 20 }).max(1);
    let events = env_or("SSE_DEMO_LOAD_EVENTS", if release { 1000 } else { 60 }).max(1);

    let mut child = Command::new(env!("CARGO_BIN_EXE_sse-demo"))
        .args(["0", "--quiet", "--weather-ms"])
        .arg((1000 / rate).max(1).to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start sse-demo");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|word| word.starts_with("http://127.0.0.1:"))
        .expect("the server prints its URL")
        .to_owned();
    let server = Server { child, base };
    let pid = server.child.id();
    let http = reqwest::Client::new();
    let _ = stats(&http, &server.base).await; // warm: one connection, the first allocations
    let rss_before = rss_kib(pid);
    let client_rss_before = rss_kib(std::process::id());

    // Every client counts the weather ids it gets and checks each is the one after the last.
    let target = Arc::new(AtomicU64::new(u64::MAX));
    let open = Arc::new(AtomicUsize::new(0));
    let shared = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let url = format!("{}events/weather", server.base);
    let connect_started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (target, open) = (target.clone(), open.clone());
            let mut config = ClientConfig::default();
            config.read_timeout = Some(Duration::from_secs(30));
            config.reconnection_time = Duration::from_millis(200);
            let mut source =
                EventSource::with_config(shared.get(&url), config).expect("a valid request");
            tokio::spawn(async move {
                let mut seen = Seen::default();
                let mut opened = false;
                while let Some(item) = source.next().await {
                    match item {
                        Ok(Incoming::Open { .. }) if !opened => {
                            opened = true;
                            open.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(Error::Reconnecting { .. }) => seen.reconnects += 1,
                        Err(error) => panic!("the source stopped: {error}"),
                        Ok(Incoming::Event(event)) => {
                            let id: u64 = event.last_event_id().parse().unwrap();
                            if seen.count == 0 {
                                seen.first = id;
                            } else if id != seen.last + 1 {
                                seen.out_of_order += 1;
                            }
                            seen.last = id;
                            seen.count += 1;
                            if id >= target.load(Ordering::Relaxed) {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                source.close();
                seen
            })
        })
        .collect();

    // All connected: the server holds every stream.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let streams = stats(&http, &server.base).await["streams"]
            .as_u64()
            .unwrap();
        if streams as usize >= clients && open.load(Ordering::Relaxed) >= clients {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {streams} of {clients} streams open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connect_time = connect_started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await; // settle
    let rss_with = rss_kib(pid);
    let client_rss_with = rss_kib(std::process::id());

    // The measured window: the next `events` broadcasts.
    let first_id = stats(&http, &server.base).await["weather_last_id"]
        .as_u64()
        .unwrap()
        + 1;
    let last_id = first_id + events - 1;
    let cpu_before = cpu_ticks(pid);
    let window_started = Instant::now();
    target.store(last_id, Ordering::Relaxed);
    let mut results = Vec::new();
    let budget = Duration::from_secs(60) + Duration::from_secs(events / rate * 2);
    for task in tasks {
        let left = budget.saturating_sub(window_started.elapsed());
        let seen = tokio::time::timeout(left, task)
            .await
            .expect("every client got to the last event in time")
            .unwrap();
        results.push(seen);
    }
    let window = window_started.elapsed();
    let cpu = cpu_ticks(pid) - cpu_before;
    let final_stats = stats(&http, &server.base).await;
    drop(server);

    let mut delivered = 0;
    for (n, seen) in results.iter().enumerate() {
        assert_eq!(
            seen.out_of_order, 0,
            "client {n} got ids out of order: {seen:?}"
        );
        assert!(seen.first <= first_id, "client {n} started late: {seen:?}");
        assert!(seen.last >= last_id, "client {n} stopped early: {seen:?}");
        delivered += seen.last.min(last_id) + 1 - first_id;
    }
    let reconnects: u64 = results.iter().map(|s| s.reconnects).sum();
    let per_second = delivered as f64 / window.as_secs_f64();
    let cpu_seconds = cpu as f64 / 100.0;
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "\nload ({} build): {clients} streams on 127.0.0.1, {events} broadcast events at {rate}/s",
        if release { "release" } else { "debug" }
    );
    println!("  connected all in {connect_time:.2?}; window {window:.2?}");
    println!(
        "  delivered {delivered} events ({} per client), in order, none missing: {per_second:.0} events/s",
        delivered / clients as u64
    );
    println!(
        "  server CPU {cpu_seconds:.2} s over the window: {:.2} us per delivered event, {:.0}% of one core",
        cpu_seconds * 1e6 / delivered as f64,
        cpu_seconds * 100.0 / window.as_secs_f64()
    );
    println!(
        "  server RSS {:.1} MiB idle -> {:.1} MiB with {clients} streams: {:.1} KiB per connection",
        mib(rss_before),
        mib(rss_with),
        (rss_with.saturating_sub(rss_before)) as f64 / clients as f64
    );
    println!(
        "  client process (reqwest + sse-proto) RSS: {:.1} KiB per connection",
        (client_rss_with.saturating_sub(client_rss_before)) as f64 / clients as f64
    );
    println!("  reconnects {reconnects}; server stats: {final_stats}");
    assert_eq!(delivered, clients as u64 * events);
}
