//! [`ResumeBuffer`]: recent frames, replayed to a client that reconnects with a
//! `Last-Event-ID`.

use alloc::collections::vec_deque::{self, VecDeque};

use crate::frame::Frame;

/// Bounds of a [`ResumeBuffer`]: both apply, the oldest frames go first.
///
/// # Example
///
/// ```
/// use sse_proto::{ResumeBuffer, ResumeLimits};
///
/// let mut limits = ResumeLimits::default();
/// limits.max_frames = 100;
/// limits.max_bytes = 64 * 1024;
/// let buffer = ResumeBuffer::new(limits);
/// assert_eq!(buffer.limits().max_frames, 100);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ResumeLimits {
    /// Most frames kept. Default [`DEFAULT_MAX_FRAMES`](Self::DEFAULT_MAX_FRAMES) (1024).
    pub max_frames: usize,
    /// Most bytes of frames kept (their wire length). A frame larger than this alone is
    /// never kept, and clears the buffer (see [`ResumeBuffer::push`]). Default
    /// [`DEFAULT_MAX_BYTES`](Self::DEFAULT_MAX_BYTES) (1 MiB).
    pub max_bytes: usize,
}

impl ResumeLimits {
    /// Default [`max_frames`](Self::max_frames): 1024, minutes of history for a stream of a
    /// few events a second, which covers a reconnection after a network change.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::ResumeLimits;
    ///
    /// assert_eq!(ResumeLimits::default().max_frames, ResumeLimits::DEFAULT_MAX_FRAMES);
    /// ```
    pub const DEFAULT_MAX_FRAMES: usize = 1024;
    /// Default [`max_bytes`](Self::max_bytes): 1 MiB per stream.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::ResumeLimits;
    ///
    /// assert_eq!(ResumeLimits::default().max_bytes, ResumeLimits::DEFAULT_MAX_BYTES);
    /// ```
    pub const DEFAULT_MAX_BYTES: usize = 1024 * 1024;
}

impl Default for ResumeLimits {
    fn default() -> Self {
        ResumeLimits {
            max_frames: Self::DEFAULT_MAX_FRAMES,
            max_bytes: Self::DEFAULT_MAX_BYTES,
        }
    }
}

/// What a reconnecting client should be sent, from [`ResumeBuffer::replay_after`].
///
/// # Example
///
/// ```
/// use sse_proto::{Event, Frame, Replay, ResumeBuffer};
///
/// let mut buffer = ResumeBuffer::default();
/// buffer.push(Frame::from_event(&Event::builder().id("1").data("a").build()?));
/// assert!(matches!(buffer.replay_after("1"), Replay::UpToDate));
/// assert!(matches!(buffer.replay_after("0"), Replay::Unknown));
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
#[must_use]
#[derive(Clone, Debug)]
pub enum Replay<'a> {
    /// Send these frames, oldest first (never empty), then carry on live.
    Frames(ReplayFrames<'a>),
    /// The client has seen the newest frame: just carry on live.
    UpToDate,
    /// The id is not in the buffer: evicted, never sent, sent before a restart, or empty.
    /// Frames may be missing, so send the client a full state instead.
    Unknown,
}

/// The frames to replay, oldest first: an iterator of `&Frame` (clone each one to send it,
/// a reference-count bump).
///
/// # Example
///
/// ```
/// use sse_proto::{Event, Frame, Replay, ResumeBuffer};
///
/// let mut buffer = ResumeBuffer::default();
/// for id in ["1", "2", "3"] {
///     buffer.push(Frame::from_event(&Event::builder().id(id).data(id).build()?));
/// }
/// let Replay::Frames(frames) = buffer.replay_after("1") else { panic!() };
/// assert_eq!(frames.len(), 2);
/// let ids: Vec<_> = frames.map(|frame| frame.id()).collect();
/// assert_eq!(ids, [Some("2"), Some("3")]);
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ReplayFrames<'a>(vec_deque::Iter<'a, Frame>);

