//! Events and control messages to wire bytes, in the event stream format of the WHATWG HTML
//! standard (<https://html.spec.whatwg.org/multipage/server-sent-events.html>).
//!
//! # How to change this safely
//!
//! Three things must always agree: the length functions (`*_len`), the writers (the `Item`
//! impls) and the upper bound used to skip the exact length scan. `tests/roundtrip.rs` checks
//! that `encoded_len` equals the bytes written for arbitrary events, through both writing
//! paths, and that the parser reads back what was encoded; the `roundtrip` fuzz target does
//! the same for every kind of message.
//!
//! Writers go through a `Sink`: the caller's `BufMut` piece by piece, or, when its spare
//! capacity is contiguous and large enough, that capacity directly (a bounds-checked copy per
//! piece and one `advance_mut` at the end: the only `unsafe` here, sound because `Direct`
//! writes contiguously from the start of `chunk_mut()`).
//!
//! The wire form chosen here:
//!
//! - every line is `name: value\n`, always with the space, even before an empty value
//!   (`data: ` parses to the empty value). A value that starts with a space keeps it: the
//!   parser strips exactly one. The uniform form also makes the length of a text a function
//!   of its size and its line-break counts alone (see `lines_len`);
//! - data and comments are split at CR, LF and CRLF into one line each, so a trailing line
//!   break gives a last empty line;
//! - every message ends with an empty line, so messages can be concatenated in any order and
//!   never merge with the next one;
//! - an event is written `event:`, `id:`, `retry:`, then its `data:` lines. The order inside a
//!   block does not change what a receiver dispatches, but `retry:` goes before the data on
//!   purpose: a receiver applies it as soon as it reads the line, even when the connection
//!   breaks in the middle of a long data and the event is lost, and that reconnection is the
//!   one the retry is for. `event:` and `id:` stay first so the id's offset in a frame does
//!   not depend on the retry.

use bytes::buf::UninitSlice;
use bytes::BufMut;
use core::time::Duration;

use crate::error::EncodeError;
use crate::event::{check_id, Event};
use crate::utf8::Utf8Bytes;

/// The static parts of one kind of line: its prefix, and the line end plus the prefix of the
/// next line of the same kind (so a multi-line value costs two copies per line).
struct LineKind {
    prefix: &'static [u8],
    next: &'static [u8],
}

const EVENT_PREFIX: &[u8] = b"event: ";
const ID_PREFIX: &[u8] = b"id: ";
const RETRY_PREFIX: &[u8] = b"retry: ";
const DATA: LineKind = LineKind {
    prefix: b"data: ",
    next: b"\ndata: ",
};
const COMMENT: LineKind = LineKind {
    prefix: b": ",
    next: b"\n: ",
};

/// Where the writers put bytes.
trait Sink {
    fn put(&mut self, src: &[u8]);
}

/// The caller's buffer, one [`BufMut::put_slice`] per piece (it may grow the buffer).
struct Put<'a, B: ?Sized>(&'a mut B);

impl<B: BufMut + ?Sized> Sink for Put<'_, B> {
    #[inline(always)]
    fn put(&mut self, src: &[u8]) {
        self.0.put_slice(src);
    }
}

/// The spare room of the caller's buffer, known to be contiguous and large enough: plain
/// copies, and a single `advance_mut` at the end. Saves a call and a capacity check per piece.
struct Direct<'a> {
    room: &'a mut UninitSlice,
    len: usize,
}

impl Sink for Direct<'_> {
    #[inline(always)]
    fn put(&mut self, src: &[u8]) {
        let end = self.len + src.len();
        // Bounds-checked: a length bug would panic here, never write past the room.
        self.room[self.len..end].copy_from_slice(src);
        self.len = end;
    }
}

/// Something the encoder writes: it writes itself into a sink and returns its length.
trait Item {
    fn write<S: Sink>(&self, sink: &mut S) -> usize;
}

