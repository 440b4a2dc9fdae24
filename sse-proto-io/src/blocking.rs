//! [`EventSource`]: a blocking event source on ureq, an `Iterator` of events that reconnects.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sse_proto::{ClientConfig, ReadyState};
use ureq::http;

use crate::source::{BoxError, Driver, Error, Incoming, Next};

/// A browser's `EventSource` as an [`Iterator`] of [`Incoming`] items, on ureq: for scripts,
/// command-line tools and threads, with no async runtime. It reconnects with
/// `Last-Event-ID` after the server's `retry:`; every decision is [`sse_proto::Client`]'s
/// ([`ClientConfig`]).
///
/// The read-idle timeout ([`ClientConfig::read_timeout`]) becomes ureq's per-read timeout,
/// so a silent connection is noticed without a thread per connection, and no total timeout
/// ever ends a healthy stream. Plain `http://` unless the `blocking-rustls` feature gives
/// ureq its TLS.
///
/// # Example
///
/// ```no_run
/// use sse_proto_io::blocking::EventSource;
///
/// for item in EventSource::get("http://127.0.0.1:8080/events")? {
///     match item {
///         Ok(incoming) => println!("{incoming:?}"),
///         Err(error) if error.will_retry() => eprintln!("{error}"),
///         Err(error) => return Err(error),
///     }
/// }
/// # Ok::<(), sse_proto_io::Error>(())
/// ```
pub struct EventSource {
    agent: ureq::Agent,
    uri: http::Uri,
    driver: Driver,
    read_timeout: Option<Duration>,
    /// The request handed out, sent when `poll` says how long its head may take.
    pending: Option<sse_proto::Request>,
    body: Option<ureq::BodyReader<'static>>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for EventSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSource")
            .field("uri", &self.uri)
            .field("ready_state", &self.ready_state())
            .field("last_event_id", &self.last_event_id())
            .finish_non_exhaustive()
    }
}

impl EventSource {
    /// A `GET` of `uri`, with a browser's settings.
    ///
    /// # Errors
    ///
    /// [`Error::Request`] when `uri` is not a URI.
    ///
    /// # Example
    ///
    /// ```
    /// let source = sse_proto_io::blocking::EventSource::get("http://127.0.0.1:8080/events")?;
    /// assert_eq!(source.last_event_id(), "");
    /// # Ok::<(), sse_proto_io::Error>(())
    /// ```
    pub fn get(uri: &str) -> Result<Self, Error> {
        let request = http::Request::get(uri)
            .body(Bytes::new())
            .map_err(|error| Error::Request(Box::new(error)))?;
        Self::new(request)
    }

    /// The request `request` describes (method, URI, headers, body), sent again on every
    /// reconnection, with a browser's settings.
    ///
    /// # Errors
    ///
    /// [`Error::Request`] for a header the client refuses (`last-event-id` is the client's:
    /// use [`set_last_event_id`](Self::set_last_event_id)) or one that is not UTF-8.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto_io::blocking::EventSource;
    /// use ureq::http;
    ///
    /// let request = http::Request::post("http://127.0.0.1:8080/v1/chat")
    ///     .header("content-type", "application/json")
    ///     .body(r#"{"stream":true}"#)
    ///     .unwrap();
    /// let source = EventSource::new(request)?;
    /// # Ok::<(), sse_proto_io::Error>(())
    /// ```
    pub fn new<B: Into<Bytes>>(request: http::Request<B>) -> Result<Self, Error> {
        Self::with_config(request, ClientConfig::default())
    }

    /// As [`new`](Self::new), with these client settings.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_proto::ClientConfig;
    /// use sse_proto_io::blocking::EventSource;
    ///
    /// let mut config = ClientConfig::default();
    /// config.read_timeout = Some(Duration::from_secs(45));
    /// let request = ureq::http::Request::get("http://127.0.0.1:8080/events").body(()).unwrap();
    /// let source = EventSource::with_config(request.map(|()| ""), config)?;
    /// # Ok::<(), sse_proto_io::Error>(())
    /// ```
    pub fn with_config<B: Into<Bytes>>(
        request: http::Request<B>,
        config: ClientConfig,
    ) -> Result<Self, Error> {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self::with_agent(agent, request, config)
    }

    /// As [`with_config`](Self::with_config), on an agent of the caller's (its proxy, TLS
    /// and connection settings). Its status handling and read timeouts are set per request
    /// here; its other timeouts must not end a healthy stream (no global or body timeout).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_proto_io::blocking::EventSource;
    ///
    /// let agent = ureq::Agent::config_builder()
    ///     .timeout_connect(Some(Duration::from_secs(5)))
    ///     .build()
    ///     .new_agent();
    /// let request = ureq::http::Request::get("http://127.0.0.1:8080/events").body("").unwrap();
    /// let source = EventSource::with_agent(agent, request, Default::default())?;
    /// # Ok::<(), sse_proto_io::Error>(())
    /// ```
    pub fn with_agent<B: Into<Bytes>>(
        agent: ureq::Agent,
        request: http::Request<B>,
        config: ClientConfig,
    ) -> Result<Self, Error> {
        let (parts, body) = request.into_parts();
        let read_timeout = config.read_timeout;
        let driver = Driver::for_request(config, &parts.method, &parts.headers, body.into())?;
        Ok(EventSource {
            agent,
            uri: parts.uri,
            driver,
            read_timeout,
            pending: None,
            body: None,
            buf: vec![0; 16 * 1024],
        })
    }

