//! [`EventSource`]: an async event source on reqwest, a `Stream` of events that reconnects.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_core::Stream;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use sse_proto::{ClientConfig, ReadyState};

use crate::source::{Driver, Error, Incoming, Next};

type Pending = Pin<Box<dyn Future<Output = reqwest::Result<reqwest::Response>> + Send>>;

/// The clock of the timers: tokio's, so that a paused or mocked tokio clock (common in
/// tests) moves the client's time too.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}
type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A browser's `EventSource` on reqwest: a [`Stream`] of [`Incoming`] items that reconnects
/// with `Last-Event-ID`, after the server's `retry:`, for ever unless told otherwise.
///
/// Every decision is [`sse_proto::Client`]'s, set up through [`ClientConfig`]: backoff with
/// jitter, an attempt limit, the read-idle timeout (which covers the wait for the response
/// head; there is never a total timeout, so a healthy stream lasts as long as the server
/// likes), and whether 429/5xx or a refused token are retried. Errors say whether the source
/// goes on ([`Error::will_retry`]).
///
/// Open it from a URL ([`get`](Self::get)) or from any [`reqwest::RequestBuilder`]
/// ([`new`](Self::new)): a `POST` with a JSON body for an LLM API, custom headers, a shared
/// [`reqwest::Client`]. The method, headers and body are sent again on every reconnection;
/// the body must therefore be bytes, not a stream. The `reqwest::Client` must have no total
/// timeout (`reqwest::ClientBuilder::timeout`), which would end healthy streams; a connect
/// timeout is fine.
///
/// Needs a tokio runtime with its timer enabled, as reqwest does.
///
/// # Example
///
/// ```no_run
/// use futures_util::StreamExt;
/// use sse_proto_io::reqwest::EventSource;
///
/// # async fn run() -> Result<(), sse_proto_io::Error> {
/// let mut source = EventSource::get("http://127.0.0.1:8080/events")?;
/// while let Some(item) = source.next().await {
///     match item {
///         Ok(incoming) => println!("{incoming:?}"),
///         Err(error) if error.will_retry() => eprintln!("{error}"),
///         Err(error) => return Err(error),
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct EventSource {
    http: reqwest::Client,
    url: reqwest::Url,
    version: reqwest::Version,
    driver: Driver,
    /// The request on its way, from `Send` to its response head.
    pending: Option<Pending>,
    body: Option<Body>,
    /// Created on first use: tokio's timer needs the runtime, which `new` may not run in.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl std::fmt::Debug for EventSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSource")
            .field("url", &self.url.as_str())
            .field("ready_state", &self.ready_state())
            .field("last_event_id", &self.last_event_id())
            .finish_non_exhaustive()
    }
}

impl EventSource {
    /// A `GET` of `url` with a default `reqwest::Client` and a browser's settings.
    ///
    /// # Errors
    ///
    /// [`Error::Request`] when reqwest refuses the URL.
    ///
    /// # Example
    ///
    /// ```
    /// let source = sse_proto_io::reqwest::EventSource::get("http://127.0.0.1:8080/events")?;
    /// assert_eq!(source.last_event_id(), "");
    /// # Ok::<(), sse_proto_io::Error>(())
    /// ```
    pub fn get(url: impl reqwest::IntoUrl) -> Result<Self, Error> {
        Self::new(reqwest::Client::new().get(url))
    }

