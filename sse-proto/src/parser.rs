//! Lines to fields to events: "Interpreting an event stream" and "Dispatch the event".
//!
//! <https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation>
//!
//! # How to change this safely
//!
//! [`LineSplitter`] turns bytes into lines; this file gives each line its meaning. Keep the
//! two apart: nothing here may depend on where chunks were split. Each rule carries a link or
//! a quote of the standard; `docs/conformance.md` maps every rule to its test, so update both.
//!
//! ## Why there are two parsing loops
//!
//! [`Parser::poll_from`] hands out owned events (for `poll` and `poll_bytes`) and
//! [`Parser::poll_ref_loop`] lends them (for `poll_ref`). They read lines the same way
//! (`LineSplitter::next_line`) and give them the same meaning
//! ([`EventBuffers::interpret_line`], `append_data`, `dispatch_point`); they differ in what
//! they do with a data line and at a blank line. The lending loop keeps an event's only data
//! line borrowed from the caller's input in a local (`first_data`, with the input's
//! lifetime) while it may stay the only one, and returns an [`EventRef`] that borrows the
//! input and the parser; the owning loop builds the [`Event`] straight into its return value
//! and, for `poll_bytes`, keeps that line as a slice of the caller's `Bytes`. One loop for
//! both would carry the borrowed line, and its lifetime, into the owned path, or make the
//! lent path pay for building an owned event: the lent path is the fast one, and the owned
//! one is what most callers use. So a change to how lines are read or interpreted goes in
//! the shared helpers, and a change to one loop's handling of a [`LineAction`] or of a
//! blank line is made in the other too.
//!
//! These tests keep the two in step, each running the same input through `poll`,
//! `poll_bytes`, `poll_ref`, and all three taking turns on one parser:
//!
//! - `tests/common/mod.rs::assert_all_chunkings_with` (its `OTHER_ENTRY_POINTS` and
//!   `FEED_DRIVERS`), which every vector of `tests/spec.rs` goes through, whole, byte by
//!   byte and split at every point;
//! - `tests/oracle.rs::arbitrary_streams_match_the_model`, `padded_seeds_match_the_model`,
//!   `long_data_values_match_the_model_through_every_entry_point` and
//!   `every_seed_matches_the_model_under_every_chunking` (all through `check_against_model`),
//!   and `limit_errors_do_not_depend_on_chunking`, which compares the errors as well;
//! - the fuzz target `parse_split` (its step 3: `poll_ref` against `poll`).
//!
//! ## The state
//!
//! The parser's mode is the `finished` flag of [`Parser`] and the flags of [`EventBuffers`];
//! their invariants are listed where they are declared, and debug builds check them at the
//! start of every poll (`EventBuffers::invariants_hold`), so every test above checks them too.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use core::time::Duration;

use crate::error::{EncodeError, ParseError};
use crate::event::{Event, EventRef};
use crate::line::{strip_one_space, LineSplitter, Next};
use crate::simd::{append_reserved, is_utf8};
use crate::text::{Text, INLINE_CAPACITY};
use crate::utf8::{push_utf8_lossy, utf8_lossy_len, Utf8Bytes};

/// Data buffers are (re)allocated at least this large, so small events share allocations.
const ARENA_CHUNK: usize = 8 * 1024;

/// Limits and options for a [`Parser`].
///
/// The standard sets no limits, yet an endless line or event must not grow memory without
/// bound. The defaults let multi-megabyte events through (LLM gateways send them; a 64 KiB
/// limit is the most common complaint about other clients) while capping what one
/// connection can make the parser hold. Each field says what it counts and what happens to
/// a line or event that goes over it.
///
/// # Example
///
/// ```
/// use sse_proto::{Parser, ParserConfig};
///
/// let mut config = ParserConfig::default();
/// config.max_event_len = 1024 * 1024;
/// config.emit_comments = true;
/// let parser = Parser::with_config(config);
/// assert_eq!(parser.config().max_line_len, ParserConfig::DEFAULT_MAX_LINE_LEN);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParserConfig {
    /// Longest line accepted, in bytes, without its terminator. A longer line is skipped as
    /// it streams in (never buffered), its event is dropped and
    /// [`ParseError::LineTooLong`] is reported when it ends. Default
    /// [`DEFAULT_MAX_LINE_LEN`](Self::DEFAULT_MAX_LINE_LEN) (16 MiB).
    pub max_line_len: usize,
    /// Largest data buffer accepted for one event, in bytes: the `data:` values joined with
    /// `\n`. Going over drops the event and reports [`ParseError::EventTooLarge`]. Default
    /// [`DEFAULT_MAX_EVENT_LEN`](Self::DEFAULT_MAX_EVENT_LEN) (16 MiB).
    pub max_event_len: usize,
    /// Report comment lines (`: text`) as [`Step::Comment`]. Off by default: the standard
    /// ignores comments, but they tell a client that keep-alives are arriving.
    pub emit_comments: bool,
}

impl ParserConfig {
    /// Default [`max_line_len`](Self::max_line_len): 16 MiB.
    pub const DEFAULT_MAX_LINE_LEN: usize = 16 * 1024 * 1024;
    /// Default [`max_event_len`](Self::max_event_len): 16 MiB.
    pub const DEFAULT_MAX_EVENT_LEN: usize = 16 * 1024 * 1024;
}

impl Default for ParserConfig {
    fn default() -> Self {
        ParserConfig {
            max_line_len: Self::DEFAULT_MAX_LINE_LEN,
            max_event_len: Self::DEFAULT_MAX_EVENT_LEN,
            emit_comments: false,
        }
    }
}

