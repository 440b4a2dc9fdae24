//! The hub against a small, obviously correct model of its policy, shared by the property
//! test (`tests/hub_model.rs`) and the fuzz target (`sse-proto/fuzz`, `hub_ops`).
//!
//! [`run`] applies the operations to a real [`Hub`] and to a model of each subscriber's
//! queue, and panics as soon as they disagree. It checks that every subscriber gets its
//! frames in order and never twice; that one that is kept gets its replay (or full state)
//! and then every event published after it subscribed; that one that falls behind gets a
//! prefix of that and then the end of its stream (never a silent gap); and the counters.
#![allow(dead_code)] // each user takes part of it

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use sse_proto::{Event, Frame, ResumeBuffer, ResumeLimits};
use sse_proto_io::server::{End, Hub, HubConfig, Resume, Subscription};

/// Frames a subscriber may have queued before it is disconnected.
pub const CAPACITY: usize = 3;
/// Frames of history.
pub const HISTORY: usize = 4;

/// One step of a run.
#[derive(Clone, Debug)]
pub enum Op {
    /// Publish the next event (ids 1, 2, 3...).
    Publish,
    /// Subscribe. `None`: no `Last-Event-ID`; `Some(k)`: the id of the k-th newest event
    /// published (past the oldest: an id never published).
    Subscribe(Option<u8>),
    /// The subscriber (index modulo the live ones) takes up to this many frames.
    Take { sub: u8, n: u8 },
    /// The subscriber (index modulo the live ones) goes away.
    Disconnect { sub: u8 },
}

/// One subscriber's queue, as the policy says it should be.
struct Model {
    queue: VecDeque<u64>,
    /// How many of the first `queue` entries are the replay or full state.
    first: usize,
    lagged: bool,
    /// What it should see if kept: the replay (or full state), then every later publish.
    expected: Vec<u64>,
    received: Vec<u64>,
}

struct Subscriber {
    real: Subscription,
    model: Model,
}

fn id_of(frame: &Frame) -> u64 {
    let id = frame.id().expect("every frame has an id");
    id.parse().expect("a number")
}

/// Polls the subscription once, as a body whose transport has room would.
fn poll_once(subscription: &mut Subscription) -> Poll<Option<Frame>> {
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(subscription).poll_next(&mut cx)
}

/// Takes one frame from the real subscription and the model; `false` when none was there.
fn take_one(sub: &mut Subscriber) -> bool {
    let got = poll_once(&mut sub.real);
    let model = &mut sub.model;
    match model.queue.pop_front() {
        Some(want) => {
            model.first = model.first.saturating_sub(1);
            let Poll::Ready(Some(frame)) = got else {
                panic!("expected {want}, got {got:?}");
            };
            assert_eq!(id_of(&frame), want);
            if let Some(&last) = model.received.last() {
                assert!(want > last, "in order, never twice: {want} after {last}");
            }
            model.received.push(want);
            true
        }
        None if model.lagged => {
            assert!(
                matches!(got, Poll::Ready(None)),
                "a lagged stream ends: {got:?}"
            );
            assert_eq!(sub.real.ended(), Some(End::Lagged));
            false
        }
        None => {
            assert!(got.is_pending(), "nothing queued: pending, got {got:?}");
            false
        }
    }
}

/// What a subscriber with this `Last-Event-ID` should get first, and how it began.
fn first_frames(published: &[u64], last_event_id: Option<&str>) -> (Resume, Vec<u64>) {
    let history = &published[published.len().saturating_sub(HISTORY)..];
    let newest: Vec<u64> = published.last().copied().into_iter().collect();
    let Some(id) = last_event_id else {
        return (Resume::New, newest);
    };
    let id: u64 = id.parse().expect("a number");
    match history.iter().position(|&h| h == id) {
        Some(at) if at + 1 == history.len() => (Resume::UpToDate, Vec::new()),
        Some(at) => (
            Resume::Replayed(history.len() - at - 1),
            history[at + 1..].to_vec(),
        ),
        None => (Resume::Unknown, newest),
    }
}

/// Runs `ops` on a hub and the model; panics where they disagree.
pub fn run(ops: &[Op]) {
    let mut limits = ResumeLimits::default();
    limits.max_frames = HISTORY;
    let mut config = HubConfig::default();
    config.capacity = CAPACITY;
    let hub = Hub::with_store(ResumeBuffer::new(limits), config);
    let mut published: Vec<u64> = Vec::new();
    let mut subs: Vec<Subscriber> = Vec::new();
    let mut lagged = 0;

    for op in ops {
        match *op {
            Op::Publish => {
                let id = published.len() as u64 + 1;
                let event = Event::builder().id(id.to_string()).data("x").build();
                hub.publish(event.expect("a valid event"));
                published.push(id);
                for model in subs.iter_mut().map(|s| &mut s.model) {
                    if model.lagged {
                        continue;
                    }
                    model.expected.push(id);
                    if model.queue.len() - model.first >= CAPACITY {
                        model.lagged = true;
                        lagged += 1;
                    } else {
                        model.queue.push_back(id);
                    }
                }
            }
            Op::Subscribe(k) => {
                let last_event_id = k.map(|k| match published.len().checked_sub(1 + k as usize) {
                    Some(at) => published[at].to_string(),
                    None => "0".to_owned(), // never published
                });
                let (resume, first) = first_frames(&published, last_event_id.as_deref());
                let real = hub.subscribe_with(last_event_id.as_deref(), |newest| {
                    newest.cloned().into_iter().collect()
                });
                assert_eq!(real.resume(), resume);
                let model = Model {
                    queue: first.iter().copied().collect(),
                    first: first.len(),
                    lagged: false,
                    expected: first,
                    received: Vec::new(),
                };
                subs.push(Subscriber { real, model });
            }
            Op::Take { sub, n } => {
                if let Some(at) = (sub as usize).checked_rem(subs.len()) {
                    for _ in 0..n {
                        if !take_one(&mut subs[at]) {
                            break;
                        }
                    }
                }
            }
            Op::Disconnect { sub } => {
                if let Some(at) = (sub as usize).checked_rem(subs.len()) {
                    let gone = subs.swap_remove(at);
                    assert!(gone.model.expected.starts_with(&gone.model.received));
                }
            }
        }
        assert_eq!(hub.stats().subscribers, subs.len());
        assert_eq!(hub.stats().lagged, lagged);
    }

    // The end: every subscriber drains what it has.
    for sub in &mut subs {
        while take_one(sub) {}
        let model = &sub.model;
        if model.lagged {
            assert!(model.expected.starts_with(&model.received));
            assert!(model.received.len() < model.expected.len());
        } else {
            assert_eq!(
                model.received, model.expected,
                "a kept subscriber gets every event"
            );
            assert_eq!(sub.real.ended(), None);
        }
    }
}
