//! [`Event`], the one event type shared by the parser (output) and the encoder (input).

use core::time::Duration;

use crate::error::{EncodeError, Field};
use crate::text::Text;
use crate::utf8::Utf8Bytes;

/// A dispatched server-sent event: what a browser's `EventSource` hands to a listener.
///
/// The same type comes out of [`Parser`](crate::Parser) and goes into the encoder, so
/// `parse(encode(event))` can be compared with `event` (a [`retry`](Event::retry) the event
/// was sent with comes back as its own [`Step::Retry`](crate::Step::Retry), just before the
/// event). Fields are private because an event
/// always satisfies the wire format's rules (no line break in the type or id, no NUL in the
/// id): the parser cannot produce anything else, and [`EventBuilder::build`] checks them.
///
/// - [`event_type`](Event::event_type) is `"message"` when no `event:` field was given.
/// - [`id`](Event::id) is `None` while the stream has never carried an `id:` field. For a
///   parsed event it is the *last event ID* in force when the event was dispatched (the value
///   browsers report as `MessageEvent.lastEventId`, which persists from event to event until
///   the server changes it); `Some("")` after the server reset it with an empty `id:`.
///   Re-encoding parsed events therefore reproduces the receiver's last event ID after each
///   event (for what happens between events, see [`EventRef::encode`]).
///
/// # Example
///
/// ```
/// use sse_proto::Event;
///
/// let event = Event::builder().event("update").id("42").data("line 1\nline 2").build()?;
/// assert_eq!(event.event_type(), "update");
/// assert_eq!(event.id(), Some("42"));
/// assert_eq!(event.data(), "line 1\nline 2");
///
/// let plain = Event::new("hello");
/// assert_eq!(plain.event_type(), "message");
/// assert_eq!(plain.last_event_id(), "");
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Event {
    event: Option<Text>,
    data: Text,
    id: Option<Text>,
    retry: Option<Duration>,
}

impl Default for Event {
    /// An empty `message` event.
    fn default() -> Self {
        Event::new(Utf8Bytes::new())
    }
}

impl Event {
    /// A `message` event with this data and no type or id. Data is never refused: line breaks
    /// in it become several `data:` lines on the wire.
    ///
    /// # Example
    ///
    /// ```
    /// let event = sse_proto::Event::new("tick");
    /// assert_eq!(event.data(), "tick");
    /// assert_eq!(event.event(), None);
    /// ```
    pub fn new(data: impl Into<Utf8Bytes>) -> Self {
        Event {
            event: None,
            data: Text::Shared(data.into()),
            id: None,
            retry: None,
        }
    }

    /// Starts an [`EventBuilder`]; [`EventBuilder::build`] validates the type and id.
    ///
    /// # Example
    ///
    /// ```
    /// let event = sse_proto::Event::builder().data("x").id("7").build().unwrap();
    /// assert_eq!(event.id(), Some("7"));
    /// ```
    pub fn builder() -> EventBuilder {
        EventBuilder::default()
    }

    /// Built by the parser, whose fields are valid by construction (lines cannot contain CR or
    /// LF and ids with NUL are ignored before they get here).
    #[inline]
    pub(crate) fn from_parsed(event: Option<Text>, data: Text, id: Option<Text>) -> Self {
        Event {
            event,
            data,
            id,
            retry: None,
        }
    }

    /// The event type: the `event:` field, or `"message"` when there was none (or it was
    /// empty), which is the name a browser dispatches it under.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(sse_proto::Event::new("x").event_type(), "message");
    /// ```
    pub fn event_type(&self) -> &str {
        match &self.event {
            Some(event) => event.as_str(),
            None => "message",
        }
    }

    /// The `event:` field as sent, `None` when absent or empty.
    ///
    /// # Example
    ///
    /// ```
    /// let event = sse_proto::Event::builder().event("ping").build().unwrap();
    /// assert_eq!(event.event(), Some("ping"));
    /// ```
    pub fn event(&self) -> Option<&str> {
        self.event.as_ref().map(Text::as_str)
    }

    /// The data: the `data:` lines joined with `\n`. CR and CRLF inside data come back as
    /// `\n`, the protocol's own normalisation.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(sse_proto::Event::new("a\nb").data(), "a\nb");
    /// ```
    pub fn data(&self) -> &str {
        self.data.as_str()
    }

