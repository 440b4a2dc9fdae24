//! Encode → parse round trips: whatever the encoder writes, the parser (and the reference
//! model in `common/naive.rs`) reads back as the events, ids, retries and comments that were
//! sent, with CR and CRLF inside data read as LF (the protocol's normalisation) and with the
//! receiver's id semantics (a parsed event reports the last event ID in force).
//!
//! Also: `encoded_len` is exact, a too-small buffer gets `BufferTooSmall` and is left
//! untouched, frames hold the same bytes as `encode`, and invalid values are refused with the
//! typed error instead of being injected or stripped.

mod common;
#[path = "common/sent.rs"]
mod sent;

use std::time::Duration;

use common::naive;
use naive::Out;
use proptest::prelude::*;
use sent::{expected, normalise, Sent};
use sse_proto::{
    encode, encode_comment, encode_id_only, encode_retry, encoded_len, EncodeError, Event, Field,
    Frame, KeepAlivePing, Message, Parser, ParserConfig, Step, StepRef,
};

// ---------------------------------------------------------------------------------------------
// What the receiver should see: a tiny model of the encoder's contract.

impl Sent {
    fn event(&self) -> Event {
        self.build_event().expect("generated values are valid")
    }

    fn message(&self) -> Message {
        match self {
            Sent::Event { .. } => Message::from(self.event()),
            Sent::IdOnly(id) => Message::id_only(id.clone()).expect("generated ids are valid"),
            Sent::Retry(delay) => Message::retry(*delay),
            Sent::Comment(text) => Message::comment(text.clone()),
        }
    }

    /// Encodes through the free functions (the other path goes through `Message::encode`).
    fn encode_free(&self, dst: &mut Vec<u8>) -> usize {
        match self {
            Sent::Event { .. } => encode(&self.event(), dst),
            Sent::IdOnly(id) => encode_id_only(id, dst),
            Sent::Retry(delay) => encode_retry(*delay, dst),
            Sent::Comment(text) => encode_comment(text, dst),
        }
        .expect("a Vec always has room")
    }
}

/// Runs the real parser (comments on) over `chunks`; returns the outputs and the final last
/// event ID.
fn parse_chunks(chunks: &[&[u8]]) -> (Vec<Out>, String) {
    let mut config = ParserConfig::default();
    config.emit_comments = true;
    let mut parser = Parser::with_config(config);
    let mut out = Vec::new();
    for chunk in chunks {
        for step in parser.feed(chunk) {
            let step = step.expect("no limit is reached");
            out.extend(naive::observe(&step));
        }
    }
    parser.finish();
    (out, parser.last_event_id().to_string())
}

fn parse_all(bytes: &[u8]) -> (Vec<Out>, String) {
    parse_chunks(&[bytes])
}

/// Splits `bytes` at the given cut points (taken modulo the length, sorted).
fn chunked<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts {
        chunks.push(&bytes[start..cut]);
        start = cut;
    }
    chunks.push(&bytes[start..]);
    chunks
}

fn encode_to_vec(event: &Event) -> Vec<u8> {
    let mut buf = Vec::new();
    encode(event, &mut buf).expect("a Vec always has room");
    buf
}

fn data_of(out: &Out) -> &str {
    match out {
        Out::Event { data, .. } => data,
        other => panic!("expected an event, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Generators.

/// Pieces that stress the encoder: every kind of line break, spaces (leading and trailing),
/// colons, a BOM, field names, and arbitrary Unicode (any `char`, controls included).
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<char>().prop_map(String::from),
        2 => "[a-z]{1,6}",
        1 => Just("\r\n".to_string()),
        1 => Just("\r".to_string()),
        1 => Just("\n".to_string()),
        1 => Just(" ".to_string()),
        1 => Just(":".to_string()),
        1 => Just("\u{FEFF}".to_string()),
        1 => Just("data: x".to_string()),
        1 => Just("\u{2028}\u{85}\t".to_string()),
        1 => "[a-z\r\n]{200,700}",
    ]
}

/// Arbitrary data: anything at all, including the empty string.
fn data() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..10).prop_map(|pieces| pieces.concat())
}