/// Checks the room in `dst` and writes `item` into it; returns the bytes written.
///
/// `bound` is a cheap upper bound of the item's length and `exact` computes the exact length;
/// `exact` runs only when the bound does not settle the question. A growable destination
/// reports (nearly) unlimited room, so the common case scans the data once, while writing.
#[inline]
fn emit<B: BufMut + ?Sized, I: Item>(
    item: &I,
    dst: &mut B,
    bound: usize,
    exact: impl Fn() -> usize,
) -> Result<usize, EncodeError> {
    let available = dst.remaining_mut();
    let mut required = None;
    if available < bound {
        let len = exact();
        if available < len {
            return Err(EncodeError::BufferTooSmall {
                required: len,
                available,
            });
        }
        required = Some(len);
    }
    // There is room: write straight into the spare capacity when it is contiguous and large
    // enough (a reused or pre-reserved buffer, a slice), else piece by piece.
    let room = dst.chunk_mut();
    if room.len() >= bound || room.len() >= required.unwrap_or_else(&exact) {
        let mut direct = Direct { room, len: 0 };
        let len = item.write(&mut direct);
        debug_assert_eq!(len, direct.len);
        let written = direct.len;
        // SAFETY: `Direct` initialised the first `written` bytes of `chunk_mut()`, in order
        // from its start, and the buffer was not touched in between.
        unsafe { dst.advance_mut(written) };
        Ok(written)
    } else {
        Ok(item.write(&mut Put(dst)))
    }
}

/// Bytes of one line `prefix value\n` (`value` has no line break).
#[inline(always)]
fn line_len(prefix: &[u8], value: &[u8]) -> usize {
    prefix.len() + value.len() + 1
}

/// Writes one line `prefix value\n` (`value` has no line break); returns its length.
#[inline(always)]
fn put_line<S: Sink>(sink: &mut S, prefix: &[u8], value: &[u8]) -> usize {
    sink.put(prefix);
    sink.put(value);
    sink.put(b"\n");
    line_len(prefix, value)
}

/// Calls `f` with each line of `text`, split at CR, LF and CRLF (the line breaks of
/// "Parsing an event stream"). A text ending in a line break has an empty last line, and the
/// empty text is one empty line.
#[inline(always)]
fn for_each_line<'a>(text: &'a [u8], mut f: impl FnMut(&'a [u8])) {
    let mut start = 0;
    for pos in memchr::memchr2_iter(b'\r', b'\n', text) {
        if pos < start {
            // The LF of a CRLF whose CR already ended the line.
            continue;
        }
        f(&text[start..pos]);
        start = pos + 1;
        if text[pos] == b'\r' && text.get(start) == Some(&b'\n') {
            start += 1;
        }
    }
    f(&text[start..]);
}

/// The line breaks in `text` (CRLF counting as one) and the bytes they take.
#[inline]
fn line_breaks(text: &[u8]) -> (usize, usize) {
    // Most texts (JSON, single lines) have none: one `memchr2` settles it.
    let Some(first) = memchr::memchr2(b'\r', b'\n', text) else {
        return (0, 0);
    };
    // Counting is cheaper than finding each break when lines are short: this loop has no
    // branch, and its byte-wide counters (flushed every 255 bytes) vectorise.
    let (mut bytes, mut crlf) = (0, 0);
    let mut after_cr = 0u8;
    for chunk in text[first..].chunks(255) {
        let (mut n, mut pairs) = (0u8, 0u8);
        for &b in chunk {
            let (cr, lf) = (u8::from(b == b'\r'), u8::from(b == b'\n'));
            n += cr | lf;
            pairs += after_cr & lf;
            after_cr = cr;
        }
        bytes += usize::from(n);
        crlf += usize::from(pairs);
    }
    (bytes - crlf, bytes)
}

/// Exact bytes of `text` written as one line of `kind` per line of text, the last line
/// included with its line end.
#[inline]
fn lines_len(kind: &LineKind, text: &[u8]) -> usize {
    let (breaks, break_bytes) = line_breaks(text);
    (breaks + 1) * (kind.prefix.len() + 1) + text.len() - break_bytes
}

