//! [`Frame`]: a message encoded once, shared by every receiver; and the keep-alive choice.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::encoder::{encode_known_len, event_id_range, fields_encoded_len, EventFields, Message};
use crate::error::EncodeError;
use crate::event::{Event, EventRef};
use crate::utf8::Utf8Bytes;

/// The keep-alive comment: receivers ignore it, proxies see traffic.
const KEEP_ALIVE: &[u8] = b": ping\n\n";

/// A finished message in wire form, plus the id it carries: encode once, send to many.
///
/// The bytes are immutable and reference-counted, so handing a frame to 10,000 subscribers
/// costs one encode and one allocation, then a reference-count bump per subscriber
/// (`Frame::clone`, or `as_bytes().clone()` for a transport that takes [`Bytes`]). The id is
/// kept beside the bytes so a replay buffer can find where a reconnecting client left off;
/// it points into the frame's own bytes and costs no allocation.
///
/// # Allocation
///
/// [`from_event`](Self::from_event), [`from_event_ref`](Self::from_event_ref) and
/// [`from_message`](Self::from_message) make exactly one allocation, of exactly
/// [`encoded_len`](crate::encoded_len) bytes. The `bytes` crate adds a small header (one more
/// allocation of a few words) the first time a frame is cloned; every clone after that is an
/// atomic increment. [`keep_alive`](Self::keep_alive) allocates nothing.
///
/// # Example
///
/// ```
/// use sse_proto::{Event, Frame};
///
/// let event = Event::builder().event("tick").id("5").data("now").build()?;
/// let frame = Frame::from_event(&event);
/// assert_eq!(frame.as_bytes(), &b"event: tick\nid: 5\ndata: now\n\n"[..]);
/// assert_eq!(frame.id(), Some("5"));
///
/// let subscribers: Vec<Frame> = (0..3).map(|_| frame.clone()).collect();
/// assert!(subscribers.iter().all(|f| f.as_bytes().as_ptr() == frame.as_bytes().as_ptr()));
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    bytes: Bytes,
    /// Offset and length of the id value inside `bytes`.
    id: Option<(usize, usize)>,
}

impl Frame {
    /// Encodes `event` once into a new frame (one allocation of
    /// [`encoded_len`](crate::encoded_len) bytes).
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{encoded_len, Event, Frame};
    ///
    /// let event = Event::new("a\r\nb");
    /// let frame = Frame::from_event(&event);
    /// assert_eq!(frame.len(), encoded_len(&event));
    /// assert_eq!(frame.as_bytes(), &b"data: a\ndata: b\n\n"[..]);
    /// assert_eq!(frame.id(), None);
    /// ```
    pub fn from_event(event: &Event) -> Self {
        Frame::from_fields(event.into())
    }

    /// Encodes an event lent by the parser once into a new frame: the bytes of
    /// [`EventRef::encode`], in one allocation of [`EventRef::encoded_len`] bytes, without
    /// copying the event first. For a relay that fans one upstream out to many subscribers.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Frame, Parser, StepRef};
    ///
    /// let mut parser = Parser::new();
    /// let mut input: &[u8] = b"id: 12\ndata: {\"price\":3}\n\n";
    /// let StepRef::Event(event) = parser.poll_ref(&mut input)? else { panic!() };
    /// let frame = Frame::from_event_ref(&event);
    /// assert_eq!(frame.as_bytes(), &b"id: 12\ndata: {\"price\":3}\n\n"[..]);
    /// assert_eq!(frame.id(), Some("12"));
    /// # Ok::<(), sse_proto::ParseError>(())
    /// ```
    pub fn from_event_ref(event: &EventRef<'_>) -> Self {
        Frame::from_fields(event.fields())
    }

    fn from_fields(event: EventFields<'_>) -> Self {
        let len = fields_encoded_len(event);
        let mut buf = Vec::with_capacity(len);
        let written = encode_known_len(event, len, &mut buf);
        debug_assert_eq!(written, Ok(len));
        debug_assert_eq!(buf.len(), buf.capacity());
        Frame {
            // `len == capacity`, so this keeps the allocation as it is.
            bytes: Bytes::from(buf),
            id: event_id_range(event),
        }
    }

    /// Encodes any [`Message`] once into a new frame (one allocation of
    /// [`Message::encoded_len`] bytes). The frame's id is the message's
    /// ([`Message::id`]): an event's id, or an id-only block's.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_proto::{Frame, Message};
    ///
    /// let checkpoint = Frame::from_message(&Message::id_only("42")?);
    /// assert_eq!(checkpoint.as_bytes(), &b"id: 42\n\n"[..]);
    /// assert_eq!(checkpoint.id(), Some("42"));
    ///
    /// let retry = Frame::from_message(&Message::retry(Duration::from_secs(3)));
    /// assert_eq!(retry.as_bytes(), &b"retry: 3000\n\n"[..]);
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn from_message(message: &Message) -> Self {
        let len = message.encoded_len();
        let mut buf = Vec::with_capacity(len);
        let written = message.encode_known_len(len, &mut buf);
        debug_assert_eq!(written, Ok(len));
        debug_assert_eq!(buf.len(), buf.capacity());
        Frame {
            bytes: Bytes::from(buf),
            id: message.id_range(),
        }
    }

