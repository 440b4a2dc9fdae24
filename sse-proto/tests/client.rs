//! The client connection rules (HTML's "the EventSource interface") as scripted timelines on a fake clock,
//! the bugs of other clients we must not have, and a property test that drives the client
//! with arbitrary operations next to a model (tests/common/client_ops.rs).

#[path = "common/client_ops.rs"]
mod client_ops;
#[path = "common/naive.rs"]
mod naive;

use std::time::{Duration, Instant};

use proptest::prelude::*;
use sse_proto::{
    Action, Backoff, Client, ClientConfig, CloseReason, EncodeError, ErrorCause, Field, OpenError,
    Parser, ReadyState, Request, RequestError, Signal, Step,
};

const EVENT_STREAM: Option<&[u8]> = Some(b"text/event-stream");

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// A request the test may ignore (`Request` is `#[must_use]`).
struct Sent(Request);

impl std::ops::Deref for Sent {
    type Target = Request;

    fn deref(&self) -> &Request {
        &self.0
    }
}

/// A client on a fake clock: one `Instant::now()` plus durations.
struct Sim {
    client: Client,
    start: Instant,
    now: Instant,
    random: u32,
    /// Every signal handed out, with the time since the start.
    signals: Vec<(Duration, Signal)>,
    /// A request handed out while collecting signals, for the next `poll_request`.
    stashed: Option<Request>,
}

impl Sim {
    fn new(config: ClientConfig) -> Self {
        let start = Instant::now();
        Sim {
            client: Client::new(config),
            start,
            now: start,
            random: 0,
            signals: Vec::new(),
            stashed: None,
        }
    }

    /// Polls until the answer is not a signal (recorded); returns the request if one is
    /// handed out.
    fn poll_request(&mut self, random: u32) -> Option<Request> {
        if let Some(request) = self.stashed.take() {
            return Some(request);
        }
        loop {
            match self.client.poll(self.now, random) {
                Action::Signal(signal) => self.signals.push((self.at(), signal)),
                Action::Send(request) => return Some(request),
                _ => return None,
            }
        }
    }

    /// The signals handed out so far, and those still pending, in order. A request due
    /// after them is kept for the next `poll_request`.
    fn take_signals(&mut self) -> Vec<Signal> {
        while self.stashed.is_none() {
            match self.client.poll(self.now, self.random) {
                Action::Signal(signal) => self.signals.push((self.at(), signal)),
                Action::Send(request) => self.stashed = Some(request),
                _ => break,
            }
        }
        self.signals.drain(..).map(|(_, signal)| signal).collect()
    }

    fn default() -> Self {
        Sim::new(ClientConfig::default())
    }

