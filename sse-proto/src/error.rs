//! Errors, split by culprit: [`ParseError`] is the peer's (the bytes received),
//! [`EncodeError`] is the caller's (the values it asked to send).

/// The peer sent more than a configured limit allows.
///
/// The grammar of an event stream is total: every byte sequence parses, so the only parse
/// errors are the limits of [`ParserConfig`](crate::ParserConfig). After an error the parser
/// carries on: the oversized event is dropped (its `id` and `retry` fields still take effect)
/// and parsing resumes at the next event. See `docs/limits.md`.
///
/// # Example
///
/// ```
/// use sse_proto::{ParseError, Parser, ParserConfig, Step};
///
/// let mut config = ParserConfig::default();
/// config.max_line_len = 8;
/// let mut parser = Parser::with_config(config);
/// let mut input: &[u8] = b"data: far too long\n\ndata: ok\n\n";
/// assert_eq!(parser.poll(&mut input), Err(ParseError::LineTooLong { len: 18, limit: 8 }));
/// match parser.poll(&mut input) {
///     Ok(Step::Event(event)) => assert_eq!(event.data(), "ok"),
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A line (without its terminator) was longer than
    /// [`ParserConfig::max_line_len`](crate::ParserConfig::max_line_len). Reported when the
    /// line ends, with its full length; its bytes were discarded as they arrived, so an endless
    /// line costs no memory.
    #[error("line of {len} bytes exceeds the limit of {limit} bytes; its event was dropped")]
    LineTooLong {
        /// Length of the line in bytes, without its terminator.
        len: usize,
        /// The configured maximum.
        limit: usize,
    },
    /// The event being built (its data lines joined with line feeds; the event type and id
    /// are bounded by the line limit instead) would have grown past [`ParserConfig::max_event_len`](crate::ParserConfig::max_event_len).
    /// Reported at the data line that crossed the limit; the rest of the event is skipped.
    #[error("event of at least {len} bytes exceeds the limit of {limit} bytes; it was dropped")]
    EventTooLarge {
        /// Size the event would have reached with the offending line.
        len: usize,
        /// The configured maximum.
        limit: usize,
    },
}

/// Which field of an event a validation error is about.
///
/// # Example
///
/// ```
/// use sse_proto::{EncodeError, Event, Field};
///
/// let err = Event::builder().id("1\n2").build().unwrap_err();
/// assert_eq!(err, EncodeError::LineBreak { field: Field::Id });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The `event:` field (event type).
    Event,
    /// The `id:` field.
    Id,
}

impl core::fmt::Display for Field {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Field::Event => "event type",
            Field::Id => "id",
        })
    }
}

/// The caller asked to send something the wire format cannot carry.
///
/// Values are checked once, when an [`Event`](crate::Event) is built; data is never refused
/// (it is split into several `data:` lines instead).
///
/// # Example
///
/// ```
/// use sse_proto::{EncodeError, Event, Field};
///
/// let err = Event::builder().event("x\ndata: evil").data("a").build().unwrap_err();
/// assert_eq!(err, EncodeError::LineBreak { field: Field::Event });
/// assert_eq!(err.to_string(), "event type contains a line break (CR or LF), which would end the field early");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The event type or id contains CR or LF: the field would end early and the rest would
    /// be read as other fields (an injection).
    #[error("{field} contains a line break (CR or LF), which would end the field early")]
    LineBreak {
        /// The offending field.
        field: Field,
    },
    /// The id contains U+0000: every compliant client ignores such an `id:` field.
    #[error("id contains U+0000 (NUL), so every compliant client would ignore it")]
    NulInId,
    /// The destination buffer has too little room for the encoded message. Nothing was
    /// written.
    #[error("destination has room for {available} bytes but the message needs {required}")]
    BufferTooSmall {
        /// Bytes the message needs.
        required: usize,
        /// Bytes the buffer could take.
        available: usize,
    },
}
