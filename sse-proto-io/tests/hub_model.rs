//! The hub against a small model (`common/hub_ops.rs`): arbitrary interleavings of publish,
//! subscribe (with and without a `Last-Event-ID`, known or not), slow consumers and
//! disconnects. The fuzz target `hub_ops` in `sse-proto/fuzz` runs the same model.
#![cfg(feature = "server")]

use futures_util::{FutureExt, StreamExt};
use proptest::prelude::*;
use sse_proto::{Event, Frame};
use sse_proto_io::server::{End, Hub, HubConfig, Resume};

mod common;
use common::hub_ops::{self, Op};

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Publish),
        2 => proptest::option::of(0u8..8).prop_map(Op::Subscribe),
        4 => (any::<u8>(), 1u8..5).prop_map(|(sub, n)| Op::Take { sub, n }),
        1 => any::<u8>().prop_map(|sub| Op::Disconnect { sub }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn hub_matches_the_model(ops in proptest::collection::vec(op(), 0..120)) {
        hub_ops::run(&ops);
    }
}

fn id_of(frame: &Frame) -> u64 {
    frame.id().unwrap().parse().unwrap()
}

/// A subscriber that lagged resumes from the id of the last frame it got and, while the
/// history still holds it, ends up with every event exactly once.
#[test]
fn a_lagged_subscriber_resumes_without_loss() {
    let mut config = HubConfig::default();
    config.capacity = 2;
    let hub = Hub::new(config);
    let publish = |n: u64| {
        let event = Event::builder().id(n.to_string()).data("x").build();
        hub.publish(event.unwrap())
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