/// Writes `text` as one line of `kind` per line of text, without the last line end; returns
/// the bytes written plus one (the line end the caller writes).
#[inline]
fn put_lines<S: Sink>(sink: &mut S, kind: &LineKind, text: &[u8]) -> usize {
    sink.put(kind.prefix);
    let mut len = kind.prefix.len() + 1;
    let mut first = true;
    for_each_line(text, |line| {
        if !first {
            sink.put(kind.next);
            len += kind.next.len();
        }
        first = false;
        sink.put(line);
        len += line.len();
    });
    len
}

/// An upper bound of `lines_len(kind, text)` computed without scanning: each of the at most
/// `text.len() + 1` lines costs its prefix and terminator, and the values add up to at most
/// `text.len()` bytes.
#[inline]
fn lines_len_bound(kind: &LineKind, text: &[u8]) -> usize {
    (text.len() + 1)
        .saturating_mul(kind.prefix.len() + 1)
        .saturating_add(text.len())
}

/// The fields of an event that reach the wire, borrowed from an [`Event`] or an
/// [`EventRef`](crate::EventRef). Both guarantee what the writers rely on: no line break in
/// the type or the id, no NUL in the id, and `event` is `None` rather than empty.
#[derive(Clone, Copy)]
pub(crate) struct EventFields<'a> {
    pub(crate) event: Option<&'a str>,
    pub(crate) data: &'a str,
    pub(crate) id: Option<&'a str>,
    pub(crate) retry: Option<Duration>,
}

impl<'a> From<&'a Event> for EventFields<'a> {
    #[inline(always)]
    fn from(event: &'a Event) -> Self {
        EventFields {
            event: event.event(),
            data: event.data(),
            id: event.id(),
            retry: event.retry(),
        }
    }
}

/// Offset and length of the id value inside the encoding of `event`, if it has an id.
pub(crate) fn event_id_range(event: EventFields<'_>) -> Option<(usize, usize)> {
    let id = event.id?;
    let start = match event.event {
        Some(event_type) => line_len(EVENT_PREFIX, event_type.as_bytes()),
        None => 0,
    };
    Some((start + ID_PREFIX.len(), id.len()))
}

/// An event to write, its retry digits (if any) formatted once for both the length and the
/// writer.
struct EventItem<'a> {
    fields: EventFields<'a>,
    retry: Option<Millis>,
}

impl<'a> EventItem<'a> {
    #[inline(always)]
    fn new(fields: EventFields<'a>) -> Self {
        EventItem {
            fields,
            retry: fields.retry.map(Millis::new),
        }
    }

    /// Bytes outside the data lines: the `event:`, `id:` and `retry:` lines and the final
    /// empty line.
    #[inline]
    fn fixed_len(&self) -> usize {
        let mut len = 1;
        if let Some(event_type) = self.fields.event {
            len += line_len(EVENT_PREFIX, event_type.as_bytes());
        }
        if let Some(id) = self.fields.id {
            len += line_len(ID_PREFIX, id.as_bytes());
        }
        if let Some(retry) = &self.retry {
            len += line_len(RETRY_PREFIX, retry.as_bytes());
        }
        len
    }
}

impl Item for EventItem<'_> {
    #[inline]
    fn write<S: Sink>(&self, sink: &mut S) -> usize {
        let event = self.fields;
        let mut len = 1;
        if let Some(event_type) = event.event {
            len += put_line(sink, EVENT_PREFIX, event_type.as_bytes());
        }
        if let Some(id) = event.id {
            len += put_line(sink, ID_PREFIX, id.as_bytes());
        }
        if let Some(retry) = &self.retry {
            len += put_line(sink, RETRY_PREFIX, retry.as_bytes());
        }
        len += put_lines(sink, &DATA, event.data.as_bytes());
        sink.put(b"\n\n");
        len
    }
}

/// [`encode`] when the exact length is already known (and `dst` has room for it).
pub(crate) fn encode_known_len<B: BufMut + ?Sized>(
    event: EventFields<'_>,
    len: usize,
    dst: &mut B,
) -> Result<usize, EncodeError> {
    emit(&EventItem::new(event), dst, len, || len)
}

/// [`encoded_len`] of borrowed fields.
#[inline]
pub(crate) fn fields_encoded_len(event: EventFields<'_>) -> usize {
    EventItem::new(event).fixed_len() + lines_len(&DATA, event.data.as_bytes())
}

