//! `roundtrip`: whatever the encoder accepts, the parser reads back.
//!
//! The fuzz input drives (through `libfuzzer_sys::arbitrary::Unstructured`) a list of
//! messages: events (type, data, id, sometimes a retry inside the event's block), id-only
//! blocks, retries and comments, from an alphabet
//! rich in CR, LF, NUL, spaces and colons. For each one:
//!
//! - an invalid value (CR/LF in the event type or id, NUL in the id) must be refused by
//!   `EventBuilder::build` / `Message::id_only` with the matching typed error, never a panic;
//! - a valid message must encode to exactly `encoded_len` bytes, identically into a growable
//!   `Vec`, into an exact-size slice and into a `Frame` (which carries the message's id), and
//!   a slice one byte short must get `BufferTooSmall` and stay untouched.
//!
//! The encoded stream, parsed whole and in chunks, must give back the events (data with CR
//! and CRLF read as LF, the persisting last event ID), the retries (in whole milliseconds;
//! an event's own retry just before the event) and the comment lines, and the final last
//! event ID; the model `naive::parse` must agree.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use sse_proto::{EncodeError, Field, Frame, Message, Parser, ParserConfig};

#[path = "../../tests/common/naive.rs"]
mod naive;
#[path = "../../tests/common/sent.rs"]
mod sent;

use naive::Out;
use sent::{expected, Sent};

/// A string from an alphabet that makes line breaks, NULs, spaces and colons common.
fn text(u: &mut Unstructured<'_>) -> Result<String> {
    // Mostly short; sometimes long enough to cross the encoder's 255-byte counting blocks.
    let max = if u.ratio(1, 8)? { 600 } else { 24 };
    let len = u.int_in_range(0..=max)?;
    let mut s = String::new();
    for _ in 0..len {
        let byte: u8 = u.arbitrary()?;
        s.push(match byte % 10 {
            0 => '\r',
            1 => '\n',
            2 => ' ',
            3 => ':',
            4 => '\0',
            5 => u.arbitrary()?,
            6 => '\u{FEFF}',
            _ => char::from(b'a' + byte % 26),
        });
    }
    if s.contains('\r') && u.ratio(1, 4)? {
        s = s.replace('\r', "\r\n");
    }
    Ok(s)
}

/// A string that is usually valid as an event type or id (CR, LF and NUL removed), and
/// sometimes left as it is.
fn field(u: &mut Unstructured<'_>) -> Result<String> {
    let s = text(u)?;
    Ok(if u.ratio(3, 4)? {
        s.replace(['\r', '\n', '\0'], "")
    } else {
        s
    })
}

fn optional_field(u: &mut Unstructured<'_>) -> Result<Option<String>> {
    Ok(if u.arbitrary()? {
        Some(field(u)?)
    } else {
        None
    })
}

fn delay(u: &mut Unstructured<'_>) -> Result<Duration> {
    Ok(match u.int_in_range(0..=3)? {
        0 => Duration::from_millis(u.int_in_range(0..=100_000)?),
        1 => Duration::from_millis(u.arbitrary()?),
        2 => Duration::new(u.arbitrary()?, u.int_in_range(0..=999_999_999)?),
        _ => Duration::MAX,
    })
}

fn has_line_break(s: &str) -> bool {
    s.contains(['\r', '\n'])
}

/// The errors `build` may give for these values (several when more than one is wrong).
fn event_errors(event_type: Option<&str>, id: Option<&str>) -> Vec<EncodeError> {
    let mut errors = Vec::new();
    if event_type.is_some_and(has_line_break) {
        errors.push(EncodeError::LineBreak {
            field: Field::Event,
        });
    }
    errors.extend(id_errors(id));
    errors
}

fn id_errors(id: Option<&str>) -> Vec<EncodeError> {
    let mut errors = Vec::new();
    if let Some(id) = id {
        if has_line_break(id) {
            errors.push(EncodeError::LineBreak { field: Field::Id });
        } else if id.contains('\0') {
            errors.push(EncodeError::NulInId);
        }
    }
    errors
}