    /// Time since the start.
    fn at(&self) -> Duration {
        self.now - self.start
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    /// Sleeps until the client's deadline, if any, and hands it the timeout.
    fn sleep_to_deadline(&mut self) {
        if let Some(deadline) = self.client.poll_timeout() {
            assert!(deadline >= self.now, "deadline in the past");
            self.now = deadline;
        }
        self.client.handle_timeout(self.now);
    }

    /// The next request: at once if due, else after sleeping to the end of the wait.
    /// Returns it with the time waited.
    fn request(&mut self) -> (Sent, Duration) {
        let before = self.now;
        if let Some(request) = self.poll_request(self.random) {
            return (Sent(request), Duration::ZERO);
        }
        assert_eq!(self.client.ready_state(), ReadyState::Connecting);
        self.sleep_to_deadline();
        let request = self
            .poll_request(self.random)
            .expect("a request is due at the end of the wait");
        (Sent(request), self.now - before)
    }

    /// The wait before the next request.
    fn wait(&mut self) -> Duration {
        self.request().1
    }

    fn respond(&mut self, status: u16, content_type: Option<&[u8]>) -> Result<(), OpenError> {
        self.client
            .handle_response(self.now, status, content_type, None)
    }

    /// Requests and opens a stream.
    fn connect(&mut self) -> Sent {
        let (request, _) = self.request();
        self.respond(200, EVENT_STREAM).expect("opens");
        request
    }

    /// Feeds body bytes; returns the events' (data, last event ID).
    fn body(&mut self, bytes: &[u8]) -> Vec<(String, String)> {
        let mut events = Vec::new();
        for step in self.client.feed(self.now, bytes) {
            if let Step::Event(event) = step.expect("within limits") {
                events.push((event.data().to_owned(), event.last_event_id().to_owned()));
            }
        }
        events
    }

    fn disconnect(&mut self) {
        self.client.handle_disconnect(self.now);
    }

    /// One connection: opens, delivers `body`, ends.
    fn session(&mut self, body: &[u8]) {
        let _ = self.connect();
        self.body(body);
        self.disconnect();
    }

    /// The client is closed and will never request again, whatever time passes.
    fn assert_closed_for_good(&mut self, reason: CloseReason) {
        assert_eq!(self.client.ready_state(), ReadyState::Closed);
        assert_eq!(self.client.close_reason(), Some(&reason));
        assert_eq!(self.client.poll_timeout(), None);
        for _ in 0..3 {
            self.advance(Client::MAX_WAIT);
            self.client.handle_timeout(self.now);
            assert!(self.poll_request(0).is_none());
        }
        assert_eq!(self.client.ready_state(), ReadyState::Closed);
    }
}

/// The default settings, changed by `f`.
fn with(f: impl FnOnce(&mut ClientConfig)) -> ClientConfig {
    let mut config = ClientConfig::default();
    f(&mut config);
    config
}

fn backoff(factor: u32, max: Duration, jitter_percent: u32) -> ClientConfig {
    let mut config = ClientConfig::default();
    let mut backoff = Backoff::new(factor, max);
    backoff.jitter_percent = jitter_percent;
    config.backoff = Some(backoff);
    config
}

// ---- The request ------------------------------------------------------------------------

#[test]
fn first_request_is_due_at_once_without_last_event_id() {
    let mut sim = Sim::default();
    assert_eq!(sim.client.ready_state(), ReadyState::Connecting);
    assert_eq!(sim.client.poll_timeout(), None);
    let (request, waited) = sim.request();
    assert_eq!(waited, Duration::ZERO);
    assert_eq!(request.method(), "GET");
    assert!(request.body().is_empty());
    assert_eq!(request.last_event_id(), None);
    assert_eq!(
        request.headers().collect::<Vec<_>>(),
        [
            ("accept", "text/event-stream"),
            ("cache-control", "no-cache"),
            ("pragma", "no-cache"),
        ]
    );
    // In flight: no second request.
    assert!(sim.poll_request(0).is_none());
}

#[test]
fn request_carries_last_event_id_header_when_not_empty() {
    let mut sim = Sim::default();
    sim.session(b"id: 42\ndata: x\n\n");
    let (request, _) = sim.request();
    assert_eq!(
        request.headers().collect::<Vec<_>>(),
        [
            ("accept", "text/event-stream"),
            ("cache-control", "no-cache"),
            ("pragma", "no-cache"),
            ("last-event-id", "42")
        ]
    );
}

#[test]
fn empty_id_from_server_removes_the_header() {
    let mut sim = Sim::default();
    sim.connect();
    sim.body(b"id: 1\ndata: x\n\nid\ndata: y\n\n");
    assert_eq!(sim.client.last_event_id(), "");
    sim.disconnect();
    let (request, _) = sim.request();
    assert_eq!(request.last_event_id(), None);
    assert!(request.headers().all(|(name, _)| name != "last-event-id"));
}

#[test]
fn id_not_yet_dispatched_is_not_sent() {
    let mut sim = Sim::default();
    sim.session(b"id: 1\ndata: x\n\nid: 2\ndata: half");
    assert_eq!(sim.client.last_event_id(), "1");
    assert_eq!(sim.request().0.last_event_id(), Some("1"));
}

#[test]
fn each_connection_starts_a_fresh_stream() {
    let mut sim = Sim::default();
    sim.connect();
    // Cut in the middle of an event, and of a line.
    assert!(sim.body(b"id: 1\ndata: x\n\nid: 2\ndata: lost\nda").len() == 1);
    sim.disconnect();
    sim.connect();
    // The half-built event is gone, and a BOM is allowed again.
    let events = sim.body(b"\xEF\xBB\xBFta: y\n\ndata: z\n\n");
    assert_eq!(events, [("z".into(), "1".into())]);
}

// ---- Response validation: the status and content-type matrix ----------------------------

#[test]
fn status_200_with_event_stream_essence_opens() {
    for content_type in [
        &b"text/event-stream"[..],
        b"TEXT/EVENT-STREAM",
        b"Text/Event-Stream",
        b"text/event-stream; charset=utf-8",
        b"text/event-stream;charset=\"UTF-8\"",
        b" text/event-stream ",
        b"text/event-stream ; foo=bar",
        b"\ttext/event-stream;",
    ] {
        let mut sim = Sim::default();
        sim.request();
        assert_eq!(
            sim.respond(200, Some(content_type)),
            Ok(()),
            "{content_type:?}"
        );
        assert_eq!(sim.client.ready_state(), ReadyState::Open);
        assert_eq!(sim.client.poll_timeout(), None, "no total timeout");
    }
}

#[test]
fn status_200_with_another_content_type_fails_for_good() {
    for content_type in [
        Some(&b"text/html"[..]),
        Some(b"text/plain"),
        Some(b"application/json"),
        Some(b"text/event-streams"),
        Some(b"text/event-stream-x"),
        Some(b"text/ event-stream"),
        Some(b"text /event-stream"),
        Some(b"text/plain; text/event-stream"),
        Some(b"event-stream"),
        Some(b""),
        Some(b"text/\xFFevent-stream"),
        None,
    ] {
        let mut sim = Sim::default();
        sim.request();
        let got = sim.respond(200, content_type);
        let want = OpenError::ContentType {
            content_type: content_type.map(|ct| String::from_utf8_lossy(ct).into_owned().into()),
        };
        assert_eq!(got, Err(want.clone()), "{content_type:?}");
        sim.assert_closed_for_good(CloseReason::Failed(want));
    }
}

#[test]
fn every_status_but_200_fails_for_good_with_its_number() {
    for status in (100..=599).filter(|&s| s != 200 && s != 204) {
        let mut sim = Sim::default();
        sim.request();
        // Even with the right content type.
        let got = sim.respond(status, EVENT_STREAM);
        assert_eq!(got, Err(OpenError::Status { status }), "{status}");
        sim.assert_closed_for_good(CloseReason::Failed(OpenError::Status { status }));
    }
}

#[test]
fn content_type_error_carries_the_received_value() {
    let mut sim = Sim::default();
    sim.request();
    let err = sim
        .respond(200, Some(b"text/html; charset=utf-8"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the server sent content type \"text/html; charset=utf-8\" instead of text/event-stream"
    );
    let mut sim = Sim::default();
    sim.request();
    let err = sim.respond(200, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the server sent no content type instead of text/event-stream"
    );
}

#[test]
fn status_204_fails_for_good_even_on_a_reconnection() {
    let mut sim = Sim::default();
    sim.session(b"id: 1\ndata: x\n\n");
    sim.request();
    assert_eq!(sim.respond(204, None), Err(OpenError::NoContent));
    sim.assert_closed_for_good(CloseReason::Failed(OpenError::NoContent));
}

#[test]
fn response_when_not_awaiting_one_is_refused() {
    let mut sim = Sim::default();
    // Nothing requested yet.
    assert_eq!(
        sim.respond(200, EVENT_STREAM),
        Err(OpenError::NotAwaitingResponse)
    );
    sim.connect();
    // Already open.
    assert_eq!(
        sim.respond(200, EVENT_STREAM),
        Err(OpenError::NotAwaitingResponse)
    );
    assert_eq!(sim.client.ready_state(), ReadyState::Open);
}

// ---- Opt-in retry of 5xx and 429 ---------------------------------------------------------

#[test]
fn retry_policy_retries_5xx_and_429() {
    for status in [429, 500, 502, 503, 504, 599] {
        let mut sim = Sim::new(with(|c| c.retry_server_errors = true));
        sim.request();
        assert_eq!(sim.respond(status, None), Err(OpenError::Status { status }));
        assert_eq!(sim.client.ready_state(), ReadyState::Connecting, "{status}");
        assert_eq!(sim.client.attempts(), 1);
        assert_eq!(sim.wait(), secs(3), "{status}");
    }
}

#[test]
fn retry_policy_still_fails_other_statuses_and_204_for_good() {
    for status in [204, 400, 401, 403, 404, 301, 201] {
        let mut sim = Sim::new(with(|c| c.retry_server_errors = true));
        sim.request();
        assert!(sim.respond(status, None).is_err());
        assert_eq!(sim.client.ready_state(), ReadyState::Closed, "{status}");
    }
}

#[test]
fn retry_policy_honours_retry_after_seconds() {
    let mut sim = Sim::new(with(|c| c.retry_server_errors = true));
    let cases: [(&[u8], Duration); 6] = [
        (b"120", secs(120)),
        (b" 10 ", secs(10)),
        (b"1", secs(3)), // never shorter than the reconnection time
        (b"0", secs(3)),
        (b"Wed, 21 Oct 2015 07:28:00 GMT", secs(3)), // a date needs the wall clock: ignored
        (b"-5", secs(3)),
    ];
    for (retry_after, want) in cases {
        sim.request();
        let got = sim
            .client
            .handle_response(sim.now, 503, None, Some(retry_after));
        assert_eq!(got, Err(OpenError::Status { status: 503 }));
        assert_eq!(
            sim.client.reconnect_at(),
            Some(sim.now + want),
            "{retry_after:?}"
        );
        sim.sleep_to_deadline();
    }
}

#[test]
fn retry_after_beyond_a_day_is_cut_to_max_wait() {
    let mut sim = Sim::new(with(|c| c.retry_server_errors = true));
    sim.request();
    let _ = sim
        .client
        .handle_response(sim.now, 429, None, Some(b"99999999999999999999999999"));
    assert_eq!(sim.client.reconnect_at(), Some(sim.now + Client::MAX_WAIT));
}

#[test]
fn retry_policy_counts_attempts_and_gives_up() {
    let mut config = with(|c| c.retry_server_errors = true);
    config.max_attempts = Some(2);
    let mut sim = Sim::new(config);
    for attempt in 1..=2 {
        sim.request();
        assert!(sim.respond(503, None).is_err());
        assert_eq!(sim.client.attempts(), attempt);
    }
    sim.request();
    assert!(sim.respond(503, None).is_err());
    sim.assert_closed_for_good(CloseReason::GaveUp { attempts: 2 });
}

// ---- Reconnection ------------------------------------------------------------------------

#[test]
fn reconnects_after_the_stream_ends_with_the_default_time() {
    let mut sim = Sim::default();
    sim.connect();
    sim.advance(secs(100));
    sim.disconnect();
    assert_eq!(sim.client.ready_state(), ReadyState::Connecting);
    assert_eq!(sim.client.poll_timeout(), Some(sim.now + secs(3)));
    assert_eq!(ClientConfig::DEFAULT_RECONNECTION_TIME, secs(3));
    assert_eq!(sim.wait(), secs(3));
}

#[test]
fn reconnects_after_a_network_error_before_any_response() {
    let mut sim = Sim::default();
    sim.request();
    sim.disconnect(); // connection refused
    assert_eq!(sim.client.ready_state(), ReadyState::Connecting);
    assert_eq!(sim.wait(), secs(3));
}

#[test]
fn no_request_before_the_wait_is_over() {
    let mut sim = Sim::default();
    sim.request();
    sim.disconnect();
    sim.advance(ms(2999));
    assert!(sim.poll_request(0).is_none());
    sim.advance(ms(1));
    assert!(sim.poll_request(0).is_some());
}

#[test]
fn server_retry_replaces_the_reconnection_time_for_good() {
    let mut sim = Sim::default();
    sim.connect();
    sim.body(b"retry: 7500\ndata: x\n\n");
    assert_eq!(sim.client.reconnection_time(), ms(7500));
    sim.disconnect();
    assert_eq!(sim.wait(), ms(7500));
    // A failed attempt and a later connection without retry: still 7.5 s.
    sim.disconnect();
    assert_eq!(sim.wait(), ms(7500));
    sim.respond(200, EVENT_STREAM).unwrap();
    sim.body(b"data: y\n\n");
    sim.disconnect();
    assert_eq!(sim.wait(), ms(7500));
}

/// `ClientSteps::next_ref` applies each step to the client exactly as `next` does, and
/// yields the same steps, however the body is cut.
#[test]
fn lent_steps_apply_to_the_client_like_owned_ones() {
    let body: &[u8] = b"retry: 4200\nid: 3\ndata: a\r\n\r\n: c\n\nretry: x\nid: 4\ndata: b\n\nid";
    for chunk_len in [1, 2, 7, body.len()] {
        let mut owned = Sim::default();
        let mut lent = Sim::default();
        owned.connect();
        lent.connect();
        let (mut owned_steps, mut lent_steps) = (Vec::new(), Vec::new());
        for chunk in body.chunks(chunk_len) {
            owned_steps.extend(owned.client.feed(owned.now, chunk));
            let mut steps = lent.client.feed(lent.now, chunk);
            while let Some(step) = steps.next_ref() {
                lent_steps.push(step.map(|step| step.to_step()));
            }
            assert!(steps.remaining().is_empty());
        }
        assert_eq!(lent_steps, owned_steps, "chunks of {chunk_len}");
        assert_eq!(lent_steps.len(), 3, "retry and two events");
        assert_eq!(lent.client.reconnection_time(), ms(4200));
        assert_eq!(lent.client.last_event_id(), owned.client.last_event_id());
        assert_eq!(lent.client.last_event_id(), "4");
    }
    // Not open: nothing is read.
    let mut closed = Sim::default();
    let mut steps = closed.client.feed(closed.now, b"data: x\n\n");
    assert!(steps.next_ref().is_none());
    assert_eq!(steps.remaining(), b"data: x\n\n");
}

/// The wait before reconnecting after one connection that delivered `body` and ended.
fn wait_after(body: &[u8]) -> Duration {
    let mut sim = Sim::default();
    sim.session(body);
    sim.wait()
}

#[test]
fn retry_in_a_block_without_data_applies() {
    assert_eq!(wait_after(b"retry: 1200\n\n"), ms(1200));
}

#[test]
fn invalid_retry_values_are_ignored() {
    let body =
        b"retry: 10s\n\nretry: -1\n\nretry:\n\nretry: 1 2\n\nretry: 99999999999999999999999\n\n";
    assert_eq!(wait_after(body), secs(3));
}

#[test]
fn retry_zero_reconnects_at_once() {
    let mut sim = Sim::default();
    sim.session(b"retry: 0\n\n");
    assert_eq!(sim.client.poll_timeout(), Some(sim.now));
    assert!(sim.poll_request(0).is_some());
}

#[test]
fn huge_server_retry_is_cut_to_max_wait() {
    let u64_max_ms = b"retry: 18446744073709551615\n\n";
    assert_eq!(wait_after(u64_max_ms), Client::MAX_WAIT);
}

// ---- Backoff -----------------------------------------------------------------------------

#[test]
fn backoff_grows_by_its_factor_up_to_the_cap() {
    let mut sim = Sim::new(backoff(2, secs(20), 0));
    sim.request();
    let mut waits = Vec::new();
    for _ in 0..5 {
        sim.disconnect(); // each attempt fails at once
        waits.push(sim.wait());
    }
    assert_eq!(waits, [secs(3), secs(6), secs(12), secs(20), secs(20)]);
}

#[test]
fn backoff_factor_three_and_factor_one() {
    let mut sim = Sim::new(backoff(3, secs(100), 0));
    sim.request();
    let mut waits = Vec::new();
    for _ in 0..4 {
        sim.disconnect();
        waits.push(sim.wait());
    }
    assert_eq!(waits, [secs(3), secs(9), secs(27), secs(81)]);

    let mut sim = Sim::new(backoff(1, secs(100), 0));
    sim.request();
    for _ in 0..4 {
        sim.disconnect();
        assert_eq!(sim.wait(), secs(3));
    }
}

#[test]
fn backoff_multiplies_from_the_server_retry() {
    let mut sim = Sim::new(backoff(2, secs(60), 0));
    sim.session(b"retry: 1000\n\n");
    let mut waits = vec![sim.wait()];
    for _ in 0..3 {
        sim.disconnect();
        waits.push(sim.wait());
    }
    assert_eq!(waits, [secs(1), secs(2), secs(4), secs(8)]);
}

#[test]
fn backoff_cap_never_shortens_the_server_retry() {
    let mut sim = Sim::new(backoff(2, secs(30), 0));
    sim.session(b"retry: 60000\n\n");
    assert_eq!(sim.wait(), secs(60));
    sim.disconnect();
    assert_eq!(sim.wait(), secs(60));
}

#[test]
fn backoff_jitter_bounds_at_both_extremes() {
    for attempt_waits in [
        // (random, waits of 4 failed attempts in a row) with factor 2, cap 20 s, jitter 50 %
        (0_u32, [ms(3000), ms(6000), ms(12000), ms(20000)]),
        (u32::MAX, [ms(4500), ms(9000), ms(18000), ms(30000)]),
    ] {
        let (random, want) = attempt_waits;
        let mut sim = Sim::new(backoff(2, secs(20), 50));
        sim.random = random;
        sim.request();
        for (i, want) in want.into_iter().enumerate() {
            sim.disconnect();
            let got = sim.wait();
            if random == 0 {
                assert_eq!(got, want, "attempt {i}");
            } else {
                // Just under: jitter is random / 2^32 of the most it may add.
                assert!(got < want && want - got < ms(1), "attempt {i}: {got:?}");
            }
        }
    }
}

#[test]
fn jitter_uses_the_random_number_of_the_failed_attempt() {
    let mut sim = Sim::new(backoff(2, secs(60), 100));
    sim.random = 1 << 31; // half: +50 %
    sim.request();
    sim.random = 0; // the next attempt's number does not change this wait
    sim.disconnect();
    assert_eq!(sim.client.reconnect_at(), Some(sim.now + ms(4500)));
}

#[test]
fn backoff_delay_is_bounded_for_any_input() {
    let backoff = Backoff::new(u32::MAX, Duration::MAX);
    for attempt in [0, 1, 63, 64, 1000, u32::MAX] {
        for random in [0, 1, u32::MAX] {
            let delay = backoff.delay(secs(3), attempt, random);
            assert!(delay >= secs(3) && delay <= Client::MAX_WAIT);
        }
    }
    assert_eq!(backoff.delay(Duration::MAX, 0, 0), Client::MAX_WAIT);
    // A zero reconnection time: at once the first time, then grown from MIN_STEP (capped).
    assert_eq!(backoff.delay(Duration::ZERO, 0, u32::MAX), Duration::ZERO);
    assert_eq!(
        backoff.delay(Duration::ZERO, 50, u32::MAX),
        Client::MAX_WAIT
    );
}

/// A server that sends `retry: 0` and then drops every connection must not be hammered
/// once backoff is on: the first reconnection is at once, as asked, the next ones back off.
#[test]
fn server_retry_zero_still_backs_off_after_failures() {
    let mut sim = Sim::new(backoff(2, secs(60), 0));
    sim.session(b"retry: 0\ndata: x\n\n");
    let mut waits = Vec::new();
    for _ in 0..5 {
        waits.push(sim.wait());
        sim.client.handle_disconnect(sim.now);
    }
    assert_eq!(
        waits,
        [ms(0), ms(500), ms(1000), ms(2000), ms(4000)],
        "0, then Backoff::MIN_STEP doubled"
    );
    // Without backoff, the server's wish stands: browsers reconnect at once every time.
    let mut sim = Sim::default();
    sim.session(b"retry: 0\ndata: x\n\n");
    for _ in 0..3 {
        assert_eq!(sim.wait(), Duration::ZERO);
        sim.client.handle_disconnect(sim.now);
    }
}

#[test]
fn healthy_connection_resets_the_backoff() {
    let mut config = backoff(2, secs(60), 0);
    config.healthy_after = secs(30);
    let mut sim = Sim::new(config);
    sim.request();
    for _ in 0..3 {
        sim.disconnect();
        sim.wait();
    }
    assert_eq!(sim.client.attempts(), 3);
    sim.respond(200, EVENT_STREAM).unwrap();
    sim.advance(secs(30)); // stayed open long enough
    sim.disconnect();
    assert_eq!(sim.client.attempts(), 1);
    assert_eq!(sim.wait(), secs(3));
}

#[test]
fn flapping_connections_keep_backing_off() {
    let mut config = backoff(2, secs(600), 0);
    config.healthy_after = secs(30);
    let mut sim = Sim::new(config);
    let mut waits = Vec::new();
    sim.request();
    for _ in 0..4 {
        // Opens, delivers an event, drops after 29 s: not healthy.
        sim.respond(200, EVENT_STREAM).unwrap();
        sim.body(b"data: x\n\n");
        sim.advance(secs(29));
        sim.disconnect();
        waits.push(sim.wait());
    }
    assert_eq!(waits, [secs(3), secs(6), secs(12), secs(24)]);
    assert_eq!(sim.client.attempts(), 4);
}

#[test]
fn max_attempts_gives_up_after_that_many_reconnections() {
    let mut sim = Sim::new(with(|c| c.max_attempts = Some(3)));
    sim.request();
    for attempt in 1..=3 {
        sim.disconnect();
        assert_eq!(sim.client.attempts(), attempt);
        sim.wait();
    }
    sim.disconnect(); // the third reconnection failed too
    sim.assert_closed_for_good(CloseReason::GaveUp { attempts: 3 });
}

#[test]
fn max_attempts_zero_closes_at_the_first_failure() {
    let mut sim = Sim::new(with(|c| c.max_attempts = Some(0)));
    sim.connect();
    sim.disconnect();
    sim.assert_closed_for_good(CloseReason::GaveUp { attempts: 0 });
}

#[test]
fn max_attempts_count_restarts_after_a_healthy_connection() {
    let mut sim = Sim::new(with(|c| c.max_attempts = Some(1)));
    for _ in 0..5 {
        sim.connect();
        sim.advance(ClientConfig::DEFAULT_HEALTHY_AFTER);
        sim.disconnect();
        assert_eq!(sim.client.ready_state(), ReadyState::Connecting);
        assert_eq!(sim.client.attempts(), 1);
    }
}

// ---- close() -----------------------------------------------------------------------------

#[test]
fn close_during_a_wait_is_final() {
    let mut sim = Sim::default();
    sim.connect();
    sim.disconnect();
    assert!(sim.client.reconnect_at().is_some());
    sim.advance(secs(1));
    sim.client.close();
    assert_eq!(sim.client.reconnect_at(), None);
    sim.assert_closed_for_good(CloseReason::ByCaller);
}

#[test]
fn close_while_open_stops_reading() {
    let mut sim = Sim::default();
    sim.connect();
    sim.client.close();
    assert!(sim.body(b"data: late\n\n").is_empty());
    sim.disconnect();
    sim.assert_closed_for_good(CloseReason::ByCaller);
}

#[test]
fn close_while_a_request_is_in_flight_refuses_its_response() {
    let mut sim = Sim::default();
    sim.request();
    sim.client.close();
    assert_eq!(
        sim.respond(200, EVENT_STREAM),
        Err(OpenError::NotAwaitingResponse)
    );
    sim.assert_closed_for_good(CloseReason::ByCaller);
}

#[test]
fn close_keeps_the_first_reason() {
    let mut sim = Sim::default();
    sim.request();
    let _ = sim.respond(204, None);
    sim.client.close();
    assert_eq!(
        sim.client.close_reason(),
        Some(&CloseReason::Failed(OpenError::NoContent))
    );
}

// ---- The last event ID -------------------------------------------------------------------

#[test]
fn ids_survive_three_reconnects() {
    let mut sim = Sim::default();
    let bodies: [&[u8]; 4] = [
        b"id: a\ndata: 1\n\n",
        b"data: 2\n\n", // no id: keeps "a"
        b"id: b\ndata: 3\n\n",
        b": nothing\n\n", // nothing at all
    ];
    let mut sent = Vec::new();
    let mut seen = Vec::new();
    for body in bodies {
        sent.push(sim.connect().last_event_id().map(str::to_owned));
        seen.extend(sim.body(body));
        sim.disconnect();
    }
    sent.push(sim.request().0.last_event_id().map(str::to_owned));
    assert_eq!(
        sent,
        [
            None,
            Some("a".into()),
            Some("a".into()),
            Some("b".into()),
            Some("b".into())
        ]
    );
    let seen: Vec<_> = seen
        .iter()
        .map(|(d, id)| (d.as_str(), id.as_str()))
        .collect();
    assert_eq!(seen, [("1", "a"), ("2", "a"), ("3", "b")]);
}

#[test]
fn id_survives_failed_attempts_and_timeouts() {
    let mut sim = Sim::new(with(|c| {
        c.read_timeout = Some(secs(10));
        c.retry_server_errors = true;
    }));
    sim.session(b"id: 5\ndata: x\n\n");
    sim.request();
    sim.disconnect(); // network error
    sim.request();
    let _ = sim.respond(503, None); // retried status
    sim.request();
    sim.sleep_to_deadline(); // read timeout before the response
    let (request, _) = sim.request();
    assert_eq!(request.last_event_id(), Some("5"));
}

#[test]
fn seeded_last_event_id_is_sent_and_kept() {
    let mut sim = Sim::default();
    sim.client.set_last_event_id("saved-17").unwrap();
    assert_eq!(sim.connect().last_event_id(), Some("saved-17"));
    assert_eq!(sim.body(b"data: x\n\n"), [("x".into(), "saved-17".into())]);
    sim.disconnect();
    assert_eq!(sim.request().0.last_event_id(), Some("saved-17"));
}

#[test]
fn seed_refuses_ids_no_server_could_send() {
    let mut client = Client::new(ClientConfig::default());
    assert_eq!(
        client.set_last_event_id("a\nb"),
        Err(EncodeError::LineBreak { field: Field::Id })
    );
    assert_eq!(
        client.set_last_event_id("a\rb"),
        Err(EncodeError::LineBreak { field: Field::Id })
    );
    assert_eq!(client.set_last_event_id("a\0b"), Err(EncodeError::NulInId));
    assert_eq!(client.last_event_id(), "");
    client.set_last_event_id("x").unwrap();
    client.set_last_event_id("").unwrap(); // clears
    let Action::Send(request) = client.poll(Instant::now(), 0) else {
        panic!("the first request is due at once")
    };
    assert_eq!(request.last_event_id(), None);
}

#[test]
fn parser_set_last_event_id_seeds_events_and_survives_reset() {
    let mut parser = Parser::new();
    parser.set_last_event_id("9").unwrap();
    parser.reset();
    let steps: Vec<_> = parser.feed(b"data: a\n\n").collect();
    match &steps[..] {
        [Ok(Step::Event(event))] => assert_eq!(event.id(), Some("9")),
        other => panic!("{other:?}"),
    }
    // The server's id still wins, and an unfinished id line is forgotten by a seed.
    let _ = parser.feed(b"id: 10\n").count();
    parser.set_last_event_id("11").unwrap();
    let _ = parser.feed(b"\n").count();
    assert_eq!(parser.last_event_id(), "11");
    // Empty: no id at all, not an empty one.
    parser.set_last_event_id("").unwrap();
    let steps: Vec<_> = parser.feed(b"data: b\n\n").collect();
    assert!(matches!(&steps[..], [Ok(Step::Event(e))] if e.id().is_none()));
    assert_eq!(parser.set_last_event_id("\0"), Err(EncodeError::NulInId));
}

// ---- Liveness: the read timeout ----------------------------------------------------------

#[test]
fn read_timeout_fires_after_silence_and_reconnects() {
    let mut sim = Sim::new(with(|c| c.read_timeout = Some(secs(45))));
    sim.connect();
    sim.body(b"id: 3\ndata: x\n\n");
    let silent_since = sim.now;
    assert_eq!(sim.client.poll_timeout(), Some(silent_since + secs(45)));
    sim.sleep_to_deadline();
    assert_eq!(sim.now - silent_since, secs(45));
    assert_eq!(sim.client.ready_state(), ReadyState::Connecting);
    // Bytes from the dead connection are ignored.
    assert!(sim.body(b"data: late\n\n").is_empty());
    let (request, waited) = sim.request();
    assert_eq!(waited, secs(3));
    assert_eq!(request.last_event_id(), Some("3"));
}

#[test]
fn keep_alive_comments_hold_off_the_read_timeout() {
    let mut sim = Sim::new(with(|c| c.read_timeout = Some(secs(45))));
    sim.connect();
    for _ in 0..100 {
        sim.advance(secs(15));
        sim.client.handle_timeout(sim.now);
        assert!(sim.body(b": ping\n\n").is_empty());
        assert_eq!(sim.client.ready_state(), ReadyState::Open);
    }
    assert_eq!(sim.at(), secs(1500));
}

#[test]
fn read_timeout_covers_waiting_for_the_response_head() {
    let mut sim = Sim::new(with(|c| c.read_timeout = Some(secs(10))));
    sim.request();
    assert_eq!(sim.client.poll_timeout(), Some(sim.now + secs(10)));
    sim.sleep_to_deadline();
    assert_eq!(sim.client.ready_state(), ReadyState::Connecting);
    assert_eq!(sim.client.attempts(), 1);
    assert_eq!(
        sim.respond(200, EVENT_STREAM),
        Err(OpenError::NotAwaitingResponse)
    );
}

#[test]
fn early_and_repeated_timeouts_do_nothing() {
    let mut sim = Sim::new(with(|c| c.read_timeout = Some(secs(45))));
    sim.connect();
    for t in [0, 1, 44, 44, 20] {
        sim.client.handle_timeout(sim.start + secs(t).max(sim.at()));
        assert_eq!(sim.client.ready_state(), ReadyState::Open);
    }
    sim.disconnect();
    let until = sim.client.reconnect_at().unwrap();
    sim.client.handle_timeout(until - ms(1));
    assert_eq!(sim.client.reconnect_at(), Some(until));
    sim.client.handle_timeout(until);
    sim.client.handle_timeout(until);
    assert_eq!(sim.client.reconnect_at(), None);
    sim.now = until;
    assert!(sim.poll_request(0).is_some());
}

#[test]
fn a_healthy_stream_has_no_total_timeout() {
    // No read timeout: an open stream never has a deadline, whatever time passes.
    let mut sim = Sim::default();
    sim.connect();
    sim.advance(secs(7 * 24 * 3600));
    sim.client.handle_timeout(sim.now);
    assert_eq!(sim.client.ready_state(), ReadyState::Open);
    assert_eq!(sim.client.poll_timeout(), None);
    // With one: data keeps it open for a week too.
    let mut sim = Sim::new(with(|c| c.read_timeout = Some(secs(60))));
    sim.connect();
    for _ in 0..(7 * 24 * 60) {
        sim.advance(secs(59));
        sim.body(b"data: tick\n\n");
        sim.client.handle_timeout(sim.now);
    }
    assert_eq!(sim.client.ready_state(), ReadyState::Open);
}

#[test]
fn late_data_counts_before_an_unchecked_deadline() {
    let mut sim = Sim::new(with(|c| c.read_timeout = Some(secs(10))));
    sim.connect();
    sim.advance(secs(12)); // the caller was late, but bytes did arrive
    assert_eq!(sim.body(b"data: x\n\n").len(), 1);
    assert_eq!(sim.client.ready_state(), ReadyState::Open);
    assert_eq!(sim.client.poll_timeout(), Some(sim.now + secs(10)));
}

// ---- The request: headers by rule, any method, body and caller headers --------------------

fn headers_of(request: &Request) -> Vec<(String, String)> {
    request
        .headers()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn header<'r>(request: &'r Request, name: &str) -> Vec<&'r str> {
    request
        .headers()
        .filter(|(n, _)| *n == name)
        .map(|(_, value)| value)
        .collect()
}

/// HTML, EventSource constructor: "Set request's header list's `Accept` to
/// `text/event-stream`".
#[test]
fn rule_request_accept_is_text_event_stream() {
    let mut sim = Sim::default();
    let (request, _) = sim.request();
    assert_eq!(header(&request, "accept"), ["text/event-stream"]);
}

/// HTML gives the request the cache mode "no-store"; Fetch's HTTP-network-or-cache fetch
/// writes that mode as `Cache-Control: no-cache` and `Pragma: no-cache` (a request's
/// `no-store` would not stop a cache from answering with a stored response, RFC 9111
/// section 5.2.1.5).
#[test]
fn rule_request_cache_mode_no_store_is_sent_as_no_cache_and_pragma() {
    let mut sim = Sim::default();
    let (request, _) = sim.request();
    assert_eq!(header(&request, "cache-control"), ["no-cache"]);
    assert_eq!(header(&request, "pragma"), ["no-cache"]);
}

/// Fetch appends its cache headers only "if httpRequest's header list does not contain"
/// them; a caller's `accept` (MCP asks for two types) replaces the default the same way.
#[test]
fn rule_request_caller_header_replaces_the_default_of_the_same_name() {
    let mut sim = Sim::default();
    sim.client
        .set_header("Accept", "application/json, text/event-stream")
        .unwrap();
    sim.client.set_header("CACHE-CONTROL", "max-age=0").unwrap();
    let (request, _) = sim.request();
    assert_eq!(
        headers_of(&request),
        [
            ("pragma".to_owned(), "no-cache".to_owned()),
            (
                "accept".into(),
                "application/json, text/event-stream".into()
            ),
            ("cache-control".into(), "max-age=0".into()),
        ]
    );
    // Removing it brings the default back.
    assert!(sim.client.remove_header("accept"));
    sim.client.handle_disconnect(sim.now);
    let (request, _) = sim.request();
    assert_eq!(header(&request, "accept"), ["text/event-stream"]);
}

/// HTML, reestablish the connection: "If the EventSource object's last event ID string is
/// not the empty string, set `Last-Event-ID` to the last event ID string, encoded as UTF-8."
#[test]
fn rule_request_last_event_id_is_the_last_event_id_string_as_utf8() {
    let mut sim = Sim::default();
    sim.session("id: ünï-7\ndata: x\n\n".as_bytes());
    let (request, _) = sim.request();
    assert_eq!(header(&request, "last-event-id"), ["ünï-7"]);
    assert_eq!(
        header(&request, "last-event-id")[0].as_bytes(),
        "ünï-7".as_bytes()
    );
}

/// The last event ID is the client's state: a caller header of that name would freeze it.
#[test]
fn rule_request_last_event_id_cannot_be_set_as_a_header() {
    let mut client = Client::new(ClientConfig::default());
    for name in ["last-event-id", "Last-Event-ID", "LAST-EVENT-ID"] {
        assert_eq!(
            client.set_header(name, "5"),
            Err(RequestError::LastEventIdHeader)
        );
    }
    let Action::Send(request) = client.poll(Instant::now(), 0) else {
        panic!("due at once")
    };
    assert!(header(&request, "last-event-id").is_empty());
}

/// Fetch sets header values normalized (no leading or trailing HTTP whitespace); a server's
/// HTTP parser strips them too, so the id is sent as the server will read it.
#[test]
fn rule_request_last_event_id_is_sent_without_surrounding_whitespace() {
    let mut sim = Sim::default();
    sim.client.set_last_event_id(" \t42 ").unwrap();
    let (request, _) = sim.request();
    assert_eq!(request.last_event_id(), Some("42"));
    sim.client.handle_disconnect(sim.now);
    sim.client.set_last_event_id(" \t ").unwrap();
    let (request, _) = sim.request();
    assert_eq!(request.last_event_id(), None);
    assert_eq!(request.withheld_last_event_id(), None);
}

/// An `id:` may carry control characters (only NUL, CR and LF are refused), which strict
/// HTTP libraries refuse in a header: the request leaves the header out and says so, instead
/// of failing every attempt.
#[test]
fn id_with_control_characters_is_withheld_not_sent() {
    let mut sim = Sim::default();
    sim.session(b"id: tab\there\ndata: x\n\n");
    let (request, _) = sim.request();
    assert_eq!(request.last_event_id(), Some("tab\there")); // tab is allowed
    sim.client.handle_disconnect(sim.now);
    sim.client.set_last_event_id("").unwrap();
    for id in ["bell\u{7}", "esc\u{1b}[0m", "del\u{7f}", "\u{1}"] {
        let mut sim = Sim::default();
        sim.session(format!("id: {id}\ndata: x\n\n").as_bytes());
        assert_eq!(sim.client.last_event_id(), id, "the client keeps it");
        let (request, _) = sim.request();
        assert_eq!(request.last_event_id(), None, "{id:?}");
        assert_eq!(request.withheld_last_event_id(), Some(id));
        assert!(header(&request, "last-event-id").is_empty());
        assert!(request
            .headers()
            .all(|(_, value)| sse_proto::check_header_value(value.as_bytes()).is_ok()));
    }
}

#[test]
fn header_names_must_be_tokens_and_values_free_of_controls() {
    let mut client = Client::new(ClientConfig::default());
    for name in ["", "bad name", "x:y", "ünï", "a\nb", "(x)"] {
        assert_eq!(
            client.set_header(name, "v"),
            Err(RequestError::InvalidHeaderName { name: name.into() }),
            "{name:?}"
        );
    }
    for (value, byte, position) in [
        ("a\r\nx-evil: 1", b'\r', 1),
        ("\n", b'\n', 0),
        ("nul\0", 0, 3),
        ("del\x7f", 0x7f, 3),
    ] {
        assert_eq!(
            client.set_header("X-Token", value),
            Err(RequestError::InvalidHeaderValue {
                name: "x-token".into(),
                byte,
                position
            })
        );
    }
    // Tabs, spaces and UTF-8 beyond ASCII (opaque bytes to HTTP) are fine.
    client.set_header("x-ok", "a\tb c ünï").unwrap();
    for method in ["", "GET /", "PÖST", "GET\r\n"] {
        assert!(matches!(
            client.set_method(method),
            Err(RequestError::InvalidMethod { .. })
        ));
    }
    // Nothing refused reached the request.
    let Action::Send(request) = client.poll(Instant::now(), 0) else {
        panic!("due at once")
    };
    assert_eq!(request.method(), "GET");
    assert_eq!(header(&request, "x-ok"), ["a\tb c ünï"]);
    assert_eq!(request.headers().count(), 4);
}

#[test]
fn post_body_and_headers_are_resent_on_every_reconnection() {
    let mut sim = Sim::new(with(|c| c.retry_server_errors = true));
    let body = br#"{"model":"m","messages":[],"stream":true}"#;
    sim.client.set_method("POST").unwrap();
    sim.client.set_body(&body[..]);
    sim.client
        .set_header("content-type", "application/json")
        .unwrap();
    let (first, _) = sim.request();
    sim.respond(200, EVENT_STREAM).unwrap();
    sim.body(b"id: 1\ndata: a\n\n");
    sim.disconnect(); // a drop mid-stream
    let (second, _) = sim.request();
    sim.client.handle_disconnect(sim.now); // then a network error
    let (third, _) = sim.request();
    let _ = sim.respond(503, None); // then a retried 503
    let (fourth, _) = sim.request();
    for request in [&first, &second, &third, &fourth] {
        assert_eq!(request.method(), "POST");
        assert_eq!(request.body().as_ref(), body);
        assert_eq!(header(request, "content-type"), ["application/json"]);
        assert_eq!(header(request, "accept"), ["text/event-stream"]);
    }
    assert_eq!(first.last_event_id(), None);
    for request in [&second, &third, &fourth] {
        assert_eq!(request.last_event_id(), Some("1"));
    }
}

#[test]
fn header_set_on_the_error_signal_goes_out_with_the_reconnection() {
    let mut sim = Sim::default();
    sim.client.set_header("authorization", "Bearer 1").unwrap();
    let mut tokens = Vec::new();
    for n in 2..=4 {
        let (request, _) = sim.request();
        tokens.push(header(&request, "authorization")[0].to_owned());
        sim.respond(200, EVENT_STREAM).unwrap();
        sim.disconnect();
        // The caller's loop: at every error signal, fresh credentials.
        loop {
            match sim.client.poll(sim.now, 0) {
                Action::Signal(Signal::Error { .. }) => sim
                    .client
                    .set_header("Authorization", &format!("Bearer {n}"))
                    .unwrap(),
                Action::Signal(Signal::Open) => {}
                _ => break,
            }
        }
    }
    assert_eq!(tokens, ["Bearer 1", "Bearer 2", "Bearer 3"]);
}

// ---- 401 and 403 -------------------------------------------------------------------------

/// Browsers fail the connection for every status but 200; so does the client by default.
#[test]
fn status_401_fails_for_good_without_the_opt_in() {
    for status in [401, 403] {
        let mut sim = Sim::default();
        sim.request();
        assert_eq!(sim.respond(status, None), Err(OpenError::Status { status }));
        assert_eq!(
            sim.take_signals(),
            [Signal::Error {
                cause: ErrorCause::Refused(OpenError::Status { status }),
                reconnect_at: None
            }]
        );
        sim.assert_closed_for_good(CloseReason::Failed(OpenError::Status { status }));
    }
}

#[test]
fn status_401_with_the_opt_in_refreshes_then_retries_once_at_once() {
    let mut sim = Sim::new(with(|c| c.refresh_credentials = true));
    sim.client
        .set_header("authorization", "Bearer old")
        .unwrap();
    sim.request();
    assert_eq!(
        sim.respond(401, None),
        Err(OpenError::Status { status: 401 })
    );
    assert_eq!(sim.client.ready_state(), ReadyState::Connecting);
    assert_eq!(
        sim.client.poll(sim.now, 0),
        Action::Signal(Signal::Error {
            cause: ErrorCause::CredentialsRefused { status: 401 },
            reconnect_at: Some(sim.now)
        })
    );
    // The caller handles the signal before it polls again: fresh credentials now.
    sim.client
        .set_header("authorization", "Bearer new")
        .unwrap();
    let (retry, waited) = sim.request();
    assert_eq!(waited, Duration::ZERO, "at once");
    assert_eq!(header(&retry, "authorization"), ["Bearer new"]);
    assert_eq!(sim.client.attempts(), 0, "not a failure");
    // Refused again in a row: for good.
    assert_eq!(
        sim.respond(403, None),
        Err(OpenError::Status { status: 403 })
    );
    assert_eq!(
        sim.take_signals(),
        [Signal::Error {
            cause: ErrorCause::Refused(OpenError::Status { status: 403 }),
            reconnect_at: None
        }]
    );
    sim.assert_closed_for_good(CloseReason::Failed(OpenError::Status { status: 403 }));
}

#[test]
fn status_401_opt_in_is_renewed_by_a_stream_that_opened() {
    let mut sim = Sim::new(with(|c| c.refresh_credentials = true));
    for _ in 0..3 {
        sim.request();
        assert!(sim.respond(401, None).is_err());
        sim.request();
        sim.respond(200, EVENT_STREAM).unwrap();
        sim.disconnect(); // the token expires during the stream
    }
    assert_eq!(sim.client.ready_state(), ReadyState::Connecting);
    // A 401 straight after a network error (no stream opened since the last retry) still
    // gets its one retry: the retry is spent only by a refusal.
    let mut sim = Sim::new(with(|c| c.refresh_credentials = true));
    sim.request();
    assert!(sim.respond(401, None).is_err());
    sim.request();
    sim.client.handle_disconnect(sim.now);
    sim.request();
    assert!(sim.respond(401, None).is_err());
    assert_eq!(sim.client.ready_state(), ReadyState::Closed);
}

// ---- What a browser reports, in its order --------------------------------------------------

/// HTML: "announce the connection" sets OPEN then fires `open`; "reestablish the connection"
/// sets CONNECTING then fires `error`; "fail the connection" sets CLOSED then fires `error`.
/// Each signal is handed out with the ready state already changed.
#[test]
fn signals_come_in_the_browsers_order_with_the_ready_state_already_set() {
    let mut sim = Sim::new(with(|c| c.read_timeout = Some(secs(45))));
    let mut seen = Vec::new();
    let mut record = |sim: &mut Sim| {
        while let Action::Signal(signal) = sim.client.poll(sim.now, 0) {
            seen.push((signal, sim.client.ready_state()));
        }
    };
    sim.request();
    sim.client.handle_disconnect(sim.now); // the request failed
    record(&mut sim);
    sim.request();
    sim.respond(200, EVENT_STREAM).unwrap(); // opened
    record(&mut sim);
    sim.advance(secs(45)); // silent: the caller's wait for a chunk found nothing
    sim.client.handle_timeout(sim.now);
    record(&mut sim);
    sim.request();
    sim.respond(200, EVENT_STREAM).unwrap();
    record(&mut sim);
    sim.body(b"data: x\n\n");
    sim.disconnect(); // the body ended
    record(&mut sim);
    sim.request();
    sim.advance(secs(45)); // a server that accepts and never answers
    sim.client.handle_timeout(sim.now);
    record(&mut sim);
    sim.request();
    let _ = sim.respond(500, None); // refused
    record(&mut sim);
    let t = |s: u64, ms_: u64| Some(sim.start + secs(s) + ms(ms_));
    use ReadyState::{Closed, Connecting, Open};
    assert_eq!(
        seen,
        [
            (
                Signal::Error {
                    cause: ErrorCause::RequestFailed,
                    reconnect_at: t(3, 0)
                },
                Connecting
            ),
            (Signal::Open, Open),
            (
                Signal::Error {
                    cause: ErrorCause::ReadTimeout,
                    reconnect_at: t(51, 0)
                },
                Connecting
            ),
            (Signal::Open, Open),
            (
                Signal::Error {
                    cause: ErrorCause::BodyEnded,
                    reconnect_at: t(54, 0)
                },
                Connecting
            ),
            (
                Signal::Error {
                    cause: ErrorCause::ReadTimeout,
                    reconnect_at: t(102, 0)
                },
                Connecting
            ),
            (
                Signal::Error {
                    cause: ErrorCause::Refused(OpenError::Status { status: 500 }),
                    reconnect_at: None
                },
                Closed
            ),
        ]
    );
}

#[test]
fn open_and_error_before_a_poll_come_out_in_order() {
    let mut sim = Sim::default();
    sim.request();
    sim.respond(200, EVENT_STREAM).unwrap();
    sim.disconnect(); // before the caller polled for `open`
    assert_eq!(
        sim.take_signals(),
        [
            Signal::Open,
            Signal::Error {
                cause: ErrorCause::BodyEnded,
                reconnect_at: Some(sim.now + secs(3))
            }
        ]
    );
}

#[test]
fn giving_up_signals_the_cause_then_closes() {
    let mut sim = Sim::new(with(|c| c.max_attempts = Some(0)));
    sim.connect();
    sim.take_signals();
    sim.disconnect();
    assert_eq!(
        sim.take_signals(),
        [Signal::Error {
            cause: ErrorCause::BodyEnded,
            reconnect_at: None
        }]
    );
    assert_eq!(
        sim.client.poll(sim.now, 0),
        Action::Closed(CloseReason::GaveUp { attempts: 0 })
    );
}

#[test]
fn close_drops_signals_not_yet_handed_out() {
    let mut sim = Sim::default();
    sim.request();
    sim.respond(200, EVENT_STREAM).unwrap();
    sim.client.close();
    assert_eq!(
        sim.client.poll(sim.now, 0),
        Action::Closed(CloseReason::ByCaller)
    );
}

// ---- poll: one answer per state ----------------------------------------------------------

#[test]
fn poll_answers_each_state_and_repeats_itself() {
    let mut sim = Sim::new(with(|c| c.read_timeout = Some(secs(10))));
    let Action::Send(_) = sim.client.poll(sim.now, 0) else {
        panic!("due at once")
    };
    assert!(sim.client.is_requesting());
    let awaiting = Action::AwaitResponse {
        deadline: Some(sim.now + secs(10)),
    };
    assert_eq!(sim.client.poll(sim.now, 0), awaiting);
    assert_eq!(sim.client.poll(sim.now, 0), awaiting, "repeated");
    sim.advance(secs(2));
    sim.respond(200, EVENT_STREAM).unwrap();
    assert!(!sim.client.is_requesting());
    assert_eq!(sim.client.poll(sim.now, 0), Action::Signal(Signal::Open));
    let reading = Action::ReadBody {
        deadline: Some(sim.now + secs(10)),
    };
    assert_eq!(sim.client.poll(sim.now, 0), reading);
    sim.advance(secs(4));
    sim.body(b": ping\n");
    assert_eq!(
        sim.client.poll(sim.now, 0),
        Action::ReadBody {
            deadline: Some(sim.now + secs(10))
        },
        "the deadline moves with the bytes"
    );
    sim.disconnect();
    sim.take_signals();
    let waiting = Action::Wait {
        until: sim.now + secs(3),
    };
    assert_eq!(sim.client.poll(sim.now, 0), waiting);
    assert_eq!(sim.client.poll(sim.now + secs(2), 0), waiting);
    assert!(matches!(
        sim.client.poll(sim.now + secs(3), 0),
        Action::Send(_)
    ));
}

/// A server that accepts the connection and never answers: the loop waits for the head
/// only until the read timeout, then reconnects.
#[test]
fn server_that_never_answers_times_out_on_the_missing_head() {
    let mut sim = Sim::new(with(|c| c.read_timeout = Some(secs(30))));
    for round in 0..3 {
        let (_request, _) = sim.request();
        let Action::AwaitResponse {
            deadline: Some(deadline),
        } = sim.client.poll(sim.now, 0)
        else {
            panic!("waiting for the head")
        };
        sim.now = deadline; // the caller's wait for the head ended with nothing
        sim.client.handle_timeout(sim.now);
        let Action::Signal(Signal::Error {
            cause,
            reconnect_at,
        }) = sim.client.poll(sim.now, 0)
        else {
            panic!("round {round}: no error signal")
        };
        assert_eq!(cause, ErrorCause::ReadTimeout);
        assert_eq!(reconnect_at, Some(sim.now + secs(3)));
    }
    assert_eq!(sim.client.attempts(), 3);
}

/// A caller busy with its events is not waiting for bytes: a deadline that passes meanwhile
/// is not silence, and `poll` does not fire it. Only a wait that found nothing
/// (`handle_timeout`) does.
#[test]
fn a_slow_consumer_is_not_a_silent_server() {
    let mut sim = Sim::new(with(|c| c.read_timeout = Some(ms(300))));
    sim.connect();
    sim.take_signals();
    sim.body(b"data: 1\n\n");
    sim.advance(ms(600)); // the application takes its time with event 1
    let deadline = sim.now - ms(300);
    assert_eq!(
        sim.client.poll(sim.now, 0),
        Action::ReadBody {
            deadline: Some(deadline)
        },
        "still reading, the deadline in the past"
    );
    // The keep-alives that arrived meanwhile are read at once: alive.
    sim.body(b": ka\n: ka\n");
    sim.client.handle_timeout(sim.now + ms(299)); // a wait that ended early: nothing
    assert_eq!(sim.client.ready_state(), ReadyState::Open);
    assert_eq!(sim.client.attempts(), 0);
    // A wait that found nothing for the whole timeout does fire it.
    sim.client.handle_timeout(sim.now + ms(300));
    assert_eq!(sim.client.ready_state(), ReadyState::Connecting);
}

/// `restart` after a read deadline nobody checked is a restart, not a timeout: no signal,
/// no attempt counted.
#[test]
fn restart_after_an_unchecked_read_deadline_counts_nothing() {
    let mut sim = Sim::new(with(|c| c.read_timeout = Some(ms(300))));
    sim.connect();
    sim.take_signals();
    sim.advance(secs(5));
    sim.client.restart(sim.now);
    assert_eq!(sim.take_signals(), []);
    assert_eq!(sim.client.attempts(), 0);
    assert!(sim.poll_request(0).is_some());
}

// ---- restart() and reset() ---------------------------------------------------------------

#[test]
fn restart_during_a_read_reconnects_now_without_counting_a_failure() {
    let mut sim = Sim::new(backoff(2, secs(60), 0));
    sim.session(b"id: 5\ndata: x\n\n");
    sim.session(b""); // one failure in a row so far (the wait is 6 s next)
    sim.request();
    let attempts = sim.client.attempts();
    sim.respond(200, EVENT_STREAM).unwrap();
    sim.advance(secs(1));
    sim.client.restart(sim.now);
    assert_eq!(sim.client.ready_state(), ReadyState::Connecting);
    let (request, waited) = sim.request();
    assert_eq!(waited, Duration::ZERO, "no wait");
    assert_eq!(request.last_event_id(), Some("5"));
    assert_eq!(sim.client.attempts(), attempts, "not counted");
    // The backoff did not grow either: the next failure waits what it would have.
    sim.respond(200, EVENT_STREAM).unwrap();
    sim.disconnect();
    assert_eq!(sim.wait(), secs(3) * 2u32.pow(attempts));
    // No signal for a restart the caller asked for.
    assert!(sim
        .signals
        .iter()
        .all(|(_, s)| !matches!(s, Signal::Error { cause: ErrorCause::BodyEnded, reconnect_at } if *reconnect_at == Some(sim.start + secs(1)))));
}

#[test]
fn restart_during_a_wait_cuts_it_short() {
    let mut sim = Sim::default();
    sim.session(b"");
    assert_eq!(sim.client.reconnect_at(), Some(sim.now + secs(3)));
    sim.advance(ms(500));
    sim.client.restart(sim.now);
    assert_eq!(sim.client.reconnect_at(), None);
    let (_, waited) = sim.request();
    assert_eq!(waited, Duration::ZERO);
    assert_eq!(
        sim.client.attempts(),
        1,
        "the wait already counted its attempt"
    );
}

#[test]
fn restart_while_requesting_refuses_the_old_response() {
    let mut sim = Sim::default();
    sim.request();
    sim.client.restart(sim.now);
    assert!(!sim.client.is_requesting());
    assert_eq!(
        sim.respond(200, EVENT_STREAM),
        Err(OpenError::NotAwaitingResponse)
    );
    let (_, waited) = sim.request();
    assert_eq!(waited, Duration::ZERO);
    sim.respond(200, EVENT_STREAM).unwrap();
    assert_eq!(sim.client.ready_state(), ReadyState::Open);
}

#[test]
fn restart_after_a_healthy_connection_starts_the_count_again() {
    let mut sim = Sim::new(backoff(2, secs(60), 0));
    sim.session(b"");
    sim.session(b"");
    assert_eq!(sim.client.attempts(), 2);
    sim.request();
    sim.respond(200, EVENT_STREAM).unwrap();
    sim.advance(ClientConfig::DEFAULT_HEALTHY_AFTER);
    sim.client.restart(sim.now);
    assert_eq!(sim.client.attempts(), 0);
}

#[test]
fn restart_does_nothing_when_due_or_closed() {
    let mut sim = Sim::default();
    sim.client.restart(sim.now);
    assert!(sim.poll_request(0).is_some());
    sim.client.close();
    sim.client.restart(sim.now);
    assert_eq!(sim.client.close_reason(), Some(&CloseReason::ByCaller));
}

/// The proposed `EventSource.fromReadableStream` parser's reset: pending partial data is
/// dropped, the last event ID and the reconnection time are kept.
#[test]
fn reset_drops_partial_data_and_keeps_id_and_reconnection_time() {
    for split in 0..=b"data: half\nid: 3".len() {
        let mut sim = Sim::default();
        sim.connect();
        sim.body(b"retry: 700\nid: 2\n\n");
        let pending = &b"data: half\nid: 3"[..split];
        assert!(sim.body(pending).is_empty());
        sim.client.reset();
        assert_eq!(
            sim.body(b"\n\ndata: next\n\n"),
            [("next".to_owned(), "2".to_owned())],
            "split {split}"
        );
        assert_eq!(sim.client.reconnection_time(), ms(700));
        assert_eq!(sim.client.ready_state(), ReadyState::Open);
    }
}

// ---- The bugs of other clients -----------------------------------------------------------

/// One widely used client sends an empty `Last-Event-ID` after a reconnection whose events
/// carried no id. We keep sending the last id the server set.
#[test]
fn bug_sends_an_empty_last_event_id_after_a_reconnect_without_ids() {
    let mut sim = Sim::default();
    sim.session(b"id: 100\ndata: with id\n\n");
    assert_eq!(sim.connect().last_event_id(), Some("100"));
    sim.body(b"data: without id\n\ndata: nor this\n\n");
    sim.disconnect();
    let (request, _) = sim.request();
    assert_eq!(request.last_event_id(), Some("100"));
    assert!(request.headers().all(|(_, value)| !value.is_empty()));
}

/// Another treats 204 No Content as success and reconnects for ever. 204 is the server's
/// "stop": we close for good.
#[test]
fn bug_treats_204_as_success_and_reconnects_forever() {
    let mut sim = Sim::default();
    sim.request();
    assert_eq!(sim.respond(204, EVENT_STREAM), Err(OpenError::NoContent));
    assert_ne!(sim.client.ready_state(), ReadyState::Open);
    sim.assert_closed_for_good(CloseReason::Failed(OpenError::NoContent));
    // Even the opt-in retry policy does not retry it.
    let mut sim = Sim::new(with(|c| c.retry_server_errors = true));
    sim.request();
    assert_eq!(sim.respond(204, None), Err(OpenError::NoContent));
    sim.assert_closed_for_good(CloseReason::Failed(OpenError::NoContent));
}

/// Another never increments its retry counter, so the backoff never grows and the maximum
/// number of attempts is never reached. Ours counts every failed attempt in a row.
#[test]
fn bug_never_increments_its_retry_counter() {
    let mut config = backoff(2, secs(3600), 0);
    config.max_attempts = Some(5);
    let mut sim = Sim::new(config);
    let mut counts = Vec::new();
    let mut waits = Vec::new();
    sim.request();
    for _ in 0..5 {
        sim.disconnect();
        counts.push(sim.client.attempts());
        waits.push(sim.wait());
    }
    assert_eq!(counts, [1, 2, 3, 4, 5]);
    assert_eq!(waits, [secs(3), secs(6), secs(12), secs(24), secs(48)]);
    sim.disconnect();
    sim.assert_closed_for_good(CloseReason::GaveUp { attempts: 5 });
}

/// Another doubles the server's `retry:` on the first reconnection and then forgets it,
/// going back to its own default. Ours waits exactly the server's time first, grows from
/// it while attempts fail, and comes back to it (not to the default) after a healthy
/// connection.
#[test]
fn bug_doubles_the_servers_retry_and_then_forgets_it() {
    for config in [ClientConfig::default(), backoff(2, secs(600), 0)] {
        let backing_off = config.backoff.is_some();
        let mut sim = Sim::new(config);
        sim.connect();
        sim.body(b"retry: 10000\ndata: x\n\n");
        sim.advance(secs(60));
        sim.disconnect();
        assert_eq!(
            sim.wait(),
            secs(10),
            "first wait is the server's, not doubled"
        );
        sim.disconnect(); // this attempt fails at once
        let second = sim.wait();
        assert_eq!(second, if backing_off { secs(20) } else { secs(10) });
        sim.respond(200, EVENT_STREAM).unwrap();
        sim.advance(secs(60)); // healthy
        sim.disconnect();
        assert_eq!(
            sim.wait(),
            secs(10),
            "still the server's after a healthy connection"
        );
        assert_eq!(sim.client.reconnection_time(), secs(10));
    }
}

// ---- Arbitrary operations against the model ----------------------------------------------

fn setup() -> impl Strategy<Value = client_ops::Setup> {
    (
        prop_oneof![Just(0u64), Just(3000), 0..20_000u64],
        proptest::option::of((
            0..4u32,
            0..120_000u64,
            prop_oneof![Just(0u32), Just(50), 0..200u32],
        )),
        proptest::option::of(0..5u32),
        prop_oneof![Just(0u64), Just(30_000), 0..100_000u64],
        proptest::option::of(prop_oneof![Just(0u64), 1..60_000u64]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(0..client_ops::IDS.len()),
    )
        .prop_map(
            |(
                reconnection_ms,
                backoff,
                max_attempts,
                healthy_ms,
                read_timeout_ms,
                retry_server_errors,
                refresh_credentials,
                post,
                seed,
            )| {
                client_ops::Setup {
                    reconnection_ms,
                    backoff,
                    max_attempts,
                    healthy_ms,
                    read_timeout_ms,
                    retry_server_errors,
                    refresh_credentials,
                    post,
                    seed,
                }
            },
        )
}

fn op() -> impl Strategy<Value = client_ops::Op> {
    use client_ops::Op;
    prop_oneof![
        3 => prop_oneof![4 => Just(0u64), 4 => 0..5_000u64, 1 => 0..200_000u64].prop_map(Op::Advance),
        2 => Just(Op::SleepToDeadline),
        4 => prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()].prop_map(Op::Poll),
        // Status 200 with text/event-stream, the response that opens, half of the time.
        3 => prop_oneof![
            Just((0, 0, 0)),
            (0..20usize, 0..20usize, 0..20usize),
        ]
        .prop_map(|(status, content_type, retry_after)| Op::Response {
            status,
            content_type,
            retry_after,
        }),
        4 => proptest::collection::vec(0..client_ops::PIECES.len(), 0..8).prop_map(Op::Feed),
        2 => Just(Op::Disconnect),
        1 => Just(Op::Timeout),
        1 => proptest::bool::weighted(0.1).prop_map(|close| if close { Op::Close } else { Op::Timeout }),
        1 => (0..client_ops::IDS.len()).prop_map(Op::SetLastEventId),
        1 => (0..client_ops::HEADERS.len()).prop_map(Op::SetHeader),
        1 => Just(Op::Restart),
        1 => Just(Op::Reset),
    ]
}

proptest! {
    /// Every transition is one the model allows; no deadline is ever before the last `now`.
    #[test]
    fn arbitrary_operations_follow_the_model(
        setup in setup(),
        ops in proptest::collection::vec(op(), 0..80),
    ) {
        client_ops::run(&setup, &ops);
    }
}
