//! What both clients yield, and the translation of the core's [`Action`]s into it: the
//! shared half of [`reqwest::EventSource`](crate::reqwest::EventSource) and
//! [`blocking::EventSource`](crate::blocking::EventSource). No rule of the protocol lives
//! here: every decision is [`sse_proto::Client`]'s.

use std::collections::VecDeque;

use bytes::Bytes;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use sse_proto::{
    Action, Client, ClientConfig, CloseReason, ErrorCause, Event, ParseError, Request,
    RequestError, Signal, Step, Utf8Bytes,
};

/// The transport's own error, kept as the source of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What an event source yields besides errors, in order.
///
/// # Example
///
/// ```
/// use sse_proto_io::Incoming;
///
/// let open = Incoming::Open { last_event_id: Some("41".into()) };
/// assert!(open.event().is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incoming {
    /// A response opened the stream (a browser's `open` event).
    Open {
        /// The `Last-Event-ID` its request sent: where the stream resumes; `None` for a
        /// stream from the start.
        last_event_id: Option<String>,
    },
    /// An event.
    Event(Event),
    /// The server set the reconnection time with `retry:` (already applied).
    Retry(Duration),
    /// A comment, such as a keep-alive; only when the parser's `emit_comments` is on.
    Comment(Utf8Bytes),
}

impl Incoming {
    /// The event, if this is one.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::Event;
    /// use sse_proto_io::Incoming;
    ///
    /// assert_eq!(Incoming::Event(Event::new("hi")).event().map(Event::data), Some("hi"));
    /// ```
    pub fn event(&self) -> Option<&Event> {
        match self {
            Incoming::Event(event) => Some(event),
            _ => None,
        }
    }
}

/// Why an event source yielded an error. Only [`Closed`](Self::Closed) and
/// [`Request`](Self::Request) end it: after the others it goes on
/// ([`will_retry`](Self::will_retry)).
///
/// # Example
///
/// ```
/// use std::time::Instant;
/// use sse_proto::{CloseReason, ErrorCause, OpenError};
/// use sse_proto_io::Error;
///
/// let lost = Error::Reconnecting {
///     cause: ErrorCause::BodyEnded,
///     reconnect_at: Instant::now(),
///     after: std::time::Duration::from_secs(3),
///     source: None,
/// };
/// assert!(lost.will_retry());
/// let refused = Error::Closed {
///     reason: CloseReason::Failed(OpenError::Status { status: 404 }),
///     cause: Some(ErrorCause::Refused(OpenError::Status { status: 404 })),
///     source: None,
/// };
/// assert!(!refused.will_retry());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection ended, failed or was refused, and the source reconnects at
    /// `reconnect_at` (with `Last-Event-ID`). A browser fires `error` here.
    #[error("{cause}; reconnecting in {after:?}")]
    Reconnecting {
        /// What happened, as the core saw it.
        cause: ErrorCause,
        /// When the next attempt starts.
        reconnect_at: Instant,
        /// The wait from the failure to `reconnect_at`: the reconnection time, grown by the
        /// backoff if configured.
        after: Duration,
        /// The transport's error, when there was one.
        #[source]
        source: Option<BoxError>,
    },
    /// Closed for good: the response was refused (a status other than 200, another content
    /// type; 204 is the server's "stop"), or the attempt limit was reached. Nothing more
    /// comes.
    #[error("closed for good: {}", describe(reason))]
    Closed {
        /// Why, as the core says.
        reason: CloseReason,
        /// The last failure, when one closed it.
        cause: Option<ErrorCause>,
        /// The transport's error, when there was one.
        #[source]
        source: Option<BoxError>,
    },
    /// An event went over the parser's limits and was dropped; the stream goes on.
    #[error(transparent)]
    Dropped(ParseError),
    /// The request cannot be sent as given (a header the core refuses, a body that cannot
    /// be sent again, a URL the HTTP library refuses). Nothing more comes.
    #[error("invalid request: {0}")]
    Request(BoxError),
}

