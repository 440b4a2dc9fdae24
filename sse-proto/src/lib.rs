//! Sans-IO Server-Sent Events: a streaming parser exact to the [WHATWG standard], a
//! validating encoder and the connection rules around them, for any runtime.
//!
//! `sse-proto` does no I/O, reads no clock and starts no task. You move the bytes: hand the
//! parser what your HTTP client received and take events out; hand the encoder events and
//! write the bytes it produces. The same code then works under tokio, async-std, blocking
//! `std::net`, embedded targets and WASM.
//!
//! # Example: a client loop over a fake transport
//!
//! The transport here is a `Vec` of chunks, split at awkward places on purpose; a real one
//! is your HTTP library's body stream.
//!
//! ```
//! use sse_proto::{Parser, Step};
//!
//! let transport: Vec<&[u8]> = vec![
//!     b"\xEF\xBB",                       // a BOM split across chunks
//!     b"\xBFretry: 2000\n: keep-alive\n\n",
//!     b"event: update\nid: 1\ndata: {\"n\":1}\r",
//!     b"\n\r\ndata: line one\ndata: line two\n\n",
//! ];
//! let mut parser = Parser::new();
//! for chunk in transport {
//!     let mut input = chunk;
//!     loop {
//!         match parser.poll(&mut input) {
//!             Ok(Step::Event(event)) => {
//!                 println!("{} #{}: {}", event.event_type(), event.last_event_id(), event.data())
//!             }
//!             Ok(Step::Retry(delay)) => println!("reconnect after {delay:?}"),
//!             Ok(Step::NeedData) => break,
//!             Ok(_) => {}
//!             Err(limit) => eprintln!("dropped an event: {limit}"),
//!         }
//!     }
//! }
//! parser.finish(); // end of the response body: a half-built event is discarded
//! assert_eq!(parser.last_event_id(), "1"); // send as Last-Event-ID when reconnecting
//! ```
//!
//! Events from [`Parser::poll`] are owned (`Send + 'static`). Where each event is used before
//! the next is read, [`Parser::poll_ref`] lends an [`EventRef`] instead, borrowed from the
//! input and the parser: no allocation, copy or reference count per event, about twice the
//! throughput on streams of small events. A lent event also encodes itself
//! ([`EventRef::encode`], [`Frame::from_event_ref`]), so a gateway relays an upstream stream
//! without copying its events.
//!
//! # Example: a broadcast server
//!
//! Encode each event once into a [`Frame`] and give every subscriber a clone: one encode and
//! one allocation per event, then a reference-count bump per subscriber. The transports here
//! are `Vec`s of written chunks; a real one is each client's response body.
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use sse_proto::{Event, Frame, KeepAlivePing, Message, Parser, ParserConfig, Step};
//!
//! let mut subscribers: Vec<Vec<Bytes>> = vec![Vec::new(); 10_000];
//!
//! // On connect: an initial frame (here: the reconnection time), written to each client.
//! let hello = Frame::from_message(&Message::retry(Duration::from_secs(3)));
//! for transport in &mut subscribers {
//!     transport.push(hello.as_bytes().clone());
//! }
//!
//! // Each event: validated once, encoded once, shared by all.
//! for n in 1..=3 {
//!     let event = Event::builder()
//!         .event("price")
//!         .id(n.to_string())
//!         .data(format!("{{\"eur\":{n}}}"))
//!         .build()?; // refuses CR/LF in the type or id, NUL in the id
//!     let frame = Frame::from_event(&event);
//!     for transport in &mut subscribers {
//!         transport.push(frame.as_bytes().clone()); // no copy
//!     }
//! }
//!
//! // Idle: the keep-alive frame is static and allocates nothing.
//! let ping = KeepAlivePing::default().frame();
//! for transport in &mut subscribers {
//!     transport.push(ping.as_bytes().clone());
//! }
//!
//! // What any one client reads back.
//! let mut config = ParserConfig::default();
//! config.emit_comments = true;
//! let mut parser = Parser::with_config(config);
//! let mut steps = Vec::new();
//! for chunk in &subscribers[9_999] {
//!     for step in parser.feed(chunk) {
//!         steps.push(step.expect("within limits"));
//!     }
//! }
//! assert_eq!(steps[0], Step::Retry(Duration::from_millis(3000)));
//! match &steps[3] {
//!     Step::Event(event) => {
//!         assert_eq!((event.event_type(), event.data()), ("price", r#"{"eur":3}"#));
//!         assert_eq!(event.last_event_id(), "3");
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! assert!(matches!(&steps[4], Step::Comment(text) if text == "ping"));
//! assert_eq!(parser.last_event_id(), "3"); // sent back as Last-Event-ID on reconnection
//! # Ok::<(), sse_proto::EncodeError>(())
//! ```
//!
//! # Connection helpers
//!
//! The rules around the wire format, as state machines you drive with `now` (and, for
//! jitter, a random number): no timer, clock or random generator inside. Inputs are
//! `handle_*`, outputs `poll_*`, and `poll_timeout()` says when to call
//! `handle_timeout(now)`. Each type's docs give its call order and a whole loop over a fake
//! transport.
//!
//! - [`Client`] (std): a browser's `EventSource` without the I/O: the request to send,
//!   response checks ([`OpenError`]), reconnection with the server's `retry:`, optional
//!   backoff with jitter, attempt limit and read timeout, and a last event ID that
//!   survives reconnections.
//! - [`KeepAlive`] (std): when an idle server connection should send a ping.
//! - [`StallDetector`] (std): when a client has stopped reading and should be dropped.
//! - [`ResumeBuffer`]: recent frames, replayed after a reconnecting client's
//!   `Last-Event-ID`.
//! - [`response_headers`], [`parse_last_event_id`], [`accepts_event_stream`],
//!   [`is_event_stream`]: the HTTP rules.
//!
//! # Limits
//!
//! The standard sets none; [`ParserConfig`] does, so a hostile or broken peer cannot make the
//! parser hold more than `max_line_len + max_event_len` bytes (16 MiB each by default).
//! Going over one reports a [`ParseError`], drops that event and carries on with the next.
//!
//! # Crate features
//!
//! - `std` (default): `std::error::Error` for the error types, and the helpers that take
//!   `std::time::Instant`: [`Client`], [`KeepAlive`], [`StallDetector`]. Without it the
//!   crate is `#![no_std]` and needs only `alloc` (the resume buffer and the HTTP rules
//!   stay).
//! - `json`: `json_data`, `Event::json` and `EventBuilder::json_data` serialize a
//!   `serde::Serialize` value once, compactly, straight into an event's data (adds `serde`
//!   and `serde_json`; works without `std` too).
//!
//! [WHATWG standard]: https://html.spec.whatwg.org/multipage/server-sent-events.html
// Without `std` the helpers above do not exist: their names link to the feature list instead.
#![cfg_attr(not(feature = "std"), doc = "[`Client`]: crate#crate-features")]
#![cfg_attr(not(feature = "std"), doc = "[`KeepAlive`]: crate#crate-features")]
#![cfg_attr(not(feature = "std"), doc = "[`StallDetector`]: crate#crate-features")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