impl<'a> Iterator for ReplayFrames<'a> {
    type Item = &'a Frame;

    fn next(&mut self) -> Option<&'a Frame> {
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for ReplayFrames<'_> {}

impl DoubleEndedIterator for ReplayFrames<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back()
    }
}

/// The recent frames of one stream, bounded by count and bytes, so a client that
/// reconnects gets what it missed. A reconnecting `EventSource` sends the last event ID it
/// has seen (set by the stream's latest `id:` field) in a `Last-Event-ID` request header,
/// as the [standard] prescribes; this buffer finds that id and hands back the frames after
/// it.
///
/// [standard]: https://html.spec.whatwg.org/multipage/server-sent-events.html
///
/// Only frames with an id are kept (events with an `id:`, id-only checkpoints): a position
/// in the stream is an id, and a client can only resume after one. So give an id to every
/// event a resuming client must not miss: id-less events are never replayed. Frames hold
/// reference-counted bytes, so keeping one costs no copy.
///
/// # Call order
///
/// - For each frame sent to the stream's clients: [`push`](Self::push) a clone.
/// - When a client connects with a `Last-Event-ID`
///   ([`parse_last_event_id`](crate::parse_last_event_id)):
///   [`replay_after`](Self::replay_after), send what it says, then send live frames.
///   Hold the same lock across both steps (or push under it) so no frame falls between
///   the replay and the live stream.
///
/// # Example: the whole loop over a fake transport
///
/// ```
/// use bytes::Bytes;
/// use sse_proto::{parse_last_event_id, Event, Frame, Replay, ResumeBuffer};
///
/// let mut buffer = ResumeBuffer::default();
/// let mut live: Vec<Bytes> = Vec::new(); // the first client's transport
/// for n in 1..=5 {
///     let frame = Frame::from_event(&Event::builder().id(n.to_string()).data("x").build()?);
///     live.push(frame.as_bytes().clone());
///     buffer.push(frame);
/// }
///
/// // A client reconnects: its request carries `Last-Event-ID: 3`.
/// let header: &[u8] = b"3";
/// let mut transport: Vec<Bytes> = Vec::new();
/// match parse_last_event_id(header) {
///     Ok(Some(id)) => match buffer.replay_after(id) {
///         Replay::Frames(frames) => transport.extend(frames.map(|f| f.as_bytes().clone())),
///         Replay::UpToDate => {}
///         Replay::Unknown => transport.push(Bytes::from("event: full-state\ndata: ...\n\n")),
///     },
///     Ok(None) | Err(_) => transport.push(Bytes::from("event: full-state\ndata: ...\n\n")),
/// }
/// assert_eq!(transport, live[3..]);
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ResumeBuffer {
    frames: VecDeque<Frame>,
    bytes: usize,
    limits: ResumeLimits,
}

impl ResumeBuffer {
    /// An empty buffer with these limits.
    ///
    /// # Example
    ///
    /// ```
    /// let buffer = sse_proto::ResumeBuffer::new(Default::default());
    /// assert!(buffer.is_empty());
    /// ```
    pub fn new(limits: ResumeLimits) -> Self {
        ResumeBuffer {
            frames: VecDeque::new(),
            bytes: 0,
            limits,
        }
    }

    /// The limits in use.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{ResumeBuffer, ResumeLimits};
    ///
    /// assert_eq!(ResumeBuffer::default().limits().max_frames, ResumeLimits::DEFAULT_MAX_FRAMES);
    /// ```
    pub fn limits(&self) -> ResumeLimits {
        self.limits
    }