/// Builds the message, checking that invalid values give the right error. `None`: refused.
fn build(sent: &Sent) -> Option<Message> {
    match sent {
        Sent::Event { event_type, id, .. } => {
            let errors = event_errors(event_type.as_deref(), id.as_deref());
            match sent.build_event() {
                Ok(event) => {
                    assert!(errors.is_empty(), "accepted {sent:?}");
                    Some(Message::from(event))
                }
                Err(error) => {
                    assert!(errors.contains(&error), "{sent:?} refused with {error:?}");
                    None
                }
            }
        }
        Sent::IdOnly(id) => {
            let errors = id_errors(Some(id));
            match Message::id_only(id.clone()) {
                Ok(message) => {
                    assert!(errors.is_empty(), "accepted {sent:?}");
                    Some(message)
                }
                Err(error) => {
                    assert!(errors.contains(&error), "{sent:?} refused with {error:?}");
                    None
                }
            }
        }
        Sent::Retry(delay) => Some(Message::retry(*delay)),
        Sent::Comment(text) => Some(Message::comment(text.clone())),
    }
}

fn parse<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> (Vec<Out>, String) {
    let mut config = ParserConfig::default();
    config.emit_comments = true;
    let mut parser = Parser::with_config(config);
    let mut out = Vec::new();
    for chunk in chunks {
        for step in parser.feed(chunk) {
            out.extend(naive::observe(&step.expect("no limit is reached")));
        }
    }
    parser.finish();
    (out, parser.last_event_id().to_owned())
}

/// Encodes `message` every way there is and checks they agree; appends it to `wire`.
fn encode_checked(message: &Message, wire: &mut Vec<u8>) {
    let len = message.encoded_len();
    let start = wire.len();
    assert_eq!(message.encode(wire), Ok(len));
    let encoded = &wire[start..];
    assert_eq!(encoded.len(), len);

    let mut exact = vec![0u8; len];
    let mut slice = &mut exact[..];
    assert_eq!(message.encode(&mut slice), Ok(len));
    assert_eq!(exact, encoded);

    let mut short = vec![0xAAu8; len - 1];
    let mut slice = &mut short[..];
    assert_eq!(
        message.encode(&mut slice),
        Err(EncodeError::BufferTooSmall {
            required: len,
            available: len - 1
        })
    );
    assert!(
        short.iter().all(|&b| b == 0xAA),
        "a refused encode wrote bytes"
    );

    let frame = Frame::from_message(message);
    assert_eq!(&frame.as_bytes()[..], encoded);
    assert_eq!(frame.id(), message.id());
    if let Some(event) = message.as_event() {
        assert_eq!(sse_proto::encoded_len(event), len);
        assert_eq!(Frame::from_event(event), frame);
    }
}

fn message(u: &mut Unstructured<'_>) -> Result<Sent> {
    Ok(match u.int_in_range(0..=5)? {
        0..=2 => Sent::Event {
            event_type: optional_field(u)?,
            data: text(u)?,
            id: optional_field(u)?,
            retry: if u.ratio(1, 4)? {
                Some(delay(u)?)
            } else {
                None
            },
        },
        3 => Sent::IdOnly(field(u)?),
        4 => Sent::Retry(delay(u)?),
        _ => Sent::Comment(text(u)?),
    })
}

fn fuzz(u: &mut Unstructured<'_>) {
    let mut accepted = Vec::new();
    let mut wire = Vec::new();
    while !u.is_empty() && accepted.len() < 64 {
        let Ok(sent) = message(u) else { break };
        if let Some(message) = build(&sent) {
            encode_checked(&message, &mut wire);
            accepted.push(sent);
        }
    }
    let want = expected(&accepted);
    assert_eq!(parse(std::iter::once(&wire[..])), want, "whole");
    assert_eq!(parse(wire.chunks(7)), want, "7-byte chunks");
    assert_eq!(parse(wire.chunks(1)), want, "byte by byte");
    assert_eq!(naive::parse(&wire, true), want, "model");
}

fuzz_target!(|data: &[u8]| {
    fuzz(&mut Unstructured::new(data));
});
