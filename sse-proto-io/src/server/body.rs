//! [`Sse`]: an event-stream response body made from any stream of messages.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_core::Stream;
use sse_proto::{response_headers, Frame, HttpVersion, KeepAlive, KeepAliveConfig, Message};

use super::item::{BoxError, SseItem};
use super::watchdog::{Tracked, Watchdog};

/// Why an [`Sse`] body failed: the server (hyper) then aborts the connection.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use sse_proto_io::server::BodyError;
///
/// let error = BodyError::SendTimeout { timeout: Duration::from_secs(30), pending: 120 };
/// assert_eq!(error.to_string(), "the client took none of 120 bytes for 30s: dropped");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The transport took none of the bytes handed to it for the send timeout: the client
    /// stopped reading.
    #[error("the client took none of {pending} bytes for {timeout:?}: dropped")]
    SendTimeout {
        /// The send timeout in force.
        timeout: Duration,
        /// Bytes handed to the transport and not taken when the verdict was made.
        pending: u64,
    },
    /// The producer stream yielded an error (an `Err` item, see [`SseItem`]).
    #[error("the producer failed: {0}")]
    Producer(#[source] BoxError),
}

type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where the body is.
enum State {
    /// Opening frames first, then the producer's, pings and the shutdown watch.
    Streaming,
    /// Shutdown began: the closing frame goes next, then the end.
    Closing,
    /// Nothing more: the next poll ends the body.
    Done,
}

/// An event-stream response body (`http_body::Body`) made from any [`Stream`] of messages
/// ([`Frame`], [`Event`](sse_proto::Event), [`Message`], or `Result`s of them: see
/// [`SseItem`]): what axum's `Sse`, sse-starlette's
/// `EventSourceResponse` and aiohttp-sse's `sse_response` give, on the sans-IO rules of
/// [`sse_proto`].
///
/// - **First bytes at once**: an opening comment is the first thing the body yields, so the
///   headers and a first chunk go out before the producer has anything, and a browser's
///   loading indicator stops. A reconnection time set with [`retry`](Self::retry) rides in
///   the first event's block.
/// - **Keep-alive** ([`keep_alive`](Self::keep_alive)): after an idle interval, a ping
///   (comment or named event), scheduled by [`sse_proto::KeepAlive`] on a tokio timer.
/// - **Send timeout** ([`watchdog`](Self::watchdog)): a client that stops reading is
///   dropped after the connection's [`Watchdog`] timeout, judged by
///   [`sse_proto::StallDetector`]; see *How "accepted" is known* below.
/// - **Cancellation**: when the client goes away the server drops the body, and with it the
///   producer stream (a generator's cleanup runs then, not at its next `yield`).
/// - **Graceful shutdown** ([`shutdown`](Self::shutdown)): when the given future completes,
///   the body writes a closing `retry:` frame ([`shutdown_retry`](Self::shutdown_retry)) and
///   ends, so clients come back soon, to another instance if need be.
///
/// Runs on tokio (its timer, with the `time` driver enabled); the body itself needs no
/// task of its own.
///
/// # How "accepted" is known
///
/// A body cannot see the socket; it sees polls. The server polls `poll_frame` again only
/// after it has taken the previous frame: hyper's HTTP/1 dispatcher copies each data frame
/// into its write buffer and polls the body again only while that buffer has room (it
/// flushes to the socket first when full); its HTTP/2 stream waits for flow-control capacity
/// before it polls. So each frame handed out is *queued* for the stall detector, and the next
/// poll reports it *accepted*. A client that stops reading fills the socket buffers and then
/// the server's write buffer, and the polls stop: the send timeout counts from there. The
/// bytes a stalled client can pin are therefore bounded by the kernel's send buffer plus the
/// server's write buffer (hyper's `max_buf_size`, about 400 KiB by default): lower both where
/// that matters.
///
/// Because a stalled connection stops polling its body, the body cannot act on a send timeout
/// by itself (and a late poll is progress: the server did take the frame, late). The
/// connection must be dropped from outside: the accept loop makes a [`Watchdog`] per
/// connection with the send timeout, the body reports to it ([`watchdog`](Self::watchdog)),
/// and the loop drops the connection when [`Watchdog::stalled`] resolves. So there is no
/// send timeout without a watchdog. If the connection is polled after the verdict all the
/// same, the body fails with [`BodyError::SendTimeout`].
///
/// # Example: a response for hyper
///
/// ```
/// use std::time::Duration;
/// use futures_util::stream;
/// use sse_proto::Event;
/// use sse_proto_io::server::{Sse, Watchdog};
///
/// let watchdog = Watchdog::new(Duration::from_secs(30)); // the connection's
/// let events = stream::iter((1..=3).map(|n| Event::new(n.to_string())));
/// let response: http::Response<Sse<_>> = Sse::new(events)
///     .keep_alive_interval(Duration::from_secs(15))
///     .watchdog(&watchdog)
///     .into_http_response(http::Version::HTTP_11);
/// assert_eq!(response.headers()["content-type"], "text/event-stream; charset=utf-8");
/// assert_eq!(response.headers()["cache-control"], "no-store");
/// ```
///
/// # Example: what the body yields
///
/// ```
/// use futures_util::stream;
/// use http_body_util::BodyExt;
/// use sse_proto::Event;
/// use sse_proto_io::server::Sse;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let body = Sse::new(stream::iter([Event::new("a"), Event::new("b")]));
/// let bytes = body.collect().await.unwrap().to_bytes();
/// assert_eq!(&bytes[..], b": ok\n\ndata: a\n\ndata: b\n\n");
/// # }
/// ```
#[must_use = "a body does nothing unless a server sends it"]
pub struct Sse<S> {
    stream: Option<Pin<Box<S>>>,
    opening: VecDeque<Frame>,
    /// The `retry:` line still to send, in front of the first event's block.
    retry_line: Option<Bytes>,
    keep_alive_config: KeepAliveConfig,
    keep_alive: Option<KeepAlive>,
    stall: Option<Tracked>,
    watchdog: Option<Watchdog>,
    /// Bytes of the frame handed out last, until the next poll reports them accepted.
    in_flight: usize,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    shutdown: Option<Shutdown>,
    shutdown_retry: Duration,
    ping_with: Option<Box<dyn FnMut() -> Frame + Send>>,
    version: HttpVersion,
    state: State,
}

