//! The HTTP rules around an event stream, for both ends: the response headers a server
//! sends, the `Last-Event-ID` request header it reads, and the `Content-Type` check a client
//! makes. The stream itself is defined by the WHATWG HTML standard
//! (<https://html.spec.whatwg.org/multipage/server-sent-events.html>); caching by RFC 9111,
//! connection headers by RFC 9112 (HTTP/1.1), RFC 9113 (HTTP/2) and RFC 9114 (HTTP/3).
//!
//! Header names are given in lower case: HTTP/2 and HTTP/3 require it on the wire, HTTP/1.x
//! ignores case, and `http::HeaderName::from_static` accepts nothing else.

use crate::error::LastEventIdError;

/// The MIME type of an event stream, bare: what a client sends in `Accept`, and the MIME
/// essence [`is_event_stream`] compares a response's `Content-Type` with. A server sends
/// [`EVENT_STREAM_CONTENT_TYPE`] instead.
///
/// # Example
///
/// ```
/// assert_eq!(sse_proto::EVENT_STREAM_MIME_TYPE, "text/event-stream");
/// ```
pub const EVENT_STREAM_MIME_TYPE: &str = "text/event-stream";

/// The `Content-Type` a server sends with an event stream: [`EVENT_STREAM_MIME_TYPE`] with
/// `charset=utf-8`.
///
/// An event stream is always UTF-8, and a conforming client decodes it as UTF-8 whatever the
/// header says, so the parameter changes nothing there. It matters to clients that take the
/// charset from the header and fall back to ISO-8859-1 for `text/*` without one (Python's
/// sseclient, through `requests`): they would turn every non-ASCII character into mojibake.
/// The registration of `text/event-stream` allows a `charset` parameter only with the value
/// `utf-8`.
///
/// # Example
///
/// ```
/// use sse_proto::{is_event_stream, EVENT_STREAM_CONTENT_TYPE};
///
/// assert_eq!(EVENT_STREAM_CONTENT_TYPE, "text/event-stream; charset=utf-8");
/// assert!(is_event_stream(EVENT_STREAM_CONTENT_TYPE.as_bytes()));
/// ```
pub const EVENT_STREAM_CONTENT_TYPE: &str = "text/event-stream; charset=utf-8";

/// The HTTP version a response goes out on: it decides whether `Connection: keep-alive` may
/// be sent.
///
/// # Example
///
/// ```
/// use sse_proto::{response_headers, HttpVersion};
///
/// assert_eq!(response_headers(HttpVersion::Http11).len(), 4);
/// assert_eq!(response_headers(HttpVersion::Http2).len(), 3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum HttpVersion {
    /// HTTP/1.0.
    Http10,
    /// HTTP/1.1.
    Http11,
    /// HTTP/2 (connection-specific headers such as `Connection` are forbidden).
    Http2,
    /// HTTP/3 (same rule as HTTP/2).
    Http3,
}

/// The headers for HTTP/1.x; HTTP/2 and HTTP/3 take all but the last.
const HTTP1_HEADERS: [(&str, &str); 4] = [
    ("content-type", EVENT_STREAM_CONTENT_TYPE),
    ("cache-control", "no-store"),
    ("x-accel-buffering", "no"),
    ("connection", "keep-alive"),
];

