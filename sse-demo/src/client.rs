//! An async EventSource on reqwest: automatic reconnection with `Last-Event-ID`, the server's
//! `retry:` honoured, and a read-idle timeout instead of a total timeout, so a healthy
//! long-lived stream is never killed while a silent dead one is noticed.
//!
//! The rules (request headers, response checks, the last event ID, reconnection times,
//! backoff, the read timeout) all live in [`sse_proto::Client`]; this file only moves bytes
//! and sleeps. Its crate-private `Core` is the part the blocking client shares.
//!
//! ```no_run
//! # async fn run() {
//! use sse_demo::client::{EventSource, Incoming, Options};
//!
//! let mut source = EventSource::new("http://127.0.0.1:8080/events/weather", Options::default());
//! while let Some(next) = source.next().await {
//!     match next {
//!         Ok(Incoming::Event(event)) => println!("{}: {}", event.event_type(), event.data()),
//!         Ok(other) => eprintln!("{other:?}"),
//!         Err(fatal) => eprintln!("giving up: {fatal}"),
//!     }
//! }
//! # }
//! ```

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use sse_proto::{
    Backoff, Client, ClientConfig, CloseReason, Event, OpenError, ParseError, ReadyState, Request,
    Step, Utf8Bytes,
};

/// How the client behaves.
#[derive(Clone, Debug)]
pub struct Options {
    /// Reconnect when nothing (not even a keep-alive) arrives for this long. `None` waits for
    /// ever. Pick a few keep-alive intervals: servers ping every 15 s by default.
    pub read_idle: Option<Duration>,
    /// Give up on a connection attempt after this long (then retry).
    pub connect_timeout: Duration,
    /// The reconnection time until the server sends `retry:`.
    pub default_retry: Duration,
    /// Exponential backoff between failed attempts (`None`: the reconnection time every
    /// time, as browsers do).
    pub backoff: Option<Backoff>,
    /// Give up after this many failed attempts in a row (`None`: never).
    pub max_attempts: Option<u32>,
    /// A last event ID saved by an earlier run, sent on the first request.
    pub last_event_id: Option<String>,
    /// Report comments (keep-alives) as [`Incoming::Comment`].
    pub comments: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            read_idle: Some(Duration::from_secs(45)),
            connect_timeout: Duration::from_secs(10),
            default_retry: ClientConfig::DEFAULT_RECONNECTION_TIME,
            backoff: None,
            max_attempts: None,
            last_event_id: None,
            comments: false,
        }
    }
}

/// What the source reports, in order.
#[derive(Debug)]
pub enum Incoming {
    /// A response opened the stream; `last_event_id` is what the request sent.
    Open {
        /// The `Last-Event-ID` header sent, if any.
        last_event_id: Option<String>,
    },
    /// A dispatched event.
    Event(Event),
    /// The server set the reconnection time.
    Retry(Duration),
    /// A comment (only with [`Options::comments`]).
    Comment(Utf8Bytes),
    /// An event went over the parser's limits and was dropped.
    Dropped(ParseError),
    /// The stream ended or failed; the next request goes out after `after`.
    Reconnecting {
        /// Why the connection ended.
        reason: String,
        /// The wait before reconnecting.
        after: Duration,
    },
}

impl Incoming {
    /// What a parser step is reported as (`NeedData` and `End` are not reported).
    pub fn from_step(step: Result<Step, ParseError>) -> Option<Self> {
        Some(match step {
            Ok(Step::Event(event)) => Incoming::Event(event),
            Ok(Step::Retry(delay)) => Incoming::Retry(delay),
            Ok(Step::Comment(text)) => Incoming::Comment(text),
            Ok(_) => return None,
            Err(limit) => Incoming::Dropped(limit),
        })
    }
}

/// A failure that closes the source for good.
#[derive(Debug)]
pub enum Fatal {
    /// The response was not an event stream (status or content type).
    Open(OpenError),
    /// [`Options::max_attempts`] attempts in a row failed.
    GaveUp {
        /// The attempts made.
        attempts: u32,
    },
    /// The request could not be built (a bad URL, an id no header can carry).
    Request(String),
}

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fatal::Open(error) => error.fmt(f),
            Fatal::GaveUp { attempts } => write!(f, "gave up after {attempts} attempts"),
            Fatal::Request(error) => write!(f, "bad request: {error}"),
        }
    }
}

impl std::error::Error for Fatal {}

/// What to do next when no response body is being read.
#[derive(Debug)]
pub(crate) enum Action {
    /// Report this.
    Report(Result<Incoming, Fatal>),
    /// Send this request now.
    Send(Request),
    /// Sleep until then, then ask again.
    Sleep(Instant),
    /// Closed: stop.
    Done,
}