fn describe(reason: &CloseReason) -> String {
    match reason {
        CloseReason::Failed(error) => error.to_string(),
        CloseReason::GaveUp { attempts } => format!("gave up after {attempts} attempts"),
        CloseReason::ByCaller => "closed by the caller".to_owned(),
        other => format!("{other:?}"),
    }
}

impl Error {
    /// Whether the source goes on after this error (it reconnects, or skipped one event).
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::ParseError;
    /// use sse_proto_io::Error;
    ///
    /// assert!(Error::Dropped(ParseError::LineTooLong { len: 9, limit: 8 }).will_retry());
    /// ```
    pub fn will_retry(&self) -> bool {
        matches!(self, Error::Reconnecting { .. } | Error::Dropped(_))
    }
}

impl From<RequestError> for Error {
    fn from(error: RequestError) -> Self {
        Error::Request(Box::new(error))
    }
}

/// Random numbers for the backoff's jitter: std's per-process hash keys mixed with a
/// counter, so no RNG crate is needed for numbers that only spread reconnections.
#[derive(Debug, Default)]
pub(crate) struct Jitter {
    keys: std::collections::hash_map::RandomState,
    count: u64,
}

impl Jitter {
    pub(crate) fn next(&mut self) -> u32 {
        self.count += 1;
        let mut hasher = self.keys.build_hasher();
        hasher.write_u64(self.count);
        hasher.finish() as u32
    }
}

/// The client and what it produced that was not yet handed out: the part both IO loops
/// share. [`next`](Self::next) turns the core's [`Action`]s into items to yield, and hands the
/// ones that need IO back to the loop.
#[derive(Debug)]
pub(crate) struct Driver {
    pub(crate) client: Client,
    queue: VecDeque<Result<Incoming, Error>>,
    jitter: Jitter,
    /// The transport's error behind the next `error` signal.
    source: Option<BoxError>,
    /// The cause of an `error` signal that closed the client, for the `Closed` that follows.
    closing_cause: Option<ErrorCause>,
    /// When the transport reported the failure behind the next `error` signal.
    failed_at: Option<Instant>,
    /// The `Last-Event-ID` of the request in flight, for `Incoming::Open`.
    sent_id: Option<String>,
    /// Body bytes received, on every connection.
    pub(crate) received: u64,
    done: bool,
}

/// What [`Driver::next`] tells the IO loop: an item, or the IO of one [`Action`].
#[derive(Debug)]
pub(crate) enum Next {
    /// Yield this.
    Yield(Result<Incoming, Error>),
    /// [`Action::Send`]: start this request (dropping any connection still held).
    Send(Request),
    /// [`Action::AwaitResponse`]: wait for the head of the request sent, until the deadline.
    AwaitResponse(Option<Instant>),
    /// [`Action::ReadBody`]: read the body, until the deadline.
    ReadBody(Option<Instant>),
    /// [`Action::Wait`]: sleep until then.
    Wait(Instant),
    /// Nothing more comes.
    Done,
}

impl Driver {
    /// A driver for the request these parts describe (sent again on every attempt).
    pub(crate) fn for_request(
        config: ClientConfig,
        method: &http::Method,
        headers: &http::HeaderMap,
        body: Bytes,
    ) -> Result<Self, Error> {
        let mut driver = Driver::new(config);
        driver.client.set_method(method.as_str())?;
        for name in headers.keys() {
            // Repeated fields are one field, joined (RFC 9110 section 5.3); cookies with the
            // separator of their own grammar (RFC 6265 section 5.4).
            let separator: &[u8] = if name == http::header::COOKIE {
                b"; "
            } else {
                b", "
            };
            let mut joined = Vec::new();
            for value in headers.get_all(name) {
                if !joined.is_empty() {
                    joined.extend_from_slice(separator);
                }
                joined.extend_from_slice(value.as_bytes());
            }
            let value = String::from_utf8(joined).map_err(|_| {
                Error::Request(format!("the value of header {name} is not UTF-8").into())
            })?;
            driver.client.set_header(name.as_str(), &value)?;
        }
        driver.client.set_body(body);
        Ok(driver)
    }

