//! [`Client`]: the EventSource processing model as a sans-IO state machine.
//!
//! <https://html.spec.whatwg.org/multipage/server-sent-events.html#the-eventsource-interface>
//!
//! # How to change this safely
//!
//! Every input that carries `now` first lets the deadlines that `now` has reached fire
//! ([`Client::expire`]), except when the input itself proves the connection alive (response
//! head, body bytes): then it counts first. That is what keeps [`Client::poll_timeout`] never
//! earlier than the last `now` given, which `tests/client.rs` and the `client_ops` fuzz target
//! check after every operation. All reconnections go through [`Client::connection_lost`],
//! the only place the attempt counter and the wait are set.

use alloc::string::ToString;
use core::time::Duration;
use std::time::Instant;

use crate::error::{EncodeError, OpenError, ParseError};
use crate::http::{is_event_stream, parse_retry_after, EVENT_STREAM_MIME_TYPE};
use crate::parser::{Parser, ParserConfig, Step, StepRef, Steps};
use crate::utf8::Utf8Bytes;

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

/// Exponential backoff between reconnection attempts, off unless set in
/// [`ClientConfig::backoff`] (browsers wait the plain reconnection time every time).
///
/// The wait before reconnection attempt `n` (0 for the first one after a healthy
/// connection) is the reconnection time multiplied by `factor` `n` times, capped at
/// `max_delay`, then lengthened by up to `jitter_percent` percent of itself, according to
/// the caller's random number. Two rules protect the server's wishes: the cap never brings
/// the wait below the reconnection time (a server that sent `retry: 60000` waits 60 s even
/// with a 30 s cap), and jitter only ever adds.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use sse_proto::Backoff;
///
/// let backoff = Backoff::new(2, Duration::from_secs(30));
/// let base = Duration::from_secs(3);
/// assert_eq!(backoff.delay(base, 0, 0), Duration::from_secs(3));
/// assert_eq!(backoff.delay(base, 2, 0), Duration::from_secs(12));
/// assert_eq!(backoff.delay(base, 9, 0), Duration::from_secs(30)); // capped
/// let most = backoff.delay(base, 0, u32::MAX); // the largest random number
/// assert!(most > Duration::from_secs(3) && most < Duration::from_millis(4500));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Backoff {
    /// Multiplier per failed attempt in a row. `2` doubles; `0` and `1` keep the wait
    /// constant (useful with jitter alone). Default 2.
    pub factor: u32,
    /// Longest wait the multiplication may reach (never below the reconnection time).
    /// Default 60 s.
    pub max_delay: Duration,
    /// Most that jitter adds, in percent of the wait: the caller's random number, read as a
    /// fraction of `2^32`, picks how much. Default 50, which spreads a herd of clients
    /// dropped at the same moment over half a wait; 0 disables jitter.
    pub jitter_percent: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(2, Duration::from_secs(60))
    }
}

impl Backoff {
    /// A backoff with this factor and cap, and the default jitter (50 %).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let backoff = sse_proto::Backoff::new(3, Duration::from_secs(90));
    /// assert_eq!(backoff.jitter_percent, 50);
    /// ```
    pub fn new(factor: u32, max_delay: Duration) -> Self {
        Backoff {
            factor,
            max_delay,
            jitter_percent: 50,
        }
    }

    /// The wait before reconnection attempt `attempt` (0-based), from the reconnection time
    /// `base` and the caller's `random` number. Never below `base` (unless `base` is over
    /// [`Client::MAX_WAIT`]), never above `max(base, max_delay)` plus jitter, never above
    /// [`Client::MAX_WAIT`].
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_proto::Backoff;
    ///
    /// let mut backoff = Backoff::new(2, Duration::from_secs(10));
    /// backoff.jitter_percent = 100;
    /// let base = Duration::from_secs(1);
    /// assert_eq!(backoff.delay(base, 1, 0), Duration::from_secs(2));
    /// assert_eq!(backoff.delay(base, 1, 1 << 31), Duration::from_secs(3)); // half of 100 %
    /// ```
    pub fn delay(&self, base: Duration, attempt: u32, random: u32) -> Duration {
        let base = base.as_nanos().min(Client::MAX_WAIT.as_nanos());
        let grown = base.saturating_mul(u128::from(self.factor.max(1)).saturating_pow(attempt));
        let cap = self.max_delay.as_nanos().max(base);
        let wait = grown.min(cap).min(Client::MAX_WAIT.as_nanos());
        // At most 8.64e13 ns × 4.3e9 × 4.3e9 ≈ 1.6e33, well inside u128.
        let extra = wait * u128::from(self.jitter_percent) * u128::from(random) / (100u128 << 32);
        nanos(wait + extra).min(Client::MAX_WAIT)
    }
}