    /// The id (see the type's docs for what it means on a parsed event).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(sse_proto::Event::new("x").id(), None);
    /// ```
    pub fn id(&self) -> Option<&str> {
        self.id.as_ref().map(Text::as_str)
    }

    /// The id, or `""` when there is none: the browser's `MessageEvent.lastEventId`.
    ///
    /// # Example
    ///
    /// ```
    /// let event = sse_proto::Event::builder().data("x").id("9").build().unwrap();
    /// assert_eq!(event.last_event_id(), "9");
    /// ```
    pub fn last_event_id(&self) -> &str {
        self.id.as_ref().map_or("", Text::as_str)
    }

    /// The reconnection time this event is sent with ([`EventBuilder::retry`]): written as a
    /// `retry:` line inside the event's block.
    ///
    /// Always `None` on a parsed event: reconnection time belongs to the connection, not to
    /// an event, so [`Parser`](crate::Parser) reports each `retry:` line as its own
    /// [`Step::Retry`](crate::Step::Retry) as soon as it reads it (before the event of the
    /// same block).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_proto::{encode, Event, Parser, Step};
    ///
    /// let event = Event::builder().data("x").retry(Duration::from_secs(2)).build()?;
    /// assert_eq!(event.retry(), Some(Duration::from_secs(2)));
    ///
    /// let mut wire = Vec::new();
    /// encode(&event, &mut wire)?;
    /// let mut input = &wire[..];
    /// let mut parser = Parser::new();
    /// assert_eq!(parser.poll(&mut input), Ok(Step::Retry(Duration::from_secs(2))));
    /// let Ok(Step::Event(parsed)) = parser.poll(&mut input) else { panic!() };
    /// assert_eq!(parsed.retry(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// The data as `Utf8Bytes` to keep: a reference-count bump when the data is stored in a
    /// shared buffer, or one small allocation when it is short enough to be stored inline
    /// (under 40 bytes; parsed events keep such data inline to spare every event two atomic
    /// operations).
    ///
    /// # Example
    ///
    /// ```
    /// let event = sse_proto::Event::new("payload");
    /// let kept = event.data_bytes();
    /// drop(event);
    /// assert_eq!(kept, "payload");
    /// ```
    pub fn data_bytes(&self) -> Utf8Bytes {
        self.data.clone().into_utf8_bytes()
    }

    /// Splits the event into `(event, data, id)`: no copy for values in shared buffers, a
    /// small allocation each for values stored inline (see [`data_bytes`](Self::data_bytes)).
    /// The [`retry`](Self::retry), a `Copy` value, is not among them: read it first.
    ///
    /// # Example
    ///
    /// ```
    /// let (event, data, id) = sse_proto::Event::new("d").into_parts();
    /// assert_eq!((event, data.as_str(), id), (None, "d", None));
    /// ```
    pub fn into_parts(self) -> (Option<Utf8Bytes>, Utf8Bytes, Option<Utf8Bytes>) {
        (
            self.event.map(Text::into_utf8_bytes),
            self.data.into_utf8_bytes(),
            self.id.map(Text::into_utf8_bytes),
        )
    }
}

/// A dispatched event lent by [`Parser::poll_ref`](crate::Parser::poll_ref): the same
/// fields and accessors as [`Event`], borrowed from the input and the parser instead of
/// owned, so handing it out costs no allocation, copy or reference count.
///
/// # Example
///
/// ```
/// use sse_proto::{Parser, StepRef};
///
/// let mut parser = Parser::new();
/// let mut input: &[u8] = b"event: delta\nid: 7\ndata: {\"token\":\"hi\"}\n\n";
/// let StepRef::Event(event) = parser.poll_ref(&mut input)? else { panic!() };
/// assert_eq!((event.event_type(), event.id(), event.data()), ("delta", Some("7"), r#"{"token":"hi"}"#));
/// let kept: sse_proto::Event = event.to_event(); // outlives the parser's next call
/// assert_eq!(kept, event);
/// # Ok::<(), sse_proto::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct EventRef<'a> {
    event: Option<&'a str>,
    data: &'a str,
    id: Option<&'a str>,
}

impl<'a> EventRef<'a> {
    #[inline(always)]
    pub(crate) fn from_parsed(event: Option<&'a str>, data: &'a str, id: Option<&'a str>) -> Self {
        EventRef { event, data, id }
    }

