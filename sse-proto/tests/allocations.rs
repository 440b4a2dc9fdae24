//! Allocation counts of the parser, the encoder and frames, measured with a counting global
//! allocator (per thread, so tests running in parallel do not disturb each other). Counts are
//! deterministic, so unlike timings they can be asserted.
//!
//! - the parser, fed 4 KiB chunks, makes no allocation per event in steady state on the
//!   `tokens` and `large` corpora (its buffers are reused once the caller drops the events),
//!   and never more than one per event on any corpus;
//! - `encode` into a buffer with room allocates nothing, and neither does relaying lent
//!   events (`poll_ref`, then `EventRef::encode`) into a reused buffer;
//! - `Frame::from_event` / `Frame::from_event_ref` / `Frame::from_message` allocate exactly
//!   once, exactly `encoded_len` bytes;
//! - the keep-alive frame allocates nothing;
//! - sharing one frame with 10,000 subscribers costs at most one more (small) allocation:
//!   the `bytes` crate's shared header, made on the first clone.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

#[path = "../benches/corpus/mod.rs"]
mod corpus;

use sse_proto::{
    encode, encode_comment, encode_retry, encoded_len, Event, Frame, KeepAlivePing, Message,
    Parser, Step, StepRef,
};

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static LAST_SIZE: Cell<usize> = const { Cell::new(0) };
}

fn record(size: usize) {
    let _ = COUNTING.try_with(|counting| {
        if counting.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            let _ = LAST_SIZE.try_with(|s| s.set(size));
        }
    });
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns its result, the number of allocations it made and the size of the
/// last one.
fn count<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    ALLOCATIONS.with(|n| n.set(0));
    LAST_SIZE.with(|s| s.set(0));
    COUNTING.with(|c| c.set(true));
    let value = f();
    COUNTING.with(|c| c.set(false));
    (
        value,
        ALLOCATIONS.with(Cell::get),
        LAST_SIZE.with(Cell::get),
    )
}

fn sample_event() -> Event {
    Event::builder()
        .event("update".to_string())
        .id("12345".to_string())
        .data("first line\r\nsecond line\nthird\r".to_string())
        .build()
        .unwrap()
}

#[test]
fn from_event_allocates_once_exactly_encoded_len() {
    let event = sample_event();
    let len = encoded_len(&event);
    let (frame, allocations, size) = count(|| Frame::from_event(&event));
    assert_eq!(allocations, 1);
    assert_eq!(size, len);
    assert_eq!(frame.len(), len);
}

#[test]
fn from_message_allocates_once_exactly_encoded_len() {
    let messages = [
        Message::from(sample_event()),
        Message::id_only("42".to_string()).unwrap(),
        Message::retry(Duration::from_millis(1500)),
        Message::comment("a\nb".to_string()),
    ];
    for message in &messages {
        let len = message.encoded_len();
        let (frame, allocations, size) = count(|| Frame::from_message(message));
        assert_eq!((allocations, size), (1, len), "{message:?}");
        assert_eq!(frame.len(), len);
    }
}

#[test]
fn encode_into_a_buffer_with_room_allocates_nothing() {
    let event = sample_event();
    let mut buf = Vec::with_capacity(4096);
    let (_, allocations, _) = count(|| {
        for _ in 0..100 {
            buf.clear();
            encode(&event, &mut buf).unwrap();
            encode_retry(Duration::from_secs(3), &mut buf).unwrap();
            encode_comment("keep\nalive", &mut buf).unwrap();
        }
    });
    assert_eq!(allocations, 0);

    let mut storage = [0u8; 256];
    let (_, allocations, _) = count(|| {
        let mut slice = &mut storage[..];
        encode(&event, &mut slice).unwrap();
    });
    assert_eq!(allocations, 0);
}