    /// `CONNECTING`, `OPEN` or `CLOSED`.
    ///
    /// # Example
    ///
    /// ```
    /// # let source = sse_proto_io::blocking::EventSource::get("http://127.0.0.1:1/").unwrap();
    /// assert_eq!(source.ready_state(), sse_proto::ReadyState::Connecting);
    /// ```
    pub fn ready_state(&self) -> ReadyState {
        self.driver.client.ready_state()
    }

    /// The last event ID: sent as `Last-Event-ID` on reconnection; save it to resume after a
    /// restart ([`set_last_event_id`](Self::set_last_event_id)).
    ///
    /// # Example
    ///
    /// ```
    /// # let source = sse_proto_io::blocking::EventSource::get("http://127.0.0.1:1/").unwrap();
    /// assert_eq!(source.last_event_id(), "");
    /// ```
    pub fn last_event_id(&self) -> &str {
        self.driver.client.last_event_id()
    }

    /// The body bytes received so far, on every connection (for a summary or a meter).
    ///
    /// # Example
    ///
    /// ```
    /// # let source = sse_proto_io::blocking::EventSource::get("http://127.0.0.1:1/").unwrap();
    /// assert_eq!(source.received_bytes(), 0);
    /// ```
    pub fn received_bytes(&self) -> u64 {
        self.driver.received
    }

    /// Seeds the last event ID (one saved by an earlier run) before the first request.
    ///
    /// # Errors
    ///
    /// [`Error::Request`] when `id` holds CR, LF or NUL, which no server could have sent.
    ///
    /// # Example
    ///
    /// ```
    /// # let mut source = sse_proto_io::blocking::EventSource::get("http://127.0.0.1:1/").unwrap();
    /// source.set_last_event_id("1041")?;
    /// assert_eq!(source.last_event_id(), "1041");
    /// # Ok::<(), sse_proto_io::Error>(())
    /// ```
    pub fn set_last_event_id(&mut self, id: &str) -> Result<(), Error> {
        self.driver
            .client
            .set_last_event_id(id)
            .map_err(|error| Error::Request(Box::new(error)))
    }

    /// Sets a header of every later request, replacing one of the same name: fresh
    /// credentials go here, when an [`Error::Reconnecting`] comes out.
    ///
    /// # Errors
    ///
    /// [`Error::Request`] for a name or value no HTTP library would send as meant, or
    /// `last-event-id`.
    ///
    /// # Example
    ///
    /// ```
    /// # let mut source = sse_proto_io::blocking::EventSource::get("http://127.0.0.1:1/").unwrap();
    /// source.set_header("authorization", "Bearer fresh")?;
    /// # Ok::<(), sse_proto_io::Error>(())
    /// ```
    pub fn set_header(&mut self, name: &str, value: &str) -> Result<(), Error> {
        Ok(self.driver.client.set_header(name, value)?)
    }

    /// Drops the connection and reconnects at once, counted neither as a failure nor as a
    /// backoff step.
    ///
    /// # Example
    ///
    /// ```
    /// # let mut source = sse_proto_io::blocking::EventSource::get("http://127.0.0.1:1/").unwrap();
    /// source.restart();
    /// assert_eq!(source.ready_state(), sse_proto::ReadyState::Connecting);
    /// ```
    pub fn restart(&mut self) {
        self.pending = None;
        self.body = None;
        self.driver.client.restart(Instant::now());
    }

    /// Closes the source for good: the iterator ends.
    ///
    /// # Example
    ///
    /// ```
    /// # let mut source = sse_proto_io::blocking::EventSource::get("http://127.0.0.1:1/").unwrap();
    /// source.close();
    /// assert!(source.next().is_none());
    /// ```
    pub fn close(&mut self) {
        self.pending = None;
        self.body = None;
        self.driver.close();
    }

    /// Sends `request` and hands its response head to the client.
    fn send(&mut self, request: sse_proto::Request, deadline: Option<Instant>) {
        match self.run(&request, deadline) {
            Ok(response) => {
                let header = |name| response.headers().get(name).map(|v| v.as_bytes());
                let opened = self.driver.response(
                    Instant::now(),
                    response.status().as_u16(),
                    header(http::header::CONTENT_TYPE),
                    header(http::header::RETRY_AFTER),
                );
                if opened {
                    self.body = Some(response.into_body().into_reader());
                }
            }
            Err(RunError::Invalid(error)) => self.driver.fail(Error::Request(error)),
            // One of the timeouts set from the deadline: nothing came in time.
            Err(RunError::Transport(error)) if is_timeout(&error) && reached(deadline) => {
                self.timed_out(deadline)
            }
            // Anything else, the agent's own timeouts included: the request failed.
            Err(RunError::Transport(error)) => self.driver.lost(Instant::now(), Some(error)),
        }
    }