/// [`encode`] of borrowed fields.
#[inline]
pub(crate) fn encode_fields<B: BufMut + ?Sized>(
    event: EventFields<'_>,
    dst: &mut B,
) -> Result<usize, EncodeError> {
    let item = EventItem::new(event);
    let fixed = item.fixed_len();
    let data = event.data.as_bytes();
    emit(
        &item,
        dst,
        fixed.saturating_add(lines_len_bound(&DATA, data)),
        || fixed + lines_len(&DATA, data),
    )
}

/// The exact number of bytes [`encode`] writes for `event`.
///
/// Use it to reserve room (`BytesMut::reserve`) or to size a fixed buffer before encoding.
/// It allocates nothing: one `memchr2` over the data settles the common case of no line
/// break; otherwise the line breaks are counted by a branch-free, vectorised loop.
///
/// # Example
///
/// ```
/// use sse_proto::{encode, encoded_len, Event};
///
/// let event = Event::builder().event("update").data("a\nb").build()?;
/// // "event: update\n" + "data: a\n" + "data: b\n" + "\n"
/// assert_eq!(encoded_len(&event), 14 + 8 + 8 + 1);
///
/// let mut buf = Vec::new();
/// assert_eq!(encode(&event, &mut buf)?, encoded_len(&event));
/// assert_eq!(buf.len(), encoded_len(&event));
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
pub fn encoded_len(event: &Event) -> usize {
    fields_encoded_len(event.into())
}

/// Writes `event` into `dst` as an event-stream block, and returns the number of bytes
/// written (always [`encoded_len`]`(event)`).
///
/// The wire form is `event: <type>` (when the type is not the default), `id: <id>` (when
/// there is one; an empty id resets the receiver's last event ID), `retry: <milliseconds>`
/// (when the event has a [`retry`](Event::retry); written as [`encode_retry`] writes it),
/// one `data: <line>` per line of the data, split at CR, LF and CRLF, and an empty line. The
/// space after the colon is always written, so a value that starts with a space keeps it
/// (the receiver strips only the separator space); a data ending in a line break gets a last
/// empty `data: ` line; empty data is written `data: ` and reaches the receiver as an empty
/// message. Nothing is allocated, and nothing but a retry's digits is formatted: the data is
/// scanned for line breaks with `memchr` and each run between them is copied whole, straight
/// into the spare capacity of `dst` when it is large enough (a reused or pre-reserved
/// buffer) and with [`BufMut::put_slice`] otherwise.
///
/// Receivers turn CR and CRLF inside data into LF: that is the protocol's normalisation, so
/// an event with data `"a\r\nb"` arrives as `"a\nb"`.
///
/// # Errors
///
/// [`EncodeError::BufferTooSmall`] when `dst` has less room than the event needs
/// ([`BufMut::remaining_mut`]); nothing is written then. A growable `Vec<u8>` or `BytesMut`
/// always has room. The event's fields were validated when it was built, so nothing else can
/// fail.
///
/// # Example
///
/// ```
/// use sse_proto::{encode, EncodeError, Event};
///
/// let event = Event::builder().id("7").data(" leading space\nline two\n").build()?;
/// let mut buf = bytes::BytesMut::new();
/// encode(&event, &mut buf)?;
/// assert_eq!(&buf[..], b"id: 7\ndata:  leading space\ndata: line two\ndata: \n\n");
///
/// // A fixed buffer that is too small is left untouched.
/// let mut storage = [0u8; 8];
/// let mut slice = &mut storage[..];
/// assert_eq!(
///     encode(&event, &mut slice),
///     Err(EncodeError::BufferTooSmall { required: 50, available: 8 })
/// );
/// assert_eq!(storage, [0u8; 8]);
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
pub fn encode<B: BufMut + ?Sized>(event: &Event, dst: &mut B) -> Result<usize, EncodeError> {
    encode_fields(event.into(), dst)
}

/// Digits of `n` in base ten, written at the end of a stack buffer; returns the buffer and
/// the index of the first digit.
#[inline]
fn u64_digits(mut n: u64) -> ([u8; 20], usize) {
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return (buf, start);
        }
    }
}