fn nanos(n: u128) -> Duration {
    Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
}

/// Settings of a [`Client`]. The defaults behave like a browser's `EventSource`, plus
/// nothing: no backoff, no limit on attempts, no read timeout, no retry of error statuses.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use sse_proto::{Backoff, Client, ClientConfig};
///
/// let mut config = ClientConfig::default();
/// config.backoff = Some(Backoff::new(2, Duration::from_secs(60)));
/// config.max_attempts = Some(10);
/// config.read_timeout = Some(Duration::from_secs(45)); // 3 missed 15 s keep-alives
/// config.retry_server_errors = true;
/// let client = Client::new(config);
/// assert_eq!(client.reconnection_time(), ClientConfig::DEFAULT_RECONNECTION_TIME);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The wait before reconnecting until the server sends `retry:`, which replaces it.
    /// Default [`DEFAULT_RECONNECTION_TIME`](Self::DEFAULT_RECONNECTION_TIME) (3 s).
    pub reconnection_time: Duration,
    /// Exponential backoff from the reconnection time; `None` (default) waits the
    /// reconnection time every time, as browsers do.
    pub backoff: Option<Backoff>,
    /// How many reconnection attempts in a row may be made (each one counted when it is
    /// scheduled, the count reset by a healthy connection); the failure after the last one
    /// closes the client with [`CloseReason::GaveUp`]. `None` (default): no limit. `Some(0)`
    /// closes at the first failure.
    pub max_attempts: Option<u32>,
    /// How long a connection must stay open for the attempt count (and so the backoff) to
    /// start again from zero when it ends. Flapping connections that drop sooner keep
    /// backing off. Default [`DEFAULT_HEALTHY_AFTER`](Self::DEFAULT_HEALTHY_AFTER) (30 s).
    pub healthy_after: Duration,
    /// Liveness: when nothing arrives for this long (no response head after the request, no
    /// body bytes after the last ones: events, comments and keep-alives all count), the
    /// connection is taken for dead and the client reconnects. Set it above the server's
    /// keep-alive interval. `None` (default): wait for ever, as browsers do. There is no
    /// total timeout: a healthy stream may last for ever.
    pub read_timeout: Option<Duration>,
    /// Opt-in: treat status 429 and 5xx as temporary and reconnect (counted as an attempt,
    /// waiting at least the `Retry-After` delay when the response gives one in seconds)
    /// instead of closing for good. Browsers close; off by default.
    pub retry_server_errors: bool,
    /// Limits and options of the client's [`Parser`].
    pub parser: ParserConfig,
}

impl ClientConfig {
    /// Default [`reconnection_time`](Self::reconnection_time): 3 s. The standard leaves it to
    /// the client ("a few seconds"); Chromium and WebKit use 3 s, Firefox 5 s.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::ClientConfig;
    ///
    /// assert_eq!(ClientConfig::default().reconnection_time, ClientConfig::DEFAULT_RECONNECTION_TIME);
    /// ```
    pub const DEFAULT_RECONNECTION_TIME: Duration = Duration::from_secs(3);
    /// Default [`healthy_after`](Self::healthy_after): 30 s, longer than the first few
    /// backoff steps, so a server that accepts and then drops every connection is not
    /// hammered.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::ClientConfig;
    ///
    /// assert_eq!(ClientConfig::DEFAULT_HEALTHY_AFTER.as_secs(), 30);
    /// ```
    pub const DEFAULT_HEALTHY_AFTER: Duration = Duration::from_secs(30);
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            reconnection_time: Self::DEFAULT_RECONNECTION_TIME,
            backoff: None,
            max_attempts: None,
            healthy_after: Self::DEFAULT_HEALTHY_AFTER,
            read_timeout: None,
            retry_server_errors: false,
            parser: ParserConfig::default(),
        }
    }
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