/// One result of [`Parser::poll`].
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use sse_proto::{Parser, Step};
///
/// let mut parser = Parser::new();
/// let mut input: &[u8] = b"retry: 1500\n\ndata: hi\n\n";
/// assert_eq!(parser.poll(&mut input), Ok(Step::Retry(Duration::from_millis(1500))));
/// assert!(matches!(parser.poll(&mut input), Ok(Step::Event(e)) if e.data() == "hi"));
/// assert_eq!(parser.poll(&mut input), Ok(Step::NeedData));
/// parser.finish();
/// assert_eq!(parser.poll(&mut input), Ok(Step::End));
/// ```
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// An event was dispatched (an empty line ended a block that had data).
    Event(Event),
    /// A valid `retry:` field set the reconnection time. Reported when its line is read, even
    /// in a block that dispatches nothing.
    Retry(Duration),
    /// A comment line, without its `:` and one leading space. Only with
    /// [`ParserConfig::emit_comments`].
    Comment(Utf8Bytes),
    /// The input is used up; call again with more bytes.
    NeedData,
    /// [`Parser::finish`] was called: the stream is over.
    End,
}

/// One result of [`Parser::poll_ref`]: a [`Step`] whose event and comment are borrowed.
///
/// # Example
///
/// ```
/// use sse_proto::{Parser, Step, StepRef};
///
/// let mut parser = Parser::new();
/// let mut input: &[u8] = b"event: tick\ndata: 1\n\n";
/// let step = parser.poll_ref(&mut input)?;
/// assert!(matches!(step, StepRef::Event(event) if event.event_type() == "tick"));
/// let owned: Step = step.to_step();
/// assert!(matches!(owned, Step::Event(event) if event.data() == "1"));
/// # Ok::<(), sse_proto::ParseError>(())
/// ```
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepRef<'a> {
    /// An event was dispatched; it borrows the input and the parser until the next call.
    Event(EventRef<'a>),
    /// As [`Step::Retry`].
    Retry(Duration),
    /// As [`Step::Comment`], borrowed.
    Comment(&'a str),
    /// As [`Step::NeedData`].
    NeedData,
    /// As [`Step::End`].
    End,
}

impl StepRef<'_> {
    /// The owned [`Step`] with the same content (the event's fields are copied, short ones
    /// inline, longer ones into one allocation each).
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Step, StepRef};
    ///
    /// assert_eq!(StepRef::NeedData.to_step(), Step::NeedData);
    /// assert!(matches!(StepRef::Comment("hi").to_step(), Step::Comment(text) if text == "hi"));
    /// ```
    pub fn to_step(&self) -> Step {
        match *self {
            StepRef::Event(event) => Step::Event(event.to_event()),
            StepRef::Retry(delay) => Step::Retry(delay),
            StepRef::Comment(text) => Step::Comment(Utf8Bytes::copy_from_str(text)),
            StepRef::NeedData => Step::NeedData,
            StepRef::End => Step::End,
        }
    }
}

