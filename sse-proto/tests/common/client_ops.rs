//! Drives a `Client` with a list of operations on a fake clock, next to a model of the
//! EventSource processing model (HTML's "the EventSource interface"), and checks after every
//! operation that the client made the transition the model allows and that no deadline is in
//! the past of the last `now` given. Events are checked against `naive::parse` of each
//! connection's body.
//!
//! The model is independent of the client's code: it predicts states, every `poll` answer
//! (the request with its method, body and headers, each signal in order, deadlines), attempt
//! counts, close reasons, last event IDs and reconnection times exactly, and each wait within
//! bounds (jitter makes the exact value the client's business; `tests/client.rs` pins it).
//!
//! Shared by `tests/client.rs` (proptest) and `fuzz/fuzz_targets/client_ops.rs`; the including
//! crate must also declare `mod naive` (tests/common/naive.rs) at its root.
#![allow(dead_code)] // each includer uses a part

use std::time::{Duration, Instant};

use sse_proto::{
    Action, Backoff, Client, ClientConfig, CloseReason, ErrorCause, OpenError, ReadyState,
    RequestError, Signal, Step, Utf8Bytes,
};

use crate::naive;

/// Statuses a response may have (200 thrice: it is the interesting one).
pub const STATUSES: [u16; 12] = [200, 200, 200, 204, 429, 500, 599, 404, 301, 201, 401, 403];

/// Content types a response may have.
pub const CONTENT_TYPES: [Option<&[u8]>; 9] = [
    Some(b"text/event-stream"),
    Some(b"Text/Event-Stream; charset=utf-8"),
    Some(b" text/event-stream ;x=y"),
    Some(b"text/html"),
    Some(b"text/event-streams"),
    Some(b"text/ event-stream"),
    Some(b""),
    None,
    Some(b"\xFFtext"),
];

/// `Retry-After` values a response may have.
pub const RETRY_AFTERS: [Option<&[u8]>; 7] = [
    None,
    Some(b"0"),
    Some(b"5"),
    Some(b" 120 "),
    Some(b"99999999999999999999999"),
    Some(b"Wed, 21 Oct 2015 07:28:00 GMT"),
    Some(b"-1"),
];

/// Pieces body chunks are made of: fields, line ends split every way, BOM, broken UTF-8.
pub const PIECES: [&[u8]; 20] = [
    b"id: 1\n",
    b"id: 2\n",
    b"id:\n",
    b"id: a\0b\n",
    b"data: x\n",
    b"data\n",
    b"\n",
    b"\r\n",
    b"\r",
    b"retry: 250\n",
    b"retry: 0\n",
    b"retry: 99999999999999999999\n",
    b"retry: 5000\n",
    b": ping\n",
    b"event: e\n",
    b"\xEF\xBB\xBF",
    b"da",
    b"ta: y",
    b"\xFF",
    b"id:  spaced \n",
];

/// Last event IDs to seed or set (some invalid, one that no strict header can carry).
pub const IDS: [&str; 8] = [
    "",
    "7",
    " spaced ",
    "a\nb",
    "nul\0",
    "ünï",
    "bell\u{7}",
    " \t ",
];

/// Headers the caller may set (some invalid, some replacing a default, one reserved).
pub const HEADERS: [(&str, &str); 9] = [
    ("authorization", "Bearer one"),
    ("Authorization", "Bearer two"),
    ("accept", "application/json, text/event-stream"),
    ("Cache-Control", "max-age=0"),
    ("x-token", "a\r\nb"),
    ("bad name", "x"),
    ("Last-Event-ID", "5"),
    ("x-utf8", "ünï"),
    ("", "empty name"),
];

/// The headers the client adds unless the caller set one of the same name.
const DEFAULTS: [(&str, &str); 3] = [
    ("accept", "text/event-stream"),
    ("cache-control", "no-cache"),
    ("pragma", "no-cache"),
];

