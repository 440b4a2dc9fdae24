//! `hub_ops`: the broadcast hub of sse-proto-io never delivers a frame twice or out of
//! order, never skips one silently, and gives a kept subscriber every event.
//!
//! The fuzz input is decoded, a byte at a time, into up to 512 operations: publish,
//! subscribe (without a `Last-Event-ID`, with a known one, with an unknown one), a slow or
//! fast body taking frames, a disconnect. `sse-proto-io/tests/common/hub_ops.rs` runs them
//! on a real hub and on a model of its policy, and panics where they disagree.
#![no_main]

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

#[path = "../../../sse-proto-io/tests/common/hub_ops.rs"]
mod hub_ops;

use hub_ops::Op;

/// One byte of input (0 once it is used up).
fn byte(u: &mut Unstructured<'_>) -> u8 {
    u.arbitrary().unwrap_or(0)
}

fn op(u: &mut Unstructured<'_>) -> Op {
    match byte(u) % 8 {
        0..=2 => Op::Publish,
        3 => Op::Subscribe(None),
        4 => Op::Subscribe(Some(byte(u) % 8)),
        5 | 6 => Op::Take {
            sub: byte(u),
            n: byte(u) % 5 + 1,
        },
        _ => Op::Disconnect { sub: byte(u) },
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let mut ops = Vec::new();
    while !u.is_empty() && ops.len() < 512 {
        ops.push(op(&mut u));
    }
    hub_ops::run(&ops);
});