/// What a non-empty line asks of the poll loop, for the fields whose handling depends on how
/// events are handed out (owned or lent); the others are handled where they are read.
enum LineAction<'l> {
    Nothing,
    Data(&'l [u8]),
    Comment(&'l [u8]),
    Retry(Duration),
}

/// A sans-IO, WHATWG-exact parser for `text/event-stream`.
///
/// Feed it the bytes of one response body in chunks of any size, and take [`Step`]s out:
/// [`poll`](Self::poll) consumes from the caller's slice until it has something to report
/// and returns it, or returns [`Step::NeedData`] once the slice is used up. The parser keeps
/// only an unfinished line and the event being built, both bounded by [`ParserConfig`], so
/// memory stays bounded however the input is chunked. Any chunking of the same bytes gives
/// the same steps. Empty chunks are harmless and never mean end of stream: call
/// [`finish`](Self::finish) for that.
///
/// Events own their fields (`Bytes`-backed, `Send + 'static`), so they outlive the input.
///
/// # Example
///
/// ```
/// use sse_proto::{Parser, Step};
///
/// let chunks: [&[u8]; 3] = [b"event: greet\nid: 1\nda", b"ta: hello\r", b"\n\r\n: ping\n\n"];
/// let mut parser = Parser::new();
/// let mut events = Vec::new();
/// for chunk in chunks {
///     let mut input = chunk;
///     loop {
///         match parser.poll(&mut input) {
///             Ok(Step::Event(event)) => events.push(event),
///             Ok(Step::NeedData) => break,
///             Ok(_) => {}          // retry, comment
///             Err(error) => eprintln!("skipped: {error}"),
///         }
///     }
/// }
/// parser.finish();
/// assert_eq!(events.len(), 1);
/// assert_eq!(events[0].event_type(), "greet");
/// assert_eq!(events[0].data(), "hello");
/// assert_eq!(parser.last_event_id(), "1");
/// ```
#[derive(Clone, Debug)]
pub struct Parser {
    lines: LineSplitter,
    fields: EventBuffers,
    /// Set by [`finish`](Self::finish), cleared by [`reset`](Self::reset): every poll returns
    /// `End` in between. While set, `lines` and `fields` hold no line or event (both were
    /// cleared by `finish`).
    finished: bool,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl Parser {
    /// A parser with [`ParserConfig::default`].
    ///
    /// # Example
    ///
    /// ```
    /// let parser = sse_proto::Parser::new();
    /// assert_eq!(parser.last_event_id(), "");
    /// ```
    pub fn new() -> Self {
        Parser::with_config(ParserConfig::default())
    }

    /// A parser with the given limits and options.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Parser, ParserConfig};
    ///
    /// let mut config = ParserConfig::default();
    /// config.max_line_len = 64 * 1024;
    /// let parser = Parser::with_config(config);
    /// assert_eq!(parser.config().max_line_len, 64 * 1024);
    /// ```
    pub fn with_config(config: ParserConfig) -> Self {
        Parser {
            lines: LineSplitter::new(config.max_line_len),
            fields: EventBuffers::new(config),
            finished: false,
        }
    }

    /// The configuration in use.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(!sse_proto::Parser::new().config().emit_comments);
    /// ```
    pub fn config(&self) -> &ParserConfig {
        &self.fields.config
    }

    /// Consumes bytes from the front of `input` until there is something to report.
    ///
    /// Returns [`Step::NeedData`] once `input` is empty (it is then always empty: the
    /// unfinished line is kept inside the parser), [`Step::End`] after
    /// [`finish`](Self::finish) (leaving `input` untouched), or the next event, retry or
    /// comment, with `input` advanced past the bytes it came from. Call it again until it
    /// says `NeedData`.
    ///
    /// # Errors
    ///
    /// Only the limits of [`ParserConfig`]: [`ParseError::LineTooLong`] and
    /// [`ParseError::EventTooLarge`]. The oversized event is dropped and the parser carries
    /// on: keep polling.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Parser, Step};
    ///
    /// let mut parser = Parser::new();
    /// let mut input: &[u8] = b"data: a\n\ndata: b";
    /// assert!(matches!(parser.poll(&mut input), Ok(Step::Event(_))));
    /// assert_eq!(input, b"data: b");
    /// assert_eq!(parser.poll(&mut input), Ok(Step::NeedData));
    /// assert!(input.is_empty());
    /// ```
    #[inline]
    pub fn poll(&mut self, input: &mut &[u8]) -> Result<Step, ParseError> {
        if self.continue_line_only(input) {
            return Ok(Step::NeedData);
        }
        self.poll_slices(input)
    }

    /// [`poll`](Self::poll) past its short-input path, kept out of line so that path stays
    /// small where it is inlined.
    #[inline(never)]
    fn poll_slices(&mut self, input: &mut &[u8]) -> Result<Step, ParseError> {
        self.poll_from(input, None)
    }

    /// The short-input path of every entry point: a few bytes in the middle of a line (input
    /// that trickles in, down to a byte at a time) are taken without the parsing loop, whose
    /// set-up cost more than the work. `true`: all of `input` was taken, and there is nothing
    /// to report.
    #[inline(always)]
    fn continue_line_only(&mut self, input: &mut &[u8]) -> bool {
        if self.finished
            || self.fields.lent
            || self.fields.lent_comment.is_some()
            || !self.lines.try_continue_line(input)
        {
            return false;
        }
        *input = &[];
        true
    }

    /// Like [`poll`](Self::poll), for input that arrives as [`Bytes`] (hyper, reqwest and
    /// axum bodies do): the data of an event whose single `data:` line lies whole in one
    /// chunk is handed out as a slice of that chunk, without copying. `input` is advanced
    /// past what was consumed.
    ///
    /// # Errors
    ///
    /// As for [`poll`](Self::poll).
    ///
    /// # Example
    ///
    /// ```
    /// use bytes::Bytes;
    /// use sse_proto::{Parser, Step};
    ///
    /// let body = Bytes::from_static(b"data: a payload longer than forty bytes, shared not copied\n\n");
    /// let mut input = body.clone();
    /// let mut parser = Parser::new();
    /// match parser.poll_bytes(&mut input) {
    ///     Ok(Step::Event(event)) => {
    ///         assert_eq!(event.data(), "a payload longer than forty bytes, shared not copied");
    ///         assert_eq!(event.data().as_ptr(), body[6..].as_ptr()); // the same memory
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// assert!(input.is_empty());
    /// ```
    pub fn poll_bytes(&mut self, input: &mut Bytes) -> Result<Step, ParseError> {
        let mut rest: &[u8] = input;
        if self.continue_line_only(&mut rest) {
            input.clear();
            return Ok(Step::NeedData);
        }
        let before = rest.len();
        let step = self.poll_from(&mut rest, Some(input));
        let consumed = before - rest.len();
        input.advance(consumed);
        step
    }

    /// The parsing loop; `origin`, when given, is the `Bytes` that `input` is a view of.
    #[inline(always)]
    fn poll_from(&mut self, input: &mut &[u8], origin: Option<&Bytes>) -> Result<Step, ParseError> {
        debug_assert!(self.fields.invariants_hold());
        if self.finished {
            return Ok(Step::End);
        }
        self.fields.release_lent();
        loop {
            let (consumed, next) = self.lines.next_line(input);
            *input = &input[consumed..];
            match next {
                // "If the line is empty (a blank line): Dispatch the event." Handled here,
                // not with the other lines, so the event is built straight into the return
                // value (moving it through nested enums cost a store-forwarding stall per
                // event).
                Next::Line([], _) => {
                    if let Some(event) = self.fields.dispatch() {
                        return Ok(Step::Event(event));
                    }
                }
                Next::Line(line, known_valid) => {
                    let action = self.fields.interpret_line(line);
                    let data = matches!(action, LineAction::Data(_));
                    if let Some(found) = self.fields.act_owned(action, origin, known_valid) {
                        return found;
                    }
                    if data {
                        self.take_plain_data_lines(input);
                    }
                }
                // Never empty: it holds at least the bytes of an earlier input.
                Next::Assembled(line) => {
                    let valid = self.lines.assembled_valid();
                    let action = self.fields.interpret_line(&line);
                    if let Some(found) = self.fields.act_owned(action, Some(&line), valid) {
                        return found;
                    }
                }
                Next::TooLong { len } => return Err(self.fields.line_too_long(len)),
                Next::NeedData => return Ok(Step::NeedData),
            }
        }
    }

    /// Like [`poll`](Self::poll), but the event is lent, not given: an [`EventRef`] borrowing
    /// the input and the parser, valid until the next call. Nothing is allocated, copied or
    /// reference-counted for an event whose single `data:` line lies whole in `input`, so
    /// this is the fastest way through a stream when each event is used (forwarded,
    /// deserialized, matched) before the next is read; [`EventRef::to_event`] keeps one.
    ///
    /// Mixing it with [`poll`](Self::poll) and [`poll_bytes`](Self::poll_bytes) on one
    /// stream is allowed and gives the same events.
    ///
    /// # Errors
    ///
    /// As for [`poll`](Self::poll).
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Parser, StepRef};
    ///
    /// let mut parser = Parser::new();
    /// let mut total = 0;
    /// for chunk in [&b"id: 1\ndata: {\"n\":1}\n\nda"[..], b"ta: {\"n\":22}\n\n"] {
    ///     let mut input = chunk;
    ///     loop {
    ///         match parser.poll_ref(&mut input)? {
    ///             StepRef::Event(event) => {
    ///                 assert_eq!(event.last_event_id(), "1");
    ///                 total += event.data().len(); // borrowed from `chunk` when it can be
    ///             }
    ///             StepRef::NeedData => break,
    ///             _ => {}
    ///         }
    ///     }
    /// }
    /// assert_eq!(total, "{\"n\":1}".len() + "{\"n\":22}".len());
    /// # Ok::<(), sse_proto::ParseError>(())
    /// ```
    #[inline]
    pub fn poll_ref<'a, 'i: 'a>(
        &'a mut self,
        input: &mut &'i [u8],
    ) -> Result<StepRef<'a>, ParseError> {
        if self.continue_line_only(input) {
            return Ok(StepRef::NeedData);
        }
        self.poll_ref_loop(input)
    }

    /// [`poll_ref`](Self::poll_ref) past its short-input path.
    #[inline(never)]
    fn poll_ref_loop<'a, 'i: 'a>(
        &'a mut self,
        input: &mut &'i [u8],
    ) -> Result<StepRef<'a>, ParseError> {
        debug_assert!(self.fields.invariants_hold());
        if self.finished {
            return Ok(StepRef::End);
        }
        self.fields.release_lent();
        // The event's only data line so far, borrowed from `input` while it may stay the only
        // one. Copied into the data buffer before anything else is done with the event, and
        // before returning without it (it may not outlive this call).
        let mut first_data: Option<&'i [u8]> = None;
        loop {
            let (consumed, next) = self.lines.next_line(input);
            *input = &input[consumed..];
            match next {
                Next::Line([], _) => {
                    if self.fields.dispatch_lent() {
                        return Ok(StepRef::Event(self.fields.lent_event(first_data)));
                    }
                }
                Next::Line(line, known_valid) => match self.fields.interpret_line(line) {
                    LineAction::Nothing => {}
                    LineAction::Data(value) => {
                        if first_data.is_none()
                            && self.fields.can_borrow_first_data(value, known_valid)
                        {
                            first_data = Some(value);
                            self.fields.has_data = true;
                        } else {
                            self.fields.keep_first_data(first_data.take());
                            self.fields.append_data(value, None, known_valid)?;
                            self.take_plain_data_lines(input);
                        }
                    }
                    LineAction::Comment(text) => {
                        self.fields.keep_first_data(first_data.take());
                        if is_utf8(text) {
                            // SAFETY: just validated.
                            let text = unsafe { core::str::from_utf8_unchecked(text) };
                            return Ok(StepRef::Comment(text));
                        }
                        return Ok(StepRef::Comment(self.fields.lend_comment(text)));
                    }
                    LineAction::Retry(delay) => {
                        self.fields.keep_first_data(first_data.take());
                        return Ok(StepRef::Retry(delay));
                    }
                },
                Next::Assembled(line) => {
                    let valid = self.lines.assembled_valid();
                    self.fields.keep_first_data(first_data.take());
                    match self.fields.interpret_line(&line) {
                        LineAction::Nothing => {}
                        LineAction::Data(value) => {
                            self.fields.append_data(value, Some(&line), valid)?
                        }
                        LineAction::Comment(text) => {
                            return Ok(StepRef::Comment(self.fields.lend_comment(text)));
                        }
                        LineAction::Retry(delay) => return Ok(StepRef::Retry(delay)),
                    }
                }
                Next::TooLong { len } => {
                    // The event is dropped: what was borrowed goes with it.
                    return Err(self.fields.line_too_long(len));
                }
                Next::NeedData => {
                    self.fields.keep_first_data(first_data.take());
                    return Ok(StepRef::NeedData);
                }
            }
        }
    }

    /// After a data line was added to the event's buffer: takes the plain data lines that
    /// follow in `input` (see `LineSplitter::peek_plain_data_line`) in a tight loop, while
    /// they fit the event limit. What it leaves, the general loop reads as usual.
    #[inline(always)]
    fn take_plain_data_lines(&mut self, input: &mut &[u8]) {
        if !self.fields.can_append_plain_data() {
            return;
        }
        while let Some((value, taken)) = self.lines.peek_plain_data_line(input) {
            if !self.fields.append_plain_data(value) {
                return;
            }
            self.lines.skip_plain_line(taken);
            *input = &input[taken..];
        }
    }

    /// Iterates over the steps in `chunk`, stopping (with `None`) once it is used up; the
    /// [`Step::NeedData`] at the end is not yielded.
    ///
    /// Dropping the iterator early leaves the rest of the chunk unread; call
    /// [`Steps::remaining`] first to keep it.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Parser, Step};
    ///
    /// let mut parser = Parser::new();
    /// let mut data = Vec::new();
    /// for chunk in [&b"data: one\n\nda"[..], b"ta: two\n\n"] {
    ///     for step in parser.feed(chunk) {
    ///         if let Step::Event(event) = step? {
    ///             data.push(event.data().to_owned());
    ///         }
    ///     }
    /// }
    /// assert_eq!(data, ["one", "two"]);
    /// # Ok::<(), sse_proto::ParseError>(())
    /// ```
    pub fn feed<'p, 'c>(&'p mut self, chunk: &'c [u8]) -> Steps<'p, 'c> {
        Steps {
            parser: self,
            input: chunk,
        }
    }

    /// Ends the stream. A half-built event is discarded, never dispatched, and so is an
    /// unterminated last line (the standard's end-of-stream rule). Later polls return
    /// [`Step::End`] until [`reset`](Self::reset).
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Parser, Step};
    ///
    /// let mut parser = Parser::new();
    /// let mut input: &[u8] = b"data: never dispatched\n";
    /// assert_eq!(parser.poll(&mut input), Ok(Step::NeedData));
    /// parser.finish();
    /// assert_eq!(parser.poll(&mut input), Ok(Step::End));
    /// ```
    pub fn finish(&mut self) {
        self.finished = true;
        self.lines.reset();
        self.fields.discard_event();
    }

    /// Prepares for a new stream (a reconnection): the buffers are cleared and a BOM is
    /// allowed again; the configuration and the last event ID are kept, because the last
    /// event ID belongs to the event source, not to one response (browsers carry it across
    /// reconnections too).
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Parser, Step};
    ///
    /// let mut parser = Parser::new();
    /// let mut input: &[u8] = b"id: 7\ndata: a\n\n";
    /// while parser.poll(&mut input) != Ok(Step::NeedData) {}
    /// parser.finish();
    /// parser.reset();
    /// let mut input: &[u8] = b"\xEF\xBB\xBFdata: b\n\n";
    /// match parser.poll(&mut input) {
    ///     Ok(Step::Event(event)) => assert_eq!((event.data(), event.last_event_id()), ("b", "7")),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn reset(&mut self) {
        self.finished = false;
        self.lines.reset();
        self.fields.discard_event();
    }

    /// The last event ID string: what a client sends as `Last-Event-ID` when it reconnects.
    /// Set at each dispatch point from the last `id:` field (even when no event is
    /// dispatched), kept until the server changes it, `""` when never set or reset.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Parser, Step};
    ///
    /// let mut parser = Parser::new();
    /// let mut input: &[u8] = b"id: 41\n\n";
    /// assert_eq!(parser.poll(&mut input), Ok(Step::NeedData));
    /// assert_eq!(parser.last_event_id(), "41");
    /// ```
    pub fn last_event_id(&self) -> &str {
        self.fields.last_event_id.as_ref().map_or("", Text::as_str)
    }

    /// Sets the last event ID string, as if a stream had just dispatched an `id:` field with
    /// this value: a client restarted by a process that saved its last event ID resumes where
    /// it left off. An `id:` line read but not yet dispatched is forgotten. `""` means no
    /// last event ID (events then report `id() == None` until the server sends one).
    ///
    /// # Errors
    ///
    /// The value must be one an `id:` field could carry: [`EncodeError::LineBreak`] for CR or
    /// LF, [`EncodeError::NulInId`] for U+0000. The parser is then unchanged.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Parser, Step};
    ///
    /// let mut parser = Parser::new();
    /// parser.set_last_event_id("saved-41")?;
    /// let mut input: &[u8] = b"data: next\n\n";
    /// match parser.poll(&mut input) {
    ///     Ok(Step::Event(event)) => assert_eq!(event.id(), Some("saved-41")),
    ///     other => panic!("{other:?}"),
    /// }
    /// assert_eq!(parser.last_event_id(), "saved-41");
    /// assert!(parser.set_last_event_id("a\nb").is_err());
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn set_last_event_id(&mut self, id: &str) -> Result<(), EncodeError> {
        crate::event::check_id(id.as_bytes())?;
        self.fields.seed_last_event_id(id.as_bytes());
        Ok(())
    }

    /// Bytes held for an unfinished line and the event being built. Never more than
    /// [`ParserConfig::max_line_len`] plus [`ParserConfig::max_event_len`].
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Parser, Step};
    ///
    /// let mut parser = Parser::new();
    /// let mut input: &[u8] = b"data: abc\ndata: par";
    /// assert_eq!(parser.poll(&mut input), Ok(Step::NeedData));
    /// assert_eq!(parser.buffered_len(), "abc".len() + "data: par".len());
    /// ```
    pub fn buffered_len(&self) -> usize {
        // What was lent is released at the next call, and no longer part of any event.
        let event = if self.fields.lent {
            0
        } else {
            self.fields.data_len()
        };
        self.lines.buffered_len() + event
    }

    /// Bytes allocated for the buffers counted by [`buffered_len`](Self::buffered_len).
    /// Exposed for the memory-bound tests and fuzz targets, not a stable API.
    #[doc(hidden)]
    pub fn allocated_len(&self) -> usize {
        self.lines.allocated_len() + self.fields.data.capacity()
    }

    /// Bytes scanned plus bytes copied by the line splitter since creation. Exposed for the
    /// linear-time tests, not a stable API.
    #[doc(hidden)]
    pub fn work(&self) -> u64 {
        self.lines.work()
    }
}