/// The client's settings, in plain numbers.
#[derive(Clone, Debug)]
pub struct Setup {
    pub reconnection_ms: u64,
    /// `(factor, max_delay_ms, jitter_percent)`.
    pub backoff: Option<(u32, u64, u32)>,
    pub max_attempts: Option<u32>,
    pub healthy_ms: u64,
    pub read_timeout_ms: Option<u64>,
    pub retry_server_errors: bool,
    pub refresh_credentials: bool,
    /// Send a `POST` with a body instead of a `GET`.
    pub post: bool,
    /// Index into `IDS`.
    pub seed: Option<usize>,
}

impl Setup {
    pub fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::default();
        config.reconnection_time = Duration::from_millis(self.reconnection_ms);
        config.backoff = self.backoff.map(|(factor, max_ms, jitter)| {
            let mut backoff = Backoff::new(factor, Duration::from_millis(max_ms));
            backoff.jitter_percent = jitter;
            backoff
        });
        config.max_attempts = self.max_attempts;
        config.healthy_after = Duration::from_millis(self.healthy_ms);
        config.read_timeout = self.read_timeout_ms.map(Duration::from_millis);
        config.retry_server_errors = self.retry_server_errors;
        config.refresh_credentials = self.refresh_credentials;
        config
    }
}

/// One thing the caller does. Indices are taken modulo their table's length.
#[derive(Clone, Debug)]
pub enum Op {
    /// The fake clock moves on (no call).
    Advance(u64),
    /// Sleep until `poll_timeout()` (if any), then `handle_timeout`.
    SleepToDeadline,
    /// `poll(now, random)`.
    Poll(u32),
    Response {
        status: usize,
        content_type: usize,
        retry_after: usize,
    },
    /// Body bytes: indices into `PIECES`.
    Feed(Vec<usize>),
    Disconnect,
    Timeout,
    Close,
    /// Index into `IDS`.
    SetLastEventId(usize),
    /// Index into `HEADERS`.
    SetHeader(usize),
    Restart,
    /// `Client::reset`: drop the parser's unfinished line and event.
    Reset,
}

/// Where the model says the client is.
#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Due,
    /// Waiting since `at`, for between `lo` and `hi`.
    Waiting {
        at: Instant,
        lo: Duration,
        hi: Duration,
    },
    Requested {
        last_activity: Instant,
    },
    Open {
        opened_at: Instant,
        last_activity: Instant,
    },
    Closed(CloseReason),
}

/// The model, and the record of the connection being read.
struct Model {
    config: ClientConfig,
    phase: Phase,
    attempts: u32,
    base: Duration,
    last_id: String,
    /// Signals not yet handed out; the last one's `reconnect_at` is a placeholder while
    /// `unsettled_signal` (the wait it names is not known yet, jitter being the client's).
    signals: std::collections::VecDeque<Signal>,
    unsettled_signal: bool,
    /// The caller's headers: lower-case names, in the order first set.
    headers: Vec<(String, String)>,
    method: &'static str,
    body_sent: &'static [u8],
    refreshing: bool,
    /// The body read so far on this connection, the last event ID it started with, and
    /// whether the model can still predict it (false once the id was set mid-stream).
    body: Vec<u8>,
    body_seed: String,
    body_exact: bool,
    /// What the client yielded on this connection, in `naive::Out` form.
    seen: Vec<(String, String, String)>,
    seen_retries: Vec<u64>,
    base_at_open: Duration,
}

/// The body a `POST` setup sends.
const POST_BODY: &[u8] = br#"{"prompt":"hi","stream":true}"#;