/// A relay parses with `poll_ref` and writes each event downstream into a reused buffer:
/// in steady state, nothing on the way allocates.
#[test]
fn relaying_lent_events_into_a_reused_buffer_allocates_nothing() {
    for corpus in corpus::all_with_len(1 << 20) {
        let mut parser = Parser::new();
        let mut downstream = Vec::new();
        let relay = |parser: &mut Parser, downstream: &mut Vec<u8>| {
            let mut events = 0;
            for chunk in corpus.bytes.chunks(4096) {
                let mut input = chunk;
                loop {
                    match parser.poll_ref(&mut input).expect("within limits") {
                        StepRef::Event(event) => {
                            downstream.clear();
                            event.encode(downstream).expect("a Vec has room");
                            events += 1;
                        }
                        StepRef::NeedData => break,
                        _ => {}
                    }
                }
            }
            events
        };
        // The first pass grows the parser's buffers and the downstream buffer.
        relay(&mut parser, &mut downstream);
        let (events, allocations, _) = count(|| relay(&mut parser, &mut downstream));
        assert_eq!(events, corpus.events);
        assert_eq!(
            allocations, 0,
            "{}: allocations in the second pass",
            corpus.name
        );
    }
}

#[test]
fn from_event_ref_allocates_once_exactly_encoded_len() {
    // Already in the encoder's form, so the frame holds the same bytes.
    const SOURCE: &[u8] = b"event: update\nid: 12345\ndata: first line\ndata: second\n\n";
    let mut parser = Parser::new();
    let mut input = SOURCE;
    let StepRef::Event(event) = parser.poll_ref(&mut input).unwrap() else {
        panic!("expected an event");
    };
    let len = event.encoded_len();
    let (frame, allocations, size) = count(|| Frame::from_event_ref(&event));
    assert_eq!((allocations, size), (1, len));
    assert_eq!(frame.as_bytes(), SOURCE);
}

#[test]
fn keep_alive_allocates_nothing() {
    let (frames, allocations, _) = count(|| {
        let frame = KeepAlivePing::default().frame();
        let copies: [Frame; 4] = core::array::from_fn(|_| frame.clone());
        (frame, copies)
    });
    assert_eq!(allocations, 0);
    assert_eq!(frames.1[3].as_bytes(), &b": ping\n\n"[..]);
}

#[test]
fn ten_thousand_subscribers_cost_one_encode() {
    let event = sample_event();
    let mut subscribers: Vec<Vec<bytes::Bytes>> =
        (0..10_000).map(|_| Vec::with_capacity(1)).collect();
    let (frame, allocations, _) = count(|| {
        let frame = Frame::from_event(&event);
        for transport in &mut subscribers {
            transport.push(frame.as_bytes().clone());
        }
        frame
    });
    // The frame's buffer, plus the shared header `bytes` makes on the first clone.
    assert!(allocations <= 2, "{allocations} allocations");
    assert!(subscribers
        .iter()
        .all(|t| t[0].as_ptr() == frame.as_bytes().as_ptr()));
}

/// The parser entry point a test counts.
#[derive(Clone, Copy, Debug)]
enum Entry {
    /// `Parser::poll`: owned events.
    Owned,
    /// `Parser::poll_ref`: lent events.
    Lent,
}