/// The headers a server sends with an event stream, as `(name, value)` pairs to copy into
/// the response:
///
/// - `content-type: text/event-stream; charset=utf-8` ([`EVENT_STREAM_CONTENT_TYPE`]): the
///   MIME essence clients check, and the only charset an event stream may declare;
/// - `cache-control: no-store`: no cache may store any part of the response (RFC 9111
///   section 5.2.2.5). `no-cache` would be weaker: it lets a cache store the response and
///   reuse it after revalidating with the server (section 5.2.2.4), and an event stream must
///   never be replayed from a cache, nor its events kept on a proxy's disk;
/// - `x-accel-buffering: no`: nginx's per-response switch for `proxy_buffering`, so nginx
///   passes each event on as it arrives instead of holding it until its buffer fills;
/// - `connection: keep-alive` on HTTP/1.1 only, the convention of event-stream servers for
///   HTTP/1.1 peers. Not on HTTP/1.0: with no chunked coding there, a stream is delimited by
///   the close of the connection (RFC 9112 section 6.3), so promising to keep the connection
///   would be false. Not on HTTP/2 and HTTP/3, which forbid connection-specific headers
///   (RFC 9113 section 8.2.2, RFC 9114 section 4.2): a response carrying one is malformed,
///   and a client resets the stream it came on.
///
/// Status 200, and no compression middleware that buffers (each event must be flushed as it
/// is written).
///
/// # Example
///
/// ```
/// use sse_proto::{response_headers, HttpVersion};
///
/// let mut response: Vec<String> = vec!["HTTP/1.1 200 OK".into()];
/// for (name, value) in response_headers(HttpVersion::Http11) {
///     response.push(format!("{name}: {value}"));
/// }
/// assert_eq!(response[1], "content-type: text/event-stream; charset=utf-8");
/// assert_eq!(response[2], "cache-control: no-store");
/// assert_eq!(response.last().unwrap(), "connection: keep-alive");
///
/// let h2 = response_headers(HttpVersion::Http2);
/// assert!(h2.iter().all(|(name, _)| *name != "connection"));
/// ```
pub fn response_headers(version: HttpVersion) -> &'static [(&'static str, &'static str)] {
    match version {
        HttpVersion::Http11 => &HTTP1_HEADERS,
        HttpVersion::Http10 | HttpVersion::Http2 | HttpVersion::Http3 => &HTTP1_HEADERS[..3],
    }
}

