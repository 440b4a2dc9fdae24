//! [`Client`]: the EventSource processing model as a sans-IO state machine.
//!
//! <https://html.spec.whatwg.org/multipage/server-sent-events.html#the-eventsource-interface>
//!
//! # How to change this safely
//!
//! Two kinds of deadline, fired by different inputs. The end of a wait before reconnecting
//! is fired by every input that carries `now` ([`Client::end_wait`]), so a wait's end is never
//! earlier than the last `now` given. The read timeout is fired only by
//! [`Client::handle_timeout`]: the caller's word that it waited for bytes until the deadline
//! and none came. A caller busy with its events is not waiting, and bytes that arrived
//! meanwhile are still unread: counting that time as silence would drop a healthy
//! connection under a slow consumer. Inputs that prove the connection alive (response head,
//! body bytes) count at once. `tests/client.rs` and the `client_ops` fuzz target check these
//! rules after every operation. All reconnections after a failure go through
//! [`Client::connection_lost`], the only place the attempt counter grows and a wait is set;
//! every state change that a browser reports pushes its [`Signal`] in the same statement
//! block, so the signals cannot drift from the states.

mod action;
mod backoff;
mod config;
mod request;
mod steps;

use alloc::collections::VecDeque;
use core::time::Duration;
use std::time::Instant;

use bytes::Bytes;

pub use action::{Action, ErrorCause, Signal};
pub use backoff::Backoff;
pub use config::ClientConfig;
pub use request::{check_header_value, Request};
pub use steps::ClientSteps;

use crate::error::{EncodeError, OpenError, RequestError};
use crate::http::{is_event_stream, parse_retry_after};
use crate::parser::Parser;
use crate::utf8::Utf8Bytes;
use request::RequestTemplate;

/// The `readyState` of an event source, with the numbers browsers expose.
///
/// # Example
///
/// ```
/// use sse_proto::{Client, ClientConfig, ReadyState};
///
/// let client = Client::new(ClientConfig::default());
/// assert_eq!(client.ready_state(), ReadyState::Connecting);
/// assert_eq!(ReadyState::Closed as u16, 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ReadyState {
    /// `CONNECTING` (0): waiting to reconnect, or a request is in flight.
    Connecting = 0,
    /// `OPEN` (1): a response was accepted and its body is being read.
    Open = 1,
    /// `CLOSED` (2): for good; nothing will be requested again.
    Closed = 2,
}

/// Why a [`Client`] is closed.
///
/// # Example
///
/// ```
/// use sse_proto::{Client, ClientConfig, CloseReason};
///
/// let mut client = Client::new(ClientConfig::default());
/// client.close();
/// assert_eq!(client.close_reason(), Some(&CloseReason::ByCaller));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// [`Client::close`] was called.
    ByCaller,
    /// A response failed the connection (the standard's "fail the connection").
    Failed(OpenError),
    /// [`ClientConfig::max_attempts`] reconnection attempts in a row failed.
    GaveUp {
        /// The attempts made since the last healthy connection.
        attempts: u32,
    },
}

/// Where the connection stands. `Due`, `Waiting` and `Requested` are `CONNECTING`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    /// The next request may be sent now.
    Due,
    /// Waiting before the next attempt.
    Waiting {
        until: Instant,
    },
    /// The request was handed out; no response yet.
    Requested {
        last_activity: Instant,
    },
    /// Reading the body.
    Open {
        opened_at: Instant,
        last_activity: Instant,
    },
    Closed(CloseReason),
}