/// A delay as the value of a `retry:` line: whole milliseconds in base ten, rounded down and
/// capped at `u64::MAX` (the largest value a receiver parses; about 585 million years).
struct Millis {
    digits: [u8; 20],
    start: usize,
}

impl Millis {
    #[inline]
    fn new(delay: Duration) -> Self {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        let (digits, start) = u64_digits(millis);
        Millis { digits, start }
    }

    #[inline]
    fn as_bytes(&self) -> &[u8] {
        &self.digits[self.start..]
    }
}

/// A block of one line and the empty line that ends it: an id-only block or a retry block.
struct OneLineBlock<'a> {
    prefix: &'static [u8],
    value: &'a [u8],
}

impl OneLineBlock<'_> {
    fn len(&self) -> usize {
        line_len(self.prefix, self.value) + 1
    }

    fn emit<B: BufMut + ?Sized>(&self, dst: &mut B) -> Result<usize, EncodeError> {
        let len = self.len();
        emit(self, dst, len, || len)
    }
}

impl Item for OneLineBlock<'_> {
    fn write<S: Sink>(&self, sink: &mut S) -> usize {
        let len = put_line(sink, self.prefix, self.value) + 1;
        sink.put(b"\n");
        len
    }
}

fn retry_block(millis: &Millis) -> OneLineBlock<'_> {
    OneLineBlock {
        prefix: RETRY_PREFIX,
        value: millis.as_bytes(),
    }
}

fn id_only_block(id: &[u8]) -> OneLineBlock<'_> {
    OneLineBlock {
        prefix: ID_PREFIX,
        value: id,
    }
}

fn retry_len(delay: Duration) -> usize {
    retry_block(&Millis::new(delay)).len()
}

/// Writes a `retry:` block that sets the receiver's reconnection time, and returns the
/// number of bytes written.
///
/// The value is written in milliseconds, as the standard requires (`retry: 1500` for
/// 1.5 s), rounded down to a whole millisecond and capped at `u64::MAX` ms. The block ends
/// with an empty line; it dispatches no event, but a receiver applies the retry as soon as it
/// reads the line ([`Step::Retry`](crate::Step::Retry)).
///
/// Some clients (Python's httpx-sse and sseclient among them) hand the application an empty
/// event for a block without data. When there is an event to send, put the retry inside its
/// block instead, with [`EventBuilder::retry`](crate::EventBuilder::retry).
///
/// # Errors
///
/// [`EncodeError::BufferTooSmall`] when `dst` has less room than the block needs (at most
/// 29 bytes); nothing is written then.
///
/// # Example
///
/// ```
/// use std::time::Duration;
///
/// let mut buf = Vec::new();
/// sse_proto::encode_retry(Duration::from_millis(1500), &mut buf)?;
/// assert_eq!(buf, b"retry: 1500\n\n");
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
pub fn encode_retry<B: BufMut + ?Sized>(
    delay: Duration,
    dst: &mut B,
) -> Result<usize, EncodeError> {
    retry_block(&Millis::new(delay)).emit(dst)
}

fn comment_len(text: &[u8]) -> usize {
    lines_len(&COMMENT, text) + 1
}

struct CommentItem<'a>(&'a [u8]);

impl Item for CommentItem<'_> {
    fn write<S: Sink>(&self, sink: &mut S) -> usize {
        let len = put_lines(sink, &COMMENT, self.0) + 1;
        sink.put(b"\n\n");
        len
    }
}

/// Writes `text` as a comment block, and returns the number of bytes written.
///
/// Each line of `text` (split at CR, LF and CRLF) becomes one `: line` line, and the block
/// ends with an empty line. Receivers ignore comments (a parser may report them, as
/// [`Step::Comment`](crate::Step::Comment) does with
/// [`ParserConfig::emit_comments`](crate::ParserConfig::emit_comments)); servers send them to
/// keep idle connections open and to flush headers early. A line break can never turn a
/// comment into a field.
///
/// # Errors
///
/// [`EncodeError::BufferTooSmall`] when `dst` has less room than the block needs; nothing is
/// written then.
///
/// # Example
///
/// ```
/// let mut buf = Vec::new();
/// sse_proto::encode_comment("hello\ndata: not a field", &mut buf)?;
/// assert_eq!(buf, b": hello\n: data: not a field\n\n");
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
pub fn encode_comment<B: BufMut + ?Sized>(text: &str, dst: &mut B) -> Result<usize, EncodeError> {
    let text = text.as_bytes();
    let bound = lines_len_bound(&COMMENT, text).saturating_add(1);
    emit(&CommentItem(text), dst, bound, || comment_len(text))
}