/// Reads a `Last-Event-ID` request header value: bytes in, a validated event ID out.
///
/// Surrounding spaces and tabs are removed (HTTP does so for every field value, so an id
/// that starts or ends with one cannot be sent intact). An empty value is `Ok(None)`: the
/// client has no last event ID, as when the header is absent (a conforming client does not
/// send it empty, but some clients do). Pass the result to
/// [`ResumeBuffer::replay_after`](crate::ResumeBuffer::replay_after).
///
/// # Errors
///
/// - [`LastEventIdError::NotUtf8`] when the value is not UTF-8 (event streams are);
/// - [`LastEventIdError::ForbiddenByte`] when it contains CR, LF or NUL, which no `id:`
///   field can carry.
///
/// # Example
///
/// ```
/// use sse_proto::{parse_last_event_id, LastEventIdError};
///
/// assert_eq!(parse_last_event_id(b" 42 "), Ok(Some("42")));
/// assert_eq!(parse_last_event_id(b""), Ok(None));
/// assert_eq!(parse_last_event_id(b"\xFF"), Err(LastEventIdError::NotUtf8 { valid_up_to: 0 }));
/// ```
pub fn parse_last_event_id(value: &[u8]) -> Result<Option<&str>, LastEventIdError> {
    if let Some(position) = value
        .iter()
        .position(|&b| matches!(b, b'\0' | b'\n' | b'\r'))
    {
        return Err(LastEventIdError::ForbiddenByte {
            byte: value[position],
            position,
        });
    }
    let id = core::str::from_utf8(value).map_err(|e| LastEventIdError::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    let id = id.trim_matches([' ', '\t']);
    Ok(if id.is_empty() { None } else { Some(id) })
}

/// Whether a `Content-Type` value's MIME essence is `text/event-stream`: compared without
/// regard to ASCII case, after removing parameters (`; charset=utf-8`) and surrounding
/// whitespace, as the WHATWG MIME type parser does. This is the check that opens a client's
/// connection (with status 200).
///
/// # Example
///
/// ```
/// use sse_proto::is_event_stream;
///
/// assert!(is_event_stream(b"text/event-stream"));
/// assert!(is_event_stream(b"Text/Event-Stream; charset=utf-8"));
/// assert!(!is_event_stream(b"text/plain"));
/// assert!(!is_event_stream(b"text/event-streams"));
/// ```
pub fn is_event_stream(content_type: &[u8]) -> bool {
    let essence = match memchr::memchr(b';', content_type) {
        Some(semicolon) => &content_type[..semicolon],
        None => content_type,
    };
    trim_http_whitespace(essence).eq_ignore_ascii_case(EVENT_STREAM_MIME_TYPE.as_bytes())
}

/// Whether a request's `Accept` header allows an event stream in response: what a server
/// checks before answering with one, and refuses with `406 Not Acceptable` otherwise.
///
/// Pass the header's value, `None` when the request has none (it then accepts anything, as
/// does an empty value). Following RFC 9110 section 12.5.1, the most specific media range
/// that matches decides: `text/event-stream` (with any parameters), then `text/*`, then
/// `*/*`; it allows the stream unless its weight is `q=0`. Types and `q` compare without
/// regard to ASCII case. A malformed weight counts as allowing (a server should not refuse a
/// client over a typo it can read past).
///
/// # Example
///
/// ```
/// use sse_proto::accepts_event_stream;
///
/// assert!(accepts_event_stream(None));
/// assert!(accepts_event_stream(Some(b"text/event-stream")));
/// assert!(accepts_event_stream(Some(b"text/html, */*;q=0.8")));
/// assert!(!accepts_event_stream(Some(b"application/json")));
/// assert!(!accepts_event_stream(Some(b"text/event-stream;q=0, */*")));
/// ```
pub fn accepts_event_stream(accept: Option<&[u8]>) -> bool {
    let Some(accept) = accept else { return true };
    if trim_http_whitespace(accept).is_empty() {
        return true;
    }
    // The most specific matching range so far: (specificity, allows).
    let mut best: Option<(u8, bool)> = None;
    for range in accept.split(|&b| b == b',') {
        let mut parts = range.split(|&b| b == b';');
        let essence = trim_http_whitespace(parts.next().unwrap_or_default());
        let specificity = if essence.eq_ignore_ascii_case(EVENT_STREAM_MIME_TYPE.as_bytes()) {
            3
        } else if essence.eq_ignore_ascii_case(b"text/*") {
            2
        } else if essence == b"*/*" {
            1
        } else {
            continue;
        };
        let allows = !parts.any(is_zero_weight);
        // Equally specific ranges: any that allows is enough.
        match best {
            Some((known, known_allows))
                if known > specificity || (known == specificity && known_allows) => {}
            _ => best = Some((specificity, allows)),
        }
    }
    best.is_some_and(|(_, allows)| allows)
}

/// Whether a media-range parameter is `q=0` (or `0.`, `0.0`, `0.00`, `0.000`).
fn is_zero_weight(parameter: &[u8]) -> bool {
    let Some(equals) = memchr::memchr(b'=', parameter) else {
        return false;
    };
    let name = trim_http_whitespace(&parameter[..equals]);
    let value = trim_http_whitespace(&parameter[equals + 1..]);
    if !name.eq_ignore_ascii_case(b"q") {
        return false;
    }
    match value {
        [b'0'] => true,
        [b'0', b'.', decimals @ ..] => decimals.len() <= 3 && decimals.iter().all(|&d| d == b'0'),
        _ => false,
    }
}

/// A `Retry-After` value in delay-seconds. An HTTP-date gives `None`: turning it into a delay
/// needs the wall clock, which this crate does not read. Too many digits saturate.
#[cfg(feature = "std")]
pub(crate) fn parse_retry_after(value: &[u8]) -> Option<core::time::Duration> {
    let digits = trim_http_whitespace(value);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let seconds = digits.iter().fold(0u64, |n, &d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Some(core::time::Duration::from_secs(seconds))
}

/// Removes leading and trailing HTTP whitespace (space, tab, CR, LF).
fn trim_http_whitespace(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r' | b'\n', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n'] = bytes {
        bytes = rest;
    }
    bytes
}