/// The request to send to open (or reopen) the stream: copy it into your HTTP library.
///
/// `GET` with `accept: text/event-stream`, `cache-control: no-store` and, when the last event
/// ID is not empty, `last-event-id`. Header names are lower case, which every HTTP version
/// accepts (and `http::HeaderName::from_static` requires). The id never holds CR, LF or NUL; an id
/// holding other control characters (which a stream may set) is refused by strict HTTP
/// libraries such as `http::HeaderValue`.
///
/// # Example
///
/// ```
/// use std::time::Instant;
/// use sse_proto::{Client, ClientConfig};
///
/// let mut client = Client::new(ClientConfig::default());
/// client.set_last_event_id("41")?;
/// let request = client.poll_request(Instant::now(), 0).expect("due at once");
/// assert_eq!(request.method(), "GET");
/// let headers: Vec<_> = request.headers().collect();
/// assert_eq!(
///     headers,
///     [("accept", "text/event-stream"), ("cache-control", "no-store"), ("last-event-id", "41")]
/// );
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "send the request: the client now waits for its response"]
pub struct Request {
    last_event_id: Option<Utf8Bytes>,
}

impl Request {
    /// The method: always `GET`.
    ///
    /// # Example
    ///
    /// ```
    /// # let request = sse_proto::Client::new(Default::default())
    /// #     .poll_request(std::time::Instant::now(), 0).unwrap();
    /// assert_eq!(request.method(), "GET");
    /// ```
    pub fn method(&self) -> &'static str {
        "GET"
    }

    /// The `Last-Event-ID` to send: `None` when the last event ID is empty (the header is
    /// then left out, never sent empty).
    ///
    /// # Example
    ///
    /// ```
    /// # let request = sse_proto::Client::new(Default::default())
    /// #     .poll_request(std::time::Instant::now(), 0).unwrap();
    /// assert_eq!(request.last_event_id(), None); // nothing received yet
    /// ```
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// The headers, as `(name, value)` pairs.
    ///
    /// # Example
    ///
    /// ```
    /// # let request = sse_proto::Client::new(Default::default())
    /// #     .poll_request(std::time::Instant::now(), 0).unwrap();
    /// for (name, value) in request.headers() {
    ///     println!("{name}: {value}"); // e.g. reqwest: builder = builder.header(name, value)
    /// }
    /// assert_eq!(request.headers().count(), 2);
    /// ```
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        [
            ("accept", EVENT_STREAM_MIME_TYPE),
            ("cache-control", "no-store"),
        ]
        .into_iter()
        .chain(self.last_event_id().map(|id| ("last-event-id", id)))
    }
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

