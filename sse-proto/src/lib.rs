//! Sans-IO Server-Sent Events: a WHATWG-exact streaming parser, a validating encoder and the
//! connection rules around them, for any runtime.
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
//! # Limits
//!
//! The standard sets none; [`ParserConfig`] does, so a hostile or broken peer cannot make the
//! parser hold more than `max_line_len + max_event_len` bytes (16 MiB each by default).
//! Going over one reports a [`ParseError`], drops that event and carries on with the next.
//!
//! # Crate features
//!
//! - `std` (default): `std::error::Error` for the error types. Without it the crate is
//!   `#![no_std]` and needs only `alloc`.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

extern crate alloc;

mod error;
mod event;
mod line;
mod parser;
mod utf8;

pub use error::{EncodeError, Field, ParseError};
pub use event::{Event, EventBuilder};
pub use parser::{Parser, ParserConfig, Step, Steps};
pub use utf8::Utf8Bytes;
