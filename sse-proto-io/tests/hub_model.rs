//! The hub against a small model: arbitrary interleavings of publish, subscribe (with and
//! without a `Last-Event-ID`, known or not), slow consumers and disconnects. Every
//! subscriber gets its frames in order and never twice; one that is kept gets the replay (or
//! full state) and then every event published after it subscribed; one that falls behind
//! gets a prefix of that, then the end of its stream (never a silent gap).
#![cfg(feature = "server")]

use std::collections::VecDeque;

use futures_util::{FutureExt, StreamExt};
use proptest::prelude::*;
use sse_proto::{Event, Frame, ResumeBuffer, ResumeLimits};
use sse_proto_io::server::{End, Hub, HubConfig, Resume, Subscription};

const CAPACITY: usize = 3;
const HISTORY: usize = 4;

#[derive(Clone, Debug)]
enum Op {
    Publish,
    /// `None`: no `Last-Event-ID`; `Some(k)`: the id of the k-th newest published event
    /// (past the oldest: an id never published).
    Subscribe(Option<u8>),
    /// The subscriber's body takes up to this many frames.
    Take {
        sub: u8,
        n: u8,
    },
    Disconnect {
        sub: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Publish),
        2 => proptest::option::of(0u8..8).prop_map(Op::Subscribe),
        4 => (any::<u8>(), 1u8..5).prop_map(|(sub, n)| Op::Take { sub, n }),
        1 => any::<u8>().prop_map(|sub| Op::Disconnect { sub }),
    ]
}

/// The obvious version of one subscriber: its queue, as the policy says it should be.
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
    frame.id().expect("every frame has an id").parse().unwrap()
}

fn take_one(sub: &mut Subscriber) -> Result<bool, TestCaseError> {
    let got = sub.real.next().now_or_never();
    let model = &mut sub.model;
    match model.queue.pop_front() {
        Some(want) => {
            model.first = model.first.saturating_sub(1);
            let frame = got.flatten();
            prop_assert_eq!(frame.as_ref().map(id_of), Some(want));
            if let Some(&last) = model.received.last() {
                prop_assert!(
                    want > last,
                    "in order, never twice: {} after {}",
                    want,
                    last
                );
            }
            model.received.push(want);
            Ok(true)
        }
        None if model.lagged => {
            prop_assert!(matches!(got, Some(None)), "a lagged stream ends: {:?}", got);
            prop_assert_eq!(sub.real.ended(), Some(End::Lagged));
            Ok(false)
        }
        None => {
            prop_assert!(got.is_none(), "nothing queued: pending, got {:?}", got);
            Ok(false)
        }
    }
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut limits = ResumeLimits::default();
    limits.max_frames = HISTORY;
    let mut config = HubConfig::default();
    config.capacity = CAPACITY;
    let hub = Hub::with_store(ResumeBuffer::new(limits), config);
    let mut published: Vec<u64> = Vec::new();
    let mut subs: Vec<Subscriber> = Vec::new();
    let mut lagged = 0;

    for op in ops {
        match op {
            Op::Publish => {
                let id = published.len() as u64 + 1;
                hub.publish(
                    Event::builder()
                        .id(id.to_string())
                        .data("x")
                        .build()
                        .unwrap(),
                );
                published.push(id);
                for sub in &mut subs {
                    let model = &mut sub.model;
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
                let history: Vec<u64> = published
                    .iter()
                    .rev()
                    .take(HISTORY)
                    .rev()
                    .copied()
                    .collect();
                let newest = published.last().copied();
                let last_event_id = k.map(|k| {
                    let k = k as usize;
                    if k < published.len() {
                        published[published.len() - 1 - k].to_string()
                    } else {
                        "0".to_owned() // never published
                    }
                });
                let (want_resume, first): (Resume, Vec<u64>) = match &last_event_id {
                    None => (Resume::New, newest.into_iter().collect()),
                    Some(id) => {
                        let id: u64 = id.parse().unwrap();
                        match history.iter().position(|&h| h == id) {
                            Some(at) if at + 1 == history.len() => (Resume::UpToDate, Vec::new()),
                            Some(at) => (
                                Resume::Replayed(history.len() - at - 1),
                                history[at + 1..].to_vec(),
                            ),
                            None => (Resume::Unknown, newest.into_iter().collect()),
                        }
                    }
                };
                let real = hub.subscribe_with(last_event_id.as_deref(), |newest| {
                    newest.cloned().into_iter().collect()
                });
                prop_assert_eq!(real.resume(), want_resume);
                subs.push(Subscriber {
                    real,
                    model: Model {
                        queue: first.iter().copied().collect(),
                        first: first.len(),
                        lagged: false,
                        expected: first,
                        received: Vec::new(),
                    },
                });
            }
            Op::Take { sub, n } => {
                if subs.is_empty() {
                    continue;
                }
                let at = sub as usize % subs.len();
                for _ in 0..n {
                    if !take_one(&mut subs[at])? {
                        break;
                    }
                }
            }
            Op::Disconnect { sub } => {
                if !subs.is_empty() {
                    let at = sub as usize % subs.len();
                    let gone = subs.swap_remove(at);
                    prop_assert!(gone.model.expected.starts_with(&gone.model.received));
                }
            }
        }
        prop_assert_eq!(hub.stats().subscribers, subs.len());
        prop_assert_eq!(hub.stats().lagged, lagged);
    }

    // The end: every subscriber drains what it has.
    for sub in &mut subs {
        while take_one(sub)? {}
        let model = &sub.model;
        if model.lagged {
            prop_assert!(model.expected.starts_with(&model.received));
            prop_assert!(model.received.len() < model.expected.len());
        } else {
            prop_assert_eq!(
                &model.received,
                &model.expected,
                "a kept subscriber gets every event"
            );
            prop_assert_eq!(sub.real.ended(), None);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn hub_matches_the_model(ops in proptest::collection::vec(op(), 0..120)) {
        run(ops)?;
    }
}

/// A subscriber that lagged resumes from the id of the last frame it got and, while the
/// history still holds it, ends up with every event exactly once.
#[test]
fn a_lagged_subscriber_resumes_without_loss() {
    let mut config = HubConfig::default();
    config.capacity = 2;
    let hub = Hub::new(config);
    let publish = |n: u64| {
        hub.publish(
            Event::builder()
                .id(n.to_string())
                .data("x")
                .build()
                .unwrap(),
        )
    };
    let mut slow = hub.subscribe(None);
    for n in 1..=5 {
        publish(n);
    }
    let mut got: Vec<u64> = Vec::new();
    while let Some(Some(frame)) = slow.next().now_or_never() {
        got.push(id_of(&frame));
    }
    assert_eq!(got, [1, 2]);
    assert_eq!(slow.ended(), Some(End::Lagged));
    drop(slow);
    let last = got.last().unwrap().to_string();
    let mut again = hub.subscribe(Some(&last));
    assert_eq!(again.resume(), Resume::Replayed(3));
    publish(6);
    while let Some(Some(frame)) = again.next().now_or_never() {
        got.push(id_of(&frame));
    }
    assert_eq!(got, [1, 2, 3, 4, 5, 6]);
    assert_eq!(hub.stats().lagged, 1);
    assert_eq!(hub.stats().resume_hits, 1);
}
