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
        let mut driver = Driver::new(config);
        driver.client.set_method(parts.method.as_str())?;
        for name in parts.headers.keys() {
            let mut joined = Vec::new();
            for value in parts.headers.get_all(name) {
                if !joined.is_empty() {
                    joined.extend_from_slice(b", ");
                }
                joined.extend_from_slice(value.as_bytes());
            }
            let value = String::from_utf8(joined).map_err(|_| {
                Error::Request(format!("the value of header {name} is not UTF-8").into())
            })?;
            driver.client.set_header(name.as_str(), &value)?;
        }
        driver.client.set_body(body.into());
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
        match self.run(&request) {
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
            // The read timeout, while waiting for the head: the client fires it at its
            // deadline (a socket timeout may end a hair early).
            Err(RunError::Transport(error)) if deadline.is_some() && is_timeout(&error) => {
                sleep_until(deadline)
            }
            Err(RunError::Transport(error)) => self.driver.lost(Instant::now(), Some(error)),
        }
    }

    fn run(&self, request: &sse_proto::Request) -> Result<http::Response<ureq::Body>, RunError> {
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
            self.agent.run(self.configure(request)).map_err(transport)
        } else {
            let request = builder.body(&request.body()[..]).map_err(invalid)?;
            self.agent.run(self.configure(request)).map_err(transport)
        }
    }

    /// The agent's settings, with what the client needs: every status comes back as a
    /// response (the client judges it), and the read-idle timeout bounds each read, the
    /// response head included.
    fn configure<S: ureq::AsSendBody>(&self, request: http::Request<S>) -> http::Request<S> {
        self.agent
            .configure_request(request)
            .http_status_as_error(false)
            .timeout_per_read(self.read_timeout)
            .timeout_recv_response(self.read_timeout)
            .build()
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

/// Makes sure `deadline` has passed, so the client's next poll fires it.
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
                    None => sleep_until(deadline),
                },
                Next::ReadBody(deadline) => {
                    let Some(body) = self.body.as_mut() else {
                        self.driver.client.restart(Instant::now());
                        continue;
                    };
                    match body.read(&mut self.buf) {
                        Ok(0) => {
                            self.body = None;
                            self.driver.lost(Instant::now(), None);
                        }
                        Ok(n) => self.driver.feed(Instant::now(), &self.buf[..n]),
                        Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                        Err(error) if deadline.is_some() && is_io_timeout(&error) => {
                            self.body = None;
                            sleep_until(deadline);
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
