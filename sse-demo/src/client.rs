//! An async EventSource on reqwest: automatic reconnection with `Last-Event-ID`, the server's
//! `retry:` honoured, and a read-idle timeout instead of a total timeout, so a healthy
//! long-lived stream is never killed while a silent dead one is noticed.
//!
//! The rules (request headers, response checks, the last event ID, reconnection times,
//! backoff, the read timeout) all live in [`sse_proto::Client`]; this file only moves bytes
//! and sleeps, in one `match` over [`sse_proto::Action`]. The blocking client has the same
//! loop.
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
    Action, Backoff, Client, ClientConfig, CloseReason, Event, OpenError, ParseError, ReadyState,
    Request, Signal, Step, Utf8Bytes,
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

impl Options {
    /// The [`sse_proto::Client`] these options describe.
    pub(crate) fn client(&self) -> Result<Client, Fatal> {
        let mut config = ClientConfig::default();
        config.reconnection_time = self.default_retry;
        config.read_timeout = self.read_idle;
        config.backoff = self.backoff;
        config.max_attempts = self.max_attempts;
        config.parser.emit_comments = self.comments;
        let mut client = Client::new(config);
        if let Some(id) = &self.last_event_id {
            client
                .set_last_event_id(id)
                .map_err(|error| Fatal::Request(format!("last event id {id:?}: {error}")))?;
        }
        Ok(client)
    }
}

impl Fatal {
    /// What a closed client reports, once: nothing when the caller closed it.
    pub(crate) fn of(reason: &CloseReason) -> Option<Self> {
        match reason {
            CloseReason::Failed(error) => Some(Fatal::Open(error.clone())),
            CloseReason::GaveUp { attempts } => Some(Fatal::GaveUp {
                attempts: *attempts,
            }),
            _ => None,
        }
    }
}

impl Incoming {
    /// What a signal is reported as: `open` with the id the request sent, `error` with its
    /// cause (and `detail`, the transport's words) and the wait from `at`, when it happened,
    /// when the client reconnects. An `error`
    /// that closes the client is reported by the [`Fatal`] that follows instead.
    pub(crate) fn from_signal(
        signal: Signal,
        at: Instant,
        sent_id: &mut Option<String>,
        detail: Option<String>,
    ) -> Option<Self> {
        match signal {
            Signal::Open => Some(Incoming::Open {
                last_event_id: sent_id.take(),
            }),
            Signal::Error {
                cause,
                reconnect_at: Some(reconnect_at),
            } => Some(Incoming::Reconnecting {
                reason: match detail {
                    Some(detail) => format!("{cause}: {detail}"),
                    None => cause.to_string(),
                },
                after: reconnect_at.saturating_duration_since(at),
            }),
            _ => None,
        }
    }
}

/// Random numbers for the backoff's jitter: std's per-process hash keys mixed with a
/// counter (no RNG crate needed for this).
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