/// Runs `ops` against a fresh client; panics at the first illegal transition.
pub fn run(setup: &Setup, ops: &[Op]) {
    let config = setup.config();
    let mut client = Client::new(config.clone());
    let mut model = Model {
        base: config.reconnection_time,
        config,
        phase: Phase::Due,
        attempts: 0,
        last_id: String::new(),
        signals: Default::default(),
        unsettled_signal: false,
        headers: Vec::new(),
        method: "GET",
        body_sent: b"",
        refreshing: false,
        body: Vec::new(),
        body_seed: String::new(),
        body_exact: true,
        seen: Vec::new(),
        seen_retries: Vec::new(),
        base_at_open: Duration::ZERO,
    };
    if setup.post {
        client.set_method("POST").expect("a token");
        client.set_body(POST_BODY);
        model.method = "POST";
        model.body_sent = POST_BODY;
    }
    if let Some(seed) = setup.seed {
        model.set_id(&mut client, IDS[seed % IDS.len()]);
    }
    let start = Instant::now();
    let mut clock = start;
    let mut last_given = start;
    for (i, op) in ops.iter().enumerate() {
        let context = format!("op {i} {op:?} at {:?}", clock - start);
        match op {
            Op::Advance(ms) => clock += Duration::from_millis(*ms),
            Op::SleepToDeadline => {
                if let Some(deadline) = client.poll_timeout() {
                    clock = clock.max(deadline);
                }
                model.timeout(&mut client, clock);
                last_given = clock;
            }
            Op::Timeout => {
                model.timeout(&mut client, clock);
                last_given = clock;
            }
            Op::Poll(random) => {
                model.end_wait(clock);
                let action = client.poll(clock, *random);
                last_given = clock;
                model.settle_wait(&client, clock);
                let want = model.poll(clock);
                assert_eq!(action, want, "{context}: poll");
                if let Action::Send(request) = &action {
                    assert!(
                        request.headers().all(|(_, value)| !value.is_empty()),
                        "{context}: empty header"
                    );
                }
            }
            Op::Response {
                status,
                content_type,
                retry_after,
            } => {
                let status = STATUSES[status % STATUSES.len()];
                let content_type = CONTENT_TYPES[content_type % CONTENT_TYPES.len()];
                let retry_after = RETRY_AFTERS[retry_after % RETRY_AFTERS.len()];
                let want = model.response(clock, status, content_type, retry_after);
                let got = client.handle_response(clock, status, content_type, retry_after);
                last_given = clock;
                assert_eq!(got, want, "{context}: response result");
            }
            Op::Feed(pieces) => {
                let chunk: Vec<u8> = pieces
                    .iter()
                    .flat_map(|&p| PIECES[p % PIECES.len()].iter().copied())
                    .collect();
                let reading = model.feed(clock, &chunk);
                let steps: Vec<_> = client.feed(clock, &chunk).collect();
                last_given = clock;
                if !reading {
                    assert!(steps.is_empty(), "{context}: steps while {:?}", model.phase);
                }
                model.check_steps(&client, steps, &context);
            }
            Op::Disconnect => {
                model.end_wait(clock);
                match model.phase {
                    Phase::Requested { .. } => {
                        model.lost(clock, Duration::ZERO, ErrorCause::RequestFailed)
                    }
                    Phase::Open { .. } => model.lost(clock, Duration::ZERO, ErrorCause::BodyEnded),
                    _ => {}
                }
                client.handle_disconnect(clock);
                last_given = clock;
            }
            Op::Close => {
                if !matches!(model.phase, Phase::Closed(_)) {
                    model.phase = Phase::Closed(CloseReason::ByCaller);
                }
                model.signals.clear();
                model.unsettled_signal = false;
                client.close();
            }
            Op::SetLastEventId(id) => model.set_id(&mut client, IDS[id % IDS.len()]),
            Op::SetHeader(header) => {
                let (name, value) = HEADERS[header % HEADERS.len()];
                let want = model.set_header(name, value);
                assert_eq!(
                    client.set_header(name, value),
                    want,
                    "{context}: set_header"
                );
            }
            Op::Restart => {
                model.end_wait(clock);
                match model.phase {
                    Phase::Open { opened_at, .. } => {
                        if clock - opened_at >= model.config.healthy_after {
                            model.attempts = 0;
                        }
                        model.phase = Phase::Due;
                    }
                    Phase::Waiting { .. } | Phase::Requested { .. } => model.phase = Phase::Due,
                    Phase::Due | Phase::Closed(_) => {}
                }
                client.restart(clock);
                last_given = clock;
            }
            Op::Reset => {
                if matches!(model.phase, Phase::Open { .. }) {
                    // What the parser dropped is no longer a stream the model can read.
                    model.body_exact = false;
                }
                client.reset();
            }
        }
        model.settle_wait(&client, last_given);
        model.check(&client, last_given, &context);
    }
}

