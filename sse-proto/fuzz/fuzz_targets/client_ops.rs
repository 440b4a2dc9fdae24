//! `client_ops`: the client follows the EventSource processing model whatever its caller does.
//!
//! The fuzz input is decoded, a byte at a time, into client settings (reconnection time,
//! backoff, attempt limit, healthy time, read timeout, retry policy, credentials refresh, a
//! `POST` with a body, a seeded last event ID) and up to 256 operations on a fake clock:
//! advancing time, sleeping to the client's deadline, `poll`, responses from a matrix of
//! statuses, content types and `Retry-After` values, body chunks built from SSE pieces,
//! disconnects, timeouts, `close()`, `restart()`, `reset()`, `set_header` and
//! `set_last_event_id`. `tests/common/client_ops.rs` runs them next to a model and checks
//! after each one that the transition is the one the model allows (every `poll` answer, the
//! request's method, body and headers, the signals in order, ready state, close reason,
//! attempt count, last event ID, reconnection time, the wait within its bounds, events equal
//! to `naive::parse` of the connection's body) and that no deadline is before the last `now`.
#![no_main]

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/client_ops.rs"]
mod client_ops;
#[path = "../../tests/common/naive.rs"]
mod naive;

use client_ops::{Op, Setup};

/// One byte of input (0 once it is used up).
fn byte(u: &mut Unstructured<'_>) -> u8 {
    u.arbitrary().unwrap_or(0)
}

fn setup(u: &mut Unstructured<'_>) -> Setup {
    let reconnection_ms = u64::from(byte(u)) * 100;
    let backoff = match byte(u) {
        b if b % 2 == 0 => None,
        b => Some((
            u32::from(b >> 1) % 5,
            u64::from(byte(u)) * 1000,
            u32::from(byte(u)) % 201,
        )),
    };
    let max_attempts = match byte(u) {
        b if b < 128 => None,
        b => Some(u32::from(b % 6)),
    };
    let healthy_ms = u64::from(byte(u)) * 500;
    let read_timeout_ms = match byte(u) {
        b if b % 2 == 0 => None,
        b => Some(u64::from(b >> 1) * 500),
    };
    let flags = byte(u);
    let retry_server_errors = flags & 1 == 1;
    let refresh_credentials = flags & 2 == 2;
    let post = flags & 4 == 4;
    let seed = match byte(u) {
        b if b < 128 => None,
        b => Some(usize::from(b)),
    };
    Setup {
        reconnection_ms,
        backoff,
        max_attempts,
        healthy_ms,
        read_timeout_ms,
        retry_server_errors,
        refresh_credentials,
        post,
        seed,
    }
}

fn op(u: &mut Unstructured<'_>) -> Op {
    match byte(u) % 13 {
        0 => {
            let ms = u64::from(byte(u)) | u64::from(byte(u)) << 8;
            Op::Advance(ms * 10)
        }
        1 => Op::SleepToDeadline,
        2 => Op::Poll(u32::from_le_bytes([byte(u), byte(u), byte(u), byte(u)])),
        3 => Op::Response {
            status: usize::from(byte(u)),
            content_type: usize::from(byte(u)),
            retry_after: usize::from(byte(u)),
        },
        4 => {
            let n = byte(u) % 8;
            Op::Feed((0..n).map(|_| usize::from(byte(u))).collect())
        }
        5 => Op::Disconnect,
        6 => Op::Timeout,
        7 if byte(u) % 8 == 0 => Op::Close,
        7 => Op::Timeout,
        8 => Op::SetLastEventId(usize::from(byte(u))),
        9 => Op::SetHeader(usize::from(byte(u))),
        10 if byte(u) % 4 == 0 => Op::Restart,
        10 => Op::Reset,
        11 => Op::Poll(0),
        _ => Op::Response {
            status: 0,
            content_type: 0,
            retry_after: 0,
        },
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let setup = setup(&mut u);
    let mut ops = Vec::new();
    while !u.is_empty() && ops.len() < 256 {
        ops.push(op(&mut u));
    }
    client_ops::run(&setup, &ops);
});
