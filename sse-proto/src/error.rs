//! Errors, split by culprit: [`ParseError`] is the peer's (the bytes received),
//! [`EncodeError`] is the caller's (the values it asked to send), [`OpenError`] is the HTTP
//! response's, [`LastEventIdError`] the request header's, [`RequestError`] the request the
//! caller asked a [`Client`](crate::Client) to send.

/// The peer sent more than a configured limit allows.
///
/// The grammar of an event stream is total: every byte sequence parses, so the only parse
/// errors are the limits of [`ParserConfig`](crate::ParserConfig). After an error the parser
/// carries on: the oversized event is dropped (its `id` and `retry` fields still take effect)
/// and parsing resumes at the next event.
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

/// The server's response cannot open an event stream (the standard's "fail the
/// connection"), or the client was not waiting for one.
///
/// Returned by [`Client::handle_response`][handle_response]. Except for a status the opt-in
/// retry policy covers ([`ClientConfig::retry_server_errors`][retry_server_errors]), the
/// client is then closed for good: browsers never reconnect after these.
///
#[cfg_attr(
    feature = "std",
    doc = "[handle_response]: crate::Client::handle_response"
)]
#[cfg_attr(
    feature = "std",
    doc = "[retry_server_errors]: crate::ClientConfig::retry_server_errors"
)]
// `Client` needs `std`; without it, its names link to the crate's list of features.
#[cfg_attr(not(feature = "std"), doc = "[handle_response]: crate#crate-features")]
#[cfg_attr(
    not(feature = "std"),
    doc = "[retry_server_errors]: crate#crate-features"
)]
///
/// # Example
///
/// ```
/// use sse_proto::OpenError;
///
/// let err = OpenError::Status { status: 404 };
/// assert_eq!(err.to_string(), "the server answered with status 404 instead of 200");
/// let err = OpenError::ContentType { content_type: Some("text/html".into()) };
/// assert_eq!(err.to_string(), "the server sent content type \"text/html\" instead of text/event-stream");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Status 204 No Content: the server's way of telling the client to stop reconnecting.
    #[error("the server answered 204 No Content: it asks the client to stop")]
    NoContent,
    /// A status other than 200 and 204 (redirects included: following them is the HTTP
    /// library's job, and what reaches the client is the final response).
    #[error("the server answered with status {status} instead of 200")]
    Status {
        /// The HTTP status code received.
        status: u16,
    },
    /// Status 200, but the `Content-Type`'s MIME essence is not `text/event-stream`.
    #[error(
        "the server sent {} instead of text/event-stream",
        ShowContentType(content_type)
    )]
    ContentType {
        /// The `Content-Type` header as received (invalid UTF-8 replaced by U+FFFD), `None`
        /// when there was none.
        content_type: Option<crate::Utf8Bytes>,
    },
    /// [`handle_response`][handle_response] was called while the client was not waiting for
    /// a response: it was closed (for instance by [`close`][close] while the request was in
    /// flight) or already open. Drop the response without reading its body.
    ///
    #[cfg_attr(
        feature = "std",
        doc = "[handle_response]: crate::Client::handle_response"
    )]
    #[cfg_attr(feature = "std", doc = "[close]: crate::Client::close")]
    #[cfg_attr(not(feature = "std"), doc = "[handle_response]: crate#crate-features")]
    #[cfg_attr(not(feature = "std"), doc = "[close]: crate#crate-features")]
    #[error("the client was not waiting for a response (closed, or already open)")]
    NotAwaitingResponse,
}

/// A `Last-Event-ID` request header that cannot be an event ID.
///
/// Returned by [`parse_last_event_id`](crate::parse_last_event_id). The server should answer
/// as it would to a client with no last event ID, or refuse the request.
///
/// # Example
///
/// ```
/// use sse_proto::{parse_last_event_id, LastEventIdError};
///
/// assert_eq!(
///     parse_last_event_id(b"12\x0034"),
///     Err(LastEventIdError::ForbiddenByte { byte: 0, position: 2 })
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LastEventIdError {
    /// The value is not UTF-8, so no event stream could have set it (streams are UTF-8).
    #[error("Last-Event-ID is not valid UTF-8 (valid up to byte {valid_up_to})")]
    NotUtf8 {
        /// Length of the valid prefix, in bytes.
        valid_up_to: usize,
    },
    /// The value contains CR, LF or NUL, which no `id:` field can carry.
    #[error("Last-Event-ID contains byte {byte:#04x} at position {position}, which no event ID can hold")]
    ForbiddenByte {
        /// The offending byte: `0x00`, `0x0a` or `0x0d`.
        byte: u8,
        /// Its position in the header value as given (before trimming).
        position: usize,
    },
}

/// Displays a received content type for [`OpenError::ContentType`].
struct ShowContentType<'a>(&'a Option<crate::Utf8Bytes>);

impl core::fmt::Display for ShowContentType<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(content_type) => write!(f, "content type {:?}", content_type.as_str()),
            None => f.write_str("no content type"),
        }
    }
}

/// The caller asked for a request no HTTP library would send as meant: refused when it is
/// set ([`Client::set_method`](crate::Client::set_method),
/// [`Client::set_header`](crate::Client::set_header)), before it can reach an HTTP library
/// that would panic on it, refuse it, or split it into two headers.
///
/// # Example
///
/// ```
/// use sse_proto::{Client, RequestError};
///
/// let mut client = Client::new(Default::default());
/// let err = client.set_header("x-id", "a\nb").unwrap_err();
/// assert_eq!(err, RequestError::InvalidHeaderValue { name: "x-id".into(), byte: b'\n', position: 1 });
/// assert_eq!(err.to_string(), "the value of header x-id has byte 0x0a at 1, which HTTP does not allow there");
/// ```
#[cfg(feature = "std")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The method is not an HTTP token (RFC 9110 section 9.1).
    #[error("the method {method:?} is not an HTTP token")]
    InvalidMethod {
        /// The method given.
        method: alloc::string::String,
    },
    /// The header name is not an HTTP token (RFC 9110 section 5.1).
    #[error("the header name {name:?} is not an HTTP token")]
    InvalidHeaderName {
        /// The name given.
        name: alloc::string::String,
    },
    /// The header value holds a control character other than tab, or DEL (RFC 9110
    /// section 5.5).
    #[error("the value of header {name} has byte 0x{byte:02x} at {position}, which HTTP does not allow there")]
    InvalidHeaderValue {
        /// The header's name, in lower case.
        name: alloc::string::String,
        /// The byte refused.
        byte: u8,
        /// Its position in the value.
        position: usize,
    },
    /// `Last-Event-ID` is the client's state: set it with
    /// [`Client::set_last_event_id`](crate::Client::set_last_event_id).
    #[error("last-event-id is the client's: set it with Client::set_last_event_id")]
    LastEventIdHeader,
}