impl Model {
    fn read_deadline(&self, last_activity: Instant) -> Option<Instant> {
        self.config
            .read_timeout
            .map(|timeout| last_activity + timeout)
    }

    /// `handle_timeout(now)` on both: the read timeout if `now` reached it, then the end of
    /// the wait, which the model can tell only once it knows the wait the client chose.
    fn timeout(&mut self, client: &mut Client, now: Instant) {
        if let Phase::Requested { last_activity } | Phase::Open { last_activity, .. } = self.phase {
            if self
                .read_deadline(last_activity)
                .is_some_and(|deadline| now >= deadline)
            {
                self.lost(now, Duration::ZERO, ErrorCause::ReadTimeout);
            }
        }
        client.handle_timeout(now);
        if let Phase::Waiting { at, lo, hi } = self.phase {
            if lo != hi && client.reconnect_at().is_none() {
                // The wait just started (`at == now`) and already ended: it was zero.
                assert!(
                    at == now && lo.is_zero(),
                    "a wait of {lo:?}..{hi:?} ended at once"
                );
                self.phase = Phase::Waiting { at, lo, hi: lo };
                if self.unsettled_signal {
                    if let Some(Signal::Error { reconnect_at, .. }) = self.signals.back_mut() {
                        *reconnect_at = Some(at);
                    }
                    self.unsettled_signal = false;
                }
            }
        }
        self.settle_wait(client, now);
        self.end_wait(now);
    }

    /// What every input with `now` does: the wait before reconnecting ends. The read
    /// timeout is `handle_timeout`'s alone.
    fn end_wait(&mut self, now: Instant) {
        if let Phase::Waiting { at, lo, hi } = self.phase {
            assert!(
                lo == hi || now < at + lo,
                "the model cannot tell whether the wait is over"
            );
            if now >= at + lo && lo == hi {
                self.phase = Phase::Due;
            }
        }
    }

    /// The connection failed at `at`: the attempt rule, then the bounds of the wait, and
    /// the `error` signal.
    fn lost(&mut self, at: Instant, retry_after: Duration, cause: ErrorCause) {
        if let Phase::Open { opened_at, .. } = self.phase {
            if at - opened_at >= self.config.healthy_after {
                self.attempts = 0;
            }
        }
        if self
            .config
            .max_attempts
            .is_some_and(|max| self.attempts >= max)
        {
            self.phase = Phase::Closed(CloseReason::GaveUp {
                attempts: self.attempts,
            });
            self.push_signal(Signal::Error {
                cause,
                reconnect_at: None,
            });
            return;
        }
        self.attempts += 1;
        let max = Client::MAX_WAIT;
        let base = self.base.min(max);
        let lo = base.max(retry_after).min(max);
        let hi = match &self.config.backoff {
            None => lo,
            Some(backoff) => {
                let cap = backoff.max_delay.max(base).min(max);
                let jitter = cap.as_nanos() * u128::from(backoff.jitter_percent) / 100;
                let most =
                    Duration::from_nanos((cap.as_nanos() + jitter).min(max.as_nanos()) as u64);
                most.max(retry_after).min(max)
            }
        };
        self.phase = Phase::Waiting { at, lo, hi };
        self.push_signal(Signal::Error {
            cause,
            reconnect_at: Some(at + lo),
        });
        self.unsettled_signal = lo != hi;
    }

    fn push_signal(&mut self, signal: Signal) {
        self.signals.push_back(signal);
        self.unsettled_signal = false;
        assert!(
            self.signals.len() <= 2,
            "signals pile up: {:?}",
            self.signals
        );
    }

