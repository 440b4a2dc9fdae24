//! `resume_ops`: the resume buffer never replays with a frame missing.
//!
//! The fuzz input is decoded, a byte at a time, into limits (frames and bytes, zero
//! included) and up to 256 operations: pushing events with or without ids (ids repeat;
//! one is empty), id-only checkpoints and keep-alives, asking for a replay, clearing.
//! `tests/common/resume_ops.rs` checks after each one that the buffer holds the longest run
//! of newest frames within both limits, and that every replay is exactly the frames pushed
//! after the client's id, `UpToDate` only at the newest, `Unknown` otherwise.
#![no_main]

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/resume_ops.rs"]
mod resume_ops;

use resume_ops::Op;

/// One byte of input (0 once it is used up).
fn byte(u: &mut Unstructured<'_>) -> u8 {
    u.arbitrary().unwrap_or(0)
}

fn op(u: &mut Unstructured<'_>) -> Op {
    match byte(u) % 6 {
        0 | 1 => {
            let id = match byte(u) {
                b if b % 10 == 0 => None,
                b => Some(usize::from(b)),
            };
            Op::Push {
                id,
                data_len: usize::from(byte(u)),
            }
        }
        2 => Op::Checkpoint(usize::from(byte(u))),
        3 => Op::KeepAlive,
        5 if byte(u) % 4 == 0 => Op::Clear,
        _ => Op::Replay(usize::from(byte(u))),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let max_frames = match byte(&mut u) {
        b if b >= 250 => 1024,
        b => usize::from(b % 12),
    };
    let max_bytes = match u16::from_le_bytes([byte(&mut u), byte(&mut u)]) {
        b if b >= 65_000 => 1 << 20,
        b => usize::from(b % 600),
    };
    let mut ops = Vec::new();
    while !u.is_empty() && ops.len() < 256 {
        ops.push(op(&mut u));
    }
    resume_ops::run(max_frames, max_bytes, &ops);
});