    fn run(
        &self,
        request: &sse_proto::Request,
        deadline: Option<Instant>,
    ) -> Result<http::Response<ureq::Body>, RunError> {
        let mut builder = http::Request::builder()
            .method(request.method())
            .uri(self.uri.clone());
        for (name, value) in request.headers() {
            builder = builder.header(name, value.as_bytes());
        }
        let invalid = |error: http::Error| RunError::Invalid(Box::new(error));
        let transport = |error: ureq::Error| RunError::Transport(Box::new(error));
        if request.body().is_empty() {
            let request = builder.body(()).map_err(invalid)?;
            self.agent
                .run(self.configure(request, deadline))
                .map_err(transport)
        } else {
            let request = builder.body(&request.body()[..]).map_err(invalid)?;
            self.agent
                .run(self.configure(request, deadline))
                .map_err(transport)
        }
    }

    /// The agent's settings, with what the client needs: every status comes back as a
    /// response (the client judges it); each phase before the response head (connect, send
    /// the request and its body, receive the head) ends by the head's `deadline`; each body
    /// read waits at most the read timeout. An agent's own shorter timeout stays.
    fn configure<S: ureq::AsSendBody>(
        &self,
        request: http::Request<S>,
        deadline: Option<Instant>,
    ) -> http::Request<S> {
        let left = time_left(deadline);
        let config = self.agent.config();
        let timeouts = config.timeouts();
        self.agent
            .configure_request(request)
            .http_status_as_error(false)
            .timeout_connect(shorter(timeouts.connect, left))
            .timeout_send_request(shorter(timeouts.send_request, left))
            .timeout_send_body(shorter(timeouts.send_body, left))
            .timeout_recv_response(shorter(timeouts.recv_response, left))
            .timeout_per_write(shorter(config.timeout_per_write(), left))
            .timeout_per_read(shorter(config.timeout_per_read(), self.read_timeout))
            .build()
    }

    /// A wait ended with nothing at (or a hair before) `deadline`: past it, the client
    /// judges.
    fn timed_out(&mut self, deadline: Option<Instant>) {
        sleep_until(deadline);
        self.driver.timed_out(Instant::now());
    }
}

enum RunError {
    Invalid(BoxError),
    Transport(BoxError),
}

fn is_timeout(error: &BoxError) -> bool {
    if let Some(error) = error.downcast_ref::<ureq::Error>() {
        return match error {
            ureq::Error::Timeout(_) => true,
            ureq::Error::Io(error) => is_io_timeout(error),
            _ => false,
        };
    }
    error.downcast_ref::<io::Error>().is_some_and(is_io_timeout)
}

fn is_io_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    ) || error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        .is_some_and(|inner| matches!(inner, ureq::Error::Timeout(_)))
}

/// How early a socket timer may end: a timeout that ends this close to the deadline is the
/// one set from it.
const TIMER_SLACK: Duration = Duration::from_millis(20);

/// Whether `deadline` is (all but) reached.
fn reached(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|deadline| Instant::now() + TIMER_SLACK >= deadline)
}

/// The time left until `deadline`, at least 1 ms (ureq reads zero as "already over").
fn time_left(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|deadline| {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    })
}

/// The shorter of two optional timeouts (`None`: none).
fn shorter(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Makes sure `deadline` has passed before the client is told of the timeout.
fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    }
}

impl Iterator for EventSource {
    type Item = Result<Incoming, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.driver.next(Instant::now()) {
                Next::Yield(item) => return Some(item),
                Next::Done => return None,
                Next::Send(request) => {
                    self.body = None;
                    self.pending = Some(request);
                }
                Next::AwaitResponse(deadline) => match self.pending.take() {
                    Some(request) => self.send(request, deadline),
                    // No request on its way (only after `restart`): the transport's fact.
                    None => self.driver.lost(Instant::now(), None),
                },
                Next::ReadBody(deadline) => {
                    let Some(body) = self.body.as_mut() else {
                        self.driver.lost(Instant::now(), None);
                        continue;
                    };
                    match body.read(&mut self.buf) {
                        Ok(0) => {
                            self.body = None;
                            self.driver.lost(Instant::now(), None);
                        }
                        Ok(n) => self.driver.feed(Instant::now(), &self.buf[..n]),
                        Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                        Err(error) if is_io_timeout(&error) && reached(deadline) => {
                            self.body = None;
                            self.timed_out(deadline);
                        }
                        Err(error) => {
                            self.body = None;
                            self.driver.lost(Instant::now(), Some(Box::new(error)));
                        }
                    }
                }
                Next::Wait(until) => sleep_until(Some(until)),
            }
        }
    }
}
