//! The scripted sequence behind `/events/script`: what the reconnect test and the browser
//! test expect to receive, exactly once each, across a connection the server cuts.
//!
//! On a connection without `Last-Event-ID` the server sends every item up to
//! [`CUT_AFTER_ID`], then the first bytes of the next event (its `id:` line included) and
//! drops the connection mid-event. The client must discard the half event, keep `6` as its
//! last event ID (an `id:` only counts once its event is dispatched), wait the reconnection
//! time the stream set just before the cut ([`RETRY_AT_CUT`]) and reconnect with
//! `Last-Event-ID: 6`; the server then sends the items after id 6.

use std::time::Duration;

use sse_proto::{Event, Message};

/// The reconnection time set at the start of the stream.
pub const RETRY_AT_START: Duration = Duration::from_millis(2000);
/// The reconnection time set just before the cut: the client's wait before reconnecting.
pub const RETRY_AT_CUT: Duration = Duration::from_millis(300);
/// The id of the last event sent whole before the cut.
pub const CUT_AFTER_ID: &str = "6";
/// The bytes of the next event sent before the connection is dropped.
pub const CUT_PARTIAL: &[u8] = b"id: 7\nevent: greeting\ndata: this event is cut in the mid";
/// The type of the last event; the receivers stop there.
pub const END_TYPE: &str = "end";

/// One event as a browser's `MessageEvent` shows it: type, data, lastEventId.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Seen {
    /// `MessageEvent.type`.
    pub event: String,
    /// `MessageEvent.data`.
    pub data: String,
    /// `MessageEvent.lastEventId`.
    pub last_event_id: String,
}

impl Seen {
    /// What a parsed event shows.
    pub fn of(event: &Event) -> Self {
        Seen {
            event: event.event_type().to_owned(),
            data: event.data().to_owned(),
            last_event_id: event.last_event_id().to_owned(),
        }
    }
}

fn event(event_type: Option<&str>, id: Option<&str>, data: &str) -> Message {
    let mut builder = Event::builder().data(data.to_owned());
    if let Some(event_type) = event_type {
        builder = builder.event(event_type.to_owned());
    }
    if let Some(id) = id {
        builder = builder.id(id.to_owned());
    }
    Message::event(builder.build().expect("the script's events are valid"))
}

/// The whole sequence, in order.
pub fn items() -> Vec<Message> {
    vec![
        Message::retry(RETRY_AT_START),
        Message::comment("script start"),
        event(None, Some("1"), "plain"),
        event(Some("greeting"), Some("2"), "héllo wörld ✓ 日本語 🎉"),
        event(None, Some("3"), "line one\nline two\n\nline four"),
        event(
            Some("spaces"),
            Some("4"),
            "  two leading spaces\ttab\u{2028}U+2028",
        ),
        event(Some("empty"), Some("5"), ""),
        event(None, None, "no id here: lastEventId stays 5"),
        Message::retry(RETRY_AT_CUT),
        event(Some("json"), Some("6"), r#"{"json":true,"n":[1,2,3]}"#),
        // The cut comes here on a first connection.
        event(
            Some("greeting"),
            Some("7"),
            "this event is cut in the middle on the first connection",
        ),
        event(None, Some("8"), "a trailing newline\n"),
        event(None, None, "after 8, without an id"),
        event(Some(END_TYPE), Some("9"), "bye"),
    ]
}

/// The index in [`items`] just after the item with this id (where a resumed stream starts),
/// or `None` for an id the script does not have.
pub fn resume_index(last_event_id: &str) -> Option<usize> {
    items()
        .iter()
        .position(|m| m.id() == Some(last_event_id))
        .map(|i| i + 1)
}

/// The index in [`items`] of the event with [`CUT_AFTER_ID`].
pub fn cut_index() -> usize {
    resume_index(CUT_AFTER_ID).expect("the cut id is in the script")
}

/// Every event a receiver must see, in order, with the lastEventId it must show.
pub fn expected() -> Vec<Seen> {
    let mut last_event_id = String::new();
    let mut seen = Vec::new();
    for item in items() {
        if let Some(id) = item.id() {
            last_event_id = id.to_owned();
        }
        if let Some(event) = item.as_event() {
            seen.push(Seen {
                event: event.event_type().to_owned(),
                data: event.data().to_owned(),
                last_event_id: last_event_id.clone(),
            });
        }
    }
    seen
}