extern crate alloc;

#[cfg(feature = "std")]
mod client;
mod encoder;
mod error;
mod event;
mod frame;
mod http;
#[cfg(feature = "json")]
mod json;
#[cfg(feature = "std")]
mod keepalive;
mod line;
mod parser;
mod resume;
mod simd;
#[cfg(feature = "std")]
mod stall;
mod text;
mod utf8;

#[cfg(feature = "std")]
pub use client::{
    check_header_value, Action, Backoff, Client, ClientConfig, ClientSteps, CloseReason,
    ErrorCause, ReadyState, Request, Signal,
};
pub use encoder::{encode, encode_comment, encode_id_only, encode_retry, encoded_len, Message};
#[cfg(feature = "std")]
pub use error::RequestError;
pub use error::{EncodeError, Field, LastEventIdError, OpenError, ParseError};
pub use event::{Event, EventBuilder, EventRef};
pub use frame::{Frame, KeepAlivePing};
pub use http::{
    accepts_event_stream, is_event_stream, parse_last_event_id, response_headers, HttpVersion,
    EVENT_STREAM_CONTENT_TYPE, EVENT_STREAM_MIME_TYPE,
};
#[cfg(feature = "json")]
pub use json::json_data;
#[cfg(feature = "std")]
pub use keepalive::{KeepAlive, KeepAliveConfig};
pub use parser::{Parser, ParserConfig, Step, StepRef, Steps};
pub use resume::{Replay, ReplayFrames, ResumeBuffer, ResumeLimits};
#[cfg(feature = "std")]
pub use stall::{StallDetector, Stalled};
pub use utf8::Utf8Bytes;

/// The crate README's Rust examples (its crates.io page), compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
