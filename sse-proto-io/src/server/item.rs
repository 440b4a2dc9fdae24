//! What a body's stream may yield: [`IntoFrame`] messages, [`Raw`] bytes, and `Result`s of
//! them ([`SseItem`]).

use bytes::Bytes;
use sse_proto::{Event, Frame, Message};

/// A boxed error from a producer stream: what [`BodyError::Producer`](super::BodyError::Producer)
/// carries.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A message that becomes one [`Frame`]: what [`Hub::publish`](super::Hub::publish) takes,
/// and what an [`Sse`](super::Sse) body's stream yields.
///
/// Implemented for [`Frame`] (sent as it is: encode once, share with many), [`Event`] and
/// [`Message`] (encoded once, when taken).
///
/// # Example
///
/// ```
/// use sse_proto::{Event, Frame, Message};
/// use sse_proto_io::server::IntoFrame;
///
/// assert_eq!(Event::new("x").into_frame().as_bytes(), &b"data: x\n\n"[..]);
/// assert_eq!(Message::comment("c").into_frame().as_bytes(), &b": c\n\n"[..]);
/// assert_eq!(Frame::keep_alive().into_frame(), Frame::keep_alive());
/// ```
pub trait IntoFrame {
    /// The frame to write.
    fn into_frame(self) -> Frame;
}

impl IntoFrame for Frame {
    fn into_frame(self) -> Frame {
        self
    }
}

impl IntoFrame for Event {
    fn into_frame(self) -> Frame {
        Frame::from_event(&self)
    }
}

impl IntoFrame for Message {
    fn into_frame(self) -> Frame {
        Frame::from_message(&self)
    }
}

/// Bytes an [`Sse`](super::Sse) body writes as they are, unchecked: for a relay that
/// forwards an upstream event stream's bytes without parsing them, or a test that cuts an
/// event in half.
///
/// Nothing checks that they form a well-formed stream, and a keep-alive ping or the closing
/// frame written after bytes that end inside an event would complete that event with the
/// ping's lines: end raw bytes on an empty line, or end the stream (or fail it) right after.
/// Prefer [`Frame`]s, which are valid by construction.
///
/// # Example
///
/// ```
/// use sse_proto_io::server::{Raw, SseItem};
///
/// let upstream = bytes::Bytes::from_static(b"data: relayed\n\n");
/// assert_eq!(Raw(upstream.clone()).into_item().unwrap(), upstream);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Raw(pub Bytes);

/// What an [`Sse`](super::Sse) body's stream may yield: any [`IntoFrame`] message, [`Raw`]
/// bytes, or a `Result` of either, whose `Err` aborts the response (hyper closes the
/// connection without ending the body, and the client reconnects). Hyper closes at once:
/// bytes handed out just before the error may not have been flushed yet.
///
/// # Example
///
/// ```
/// use sse_proto::Event;
/// use sse_proto_io::server::SseItem;
///
/// assert_eq!(&Event::new("x").into_item().unwrap()[..], b"data: x\n\n");
/// let failed: Result<Event, std::io::Error> = Err(std::io::ErrorKind::BrokenPipe.into());
/// assert!(failed.into_item().is_err());
/// ```
pub trait SseItem {
    /// The bytes to write, or the error that aborts the response.
    ///
    /// # Errors
    ///
    /// The producer's own error, for a `Result` item.
    fn into_item(self) -> Result<Bytes, BoxError>;
}

impl SseItem for Frame {
    fn into_item(self) -> Result<Bytes, BoxError> {
        Ok(self.into_bytes())
    }
}

impl SseItem for Event {
    fn into_item(self) -> Result<Bytes, BoxError> {
        Ok(self.into_frame().into_bytes())
    }
}

impl SseItem for Message {
    fn into_item(self) -> Result<Bytes, BoxError> {
        Ok(self.into_frame().into_bytes())
    }
}

impl SseItem for Raw {
    fn into_item(self) -> Result<Bytes, BoxError> {
        Ok(self.0)
    }
}

impl<T: SseItem, E: Into<BoxError>> SseItem for Result<T, E> {
    fn into_item(self) -> Result<Bytes, BoxError> {
        self.map_err(Into::into)?.into_item()
    }
}
