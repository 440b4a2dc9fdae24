//! Stand-ins for the sans-IO helpers of issue 5, until they land in `sse-proto`.
//!
//! Issue 5 adds to `sse-proto` an EventSource reconnection state machine (`client.rs`), a
//! keep-alive scheduler (`keepalive.rs`), stalled-client detection (`stall.rs`), a resume
//! buffer (`resume.rs`) and the HTTP header rules (`http.rs`). The demo is written against
//! the shapes sketched for them in STYLE.md (time as an argument, `poll_timeout` /
//! `handle_timeout`), and this file holds the least that lets the demo run meanwhile: no
//! backoff, no jitter, no healthy-time reset, no retry policy for 5xx. Every item here is
//! meant to be deleted, and its `use` lines switched to `sse_proto`, when the real one lands.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use sse_proto::{Frame, ParseError, Parser, ParserConfig, Step};

/// Header rules (to be `sse_proto::http`).
pub mod http {
    /// Response headers for an event stream; `Connection: keep-alive` only on HTTP/1.x
    /// (HTTP/2 forbids connection-specific headers).
    pub fn response_headers(http1: bool) -> Vec<(&'static str, &'static str)> {
        let mut headers = vec![
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
            ("x-accel-buffering", "no"),
        ];
        if http1 {
            headers.push(("connection", "keep-alive"));
        }
        headers
    }

    /// A `Last-Event-ID` request header as an id: valid UTF-8 without CR, LF or NUL, else
    /// `None` (treated as if the client sent none).
    pub fn last_event_id(value: &[u8]) -> Option<&str> {
        let id = std::str::from_utf8(value).ok()?;
        (!id.contains(['\r', '\n', '\0'])).then_some(id)
    }

    /// Whether an `Accept` header allows an event stream (absent allows anything).
    pub fn accepts_event_stream(accept: Option<&[u8]>) -> bool {
        let Some(accept) = accept else { return true };
        let accept = String::from_utf8_lossy(accept).to_ascii_lowercase();
        accept.split(',').any(|range| {
            let essence = range.split(';').next().unwrap_or("").trim();
            matches!(essence, "text/event-stream" | "text/*" | "*/*")
        })
    }

    /// Whether a `Content-Type` has the MIME essence `text/event-stream` (case-insensitive,
    /// parameters ignored).
    pub fn is_event_stream(content_type: Option<&[u8]>) -> bool {
        let Some(content_type) = content_type else {
            return false;
        };
        let essence = content_type.split(|&b| b == b';').next().unwrap_or(b"");
        essence
            .trim_ascii()
            .eq_ignore_ascii_case(b"text/event-stream")
    }
}

/// Why a response did not open the stream (for good: no reconnection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// Status 204: the server asks the client to stop.
    NoContent,
    /// Any status other than 200 and 204.
    Status(u16),
    /// Status 200 with a content type other than `text/event-stream`.
    ContentType(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::NoContent => write!(f, "the server answered 204 No Content: stop"),
            OpenError::Status(status) => write!(f, "the server answered status {status}"),
            OpenError::ContentType(ct) => write!(f, "content type {ct:?} is not text/event-stream"),
        }
    }
}

impl std::error::Error for OpenError {}

/// Ready states, as `EventSource.readyState` shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadyState {
    /// Connecting or waiting to reconnect.
    Connecting,
    /// A response opened the stream.
    Open,
    /// Closed for good.
    Closed,
}

/// The EventSource processing model (to be `sse_proto`'s client state machine): owns the
/// parser, the last event ID and the reconnection time.
#[derive(Debug)]
pub struct ClientState {
    parser: Parser,
    ready: ReadyState,
    reconnection_time: Duration,
    /// A last event ID saved by an earlier process; used until the stream sets one.
    seed: Option<String>,
    reconnect_at: Option<Instant>,
}

impl ClientState {
    /// A new source, `Connecting`: make the first request now.
    pub fn new(reconnection_time: Duration, seed: Option<String>, emit_comments: bool) -> Self {
        let mut config = ParserConfig::default();
        config.emit_comments = emit_comments;
        ClientState {
            parser: Parser::with_config(config),
            ready: ReadyState::Connecting,
            reconnection_time,
            seed: seed.filter(|id| http::last_event_id(id.as_bytes()).is_some()),
            reconnect_at: None,
        }
    }

    /// The ready state.
    pub fn ready_state(&self) -> ReadyState {
        self.ready
    }

    /// The last event ID to send back, `None` when empty.
    pub fn last_event_id(&self) -> Option<&str> {
        match self.parser.last_event_id() {
            "" => self.seed.as_deref(),
            id => Some(id),
        }
    }

    /// The current reconnection time.
    pub fn reconnection_time(&self) -> Duration {
        self.reconnection_time
    }