    /// The request `request` describes (method, URL, headers, body), with a browser's
    /// settings.
    ///
    /// # Errors
    ///
    /// [`Error::Request`] when the request cannot be built, has a streaming body (it could
    /// not be sent again), a total timeout (`RequestBuilder::timeout`, which would end healthy
    /// streams: [`ClientConfig::read_timeout`] is the one to set), or a header the client
    /// refuses (`last-event-id`, which is the client's: use
    /// [`set_last_event_id`](Self::set_last_event_id)).
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto_io::reqwest::EventSource;
    ///
    /// let http = reqwest::Client::new();
    /// let request = http
    ///     .post("http://127.0.0.1:8080/v1/chat")
    ///     .header("content-type", "application/json")
    ///     .body(r#"{"stream":true}"#);
    /// let source = EventSource::new(request)?;
    /// # Ok::<(), sse_proto_io::Error>(())
    /// ```
    pub fn new(request: reqwest::RequestBuilder) -> Result<Self, Error> {
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
    /// use sse_proto::{Backoff, ClientConfig};
    /// use sse_proto_io::reqwest::EventSource;
    ///
    /// let mut config = ClientConfig::default();
    /// config.read_timeout = Some(Duration::from_secs(45)); // three missed 15 s keep-alives
    /// config.backoff = Some(Backoff::default());
    /// config.max_attempts = Some(20);
    /// let http = reqwest::Client::new();
    /// let source = EventSource::with_config(http.get("http://127.0.0.1:8080/events"), config)?;
    /// # Ok::<(), sse_proto_io::Error>(())
    /// ```
    pub fn with_config(
        request: reqwest::RequestBuilder,
        config: ClientConfig,
    ) -> Result<Self, Error> {
        let (http, request) = request.build_split();
        let request = request.map_err(|error| Error::Request(Box::new(error)))?;
        if request.timeout().is_some() {
            // reqwest's timeout covers the whole response, body included.
            return Err(Error::Request(
                "a total timeout would end healthy streams: use ClientConfig::read_timeout".into(),
            ));
        }
        let body = match request.body() {
            None => Bytes::new(),
            Some(body) => Bytes::copy_from_slice(body.as_bytes().ok_or_else(|| {
                Error::Request("a streaming body cannot be sent again on reconnection".into())
            })?),
        };
        let driver = Driver::for_request(config, request.method(), request.headers(), body)?;
        Ok(EventSource {
            http,
            url: request.url().clone(),
            version: request.version(),
            driver,
            pending: None,
            body: None,
            timer: None,
        })
    }

    /// `CONNECTING`, `OPEN` or `CLOSED`.
    ///
    /// # Example
    ///
    /// ```
    /// # let source = sse_proto_io::reqwest::EventSource::get("http://127.0.0.1:1/").unwrap();
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
    /// # let source = sse_proto_io::reqwest::EventSource::get("http://127.0.0.1:1/").unwrap();
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
    /// # let source = sse_proto_io::reqwest::EventSource::get("http://127.0.0.1:1/").unwrap();
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
    /// # let mut source = sse_proto_io::reqwest::EventSource::get("http://127.0.0.1:1/").unwrap();
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
    /// credentials go here, when an [`Error::Reconnecting`] comes out (every reconnection is
    /// preceded by one).
    ///
    /// # Errors
    ///
    /// [`Error::Request`] for a name or value no HTTP library would send as meant, or
    /// `last-event-id`.
    ///
    /// # Example
    ///
    /// ```
    /// # let mut source = sse_proto_io::reqwest::EventSource::get("http://127.0.0.1:1/").unwrap();
    /// source.set_header("authorization", "Bearer fresh")?;
    /// assert!(source.set_header("x-bad", "a\r\nb").is_err());
    /// # Ok::<(), sse_proto_io::Error>(())
    /// ```
    pub fn set_header(&mut self, name: &str, value: &str) -> Result<(), Error> {
        Ok(self.driver.client.set_header(name, value)?)
    }

    /// Drops the connection and reconnects at once, counted neither as a failure nor as a
    /// backoff step (to move to new credentials or another server).
    ///
    /// # Example
    ///
    /// ```
    /// # let mut source = sse_proto_io::reqwest::EventSource::get("http://127.0.0.1:1/").unwrap();
    /// source.restart();
    /// assert_eq!(source.ready_state(), sse_proto::ReadyState::Connecting);
    /// ```
    pub fn restart(&mut self) {
        self.pending = None;
        self.body = None;
        self.driver.client.restart(now());
    }

    /// Closes the source for good: the stream ends; nothing more is sent or yielded.
    ///
    /// # Example
    ///
    /// ```
    /// # let mut source = sse_proto_io::reqwest::EventSource::get("http://127.0.0.1:1/").unwrap();
    /// source.close();
    /// assert_eq!(source.ready_state(), sse_proto::ReadyState::Closed);
    /// ```
    pub fn close(&mut self) {
        self.pending = None;
        self.body = None;
        self.driver.close();
    }

    fn start(&mut self, request: sse_proto::Request) -> Result<Pending, Error> {
        let invalid = |error: Box<dyn std::error::Error + Send + Sync>| Error::Request(error);
        let method = reqwest::Method::from_bytes(request.method().as_bytes())
            .map_err(|e| invalid(Box::new(e)))?;
        let mut headers = HeaderMap::new();
        for (name, value) in request.headers() {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| invalid(Box::new(e)))?;
            // From bytes: an id may hold UTF-8 beyond ASCII, which `from_str` refuses.
            let value =
                HeaderValue::from_bytes(value.as_bytes()).map_err(|e| invalid(Box::new(e)))?;
            headers.insert(name, value);
        }
        let mut builder = self
            .http
            .request(method, self.url.clone())
            .version(self.version)
            .headers(headers);
        if !request.body().is_empty() {
            builder = builder.body(request.body().clone());
        }
        Ok(Box::pin(builder.send()))
    }