    /// As [`Event::event_type`]: the `event:` field, or `"message"`.
    ///
    /// # Example
    ///
    /// ```
    /// let mut parser = sse_proto::Parser::new();
    /// let mut input: &[u8] = b"data: x\n\n";
    /// let sse_proto::StepRef::Event(event) = parser.poll_ref(&mut input)? else { panic!() };
    /// assert_eq!(event.event_type(), "message");
    /// # Ok::<(), sse_proto::ParseError>(())
    /// ```
    pub fn event_type(&self) -> &'a str {
        self.event.unwrap_or("message")
    }

    /// As [`Event::event`]: the `event:` field as sent, `None` when absent or empty.
    ///
    /// # Example
    ///
    /// ```
    /// let mut parser = sse_proto::Parser::new();
    /// let mut input: &[u8] = b"event: ping\ndata: x\n\n";
    /// let sse_proto::StepRef::Event(event) = parser.poll_ref(&mut input)? else { panic!() };
    /// assert_eq!(event.event(), Some("ping"));
    /// # Ok::<(), sse_proto::ParseError>(())
    /// ```
    pub fn event(&self) -> Option<&'a str> {
        self.event
    }

    /// As [`Event::data`]: the `data:` lines joined with `\n`.
    ///
    /// # Example
    ///
    /// ```
    /// let mut parser = sse_proto::Parser::new();
    /// let mut input: &[u8] = b"data: a\ndata: b\n\n";
    /// let sse_proto::StepRef::Event(event) = parser.poll_ref(&mut input)? else { panic!() };
    /// assert_eq!(event.data(), "a\nb");
    /// # Ok::<(), sse_proto::ParseError>(())
    /// ```
    pub fn data(&self) -> &'a str {
        self.data
    }

    /// As [`Event::id`]: the last event ID in force at dispatch, `None` if never set.
    ///
    /// # Example
    ///
    /// ```
    /// let mut parser = sse_proto::Parser::new();
    /// let mut input: &[u8] = b"id: 3\ndata: x\n\n";
    /// let sse_proto::StepRef::Event(event) = parser.poll_ref(&mut input)? else { panic!() };
    /// assert_eq!(event.id(), Some("3"));
    /// # Ok::<(), sse_proto::ParseError>(())
    /// ```
    pub fn id(&self) -> Option<&'a str> {
        self.id
    }

    /// As [`Event::last_event_id`]: the id, or `""`.
    ///
    /// # Example
    ///
    /// ```
    /// let mut parser = sse_proto::Parser::new();
    /// let mut input: &[u8] = b"data: x\n\n";
    /// let sse_proto::StepRef::Event(event) = parser.poll_ref(&mut input)? else { panic!() };
    /// assert_eq!(event.last_event_id(), "");
    /// # Ok::<(), sse_proto::ParseError>(())
    /// ```
    pub fn last_event_id(&self) -> &'a str {
        self.id.unwrap_or("")
    }

    /// An owned copy: fields up to 38 bytes are stored inline, longer ones take one
    /// allocation each.
    ///
    /// # Example
    ///
    /// ```
    /// let mut parser = sse_proto::Parser::new();
    /// let mut input: &[u8] = b"data: keep me\n\n";
    /// let sse_proto::StepRef::Event(event) = parser.poll_ref(&mut input)? else { panic!() };
    /// let owned = event.to_event();
    /// assert_eq!(owned.data(), "keep me");
    /// # Ok::<(), sse_proto::ParseError>(())
    /// ```
    pub fn to_event(&self) -> Event {
        Event {
            event: self.event.map(Text::copy_from_str),
            data: Text::copy_from_str(self.data),
            id: self.id.map(Text::copy_from_str),
            retry: None,
        }
    }

    /// The exact number of bytes [`encode`](Self::encode) writes: the same as
    /// [`encoded_len`](crate::encoded_len) of [`to_event`](Self::to_event), without the copy.
    ///
    /// # Example
    ///
    /// ```
    /// let mut parser = sse_proto::Parser::new();
    /// let mut input: &[u8] = b"event: delta\ndata: a\ndata: b\n\n";
    /// let sse_proto::StepRef::Event(event) = parser.poll_ref(&mut input)? else { panic!() };
    /// assert_eq!(event.encoded_len(), "event: delta\ndata: a\ndata: b\n\n".len());
    /// # Ok::<(), sse_proto::ParseError>(())
    /// ```
    pub fn encoded_len(&self) -> usize {
        crate::encoder::fields_encoded_len(self.fields())
    }

    /// Writes the event into `dst` as an event-stream block and returns the bytes written
    /// (always [`encoded_len`](Self::encoded_len)): the bytes
    /// [`encode`](crate::encode) writes for [`to_event`](Self::to_event), without copying the
    /// fields first. This is the relay's path: parse an upstream stream with
    /// [`Parser::poll_ref`](crate::Parser::poll_ref) and write each event downstream, with no
    /// allocation when `dst` is a reused buffer.
    ///
    /// An event lent by the parser always satisfies the wire format's rules, so the only
    /// failure is a full buffer. Its id is the last event ID in force, so once one is set
    /// (by the upstream, or by [`Parser::set_last_event_id`](crate::Parser::set_last_event_id)
    /// on a resumed relay) every event written carries an `id:` line, and the receiver's last
    /// event ID equals the upstream's after each event.
    ///
    /// Between events the upstream can also change it with no event: an id-only block (a
    /// checkpoint), or an event the parser dropped for a limit. Those reach the receiver
    /// only if the relay forwards them: after each input, compare
    /// [`Parser::last_event_id`](crate::Parser::last_event_id) with the id last written and
    /// write [`encode_id_only`](crate::encode_id_only) when they differ, as below. Retries
    /// are not events either; forward them with [`encode_retry`](crate::encode_retry), and
    /// comments (reported only with
    /// [`ParserConfig::emit_comments`](crate::ParserConfig::emit_comments)) with
    /// [`encode_comment`](crate::encode_comment).
    ///
    /// # Errors
    ///
    /// [`EncodeError::BufferTooSmall`] when `dst` has less room than the event needs; nothing
    /// is written then.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{encode_id_only, encode_retry, Parser, StepRef};
    ///
    /// let mut upstream: &[u8] =
    ///     b"id: 7\ndata: one\n\n: keep-alive\n\nretry: 500\ndata: two\r\n\r\nid: 8\n\n";
    /// let mut parser = Parser::new();
    /// let mut downstream = Vec::new();
    /// let mut forwarded_id = String::new(); // the receiver's last event ID
    /// loop {
    ///     match parser.poll_ref(&mut upstream) {
    ///         Ok(StepRef::Event(event)) => {
    ///             event.encode(&mut downstream)?;
    ///             if forwarded_id != event.last_event_id() {
    ///                 forwarded_id.clear(); // reuses the allocation
    ///                 forwarded_id.push_str(event.last_event_id());
    ///             }
    ///         }
    ///         Ok(StepRef::Retry(delay)) => {
    ///             encode_retry(delay, &mut downstream)?;
    ///         }
    ///         Ok(StepRef::NeedData) => break,
    ///         Ok(_) => {}
    ///         Err(dropped) => eprintln!("{dropped}"), // its id may still have changed
    ///     }
    /// }
    /// // The checkpoint `id: 8` changed the last event ID without an event.
    /// if parser.last_event_id() != forwarded_id {
    ///     encode_id_only(parser.last_event_id(), &mut downstream)?;
    ///     forwarded_id.clear();
    ///     forwarded_id.push_str(parser.last_event_id());
    /// }
    /// assert_eq!(
    ///     downstream,
    ///     b"id: 7\ndata: one\n\nretry: 500\n\nid: 7\ndata: two\n\nid: 8\n\n"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode<B: bytes::BufMut + ?Sized>(&self, dst: &mut B) -> Result<usize, EncodeError> {
        crate::encoder::encode_fields(self.fields(), dst)
    }

    /// The fields the encoder writes.
    #[inline(always)]
    pub(crate) fn fields(&self) -> crate::encoder::EventFields<'a> {
        crate::encoder::EventFields {
            event: self.event,
            data: self.data,
            id: self.id,
            retry: None,
        }
    }
}

