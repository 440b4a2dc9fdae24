//! The resume buffer: eviction by count and by bytes; replay after a known, an unknown and an
//! evicted id; id-less frames; and arbitrary operations checked against the history
//! (tests/common/resume_ops.rs).

#[path = "common/resume_ops.rs"]
mod resume_ops;

use proptest::prelude::*;
use sse_proto::{Event, Frame, Message, Replay, ResumeBuffer, ResumeLimits};

fn event(id: &str, data: &str) -> Frame {
    Frame::from_event(
        &Event::builder()
            .id(id.to_owned())
            .data(data.to_owned())
            .build()
            .unwrap(),
    )
}

fn limits(max_frames: usize, max_bytes: usize) -> ResumeLimits {
    let mut limits = ResumeLimits::default();
    limits.max_frames = max_frames;
    limits.max_bytes = max_bytes;
    limits
}

/// The ids a replay gives, or a marker for the other answers.
fn replay(buffer: &ResumeBuffer, id: &str) -> Result<Vec<String>, &'static str> {
    match buffer.replay_after(id) {
        Replay::Frames(frames) => Ok(frames.map(|f| f.id().unwrap().to_owned()).collect()),
        Replay::UpToDate => Err("up to date"),
        Replay::Unknown => Err("unknown"),
    }
}

fn numbered(buffer: &mut ResumeBuffer, ids: std::ops::RangeInclusive<u32>) {
    for n in ids {
        assert!(buffer.push(event(&n.to_string(), "0123456789")));
    }
}

#[test]
fn default_limits() {
    let buffer = ResumeBuffer::default();
    assert_eq!(buffer.limits(), ResumeLimits::default());
    assert_eq!(buffer.limits().max_frames, 1024);
    assert_eq!(buffer.limits().max_bytes, 1024 * 1024);
}

#[test]
fn replay_after_a_known_id_gives_what_followed() {
    let mut buffer = ResumeBuffer::default();
    numbered(&mut buffer, 1..=5);
    assert_eq!(
        replay(&buffer, "2"),
        Ok(vec!["3".into(), "4".into(), "5".into()])
    );
    assert_eq!(replay(&buffer, "4"), Ok(vec!["5".into()]));
    assert_eq!(replay(&buffer, "5"), Err("up to date"));
}