/// Writes an id-only block (`id: <id>` and an empty line), and returns the number of bytes
/// written.
///
/// Such a block dispatches no event, but it sets the receiver's last event ID: a checkpoint
/// a client will send back as `Last-Event-ID` when it reconnects. An empty id (`id: `)
/// resets the receiver's last event ID to empty.
///
/// # Errors
///
/// - [`EncodeError::LineBreak`] (field [`Field::Id`](crate::Field::Id)) when `id` contains CR or LF;
/// - [`EncodeError::NulInId`] when `id` contains U+0000;
/// - [`EncodeError::BufferTooSmall`] when `dst` has less room than the block needs.
///
/// Nothing is written in any of these cases.
///
/// # Example
///
/// ```
/// use sse_proto::{encode_id_only, EncodeError, Field};
///
/// let mut buf = Vec::new();
/// encode_id_only("checkpoint-9", &mut buf)?;
/// assert_eq!(buf, b"id: checkpoint-9\n\n");
///
/// let err = encode_id_only("1\ndata: injected", &mut buf).unwrap_err();
/// assert_eq!(err, EncodeError::LineBreak { field: Field::Id });
/// assert_eq!(buf, b"id: checkpoint-9\n\n"); // unchanged
/// # Ok::<(), EncodeError>(())
/// ```
pub fn encode_id_only<B: BufMut + ?Sized>(id: &str, dst: &mut B) -> Result<usize, EncodeError> {
    let id = id.as_bytes();
    check_id(id)?;
    id_only_block(id).emit(dst)
}

/// Anything a server can send: an event, or one of the blocks that dispatch nothing (an
/// id-only checkpoint, a retry, a comment).
///
/// A `Message` is always valid: ids are checked by its constructors (and events by
/// [`EventBuilder::build`](crate::EventBuilder::build)), so [`encode`](Self::encode) can only
/// fail for lack of room. Turn it into a [`Frame`](crate::Frame) with
/// [`Frame::from_message`](crate::Frame::from_message) to send it to many receivers.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use sse_proto::{Event, Message};
///
/// let messages = [
///     Message::comment("stream start"),
///     Message::retry(Duration::from_secs(5)),
///     Message::from(Event::new("hello")),
///     Message::id_only("41")?,
/// ];
/// let mut buf = Vec::new();
/// for message in &messages {
///     message.encode(&mut buf)?;
/// }
/// assert_eq!(
///     buf,
///     b": stream start\n\nretry: 5000\n\ndata: hello\n\nid: 41\n\n"
/// );
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Message(Kind);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Event(Event),
    IdOnly(Utf8Bytes),
    Retry(Duration),
    Comment(Utf8Bytes),
}

impl Message {
    /// An event (the same as `Message::from(event)`).
    ///
    /// # Example
    ///
    /// ```
    /// let message = sse_proto::Message::event(sse_proto::Event::new("x"));
    /// assert_eq!(message.as_event().map(|e| e.data()), Some("x"));
    /// ```
    pub fn event(event: Event) -> Self {
        Message(Kind::Event(event))
    }

    /// An id-only block: it sets the receiver's last event ID without dispatching an event
    /// (see [`encode_id_only`]).
    ///
    /// # Errors
    ///
    /// - [`EncodeError::LineBreak`] (field [`Field::Id`](crate::Field::Id)) when `id` contains CR or LF;
    /// - [`EncodeError::NulInId`] when `id` contains U+0000.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{EncodeError, Message};
    ///
    /// assert_eq!(Message::id_only("9")?.id(), Some("9"));
    /// assert_eq!(Message::id_only("a\0b"), Err(EncodeError::NulInId));
    /// # Ok::<(), EncodeError>(())
    /// ```
    pub fn id_only(id: impl Into<Utf8Bytes>) -> Result<Self, EncodeError> {
        let id = id.into();
        check_id(id.as_bytes())?;
        Ok(Message(Kind::IdOnly(id)))
    }