/// A browser's `EventSource` without the I/O: the client side of the connection rules,
/// reconnection and liveness included, for any request (a `POST` with a JSON body too).
///
/// The client owns a [`Parser`] and with it the last event ID, which survives every
/// reconnection; you move the bytes and read the clock. Time is always an argument
/// (`now`, from a monotonic clock such as [`Instant::now`]), and so is the randomness used for
/// jitter.
///
/// # The loop
///
/// [`poll`](Self::poll)`(now, random)` says what to do next, as an [`Action`]:
///
/// - [`Send`](Action::Send): open a connection with this [`Request`] (method, headers, body).
/// - [`Signal`](Action::Signal): report `open` or `error` as a browser would.
/// - [`AwaitResponse`](Action::AwaitResponse): wait for the response head, at most until
///   its deadline, then [`handle_response`](Self::handle_response) (or
///   [`handle_disconnect`](Self::handle_disconnect) if the request failed).
/// - [`ReadBody`](Action::ReadBody): read body chunks, at most until the deadline, into
///   [`feed`](Self::feed)`(now, chunk)`, draining the iterator it returns; at the end of the
///   body, [`handle_disconnect`](Self::handle_disconnect).
/// - [`Wait`](Action::Wait): sleep until then.
/// - [`Closed`](Action::Closed): stop.
///
/// After each, poll again. When a wait for the head or for a chunk ends at its deadline with
/// nothing received, call [`handle_timeout`](Self::handle_timeout) first: that is what fires
/// the read timeout (read what is already buffered before deciding nothing came: a deadline
/// may have passed while the caller was busy with earlier events). Before the request of a reconnection the caller always gets a
/// [`Signal::Error`]: that is where fresh credentials go ([`set_header`](Self::set_header)).
///
/// [`close`](Self::close) (final) and [`restart`](Self::restart) (reconnect now, not counted
/// as a failure) may be called at any time. Calls that do not fit the current state (a
/// disconnect while waiting, body bytes while not open, an early or repeated
/// [`handle_timeout`](Self::handle_timeout)) are harmless no-ops. `now` must not go
/// backwards.
///
/// # Decisions
///
/// - The last event ID lives in the client's parser: it is kept across reconnections, even
///   when later connections' events carry no id, and can be seeded with
///   [`set_last_event_id`](Self::set_last_event_id) after a restart.
/// - A server's `retry:` replaces the reconnection time for the rest of the client's life;
///   backoff multiplies from it and never goes below it.
/// - Jitter comes from the `random` given with the poll that hands out a request, and only
///   lengthens the wait after that request's connection fails.
/// - The caller's headers replace the client's defaults of the same name (`accept`,
///   `cache-control`, `pragma`); `last-event-id` is the client's alone (see [`Request`]).
///
/// # Example: the whole loop over a fake transport
///
/// The transport is a list of scripted answers, one per request; the clock is one
/// `Instant::now()` plus durations. A real loop has the same shape, with the waits done by
/// the runtime.
///
/// ```
/// use std::time::{Duration, Instant};
/// use sse_proto::{Action, Client, ClientConfig, CloseReason, OpenError, Signal, Step};
///
/// enum Answer {
///     Stream(Vec<&'static [u8]>), // status 200, text/event-stream, body chunks
///     Status(u16),                // another status, no body
///     NetworkError,               // the request failed
/// }
/// let mut transport = vec![
///     Answer::Stream(vec![b"retry: 1000\nid: 1\nda", b"ta: one\n\n"]),
///     Answer::NetworkError,
///     Answer::Stream(vec![b"data: two\n\n"]),
///     Answer::Status(204),
/// ]
/// .into_iter();
///
/// let start = Instant::now();
/// let mut now = start; // the fake clock
/// let mut client = Client::new(ClientConfig::default());
/// client.set_method("POST")?;
/// client.set_body(r#"{"stream":true}"#);
/// let (mut sent, mut events, mut signals) = (Vec::new(), Vec::new(), Vec::new());
/// let mut body: Vec<&[u8]> = Vec::new();
/// loop {
///     let random = 7; // a real loop: rand::random()
///     match client.poll(now, random) {
///         Action::Send(request) => {
///             sent.push((now - start, request.method().to_owned(), request.body().clone(),
///                        request.last_event_id().map(str::to_owned)));
///             now += Duration::from_millis(50); // the round trip
///             match transport.next().expect("scripted") {
///                 Answer::Stream(chunks) => {
///                     body = chunks;
///                     let _ = client.handle_response(now, 200, Some(b"text/event-stream"), None);
///                 }
///                 Answer::Status(status) => {
///                     let _ = client.handle_response(now, status, None, None);
///                 }
///                 Answer::NetworkError => client.handle_disconnect(now),
///             }
///         }
///         Action::Signal(signal) => signals.push(signal),
///         Action::AwaitResponse { .. } => unreachable!("every request is answered above"),
///         Action::ReadBody { .. } => {
///             for chunk in body.drain(..) {
///                 now += Duration::from_millis(10);
///                 for step in client.feed(now, chunk) {
///                     if let Ok(Step::Event(event)) = step {
///                         events.push((event.data().to_owned(), event.last_event_id().to_owned()));
///                     }
///                 }
///             }
///             client.handle_disconnect(now); // the body ended
///         }
///         Action::Wait { until } => now = until, // a real loop sleeps
///         Action::Closed(reason) => {
///             assert_eq!(reason, CloseReason::Failed(OpenError::NoContent));
///             break;
///         }
///     }
/// }
///
/// assert_eq!(events, [("one".into(), "1".into()), ("two".into(), "1".into())]);
/// let ms = Duration::from_millis;
/// let body = bytes::Bytes::from_static(br#"{"stream":true}"#);
/// assert_eq!(
///     sent,
///     [
///         (ms(0), "POST".into(), body.clone(), None),
///         (ms(1070), "POST".into(), body.clone(), Some("1".into())), // retry: 1000 after 70 ms
///         (ms(2120), "POST".into(), body.clone(), Some("1".into())), // the id survives a failure
///         (ms(3180), "POST".into(), body, Some("1".into())), // and a connection with no id
///     ]
/// );
/// let kinds: Vec<_> = signals.iter().map(|s| match s {
///     Signal::Error { reconnect_at: Some(_), .. } => "error",
///     Signal::Error { reconnect_at: None, .. } => "error, closed",
///     _ => "open",
/// }).collect();
/// assert_eq!(kinds, ["open", "error", "error", "open", "error", "error, closed"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    config: ClientConfig,
    parser: Parser,
    state: State,
    /// The caller's method, headers and body, sent on every attempt.
    template: RequestTemplate,
    /// What happened that a browser would report, oldest first. At most two wait here: a
    /// request is handed out only once the queue is empty, and from then on at most `open`
    /// and one `error` can happen before the next request.
    signals: VecDeque<Signal>,
    /// The base wait: the configured default until the server sends `retry:`.
    reconnection_time: Duration,
    /// Reconnection attempts scheduled since the last healthy connection.
    attempts: u32,
    /// The caller's random number for the attempt in progress.
    random: u32,
    /// Whether the attempt in progress is the one retry after refused credentials.
    refreshing_credentials: bool,
}

