//! What the Redis path costs, against a real `redis-server` started here (persistence off,
//! killed by its PID): events/s from `publish` (`XADD`) through the instance's reader to a
//! local subscriber, and the latency from a `publish` call to the subscriber, against the
//! same on a local `Hub`. A benchmark print, not a timed assertion; the figures in
//! docs/performance.md come from
//! `cargo test --release -p sse-proto-io --features redis --test redis_perf -- --nocapture`.
#![cfg(feature = "redis")]

#[path = "common/redis_server.rs"]
mod redis_server;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_proto::Event;
use sse_proto_io::server::{Hub, HubConfig, RedisConfig, RedisHub};

const LIMIT: Duration = Duration::from_secs(60);

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn percentile(mut samples: Vec<Duration>, p: usize) -> Duration {
    samples.sort();
    samples[(samples.len() * p / 100).min(samples.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_path_throughput_and_added_latency() {
    let Some(redis) = redis_server::Redis::start() else {
        return;
    };
    let release = !cfg!(debug_assertions);
    let (events, publishers, pings) = if release {
        (50_000, 32, 1_000)
    } else {
        (2_000, 8, 50)
    };
    let mut config = RedisConfig::new("perf");
    config.history = 100_000;
    // The subscriber must not be dropped for lagging while the whole batch is in flight.
    let mut hub_config = HubConfig::default();
    hub_config.capacity = events + 16;
    config.hub = hub_config;
    let hub = RedisHub::connect(&redis.url(), config)
        .await
        .expect("connect");
    let mut subscription = hub.subscribe(None).await.expect("subscribe");
    let data = "x".repeat(100);

    // Throughput: `publishers` tasks publish at once on the shared (multiplexed)
    // connection; the time runs until the subscriber has every event.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..publishers {
        let (hub, data) = (hub.clone(), data.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..events / publishers {
                hub.publish(&Event::new(data.clone()))
                    .await
                    .expect("publish");
            }
        }));
    }
    let total = events / publishers * publishers;
    tokio::time::timeout(LIMIT, async {
        for _ in 0..total {
            subscription.next().await.expect("live");
        }
    })
    .await
    .expect("every event in time");
    let elapsed = started.elapsed();
    for task in tasks {
        task.await.expect("a publisher");
    }
    let rate = total as f64 / elapsed.as_secs_f64();

    // Latency: one event at a time, from the publish call to the subscriber.
    let mut via_redis = Vec::new();
    for _ in 0..pings {
        let sent = Instant::now();
        hub.publish(&Event::new(data.clone()))
            .await
            .expect("publish");
        tokio::time::timeout(LIMIT, subscription.next())
            .await
            .expect("in time")
            .expect("live");
        via_redis.push(sent.elapsed());
    }
    let local = Hub::new(HubConfig::default());
    let mut on_local = local.subscribe(None);
    let mut via_local = Vec::new();
    for _ in 0..pings {
        let sent = Instant::now();
        local.publish(Event::new(data.clone()));
        on_local.next().await.expect("live");
        via_local.push(sent.elapsed());
    }
    println!(
        "redis path: {total} events of {} bytes from {publishers} publishers in {elapsed:.2?}: {rate:.0} events/s",
        data.len()
    );
    println!(
        "publish -> subscriber, {pings} one at a time: via Redis median {:.1?} (p99 {:.1?}), local hub median {:.1?}",
        median(via_redis.clone()),
        percentile(via_redis, 99),
        median(via_local)
    );
}
