//! JSON payloads (feature `json`): serialize a value straight into an event's data.
//!
//! The value is serialized once, compactly, into the buffer that becomes the event's data
//! (no copy afterwards). Compact JSON never contains a raw line break (serde_json escapes
//! them inside strings), so it goes out as a single `data:` line; should a value still carry
//! one (a pre-serialized raw value, say), the encoder splits it like any other data and the
//! receiver gets the same JSON back, with CR and CRLF read as LF.

use serde::Serialize;

use crate::event::{Event, EventBuilder};
use crate::utf8::Utf8Bytes;

/// Serializes `value` as compact JSON into a [`Utf8Bytes`] to use as data.
///
/// # Errors
///
/// The [`serde_json::Error`] of serialization: a map with non-string keys, or a `Serialize`
/// implementation that fails.
///
/// # Example
///
/// ```
/// use sse_proto::{json_data, Event};
///
/// let data = json_data(&serde_json::json!({"token": "Hel", "index": 0}))?;
/// let event = Event::builder().event("delta").data(data).build()?;
/// assert_eq!(event.data(), r#"{"index":0,"token":"Hel"}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn json_data<T: Serialize + ?Sized>(value: &T) -> Result<Utf8Bytes, serde_json::Error> {
    serde_json::to_string(value).map(Utf8Bytes::from)
}

impl Event {
    /// A `message` event whose data is `value` serialized as compact JSON.
    ///
    /// # Errors
    ///
    /// The [`serde_json::Error`] of serialization (see [`json_data`]).
    ///
    /// # Example
    ///
    /// ```
    /// let event = sse_proto::Event::json(&[1, 2, 3])?;
    /// assert_eq!(event.data(), "[1,2,3]");
    /// assert_eq!(sse_proto::Frame::from_event(&event).as_bytes(), &b"data: [1,2,3]\n\n"[..]);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Event, serde_json::Error> {
        Ok(Event::new(json_data(value)?))
    }
}

impl EventBuilder {
    /// Sets the data to `value` serialized as compact JSON.
    ///
    /// # Errors
    ///
    /// The [`serde_json::Error`] of serialization (see [`json_data`]).
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::Event;
    ///
    /// let event = Event::builder()
    ///     .event("update")
    ///     .id("7")
    ///     .json_data(&serde_json::json!({"text": "two\nlines"}))?
    ///     .build()?;
    /// // The newline is escaped inside the JSON string: one data line.
    /// assert_eq!(event.data(), r#"{"text":"two\nlines"}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn json_data<T: Serialize + ?Sized>(self, value: &T) -> Result<Self, serde_json::Error> {
        Ok(self.data(json_data(value)?))
    }
}
