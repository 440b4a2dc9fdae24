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
//! is [`sse_proto`]'s; this module moves the frames and reads the clock.

mod body;
mod hub;
mod item;
mod store;
mod watchdog;

#[cfg(feature = "axum")]
mod axum;

pub use body::{BodyError, Sse};
pub use hub::{End, Hub, HubConfig, HubStats, Resume, Subscription};
pub use item::{BoxError, IntoFrame, Raw, SseItem};
pub use store::{History, Store};
pub use watchdog::Watchdog;

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