impl PartialEq<Event> for EventRef<'_> {
    fn eq(&self, other: &Event) -> bool {
        // A lent event never carries a retry (the parser reports it as its own step), so it
        // differs from an event built with one, as two `Event`s would.
        self.event == other.event()
            && self.data == other.data()
            && self.id == other.id()
            && other.retry().is_none()
    }
}

impl PartialEq<EventRef<'_>> for Event {
    fn eq(&self, other: &EventRef<'_>) -> bool {
        other == self
    }
}

/// Builds an [`Event`], checking the fields the wire format cannot carry.
///
/// # Example
///
/// ```
/// use sse_proto::{EncodeError, Event, Field};
///
/// let ok = Event::builder().event("delta").data("{\"x\":1}").build();
/// assert!(ok.is_ok());
///
/// let bad = Event::builder().id("1\n2").data("x").build();
/// assert_eq!(bad, Err(EncodeError::LineBreak { field: Field::Id }));
/// ```
#[derive(Clone, Default, Debug)]
#[must_use = "call build() to get the event"]
pub struct EventBuilder {
    event: Option<Utf8Bytes>,
    data: Utf8Bytes,
    id: Option<Utf8Bytes>,
    retry: Option<Duration>,
}

impl EventBuilder {
    /// Sets the data (default: empty, which is still dispatched as an empty message).
    ///
    /// # Example
    ///
    /// ```
    /// let event = sse_proto::Event::builder().data("x").build().unwrap();
    /// assert_eq!(event.data(), "x");
    /// ```
    pub fn data(mut self, data: impl Into<Utf8Bytes>) -> Self {
        self.data = data.into();
        self
    }