/// A browser's `EventSource` without the I/O: the client side of the connection rules
/// (`SPEC.md` section 4), reconnection and liveness included.
///
/// The client owns a [`Parser`] and with it the last event ID, which survives every
/// reconnection; you move the bytes and read the clock. Time is always an argument
/// (`now`, from a monotonic clock such as [`Instant::now`]), and so is the randomness used for
/// jitter.
///
/// # Call order
///
/// 1. [`poll_request`](Self::poll_request)`(now, random)`: `Some(request)` when a
///    connection should be opened now. Send it.
///    - `None`: sleep until [`poll_timeout`](Self::poll_timeout) and call
///      [`handle_timeout`](Self::handle_timeout); `poll_timeout() == None` while
///      `CONNECTING` never happens, and when closed it means stop.
/// 2. When the response head arrives: [`handle_response`](Self::handle_response). `Ok`: the
///    stream is open, read the body. `Err`: drop the response, go back to 1 (the client is
///    either closed for good or waiting to retry).
///    If the request fails instead (DNS, TCP, TLS...): [`handle_disconnect`](Self::handle_disconnect).
/// 3. For each body chunk: [`feed`](Self::feed)`(now, chunk)` and take the events from the
///    iterator it returns (drain it). Meanwhile, if [`poll_timeout`](Self::poll_timeout) is
///    `Some`, wake at that instant and call [`handle_timeout`](Self::handle_timeout) (the
///    read timeout); if the client is no longer [`ReadyState::Open`] afterwards, drop the
///    body.
/// 4. When the body ends or fails: [`handle_disconnect`](Self::handle_disconnect), then 1.
///
/// [`close`](Self::close) may be called at any time and is final. Calls that do not fit the
/// current state (a disconnect while waiting, body bytes while not open, an early or
/// repeated `handle_timeout`) are harmless no-ops. `now` must not go backwards.
///
/// # Decisions
///
/// - The last event ID lives in the client's parser: it is kept across reconnections, even
///   when later connections' events carry no id, and can be seeded with
///   [`set_last_event_id`](Self::set_last_event_id) after a restart.
/// - A server's `retry:` replaces the reconnection time for the rest of the client's life;
///   backoff multiplies from it and never goes below it.
/// - Jitter comes from the `random` given with each request and only lengthens the wait
///   after that request's connection fails.
///
/// # Example: the whole loop over a fake transport
///
/// The transport is a list of scripted answers, one per request; the clock is one
/// `Instant::now()` plus durations. A real loop has the same shape (`docs/sans-io.md`).
///
/// ```
/// use std::time::{Duration, Instant};
/// use sse_proto::{Client, ClientConfig, CloseReason, OpenError, Step};
///
/// enum Answer {
///     Stream(&'static str, Vec<&'static [u8]>), // status 200, content type, body chunks
///     Status(u16),                              // another status, no body
///     NetworkError,                             // the request failed
/// }
/// let mut transport = vec![
///     Answer::Stream("text/event-stream", vec![b"retry: 1000\nid: 1\nda", b"ta: one\n\n"]),
///     Answer::NetworkError,
///     Answer::Stream("text/event-stream; charset=utf-8", vec![b"data: two\n\n"]),
///     Answer::Status(204),
/// ]
/// .into_iter();
///
/// let start = Instant::now();
/// let mut now = start; // the fake clock
/// let mut client = Client::new(ClientConfig::default());
/// let (mut requests, mut events) = (Vec::new(), Vec::new());
/// loop {
///     let random = 7; // a real loop: rand::random()
///     let Some(request) = client.poll_request(now, random) else {
///         match client.poll_timeout() {
///             Some(deadline) => {
///                 now = deadline; // a real loop sleeps until then
///                 client.handle_timeout(now);
///                 continue;
///             }
///             None => break, // closed for good
///         }
///     };
///     requests.push((now - start, request.last_event_id().map(str::to_owned)));
///     now += Duration::from_millis(50); // the round trip
///     let chunks = match transport.next().expect("scripted") {
///         Answer::Stream(content_type, chunks) => {
///             match client.handle_response(now, 200, Some(content_type.as_bytes()), None) {
///                 Ok(()) => chunks,
///                 Err(_) => continue,
///             }
///         }
///         Answer::Status(status) => {
///             let _ = client.handle_response(now, status, None, None);
///             continue;
///         }
///         Answer::NetworkError => {
///             client.handle_disconnect(now);
///             continue;
///         }
///     };
///     for chunk in chunks {
///         now += Duration::from_millis(10);
///         for step in client.feed(now, chunk) {
///             if let Ok(Step::Event(event)) = step {
///                 events.push((event.data().to_owned(), event.last_event_id().to_owned()));
///             }
///         }
///     }
///     client.handle_disconnect(now); // the body ended
/// }
///
/// assert_eq!(events, [("one".into(), "1".into()), ("two".into(), "1".into())]);
/// let ms = Duration::from_millis;
/// assert_eq!(
///     requests,
///     [
///         (ms(0), None),
///         (ms(1070), Some("1".into())), // retry: 1000 after the stream ended at 70 ms
///         (ms(2120), Some("1".into())), // the id survives a failed attempt
///         (ms(3180), Some("1".into())), // and a connection whose events had none
///     ]
/// );
/// assert_eq!(client.close_reason(), Some(&CloseReason::Failed(OpenError::NoContent)));
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    config: ClientConfig,
    parser: Parser,
    state: State,
    /// The base wait: the configured default until the server sends `retry:`.
    reconnection_time: Duration,
    /// Reconnection attempts scheduled since the last healthy connection.
    attempts: u32,
    /// The caller's random number for the attempt in progress.
    random: u32,
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

    /// A client in [`ReadyState::Connecting`] whose first request is due at once.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Instant;
    /// use sse_proto::{Client, ClientConfig};
    ///
    /// let mut client = Client::new(ClientConfig::default());
    /// assert!(client.poll_request(Instant::now(), 0).is_some());
    /// ```
    pub fn new(config: ClientConfig) -> Self {
        Client {
            parser: Parser::with_config(config.parser.clone()),
            reconnection_time: config.reconnection_time,
            config,
            state: State::Due,
            attempts: 0,
            random: 0,
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
    /// [`poll_request`](Self::poll_request). While a stream is open it replaces the id as if
    /// the server had sent it. `""` clears it.
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
    ///
    /// let mut client = sse_proto::Client::new(Default::default());
    /// client.set_last_event_id("from-disk-99")?;
    /// let request = client.poll_request(Instant::now(), 0).unwrap();
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
    ///
    /// let mut client = sse_proto::Client::new(Default::default());
    /// let now = Instant::now();
    /// let _request = client.poll_request(now, 0).unwrap();
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
    ///
    /// let mut client = sse_proto::Client::new(Default::default());
    /// let now = Instant::now();
    /// let _request = client.poll_request(now, 0).unwrap();
    /// client.handle_disconnect(now);
    /// assert_eq!(client.reconnect_at(), Some(now + Duration::from_secs(3)));
    /// ```
    pub fn reconnect_at(&self) -> Option<Instant> {
        match self.state {
            State::Waiting { until } => Some(until),
            _ => None,
        }
    }

    /// The request to send now, if one is due; the client then waits for its response.
    /// `random` is a fresh random number (e.g. `rand::random()`): it sets the jitter of the
    /// wait after this attempt, if it fails.
    ///
    /// Returns `None` while waiting before a reconnection, while a request is in flight or
    /// open, and when closed.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Instant;
    ///
    /// let mut client = sse_proto::Client::new(Default::default());
    /// let now = Instant::now();
    /// assert!(client.poll_request(now, 0).is_some());
    /// assert!(client.poll_request(now, 0).is_none()); // in flight
    /// ```
    #[must_use = "a request that is not sent leaves the client waiting for its response"]
    pub fn poll_request(&mut self, now: Instant, random: u32) -> Option<Request> {
        self.expire(now);
        if self.state != State::Due {
            return None;
        }
        self.state = State::Requested { last_activity: now };
        self.random = random;
        let id = self.parser.last_event_id();
        Some(Request {
            last_event_id: (!id.is_empty()).then(|| Utf8Bytes::from(id.to_string())),
        })
    }

    /// The response head arrived: checks it, per the standard's "fail the connection" rule.
    ///
    /// - Status 200 and a `Content-Type` whose MIME essence is `text/event-stream`
    ///   (case-insensitive, parameters ignored): `Ok`, the client is
    ///   [`ReadyState::Open`]; read the body into [`feed`](Self::feed).
    /// - Anything else: `Err`, drop the response. The client is closed for good, unless
    ///   [`ClientConfig::retry_server_errors`] is set and the status is 429 or 5xx: then it
    ///   waits (at least `retry_after`, the `Retry-After` header, when it is in seconds) and
    ///   reconnects, as after a network error.
    ///
    /// # Errors
    ///
    /// [`OpenError::NoContent`] for 204, [`OpenError::Status`] for any other status but 200,
    /// [`OpenError::ContentType`] for 200 with another content type or none, and
    /// [`OpenError::NotAwaitingResponse`] when no request was in flight (for instance after
    /// [`close`](Self::close)).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Instant;
    /// use sse_proto::{Client, OpenError, ReadyState};
    ///
    /// let now = Instant::now();
    /// let mut client = Client::new(Default::default());
    /// let _request = client.poll_request(now, 0).unwrap();
    /// let result = client.handle_response(now, 200, Some(b"TEXT/event-stream;charset=UTF-8"), None);
    /// assert_eq!(result, Ok(()));
    /// assert_eq!(client.ready_state(), ReadyState::Open);
    ///
    /// let mut client = Client::new(Default::default());
    /// let _request = client.poll_request(now, 0).unwrap();
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
            self.expire(now);
            return Err(OpenError::NotAwaitingResponse);
        }
        let error = match status {
            200 if content_type.is_some_and(is_event_stream) => {
                self.parser.reset();
                self.state = State::Open {
                    opened_at: now,
                    last_activity: now,
                };
                return Ok(());
            }
            200 => OpenError::ContentType {
                content_type: content_type
                    .map(|ct| Utf8Bytes::from_utf8_lossy(bytes::Bytes::copy_from_slice(ct))),
            },
            204 => OpenError::NoContent,
            429 | 500..=599 if self.config.retry_server_errors => {
                let at_least = retry_after
                    .and_then(parse_retry_after)
                    .unwrap_or(Duration::ZERO);
                self.connection_lost(now, at_least);
                return Err(OpenError::Status { status });
            }
            _ => OpenError::Status { status },
        };
        self.state = State::Closed(CloseReason::Failed(error.clone()));
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
    /// use sse_proto::{Client, Step};
    ///
    /// let now = Instant::now();
    /// let mut client = Client::new(Default::default());
    /// let _request = client.poll_request(now, 0).unwrap();
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
            _ => self.expire(now),
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
    /// a response. The client waits, then reconnects: the reconnection time, grown by the
    /// [`Backoff`] if configured; or it closes with [`CloseReason::GaveUp`] when
    /// [`ClientConfig::max_attempts`] is reached. A no-op unless a request was in flight or
    /// the stream was open.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{Client, ReadyState};
    ///
    /// let now = Instant::now();
    /// let mut client = Client::new(Default::default());
    /// let _request = client.poll_request(now, 0).unwrap();
    /// client.handle_response(now, 200, Some(b"text/event-stream"), None)?;
    /// client.handle_disconnect(now + Duration::from_secs(60));
    /// assert_eq!(client.ready_state(), ReadyState::Connecting);
    /// assert_eq!(client.poll_timeout(), Some(now + Duration::from_secs(63)));
    /// # Ok::<(), sse_proto::OpenError>(())
    /// ```
    pub fn handle_disconnect(&mut self, now: Instant) {
        self.expire(now);
        if matches!(self.state, State::Requested { .. } | State::Open { .. }) {
            self.connection_lost(now, Duration::ZERO);
        }
    }

    /// The next instant at which [`handle_timeout`](Self::handle_timeout) has work: the end
    /// of the wait before reconnecting, or the read timeout. `None` when there is none (no
    /// read timeout configured, a request due now, or closed). Never earlier than the last
    /// `now` given to the client.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{Client, ClientConfig};
    ///
    /// let mut config = ClientConfig::default();
    /// config.read_timeout = Some(Duration::from_secs(45));
    /// let mut client = Client::new(config);
    /// let now = Instant::now();
    /// let _request = client.poll_request(now, 0).unwrap();
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

    /// Lets the deadlines that `now` has reached fire: the wait before reconnecting ends (a
    /// request becomes due), or the read timeout declares the connection dead (the client
    /// goes back to `CONNECTING` and waits, as after [`handle_disconnect`](Self::handle_disconnect);
    /// drop the body). An early or repeated call does nothing.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{Client, ClientConfig, ReadyState};
    ///
    /// let mut config = ClientConfig::default();
    /// config.read_timeout = Some(Duration::from_secs(45));
    /// let mut client = Client::new(config);
    /// let start = Instant::now();
    /// let _request = client.poll_request(start, 0).unwrap();
    /// client.handle_response(start, 200, Some(b"text/event-stream"), None)?;
    /// client.handle_timeout(start + Duration::from_secs(44)); // early: nothing happens
    /// assert_eq!(client.ready_state(), ReadyState::Open);
    /// client.handle_timeout(start + Duration::from_secs(45)); // silent for 45 s: dead
    /// assert_eq!(client.ready_state(), ReadyState::Connecting);
    /// # Ok::<(), sse_proto::OpenError>(())
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire(now);
    }

    /// Closes the client for good ([`CloseReason::ByCaller`]); drop any connection in
    /// progress. Closing a closed client keeps its first reason.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Instant;
    ///
    /// let mut client = sse_proto::Client::new(Default::default());
    /// client.close();
    /// assert!(client.poll_request(Instant::now(), 0).is_none());
    /// assert_eq!(client.poll_timeout(), None);
    /// ```
    pub fn close(&mut self) {
        if !matches!(self.state, State::Closed(_)) {
            self.state = State::Closed(CloseReason::ByCaller);
        }
    }

    fn read_deadline(&self, last_activity: Instant) -> Option<Instant> {
        last_activity.checked_add(self.config.read_timeout?)
    }

    /// Fires the deadlines `now` has reached: first the read timeout, then the end of a wait
    /// (which may be the one the read timeout just started, when it is zero).
    fn expire(&mut self, now: Instant) {
        if let State::Requested { last_activity } | State::Open { last_activity, .. } = self.state {
            if self.read_deadline(last_activity).is_some_and(|t| now >= t) {
                self.connection_lost(now, Duration::ZERO);
            }
        }
        if let State::Waiting { until } = self.state {
            if now >= until {
                self.state = State::Due;
            }
        }
    }

    /// Schedules the next attempt after a failure of the current one (or gives up). The wait
    /// is at least `at_least` (a `Retry-After`).
    fn connection_lost(&mut self, now: Instant, at_least: Duration) {
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
    }
}

