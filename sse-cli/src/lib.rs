//! The library half of `sse`, the command-line tool: each command in its own module, and
//! the pieces tests reach directly (the linter, the recording format).
#![warn(rust_2018_idioms)]

pub mod cat;
pub mod lint;
pub mod lint_cmd;
pub mod record;
pub mod recording;
pub mod request;
