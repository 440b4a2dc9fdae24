//! The messages the round-trip tests and fuzz target send, and what a receiver must report
//! for them: the encoder's contract in a few lines. Included with `#[path]` by
//! `tests/roundtrip.rs` and `fuzz/fuzz_targets/roundtrip.rs`, next to `naive.rs`.
#![allow(dead_code)]

use std::time::Duration;

use sse_proto::{EncodeError, Event};

use crate::naive::Out;

/// A message to send, with the plain values it was made from (to compute the expectation).
#[derive(Clone, Debug)]
pub enum Sent {
    Event {
        event_type: Option<String>,
        data: String,
        id: Option<String>,
        retry: Option<Duration>,
    },
    IdOnly(String),
    Retry(Duration),
    Comment(String),
}

impl Sent {
    /// Builds the event of a `Sent::Event` from its plain values (validated by the builder).
    ///
    /// # Panics
    ///
    /// On any other kind of message.
    pub fn build_event(&self) -> Result<Event, EncodeError> {
        let Sent::Event {
            event_type,
            data,
            id,
            retry,
        } = self
        else {
            panic!("not an event: {self:?}");
        };
        let mut builder = Event::builder().data(data.clone());
        if let Some(event_type) = event_type {
            builder = builder.event(event_type.clone());
        }
        if let Some(id) = id {
            builder = builder.id(id.clone());
        }
        if let Some(retry) = retry {
            builder = builder.retry(*retry);
        }
        builder.build()
    }
}

/// CR and CRLF read as LF, as every receiver does.
pub fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// A delay as a receiver reads it: whole milliseconds, capped at `u64::MAX`.
fn retry_millis(delay: &Duration) -> Out {
    Out::Retry(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX))
}

/// What a receiver reports for `sent`, in order, and its final last event ID. A retry sent
/// inside an event's block is reported on its own, before that event.
pub fn expected(sent: &[Sent]) -> (Vec<Out>, String) {
    let mut out = Vec::new();
    let mut last_event_id: Option<String> = None;
    for message in sent {
        match message {
            Sent::Event {
                event_type,
                data,
                id,
                retry,
            } => {
                out.extend(retry.as_ref().map(retry_millis));
                if id.is_some() {
                    last_event_id.clone_from(id);
                }
                out.push(Out::Event {
                    event_type: match event_type.as_deref() {
                        None | Some("") => "message".to_string(),
                        Some(event_type) => event_type.to_string(),
                    },
                    data: normalise(data),
                    id: last_event_id.clone(),
                });
            }
            Sent::IdOnly(id) => last_event_id = Some(id.clone()),
            Sent::Retry(delay) => out.push(retry_millis(delay)),
            Sent::Comment(text) => {
                for line in normalise(text).split('\n') {
                    out.push(Out::Comment(line.to_string()));
                }
            }
        }
    }
    (out, last_event_id.unwrap_or_default())
}
