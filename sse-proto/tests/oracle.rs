//! The parser against the reference model (`common/naive.rs`): arbitrary streams under
//! arbitrary chunkings must give exactly what the model gives for the whole stream,
//! including the final last event ID.
//!
//! The case count comes from `PROPTEST_CASES` (proptest's default config reads it; 256 when
//! unset), so CI can run more cases without a code change.

mod common;

use common::{chunkings, naive, run, show, Outcome, OTHER_ENTRY_POINTS, SEEDS};
use proptest::collection::vec;
use proptest::prelude::*;
use sse_proto::{encode_id_only, Frame, Parser, ParserConfig, StepRef};

/// Pieces a stream is built from, biased toward what the grammar cares about: line ends,
/// colons, spaces, field names (right and wrong case), digits, NUL, BOM bytes and invalid or
/// truncated UTF-8.
fn token() -> impl Strategy<Value = Vec<u8>> {
    let bytes = |b: &'static [u8]| Just(b.to_vec());
    prop_oneof![
        6 => bytes(b"\n"),
        4 => bytes(b"\r"),
        3 => bytes(b"\r\n"),
        5 => bytes(b":"),
        4 => bytes(b" "),
        5 => bytes(b"data"),
        2 => bytes(b"event"),
        3 => bytes(b"id"),
        3 => bytes(b"retry"),
        1 => bytes(b"Data"),
        1 => bytes(b"foo"),
        4 => (b'0'..=b'9').prop_map(|d| vec![d]),
        1 => bytes(b"18446744073709551616"),
        1 => bytes(b"+-_."),
        2 => bytes(b"\0"),
        2 => bytes(b"\xEF\xBB\xBF"),
        3 => prop::sample::select(&[0xEF_u8, 0xBB, 0xBF, 0xFF, 0xC3, 0x80, 0xA9, 0xE2, 0xF0][..])
            .prop_map(|b| vec![b]),
        1 => bytes("é€😀".as_bytes()),
        1 => bytes("\u{2028}\u{85}\x0c\t".as_bytes()),
        3 => (b'a'..=b'z').prop_map(|b| vec![b]),
        1 => any::<u8>().prop_map(|b| vec![b]),
        2 => bytes(b"data: x\n\n"),
        1 => bytes(b"id: 7\n"),
        1 => bytes(b": c\n"),
    ]
}

/// A stream of `len` tokens, sometimes starting with (part of) a BOM.
fn stream(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    let start = prop_oneof![
        6 => Just(Vec::new()),
        2 => Just(b"\xEF\xBB\xBF".to_vec()),
        1 => Just(b"\xEF".to_vec()),
        1 => Just(b"\xEF\xBB".to_vec()),
    ];
    (start, vec(token(), len)).prop_map(|(mut start, tokens)| {
        start.extend(tokens.concat());
        start
    })
}

/// Chunk sizes, used in turn until the input is used up; 0 is an empty chunk.
fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        1 => Just(vec![usize::MAX]),
        1 => Just(vec![1]),
        1 => Just(vec![0, 1]),
        6 => vec(prop_oneof![2 => Just(0_usize), 3 => Just(1), 5 => 2..16_usize, 1 => 16..200_usize], 1..12),
    ]
}

/// Cuts `input` by `sizes` (cycled). An all-zero size list gives empty chunks around the
/// whole input rather than looping forever.
fn split<'a>(input: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    if sizes.iter().all(|&n| n == 0) {
        return vec![b"", input, b""];
    }
    let mut chunks = Vec::new();
    let mut rest = input;
    for &n in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

fn config(emit_comments: bool) -> ParserConfig {
    let mut config = ParserConfig::default();
    config.emit_comments = emit_comments;
    config
}

