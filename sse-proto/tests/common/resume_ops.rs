//! Drives a `ResumeBuffer` with a list of operations and checks every answer against the
//! history of what was pushed: the buffer must hold the longest run of the newest frames
//! within both limits, and a replay must be exactly the frames sent after the client's
//! last event ID (never one missing), `UpToDate` only at the newest frame, `Unknown`
//! otherwise.
//!
//! Shared by `tests/resume.rs` (proptest) and `fuzz/fuzz_targets/resume_ops.rs`.
#![allow(dead_code)] // each includer uses a part

use sse_proto::{Event, Frame, Message, Replay, ResumeBuffer, ResumeLimits};

/// Ids frames may carry: few, so that they repeat; one empty, one with spaces.
pub const IDS: [&str; 7] = ["1", "2", "3", "4", "", " s ", "ünï"];

/// One thing the server does.
#[derive(Clone, Debug)]
pub enum Op {
    /// Pushes an event with `data_len` bytes of data and, when `id` is `Some`, the id at that
    /// index of `IDS` (modulo its length).
    Push {
        id: Option<usize>,
        data_len: usize,
    },
    /// Pushes an id-only checkpoint.
    Checkpoint(usize),
    /// Pushes a keep-alive (no id).
    KeepAlive,
    /// Asks what to replay after `IDS[i]`.
    Replay(usize),
    Clear,
}

/// Runs `ops` against a buffer with these limits; panics at the first wrong answer.
pub fn run(max_frames: usize, max_bytes: usize, ops: &[Op]) {
    let mut limits = ResumeLimits::default();
    limits.max_frames = max_frames;
    limits.max_bytes = max_bytes;
    let mut buffer = ResumeBuffer::new(limits);
    // Every frame with an id pushed since the last clear (what clients may have seen), and
    // where the part the buffer may still hold starts (after the last oversized frame).
    let mut history: Vec<Frame> = Vec::new();
    let mut keepable_from = 0;
    for (i, op) in ops.iter().enumerate() {
        let frame = match op {
            Op::Push { id, data_len } => {
                let mut builder = Event::builder().data("x".repeat(*data_len));
                if let Some(id) = id {
                    builder = builder.id(IDS[id % IDS.len()]);
                }
                Some(Frame::from_event(&builder.build().expect("valid ids")))
            }
            Op::Checkpoint(id) => Some(Frame::from_message(
                &Message::id_only(IDS[id % IDS.len()]).expect("valid ids"),
            )),
            Op::KeepAlive => Some(Frame::keep_alive()),
            Op::Replay(_) | Op::Clear => None,
        };
        if let Some(frame) = frame {
            let kept = buffer.push(frame.clone());
            if frame.id().is_some() {
                history.push(frame.clone());
                if frame.len() > max_bytes {
                    keepable_from = history.len();
                }
            }
            let want = frame.id().is_some() && frame.len() <= max_bytes && max_frames > 0;
            assert_eq!(kept, want, "op {i}: push({frame:?})");
        }
        if let Op::Clear = op {
            buffer.clear();
            history.clear();
            keepable_from = 0;
        }
        // The longest suffix of the keepable history within both limits.
        let keepable = &history[keepable_from..];
        let mut start = keepable.len();
        let mut bytes = 0;
        while start > 0
            && keepable.len() - start < max_frames
            && bytes + keepable[start - 1].len() <= max_bytes
        {
            start -= 1;
            bytes += keepable[start].len();
        }
        let kept = &keepable[start..];
        assert_eq!(buffer.len(), kept.len(), "op {i}: frames kept");
        assert_eq!(buffer.total_bytes(), bytes, "op {i}: bytes kept");
        assert_eq!(buffer.is_empty(), kept.is_empty());
        assert!(buffer.len() <= max_frames && buffer.total_bytes() <= max_bytes);
        assert_eq!(
            buffer.newest_id(),
            kept.last().and_then(Frame::id),
            "op {i}: newest id"
        );

        if let Op::Replay(id) = op {
            let id = IDS[id % IDS.len()];
            let newest_with_id = kept.iter().rposition(|frame| frame.id() == Some(id));
            let seen_at = history.iter().rposition(|frame| frame.id() == Some(id));
            match (buffer.replay_after(id), newest_with_id) {
                (Replay::Unknown, None) => {}
                (Replay::Unknown, Some(_)) => assert!(id.is_empty(), "op {i}: {id:?} is kept"),
                (Replay::UpToDate, Some(at)) => {
                    assert!(!id.is_empty());
                    assert_eq!(at + 1, kept.len(), "op {i}: up to date at {id:?}");
                }
                (Replay::Frames(frames), Some(at)) => {
                    assert!(!id.is_empty());
                    let frames: Vec<&Frame> = frames.collect();
                    assert!(!frames.is_empty());
                    // Exactly what was sent after the client's id: nothing missing.
                    let sent_after: Vec<&Frame> =
                        history[seen_at.expect("seen") + 1..].iter().collect();
                    assert_eq!(frames, sent_after, "op {i}: replay after {id:?}");
                    assert_eq!(frames.len(), kept.len() - at - 1);
                }
                (replay, want) => {
                    panic!("op {i}: replay after {id:?} gave {replay:?}, kept at {want:?}")
                }
            }
        }
    }
}
