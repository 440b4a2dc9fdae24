//! The request a [`Client`](super::Client) sends on every attempt: the caller's method, body
//! and headers, merged with the headers the EventSource processing model adds.
//!
//! What the standard asks of the request (HTML, "the EventSource interface", and Fetch):
//! - `Accept: text/event-stream`;
//! - the cache mode "no-store", which Fetch's HTTP-network-or-cache fetch writes as
//!   `Cache-Control: no-cache` and `Pragma: no-cache` when the request has neither;
//! - `Last-Event-ID` with the last event ID string, encoded as UTF-8, when it is not empty.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use bytes::Bytes;

use crate::error::RequestError;
use crate::http::EVENT_STREAM_MIME_TYPE;

/// The headers the client adds unless the caller set one of the same name. Fetch appends its
/// cache headers only when the request has none ("if httpRequest's header list does not
/// contain"), and an MCP client must send `accept: application/json, text/event-stream`, so a
/// caller's header replaces these.
const DEFAULT_HEADERS: [(&str, &str); 3] = [
    ("accept", EVENT_STREAM_MIME_TYPE),
    ("cache-control", "no-cache"),
    ("pragma", "no-cache"),
];

/// The one header the caller may not set: it is the client's state, not a default.
const LAST_EVENT_ID: &str = "last-event-id";

/// What the caller asked to send on every attempt: kept by the client, copied into each
/// [`Request`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RequestTemplate {
    method: String,
    /// Lower-case names, at most one entry per name, in the order first set.
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl Default for RequestTemplate {
    fn default() -> Self {
        RequestTemplate {
            method: "GET".to_string(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }
}

impl RequestTemplate {
    pub(crate) fn set_method(&mut self, method: &str) -> Result<(), RequestError> {
        if !is_token(method) {
            return Err(RequestError::InvalidMethod {
                method: method.to_string(),
            });
        }
        self.method = method.to_string();
        Ok(())
    }

    pub(crate) fn set_body(&mut self, body: Bytes) {
        self.body = body;
    }

    pub(crate) fn set_header(&mut self, name: &str, value: &str) -> Result<(), RequestError> {
        if !is_token(name) {
            return Err(RequestError::InvalidHeaderName {
                name: name.to_string(),
            });
        }
        let name = name.to_ascii_lowercase();
        if name == LAST_EVENT_ID {
            return Err(RequestError::LastEventIdHeader);
        }
        check_header_value(value.as_bytes()).map_err(|(position, byte)| {
            RequestError::InvalidHeaderValue {
                name: name.clone(),
                byte,
                position,
            }
        })?;
        match self.headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) => *old = value.to_string(),
            None => self.headers.push((name, value.to_string())),
        }
        Ok(())
    }

    pub(crate) fn remove_header(&mut self, name: &str) -> bool {
        let before = self.headers.len();
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.len() != before
    }

    /// The request of one attempt, with the last event ID in force.
    pub(crate) fn to_request(&self, last_event_id: &str) -> Request {
        // Fetch normalizes a header value (strips leading and trailing HTTP whitespace), and
        // every HTTP parser strips it anyway: send what the server will read.
        let id = last_event_id.trim_matches([' ', '\t']);
        let (sent, withheld) = if id.is_empty() {
            (None, None)
        } else if check_header_value(id.as_bytes()).is_ok() {
            (Some(id.to_string()), None)
        } else {
            (None, Some(last_event_id.to_string()))
        };
        Request {
            template: self.clone(),
            last_event_id: sent,
            withheld_last_event_id: withheld,
        }
    }
}

/// The request to send to open (or reopen) the stream: copy it into your HTTP library.
///
/// The method, body and extra headers are the caller's ([`Client::set_method`],
/// [`Client::set_body`], [`Client::set_header`]), the same on every attempt; the client adds:
///
/// - `accept: text/event-stream`, `cache-control: no-cache` and `pragma: no-cache`, each
///   unless the caller set a header of that name (Fetch writes the standard's cache mode
///   "no-store" this way, and leaves headers the request already has alone);
/// - `last-event-id` when the last event ID is not empty. The caller cannot set this one
///   ([`RequestError::LastEventIdHeader`]): it is the client's state.
///
/// Header names are lower case, which every HTTP version accepts (and
/// `http::HeaderName::from_static` requires). Values are checked to hold no byte a strict
/// HTTP library refuses: no control character but tab, no DEL. They may hold UTF-8 beyond
/// ASCII (an `id:` may), which HTTP carries as opaque bytes: build header values from bytes
/// (`http::HeaderValue::from_bytes(value.as_bytes())`), since `HeaderValue::from_str` takes
/// ASCII only.
///
/// [`Client::set_method`]: super::Client::set_method
/// [`Client::set_body`]: super::Client::set_body
/// [`Client::set_header`]: super::Client::set_header
///
/// # Example
///
/// ```
/// use std::time::Instant;
/// use sse_proto::{Action, Client, ClientConfig};
///
/// let mut client = Client::new(ClientConfig::default());
/// client.set_method("POST")?;
/// client.set_header("Content-Type", "application/json")?;
/// client.set_body(r#"{"prompt":"hi"}"#);
/// client.set_last_event_id("41")?;
/// let Action::Send(request) = client.poll(Instant::now(), 0) else { unreachable!() };
/// assert_eq!(request.method(), "POST");
/// assert_eq!(request.body().as_ref(), br#"{"prompt":"hi"}"#);
/// let headers: Vec<_> = request.headers().collect();
/// assert_eq!(
///     headers,
///     [
///         ("accept", "text/event-stream"),
///         ("cache-control", "no-cache"),
///         ("pragma", "no-cache"),
///         ("content-type", "application/json"),
///         ("last-event-id", "41"),
///     ]
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "send the request: the client now waits for its response"]
pub struct Request {
    template: RequestTemplate,
    last_event_id: Option<String>,
    withheld_last_event_id: Option<String>,
}