/// A valid event type: anything without CR or LF (NUL is allowed there), possibly empty.
fn event_type() -> impl Strategy<Value = String> {
    data().prop_map(|s| s.replace(['\r', '\n'], ""))
}

/// A valid id: anything without CR, LF or NUL, possibly empty or starting with spaces.
fn id() -> impl Strategy<Value = String> {
    data().prop_map(|s| s.replace(['\r', '\n', '\0'], ""))
}

fn delay() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (0u64..100_000, 0u32..1_000_000_000)
            .prop_map(|(ms, ns)| Duration::from_millis(ms) + Duration::from_nanos(u64::from(ns))),
        any::<u64>().prop_map(Duration::from_millis),
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, ns)| Duration::new(s, ns)),
        Just(Duration::MAX),
    ]
}

fn sent_event() -> impl Strategy<Value = Sent> {
    (
        prop::option::of(event_type()),
        data(),
        prop::option::of(id()),
        prop::option::weighted(0.25, delay()),
    )
        .prop_map(|(event_type, data, id, retry)| Sent::Event {
            event_type,
            data,
            id,
            retry,
        })
}

fn sent_message() -> impl Strategy<Value = Sent> {
    prop_oneof![
        4 => sent_event(),
        1 => id().prop_map(Sent::IdOnly),
        1 => delay().prop_map(Sent::Retry),
        1 => data().prop_map(Sent::Comment),
    ]
}

// ---------------------------------------------------------------------------------------------
// Properties. Case counts are proptest's defaults, so PROPTEST_CASES controls them.