#[test]
fn replayed_frames_are_the_pushed_bytes_shared() {
    let mut buffer = ResumeBuffer::default();
    let first = event("1", "a");
    let second = event("2", "b");
    buffer.push(first);
    buffer.push(second.clone());
    match buffer.replay_after("1") {
        Replay::Frames(mut frames) => {
            let frame = frames.next().unwrap();
            assert_eq!(frame, &second);
            assert_eq!(frame.as_bytes().as_ptr(), second.as_bytes().as_ptr());
            assert!(frames.next().is_none());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_id_asks_for_a_full_state() {
    let mut buffer = ResumeBuffer::default();
    assert_eq!(replay(&buffer, "1"), Err("unknown")); // empty buffer: a restarted server
    numbered(&mut buffer, 1..=3);
    assert_eq!(replay(&buffer, "42"), Err("unknown"));
    assert_eq!(replay(&buffer, " 1"), Err("unknown")); // compared exactly
    assert_eq!(replay(&buffer, ""), Err("unknown")); // no last event ID at all
}

#[test]
fn eviction_by_count_keeps_the_newest() {
    let mut buffer = ResumeBuffer::new(limits(3, usize::MAX));
    numbered(&mut buffer, 1..=5);
    assert_eq!(buffer.len(), 3);
    assert_eq!(replay(&buffer, "1"), Err("unknown"));
    assert_eq!(replay(&buffer, "2"), Err("unknown")); // evicted: "3" is kept but not "2"
    assert_eq!(replay(&buffer, "3"), Ok(vec!["4".into(), "5".into()]));
}

#[test]
fn eviction_by_bytes_keeps_the_newest() {
    let frame_len = event("1", "0123456789").len(); // "id: 1\ndata: 0123456789\n\n"
    assert_eq!(frame_len, 24);
    let mut buffer = ResumeBuffer::new(limits(100, 3 * frame_len + 5));
    numbered(&mut buffer, 1..=6);
    assert_eq!(buffer.len(), 3);
    assert_eq!(buffer.total_bytes(), 3 * frame_len);
    assert_eq!(replay(&buffer, "3"), Err("unknown"));
    assert_eq!(replay(&buffer, "4"), Ok(vec!["5".into(), "6".into()]));
    // One large frame pushes out several small ones.
    assert!(buffer.push(event("big", &"x".repeat(2 * frame_len))));
    assert_eq!(buffer.len(), 1);
    assert_eq!(buffer.newest_id(), Some("big"));
}

#[test]
fn frame_over_the_byte_limit_clears_the_buffer() {
    let mut buffer = ResumeBuffer::new(limits(100, 100));
    numbered(&mut buffer, 1..=3);
    assert!(!buffer.push(event("4", &"x".repeat(200))));
    assert!(buffer.is_empty());
    assert_eq!(buffer.total_bytes(), 0);
    // A client at "2" would miss "4" if it were sent "3" alone: it needs a full state.
    assert_eq!(replay(&buffer, "2"), Err("unknown"));
    assert_eq!(replay(&buffer, "4"), Err("unknown"));
    numbered(&mut buffer, 5..=6);
    assert_eq!(replay(&buffer, "5"), Ok(vec!["6".into()]));
}

#[test]
fn frames_without_an_id_are_not_kept() {
    let mut buffer = ResumeBuffer::default();
    buffer.push(event("1", "a"));
    assert!(!buffer.push(Frame::from_event(&Event::new("no id"))));
    assert!(!buffer.push(Frame::keep_alive()));
    assert!(!buffer.push(Frame::from_message(&Message::retry(
        std::time::Duration::from_secs(1)
    ))));
    assert!(!buffer.push(Frame::from_message(&Message::comment("hi"))));
    assert_eq!(buffer.len(), 1);
    assert_eq!(replay(&buffer, "1"), Err("up to date"));
}

#[test]
fn checkpoints_and_empty_ids_are_kept() {
    let mut buffer = ResumeBuffer::default();
    buffer.push(event("1", "a"));
    assert!(buffer.push(Frame::from_message(&Message::id_only("2").unwrap())));
    assert!(buffer.push(event("", "reset")));
    assert!(buffer.push(event("3", "b")));
    // A client at "1" gets the checkpoint, the reset and what followed.
    match buffer.replay_after("1") {
        Replay::Frames(frames) => {
            let ids: Vec<_> = frames.map(Frame::id).collect();
            assert_eq!(ids, [Some("2"), Some(""), Some("3")]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn repeated_id_resumes_after_its_newest_frame() {
    let mut buffer = ResumeBuffer::default();
    for id in ["a", "b", "a", "c"] {
        buffer.push(event(id, id));
    }
    assert_eq!(replay(&buffer, "a"), Ok(vec!["c".into()]));
}

#[test]
fn zero_limits_keep_nothing() {
    for (frames, bytes) in [(0, usize::MAX), (usize::MAX, 0)] {
        let mut buffer = ResumeBuffer::new(limits(frames, bytes));
        assert!(!buffer.push(event("1", "a")));
        assert!(buffer.is_empty());
        assert_eq!(replay(&buffer, "1"), Err("unknown"));
    }
}

#[test]
fn clear_forgets_everything() {
    let mut buffer = ResumeBuffer::default();
    numbered(&mut buffer, 1..=3);
    buffer.clear();
    assert!(buffer.is_empty());
    assert_eq!(buffer.total_bytes(), 0);
    assert_eq!(buffer.newest_id(), None);
    assert_eq!(replay(&buffer, "2"), Err("unknown"));
}

#[test]
fn replay_iterator_is_exact_size_and_double_ended() {
    let mut buffer = ResumeBuffer::default();
    numbered(&mut buffer, 1..=4);
    let Replay::Frames(frames) = buffer.replay_after("1") else {
        panic!()
    };
    assert_eq!(frames.len(), 3);
    let reversed: Vec<_> = frames.rev().map(|f| f.id().unwrap()).collect();
    assert_eq!(reversed, ["4", "3", "2"]);
}

fn op() -> impl Strategy<Value = resume_ops::Op> {
    use resume_ops::Op;
    prop_oneof![
        6 => (proptest::option::weighted(0.9, 0..resume_ops::IDS.len()), prop_oneof![0..20usize, 0..200usize])
            .prop_map(|(id, data_len)| Op::Push { id, data_len }),
        1 => (0..resume_ops::IDS.len()).prop_map(Op::Checkpoint),
        1 => Just(Op::KeepAlive),
        4 => (0..resume_ops::IDS.len()).prop_map(Op::Replay),
        1 => Just(Op::Clear),
    ]
}

proptest! {
    /// Whatever is pushed, the buffer keeps the newest frames within both limits and never
    /// replays with a frame missing.
    #[test]
    fn arbitrary_operations_never_lose_a_frame(
        max_frames in prop_oneof![Just(0usize), 1..10usize, Just(1024)],
        max_bytes in prop_oneof![Just(0usize), 0..400usize, Just(1 << 20)],
        ops in proptest::collection::vec(op(), 0..100),
    ) {
        resume_ops::run(max_frames, max_bytes, &ops);
    }
}
