//! `parse_split`: the parser must not care how its input is chunked.
//!
//! The fuzz input is the stream itself, so the seeds are plain, readable event streams. Each
//! input is parsed
//!
//! 1. whole, byte by byte, and in chunks whose sizes come from a small PRNG seeded by the
//!    input (so every mutation also changes the chunking), with the default limits and
//!    comments reported: all three must give the same steps and last event ID as the model
//!    `naive::parse` (`tests/common/naive.rs`); whole, with comments off, must match the
//!    model without comments;
//! 2. the same three ways with small limits (`max_line_len` 64, `max_event_len` 128): the
//!    three runs must agree with each other, errors included, and a run that reported no
//!    error must match the model.
//!
//! 3. through `poll_ref` (lent events), in the derived chunking, with both configurations:
//!    the same outcomes as `poll`; each lent event, written with `EventRef::encode`, must
//!    take its `encoded_len` and read back as itself.
//!
//! After every poll, `buffered_len()` must stay within `max_line_len + max_event_len`; no
//! input may panic; after `finish()` the parser must say `End`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_proto::{EventRef, ParseError, Parser, ParserConfig, Step, StepRef};

#[path = "../../tests/common/naive.rs"]
mod naive;

use naive::Out;

/// What one poll reported.
type Outcome = Result<Out, ParseError>;

/// The outcomes of one run and the final last event ID.
type Run = (Vec<Outcome>, String);

fn run<'a>(config: &ParserConfig, chunks: impl Iterator<Item = &'a [u8]>) -> Run {
    run_through(config, chunks, false)
}

/// [`run`] through `poll_ref` when `lent`, each lent step turned into the owned one.
fn run_through<'a>(
    config: &ParserConfig,
    chunks: impl Iterator<Item = &'a [u8]>,
    lent: bool,
) -> Run {
    let bound = config.max_line_len.saturating_add(config.max_event_len);
    let mut parser = Parser::with_config(config.clone());
    let mut outcomes = Vec::new();
    for chunk in chunks {
        let mut input = chunk;
        loop {
            let step = if lent {
                parser.poll_ref(&mut input).map(|step| {
                    if let StepRef::Event(event) = step {
                        check_relay(&event);
                    }
                    step.to_step()
                })
            } else {
                parser.poll(&mut input)
            };
            assert!(
                parser.buffered_len() <= bound,
                "buffered_len {} above the bound {bound}",
                parser.buffered_len()
            );
            match step {
                Ok(Step::NeedData) => {
                    assert!(input.is_empty(), "NeedData with input left");
                    break;
                }
                Ok(Step::End) => panic!("End before finish()"),
                Ok(step) => outcomes.extend(naive::observe(&step).map(Ok)),
                Err(error) => outcomes.push(Err(error)),
            }
        }
    }
    parser.finish();
    assert_eq!(parser.poll(&mut &b"data: late\n\n"[..]), Ok(Step::End));
    assert!(parser.buffered_len() <= bound);
    (outcomes, parser.last_event_id().to_owned())
}

/// A lent event, encoded, reads back as itself, in `encoded_len` bytes.
fn check_relay(event: &EventRef<'_>) {
    let mut relayed = Vec::new();
    let written = event.encode(&mut relayed).expect("a Vec has room");
    assert_eq!(written, event.encoded_len());
    let mut input = &relayed[..];
    match Parser::new().poll(&mut input) {
        Ok(Step::Event(back)) => assert_eq!(*event, back, "relayed as {relayed:?}"),
        other => panic!("a relayed event read back as {other:?}"),
    }
    assert!(input.is_empty(), "bytes left after a relayed event");
}

/// FNV-1a, to seed the chunking from the input.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Chunks of 1 to 64 bytes (mostly short), from an xorshift PRNG seeded by the input.
fn derived_chunks(data: &[u8]) -> Vec<&[u8]> {
    let mut state = fnv1a(data) | 1;
    let mut chunks = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let size = match state % 4 {
            0 => 1,
            1 => 2 + (state >> 8) as usize % 3,
            _ => 1 + (state >> 8) as usize % 64,
        };
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

/// The model's view of a whole stream, as outcomes.
fn model(data: &[u8], emit_comments: bool) -> Run {
    let (outs, last_event_id) = naive::parse(data, emit_comments);
    (outs.into_iter().map(Ok).collect(), last_event_id)
}

fuzz_target!(|data: &[u8]| {
    let derived = derived_chunks(data);

    // Default limits (never reached by fuzz-sized inputs): everything equals the model.
    let mut config = ParserConfig::default();
    config.emit_comments = true;
    let want = model(data, true);
    let whole = run(&config, std::iter::once(data));
    assert_eq!(whole, want, "whole input vs model");
    let bytewise = run(&config, data.chunks(1));
    assert_eq!(bytewise, want, "byte by byte vs model");
    let chunked = run(&config, derived.iter().copied());
    assert_eq!(chunked, want, "derived chunking vs model");
    let lent = run_through(&config, derived.iter().copied(), true);
    assert_eq!(lent, want, "poll_ref, derived chunking vs model");

    config.emit_comments = false;
    assert_eq!(
        run(&config, std::iter::once(data)),
        model(data, false),
        "comments off vs model"
    );

    // Small limits: errors happen; chunking must still not matter.
    let mut small = ParserConfig::default();
    small.max_line_len = 64;
    small.max_event_len = 128;
    small.emit_comments = true;
    let whole = run(&small, std::iter::once(data));
    assert_eq!(
        run(&small, data.chunks(1)),
        whole,
        "small limits: byte by byte vs whole"
    );
    assert_eq!(
        run(&small, derived.iter().copied()),
        whole,
        "small limits: derived chunking vs whole"
    );
    assert_eq!(
        run_through(&small, derived.iter().copied(), true),
        whole,
        "small limits: poll_ref, derived chunking vs whole"
    );
    if whole.0.iter().all(Result::is_ok) {
        assert_eq!(whole, want, "small limits, no error reported, vs model");
    }
});