proptest! {
    /// One event, encoded, comes back as itself (data normalised, id as sent), after its
    /// retry when it has one.
    #[test]
    fn event_round_trips(sent in sent_event()) {
        let event = sent.event();
        let bytes = encode_to_vec(&event);
        let want = expected(std::slice::from_ref(&sent));
        prop_assert_eq!(&parse_all(&bytes), &want);
        prop_assert_eq!(&naive::parse(&bytes, true), &want);
        // Re-encoding what was parsed gives what a receiver saw the first time.
        let mut parser = Parser::new();
        let mut input = &bytes[..];
        if let Some(delay) = event.retry() {
            let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            prop_assert_eq!(
                parser.poll(&mut input),
                Ok(Step::Retry(Duration::from_millis(millis)))
            );
        }
        match parser.poll(&mut input) {
            Ok(Step::Event(parsed)) => {
                prop_assert_eq!(parsed.data(), normalise(event.data()));
                prop_assert_eq!(parsed.event_type(), event.event_type());
                prop_assert_eq!(parsed.id(), event.id());
                prop_assert_eq!(parsed.retry(), None);
                prop_assert_eq!(encoded_len(&parsed), encode_to_vec(&parsed).len());
            }
            other => prop_assert!(false, "expected an event, got {:?}", other),
        }
    }

    /// Any sequence of events, id-only blocks, retries and comments, encoded back to back
    /// (alternately through `Message::encode` and the free functions) and split anywhere,
    /// gives the expected events, ids, retries and comments and the expected last event ID.
    #[test]
    fn message_sequences_round_trip(
        sent in prop::collection::vec(sent_message(), 0..12),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut bytes = Vec::new();
        for (n, message) in sent.iter().enumerate() {
            let written = if n % 2 == 0 {
                message.message().encode(&mut bytes).expect("a Vec always has room")
            } else {
                message.encode_free(&mut bytes)
            };
            prop_assert_eq!(written, message.message().encoded_len());
        }
        let want = expected(&sent);
        prop_assert_eq!(&parse_all(&bytes), &want);
        prop_assert_eq!(&parse_chunks(&chunked(&bytes, &cuts)), &want);
        prop_assert_eq!(&naive::parse(&bytes, true), &want);

        // Frames hold the same bytes, and the id each message carries.
        let mut framed = Vec::new();
        for message in &sent {
            let message = message.message();
            let frame = Frame::from_message(&message);
            prop_assert_eq!(frame.id(), message.id());
            prop_assert_eq!(frame.len(), message.encoded_len());
            framed.extend_from_slice(frame.as_bytes());
        }
        prop_assert_eq!(framed, bytes);
    }

    /// `encoded_len` is exactly what `encode` writes, with identical bytes, whatever the
    /// destination: a growable `Vec` (no length scan), a slice of exactly that size (exact
    /// length, direct copies), a `BytesMut` that must grow and room split in two (piece by
    /// piece), a frame; one byte less gives `BufferTooSmall` and leaves the buffer untouched.
    #[test]
    fn encoded_len_is_exact(sent in sent_event(), short_by in 1usize..64, split_at: usize) {
        let event = sent.event();
        let len = encoded_len(&event);
        let growable = encode_to_vec(&event);
        prop_assert_eq!(growable.len(), len);

        let mut exact = vec![0u8; len];
        let mut slice = &mut exact[..];
        prop_assert_eq!(encode(&event, &mut slice), Ok(len));
        prop_assert!(slice.is_empty());
        prop_assert_eq!(&exact, &growable);

        // Piece by piece: a buffer that must grow, and room split in two (not contiguous).
        let mut grown = bytes::BytesMut::new();
        prop_assert_eq!(encode(&event, &mut grown), Ok(len));
        prop_assert_eq!(&grown[..], &growable[..]);
        let mut split = vec![0u8; len];
        let (front, back) = split.split_at_mut(split_at % (len + 1));
        let mut chained = bytes::BufMut::chain_mut(front, back);
        prop_assert_eq!(encode(&event, &mut chained), Ok(len));
        prop_assert_eq!(&split, &growable);

        let frame = Frame::from_event(&event);
        prop_assert_eq!(&frame.as_bytes()[..], &growable[..]);
        prop_assert_eq!(frame.id(), event.id());

        let available = len.saturating_sub(short_by);
        let mut small = vec![0xAAu8; available];
        let mut slice = &mut small[..];
        prop_assert_eq!(
            encode(&event, &mut slice),
            Err(EncodeError::BufferTooSmall { required: len, available })
        );
        prop_assert!(small.iter().all(|&b| b == 0xAA), "a refused encode wrote bytes");
    }

    /// The same for retries, comments and id-only blocks.
    #[test]
    fn message_len_is_exact(sent in sent_message(), short_by in 1usize..16) {
        let message = sent.message();
        let len = message.encoded_len();
        let mut exact = vec![0u8; len];
        let mut slice = &mut exact[..];
        prop_assert_eq!(message.encode(&mut slice), Ok(len));
        prop_assert!(slice.is_empty());

        let available = len.saturating_sub(short_by);
        let mut small = vec![0xAAu8; available];
        let mut slice = &mut small[..];
        prop_assert_eq!(
            message.encode(&mut slice),
            Err(EncodeError::BufferTooSmall { required: len, available })
        );
        prop_assert!(small.iter().all(|&b| b == 0xAA), "a refused encode wrote bytes");
    }

    /// A line break in the event type or id, or a NUL in the id, is refused with the typed
    /// error naming the field, whatever surrounds it; never a panic, never stripped.
    #[test]
    fn invalid_fields_are_refused(
        before in data(),
        after in data(),
        brk in prop_oneof![Just("\r"), Just("\n"), Just("\r\n")],
        field in 0u8..3,
    ) {
        let bad = format!("{before}{brk}{after}");
        match field {
            0 => prop_assert_eq!(
                Event::builder().event(bad).data("x").build(),
                Err(EncodeError::LineBreak { field: Field::Event })
            ),
            1 => {
                prop_assert_eq!(
                    Event::builder().id(bad.clone()).data("x").build(),
                    Err(EncodeError::LineBreak { field: Field::Id })
                );
                prop_assert_eq!(
                    Message::id_only(bad.clone()),
                    Err(EncodeError::LineBreak { field: Field::Id })
                );
                let mut buf = Vec::new();
                prop_assert_eq!(
                    encode_id_only(&bad, &mut buf),
                    Err(EncodeError::LineBreak { field: Field::Id })
                );
                prop_assert!(buf.is_empty());
            }
            _ => {
                let with_nul = format!("{}\0{}", before.replace(['\r', '\n'], ""),
                    after.replace(['\r', '\n'], ""));
                prop_assert_eq!(
                    Event::builder().id(with_nul.clone()).build(),
                    Err(EncodeError::NulInId)
                );
                prop_assert_eq!(Message::id_only(with_nul), Err(EncodeError::NulInId));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions, one each.

#[test]
fn crlf_in_data_is_read_as_lf() {
    let bytes = encode_to_vec(&Event::new("a\r\nb"));
    assert_eq!(bytes, b"data: a\ndata: b\n\n");
    let (out, _) = parse_all(&bytes);
    assert_eq!(out.len(), 1);
    assert_eq!(data_of(&out[0]), "a\nb");
}

#[test]
fn empty_data_reaches_the_client_as_an_empty_message() {
    let bytes = encode_to_vec(&Event::new(""));
    assert_eq!(bytes, b"data: \n\n");
    let (out, _) = parse_all(&bytes);
    assert_eq!(
        out,
        [Out::Event {
            event_type: "message".to_string(),
            data: String::new(),
            id: None,
        }]
    );
}

#[test]
fn injection_through_event_type_or_id_is_refused() {
    let event = Event::builder().event("x\ndata: evil").data("a").build();
    assert_eq!(
        event,
        Err(EncodeError::LineBreak {
            field: Field::Event
        })
    );
    let event = Event::builder().id("1\n2").data("a").build();
    assert_eq!(event, Err(EncodeError::LineBreak { field: Field::Id }));
    assert_eq!(
        EncodeError::LineBreak { field: Field::Id }.to_string(),
        "id contains a line break (CR or LF), which would end the field early"
    );
}

#[test]
fn lone_cr_trailing_newline_and_leading_space_round_trip() {
    for (data, wire, received) in [
        ("a\rb", &b"data: a\ndata: b\n\n"[..], "a\nb"),
        ("a\n", b"data: a\ndata: \n\n", "a\n"),
        (" lead", b"data:  lead\n\n", " lead"),
    ] {
        let bytes = encode_to_vec(&Event::new(data));
        assert_eq!(bytes, wire, "data {data:?}");
        let (out, _) = parse_all(&bytes);
        assert_eq!(out.len(), 1, "data {data:?}");
        assert_eq!(data_of(&out[0]), received, "data {data:?}");
    }
}

#[test]
fn retry_is_written_in_milliseconds() {
    let mut buf = Vec::new();
    encode_retry(Duration::from_millis(1500), &mut buf).unwrap();
    assert_eq!(buf, b"retry: 1500\n\n");
    let mut parser = Parser::new();
    let mut input = &buf[..];
    assert_eq!(
        parser.poll(&mut input),
        Ok(Step::Retry(Duration::from_millis(1500)))
    );
}

#[test]
fn retry_inside_an_event_block_is_written_before_the_data_by_every_encoder() {
    let event = Event::builder()
        .event("delta")
        .id("7")
        .data("{\"n\":1}\r\nsecond")
        .retry(Duration::from_micros(2_500_999))
        .build()
        .unwrap();
    let wire: &[u8] = b"event: delta\nid: 7\nretry: 2500\ndata: {\"n\":1}\ndata: second\n\n";
    assert_eq!(encoded_len(&event), wire.len());
    assert_eq!(encode_to_vec(&event), wire);

    // An exact-size slice takes the direct path; its length must be exact to fit at all.
    let mut exact = vec![0u8; wire.len()];
    let mut slice = &mut exact[..];
    assert_eq!(encode(&event, &mut slice), Ok(wire.len()));
    assert_eq!(exact, wire);

    let message = Message::event(event.clone());
    assert_eq!(message.encoded_len(), wire.len());
    let mut via_message = Vec::new();
    assert_eq!(message.encode(&mut via_message), Ok(wire.len()));
    assert_eq!(via_message, wire);

    let frame = Frame::from_event(&event);
    assert_eq!(&frame.as_bytes()[..], wire);
    assert_eq!(
        frame.id(),
        Some("7"),
        "the retry line moved the id's offset"
    );
    assert_eq!(Frame::from_message(&message), frame);

    for available in 0..wire.len() {
        let mut small = vec![0xAAu8; available];
        let mut slice = &mut small[..];
        assert_eq!(
            encode(&event, &mut slice),
            Err(EncodeError::BufferTooSmall {
                required: wire.len(),
                available
            })
        );
        let mut slice = &mut small[..];
        assert_eq!(
            message.encode(&mut slice),
            Err(EncodeError::BufferTooSmall {
                required: wire.len(),
                available
            })
        );
        assert!(
            small.iter().all(|&b| b == 0xAA),
            "a refused encode wrote bytes into {available}"
        );
    }
}

#[test]
fn retry_inside_an_event_block_is_reported_before_the_event_under_every_chunking() {
    let mut wire = encode_to_vec(
        &Event::builder()
            .id("1")
            .data("x")
            .retry(Duration::from_millis(1500))
            .build()
            .unwrap(),
    );
    encode(&Event::new("y"), &mut wire).unwrap();
    assert_eq!(wire, b"id: 1\nretry: 1500\ndata: x\n\ndata: y\n\n");
    let last_event_id = common::assert_all_chunkings(
        &wire,
        &[
            Out::Retry(1500),
            common::msg("x", Some("1")),
            common::msg("y", Some("1")),
        ],
    );
    assert_eq!(last_event_id, "1");
}

#[test]
fn parsed_and_lent_events_carry_no_retry() {
    let mut parser = Parser::new();
    let mut input: &[u8] = b"retry: 10\ndata: a\n\nretry: 20\ndata: b\n\n";
    assert_eq!(
        parser.poll(&mut input),
        Ok(Step::Retry(Duration::from_millis(10)))
    );
    let Ok(Step::Event(owned)) = parser.poll(&mut input) else {
        panic!("expected an event");
    };
    assert_eq!(owned.retry(), None);
    assert_eq!(
        parser.poll_ref(&mut input),
        Ok(StepRef::Retry(Duration::from_millis(20)))
    );
    let Ok(StepRef::Event(lent)) = parser.poll_ref(&mut input) else {
        panic!("expected an event");
    };
    assert_eq!(lent.to_event().retry(), None);
    // A lent event equals its copy, not the same event sent with a retry.
    let with_retry = Event::builder()
        .data("b")
        .retry(Duration::from_millis(20))
        .build()
        .unwrap();
    assert_eq!(lent, lent.to_event());
    assert_ne!(lent, with_retry);
    assert_ne!(with_retry, lent);
}

#[test]
fn newline_in_event_id_or_comment_never_panics() {
    for bad in ["\n", "\r", "\r\n", "a\nb", "\n\n\n", "x\rdata: y"] {
        assert!(Event::builder().event(bad.to_string()).build().is_err());
        assert!(Event::builder().id(bad.to_string()).build().is_err());
        assert!(Message::id_only(bad.to_string()).is_err());
        assert!(KeepAlivePing::event(bad.to_string()).is_err());
        assert!(Frame::ping_event(bad.to_string()).is_err());
        let mut buf = Vec::new();
        assert!(encode_id_only(bad, &mut buf).is_err());
        // A comment is split into comment lines instead: nothing in it becomes a field.
        encode_comment(bad, &mut buf).unwrap();
        assert!(buf
            .split(|&b| b == b'\n')
            .all(|line| line.is_empty() || line[0] == b':'));
        let (out, id) = parse_all(&buf);
        assert!(out.iter().all(|o| matches!(o, Out::Comment(_))));
        assert_eq!(id, "");
    }
}

#[test]
fn id_only_checkpoint_sets_the_last_event_id_without_an_event() {
    let mut buf = Vec::new();
    encode(
        &Event::builder().id("1").data("a").build().unwrap(),
        &mut buf,
    )
    .unwrap();
    encode_id_only("2", &mut buf).unwrap();
    let (out, id) = parse_all(&buf);
    assert_eq!(out.len(), 1);
    assert_eq!(id, "2");
    // An empty id resets it.
    encode_id_only("", &mut buf).unwrap();
    assert_eq!(parse_all(&buf).1, "");
}

#[test]
fn keep_alive_frames() {
    let ping = Frame::keep_alive();
    assert_eq!(ping.as_bytes(), &b": ping\n\n"[..]);
    // Static: the bytes point into the binary, not at a heap copy, clone after clone.
    assert_eq!(
        ping.clone().into_bytes().as_ptr(),
        Frame::keep_alive().as_bytes().as_ptr()
    );
    assert_eq!(parse_all(ping.as_bytes()).0, [Out::Comment("ping".into())]);
    assert_eq!(parse_chunks(&[ping.as_bytes()]).1, "");

    let visible = KeepAlivePing::event("ping").unwrap().frame();
    assert_eq!(
        parse_all(visible.as_bytes()).0,
        [Out::Event {
            event_type: "ping".into(),
            data: String::new(),
            id: None,
        }]
    );
}

#[test]
fn one_frame_many_subscribers_share_one_buffer() {
    let event = Event::builder()
        .event("tick")
        .id("9")
        .data("x")
        .build()
        .unwrap();
    let frame = Frame::from_event(&event);
    let subscribers: Vec<Vec<bytes::Bytes>> = (0..10_000)
        .map(|_| vec![frame.as_bytes().clone()])
        .collect();
    let first = frame.as_bytes().as_ptr();
    assert!(subscribers.iter().all(|s| s[0].as_ptr() == first));
    assert_eq!(frame.id(), Some("9"));
}

#[cfg(feature = "json")]
#[test]
fn json_payloads_are_one_data_line_and_round_trip() {
    let value = serde_json::json!({
        "text": "two\nlines\r\nand a CR\r",
        "nested": {"list": [1, 2, 3], "empty": ""},
        "unicode": "\u{2028}é\u{0}",
    });
    let event = Event::builder()
        .event("update")
        .json_data(&value)
        .unwrap()
        .build()
        .unwrap();
    let bytes = encode_to_vec(&event);
    assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 3); // event, data, end
    let (out, _) = parse_all(&bytes);
    let back: serde_json::Value = serde_json::from_str(data_of(&out[0])).unwrap();
    assert_eq!(back, value);
    assert_eq!(Event::json(&value).unwrap().data(), event.data());
}

#[test]
fn a_lent_event_encodes_as_its_copy_and_a_full_buffer_is_left_untouched() {
    let mut parser = Parser::new();
    let mut input: &[u8] = b"event: delta\r\nid: 4\r\ndata: a\r\ndata:b\r\n\r\n";
    let StepRef::Event(event) = parser.poll_ref(&mut input).unwrap() else {
        panic!("expected an event");
    };
    let expected = b"event: delta\nid: 4\ndata: a\ndata: b\n\n";
    let mut buf = Vec::new();
    assert_eq!(event.encode(&mut buf), Ok(expected.len()));
    assert_eq!(buf, expected);
    assert_eq!(buf, encode_to_vec(&event.to_event()));

    let mut storage = [0u8; 16];
    let mut slice = &mut storage[..];
    assert_eq!(
        event.encode(&mut slice),
        Err(EncodeError::BufferTooSmall {
            required: expected.len(),
            available: 16,
        })
    );
    assert_eq!(storage, [0u8; 16]);

    let mut exact = vec![0u8; expected.len()];
    let mut slice = &mut exact[..];
    assert_eq!(event.encode(&mut slice), Ok(expected.len()));
    assert_eq!(exact, expected);

    // Empty data, and data ending in an empty line.
    let mut input: &[u8] = b"data\n\ndata: a\ndata\n\n";
    let mut written = Vec::new();
    while let StepRef::Event(event) = parser.poll_ref(&mut input).unwrap() {
        event.encode(&mut written).unwrap();
    }
    assert_eq!(written, b"id: 4\ndata: \n\nid: 4\ndata: a\ndata: \n\n");
}

#[test]
fn a_relay_repeats_the_id_in_force_on_every_event() {
    let mut parser = Parser::new();
    let mut upstream: &[u8] = b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n";
    let mut downstream = Vec::new();
    while let StepRef::Event(event) = parser.poll_ref(&mut upstream).unwrap() {
        event.encode(&mut downstream).unwrap();
    }
    assert_eq!(
        downstream,
        b"id: 1\ndata: a\n\nid: 1\ndata: b\n\nid: \ndata: c\n\n"
    );
    let (out, last_event_id) = parse_all(&downstream);
    assert_eq!(data_of(&out[2]), "c");
    assert_eq!(last_event_id, "");
}