impl Client {
    /// The longest wait the client ever schedules: one day. A larger server `retry:`,
    /// `Retry-After` or backoff is cut to it, so deadlines always fit in an [`Instant`].
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_proto::{Backoff, Client};
    ///
    /// let backoff = Backoff::new(2, Duration::MAX);
    /// assert_eq!(backoff.delay(Duration::from_secs(3), 100, 0), Client::MAX_WAIT);
    /// ```
    pub const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

    /// A client in [`ReadyState::Connecting`] whose first request is due at once: a `GET`
    /// with no body until [`set_method`](Self::set_method) and
    /// [`set_body`](Self::set_body) say otherwise.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Instant;
    /// use sse_proto::{Action, Client, ClientConfig};
    ///
    /// let mut client = Client::new(ClientConfig::default());
    /// assert!(matches!(client.poll(Instant::now(), 0), Action::Send(_)));
    /// ```
    pub fn new(config: ClientConfig) -> Self {
        Client {
            parser: Parser::with_config(config.parser.clone()),
            reconnection_time: config.reconnection_time,
            config,
            state: State::Due,
            template: RequestTemplate::default(),
            signals: VecDeque::new(),
            attempts: 0,
            random: 0,
            refreshing_credentials: false,
        }
    }

    /// The settings in use.
    ///
    /// # Example
    ///
    /// ```
    /// let client = sse_proto::Client::new(Default::default());
    /// assert_eq!(client.config().max_attempts, None);
    /// ```
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Sets the method of every later request (`GET` by default): `POST` for the LLM APIs,
    /// MCP and GraphQL subscriptions that open their streams with a body.
    ///
    /// # Errors
    ///
    /// [`RequestError::InvalidMethod`] when `method` is not an HTTP token (empty, or with a
    /// space, a separator or a byte beyond ASCII); the method is then unchanged.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Client, RequestError};
    ///
    /// let mut client = Client::new(Default::default());
    /// client.set_method("POST")?;
    /// assert!(matches!(client.set_method("GET /"), Err(RequestError::InvalidMethod { .. })));
    /// # Ok::<(), RequestError>(())
    /// ```
    pub fn set_method(&mut self, method: &str) -> Result<(), RequestError> {
        self.template.set_method(method)
    }

    /// Sets the body of every later request (empty by default), sent again as it is on every
    /// reconnection. Set its `content-type` with [`set_header`](Self::set_header).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Instant;
    /// use sse_proto::{Action, Client};
    ///
    /// let mut client = Client::new(Default::default());
    /// client.set_body(r#"{"model":"m","stream":true}"#);
    /// let Action::Send(request) = client.poll(Instant::now(), 0) else { unreachable!() };
    /// assert_eq!(request.body().len(), 27);
    /// ```
    pub fn set_body(&mut self, body: impl Into<Bytes>) {
        self.template.set_body(body.into());
    }