impl<S> core::fmt::Debug for Sse<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sse")
            .field("keep_alive", &self.keep_alive_config)
            .field("watchdog", &self.watchdog)
            .field("in_flight", &self.in_flight)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl<S> Sse<S> {
    /// Default [`shutdown_retry`](Self::shutdown_retry): 1 s, so clients reconnect (to
    /// another instance, or to this one restarted) soon after a shutdown.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(sse_proto_io::server::Sse::<()>::DEFAULT_SHUTDOWN_RETRY.as_secs(), 1);
    /// ```
    pub const DEFAULT_SHUTDOWN_RETRY: Duration = Duration::from_secs(1);

    /// A body that sends every item of `stream`, with the defaults: an opening comment
    /// (`: ok`), a comment ping after 15 s idle ([`KeepAliveConfig::default`]), no send
    /// timeout, no shutdown signal, headers for HTTP/1.1.
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::stream;
    /// use sse_proto::Frame;
    ///
    /// let body = sse_proto_io::server::Sse::new(stream::empty::<Frame>());
    /// # let _ = body;
    /// ```
    pub fn new(stream: S) -> Self {
        let mut opening = VecDeque::new();
        opening.push_back(Frame::from_message(&Message::comment("ok")));
        Sse {
            stream: Some(Box::pin(stream)),
            opening,
            retry_line: None,
            keep_alive_config: KeepAliveConfig::default(),
            keep_alive: None,
            stall: None,
            watchdog: None,
            in_flight: 0,
            timer: None,
            shutdown: None,
            shutdown_retry: Self::DEFAULT_SHUTDOWN_RETRY,
            ping_with: None,
            version: HttpVersion::Http11,
            state: State::Streaming,
        }
    }

    /// The keep-alive settings: interval and ping (a comment by default, or a named event
    /// browser code can see). A zero interval is taken as 1 ms.
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::stream;
    /// use sse_proto::{Frame, KeepAliveConfig, KeepAlivePing};
    ///
    /// let mut config = KeepAliveConfig::default();
    /// config.ping = KeepAlivePing::event("ping")?;
    /// let body = sse_proto_io::server::Sse::new(stream::empty::<Frame>()).keep_alive(config);
    /// # let _ = body;
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn keep_alive(mut self, config: KeepAliveConfig) -> Self {
        let interval = config.interval;
        self.keep_alive_config = config;
        self.keep_alive_interval(interval)
    }

    /// Builds each ping with `make` instead of sending the configured one (sse-starlette's
    /// `ping_message_factory`): a ping that carries the server time, a sequence number, a
    /// load figure. When pings are due stays [`sse_proto::KeepAlive`]'s.
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::stream;
    /// use sse_proto::{Event, Frame};
    ///
    /// let mut n = 0;
    /// let body = sse_proto_io::server::Sse::new(stream::empty::<Frame>()).ping_with(move || {
    ///     n += 1;
    ///     let ping = Event::builder().event("ping").data(n.to_string()).build();
    ///     Frame::from_event(&ping.expect("no line break in the type"))
    /// });
    /// # let _ = body;
    /// ```
    pub fn ping_with(mut self, make: impl FnMut() -> Frame + Send + 'static) -> Self {
        self.ping_with = Some(Box::new(make));
        self
    }

    /// The idle time before a ping (15 s by default). A zero interval is taken as 1 ms.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_util::stream;
    ///
    /// let body = sse_proto_io::server::Sse::new(stream::empty::<sse_proto::Frame>())
    ///     .keep_alive_interval(Duration::from_secs(5));
    /// # let _ = body;
    /// ```
    pub fn keep_alive_interval(mut self, interval: Duration) -> Self {
        // `KeepAlive` refuses a zero interval (a ping would always be due).
        self.keep_alive_config.interval = interval.max(Duration::from_millis(1));
        self
    }

    /// The send timeout (sse-starlette's `send_timeout`): reports what this body hands out
    /// and what the server takes to the connection's [`Watchdog`], which drops the connection
    /// after the watchdog's timeout without progress. Off by default. See the type's docs for
    /// how it is measured.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_util::stream;
    /// use sse_proto_io::server::{Sse, Watchdog};
    ///
    /// let watchdog = Watchdog::new(Duration::from_secs(30)); // one per connection
    /// let body = Sse::new(stream::empty::<sse_proto::Frame>()).watchdog(&watchdog);
    /// # let _ = body;
    /// ```
    pub fn watchdog(mut self, watchdog: &Watchdog) -> Self {
        self.watchdog = Some(watchdog.clone());
        self
    }

    /// Sends the reconnection time: how long clients wait before reconnecting after the
    /// stream ends or breaks. It is written inside the block of the first event the stream
    /// yields (`retry: 3000` then its `data:` lines), not as a block of its own: httpx-sse and
    /// sseclient deliver an empty event for a block with `retry:` and no data, which breaks
    /// every consumer that parses each event's data. Until that first event, clients keep
    /// their default reconnection time.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_util::stream;
    ///
    /// let body = sse_proto_io::server::Sse::new(stream::empty::<sse_proto::Frame>())
    ///     .retry(Duration::from_secs(3));
    /// # let _ = body;
    /// ```
    pub fn retry(mut self, delay: Duration) -> Self {
        let block = Frame::from_message(&Message::retry(delay)).into_bytes();
        // `retry: N\n\n` without its blank line: the line alone, to go before an event's.
        self.retry_line = Some(block.slice(..block.len() - 1));
        self
    }

    /// Replaces the opening comment with `frame` (a comment, a full state, anything). The
    /// first bytes should not wait for the producer: keep something here.
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::stream;
    /// use sse_proto::{Frame, Message};
    ///
    /// let body = sse_proto_io::server::Sse::new(stream::empty::<Frame>())
    ///     .opening(Frame::from_message(&Message::comment("connected")));
    /// # let _ = body;
    /// ```
    pub fn opening(mut self, frame: Frame) -> Self {
        self.opening.pop_front();
        self.opening.push_front(frame);
        self
    }

    /// Ends the stream gracefully when `signal` completes: the producer is dropped, a
    /// closing `retry:` frame ([`shutdown_retry`](Self::shutdown_retry)) goes out, then the
    /// body ends.
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::stream;
    ///
    /// let (stop, stopped) = tokio::sync::watch::channel(false);
    /// let body = sse_proto_io::server::Sse::new(stream::empty::<sse_proto::Frame>())
    ///     .shutdown(async move {
    ///         let mut stopped = stopped;
    ///         let _ = stopped.wait_for(|stop| *stop).await;
    ///     });
    /// stop.send_replace(true);
    /// # let _ = body;
    /// ```
    pub fn shutdown(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// The reconnection time of the closing frame ([`DEFAULT_SHUTDOWN_RETRY`](Self::DEFAULT_SHUTDOWN_RETRY)
    /// by default).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_util::stream;
    ///
    /// let body = sse_proto_io::server::Sse::new(stream::empty::<sse_proto::Frame>())
    ///     .shutdown_retry(Duration::from_millis(250));
    /// # let _ = body;
    /// ```
    pub fn shutdown_retry(mut self, delay: Duration) -> Self {
        self.shutdown_retry = delay;
        self
    }

    /// The HTTP version the response goes out on, for axum's `IntoResponse` (feature `axum`,
    /// which cannot see the request): it decides whether `connection: keep-alive` is sent
    /// ([`sse_proto::response_headers`]). HTTP/1.1 by default.
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::stream;
    ///
    /// let body = sse_proto_io::server::Sse::new(stream::empty::<sse_proto::Frame>())
    ///     .http_version(http::Version::HTTP_2);
    /// # let _ = body;
    /// ```
    pub fn http_version(mut self, version: http::Version) -> Self {
        self.version = http_version(version);
        self
    }

    /// The response: status 200, the event-stream headers for `version`
    /// ([`sse_proto::response_headers`]), and this body. Add or replace headers on it as
    /// needed (say `cache-control: public, max-age=29` behind a fan-out proxy). Under axum,
    /// return the body itself instead (feature `axum`: `IntoResponse`).
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::stream;
    /// use http::header::{HeaderValue, CACHE_CONTROL};
    ///
    /// let mut response = sse_proto_io::server::Sse::new(stream::empty::<sse_proto::Frame>())
    ///     .into_http_response(http::Version::HTTP_2);
    /// assert!(!response.headers().contains_key("connection")); // forbidden on HTTP/2
    /// response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=29"));
    /// ```
    pub fn into_http_response(self, version: http::Version) -> http::Response<Self> {
        let body = self.http_version(version);
        let version = body.version;
        let mut response = http::Response::new(body);
        insert_headers(response.headers_mut(), version);
        response
    }

    #[cfg(feature = "axum")]
    pub(super) fn headers_version(&self) -> HttpVersion {
        self.version
    }

    /// Hands `bytes` to the transport: counted as queued until the next poll.
    fn hand_out(&mut self, bytes: Bytes, now: Instant) -> Poll<Option<Result<Bytes, BodyError>>> {
        if let Some(keep_alive) = &mut self.keep_alive {
            keep_alive.handle_write(now);
        }
        if let Some(stall) = &self.stall {
            stall.handle_queued(now, bytes.len());
        }
        self.in_flight = bytes.len();
        Poll::Ready(Some(Ok(bytes)))
    }

    fn end(&mut self) {
        // Drops the producer now: its resources go with the client, not at its next item.
        self.stream = None;
        self.shutdown = None;
        self.timer = None;
        self.state = State::Done;
    }
}

impl<S> Sse<S>
where
    S: Stream,
    S::Item: SseItem,
{
    fn poll_bytes(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BodyError>>> {
        if matches!(self.state, State::Done) {
            self.end();
            return Poll::Ready(None);
        }
        let now = super::now();
        if self.keep_alive.is_none() {
            // The first poll: the stream starts now.
            self.keep_alive = Some(KeepAlive::new(self.keep_alive_config.clone(), now));
            self.stall = self.watchdog.as_ref().map(Tracked::new);
        }
        // Polled again: the transport took the previous frame (see the type's docs).
        if let Some(stall) = &self.stall {
            stall.handle_accepted(now, core::mem::take(&mut self.in_flight));
            if let Some(stalled) = stall.poll_stalled(now) {
                let timeout = stall.timeout();
                self.end();
                return Poll::Ready(Some(Err(BodyError::SendTimeout {
                    timeout,
                    pending: stalled.pending,
                })));
            }
        }
        if matches!(self.state, State::Closing) {
            self.end();
            let closing = Frame::from_message(&Message::retry(self.shutdown_retry));
            return self.hand_out(closing.into_bytes(), now);
        }
        if let Some(frame) = self.opening.pop_front() {
            return self.hand_out(frame.into_bytes(), now);
        }
        if let Some(shutdown) = &mut self.shutdown {
            if shutdown.as_mut().poll(cx).is_ready() {
                self.stream = None;
                self.state = State::Closing;
                return self.poll_bytes(cx);
            }
        }
        if let Some(stream) = &mut self.stream {
            match stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => match item.into_item() {
                    Ok(bytes) => {
                        let bytes = match self.retry_line.take() {
                            Some(line) if has_data_line(&bytes) => {
                                let mut joined =
                                    bytes::BytesMut::with_capacity(line.len() + bytes.len());
                                joined.extend_from_slice(&line);
                                joined.extend_from_slice(&bytes);
                                joined.freeze()
                            }
                            line => {
                                self.retry_line = line;
                                bytes
                            }
                        };
                        return self.hand_out(bytes, now);
                    }
                    Err(error) => {
                        self.end();
                        return Poll::Ready(Some(Err(BodyError::Producer(error))));
                    }
                },
                Poll::Ready(None) => {
                    self.end();
                    return Poll::Ready(None);
                }
                Poll::Pending => {}
            }
        }
        // Idle: a ping when due, else sleep until the next one.
        // Twice at most: a timer that fired has reached the deadline (same clock), so the
        // second look finds the ping; the bound only guards against a clock that disagrees.
        for _ in 0..2 {
            let now = super::now();
            let Some(keep_alive) = &mut self.keep_alive else {
                return Poll::Pending;
            };
            keep_alive.handle_timeout(now);
            if let Some(ping) = keep_alive.poll_ping() {
                let ping = match &mut self.ping_with {
                    Some(make) => make(),
                    None => ping,
                };
                return self.hand_out(ping.into_bytes(), now);
            }
            let deadline = tokio::time::Instant::from_std(keep_alive.poll_timeout());
            let timer = self
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
            if timer.deadline() != deadline {
                timer.as_mut().reset(deadline);
            }
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Whether an encoded frame holds a `data` line, so a `retry:` line in front of it shares an
/// event's block (frames from the encoder start a block and end with its blank line).
fn has_data_line(frame: &[u8]) -> bool {
    frame
        .split(|&b| b == b'\n')
        .any(|line| line == b"data" || line.starts_with(b"data:"))
}

impl<S> http_body::Body for Sse<S>
where
    S: Stream,
    S::Item: SseItem,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BodyError>>> {
        // `Sse` is `Unpin`: the producer is boxed, so any stream works without pinning.
        self.get_mut()
            .poll_bytes(cx)
            .map(|next| next.map(|bytes| bytes.map(http_body::Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, State::Done) && self.stream.is_none()
    }
}

/// `http`'s version as the core's (HTTP/0.9 is answered as 1.0; an unknown one as 1.1).
fn http_version(version: http::Version) -> HttpVersion {
    match version {
        http::Version::HTTP_09 | http::Version::HTTP_10 => HttpVersion::Http10,
        http::Version::HTTP_2 => HttpVersion::Http2,
        http::Version::HTTP_3 => HttpVersion::Http3,
        _ => HttpVersion::Http11,
    }
}

/// Copies the core's event-stream headers into `headers`.
pub(super) fn insert_headers(headers: &mut http::HeaderMap, version: HttpVersion) {
    for &(name, value) in response_headers(version) {
        headers.insert(
            http::HeaderName::from_static(name),
            http::HeaderValue::from_static(value),
        );
    }
}