/// The iterator returned by [`Parser::feed`].
///
/// # Example
///
/// ```
/// let mut parser = sse_proto::Parser::new();
/// let mut steps = parser.feed(b"data: x\n\ndata: y\n\n");
/// assert!(steps.next().is_some());
/// assert_eq!(steps.remaining(), b"data: y\n\n");
/// ```
#[derive(Debug)]
#[must_use = "the steps are only parsed as the iterator is advanced"]
pub struct Steps<'p, 'c> {
    parser: &'p mut Parser,
    input: &'c [u8],
}

impl<'c> Steps<'_, 'c> {
    /// The part of the chunk not parsed yet.
    ///
    /// # Example
    ///
    /// ```
    /// let mut parser = sse_proto::Parser::new();
    /// let steps = parser.feed(b"data: x\n\n");
    /// assert_eq!(steps.remaining().len(), 9);
    /// ```
    pub fn remaining(&self) -> &'c [u8] {
        self.input
    }

    /// The next step lent, as [`Parser::poll_ref`] gives it: what [`next`](Iterator::next)
    /// yields, without copying the event out. The step borrows the iterator until the next
    /// call; `None` once the chunk is used up.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::StepRef;
    ///
    /// let mut parser = sse_proto::Parser::new();
    /// let mut steps = parser.feed(b"data: a\n\nretry: 10\ndata: b\n\n");
    /// let mut data = Vec::new();
    /// while let Some(step) = steps.next_ref() {
    ///     if let StepRef::Event(event) = step? {
    ///         data.push(event.data().to_owned());
    ///     }
    /// }
    /// assert_eq!(data, ["a", "b"]);
    /// # Ok::<(), sse_proto::ParseError>(())
    /// ```
    pub fn next_ref(&mut self) -> Option<Result<StepRef<'_>, ParseError>> {
        match self.parser.poll_ref(&mut self.input) {
            Ok(StepRef::NeedData) | Ok(StepRef::End) => None,
            other => Some(other),
        }
    }
}

