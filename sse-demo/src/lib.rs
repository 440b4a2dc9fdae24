//! `sse-proto` on real runtimes: the demo server, the client programs, and what the tests
//! share. Not published: tokio, hyper, axum and reqwest stay out of `sse-proto`.
//!
//! - [`server`]: `sse-proto-io`'s server side on axum + hyper-util; the page, the time
//!   stream, the weather broadcast with Last-Event-ID resume, keep-alives, stalled-client
//!   drops, graceful shutdown.
//! - [`script`]: the fixed sequence the reconnect and browser tests check.
//! - [`cli`]: the client binaries' arguments and output; the clients are `sse_proto_io`'s.
#![warn(missing_docs, rust_2018_idioms)]

pub mod cli;
pub mod script;
pub mod server;

/// The workspace README's Rust examples, compiled and run as doctests. They live here, not in
/// `sse-proto`, because the published crate must not reach outside its own package.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct WorkspaceReadmeDoctests;

/// The server guides' programs (`docs/server.md`, `docs/broadcast.md`), compiled as doctests
/// here, where every dependency they name is at hand.
#[cfg(doctest)]
#[doc = include_str!("../../docs/server.md")]
#[doc = include_str!("../../docs/broadcast.md")]
struct ServerGuideDoctests;