    /// The default keep-alive: the comment `: ping` and an empty line. Receivers ignore it
    /// (a [`Parser`](crate::Parser) reports it only with
    /// [`ParserConfig::emit_comments`](crate::ParserConfig::emit_comments)), but proxies and
    /// load balancers see traffic and keep the connection open. Static: allocates nothing.
    ///
    /// # Example
    ///
    /// ```
    /// let ping = sse_proto::Frame::keep_alive();
    /// assert_eq!(ping.as_bytes(), &b": ping\n\n"[..]);
    /// assert_eq!(ping.id(), None);
    /// ```
    pub fn keep_alive() -> Self {
        Frame {
            bytes: Bytes::from_static(KEEP_ALIVE),
            id: None,
        }
    }

    /// A keep-alive that browsers see: an event of type `name` with empty data, delivered to
    /// `addEventListener(name, ...)` listeners. Encode it once and clone it for each ping.
    ///
    /// # Errors
    ///
    /// [`EncodeError::LineBreak`] (field [`Field::Event`](crate::Field::Event)) when `name`
    /// contains CR or LF.
    ///
    /// # Example
    ///
    /// ```
    /// let ping = sse_proto::Frame::ping_event("ping")?;
    /// assert_eq!(ping.as_bytes(), &b"event: ping\ndata: \n\n"[..]);
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn ping_event(name: impl Into<Utf8Bytes>) -> Result<Self, EncodeError> {
        Ok(Frame::from_event(&Event::builder().event(name).build()?))
    }

    /// The wire bytes; clone them to hand to a transport (a reference-count bump).
    ///
    /// # Example
    ///
    /// ```
    /// let frame = sse_proto::Frame::from_event(&sse_proto::Event::new("x"));
    /// let to_send: bytes::Bytes = frame.as_bytes().clone();
    /// assert_eq!(&to_send[..], b"data: x\n\n");
    /// ```
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The id the frame carries (an event's id or an id-only block's), `None` for events
    /// without an id, retries, comments and keep-alives. `Some("")` is an id that resets the
    /// receiver's last event ID.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Event, Frame};
    ///
    /// let event = Event::builder().event("e").id("id-1").data("d").build()?;
    /// assert_eq!(Frame::from_event(&event).id(), Some("id-1"));
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn id(&self) -> Option<&str> {
        let (start, len) = self.id?;
        let id = self.bytes.get(start..start + len)?;
        // Always valid: the range was taken from a `str` copied verbatim into the frame.
        core::str::from_utf8(id).ok()
    }

    /// Gives up the id and returns the wire bytes.
    ///
    /// # Example
    ///
    /// ```
    /// let bytes = sse_proto::Frame::keep_alive().into_bytes();
    /// assert_eq!(&bytes[..], b": ping\n\n");
    /// ```
    pub fn into_bytes(self) -> bytes::Bytes {
        self.bytes
    }

    /// Length of the wire bytes.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(sse_proto::Frame::keep_alive().len(), 8);
    /// ```
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the frame has no bytes; never true for the frames this crate builds (every
    /// message ends with an empty line).
    ///
    /// # Example
    ///
    /// ```
    /// assert!(!sse_proto::Frame::keep_alive().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl AsRef<[u8]> for Frame {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl From<Frame> for Bytes {
    fn from(frame: Frame) -> Bytes {
        frame.bytes
    }
}

/// What an idle connection sends to stay open: the user's choice between a comment that no
/// listener sees (the default) and an event that browser code can observe.
///
/// # Example
///
/// ```
/// use sse_proto::KeepAlivePing;
///
/// let quiet = KeepAlivePing::default().frame();
/// assert_eq!(quiet.as_bytes(), &b": ping\n\n"[..]);
///
/// let visible = KeepAlivePing::event("heartbeat")?.frame();
/// assert_eq!(visible.as_bytes(), &b"event: heartbeat\ndata: \n\n"[..]);
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeepAlivePing {
    /// The comment `: ping` ([`Frame::keep_alive`]): no listener sees it, and it allocates
    /// nothing.
    #[default]
    Comment,
    /// An event listeners can see (for a client that wants to detect a dead connection
    /// itself). Usually built with [`KeepAlivePing::event`]: a named event with empty data.
    Event(Event),
}

impl KeepAlivePing {
    /// A visible ping: an event of type `name` with empty data.
    ///
    /// # Errors
    ///
    /// [`EncodeError::LineBreak`] (field [`Field::Event`](crate::Field::Event)) when `name`
    /// contains CR or LF.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{EncodeError, Field, KeepAlivePing};
    ///
    /// assert!(KeepAlivePing::event("ping").is_ok());
    /// assert_eq!(
    ///     KeepAlivePing::event("x\ny"),
    ///     Err(EncodeError::LineBreak { field: Field::Event })
    /// );
    /// ```
    pub fn event(name: impl Into<Utf8Bytes>) -> Result<Self, EncodeError> {
        Ok(KeepAlivePing::Event(Event::builder().event(name).build()?))
    }

    /// The frame to send. Static for [`Comment`](Self::Comment); one encode for
    /// [`Event`](Self::Event), so call it once and clone the frame for each ping.
    ///
    /// # Example
    ///
    /// ```
    /// let frame = sse_proto::KeepAlivePing::Comment.frame();
    /// assert_eq!(frame, sse_proto::Frame::keep_alive());
    /// ```
    pub fn frame(&self) -> Frame {
        match self {
            KeepAlivePing::Comment => Frame::keep_alive(),
            KeepAlivePing::Event(event) => Frame::from_event(event),
        }
    }
}