/// What the async and the blocking client share: [`sse_proto::Client`] and the reports it
/// produces, waiting to be handed out.
#[derive(Debug)]
pub(crate) struct Core {
    client: Client,
    queue: VecDeque<Incoming>,
    /// The `Last-Event-ID` of the request in flight.
    sent_id: Option<String>,
    /// Whether the reason for closing has been reported.
    close_reported: bool,
    /// An error of ours that closed the source, to report.
    failure: Option<Fatal>,
    random: std::collections::hash_map::RandomState,
    attempts: u64,
}

impl Core {
    pub(crate) fn new(options: &Options) -> Self {
        let mut config = ClientConfig::default();
        config.reconnection_time = options.default_retry;
        config.read_timeout = options.read_idle;
        config.backoff = options.backoff;
        config.max_attempts = options.max_attempts;
        config.parser.emit_comments = options.comments;
        let mut core = Core {
            client: Client::new(config),
            queue: VecDeque::new(),
            sent_id: None,
            close_reported: false,
            failure: None,
            random: Default::default(),
            attempts: 0,
        };
        if let Some(id) = &options.last_event_id {
            if let Err(error) = core.client.set_last_event_id(id) {
                core.fail(Fatal::Request(format!("last event id {id:?}: {error}")));
            }
        }
        core
    }

    /// A report waiting to be handed out.
    pub(crate) fn pop(&mut self) -> Option<Incoming> {
        self.queue.pop_front()
    }

    /// With no body to read: what to do.
    pub(crate) fn next_action(&mut self, now: Instant) -> Action {
        if let Some(incoming) = self.queue.pop_front() {
            return Action::Report(Ok(incoming));
        }
        if let Some(fatal) = self.failure.take() {
            return Action::Report(Err(fatal));
        }
        let random = self.random();
        if let Some(request) = self.client.poll_request(now, random) {
            self.sent_id = request.last_event_id().map(str::to_owned);
            return Action::Send(request);
        }
        match self.client.poll_timeout() {
            Some(deadline) => Action::Sleep(deadline),
            None => match self.take_close_reason() {
                Some(fatal) => Action::Report(Err(fatal)),
                None => Action::Done,
            },
        }
    }

    /// After a sleep: let the deadline fire.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.client.handle_timeout(now);
    }

    /// The response head: `true` when the stream is open (read the body), `false` when the
    /// response must be dropped ([`next_action`](Self::next_action) then reports why, or
    /// schedules the next attempt).
    pub(crate) fn handle_response(
        &mut self,
        now: Instant,
        status: u16,
        content_type: Option<&[u8]>,
        retry_after: Option<&[u8]>,
    ) -> bool {
        match self
            .client
            .handle_response(now, status, content_type, retry_after)
        {
            Ok(()) => {
                self.queue.push_back(Incoming::Open {
                    last_event_id: self.sent_id.take(),
                });
                true
            }
            Err(error) => {
                if self.client.ready_state() == ReadyState::Connecting {
                    // Retrying a 429 / 5xx (opt-in): report it like a disconnect.
                    self.report_wait(now, error.to_string());
                }
                false
            }
        }
    }

    pub(crate) fn handle_data(&mut self, now: Instant, bytes: &[u8]) {
        let steps = self.client.feed(now, bytes);
        self.queue.extend(steps.filter_map(Incoming::from_step));
    }

    /// While reading a body: when the read timeout fires, if it is set.
    pub(crate) fn read_deadline(&self) -> Option<Instant> {
        self.client.poll_timeout()
    }

    /// The read deadline passed: `true` when the connection is now taken for dead (drop the
    /// body).
    pub(crate) fn handle_read_timeout(&mut self, now: Instant, idle: Duration) -> bool {
        self.client.handle_timeout(now);
        if self.client.ready_state() == ReadyState::Open {
            return false;
        }
        self.report_wait(now, format!("nothing received for {idle:?}"));
        true
    }

    /// The request failed, or the body ended or failed.
    pub(crate) fn disconnect(&mut self, now: Instant, reason: String) {
        self.client.handle_disconnect(now);
        self.report_wait(now, reason);
    }

    fn report_wait(&mut self, now: Instant, reason: String) {
        if let Some(at) = self.client.reconnect_at() {
            self.queue.push_back(Incoming::Reconnecting {
                reason,
                after: at.saturating_duration_since(now),
            });
        }
    }

    fn take_close_reason(&mut self) -> Option<Fatal> {
        if self.close_reported {
            return None;
        }
        self.close_reported = true;
        match self.client.close_reason()? {
            CloseReason::Failed(error) => Some(Fatal::Open(error.clone())),
            CloseReason::GaveUp { attempts } => Some(Fatal::GaveUp {
                attempts: *attempts,
            }),
            _ => None,
        }
    }

    /// Closes for good, by the caller's wish: nothing more is reported.
    pub(crate) fn close(&mut self) {
        self.client.close();
        self.queue.clear();
        self.close_reported = true;
    }

    /// Closes for good because of an error of ours, reported next.
    pub(crate) fn fail(&mut self, fatal: Fatal) {
        self.close();
        self.failure = Some(fatal);
    }

    pub(crate) fn last_event_id(&self) -> Option<&str> {
        Some(self.client.last_event_id()).filter(|id| !id.is_empty())
    }

    pub(crate) fn ready_state(&self) -> ReadyState {
        self.client.ready_state()
    }

    pub(crate) fn read_idle(&self) -> Duration {
        self.client.config().read_timeout.unwrap_or_default()
    }

    /// A random number for the backoff's jitter (std's per-process hash keys, mixed with a
    /// counter: no RNG crate needed for this).
    fn random(&mut self) -> u32 {
        self.attempts += 1;
        let mut hasher = self.random.build_hasher();
        hasher.write_u64(self.attempts);
        hasher.finish() as u32
    }
}