    /// A `retry:` block on its own (see [`encode_retry`]); to send it inside an event's
    /// block, use [`EventBuilder::retry`](crate::EventBuilder::retry).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let message = sse_proto::Message::retry(Duration::from_millis(1500));
    /// assert_eq!(message.encoded_len(), "retry: 1500\n\n".len());
    /// ```
    pub fn retry(delay: Duration) -> Self {
        Message(Kind::Retry(delay))
    }

    /// A comment block; a text with line breaks becomes several comment lines (see
    /// [`encode_comment`]).
    ///
    /// # Example
    ///
    /// ```
    /// let message = sse_proto::Message::comment("a\nb");
    /// let mut buf = Vec::new();
    /// message.encode(&mut buf).unwrap();
    /// assert_eq!(buf, b": a\n: b\n\n");
    /// ```
    pub fn comment(text: impl Into<Utf8Bytes>) -> Self {
        Message(Kind::Comment(text.into()))
    }

    /// The event, when this message is one.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// assert!(sse_proto::Message::retry(Duration::ZERO).as_event().is_none());
    /// ```
    pub fn as_event(&self) -> Option<&Event> {
        match &self.0 {
            Kind::Event(event) => Some(event),
            _ => None,
        }
    }

    /// The id this message carries: an event's id, or the id of an id-only block. Retries and
    /// comments have none.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Event, Message};
    ///
    /// let event = Event::builder().id("3").data("x").build()?;
    /// assert_eq!(Message::from(event).id(), Some("3"));
    /// assert_eq!(Message::comment("c").id(), None);
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn id(&self) -> Option<&str> {
        match &self.0 {
            Kind::Event(event) => event.id(),
            Kind::IdOnly(id) => Some(id.as_str()),
            Kind::Retry(_) | Kind::Comment(_) => None,
        }
    }

    /// [`encode`](Self::encode) when the exact length is already known (and `dst` has room).
    pub(crate) fn encode_known_len<B: BufMut + ?Sized>(
        &self,
        len: usize,
        dst: &mut B,
    ) -> Result<usize, EncodeError> {
        match &self.0 {
            Kind::Event(event) => encode_known_len(event.into(), len, dst),
            _ => self.encode(dst),
        }
    }

    /// Offset and length of the id value inside the encoding, when there is an id.
    pub(crate) fn id_range(&self) -> Option<(usize, usize)> {
        match &self.0 {
            Kind::Event(event) => event_id_range(event.into()),
            Kind::IdOnly(id) => Some((ID_PREFIX.len(), id.len())),
            Kind::Retry(_) | Kind::Comment(_) => None,
        }
    }

    /// The exact number of bytes [`encode`](Self::encode) writes.
    ///
    /// # Example
    ///
    /// ```
    /// let message = sse_proto::Message::comment("ping");
    /// assert_eq!(message.encoded_len(), ": ping\n\n".len());
    /// ```
    pub fn encoded_len(&self) -> usize {
        match &self.0 {
            Kind::Event(event) => encoded_len(event),
            Kind::IdOnly(id) => id_only_block(id.as_bytes()).len(),
            Kind::Retry(delay) => retry_len(*delay),
            Kind::Comment(text) => comment_len(text.as_bytes()),
        }
    }

    /// Writes the message into `dst` and returns the number of bytes written (always
    /// [`encoded_len`](Self::encoded_len)).
    ///
    /// # Errors
    ///
    /// [`EncodeError::BufferTooSmall`] when `dst` has less room than the message needs;
    /// nothing is written then.
    ///
    /// # Example
    ///
    /// ```
    /// let mut buf = bytes::BytesMut::new();
    /// sse_proto::Message::id_only("")?.encode(&mut buf)?;
    /// assert_eq!(&buf[..], b"id: \n\n"); // resets the receiver's last event ID
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn encode<B: BufMut + ?Sized>(&self, dst: &mut B) -> Result<usize, EncodeError> {
        match &self.0 {
            Kind::Event(event) => encode(event, dst),
            Kind::IdOnly(id) => id_only_block(id.as_bytes()).emit(dst),
            Kind::Retry(delay) => encode_retry(*delay, dst),
            Kind::Comment(text) => encode_comment(text.as_str(), dst),
        }
    }
}