impl Iterator for Steps<'_, '_> {
    type Item = Result<Step, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.parser.poll(&mut self.input) {
            Ok(Step::NeedData) | Ok(Step::End) => None,
            other => Some(other),
        }
    }
}

/// The buffers of "Interpreting an event stream": data, event type, last event ID.
///
/// The event being built is in one of five modes, told apart by `has_data`, `data_slice`,
/// `dropping_event` and `lent` (`invariants_hold` checks the rules below):
///
/// | mode | `has_data` | `data` | `data_slice` | `dropping_event` | `lent` |
/// | --- | --- | --- | --- | --- | --- |
/// | no data yet (a type or id may be set) | no | empty | `None` | no | no |
/// | data in the buffer (maybe one empty line) | yes | any | `None` | no | no |
/// | one data line kept as a slice of the caller's `Bytes` | yes | empty | `Some` | no | no |
/// | over a limit: skipped until its blank line | no | empty | `None` | yes | no |
/// | just lent by `poll_ref`, until the next poll starts | no | the lent data | the lent data | no | yes |
///
/// The lending loop adds one more, in a local: its `first_data` borrowed from the input,
/// counted in `has_data` with `data` still empty. Apart from the event: `lent_comment` is
/// `Some` only from a `poll_ref` that lent a stored comment to the next poll; `id_changed` is
/// false only when `id_buffer` equals `last_event_id`.
#[derive(Clone, Debug)]
struct EventBuffers {
    config: ParserConfig,
    /// The data buffer, without the trailing LF the standard appends (it is removed at
    /// dispatch anyway); `has_data` tells "no data field" apart from "one empty one".
    /// Empty whenever `has_data` is false, but for a lent event's data.
    data: BytesMut,
    /// The event's only data line so far, when it could be kept as a slice of the caller's
    /// `Bytes` instead of copied into `data` (see [`Parser::poll_bytes`]).
    data_slice: Option<Bytes>,
    has_data: bool,
    event_type: Option<Text>,
    /// The last event ID buffer: `None` until an `id:` field is seen.
    id_buffer: Option<Text>,
    /// Set when `id_buffer` changed since the last dispatch point; while clear, `id_buffer`
    /// equals `last_event_id`, so the dispatch point has nothing to copy.
    id_changed: bool,
    /// The last event ID string, copied from the buffer at each dispatch point.
    last_event_id: Option<Text>,
    /// The event in progress went over a limit: skip its data and type until its empty line.
    /// Never with `has_data`: dropping cleared the data.
    dropping_event: bool,
    /// Storage for ids, types and comments, cut off as `Bytes`.
    small_fields: BytesMut,
    /// An event was lent by [`Parser::poll_ref`]: the data and type buffers still hold it,
    /// to be cleared when the next poll starts (`release_lent`); `has_data` is already false.
    /// While set (or `lent_comment` is), a poll must release it before reading, which is
    /// why `Parser::continue_line_only` steps aside.
    lent: bool,
    /// A lent comment that could not be borrowed from the input.
    lent_comment: Option<Utf8Bytes>,
}