    /// Sets the event type. An empty type is the same as none (`message`).
    ///
    /// # Example
    ///
    /// ```
    /// let event = sse_proto::Event::builder().event("").build().unwrap();
    /// assert_eq!(event.event(), None);
    /// ```
    pub fn event(mut self, event: impl Into<Utf8Bytes>) -> Self {
        let event = event.into();
        self.event = if event.is_empty() { None } else { Some(event) };
        self
    }

    /// Sets the id. An empty id is sent as `id:` and resets the receiver's last event ID.
    ///
    /// # Example
    ///
    /// ```
    /// let event = sse_proto::Event::builder().id("").build().unwrap();
    /// assert_eq!(event.id(), Some(""));
    /// ```
    pub fn id(mut self, id: impl Into<Utf8Bytes>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the receiver's reconnection time, sent as a `retry:` line inside this event's
    /// block: whole milliseconds, rounded down and capped at `u64::MAX` ms, as
    /// [`encode_retry`](crate::encode_retry) writes it.
    ///
    /// Prefer it to a separate [`Message::retry`](crate::Message::retry) block when there is
    /// an event to send: some clients (Python's httpx-sse and sseclient among them) hand the
    /// application an empty event for a block without data, which breaks code that parses
    /// every event's data as JSON. Any value is accepted; nothing here can fail.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let event = sse_proto::Event::builder()
    ///     .id("1")
    ///     .data("{}")
    ///     .retry(Duration::from_millis(1500))
    ///     .build()?;
    /// let mut buf = Vec::new();
    /// sse_proto::encode(&event, &mut buf)?;
    /// assert_eq!(buf, b"id: 1\nretry: 1500\ndata: {}\n\n");
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn retry(mut self, delay: Duration) -> Self {
        self.retry = Some(delay);
        self
    }

    /// Checks the fields and returns the event.
    ///
    /// # Errors
    ///
    /// - [`EncodeError::LineBreak`] when the event type or the id contains CR or LF;
    /// - [`EncodeError::NulInId`] when the id contains U+0000.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{EncodeError, Event};
    ///
    /// assert_eq!(Event::builder().id("a\0b").build(), Err(EncodeError::NulInId));
    /// ```
    pub fn build(self) -> Result<Event, EncodeError> {
        if let Some(event) = &self.event {
            if has_line_break(event.as_bytes()) {
                return Err(EncodeError::LineBreak {
                    field: Field::Event,
                });
            }
        }
        if let Some(id) = &self.id {
            check_id(id.as_bytes())?;
        }
        Ok(Event {
            event: self.event.map(Text::Shared),
            data: Text::Shared(self.data),
            id: self.id.map(Text::Shared),
            retry: self.retry,
        })
    }
}

/// The wire rules for an id: no CR or LF (the field would end early), no NUL (every
/// compliant client ignores such an id).
pub(crate) fn check_id(id: &[u8]) -> Result<(), EncodeError> {
    if has_line_break(id) {
        return Err(EncodeError::LineBreak { field: Field::Id });
    }
    if memchr::memchr(0, id).is_some() {
        return Err(EncodeError::NulInId);
    }
    Ok(())
}

#[inline]
fn has_line_break(bytes: &[u8]) -> bool {
    memchr::memchr2(b'\r', b'\n', bytes).is_some()
}