impl From<Event> for Message {
    fn from(event: Event) -> Self {
        Message::event(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn lines(text: &str) -> Vec<&[u8]> {
        let mut out = Vec::new();
        for_each_line(text.as_bytes(), |line| out.push(line));
        out
    }

    #[test]
    fn splits_at_cr_lf_and_crlf() {
        assert_eq!(lines(""), [b""]);
        assert_eq!(lines("a"), [b"a"]);
        assert_eq!(lines("a\r\nb"), [&b"a"[..], b"b"]);
        assert_eq!(lines("a\rb\nc"), [&b"a"[..], b"b", b"c"]);
        assert_eq!(lines("a\n"), [&b"a"[..], b""]);
        assert_eq!(lines("\r\r\n\n"), [&b""[..], b"", b"", b""]);
        assert_eq!(lines("\n\r"), [&b""[..], b"", b""]);
    }

    #[test]
    fn digits() {
        for n in [0, 1, 9, 10, 1500, 99_999, u64::MAX] {
            let (buf, start) = u64_digits(n);
            assert_eq!(
                &buf[start..],
                alloc::string::ToString::to_string(&n).as_bytes()
            );
        }
    }

    #[test]
    fn retry_is_rounded_down_and_capped() {
        let mut buf = Vec::new();
        encode_retry(Duration::new(1, 999_999), &mut buf).unwrap();
        assert_eq!(buf, b"retry: 1000\n\n");
        buf.clear();
        encode_retry(Duration::MAX, &mut buf).unwrap();
        assert_eq!(buf, b"retry: 18446744073709551615\n\n");
        assert_eq!(retry_len(Duration::MAX), buf.len());
    }

    #[test]
    fn an_event_retry_line_is_the_retry_block_line() {
        for delay in [Duration::ZERO, Duration::new(1, 999_999), Duration::MAX] {
            let mut block = Vec::new();
            encode_retry(delay, &mut block).unwrap();
            let event = Event::builder().retry(delay).build().unwrap();
            let mut buf = Vec::new();
            encode(&event, &mut buf).unwrap();
            let retry_line = &block[..block.len() - 1];
            assert_eq!(buf, [retry_line, b"data: \n\n"].concat(), "{delay:?}");
            assert_eq!(encoded_len(&event), buf.len(), "{delay:?}");
        }
    }

    #[test]
    fn lengths_are_exact_and_bounded() {
        let texts = [
            "",
            "\n",
            "\r",
            "\r\n",
            "\n\r",
            "\r\r",
            "a",
            "a\nb",
            "\n\n\n",
            "x\r\n\r\ny",
            "\r\r\n\n\r",
            "caf\u{e9}\r\u{2028}\n",
            "a\rb\r\nc\nd\r",
        ];
        for text in texts {
            for kind in [&DATA, &COMMENT] {
                let mut slow = 0;
                for_each_line(text.as_bytes(), |line| {
                    slow += kind.prefix.len() + line.len() + 1
                });
                let mut buf = Vec::new();
                let written = put_lines(&mut Put(&mut buf), kind, text.as_bytes());
                assert_eq!(lines_len(kind, text.as_bytes()), slow, "{text:?}");
                assert_eq!(written, slow, "{text:?}");
                assert_eq!(buf.len() + 1, slow, "{text:?}");
                assert!(slow <= lines_len_bound(kind, text.as_bytes()), "{text:?}");
            }
        }
        // Line breaks are counted 255 bytes at a time: a CRLF across that boundary is one.
        for at in 250..260 {
            let mut text = alloc::vec![b'x'; 600];
            text[at] = b'\r';
            text[at + 1] = b'\n';
            text[at + 300] = b'\r';
            assert_eq!(line_breaks(&text), (2, 3), "CRLF at {at}");
        }
    }
}