/// An EventSource: call [`next`](Self::next) until it returns `None`.
pub struct EventSource {
    url: String,
    http: reqwest::Client,
    core: Core,
    response: Option<reqwest::Response>,
}

impl EventSource {
    /// A source for `url` with its own HTTP client.
    pub fn new(url: impl Into<String>, options: Options) -> Self {
        let http = reqwest::Client::builder()
            // No total timeout: it would kill a healthy stream. The read-idle timeout and
            // the connect timeout cover dead peers.
            .connect_timeout(options.connect_timeout)
            .tcp_nodelay(true)
            .build()
            .expect("a reqwest client with these settings builds");
        Self::with_client(url, options, http)
    }

    /// A source sharing an HTTP client (many sources, one connection pool). The client must
    /// have no total timeout.
    pub fn with_client(url: impl Into<String>, options: Options, http: reqwest::Client) -> Self {
        EventSource {
            url: url.into(),
            http,
            core: Core::new(&options),
            response: None,
        }
    }

    /// The ready state.
    pub fn ready_state(&self) -> ReadyState {
        self.core.ready_state()
    }

    /// The last event ID: what a reconnection sends, and what to save to resume after a
    /// restart.
    pub fn last_event_id(&self) -> Option<&str> {
        self.core.last_event_id()
    }

    /// Closes the source for good; [`next`](Self::next) then returns `None`.
    pub fn close(&mut self) {
        self.core.close();
        self.response = None;
    }

    /// The next thing that happens; `None` once the source is closed.
    pub async fn next(&mut self) -> Option<Result<Incoming, Fatal>> {
        loop {
            let Some(response) = self.response.as_mut() else {
                match self.core.next_action(Instant::now()) {
                    Action::Report(report) => return Some(report),
                    Action::Send(request) => self.send(request).await,
                    Action::Sleep(until) => {
                        tokio::time::sleep_until(until.into()).await;
                        self.core.handle_timeout(Instant::now());
                    }
                    Action::Done => return None,
                }
                continue;
            };
            if let Some(incoming) = self.core.pop() {
                return Some(Ok(incoming));
            }
            let chunk = match self.core.read_deadline() {
                Some(deadline) => {
                    tokio::select! {
                        chunk = response.chunk() => chunk,
                        _ = tokio::time::sleep_until(deadline.into()) => {
                            let idle = self.core.read_idle();
                            if self.core.handle_read_timeout(Instant::now(), idle) {
                                self.response = None;
                            }
                            continue;
                        }
                    }
                }
                None => response.chunk().await,
            };
            let now = Instant::now();
            match chunk {
                Ok(Some(bytes)) => self.core.handle_data(now, &bytes),
                Ok(None) => self.disconnect(now, "the server ended the stream".to_owned()),
                Err(error) => self.disconnect(now, error_chain(&error)),
            }
        }
    }

    async fn send(&mut self, request: Request) {
        let mut builder = self.http.get(&self.url);
        for (name, value) in request.headers() {
            builder = builder.header(name, value);
        }
        let response = match builder.send().await {
            Ok(response) => response,
            Err(error) if error.is_builder() => {
                return self.core.fail(Fatal::Request(error_chain(&error)));
            }
            Err(error) => return self.disconnect(Instant::now(), error_chain(&error)),
        };
        let header = |name| response.headers().get(name).map(|v| v.as_bytes());
        let opened = self.core.handle_response(
            Instant::now(),
            response.status().as_u16(),
            header(reqwest::header::CONTENT_TYPE),
            header(reqwest::header::RETRY_AFTER),
        );
        if opened {
            self.response = Some(response);
        }
    }

    fn disconnect(&mut self, now: Instant, reason: String) {
        self.response = None;
        self.core.disconnect(now, reason);
    }
}

/// An error and its sources on one line (reqwest's own message is often just "error
/// sending request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