    fn new(config: ClientConfig) -> Self {
        Driver {
            client: Client::new(config),
            queue: VecDeque::new(),
            jitter: Jitter::default(),
            source: None,
            closing_cause: None,
            failed_at: None,
            sent_id: None,
            received: 0,
            done: false,
        }
    }

    pub(crate) fn next(&mut self, now: Instant) -> Next {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Next::Yield(item);
            }
            if self.done {
                return Next::Done;
            }
            match self.client.poll(now, self.jitter.next()) {
                Action::Signal(Signal::Open) => {
                    return Next::Yield(Ok(Incoming::Open {
                        last_event_id: self.sent_id.take(),
                    }))
                }
                Action::Signal(Signal::Error {
                    cause,
                    reconnect_at: Some(reconnect_at),
                }) => {
                    let failed_at = self.failed_at.take().unwrap_or(now);
                    return Next::Yield(Err(Error::Reconnecting {
                        cause,
                        reconnect_at,
                        after: reconnect_at.saturating_duration_since(failed_at),
                        source: self.source.take(),
                    }));
                }
                Action::Signal(Signal::Error { cause, .. }) => self.closing_cause = Some(cause),
                Action::Signal(_) => {}
                Action::Closed(reason) => {
                    self.done = true;
                    if reason != CloseReason::ByCaller {
                        return Next::Yield(Err(Error::Closed {
                            reason,
                            cause: self.closing_cause.take(),
                            source: self.source.take(),
                        }));
                    }
                }
                Action::Send(request) => {
                    self.sent_id = request.last_event_id().map(str::to_owned);
                    return Next::Send(request);
                }
                Action::AwaitResponse { deadline } => return Next::AwaitResponse(deadline),
                Action::ReadBody { deadline } => return Next::ReadBody(deadline),
                Action::Wait { until } => return Next::Wait(until),
            }
        }
    }

    /// A body chunk: its steps become items.
    pub(crate) fn feed(&mut self, now: Instant, chunk: &[u8]) {
        self.received += chunk.len() as u64;
        let steps = self.client.feed(now, chunk);
        self.queue.extend(steps.filter_map(|step| match step {
            Ok(Step::Event(event)) => Some(Ok(Incoming::Event(event))),
            Ok(Step::Retry(delay)) => Some(Ok(Incoming::Retry(delay))),
            Ok(Step::Comment(text)) => Some(Ok(Incoming::Comment(text))),
            Ok(_) => None,
            Err(limit) => Some(Err(Error::Dropped(limit))),
        }));
    }

    /// The request failed or the body ended: `source` is the transport's error, if any.
    pub(crate) fn lost(&mut self, now: Instant, source: Option<BoxError>) {
        self.source = source;
        self.failed_at = Some(now);
        self.client.handle_disconnect(now);
    }

    /// A wait for the head or for body bytes ended at its deadline with nothing.
    pub(crate) fn timed_out(&mut self, now: Instant) {
        self.failed_at = Some(now);
        self.client.handle_timeout(now);
    }

    /// The response head arrived: `true` when it opened the stream.
    pub(crate) fn response(
        &mut self,
        now: Instant,
        status: u16,
        content_type: Option<&[u8]>,
        retry_after: Option<&[u8]>,
    ) -> bool {
        let opened = self
            .client
            .handle_response(now, status, content_type, retry_after)
            .is_ok();
        if !opened {
            self.failed_at = Some(now);
        }
        opened
    }

    /// An error of ours that ends the source: yielded next, then nothing.
    pub(crate) fn fail(&mut self, error: Error) {
        self.client.close();
        self.queue.clear();
        self.queue.push_back(Err(error));
    }

    /// Closed by the caller: nothing more is yielded.
    pub(crate) fn close(&mut self) {
        self.client.close();
        self.queue.clear();
    }
}