/// The iterator returned by [`Client::feed`]: the steps of one body chunk, already applied
/// to the client. Yields what [`Parser::feed`] does and ends when the chunk is used up; it is
/// empty when the client was not open.
///
/// # Example
///
/// ```
/// use std::time::Instant;
/// use sse_proto::{Client, Step};
///
/// let now = Instant::now();
/// let mut client = Client::new(Default::default());
/// let _request = client.poll_request(now, 0).unwrap();
/// client.handle_response(now, 200, Some(b"text/event-stream"), None)?;
/// let mut steps = client.feed(now, b"data: a\n\ndata: b\n\n");
/// assert!(matches!(steps.next(), Some(Ok(Step::Event(e))) if e.data() == "a"));
/// assert_eq!(steps.remaining(), b"data: b\n\n");
/// # Ok::<(), sse_proto::OpenError>(())
/// ```
#[derive(Debug)]
#[must_use = "the chunk is only parsed as the iterator is advanced"]
pub struct ClientSteps<'c, 'b> {
    /// The parser's steps while the client is open; `None` when the chunk is ignored.
    steps: Option<Steps<'c, 'b>>,
    reconnection_time: &'c mut Duration,
    chunk: &'b [u8],
}

impl<'b> ClientSteps<'_, 'b> {
    /// The part of the chunk not parsed yet (all of it when the client is not open).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Instant;
    ///
    /// let mut client = sse_proto::Client::new(Default::default());
    /// // Not open: nothing is read.
    /// assert_eq!(client.feed(Instant::now(), b"data: x\n\n").remaining().len(), 9);
    /// ```
    pub fn remaining(&self) -> &'b [u8] {
        self.steps.as_ref().map_or(self.chunk, Steps::remaining)
    }

    /// The next step lent ([`Steps::next_ref`]), applied to the client as
    /// [`next`](Iterator::next) applies it. The event is not copied out: as with
    /// [`Parser::poll_ref`], an event whose one data line lies whole in the chunk costs no
    /// allocation, copy or reference count. The step borrows the iterator until the next
    /// call; `None` once the chunk is used up or when the client was not open.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{Client, StepRef};
    ///
    /// let now = Instant::now();
    /// let mut client = Client::new(Default::default());
    /// let _request = client.poll_request(now, 0).unwrap();
    /// client.handle_response(now, 200, Some(b"text/event-stream"), None)?;
    /// let mut total = 0;
    /// let mut steps = client.feed(now, b"retry: 250\ndata: abc\n\n");
    /// while let Some(step) = steps.next_ref() {
    ///     if let StepRef::Event(event) = step? {
    ///         total += event.data().len();
    ///     }
    /// }
    /// assert_eq!(total, 3);
    /// assert_eq!(client.reconnection_time(), Duration::from_millis(250));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_ref(&mut self) -> Option<Result<StepRef<'_>, ParseError>> {
        let step = self.steps.as_mut()?.next_ref()?;
        if let Ok(StepRef::Retry(delay)) = step {
            // "set the event stream's reconnection time to that integer"
            *self.reconnection_time = delay;
        }
        Some(step)
    }
}

impl Iterator for ClientSteps<'_, '_> {
    type Item = Result<Step, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let step = self.steps.as_mut()?.next()?;
        if let Ok(Step::Retry(delay)) = step {
            // "set the event stream's reconnection time to that integer"
            *self.reconnection_time = delay;
        }
        Some(step)
    }
}