    /// The request headers to send (name, value).
    pub fn request_headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("accept", "text/event-stream".to_owned()),
            ("cache-control", "no-store".to_owned()),
        ];
        if let Some(id) = self.last_event_id() {
            headers.push(("last-event-id", id.to_owned()));
        }
        headers
    }

    /// The response's status and content type: opens the stream or closes the source.
    pub fn handle_response(
        &mut self,
        status: u16,
        content_type: Option<&[u8]>,
    ) -> Result<(), OpenError> {
        let failure = match status {
            200 if http::is_event_stream(content_type) => None,
            200 => Some(OpenError::ContentType(
                String::from_utf8_lossy(content_type.unwrap_or(b"")).into_owned(),
            )),
            204 => Some(OpenError::NoContent),
            other => Some(OpenError::Status(other)),
        };
        match failure {
            None => {
                self.ready = ReadyState::Open;
                self.parser.reset();
                Ok(())
            }
            Some(error) => {
                self.close();
                Err(error)
            }
        }
    }

    /// Parses one chunk of the body; `retry:` changes the reconnection time as it comes.
    pub fn handle_data(&mut self, chunk: &[u8]) -> Vec<Result<Step, ParseError>> {
        let mut steps = Vec::new();
        for step in self.parser.feed(chunk) {
            if let Ok(Step::Retry(delay)) = &step {
                self.reconnection_time = *delay;
            }
            steps.push(step);
        }
        if self.parser.last_event_id() != "" {
            self.seed = None;
        }
        steps
    }

    /// The stream ended or failed: returns when to reconnect, `None` once closed.
    pub fn handle_disconnect(&mut self, now: Instant) -> Option<Instant> {
        if self.ready == ReadyState::Closed {
            return None;
        }
        self.parser.finish();
        self.ready = ReadyState::Connecting;
        let at = now + self.reconnection_time;
        self.reconnect_at = Some(at);
        Some(at)
    }

    /// Closes the source for good.
    pub fn close(&mut self) {
        self.ready = ReadyState::Closed;
        self.reconnect_at = None;
    }
}

/// Keep-alive pings after an idle interval (to be `sse_proto`'s keep-alive scheduler).
#[derive(Debug)]
pub struct KeepAlive {
    interval: Duration,
    deadline: Instant,
    ping: Frame,
}

impl KeepAlive {
    /// Pings after `interval` without a write.
    pub fn new(interval: Duration, ping: Frame, now: Instant) -> Self {
        KeepAlive {
            interval,
            deadline: now + interval,
            ping,
        }
    }

    /// Real traffic was written: postpone the ping.
    pub fn on_write(&mut self, now: Instant) {
        self.deadline = now + self.interval;
    }

    /// When the next ping is due.
    pub fn poll_timeout(&self) -> Instant {
        self.deadline
    }

    /// The ping to write when due (early calls return `None`).
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Frame> {
        if now < self.deadline {
            return None;
        }
        self.deadline = now + self.interval;
        Some(self.ping.clone())
    }
}

/// Stalled-client detection (to be `sse_proto`'s stall detector): bytes queued for a client
/// against bytes its transport accepted; stalled when bytes are waiting and none has been
/// accepted for `timeout`.
#[derive(Debug)]
pub struct StallDetector {
    timeout: Duration,
    queued: u64,
    accepted: u64,
    since: Instant,
}

impl StallDetector {
    /// A detector with nothing queued.
    pub fn new(timeout: Duration, now: Instant) -> Self {
        StallDetector {
            timeout,
            queued: 0,
            accepted: 0,
            since: now,
        }
    }

    /// Total bytes queued for the client so far.
    pub fn on_queued(&mut self, total: u64, now: Instant) {
        if self.queued == self.accepted && total > self.queued {
            self.since = now; // waiting starts now
        }
        self.queued = self.queued.max(total);
    }

    /// Total bytes the transport accepted so far.
    pub fn on_accepted(&mut self, total: u64, now: Instant) {
        if total > self.accepted {
            self.accepted = total;
            self.since = now;
        }
    }

    /// Whether the client made no progress for the timeout while bytes were waiting.
    pub fn is_stalled(&self, now: Instant) -> bool {
        self.queued > self.accepted && now.saturating_duration_since(self.since) >= self.timeout
    }
}

/// Bounds of a [`ResumeBuffer`].
#[derive(Clone, Copy, Debug)]
pub struct ResumeLimits {
    /// Most frames kept.
    pub max_events: usize,
    /// Most bytes kept.
    pub max_bytes: usize,
}

/// What a reconnecting client gets.
#[derive(Debug)]
pub enum Replay {
    /// The frames after its id, oldest first.
    Since(Vec<Frame>),
    /// It has seen the newest frame.
    UpToDate,
    /// The id was evicted or never seen: send a full state.
    Unknown,
}

/// Recent frames with ids, for Last-Event-ID resume (to be `sse_proto`'s resume buffer).
#[derive(Debug)]
pub struct ResumeBuffer {
    limits: ResumeLimits,
    frames: VecDeque<Frame>,
    bytes: usize,
}

impl ResumeBuffer {
    /// An empty buffer.
    pub fn new(limits: ResumeLimits) -> Self {
        ResumeBuffer {
            limits,
            frames: VecDeque::new(),
            bytes: 0,
        }
    }

    /// Keeps a frame (frames without an id are not kept), evicting the oldest.
    pub fn push(&mut self, frame: Frame) {
        if frame.id().is_none() {
            return;
        }
        self.bytes += frame.len();
        self.frames.push_back(frame);
        while self.frames.len() > self.limits.max_events || self.bytes > self.limits.max_bytes {
            match self.frames.pop_front() {
                Some(old) => self.bytes -= old.len(),
                None => break,
            }
        }
    }

    /// The frames after `last_event_id`.
    pub fn replay_after(&self, last_event_id: &str) -> Replay {
        match self
            .frames
            .iter()
            .rposition(|f| f.id() == Some(last_event_id))
        {
            None => Replay::Unknown,
            Some(i) if i + 1 == self.frames.len() => Replay::UpToDate,
            Some(i) => Replay::Since(self.frames.iter().skip(i + 1).cloned().collect()),
        }
    }

    /// The newest frame, if any.
    pub fn newest(&self) -> Option<&Frame> {
        self.frames.back()
    }
}