    /// Replaces the model's unknown wait with the one the client chose, once it is within
    /// bounds.
    fn settle_wait(&mut self, client: &Client, now: Instant) {
        if let Phase::Waiting { at, lo, hi } = self.phase {
            if lo == hi {
                return;
            }
            let until = client.reconnect_at().unwrap_or_else(|| {
                panic!(
                    "waiting between {lo:?} and {hi:?}, but the client is {:?}",
                    client.ready_state()
                )
            });
            let wait = until - at;
            assert!(
                lo <= wait && wait <= hi,
                "wait {wait:?} outside [{lo:?}, {hi:?}]"
            );
            assert!(until >= now);
            self.phase = Phase::Waiting {
                at,
                lo: wait,
                hi: wait,
            };
            if self.unsettled_signal {
                if let Some(Signal::Error { reconnect_at, .. }) = self.signals.back_mut() {
                    *reconnect_at = Some(until);
                }
                self.unsettled_signal = false;
            }
        }
    }

    /// What `poll` must answer at `now` (the deadlines already fired), and the phase after.
    fn poll(&mut self, now: Instant) -> Action {
        if let Some(signal) = self.signals.pop_front() {
            return Action::Signal(signal);
        }
        match &self.phase {
            Phase::Due => {
                self.phase = Phase::Requested { last_activity: now };
                self.expect_request()
            }
            Phase::Waiting { at, lo, .. } => Action::Wait { until: *at + *lo },
            Phase::Requested { last_activity } => Action::AwaitResponse {
                deadline: self.read_deadline(*last_activity),
            },
            Phase::Open { last_activity, .. } => Action::ReadBody {
                deadline: self.read_deadline(*last_activity),
            },
            Phase::Closed(reason) => Action::Closed(reason.clone()),
        }
    }