impl EventBuffers {
    fn new(config: ParserConfig) -> Self {
        EventBuffers {
            config,
            data: BytesMut::new(),
            data_slice: None,
            has_data: false,
            event_type: None,
            id_buffer: None,
            id_changed: false,
            last_event_id: None,
            dropping_event: false,
            small_fields: BytesMut::new(),
            lent: false,
            lent_comment: None,
        }
    }

    /// The rules listed at [`EventBuffers`], as they stand between two polls.
    fn invariants_hold(&self) -> bool {
        let no_data = self.data.is_empty() && self.data_slice.is_none();
        let mode = if self.lent {
            !self.has_data && !self.dropping_event
        } else if self.dropping_event {
            !self.has_data && no_data
        } else if !self.has_data {
            no_data
        } else {
            self.data_slice.is_none() || self.data.is_empty()
        };
        mode && (self.id_changed || self.id_buffer == self.last_event_id)
    }

    /// Forgets what the last [`Parser::poll_ref`] lent, which its borrow has ended.
    #[inline(always)]
    fn release_lent(&mut self) {
        if self.lent {
            self.lent = false;
            self.data.clear();
            self.data_slice = None;
            self.event_type = None;
        }
        if self.lent_comment.is_some() {
            self.lent_comment = None;
        }
    }

    /// End of stream or reconnection: "any pending data must be discarded". The last event
    /// ID string persists; the ID buffer starts from it (what Chromium does), so a new
    /// stream whose events carry no id keeps the old one.
    fn discard_event(&mut self) {
        self.release_lent();
        self.data.clear();
        self.data_slice = None;
        self.has_data = false;
        self.event_type = None;
        self.dropping_event = false;
        self.id_buffer = self.last_event_id.clone();
        self.id_changed = false;
    }

    /// [`Parser::set_last_event_id`]: the string and the buffer both take the value.
    fn seed_last_event_id(&mut self, id: &[u8]) {
        self.last_event_id = if id.is_empty() {
            None
        } else {
            Some(self.field_text(id))
        };
        self.id_buffer = self.last_event_id.clone();
        self.id_changed = false;
    }

    fn line_too_long(&mut self, len: usize) -> ParseError {
        self.drop_event();
        ParseError::LineTooLong {
            len,
            limit: self.config.max_line_len,
        }
    }

    fn drop_event(&mut self) {
        self.data.clear();
        self.data_slice = None;
        self.has_data = false;
        self.event_type = None;
        self.dropping_event = true;
    }

