//! Stalled-client detection on a fake clock: the clock runs only while bytes are pending,
//! progress restarts it, and the verdict is final.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use sse_proto::{StallDetector, Stalled};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

struct Sim {
    stall: StallDetector,
    start: Instant,
}

impl Sim {
    fn new(timeout: Duration) -> Self {
        Sim {
            stall: StallDetector::new(timeout),
            start: Instant::now(),
        }
    }

    fn at(&self, s: u64) -> Instant {
        self.start + secs(s)
    }

    fn queued(&mut self, s: u64, bytes: usize) {
        self.stall.handle_queued(self.at(s), bytes);
    }

    fn accepted(&mut self, s: u64, bytes: usize) {
        self.stall.handle_accepted(self.at(s), bytes);
    }

    fn timeout(&mut self, s: u64) -> Option<Stalled> {
        self.stall.handle_timeout(self.at(s));
        self.stall.poll_stalled()
    }
}

#[test]
fn nothing_pending_means_no_deadline_and_no_stall() {
    let mut sim = Sim::new(secs(30));
    assert_eq!(StallDetector::DEFAULT_TIMEOUT, secs(30));
    assert_eq!(sim.stall.poll_timeout(), None);
    assert_eq!(sim.timeout(3600), None);
    sim.queued(10, 0);
    assert_eq!(sim.stall.poll_timeout(), None);
}

#[test]
fn no_progress_for_the_timeout_is_a_stall() {
    let mut sim = Sim::new(secs(30));
    sim.queued(10, 500);
    assert_eq!(sim.stall.poll_timeout(), Some(sim.at(40)));
    assert_eq!(sim.timeout(39), None);
    let stalled = sim.timeout(40).expect("stalled");
    assert_eq!(stalled.pending, 500);
    assert_eq!(stalled.since, sim.at(10));
    assert_eq!(sim.stall.poll_timeout(), None);
}

#[test]
fn progress_restarts_the_clock() {
    let mut sim = Sim::new(secs(30));
    sim.queued(0, 1000);
    for s in (20..=200).step_by(20) {
        sim.accepted(s, 10); // slow, but moving
        assert_eq!(sim.stall.poll_timeout(), Some(sim.at(s + 30)));
        assert_eq!(sim.timeout(s + 19), None);
    }
    assert_eq!(sim.stall.pending(), 900);
}

#[test]
fn queueing_more_does_not_restart_the_clock() {
    let mut sim = Sim::new(secs(30));
    sim.queued(0, 10);
    sim.queued(20, 10);
    sim.queued(29, 10);
    assert_eq!(sim.stall.poll_timeout(), Some(sim.at(30)));
    assert_eq!(sim.timeout(30).map(|s| s.pending), Some(30));
}

#[test]
fn queueing_after_the_deadline_makes_the_verdict() {
    let mut sim = Sim::new(secs(30));
    sim.queued(0, 10);
    sim.queued(45, 10); // the deadline passed unchecked with no progress
    assert_eq!(sim.stall.poll_stalled().map(|s| s.pending), Some(10));
}

#[test]
fn everything_accepted_stops_the_clock() {
    let mut sim = Sim::new(secs(30));
    sim.queued(0, 10);
    sim.accepted(5, 10);
    assert_eq!(sim.stall.pending(), 0);
    assert_eq!(sim.stall.poll_timeout(), None);
    assert_eq!(sim.timeout(1000), None);
    // The clock starts again with the next bytes, from their time.
    sim.queued(2000, 1);
    assert_eq!(sim.stall.poll_timeout(), Some(sim.at(2030)));
}

#[test]
fn late_report_of_progress_wins_over_an_unchecked_deadline() {
    let mut sim = Sim::new(secs(30));
    sim.queued(0, 10);
    sim.accepted(45, 4);
    assert_eq!(sim.stall.poll_stalled(), None);
    assert_eq!(sim.stall.poll_timeout(), Some(sim.at(75)));
}

