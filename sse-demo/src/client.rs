//! An async EventSource on reqwest: automatic reconnection with `Last-Event-ID`, the server's
//! `retry:` honoured, and a read-idle timeout instead of a total timeout, so a healthy
//! long-lived stream is never killed while a silent dead one is noticed.
//!
//! The reconnection rules live in the sans-IO client state ([`crate::interim::ClientState`]
//! until issue 5's lands in `sse-proto`); this file only moves bytes and sleeps.
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
use std::time::{Duration, Instant};

use sse_proto::{Event, ParseError, Step, Utf8Bytes};

use crate::interim::{ClientState, OpenError, ReadyState};

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
            default_retry: Duration::from_secs(3),
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
    /// The request could not be built (a bad URL).
    Request(String),
}

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fatal::Open(error) => error.fmt(f),
            Fatal::Request(error) => write!(f, "bad request: {error}"),
        }
    }
}

impl std::error::Error for Fatal {}

/// An EventSource: call [`next`](Self::next) until it returns `None`.
pub struct EventSource {
    url: String,
    http: reqwest::Client,
    options: Options,
    core: Core,
    response: Option<reqwest::Response>,
}

/// What the async and the blocking client share: the sans-IO state and the reports it
/// produces, waiting to be handed out.
#[derive(Debug)]
pub(crate) struct Core {
    state: ClientState,
    reconnect_at: Option<Instant>,
    queue: VecDeque<Incoming>,
}

impl Core {
    pub(crate) fn new(options: &Options) -> Self {
        Core {
            state: ClientState::new(
                options.default_retry,
                options.last_event_id.clone(),
                options.comments,
            ),
            reconnect_at: None,
            queue: VecDeque::new(),
        }
    }

    /// The next report, or `Err(())` when there is none and the source is closed.
    pub(crate) fn pop(&mut self) -> Result<Option<Incoming>, ()> {
        match self.queue.pop_front() {
            Some(incoming) => Ok(Some(incoming)),
            None if self.state.ready_state() == ReadyState::Closed => Err(()),
            None => Ok(None),
        }
    }

    /// When to send the next request (now when `None`); to be called once per attempt.
    pub(crate) fn take_reconnect_at(&mut self) -> Option<Instant> {
        self.reconnect_at.take()
    }

    /// The request headers, and the `Last-Event-ID` among them.
    pub(crate) fn request_headers(&self) -> (Vec<(&'static str, String)>, Option<String>) {
        let headers = self.state.request_headers();
        let sent = self.state.last_event_id().map(str::to_owned);
        (headers, sent)
    }

    /// A response arrived: open, or fail for good.
    pub(crate) fn handle_response(
        &mut self,
        status: u16,
        content_type: Option<&[u8]>,
        sent_id: Option<String>,
    ) -> Result<(), OpenError> {
        self.state.handle_response(status, content_type)?;
        self.queue.push_back(Incoming::Open {
            last_event_id: sent_id,
        });
        Ok(())
    }

    pub(crate) fn handle_data(&mut self, bytes: &[u8]) {
        let steps = self.state.handle_data(bytes);
        self.queue
            .extend(steps.into_iter().filter_map(Incoming::from_step));
    }

    pub(crate) fn disconnect(&mut self, reason: String) {
        let now = Instant::now();
        if let Some(at) = self.state.handle_disconnect(now) {
            self.reconnect_at = Some(at);
            self.queue.push_back(Incoming::Reconnecting {
                reason,
                after: at - now,
            });
        }
    }

    pub(crate) fn close(&mut self) {
        self.state.close();
        self.queue.clear();
    }

    pub(crate) fn last_event_id(&self) -> Option<&str> {
        self.state.last_event_id()
    }

    pub(crate) fn ready_state(&self) -> ReadyState {
        self.state.ready_state()
    }
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
            options,
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
            match self.core.pop() {
                Ok(Some(incoming)) => return Some(Ok(incoming)),
                Ok(None) => {}
                Err(()) => return None,
            }
            match self.response.as_mut() {
                None => {
                    if let Some(at) = self.core.take_reconnect_at() {
                        tokio::time::sleep_until(at.into()).await;
                    }
                    if let Err(fatal) = self.connect().await {
                        return Some(Err(fatal));
                    }
                }
                Some(response) => {
                    let chunk = match self.options.read_idle {
                        Some(idle) => match tokio::time::timeout(idle, response.chunk()).await {
                            Ok(chunk) => chunk,
                            Err(_) => {
                                self.disconnect(format!("nothing received for {idle:?}"));
                                continue;
                            }
                        },
                        None => response.chunk().await,
                    };
                    match chunk {
                        Ok(Some(bytes)) => self.core.handle_data(&bytes),
                        Ok(None) => self.disconnect("the server ended the stream".to_owned()),
                        Err(error) => self.disconnect(error_chain(&error)),
                    }
                }
            }
        }
    }

    async fn connect(&mut self) -> Result<(), Fatal> {
        let (headers, sent_id) = self.core.request_headers();
        let mut request = self.http.get(&self.url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) if error.is_builder() => {
                self.core.close();
                return Err(Fatal::Request(error_chain(&error)));
            }
            Err(error) => {
                self.disconnect(error_chain(&error));
                return Ok(());
            }
        };
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| v.as_bytes().to_vec());
        let status = response.status().as_u16();
        self.core
            .handle_response(status, content_type.as_deref(), sent_id)
            .map_err(Fatal::Open)?;
        self.response = Some(response);
        Ok(())
    }

    fn disconnect(&mut self, reason: String) {
        self.response = None;
        self.core.disconnect(reason);
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
