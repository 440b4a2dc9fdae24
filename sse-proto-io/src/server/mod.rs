//! The server side: an event-stream response body, the watchdog that drops clients that stop
//! reading, and a broadcast hub with resume (feature `server`; `IntoResponse` with `axum`).
//!
//! - [`Sse`]: any [`Stream`](futures_core::Stream) of [`Frame`](sse_proto::Frame)s,
//!   [`Event`](sse_proto::Event)s or [`Message`](sse_proto::Message)s as an
//!   `http_body::Body`, with the event-stream headers, first bytes at once, keep-alive pings,
//!   a send timeout, cancellation and a graceful shutdown.
//! - [`Watchdog`]: one per connection, so the accept loop can drop a connection whose body
//!   stalled.
//! - [`Hub`]: publish once, every [`Subscription`] gets the same frame; resume from a
//!   [`Store`] after `Last-Event-ID`; slow subscribers disconnected to resume, never
//!   silently skipped.
//!
//! Every rule (the headers, when to ping, when a client counts as stalled, what to replay)
//! is [`sse_proto`]'s; this module moves the frames and reads the clock (tokio's).
//!
//! # Example: a broadcast, as one client's body sends it
//!
//! ```
//! use http_body_util::BodyExt;
//! use sse_proto::Event;
//! use sse_proto_io::server::{Hub, Sse};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let hub = Hub::new(Default::default());
//! hub.publish(Event::builder().id("1").data("a").build()?);
//! // A new client: the newest event as its full state, then the live feed.
//! let feed = hub.subscribe_with(None, |newest| newest.cloned().into_iter().collect());
//! let body = Sse::new(feed);
//! hub.publish(Event::builder().id("2").data("b").build()?);
//! hub.close(); // ends every subscription, so the body ends too
//! let sent = body.collect().await?.to_bytes();
//! assert_eq!(&sent[..], b": ok\n\nid: 1\ndata: a\n\nid: 2\ndata: b\n\n");
//! # Ok(())
//! # }
//! ```
//!
//! # Limits
//!
//! - A subscriber holds at most [`HubConfig::capacity`] live frames (256) plus its replay;
//!   the history holds what its [`Store`] keeps ([`sse_proto::ResumeLimits`]: 1024 frames,
//!   1 MiB by default).
//! - A client that stops reading pins at most the kernel's send buffer plus the server's
//!   write buffer (hyper's `max_buf_size`) until its [`Watchdog`] drops it, the send timeout
//!   after the server last took a frame.
//! - Tested on hyper 1 (and axum 0.8 on it), over HTTP/1.1 and HTTP/2; another server that
//!   polls a body before it has taken the previous frame would defeat the send timeout.

mod body;
mod hub;
mod item;
mod store;
mod watchdog;

#[cfg(feature = "axum")]
mod axum;
#[cfg(feature = "redis")]
mod redis;

pub use body::{BodyError, Sse};
pub use hub::{End, Hub, HubConfig, HubStats, Resume, Subscription};
pub use item::{BoxError, IntoFrame, Raw, SseItem};
pub use store::{History, Store};
pub use watchdog::Watchdog;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use self::redis::{RedisConfig, RedisError, RedisHub, RedisSubscription};

/// Now, on tokio's clock: the one its timers run on (paused in tests with tokio's
/// `test-util`), so a timer that fired always finds its deadline reached.
fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// The request's `Last-Event-ID`, for [`Hub::subscribe`]. A value no stream could have set
/// (not UTF-8, or with CR, LF or NUL; see [`sse_proto::parse_last_event_id`]) counts as none,
/// as does an empty one.
///
/// # Example
///
/// ```
/// use http::{HeaderMap, HeaderValue};
/// use sse_proto_io::server::last_event_id;
///
/// let mut headers = HeaderMap::new();
/// assert_eq!(last_event_id(&headers), None);
/// headers.insert("last-event-id", HeaderValue::from_static(" 42 "));
/// assert_eq!(last_event_id(&headers), Some("42"));
/// ```
pub fn last_event_id(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get("last-event-id")?;
    sse_proto::parse_last_event_id(value.as_bytes())
        .ok()
        .flatten()
}