/// An EventSource: call [`next`](Self::next) until it returns `None`.
pub struct EventSource {
    url: String,
    http: reqwest::Client,
    client: Client,
    jitter: Jitter,
    /// Parsed but not yet handed out.
    queue: VecDeque<Incoming>,
    /// The request to send once `poll` says how long to wait for its answer.
    pending: Option<Request>,
    response: Option<reqwest::Response>,
    /// The `Last-Event-ID` of the request in flight, for [`Incoming::Open`].
    sent_id: Option<String>,
    /// The transport's words for the last failure, for [`Incoming::Reconnecting`].
    detail: Option<String>,
    /// When the transport reported that failure: the wait is reported from then.
    lost_at: Option<Instant>,
    /// An error of ours to report, then stop; or the close reason reported already.
    failure: Option<Fatal>,
    done: bool,
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
        let (client, failure) = match options.client() {
            Ok(client) => (client, None),
            Err(fatal) => {
                let mut client = Client::new(ClientConfig::default());
                client.close();
                (client, Some(fatal))
            }
        };
        EventSource {
            url: url.into(),
            http,
            client,
            jitter: Jitter::default(),
            queue: VecDeque::new(),
            pending: None,
            response: None,
            sent_id: None,
            detail: None,
            lost_at: None,
            failure,
            done: false,
        }
    }

    /// The ready state.
    pub fn ready_state(&self) -> ReadyState {
        self.client.ready_state()
    }

    /// The last event ID: what a reconnection sends, and what to save to resume after a
    /// restart.
    pub fn last_event_id(&self) -> Option<&str> {
        Some(self.client.last_event_id()).filter(|id| !id.is_empty())
    }

    /// Closes the source for good; [`next`](Self::next) then returns `None`.
    pub fn close(&mut self) {
        self.client.close();
        self.queue.clear();
        self.response = None;
        self.done = true;
    }

    /// The next thing that happens; `None` once the source is closed.
    pub async fn next(&mut self) -> Option<Result<Incoming, Fatal>> {
        loop {
            if let Some(incoming) = self.queue.pop_front() {
                return Some(Ok(incoming));
            }
            if let Some(fatal) = self.failure.take() {
                self.done = true;
                return Some(Err(fatal));
            }
            if self.done {
                return None;
            }
            let now = Instant::now();
            match self.client.poll(now, self.jitter.next()) {
                Action::Send(request) => {
                    self.response = None;
                    self.sent_id = request.last_event_id().map(str::to_owned);
                    self.pending = Some(request);
                }
                Action::Signal(signal) => {
                    let detail = self.detail.take();
                    let at = self.lost_at.take().unwrap_or(now);
                    if let Some(incoming) =
                        Incoming::from_signal(signal, at, &mut self.sent_id, detail)
                    {
                        return Some(Ok(incoming));
                    }
                }
                Action::AwaitResponse { deadline } => {
                    let Some(request) = self.pending.take() else {
                        // Lost (the future was dropped mid-request): the caller's restart.
                        self.client.restart(now);
                        continue;
                    };
                    let send = self.send(request);
                    match deadline {
                        Some(deadline) => {
                            tokio::select! {
                                () = send => {}
                                () = tokio::time::sleep_until(deadline.into()) => {}
                            }
                        }
                        None => send.await,
                    }
                }
                Action::ReadBody { deadline } => {
                    let Some(response) = self.response.as_mut() else {
                        self.client.restart(now);
                        continue;
                    };
                    let chunk = match deadline {
                        Some(deadline) => tokio::select! {
                            chunk = response.chunk() => chunk,
                            () = tokio::time::sleep_until(deadline.into()) => continue,
                        },
                        None => response.chunk().await,
                    };
                    let now = Instant::now();
                    match chunk {
                        Ok(Some(bytes)) => {
                            let steps = self.client.feed(now, &bytes);
                            self.queue.extend(steps.filter_map(Incoming::from_step));
                        }
                        Ok(None) => self.disconnect(now, None),
                        Err(error) => self.disconnect(now, Some(error_chain(&error))),
                    }
                }
                Action::Wait { until } => tokio::time::sleep_until(until.into()).await,
                Action::Closed(reason) => {
                    self.response = None;
                    self.failure = Fatal::of(&reason);
                    self.done = true;
                }
            }
        }
    }

    /// Sends the request and hands its response head to the client.
    async fn send(&mut self, request: Request) {
        let method = reqwest::Method::from_bytes(request.method().as_bytes())
            .expect("sse_proto checks that the method is a token");
        let mut builder = self
            .http
            .request(method, &self.url)
            .body(request.body().clone());
        for (name, value) in request.headers() {
            // From bytes: an id may hold UTF-8 beyond ASCII, which `from_str` refuses.
            match reqwest::header::HeaderValue::from_bytes(value.as_bytes()) {
                Ok(value) => builder = builder.header(name, value),
                Err(error) => {
                    return self.fail(Fatal::Request(format!("header {name}: {error}")));
                }
            }
        }
        let response = match builder.send().await {
            Ok(response) => response,
            Err(error) if error.is_builder() => {
                return self.fail(Fatal::Request(error_chain(&error)));
            }
            Err(error) => return self.disconnect(Instant::now(), Some(error_chain(&error))),
        };
        let header = |name| response.headers().get(name).map(|v| v.as_bytes());
        let opened = self.client.handle_response(
            Instant::now(),
            response.status().as_u16(),
            header(reqwest::header::CONTENT_TYPE),
            header(reqwest::header::RETRY_AFTER),
        );
        if opened.is_ok() {
            self.response = Some(response);
        }
    }

    fn disconnect(&mut self, now: Instant, detail: Option<String>) {
        self.response = None;
        self.detail = detail;
        self.lost_at = Some(now);
        self.client.handle_disconnect(now);
    }

    /// Closes for good because of an error of ours, reported next.
    fn fail(&mut self, fatal: Fatal) {
        self.close();
        self.done = false;
        self.failure = Some(fatal);
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