/// The parser over `chunks` must equal the model over the whole input.
fn check_against_model(
    input: &[u8],
    chunks: &[&[u8]],
    emit_comments: bool,
) -> Result<(), TestCaseError> {
    let (model, model_id) = naive::parse(input, emit_comments);
    let model: Vec<Outcome> = model.into_iter().map(Ok).collect();
    let (got, got_id) = run(&config(emit_comments), chunks);
    let shown: Vec<String> = chunks.iter().map(|c| show(c)).collect();
    prop_assert_eq!(&got, &model, "chunks {}", shown.join("|"));
    prop_assert_eq!(
        &got_id,
        &model_id,
        "last event ID, chunks {}",
        shown.join("|")
    );
    for (entry, driver) in OTHER_ENTRY_POINTS {
        let (got, got_id) = driver(&config(emit_comments), chunks);
        prop_assert_eq!(&got, &model, "{}, chunks {}", entry, shown.join("|"));
        prop_assert_eq!(
            &got_id,
            &model_id,
            "{} id, chunks {}",
            entry,
            shown.join("|")
        );
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_streams_match_the_model(
        input in stream(0..80),
        sizes in chunk_sizes(),
        emit_comments in any::<bool>(),
    ) {
        check_against_model(&input, &split(&input, &sizes), emit_comments)?;
    }

    #[test]
    fn padded_seeds_match_the_model(
        seed in prop::sample::select(SEEDS),
        prefix in prop_oneof![3 => Just(Vec::new()), 2 => stream(0..10)],
        suffix in prop_oneof![2 => Just(Vec::new()), 3 => stream(0..10)],
        repeat in 1..3_usize,
        sizes in chunk_sizes(),
        emit_comments in any::<bool>(),
    ) {
        let mut input = prefix;
        for _ in 0..repeat {
            input.extend_from_slice(seed);
        }
        input.extend(suffix);
        check_against_model(&input, &split(&input, &sizes), emit_comments)?;
    }

    /// With tiny limits the model no longer applies, but the errors and events must still
    /// not depend on the chunking, and the buffers must stay within the limits.
    #[test]
    fn limit_errors_do_not_depend_on_chunking(
        input in stream(0..80),
        sizes in chunk_sizes(),
        max_line_len in 0..40_usize,
        max_event_len in 0..60_usize,
        emit_comments in any::<bool>(),
    ) {
        let mut config = config(emit_comments);
        config.max_line_len = max_line_len;
        config.max_event_len = max_event_len;
        let whole = run(&config, &[&input]);
        let chunks = split(&input, &sizes);
        let shown: Vec<String> = chunks.iter().map(|c| show(c)).collect();
        prop_assert_eq!(run(&config, &chunks), whole.clone(), "chunks {}", shown.join("|"));
        for (entry, driver) in OTHER_ENTRY_POINTS {
            prop_assert_eq!(driver(&config, &chunks), whole.clone(), "{}, chunks {}", entry, shown.join("|"));
        }
    }

    /// Long data values (past the inline size, so `poll_bytes` keeps them as slices of the
    /// chunk) in one or several lines, with multi-byte and invalid UTF-8, under any chunking.
    #[test]
    fn long_data_values_match_the_model_through_every_entry_point(
        events in proptest::collection::vec(
            (proptest::collection::vec(long_value(), 1..4), any::<bool>()),
            1..6,
        ),
        sizes in chunk_sizes(),
    ) {
        let mut input = Vec::new();
        for (lines, crlf) in &events {
            let eol: &[u8] = if *crlf { b"\r\n" } else { b"\n" };
            for line in lines {
                input.extend_from_slice(b"data: ");
                input.extend_from_slice(line);
                input.extend_from_slice(eol);
            }
            input.extend_from_slice(eol);
        }
        let chunks = split(&input, &sizes);
        check_against_model(&input, &chunks, false)?;
        check_against_model(&input, &[&input], false)?;
    }
}

/// Relays `chunks` as a gateway does (the pattern of `EventRef::encode`'s docs): each event
/// lent by `poll_ref` is written downstream with `EventRef::encode`, and after each chunk
/// (and at the end) a change of the last event ID that no event carried is written as an
/// id-only block. On the way, each lent event's length is checked against `encoded_len` and
/// its frame against the bytes written.
fn relay(chunks: &[&[u8]]) -> Result<Vec<u8>, TestCaseError> {
    let mut parser = Parser::new();
    let mut downstream = Vec::new();
    let mut forwarded_id = String::new();
    let forward_id_change =
        |parser: &Parser, forwarded_id: &mut String, downstream: &mut Vec<u8>| {
            if parser.last_event_id() != forwarded_id {
                encode_id_only(parser.last_event_id(), downstream).expect("a parsed id is valid");
                *forwarded_id = parser.last_event_id().to_owned();
            }
        };
    for chunk in chunks {
        let mut input = *chunk;
        loop {
            match parser.poll_ref(&mut input) {
                Ok(StepRef::Event(event)) => {
                    let start = downstream.len();
                    let written = event.encode(&mut downstream).expect("a Vec has room");
                    prop_assert_eq!(written, event.encoded_len());
                    let frame = Frame::from_event_ref(&event);
                    prop_assert_eq!(frame.as_bytes(), &downstream[start..]);
                    prop_assert_eq!(frame.id(), event.id());
                    forwarded_id = event.last_event_id().to_owned();
                }
                Ok(StepRef::NeedData) => break,
                Ok(_) => {}
                Err(error) => return Err(TestCaseError::fail(format!("{error}"))),
            }
        }
        forward_id_change(&parser, &mut forwarded_id, &mut downstream);
    }
    parser.finish();
    forward_id_change(&parser, &mut forwarded_id, &mut downstream);
    Ok(downstream)
}

/// The events of the model's reading of `input`, and its final last event ID.
fn model_events(input: &[u8]) -> (Vec<naive::Out>, String) {
    let (out, last_event_id) = naive::parse(input, false);
    let events = out
        .into_iter()
        .filter(|out| matches!(out, naive::Out::Event { .. }))
        .collect();
    (events, last_event_id)
}

proptest! {
    /// Whatever the upstream sends and however it is cut, a receiver of the relayed stream
    /// sees exactly the upstream's events (type, data and last event ID) and ends with the
    /// same last event ID.
    #[test]
    fn relayed_streams_carry_the_upstreams_events_and_last_event_id(
        input in stream(0..80),
        sizes in chunk_sizes(),
    ) {
        let relayed = relay(&split(&input, &sizes))?;
        let expected = model_events(&input);
        prop_assert_eq!(model_events(&relayed), expected.clone(), "relayed {}", show(&relayed));
        let (real, real_id) = run(&config(false), &[&relayed]);
        let real: Vec<naive::Out> = real
            .into_iter()
            .map(|step| step.expect("no limit is reached"))
            .collect();
        prop_assert_eq!((real, real_id), expected);
    }
}

#[test]
fn every_seed_relays_its_events_and_last_event_id_under_every_chunking() {
    for seed in SEEDS {
        let expected = model_events(seed);
        for chunks in chunkings(seed) {
            let relayed =
                relay(&chunks).unwrap_or_else(|error| panic!("seed {}: {error}", show(seed)));
            assert_eq!(model_events(&relayed), expected, "seed {}", show(seed));
        }
    }
}

/// A data value of 0 to 120 bytes without CR or LF: ASCII, multi-byte characters and
/// invalid bytes.
fn long_value() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        8 => proptest::collection::vec(0x20u8..0x7F, 1..16),
        2 => Just("é日🙂".as_bytes().to_vec()),
        1 => Just(vec![0xFF]),
        1 => Just(vec![0xE2, 0x82]),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

#[test]
fn every_seed_matches_the_model_under_every_chunking() {
    for seed in SEEDS {
        for emit_comments in [false, true] {
            for chunks in chunkings(seed) {
                if let Err(error) = check_against_model(seed, &chunks, emit_comments) {
                    panic!("seed {}: {error}", show(seed));
                }
            }
        }
    }
}

#[test]
fn the_model_follows_the_standard_on_hand_checked_cases() {
    use naive::Out;
    let event = |t: &str, d: &str, id: Option<&str>| Out::Event {
        event_type: t.into(),
        data: d.into(),
        id: id.map(Into::into),
    };
    let cases: &[(&[u8], &[Out], &str)] = &[
        (
            b"\xEF\xBB\xBFdata: a\r\n\r\n",
            &[event("message", "a", None)],
            "",
        ),
        (b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\n", &[], ""),
        (b"data: a\r\rdata: b\n", &[event("message", "a", None)], ""),
        (
            b"id: 1\n\nid\ndata\n\n",
            &[event("message", "", Some(""))],
            "",
        ),
        (
            b"id: x\x00\nid: 3\nevent: e\ndata: a\n\n",
            &[event("e", "a", Some("3"))],
            "3",
        ),
        (
            b"retry: 12\nretry: 1 \nretry: 99999999999999999999\n",
            &[Out::Retry(12)],
            "",
        ),
        (b"data: a\ndata: b\n", &[], ""),
    ];
    for (input, expected, id) in cases {
        let (out, last) = naive::parse(input, true);
        assert_eq!(
            (&out[..], last.as_str()),
            (*expected, *id),
            "{}",
            show(input)
        );
    }
    let (out, _) = naive::parse(b":  x\n", true);
    assert_eq!(out, [Out::Comment(" x".into())]);
    assert_eq!(naive::parse(b":  x\n", false).0, []);
}
