//! The keep-alive scheduler on a fake clock: pings after the idle interval, writes push the
//! deadline out, early or repeated timeouts do nothing.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use sse_proto::{Frame, KeepAlive, KeepAliveConfig, KeepAlivePing};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn with_interval(interval: Duration) -> KeepAliveConfig {
    let mut config = KeepAliveConfig::default();
    config.interval = interval;
    config
}

/// Sleeps from deadline to deadline until `until`, collecting the pings (seconds since
/// `start`).
fn idle(keep_alive: &mut KeepAlive, start: Instant, until: Instant) -> Vec<u64> {
    let mut pings = Vec::new();
    while keep_alive.poll_timeout() <= until {
        let now = keep_alive.poll_timeout();
        keep_alive.handle_timeout(now);
        if let Some(ping) = keep_alive.poll_ping() {
            assert_eq!(ping, Frame::keep_alive());
            pings.push((now - start).as_secs());
        }
    }
    pings
}

#[test]
fn default_is_a_comment_every_15_seconds() {
    let config = KeepAliveConfig::default();
    assert_eq!(config.interval, secs(15));
    assert_eq!(KeepAliveConfig::DEFAULT_INTERVAL, secs(15));
    assert_eq!(config.ping, KeepAlivePing::Comment);
    let start = Instant::now();
    let mut keep_alive = KeepAlive::new(config, start);
    assert_eq!(keep_alive.interval(), secs(15));
    assert_eq!(keep_alive.poll_timeout(), start + secs(15));
    assert_eq!(
        idle(&mut keep_alive, start, start + secs(60)),
        [15, 30, 45, 60]
    );
}

#[test]
fn any_write_pushes_the_deadline_out() {
    let start = Instant::now();
    let mut keep_alive = KeepAlive::new(KeepAliveConfig::default(), start);
    for t in [5, 14, 28, 40] {
        keep_alive.handle_write(start + secs(t));
        assert_eq!(keep_alive.poll_timeout(), start + secs(t + 15));
    }
    assert_eq!(idle(&mut keep_alive, start, start + secs(70)), [55, 70]);
}

#[test]
fn busy_stream_never_pings() {
    let start = Instant::now();
    let mut keep_alive = KeepAlive::new(KeepAliveConfig::default(), start);
    for t in 1..=1000 {
        let now = start + secs(t * 14);
        keep_alive.handle_timeout(now);
        assert!(keep_alive.poll_ping().is_none());
        keep_alive.handle_write(now);
    }
}

#[test]
fn early_and_repeated_timeouts_do_nothing() {
    let start = Instant::now();
    let mut keep_alive = KeepAlive::new(KeepAliveConfig::default(), start);
    for t in [0, 1, 14, 14] {
        keep_alive.handle_timeout(start + secs(t));
        assert!(keep_alive.poll_ping().is_none());
    }
    keep_alive.handle_timeout(start + secs(15));
    keep_alive.handle_timeout(start + secs(15));
    assert!(keep_alive.poll_ping().is_some());
    assert!(keep_alive.poll_ping().is_none(), "one ping per due time");
    assert_eq!(keep_alive.poll_timeout(), start + secs(30));
}

#[test]
fn late_timeout_schedules_from_when_it_ran() {
    let start = Instant::now();
    let mut keep_alive = KeepAlive::new(KeepAliveConfig::default(), start);
    keep_alive.handle_timeout(start + secs(100)); // the caller overslept
    assert!(keep_alive.poll_ping().is_some());
    assert_eq!(keep_alive.poll_timeout(), start + secs(115));
}

#[test]
fn a_write_replaces_a_due_ping() {
    let start = Instant::now();
    let mut keep_alive = KeepAlive::new(KeepAliveConfig::default(), start);
    keep_alive.handle_timeout(start + secs(15));
    keep_alive.handle_write(start + secs(15)); // an event went out first
    assert!(keep_alive.poll_ping().is_none());
}

#[test]
fn ping_as_a_named_event() {
    let start = Instant::now();
    let mut config = with_interval(secs(30));
    config.ping = KeepAlivePing::event("heartbeat").unwrap();
    let mut keep_alive = KeepAlive::new(config, start);
    keep_alive.handle_timeout(start + secs(30));
    let ping = keep_alive.poll_ping().unwrap();
    assert_eq!(ping.as_bytes(), &b"event: heartbeat\ndata: \n\n"[..]);
    // The frame is encoded once: every ping shares it.
    keep_alive.handle_timeout(start + secs(60));
    let again = keep_alive.poll_ping().unwrap();
    assert_eq!(again.as_bytes().as_ptr(), ping.as_bytes().as_ptr());
}

#[test]
#[should_panic(expected = "must not be zero")]
fn zero_interval_is_refused() {
    let _ = KeepAlive::new(with_interval(Duration::ZERO), Instant::now());
}

#[derive(Clone, Debug)]
enum Op {
    Advance(u64),
    Write,
    Timeout,
    SleepToDeadline,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..40_000u64).prop_map(Op::Advance),
        Just(Op::Write),
        Just(Op::Timeout),
        Just(Op::SleepToDeadline),
    ]
}

proptest! {
    /// A ping comes only after a full interval without writes or pings, once; the deadline
    /// is never before the last `now` given.
    #[test]
    fn pings_only_after_a_full_idle_interval(
        interval_ms in 1..30_000u64,
        ops in proptest::collection::vec(op(), 0..60),
    ) {
        let interval = Duration::from_millis(interval_ms);
        let start = Instant::now();
        let mut now = start;
        let mut keep_alive = KeepAlive::new(with_interval(interval), start);
        let mut last_traffic = start;
        for op in ops {
            match op {
                Op::Advance(ms) => now += Duration::from_millis(ms),
                Op::Write => {
                    keep_alive.handle_write(now);
                    last_traffic = now;
                }
                Op::Timeout | Op::SleepToDeadline => {
                    if matches!(op, Op::SleepToDeadline) {
                        now = now.max(keep_alive.poll_timeout());
                    }
                    keep_alive.handle_timeout(now);
                    let ping = keep_alive.poll_ping();
                    prop_assert_eq!(ping.is_some(), now - last_traffic >= interval);
                    if ping.is_some() {
                        last_traffic = now;
                    }
                    prop_assert!(keep_alive.poll_ping().is_none());
                }
            }
            if !matches!(op, Op::Advance(_)) {
                prop_assert!(keep_alive.poll_timeout() >= now);
                prop_assert_eq!(keep_alive.poll_timeout(), last_traffic + interval);
            }
        }
    }
}