    /// Whether `deadline` has passed; otherwise arms the timer to wake the task then.
    fn deadline_passed(&mut self, deadline: Option<Instant>, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = deadline else {
            return false;
        };
        if now() >= deadline {
            return true;
        }
        let at = tokio::time::Instant::from_std(deadline);
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        if timer.deadline() != at {
            timer.as_mut().reset(at);
        }
        timer.as_mut().poll(cx).is_ready()
    }
}

impl Stream for EventSource {
    type Item = Result<Incoming, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let at = now();
            match this.driver.next(at) {
                Next::Yield(item) => return Poll::Ready(Some(item)),
                Next::Done => return Poll::Ready(None),
                Next::Send(request) => {
                    this.body = None;
                    match this.start(request) {
                        Ok(pending) => this.pending = Some(pending),
                        Err(error) => this.driver.fail(error),
                    }
                }
                Next::AwaitResponse(deadline) => {
                    let Some(pending) = this.pending.as_mut() else {
                        // No request on its way (it was dropped): the transport's fact.
                        this.driver.lost(at, None);
                        continue;
                    };
                    match pending.as_mut().poll(cx) {
                        Poll::Ready(Ok(response)) => {
                            this.pending = None;
                            let header = |name| response.headers().get(name).map(|v| v.as_bytes());
                            let opened = this.driver.response(
                                now(),
                                response.status().as_u16(),
                                header(CONTENT_TYPE),
                                header(RETRY_AFTER),
                            );
                            if opened {
                                this.body = Some(Box::pin(response.bytes_stream()));
                            }
                        }
                        Poll::Ready(Err(error)) => {
                            this.pending = None;
                            if error.is_builder() {
                                this.driver.fail(Error::Request(Box::new(error)));
                            } else {
                                this.driver.lost(now(), Some(Box::new(error)));
                            }
                        }
                        Poll::Pending if this.deadline_passed(deadline, cx) => {
                            this.pending = None;
                            this.driver.timed_out(now());
                        }
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Next::ReadBody(deadline) => {
                    let Some(body) = this.body.as_mut() else {
                        this.driver.lost(at, None);
                        continue;
                    };
                    // The body first: what arrived while the caller handled earlier events
                    // is read before a deadline that passed meanwhile is looked at.
                    match body.as_mut().poll_next(cx) {
                        Poll::Ready(Some(Ok(chunk))) => this.driver.feed(now(), &chunk),
                        Poll::Ready(Some(Err(error))) => {
                            this.body = None;
                            this.driver.lost(now(), Some(Box::new(error)));
                        }
                        Poll::Ready(None) => {
                            this.body = None;
                            this.driver.lost(now(), None);
                        }
                        Poll::Pending if this.deadline_passed(deadline, cx) => {
                            this.body = None;
                            this.driver.timed_out(now());
                        }
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Next::Wait(until) => {
                    if !this.deadline_passed(Some(until), cx) {
                        return Poll::Pending;
                    }
                }
            }
        }
    }
}