    /// One non-empty line, per "Interpreting an event stream". The fields whose handling
    /// depends on how events are handed out (data and comments) are returned to the loop.
    /// Always inlined: a value returned through memory cost more than the work here.
    #[inline(always)]
    fn interpret_line<'l>(&mut self, line: &'l [u8]) -> LineAction<'l> {
        debug_assert!(!line.is_empty(), "blank lines dispatch in the poll loop");
        // "If the line starts with a U+003A COLON character (:): Ignore the line."
        if line[0] == b':' {
            if !self.config.emit_comments {
                return LineAction::Nothing;
            }
            return LineAction::Comment(strip_one_space(&line[1..]));
        }
        // "If the line contains a U+003A COLON character: field name = before the first
        // colon, value = after it, minus one leading U+0020 SPACE. Otherwise the whole line
        // is the field name and the value is empty."
        // The field nearly every event has, recognised without searching for the colon.
        if let Some(value) = line.strip_prefix(b"data:") {
            return LineAction::Data(strip_one_space(value));
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(colon) => (&line[..colon], strip_one_space(&line[colon + 1..])),
            None => (line, &b""[..]),
        };
        match name {
            b"data" => return LineAction::Data(value),
            b"event" if !self.dropping_event => {
                self.event_type = self.event_type_value(value);
            }
            // "If the field value does not contain U+0000 NULL, then set the last event ID
            // buffer to the field value. Otherwise, ignore the field."
            b"id" if memchr::memchr(0, value).is_none() => self.set_id_buffer(value),
            // "If the field value consists of only ASCII digits, then interpret the field
            // value as an integer in base ten, and set the event stream's reconnection time
            // to that integer. Otherwise, ignore the field." Too many digits for u64
            // milliseconds: ignored as well (docs/conformance.md).
            b"retry" => {
                if let Some(ms) = parse_retry(value) {
                    return LineAction::Retry(Duration::from_millis(ms));
                }
            }
            // "Otherwise: The field is ignored."
            _ => {}
        }
        LineAction::Nothing
    }

    /// The owned loop's handling of a [`LineAction`] (`known_valid`: the line is known to be
    /// valid UTF-8). `None`: nothing to report yet.
    #[inline(always)]
    fn act_owned(
        &mut self,
        action: LineAction<'_>,
        origin: Option<&Bytes>,
        known_valid: bool,
    ) -> Option<Result<Step, ParseError>> {
        match action {
            LineAction::Nothing => None,
            LineAction::Data(value) => self.append_data(value, origin, known_valid).err().map(Err),
            LineAction::Comment(text) => Some(Ok(Step::Comment(self.small_field(text)))),
            LineAction::Retry(delay) => Some(Ok(Step::Retry(delay))),
        }
    }

    /// Whether [`append_plain_data`](Self::append_plain_data) may be used: the event has data,
    /// all of it in the buffer, and is not being dropped.
    #[inline(always)]
    fn can_append_plain_data(&self) -> bool {
        self.has_data && !self.dropping_event && self.data_slice.is_none()
    }

    /// Appends one more data value, ASCII, to an event that
    /// [`can_append_plain_data`](Self::can_append_plain_data); `false` (and nothing done) when
    /// it would pass the event limit, for the general path to report.
    #[inline(always)]
    fn append_plain_data(&mut self, value: &[u8]) -> bool {
        let added = 1 + value.len();
        if self.data.len() + added > self.config.max_event_len {
            return false;
        }
        self.reserve_data(added);
        append_reserved(&mut self.data, true, value);
        true
    }

    /// Whether `value`, a data line, can be the event's data as it lies in the input: it is
    /// the first, valid UTF-8 (known to be when `known_valid`), and within the event limit.
    #[inline(always)]
    fn can_borrow_first_data(&self, value: &[u8], known_valid: bool) -> bool {
        !self.has_data
            && !self.dropping_event
            && value.len() <= self.config.max_event_len
            && (known_valid || is_utf8(value))
    }

    /// Copies a borrowed first data line into the data buffer (it was counted in `has_data`
    /// when borrowed), because the event needs more or outlives the call.
    #[inline(always)]
    fn keep_first_data(&mut self, first_data: Option<&[u8]>) {
        if let Some(value) = first_data {
            self.reserve_data(value.len());
            append_reserved(&mut self.data, false, value);
        }
    }

    /// Stores a comment to lend (made valid UTF-8, lossily) and borrows it.
    fn lend_comment(&mut self, text: &[u8]) -> &str {
        let comment = self.small_field(text);
        self.lent_comment.insert(comment).as_str()
    }

    /// Steps 1 and 2 of "Dispatch the event", common to both ways of handing events out:
    /// `true` when there is an event, whose data and type are still in the buffers.
    #[inline(always)]
    fn dispatch_point(&mut self) -> bool {
        // 1. "Set the last event ID string of the event source to the value of the last
        //    event ID buffer." (Even when nothing is dispatched.)
        if self.id_changed {
            self.id_changed = false;
            self.last_event_id = self.id_buffer.clone();
        }
        // 2. "If the data buffer is an empty string, set the data buffer and the event type
        //    buffer to the empty string and return." An oversized event ends here too.
        if !self.has_data {
            self.event_type = None;
            self.dropping_event = false;
            return false;
        }
        // 3-5. The trailing LF was never written; the type defaults to "message" in
        //    `event_type()`; the buffers are cleared (by the caller), the ID buffer is kept.
        self.has_data = false;
        true
    }

    /// "Dispatch the event" for [`Parser::poll_ref`]: `true` when there is an event to lend,
    /// which [`lent_event`](Self::lent_event) then builds from the buffers as they are.
    #[inline(always)]
    fn dispatch_lent(&mut self) -> bool {
        let found = self.dispatch_point();
        self.lent = found;
        found
    }

    /// The event [`dispatch_lent`](Self::dispatch_lent) found, with `first_data` as its data
    /// when the data line was borrowed from the input.
    #[inline(always)]
    fn lent_event<'a>(&'a self, first_data: Option<&'a [u8]>) -> EventRef<'a> {
        let data = match (first_data, &self.data_slice) {
            (Some(borrowed), _) => borrowed,
            (None, Some(slice)) => slice,
            (None, None) => &self.data,
        };
        // SAFETY: a borrowed line was validated when it was kept; the slice and the buffer
        // only ever receive valid UTF-8 (invalid input is replaced with U+FFFD on the way in).
        let data = unsafe { core::str::from_utf8_unchecked(data) };
        EventRef::from_parsed(
            self.event_type.as_ref().map(Text::as_str),
            data,
            self.last_event_id.as_ref().map(Text::as_str),
        )
    }

    /// "Append the field value to the data buffer, then append a single U+000A LINE FEED
    /// (LF) character to the data buffer." The LF is written before the next value instead.
    /// Returns only the error, if any: a small value (returning the caller's large
    /// `Option<Result<Step, _>>` from here cost a memset of it per line).
    /// `known_valid`: the value is known to be valid UTF-8 (the line scan saw it).
    fn append_data(
        &mut self,
        value: &[u8],
        origin: Option<&Bytes>,
        known_valid: bool,
    ) -> Result<(), ParseError> {
        if self.dropping_event {
            return Ok(());
        }
        let valid = known_valid || is_utf8(value);
        let value_len = if valid {
            value.len()
        } else {
            utf8_lossy_len(value)
        };
        let separator = usize::from(self.has_data);
        let new_len = self.data_len() + separator + value_len;
        if new_len > self.config.max_event_len {
            self.drop_event();
            return Err(ParseError::EventTooLarge {
                len: new_len,
                limit: self.config.max_event_len,
            });
        }
        // The event's first data line, valid, too long to be stored inline, and lying whole in
        // the caller's `Bytes`: keep a slice of it rather than a copy.
        if !self.has_data && valid && value.len() > INLINE_CAPACITY {
            if let Some(origin) = origin.filter(|origin| contains(origin, value)) {
                self.data_slice = Some(origin.slice_ref(value));
                self.has_data = true;
                return Ok(());
            }
        }
        // A second data line: what was kept as a slice joins the buffer first.
        if let Some(first) = self.data_slice.take() {
            self.reserve_data(first.len());
            append_reserved(&mut self.data, false, &first);
        }
        self.reserve_data(separator + value_len);
        if valid {
            append_reserved(&mut self.data, self.has_data, value);
        } else {
            if self.has_data {
                self.data.put_u8(b'\n');
            }
            push_utf8_lossy(&mut self.data, value);
        }
        self.has_data = true;
        Ok(())
    }

    /// Bytes of data held for the event being built.
    fn data_len(&self) -> usize {
        self.data.len() + self.data_slice.as_ref().map_or(0, Bytes::len)
    }

    /// Grows the data buffer in large steps (so small events share one allocation, reused
    /// once the caller drops them) but never past the event limit.
    #[inline(always)]
    fn reserve_data(&mut self, additional: usize) {
        if self.data.capacity() - self.data.len() < additional {
            self.grow_data(additional);
        }
    }

    #[cold]
    fn grow_data(&mut self, additional: usize) {
        let needed = self.data.len() + additional;
        let wanted = needed
            .max(self.data.len().saturating_mul(2))
            .max(ARENA_CHUNK)
            .min(self.config.max_event_len)
            .max(needed);
        // Reuse the allocation when every event cut from it has been dropped. Otherwise
        // allocate exactly `wanted`: `BytesMut::reserve` may double the whole allocation,
        // which would let the buffer's capacity pass the event limit.
        if self.data.try_reclaim(wanted - self.data.len()) {
            return;
        }
        let mut grown = BytesMut::with_capacity(wanted);
        grown.put_slice(&self.data);
        self.data = grown;
    }

    fn event_type_value(&mut self, value: &[u8]) -> Option<Text> {
        if value.is_empty() {
            return None;
        }
        Some(self.field_text(value))
    }

    fn set_id_buffer(&mut self, value: &[u8]) {
        if let Some(current) = &self.id_buffer {
            // Compare lengths first: an empty comparison is slow on this machine's glibc.
            let current = current.as_str().as_bytes();
            if current.len() == value.len() && (value.is_empty() || current == value) {
                return;
            }
        }
        self.id_buffer = Some(self.field_text(value));
        self.id_changed = true;
    }

    /// A type or id value: inline when short (no allocation, and copies of it, one per
    /// dispatched event for the id, cost no atomic operation), else cut from shared storage.
    fn field_text(&mut self, value: &[u8]) -> Text {
        if is_utf8(value) {
            if let Some(text) = Text::inline(value) {
                return text;
            }
        }
        Text::Shared(self.small_field(value))
    }

    /// Copies a short field value into shared storage and cuts it off as `Utf8Bytes`.
    fn small_field(&mut self, value: &[u8]) -> Utf8Bytes {
        if self.small_fields.capacity() < value.len() + 3 {
            self.small_fields.reserve((value.len() + 3).max(512));
        }
        if is_utf8(value) {
            self.small_fields.put_slice(value);
        } else {
            push_utf8_lossy(&mut self.small_fields, value);
        }
        Utf8Bytes::from_validated(self.small_fields.split().freeze())
    }

    /// "Dispatch the event", at an empty line.
    fn dispatch(&mut self) -> Option<Event> {
        if !self.dispatch_point() {
            return None;
        }
        // Short data is copied out and the buffer reused in place; longer data is cut off
        // without copying (one atomic operation now, one when the caller drops it).
        let data = if let Some(slice) = self.data_slice.take() {
            // Validated when it was kept.
            Text::Shared(Utf8Bytes::from_validated(slice))
        } else {
            match Text::inline(&self.data) {
                Some(inline) => {
                    self.data.clear();
                    inline
                }
                None => Text::Shared(Utf8Bytes::from_validated(self.data.split().freeze())),
            }
        };
        Some(Event::from_parsed(
            self.event_type.take(),
            data,
            self.last_event_id.clone(),
        ))
    }
}

/// Whether `part` lies inside `whole`'s memory (so `whole.slice_ref(part)` is allowed).
fn contains(whole: &Bytes, part: &[u8]) -> bool {
    let start = whole.as_ptr() as usize;
    let at = part.as_ptr() as usize;
    at >= start && at + part.len() <= start + whole.len()
}

/// Digits only, non-empty, and within `u64` milliseconds.
fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    let mut ms: u64 = 0;
    for &byte in value {
        if !byte.is_ascii_digit() {
            return None;
        }
        ms = ms.checked_mul(10)?.checked_add(u64::from(byte - b'0'))?;
    }
    Some(ms)
}
