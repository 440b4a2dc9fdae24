//! Server-Sent Events on the stacks Rust programs already use, on the sans-IO
//! [`sse_proto`] core: this crate moves bytes and reads the clock, and every protocol
//! decision (what to request, whether a response opens the stream, when to reconnect, when a
//! silent connection is dead) is [`sse_proto::Client`]'s.
//!
//! # A client in three lines
//!
//! ```no_run
//! # #[cfg(feature = "reqwest")]
//! # async fn run() -> Result<(), sse_proto_io::Error> {
//! use futures_util::StreamExt;
//!
//! let mut source = sse_proto_io::reqwest::EventSource::get("http://127.0.0.1:8080/events")?;
//! while let Some(Ok(incoming)) = source.next().await {
//!     println!("{incoming:?}");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! It reconnects with `Last-Event-ID` after the server's `retry:`, as a browser does.
//! `reqwest::EventSource::new` takes any `reqwest::RequestBuilder` (a `POST` with a JSON
//! body for an LLM API); `blocking::EventSource` is the same as an `Iterator`, on ureq.
//!
//! # Any byte stream
//!
//! [`EventStream`] needs no runtime and no HTTP library: it turns any stream of byte chunks
//! into events, with the parser's limits.
//!
//! ```
//! use futures_util::{stream, StreamExt};
//!
//! # futures_executor::block_on(async {
//! let body = stream::iter([Ok::<_, std::io::Error>(&b"data: he"[..]), Ok(&b"llo\n\n"[..])]);
//! let mut events = sse_proto_io::EventStream::new(body);
//! assert_eq!(events.next().await.unwrap().unwrap().data(), "hello");
//! # });
//! ```
//!
//! # A server in three lines
//!
//! [`server::Sse`] turns any stream of events into an event-stream response body (the
//! headers, first bytes at once, keep-alive pings, a send timeout, a graceful shutdown);
//! [`server::Hub`] broadcasts each event, encoded once, to every subscriber, with resume after
//! `Last-Event-ID`.
//!
//! ```
//! # #[cfg(feature = "axum")]
//! # fn router() -> axum::Router {
//! use futures_util::stream;
//! use sse_proto::Event;
//!
//! axum::Router::new().route("/events", axum::routing::get(|| async {
//!     sse_proto_io::server::Sse::new(stream::iter([Event::new("hello")]))
//! }))
//! # }
//! ```
//!
//! # Crate features
//!
//! None is on by default, so no HTTP library, runtime or TLS backend is forced on anyone.
//!
//! - `reqwest`: `reqwest::EventSource`, an async client on reqwest (and tokio's timer).
//!   Plain `http://` unless reqwest gets a TLS feature: `reqwest-rustls` adds rustls.
//! - `blocking`: `blocking::EventSource`, an `Iterator` client on ureq. Plain `http://`
//!   unless `blocking-rustls` adds ureq's rustls.
//! - `server`: [`server`], the response body (`http_body::Body`, for hyper and the
//!   frameworks on it, on tokio's timer) and the broadcast hub.
//! - `axum`: `server` plus `IntoResponse` for [`server::Sse`] (axum-core only).
//! - `redis`: `server` plus `server::RedisHub`, the hub across server instances on Redis
//!   Streams (the `redis` crate on tokio), with resume after `Last-Event-ID` at any instance.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub mod blocking;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub mod reqwest;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;
#[cfg(any(feature = "reqwest", feature = "blocking"))]
mod source;
mod stream;

#[cfg(any(feature = "reqwest", feature = "blocking"))]
pub use source::{BoxError, Error, Incoming};
pub use stream::{EventStream, StreamError};

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "reqwest", feature = "blocking"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
