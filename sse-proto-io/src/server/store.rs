//! [`Store`]: where a [`Hub`](super::Hub) keeps its history for resuming clients.

use sse_proto::{Frame, Replay, ResumeBuffer};

/// What a [`Store`] has for a client that reconnects with a `Last-Event-ID`.
///
/// # Example
///
/// ```
/// use sse_proto::{Event, Frame, ResumeBuffer};
/// use sse_proto_io::server::{History, Store};
///
/// let mut store = ResumeBuffer::default();
/// store.keep(&Frame::from_event(&Event::builder().id("1").data("a").build()?));
/// assert_eq!(store.history_after("1"), History::UpToDate);
/// assert_eq!(store.history_after("0"), History::Unknown);
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum History {
    /// The frames after that id, oldest first (never empty).
    Frames(Vec<Frame>),
    /// That id is the newest: nothing missed.
    UpToDate,
    /// The store does not know the id (evicted, from before a restart, never sent): frames
    /// may be missing, so the client needs a full state.
    Unknown,
}

/// The history of a [`Hub`](super::Hub): every published frame goes in, and a resuming client
/// gets what followed its last event ID. [`ResumeBuffer`] (bounded, in memory) is the
/// default; another store (shared between instances, say) implements this.
///
/// Both methods run under the hub's lock, so that nothing is published between a replay and
/// the live feed: keep them quick, and never block in them.
///
/// # Example: a store that keeps nothing
///
/// ```
/// use sse_proto::Frame;
/// use sse_proto_io::server::{History, Hub, Store};
///
/// struct Forgetful;
///
/// impl Store for Forgetful {
///     fn keep(&mut self, _frame: &Frame) {}
///     fn history_after(&self, _last_event_id: &str) -> History {
///         History::Unknown
///     }
/// }
///
/// let hub = Hub::with_store(Forgetful, Default::default());
/// assert_eq!(hub.stats().subscribers, 0);
/// ```
pub trait Store: Send + 'static {
    /// Keeps `frame`, the newest published (the store decides which frames to keep: a
    /// [`ResumeBuffer`] keeps those with an id, within its limits).
    fn keep(&mut self, frame: &Frame);

    /// What followed the frame with `last_event_id`.
    fn history_after(&self, last_event_id: &str) -> History;
}

impl Store for ResumeBuffer {
    fn keep(&mut self, frame: &Frame) {
        // Whether it was kept shows later, as a hit or a miss.
        let _ = self.push(frame.clone());
    }

    fn history_after(&self, last_event_id: &str) -> History {
        match self.replay_after(last_event_id) {
            Replay::Frames(frames) => History::Frames(frames.cloned().collect()),
            Replay::UpToDate => History::UpToDate,
            Replay::Unknown => History::Unknown,
        }
    }
}