    /// Keeps `frame` as the newest, evicting the oldest frames until both limits hold.
    /// Returns whether it was kept.
    ///
    /// Not kept: a frame without an id (it is no position to resume from), and a frame
    /// larger than [`ResumeLimits::max_bytes`]. The latter also clears the buffer: a client
    /// that resumes from an older id would otherwise be sent the frames around it without
    /// it, so it gets [`Replay::Unknown`] (a full state) instead.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Event, Frame, ResumeBuffer};
    ///
    /// let mut buffer = ResumeBuffer::default();
    /// assert!(!buffer.push(Frame::keep_alive()));
    /// assert!(buffer.push(Frame::from_event(&Event::builder().id("1").build()?)));
    /// assert_eq!(buffer.len(), 1);
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn push(&mut self, frame: Frame) -> bool {
        if frame.id().is_none() {
            return false;
        }
        if frame.len() > self.limits.max_bytes {
            self.clear();
            return false;
        }
        self.bytes += frame.len();
        self.frames.push_back(frame);
        while self.frames.len() > self.limits.max_frames || self.bytes > self.limits.max_bytes {
            if let Some(evicted) = self.frames.pop_front() {
                self.bytes -= evicted.len();
            }
        }
        !self.frames.is_empty()
    }

    /// What to send a client whose last event ID is `last_event_id`: the frames after the
    /// newest frame with that id, [`Replay::UpToDate`] when that is the newest frame, or
    /// [`Replay::Unknown`] when no frame kept has that id (or it is empty: a client with no
    /// last event ID needs the full state).
    ///
    /// Ids are compared exactly. An id that starts or ends with a space or tab cannot arrive
    /// intact in an HTTP header, so such ids end up `Unknown`; avoid them.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Event, Frame, Replay, ResumeBuffer, ResumeLimits};
    ///
    /// let mut limits = ResumeLimits::default();
    /// limits.max_frames = 2;
    /// let mut buffer = ResumeBuffer::new(limits);
    /// for id in ["a", "b", "c"] {
    ///     buffer.push(Frame::from_event(&Event::builder().id(id).data("x").build()?));
    /// }
    /// assert!(matches!(buffer.replay_after("a"), Replay::Unknown)); // evicted
    /// assert!(matches!(buffer.replay_after("b"), Replay::Frames(f) if f.len() == 1));
    /// assert!(matches!(buffer.replay_after("c"), Replay::UpToDate));
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn replay_after(&self, last_event_id: &str) -> Replay<'_> {
        if last_event_id.is_empty() {
            return Replay::Unknown;
        }
        match self
            .frames
            .iter()
            .rposition(|frame| frame.id() == Some(last_event_id))
        {
            None => Replay::Unknown,
            Some(found) if found + 1 == self.frames.len() => Replay::UpToDate,
            Some(found) => Replay::Frames(ReplayFrames(self.frames.range(found + 1..))),
        }
    }

    /// The id of the newest frame kept.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Event, Frame, ResumeBuffer};
    ///
    /// let mut buffer = ResumeBuffer::default();
    /// assert_eq!(buffer.newest_id(), None);
    /// buffer.push(Frame::from_event(&Event::builder().id("7").build()?));
    /// assert_eq!(buffer.newest_id(), Some("7"));
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn newest_id(&self) -> Option<&str> {
        self.frames.back().and_then(Frame::id)
    }

    /// Number of frames kept.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(sse_proto::ResumeBuffer::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether no frame is kept.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(sse_proto::ResumeBuffer::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Total wire length of the frames kept.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Event, Frame, ResumeBuffer};
    ///
    /// let mut buffer = ResumeBuffer::default();
    /// buffer.push(Frame::from_event(&Event::builder().id("1").data("x").build()?));
    /// assert_eq!(buffer.total_bytes(), "id: 1\ndata: x\n\n".len());
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn total_bytes(&self) -> usize {
        self.bytes
    }

    /// Forgets every frame (for instance when the stream's state is reset): every id becomes
    /// [`Replay::Unknown`].
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{Event, Frame, Replay, ResumeBuffer};
    ///
    /// let mut buffer = ResumeBuffer::default();
    /// buffer.push(Frame::from_event(&Event::builder().id("1").build()?));
    /// buffer.clear();
    /// assert!(matches!(buffer.replay_after("1"), Replay::Unknown));
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn clear(&mut self) {
        self.frames.clear();
        self.bytes = 0;
    }
}