#[test]
fn zero_byte_accept_is_no_progress() {
    let mut sim = Sim::new(secs(30));
    sim.queued(0, 10);
    sim.accepted(20, 0);
    assert_eq!(sim.stall.poll_timeout(), Some(sim.at(30)));
}

#[test]
fn accepting_more_than_pending_counts_as_all() {
    let mut sim = Sim::new(secs(30));
    sim.queued(0, 10);
    sim.accepted(1, 25);
    assert_eq!(sim.stall.pending(), 0);
    assert_eq!(sim.stall.poll_timeout(), None);
}

#[test]
fn the_verdict_is_final() {
    let mut sim = Sim::new(secs(30));
    sim.queued(0, 10);
    let stalled = sim.timeout(30).unwrap();
    sim.accepted(31, 10);
    sim.queued(32, 5);
    assert_eq!(sim.timeout(33), Some(stalled));
    assert_eq!(sim.stall.poll_timeout(), None);
}

#[test]
fn zero_timeout_stalls_at_the_first_check() {
    let mut sim = Sim::new(Duration::ZERO);
    sim.queued(0, 1);
    assert!(sim.timeout(0).is_some());
}

#[derive(Clone, Debug)]
enum Op {
    Advance(u64),
    Queued(usize),
    Accepted(usize),
    Timeout,
    SleepToDeadline,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..20_000u64).prop_map(Op::Advance),
        prop_oneof![Just(0usize), 1..1000usize].prop_map(Op::Queued),
        prop_oneof![Just(0usize), 1..1000usize].prop_map(Op::Accepted),
        Just(Op::Timeout),
        Just(Op::SleepToDeadline),
    ]
}

proptest! {
    /// Pending bytes follow what was reported; the verdict comes exactly when bytes were
    /// pending with no progress for the timeout; no deadline is before the last `now`.
    #[test]
    fn stalled_only_after_a_full_timeout_without_progress(
        timeout_ms in 0..30_000u64,
        ops in proptest::collection::vec(op(), 0..60),
    ) {
        let timeout = Duration::from_millis(timeout_ms);
        let start = Instant::now();
        let mut now = start;
        let mut stall = StallDetector::new(timeout);
        let mut pending: u64 = 0;
        let mut since: Option<Instant> = None;
        let mut verdict: Option<(u64, Instant)> = None;
        for op in ops {
            // The model: a deadline reached by an input without progress makes the verdict.
            let due = |now: Instant, since: Option<Instant>| since.is_some_and(|s| now >= s + timeout);
            match op {
                Op::Advance(ms) => now += Duration::from_millis(ms),
                Op::Queued(bytes) => {
                    if verdict.is_none() && due(now, since) {
                        verdict = Some((pending, since.unwrap()));
                    }
                    if bytes > 0 {
                        if pending == 0 {
                            since = Some(now);
                        }
                        pending += bytes as u64;
                    }
                    stall.handle_queued(now, bytes);
                }
                Op::Accepted(bytes) => {
                    if bytes > 0 && verdict.is_none() {
                        pending = pending.saturating_sub(bytes as u64);
                        since = (pending > 0).then_some(now);
                    }
                    if verdict.is_none() && due(now, since) {
                        verdict = Some((pending, since.unwrap()));
                    }
                    stall.handle_accepted(now, bytes);
                }
                Op::Timeout | Op::SleepToDeadline => {
                    if let (Op::SleepToDeadline, Some(deadline)) = (&op, stall.poll_timeout()) {
                        now = now.max(deadline);
                    }
                    if verdict.is_none() && due(now, since) {
                        verdict = Some((pending, since.unwrap()));
                    }
                    stall.handle_timeout(now);
                }
            }
            if verdict.is_none() {
                prop_assert_eq!(stall.pending(), pending);
            }
            prop_assert_eq!(stall.poll_stalled().map(|s| (s.pending, s.since)), verdict);
            if let Some(deadline) = stall.poll_timeout() {
                prop_assert!(matches!(op, Op::Advance(_)) || deadline >= now, "deadline in the past");
                prop_assert!(verdict.is_none() && pending > 0);
            }
        }
    }
}