impl Request {
    /// The method: `GET` unless the caller set another with
    /// [`Client::set_method`](super::Client::set_method).
    ///
    /// # Example
    ///
    /// ```
    /// # use sse_proto::{Action, Client};
    /// let mut client = Client::new(Default::default());
    /// let Action::Send(request) = client.poll(std::time::Instant::now(), 0) else { unreachable!() };
    /// assert_eq!(request.method(), "GET");
    /// ```
    pub fn method(&self) -> &str {
        &self.template.method
    }

    /// The body: empty unless the caller set one with
    /// [`Client::set_body`](super::Client::set_body). A `Bytes`, so sending it again on every
    /// attempt copies nothing.
    ///
    /// # Example
    ///
    /// ```
    /// # use sse_proto::{Action, Client};
    /// let mut client = Client::new(Default::default());
    /// let Action::Send(request) = client.poll(std::time::Instant::now(), 0) else { unreachable!() };
    /// assert!(request.body().is_empty());
    /// ```
    pub fn body(&self) -> &Bytes {
        &self.template.body
    }

    /// The `Last-Event-ID` this request sends: `None` when the last event ID is empty (the
    /// header is then left out, never sent empty) or withheld
    /// ([`withheld_last_event_id`](Self::withheld_last_event_id)). Leading and trailing spaces
    /// and tabs are not sent: Fetch strips them from header values, and a server's HTTP
    /// parser would.
    ///
    /// # Example
    ///
    /// ```
    /// # use sse_proto::{Action, Client};
    /// let mut client = Client::new(Default::default());
    /// client.set_last_event_id(" 7 ")?;
    /// let Action::Send(request) = client.poll(std::time::Instant::now(), 0) else { unreachable!() };
    /// assert_eq!(request.last_event_id(), Some("7"));
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// The last event ID the client holds but does not send, because it contains a control
    /// character (other than tab) or DEL. A stream may set such an id (`id:` refuses only NUL,
    /// CR and LF), but strict HTTP libraries (`http::HeaderValue`, hence hyper, reqwest and
    /// axum) refuse it in a header, and would fail every attempt. The client sends no
    /// `Last-Event-ID` instead: the server treats it as a new client and sends its full state,
    /// as it does for an id it does not know. `None` when nothing is withheld.
    ///
    /// # Example
    ///
    /// ```
    /// # use sse_proto::{Action, Client};
    /// let mut client = Client::new(Default::default());
    /// client.set_last_event_id("bell\u{7}")?;
    /// let Action::Send(request) = client.poll(std::time::Instant::now(), 0) else { unreachable!() };
    /// assert_eq!(request.last_event_id(), None);
    /// assert_eq!(request.withheld_last_event_id(), Some("bell\u{7}"));
    /// assert!(request.headers().all(|(name, _)| name != "last-event-id"));
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn withheld_last_event_id(&self) -> Option<&str> {
        self.withheld_last_event_id.as_deref()
    }

    /// Every header, as `(name, value)` pairs: the client's defaults the caller did not
    /// replace, then the caller's in the order first set, then `last-event-id`.
    ///
    /// # Example
    ///
    /// ```
    /// # use sse_proto::{Action, Client};
    /// let mut client = Client::new(Default::default());
    /// client.set_header("accept", "application/json, text/event-stream")?; // MCP asks for both
    /// let Action::Send(request) = client.poll(std::time::Instant::now(), 0) else { unreachable!() };
    /// for (name, value) in request.headers() {
    ///     println!("{name}: {value}"); // reqwest: builder.header(name, HeaderValue::from_bytes(..)?)
    /// }
    /// let accept: Vec<_> = request.headers().filter(|(name, _)| *name == "accept").collect();
    /// assert_eq!(accept, [("accept", "application/json, text/event-stream")]);
    /// # Ok::<(), sse_proto::RequestError>(())
    /// ```
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let caller = &self.template.headers;
        DEFAULT_HEADERS
            .into_iter()
            .filter(move |(name, _)| !caller.iter().any(|(n, _)| n == name))
            .chain(caller.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .chain(self.last_event_id().map(|id| (LAST_EVENT_ID, id)))
    }
}

/// Whether `value` is a header value that strict HTTP libraries accept: no control
/// character but tab, no DEL (RFC 9110 section 5.5: field-content is visible characters,
/// spaces, tabs and opaque bytes above 0x7F). Returns the position and value of the first
/// byte refused.
///
/// # Errors
///
/// `Err((position, byte))` for the first byte refused.
///
/// # Example
///
/// ```
/// use sse_proto::check_header_value;
///
/// assert_eq!(check_header_value(b"Bearer abc"), Ok(()));
/// assert_eq!(check_header_value("ünï".as_bytes()), Ok(()));
/// assert_eq!(check_header_value(b"a\x01b"), Err((1, 0x01)));
/// ```
pub fn check_header_value(value: &[u8]) -> Result<(), (usize, u8)> {
    match value
        .iter()
        .position(|&b| (b < 0x20 && b != b'\t') || b == 0x7F)
    {
        Some(position) => Err((position, value[position])),
        None => Ok(()),
    }
}

/// RFC 9110 section 5.6.2: `token = 1*tchar`, the syntax of methods and header names.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}