/// Parses `bytes` in 4 KiB chunks, dropping each event at once as a streaming consumer does;
/// returns (events, data bytes, allocations) for `counted`, parsed after `warm_up` on the same
/// stream.
fn parse_counting(warm_up: &[u8], counted: &[u8], entry: Entry) -> (usize, usize, usize) {
    let mut parser = Parser::new();
    // (events, data bytes) in one chunk.
    let feed = |parser: &mut Parser, chunk: &[u8]| {
        let (mut events, mut data_bytes) = (0, 0);
        let mut input = chunk;
        loop {
            let data_len = match entry {
                Entry::Owned => match parser.poll(&mut input).expect("within limits") {
                    Step::Event(event) => Some(event.data().len()),
                    Step::NeedData => break,
                    _ => None,
                },
                Entry::Lent => match parser.poll_ref(&mut input).expect("within limits") {
                    StepRef::Event(event) => Some(event.data().len()),
                    StepRef::NeedData => break,
                    _ => None,
                },
            };
            if let Some(len) = data_len {
                events += 1;
                data_bytes += len;
            }
        }
        (events, data_bytes)
    };
    for chunk in warm_up.chunks(4096) {
        feed(&mut parser, chunk);
    }
    let ((events, data_bytes), allocations, _) = count(|| {
        counted
            .chunks(4096)
            .map(|chunk| feed(&mut parser, chunk))
            .fold((0, 0), |(e, d), (ce, cd)| (e + ce, d + cd))
    });
    (events, data_bytes, allocations)
}

#[test]
fn parser_allocates_nothing_per_event_in_steady_state_on_tokens_and_large() {
    for corpus in corpus::all_with_len(1 << 20) {
        if corpus.name != "tokens" && corpus.name != "large" {
            continue;
        }
        // Warm up past the first buffers (two 64 KiB events for `large`).
        let (head, tail) = corpus.bytes.split_at(160 * 1024);
        let (events, _, allocations) = parse_counting(head, tail, Entry::Owned);
        assert!(events > 0);
        assert_eq!(allocations, 0, "{}: allocations after warm-up", corpus.name);
    }
}

#[test]
fn lent_events_allocate_nothing_in_steady_state_on_every_corpus() {
    for corpus in corpus::all_with_len(1 << 20) {
        // Steady state: a second pass over the corpus, once every buffer has grown.
        let (events, data_bytes, allocations) =
            parse_counting(&corpus.bytes, &corpus.bytes, Entry::Lent);
        assert_eq!((events, data_bytes), (corpus.events, corpus.data_bytes));
        assert_eq!(
            allocations, 0,
            "{}: allocations in the second pass",
            corpus.name
        );
    }
}

#[test]
fn parser_allocates_at_most_one_per_event_on_every_corpus() {
    for corpus in corpus::all_with_len(1 << 20) {
        let (events, data_bytes, allocations) = parse_counting(&[], &corpus.bytes, Entry::Owned);
        assert_eq!((events, data_bytes), (corpus.events, corpus.data_bytes));
        assert!(
            allocations <= events,
            "{}: {allocations} allocations for {events} events",
            corpus.name
        );
    }
}

/// A caller that keeps its events (sends them to another task, collects them) never gives a
/// buffer back for reuse: each line assembled from several chunks then needs an allocation
/// of its own, sized from the last such line, not a series of doublings as the line grows
/// (six allocations per event on `large` before). Handing the line out as `Bytes` costs the
/// `bytes` crate one more, the shared header of a buffer cut in two: two per event at most,
/// after the first long line, which grows by doubling (nothing came before it to size it
/// from: five allocations for 64 KiB in 4 KiB chunks).
#[test]
fn parser_allocates_at_most_two_per_event_when_every_event_is_kept() {
    for corpus in corpus::all_with_len(1 << 20) {
        let mut parser = Parser::new();
        let mut kept = Vec::with_capacity(corpus.events);
        let (data_bytes, allocations, _) = count(|| {
            let mut data_bytes = 0;
            for chunk in corpus.bytes.chunks(4096) {
                let mut input = chunk;
                loop {
                    match parser.poll(&mut input).expect("within limits") {
                        Step::Event(event) => {
                            data_bytes += event.data().len();
                            kept.push(event);
                        }
                        Step::NeedData => break,
                        _ => {}
                    }
                }
            }
            data_bytes
        });
        assert_eq!((kept.len(), data_bytes), (corpus.events, corpus.data_bytes));
        assert!(
            allocations <= 2 * kept.len() + 5,
            "{}: {allocations} allocations for {} kept events",
            corpus.name,
            kept.len()
        );
    }
}