    /// The request the client must hand out now, compared field by field by the caller
    /// through `Action`'s equality: built here from the model's own record.
    fn expect_request(&self) -> Action {
        let mut client = Client::new(ClientConfig::default());
        client.set_method(self.method).unwrap();
        client.set_body(self.body_sent);
        for (name, value) in &self.headers {
            client.set_header(name, value).unwrap();
        }
        client.set_last_event_id(&self.last_id).unwrap();
        let action = client.poll(Instant::now(), 0);
        // The comparison above goes through the client's own request building, so check
        // what it built against the rules written out here.
        let Action::Send(request) = &action else {
            panic!("a fresh client hands out a request")
        };
        let mut want: Vec<(String, String)> = DEFAULTS
            .iter()
            .filter(|(name, _)| !self.headers.iter().any(|(n, _)| n == name))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        want.extend(self.headers.iter().cloned());
        let id = self.last_id.trim_matches([' ', '\t']);
        let strict = id.bytes().all(|b| b >= 0x20 && b != 0x7F || b == b'\t');
        if !id.is_empty() && strict {
            want.push(("last-event-id".into(), id.into()));
        }
        let got: Vec<(String, String)> = request
            .headers()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want, "headers");
        assert_eq!(request.method(), self.method);
        assert_eq!(request.body().as_ref(), self.body_sent);
        assert_eq!(
            request.withheld_last_event_id(),
            (!id.is_empty() && !strict).then_some(self.last_id.as_str()),
            "withheld id"
        );
        action
    }

    /// What `set_header` must return, and the caller's headers after it.
    fn set_header(&mut self, name: &str, value: &str) -> Result<(), RequestError> {
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return Err(RequestError::InvalidHeaderName {
                name: name.to_string(),
            });
        }
        let lower = name.to_ascii_lowercase();
        if lower == "last-event-id" {
            return Err(RequestError::LastEventIdHeader);
        }
        if let Some(position) = value
            .bytes()
            .position(|b| b < 0x20 && b != b'\t' || b == 0x7F)
        {
            return Err(RequestError::InvalidHeaderValue {
                name: lower,
                byte: value.as_bytes()[position],
                position,
            });
        }
        match self.headers.iter_mut().find(|(n, _)| *n == lower) {
            Some((_, old)) => *old = value.to_string(),
            None => self.headers.push((lower, value.to_string())),
        }
        Ok(())
    }

    /// What `handle_response` must return, and the phase after it.
    fn response(
        &mut self,
        now: Instant,
        status: u16,
        content_type: Option<&[u8]>,
        retry_after: Option<&[u8]>,
    ) -> Result<(), OpenError> {
        if !matches!(self.phase, Phase::Requested { .. }) {
            self.end_wait(now);
            return Err(OpenError::NotAwaitingResponse);
        }
        let event_stream = content_type.is_some_and(|ct| {
            let essence = ct.split(|&b| b == b';').next().unwrap_or_default();
            String::from_utf8_lossy(essence)
                .trim()
                .eq_ignore_ascii_case("text/event-stream")
        });
        let retried =
            self.config.retry_server_errors && (status == 429 || (500..600).contains(&status));
        let refresh =
            self.config.refresh_credentials && !self.refreshing && (status == 401 || status == 403);
        let error = match status {
            200 if event_stream => {
                self.phase = Phase::Open {
                    opened_at: now,
                    last_activity: now,
                };
                self.refreshing = false;
                self.push_signal(Signal::Open);
                self.body.clear();
                self.body_seed = self.last_id.clone();
                self.body_exact = true;
                self.seen.clear();
                self.seen_retries.clear();
                self.base_at_open = self.base;
                return Ok(());
            }
            200 => OpenError::ContentType {
                content_type: content_type
                    .map(|ct| Utf8Bytes::from(String::from_utf8_lossy(ct).into_owned())),
            },
            204 => OpenError::NoContent,
            _ if refresh => {
                self.refreshing = true;
                self.phase = Phase::Due;
                self.push_signal(Signal::Error {
                    cause: ErrorCause::CredentialsRefused { status },
                    reconnect_at: Some(now),
                });
                return Err(OpenError::Status { status });
            }
            _ if retried => {
                let seconds = retry_after
                    .map(|v| String::from_utf8_lossy(v).trim().to_string())
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .map(|v| v.parse::<u64>().unwrap_or(u64::MAX));
                let error = OpenError::Status { status };
                self.lost(
                    now,
                    Duration::from_secs(seconds.unwrap_or(0)),
                    ErrorCause::Refused(error.clone()),
                );
                return Err(error);
            }
            _ => OpenError::Status { status },
        };
        self.phase = Phase::Closed(CloseReason::Failed(error.clone()));
        self.push_signal(Signal::Error {
            cause: ErrorCause::Refused(error.clone()),
            reconnect_at: None,
        });
        Err(error)
    }
    /// Records body bytes; returns whether the client reads them.
    fn feed(&mut self, now: Instant, chunk: &[u8]) -> bool {
        match &mut self.phase {
            Phase::Open { last_activity, .. } if !chunk.is_empty() => {
                *last_activity = now;
                self.body.extend_from_slice(chunk);
                true
            }
            _ => {
                self.end_wait(now);
                false
            }
        }
    }

    /// Compares what the client yielded with the model's reading of the whole body so far.
    fn check_steps(
        &mut self,
        client: &Client,
        steps: Vec<Result<Step, sse_proto::ParseError>>,
        context: &str,
    ) {
        for step in steps {
            match step.expect("no limit is reached") {
                Step::Event(event) => {
                    assert_eq!(
                        client.ready_state(),
                        ReadyState::Open,
                        "{context}: event while not open"
                    );
                    self.seen.push((
                        event.event_type().to_string(),
                        event.data().to_string(),
                        event.last_event_id().to_string(),
                    ));
                }
                Step::Retry(delay) => self.seen_retries.push(delay.as_millis() as u64),
                other => panic!("{context}: unexpected step {other:?}"),
            }
        }
        if !self.body_exact || !matches!(self.phase, Phase::Open { .. }) {
            return;
        }
        // The body as the model reads it: the BOM (if any), then an `id:` block for the last
        // event ID the connection started with, then the rest.
        let (bom, rest) = match self.body.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => (&b"\xEF\xBB\xBF"[..], rest),
            None => (&b""[..], &self.body[..]),
        };
        let mut input = bom.to_vec();
        if !self.body_seed.is_empty() {
            input.extend_from_slice(format!("id: {}\n\n", self.body_seed).as_bytes());
        }
        input.extend_from_slice(rest);
        let (outs, last_id) = naive::parse(&input, false);
        let mut events = Vec::new();
        let mut retries = Vec::new();
        for out in outs {
            match out {
                naive::Out::Event {
                    event_type,
                    data,
                    id,
                } => events.push((event_type, data, id.unwrap_or_default())),
                naive::Out::Retry(ms) => retries.push(ms),
                naive::Out::Comment(_) => unreachable!("comments are off"),
            }
        }
        assert_eq!(self.seen, events, "{context}: events of this connection");
        assert_eq!(
            self.seen_retries, retries,
            "{context}: retries of this connection"
        );
        self.last_id = last_id;
        self.base = retries
            .last()
            .map_or(self.base_at_open, |&ms| Duration::from_millis(ms));
    }

    fn set_id(&mut self, client: &mut Client, id: &str) {
        let valid = !id.contains(['\r', '\n', '\0']);
        assert_eq!(
            client.set_last_event_id(id).is_ok(),
            valid,
            "set_last_event_id({id:?})"
        );
        if valid {
            self.last_id = id.to_string();
            if matches!(self.phase, Phase::Open { .. }) {
                // The parser's state mid-stream is no longer a stream the model can read.
                self.body_exact = false;
            }
        }
    }

    /// What must hold after every operation.
    fn check(&mut self, client: &Client, last_given: Instant, context: &str) {
        // The end of a wait is never in the past of the last `now`; a read deadline may be,
        // until the caller reports a wait that found nothing.
        if let Some(until) = client.reconnect_at() {
            assert!(until >= last_given, "{context}: wait ends in the past");
        }
        let want = match self.phase {
            Phase::Due | Phase::Waiting { .. } | Phase::Requested { .. } => ReadyState::Connecting,
            Phase::Open { .. } => ReadyState::Open,
            Phase::Closed(_) => ReadyState::Closed,
        };
        assert_eq!(
            client.ready_state(),
            want,
            "{context}: model phase {:?}",
            self.phase
        );
        let reason = match &self.phase {
            Phase::Closed(reason) => Some(reason),
            _ => None,
        };
        assert_eq!(client.close_reason(), reason, "{context}: close reason");
        assert_eq!(
            client.is_requesting(),
            matches!(self.phase, Phase::Requested { .. }),
            "{context}: request in flight"
        );
        assert_eq!(client.attempts(), self.attempts, "{context}: attempts");
        if let Some(max) = self.config.max_attempts {
            assert!(
                client.attempts() <= max,
                "{context}: attempts over the maximum"
            );
        }
        if !self.body_exact && matches!(self.phase, Phase::Open { .. }) {
            // Unpredictable until the connection ends: follow the client.
            self.last_id = client.last_event_id().to_string();
            self.base = client.reconnection_time();
        }
        assert_eq!(
            client.last_event_id(),
            self.last_id,
            "{context}: last event ID"
        );
        assert_eq!(
            client.reconnection_time(),
            self.base,
            "{context}: reconnection time"
        );
        match self.phase {
            Phase::Waiting { at, lo, .. } => {
                assert_eq!(
                    client.reconnect_at(),
                    Some(at + lo),
                    "{context}: end of the wait"
                );
                assert_eq!(
                    client.poll_timeout(),
                    Some(at + lo),
                    "{context}: deadline while waiting"
                );
            }
            Phase::Requested { last_activity } | Phase::Open { last_activity, .. } => {
                assert_eq!(
                    client.poll_timeout(),
                    self.read_deadline(last_activity),
                    "{context}: read deadline"
                );
            }
            Phase::Due | Phase::Closed(_) => {
                assert_eq!(client.poll_timeout(), None, "{context}: deadline")
            }
        }
    }
}