    /// Sets a header of every later request, replacing an earlier value of the same name
    /// (names compare without regard to ASCII case and are sent in lower case). A header
    /// named `accept`, `cache-control` or `pragma` replaces the client's default. Call it
    /// when the [`Signal::Error`] before a reconnection arrives to send fresh credentials.
    ///
    /// # Errors
    ///
    /// The request is unchanged and the error says why:
    /// - [`RequestError::InvalidHeaderName`]: `name` is not an HTTP token;
    /// - [`RequestError::InvalidHeaderValue`]: `value` holds a control character other
    ///   than tab, or DEL, which strict HTTP libraries refuse (and CR or LF would split the
    ///   header);
    /// - [`RequestError::LastEventIdHeader`]: `last-event-id` is the client's: use
    ///   [`set_last_event_id`](Self::set_last_event_id).
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Client, RequestError};
    ///
    /// let mut client = Client::new(Default::default());
    /// client.set_header("Authorization", "Bearer old")?;
    /// client.set_header("authorization", "Bearer new")?; // replaces it
    /// assert_eq!(
    ///     client.set_header("x-token", "a\r\nevil: 1"),
    ///     Err(RequestError::InvalidHeaderValue { name: "x-token".into(), byte: b'\r', position: 1 })
    /// );
    /// assert_eq!(client.set_header("Last-Event-ID", "5"), Err(RequestError::LastEventIdHeader));
    /// # Ok::<(), RequestError>(())
    /// ```
    pub fn set_header(&mut self, name: &str, value: &str) -> Result<(), RequestError> {
        self.template.set_header(name, value)
    }

    /// Removes a header set with [`set_header`](Self::set_header) (a removed default comes
    /// back); returns whether there was one.
    ///
    /// # Example
    ///
    /// ```
    /// let mut client = sse_proto::Client::new(Default::default());
    /// client.set_header("authorization", "Bearer x")?;
    /// assert!(client.remove_header("Authorization"));
    /// assert!(!client.remove_header("authorization"));
    /// # Ok::<(), sse_proto::RequestError>(())
    /// ```
    pub fn remove_header(&mut self, name: &str) -> bool {
        self.template.remove_header(name)
    }

    /// `CONNECTING`, `OPEN` or `CLOSED`.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Client, ReadyState};
    ///
    /// let mut client = Client::new(Default::default());
    /// client.close();
    /// assert_eq!(client.ready_state(), ReadyState::Closed);
    /// ```
    pub fn ready_state(&self) -> ReadyState {
        match self.state {
            State::Due | State::Waiting { .. } | State::Requested { .. } => ReadyState::Connecting,
            State::Open { .. } => ReadyState::Open,
            State::Closed(_) => ReadyState::Closed,
        }
    }

    /// Whether a request is in flight: handed out by [`poll`](Self::poll), with no response
    /// head yet. (The ready state is `CONNECTING` then, as it is while waiting.)
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Instant;
    /// use sse_proto::{Action, Client};
    ///
    /// let mut client = Client::new(Default::default());
    /// assert!(!client.is_requesting());
    /// let Action::Send(_request) = client.poll(Instant::now(), 0) else { unreachable!() };
    /// assert!(client.is_requesting());
    /// ```
    pub fn is_requesting(&self) -> bool {
        matches!(self.state, State::Requested { .. })
    }

    /// Why the client is closed; `None` while it is not.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(sse_proto::Client::new(Default::default()).close_reason(), None);
    /// ```
    pub fn close_reason(&self) -> Option<&CloseReason> {
        match &self.state {
            State::Closed(reason) => Some(reason),
            _ => None,
        }
    }

    /// The last event ID: sent as `Last-Event-ID` by the next request when not empty. Kept
    /// across reconnections; changed only by the server's `id:` fields (at dispatch) and by
    /// [`set_last_event_id`](Self::set_last_event_id). Save it to resume after a restart.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(sse_proto::Client::new(Default::default()).last_event_id(), "");
    /// ```
    pub fn last_event_id(&self) -> &str {
        self.parser.last_event_id()
    }

    /// Seeds the last event ID, typically with one saved by a previous run, before the first
    /// [`poll`](Self::poll). While a stream is open it replaces the id as if the server had
    /// sent it. `""` clears it.
    ///
    /// # Errors
    ///
    /// [`EncodeError::LineBreak`] or [`EncodeError::NulInId`] when `id` holds CR, LF or NUL,
    /// which no server could have sent; the client is then unchanged.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Instant;
    /// use sse_proto::{Action, Client};
    ///
    /// let mut client = Client::new(Default::default());
    /// client.set_last_event_id("from-disk-99")?;
    /// let Action::Send(request) = client.poll(Instant::now(), 0) else { unreachable!() };
    /// assert_eq!(request.last_event_id(), Some("from-disk-99"));
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn set_last_event_id(&mut self, id: &str) -> Result<(), EncodeError> {
        self.parser.set_last_event_id(id)
    }

    /// The reconnection time: the configured one until the server sends `retry:`, then the
    /// server's. The base of every wait (see [`Backoff`]).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let client = sse_proto::Client::new(Default::default());
    /// assert_eq!(client.reconnection_time(), Duration::from_secs(3));
    /// ```
    pub fn reconnection_time(&self) -> Duration {
        self.reconnection_time
    }

    /// Reconnection attempts scheduled since the last healthy connection (see
    /// [`ClientConfig::healthy_after`]); what [`ClientConfig::max_attempts`] limits.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Instant;
    /// use sse_proto::{Action, Client};
    ///
    /// let mut client = Client::new(Default::default());
    /// let now = Instant::now();
    /// let Action::Send(_request) = client.poll(now, 0) else { unreachable!() };
    /// client.handle_disconnect(now); // connection refused
    /// assert_eq!(client.attempts(), 1);
    /// ```
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// When the wait before the next attempt ends, while waiting; `None` otherwise (for a
    /// "reconnecting in 3 s" display).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{Action, Client};
    ///
    /// let mut client = Client::new(Default::default());
    /// let now = Instant::now();
    /// let Action::Send(_request) = client.poll(now, 0) else { unreachable!() };
    /// client.handle_disconnect(now);
    /// assert_eq!(client.reconnect_at(), Some(now + Duration::from_secs(3)));
    /// ```
    pub fn reconnect_at(&self) -> Option<Instant> {
        match self.state {
            State::Waiting { until } => Some(until),
            _ => None,
        }
    }

    /// What to do next (see [the loop](Self#the-loop)). Ends a wait that `now` has reached
    /// first, then hands out the oldest pending [`Signal`], then the action of the current
    /// state. It never fires the read timeout: [`handle_timeout`](Self::handle_timeout) does. `random` is a fresh random number (e.g. `rand::random()`), used
    /// only when a request is handed out: it sets the jitter of the wait after that attempt,
    /// if it fails.
    ///
    /// Only [`Action::Send`] changes the state (the request is then in flight); every other
    /// answer is repeated until something happens, so polling again is always safe.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{Action, Client, ClientConfig, ErrorCause, Signal};
    ///
    /// let mut config = ClientConfig::default();
    /// config.read_timeout = Some(Duration::from_secs(45));
    /// let mut client = Client::new(config);
    /// let start = Instant::now();
    /// let Action::Send(_request) = client.poll(start, 0) else { unreachable!() };
    /// // A server that accepts the connection and never answers:
    /// let deadline = start + Duration::from_secs(45);
    /// assert_eq!(client.poll(start, 0), Action::AwaitResponse { deadline: Some(deadline) });
    /// // ... the caller's wait for the head ends at the deadline with nothing:
    /// assert_eq!(client.poll(deadline, 0), Action::AwaitResponse { deadline: Some(deadline) });
    /// client.handle_timeout(deadline);
    /// let Action::Signal(Signal::Error { cause, .. }) = client.poll(deadline, 0) else { panic!() };
    /// assert_eq!(cause, ErrorCause::ReadTimeout);
    /// assert_eq!(client.poll(deadline, 0), Action::Wait { until: deadline + Duration::from_secs(3) });
    /// ```
    pub fn poll(&mut self, now: Instant, random: u32) -> Action {
        self.end_wait(now);
        if let Some(signal) = self.signals.pop_front() {
            return Action::Signal(signal);
        }
        match &self.state {
            State::Due => {
                self.state = State::Requested { last_activity: now };
                self.random = random;
                Action::Send(self.template.to_request(self.parser.last_event_id()))
            }
            State::Waiting { until } => Action::Wait { until: *until },
            State::Requested { last_activity } => Action::AwaitResponse {
                deadline: self.read_deadline(*last_activity),
            },
            State::Open { last_activity, .. } => Action::ReadBody {
                deadline: self.read_deadline(*last_activity),
            },
            State::Closed(reason) => Action::Closed(reason.clone()),
        }
    }

    /// The response head arrived: checks it, per the standard's "fail the connection" rule.
    ///
    /// - Status 200 and a `Content-Type` whose MIME essence is `text/event-stream`
    ///   (case-insensitive, parameters ignored): `Ok`, the client is [`ReadyState::Open`]
    ///   and signals [`Signal::Open`]; read the body into [`feed`](Self::feed).
    /// - Anything else: `Err`, drop the response; the client signals [`Signal::Error`] with
    ///   [`ErrorCause::Refused`]. It is closed for good, except:
    ///   - with [`ClientConfig::retry_server_errors`], status 429 and 5xx: it waits (at
    ///     least `retry_after`, the `Retry-After` header, when it is in seconds) and
    ///     reconnects, as after a network error;
    ///   - with [`ClientConfig::refresh_credentials`], status 401 and 403, the first time in
    ///     a row: it signals [`ErrorCause::CredentialsRefused`] instead and retries at once.
    ///
    /// # Errors
    ///
    /// [`OpenError::NoContent`] for 204, [`OpenError::Status`] for any other status but 200,
    /// [`OpenError::ContentType`] for 200 with another content type or none, and
    /// [`OpenError::NotAwaitingResponse`] when no request was in flight (for instance after
    /// [`close`](Self::close) or [`restart`](Self::restart)).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Instant;
    /// use sse_proto::{Action, Client, OpenError, ReadyState};
    ///
    /// let now = Instant::now();
    /// let mut client = Client::new(Default::default());
    /// let Action::Send(_request) = client.poll(now, 0) else { unreachable!() };
    /// let result = client.handle_response(now, 200, Some(b"TEXT/event-stream;charset=UTF-8"), None);
    /// assert_eq!(result, Ok(()));
    /// assert_eq!(client.ready_state(), ReadyState::Open);
    ///
    /// let mut client = Client::new(Default::default());
    /// let Action::Send(_request) = client.poll(now, 0) else { unreachable!() };
    /// assert_eq!(client.handle_response(now, 503, None, Some(b"5")), Err(OpenError::Status { status: 503 }));
    /// assert_eq!(client.ready_state(), ReadyState::Closed); // retry_server_errors is off
    /// ```
    pub fn handle_response(
        &mut self,
        now: Instant,
        status: u16,
        content_type: Option<&[u8]>,
        retry_after: Option<&[u8]>,
    ) -> Result<(), OpenError> {
        // A response is a sign of life: it counts even if the read timeout is due.
        if !matches!(self.state, State::Requested { .. }) {
            self.end_wait(now);
            return Err(OpenError::NotAwaitingResponse);
        }
        let error = match status {
            200 if content_type.is_some_and(is_event_stream) => {
                // "announce the connection": readyState OPEN, then fire `open`.
                self.parser.reset();
                self.refreshing_credentials = false;
                self.state = State::Open {
                    opened_at: now,
                    last_activity: now,
                };
                self.signals.push_back(Signal::Open);
                return Ok(());
            }
            200 => OpenError::ContentType {
                content_type: content_type
                    .map(|ct| Utf8Bytes::from_utf8_lossy(Bytes::copy_from_slice(ct))),
            },
            204 => OpenError::NoContent,
            401 | 403 if self.config.refresh_credentials && !self.refreshing_credentials => {
                self.refreshing_credentials = true;
                self.state = State::Due;
                self.signals.push_back(Signal::Error {
                    cause: ErrorCause::CredentialsRefused { status },
                    reconnect_at: Some(now),
                });
                return Err(OpenError::Status { status });
            }
            429 | 500..=599 if self.config.retry_server_errors => {
                let at_least = retry_after
                    .and_then(parse_retry_after)
                    .unwrap_or(Duration::ZERO);
                let error = OpenError::Status { status };
                self.connection_lost(now, at_least, ErrorCause::Refused(error.clone()));
                return Err(error);
            }
            _ => OpenError::Status { status },
        };
        // "fail the connection": readyState CLOSED, then fire `error`.
        self.state = State::Closed(CloseReason::Failed(error.clone()));
        self.signals.push_back(Signal::Error {
            cause: ErrorCause::Refused(error.clone()),
            reconnect_at: None,
        });
        Err(error)
    }

    /// A chunk of the response body arrived: returns the steps it completes, as
    /// [`Parser::feed`] does. Drain the iterator: what is left of the chunk when it is dropped
    /// is not read ([`ClientSteps::remaining`]).
    ///
    /// The client applies each step before yielding it: `retry:` sets the
    /// [`reconnection_time`](Self::reconnection_time), dispatched `id:`s the
    /// [`last_event_id`](Self::last_event_id). Any non-empty chunk (a keep-alive comment too)
    /// resets the read timeout. While the client is not [`ReadyState::Open`] the chunk is
    /// ignored and the iterator is empty.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{Action, Client, Step};
    ///
    /// let now = Instant::now();
    /// let mut client = Client::new(Default::default());
    /// let Action::Send(_request) = client.poll(now, 0) else { unreachable!() };
    /// client.handle_response(now, 200, Some(b"text/event-stream"), None)?;
    /// let steps: Vec<_> = client.feed(now, b"retry: 500\nid: 9\ndata: hi\n\n").collect();
    /// assert_eq!(steps.len(), 2);
    /// assert_eq!(client.reconnection_time(), Duration::from_millis(500));
    /// assert_eq!(client.last_event_id(), "9");
    /// # Ok::<(), sse_proto::OpenError>(())
    /// ```
    pub fn feed<'c, 'b>(&'c mut self, now: Instant, chunk: &'b [u8]) -> ClientSteps<'c, 'b> {
        match &mut self.state {
            State::Open { last_activity, .. } if !chunk.is_empty() => *last_activity = now,
            _ => self.end_wait(now),
        }
        // Nothing below can change the state while the iterator lives: it holds the client.
        let open = matches!(self.state, State::Open { .. });
        ClientSteps {
            steps: open.then(|| self.parser.feed(chunk)),
            reconnection_time: &mut self.reconnection_time,
            chunk,
        }
    }

    /// The connection is gone: the body ended (cleanly or not), or the request failed before
    /// a response. The client signals [`Signal::Error`] and waits, then reconnects: the
    /// reconnection time, grown by the [`Backoff`] if configured; or it closes with
    /// [`CloseReason::GaveUp`] when [`ClientConfig::max_attempts`] is reached. A no-op unless
    /// a request was in flight or the stream was open.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{Action, Client, ReadyState};
    ///
    /// let now = Instant::now();
    /// let mut client = Client::new(Default::default());
    /// let Action::Send(_request) = client.poll(now, 0) else { unreachable!() };
    /// client.handle_response(now, 200, Some(b"text/event-stream"), None)?;
    /// client.handle_disconnect(now + Duration::from_secs(60));
    /// assert_eq!(client.ready_state(), ReadyState::Connecting);
    /// assert_eq!(client.poll_timeout(), Some(now + Duration::from_secs(63)));
    /// # Ok::<(), sse_proto::OpenError>(())
    /// ```
    pub fn handle_disconnect(&mut self, now: Instant) {
        self.end_wait(now);
        let cause = match self.state {
            State::Requested { .. } => ErrorCause::RequestFailed,
            State::Open { .. } => ErrorCause::BodyEnded,
            _ => return,
        };
        self.connection_lost(now, Duration::ZERO, cause);
    }

    /// Drops the current connection on purpose and reconnects now: to pick up new
    /// credentials, or to move to another server. Counted neither as a failure nor as a
    /// backoff step, and no [`Signal`] is given (the caller asked for it). A pending wait is
    /// cut short. Drop the connection you hold: the next [`poll`](Self::poll) hands out the
    /// new request. Until then a response to the old one is refused
    /// ([`OpenError::NotAwaitingResponse`]); after it, the client cannot tell the old
    /// request's response from the new one's (requests carry no identity), so feed it only
    /// what the new connection brings. A no-op when a request is already due or the client
    /// is closed. A read deadline that passed unchecked is not fired: a restart is never a
    /// failure.
    ///
    /// A connection that was open for [`ClientConfig::healthy_after`] counts as healthy:
    /// the attempt count starts again from zero, as when such a connection ends.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{Action, Client};
    ///
    /// let now = Instant::now();
    /// let mut client = Client::new(Default::default());
    /// let Action::Send(_request) = client.poll(now, 0) else { unreachable!() };
    /// client.handle_response(now, 200, Some(b"text/event-stream"), None)?;
    /// client.set_header("authorization", "Bearer fresh")?;
    /// let later = now + Duration::from_secs(1);
    /// client.restart(later);
    /// assert_eq!(client.poll(later, 0), Action::Signal(sse_proto::Signal::Open)); // from before
    /// let Action::Send(request) = client.poll(later, 0) else { panic!() };
    /// assert!(request.headers().any(|header| header == ("authorization", "Bearer fresh")));
    /// assert_eq!(client.attempts(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restart(&mut self, now: Instant) {
        self.end_wait(now);
        match self.state {
            State::Open { opened_at, .. } => {
                if now.saturating_duration_since(opened_at) >= self.config.healthy_after {
                    self.attempts = 0;
                }
            }
            State::Waiting { .. } | State::Requested { .. } => {}
            State::Due | State::Closed(_) => return,
        }
        self.state = State::Due;
    }

    /// Drops whatever the parser holds of an unfinished line or event, keeping the last
    /// event ID and the reconnection time, as the parser's `reset` does in the proposed
    /// `EventSource.fromReadableStream`. For a caller that switches the byte source without
    /// a new response (a new response does this itself); the state is unchanged.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{Action, Client, Step};
    ///
    /// let now = Instant::now();
    /// let mut client = Client::new(Default::default());
    /// let Action::Send(_request) = client.poll(now, 0) else { unreachable!() };
    /// client.handle_response(now, 200, Some(b"text/event-stream"), None)?;
    /// let _ = client.feed(now, b"retry: 100\nid: 1\n\ndata: half").count();
    /// client.reset();
    /// let steps: Vec<_> = client.feed(now, b"\n\ndata: whole\n\n").collect();
    /// assert!(matches!(&steps[..], [Ok(Step::Event(e))] if e.data() == "whole"));
    /// assert_eq!((client.last_event_id(), client.reconnection_time()), ("1", Duration::from_millis(100)));
    /// # Ok::<(), sse_proto::OpenError>(())
    /// ```
    pub fn reset(&mut self) {
        self.parser.reset();
    }

    /// The next instant at which a deadline fires: the end of the wait before reconnecting,
    /// or the read timeout; the same deadline [`poll`](Self::poll) gives. `None` when there
    /// is none (no read timeout configured, a request due now, or closed). The end of a wait
    /// is never earlier than the last `now` given; a read deadline may be, when the caller
    /// has not waited for bytes since (see [`handle_timeout`](Self::handle_timeout)).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{Action, Client, ClientConfig};
    ///
    /// let mut config = ClientConfig::default();
    /// config.read_timeout = Some(Duration::from_secs(45));
    /// let mut client = Client::new(config);
    /// let now = Instant::now();
    /// let Action::Send(_request) = client.poll(now, 0) else { unreachable!() };
    /// assert_eq!(client.poll_timeout(), Some(now + Duration::from_secs(45)));
    /// ```
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Waiting { until } => Some(until),
            State::Requested { last_activity } | State::Open { last_activity, .. } => {
                self.read_deadline(last_activity)
            }
            State::Due | State::Closed(_) => None,
        }
    }

    /// A wait for the response head or for body bytes ended at `now` with nothing received:
    /// when `now` has reached the read deadline, the connection is taken for dead (the client
    /// signals [`ErrorCause::ReadTimeout`] and waits, as after
    /// [`handle_disconnect`](Self::handle_disconnect); drop the connection). Also ends a wait
    /// before reconnecting, as every input does. An early or repeated call does nothing.
    ///
    /// Call it only after a wait for bytes, never from a timer that runs while the events
    /// already received are being handled: that time is not silence.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{Action, Client, ClientConfig, ReadyState};
    ///
    /// let mut config = ClientConfig::default();
    /// config.read_timeout = Some(Duration::from_secs(45));
    /// let mut client = Client::new(config);
    /// let start = Instant::now();
    /// let Action::Send(_request) = client.poll(start, 0) else { unreachable!() };
    /// client.handle_response(start, 200, Some(b"text/event-stream"), None)?;
    /// client.handle_timeout(start + Duration::from_secs(44)); // early: nothing happens
    /// assert_eq!(client.ready_state(), ReadyState::Open);
    /// client.handle_timeout(start + Duration::from_secs(45)); // silent for 45 s: dead
    /// assert_eq!(client.ready_state(), ReadyState::Connecting);
    /// # Ok::<(), sse_proto::OpenError>(())
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        if let State::Requested { last_activity } | State::Open { last_activity, .. } = self.state {
            if self.read_deadline(last_activity).is_some_and(|t| now >= t) {
                self.connection_lost(now, Duration::ZERO, ErrorCause::ReadTimeout);
            }
        }
        // A zero wait after the timeout just started ends at once.
        self.end_wait(now);
    }

    /// Closes the client for good ([`CloseReason::ByCaller`]); drop any connection in
    /// progress. Signals not yet handed out are dropped, as a browser fires no event after
    /// `close()`. Closing a closed client keeps its first reason.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Instant;
    /// use sse_proto::{Action, Client, CloseReason};
    ///
    /// let mut client = Client::new(Default::default());
    /// client.close();
    /// assert_eq!(client.poll(Instant::now(), 0), Action::Closed(CloseReason::ByCaller));
    /// assert_eq!(client.poll_timeout(), None);
    /// ```
    pub fn close(&mut self) {
        self.signals.clear();
        if !matches!(self.state, State::Closed(_)) {
            self.state = State::Closed(CloseReason::ByCaller);
        }
    }

    fn read_deadline(&self, last_activity: Instant) -> Option<Instant> {
        last_activity.checked_add(self.config.read_timeout?)
    }

    /// Ends the wait before reconnecting once `now` has reached it: a request becomes due.
    fn end_wait(&mut self, now: Instant) {
        if let State::Waiting { until } = self.state {
            if now >= until {
                self.state = State::Due;
            }
        }
    }

    /// Schedules the next attempt after a failure of the current one (or gives up), and
    /// signals it. The wait is at least `at_least` (a `Retry-After`).
    fn connection_lost(&mut self, now: Instant, at_least: Duration, cause: ErrorCause) {
        if let State::Open { opened_at, .. } = self.state {
            if now.saturating_duration_since(opened_at) >= self.config.healthy_after {
                self.attempts = 0;
            }
        }
        if self
            .config
            .max_attempts
            .is_some_and(|max| self.attempts >= max)
        {
            self.state = State::Closed(CloseReason::GaveUp {
                attempts: self.attempts,
            });
            self.signals.push_back(Signal::Error {
                cause,
                reconnect_at: None,
            });
            return;
        }
        let wait = match &self.config.backoff {
            Some(backoff) => backoff.delay(self.reconnection_time, self.attempts, self.random),
            None => self.reconnection_time,
        };
        let wait = wait.max(at_least).min(Self::MAX_WAIT);
        self.attempts = self.attempts.saturating_add(1);
        // Unreachable on real clocks (a day ahead); waiting no time is the only fallback.
        let until = now.checked_add(wait).unwrap_or(now);
        self.state = State::Waiting { until };
        // "reestablish the connection": readyState CONNECTING, then fire `error`.
        self.signals.push_back(Signal::Error {
            cause,
            reconnect_at: Some(until),
        });
    }
}
