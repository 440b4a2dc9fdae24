//! [`Hub`]: one producer, many subscribers, each event encoded once.

use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_core::Stream;
use sse_proto::{Frame, ResumeBuffer};

use super::item::IntoFrame;
use super::store::{History, Store};

/// Settings of a [`Hub`].
///
/// # Example
///
/// ```
/// use sse_proto_io::server::HubConfig;
///
/// let mut config = HubConfig::default();
/// assert_eq!(config.capacity, HubConfig::DEFAULT_CAPACITY);
/// config.capacity = 64;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HubConfig {
    /// Frames a subscriber may have waiting (published, not yet taken by its body) before
    /// it is disconnected. Default [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY) (256). At
    /// least 1 (0 is taken as 1). Replayed frames do not count against it.
    pub capacity: usize,
}

impl HubConfig {
    /// Default [`capacity`](Self::capacity): 256 frames, a few seconds of a busy stream; a
    /// subscriber further behind than that is better served by a resume from the history.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(sse_proto_io::server::HubConfig::DEFAULT_CAPACITY, 256);
    /// ```
    pub const DEFAULT_CAPACITY: usize = 256;
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            capacity: Self::DEFAULT_CAPACITY,
        }
    }
}

/// How a subscription began: what its `Last-Event-ID` found in the history.
///
/// # Example
///
/// ```
/// use sse_proto_io::server::{Hub, Resume};
///
/// let hub = Hub::new(Default::default());
/// assert_eq!(hub.subscribe(None).resume(), Resume::New);
/// assert_eq!(hub.subscribe(Some("41")).resume(), Resume::Unknown);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Resume {
    /// No `Last-Event-ID`: a new client (the full state, if any, went first).
    New,
    /// The history had the id: these many frames were replayed before the live feed.
    Replayed(usize),
    /// The id was the newest: the live feed follows at once.
    UpToDate,
    /// The history did not know the id: frames may be missing (the full state, if any, went
    /// first).
    Unknown,
}

/// Why a [`Subscription`] ended (after the frames it had queued).
///
/// # Example
///
/// ```
/// use sse_proto_io::server::{End, Hub};
///
/// let hub = Hub::new(Default::default());
/// let subscription = hub.subscribe(None);
/// hub.close();
/// assert_eq!(subscription.ended(), Some(End::Closed));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum End {
    /// The subscriber fell [`HubConfig::capacity`] frames behind and was disconnected. Its
    /// stream ends after the frames it had, so its client reconnects with the id of the last
    /// one and resumes from the history: slow, but nothing lost.
    Lagged,
    /// [`Hub::close`] was called.
    Closed,
}

/// The hub's counters, for export ([`Hub::stats`]).
///
/// # Example
///
/// ```
/// let hub = sse_proto_io::server::Hub::new(Default::default());
/// let stats = hub.stats();
/// assert_eq!((stats.subscribers, stats.published, stats.lagged), (0, 0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct HubStats {
    /// Subscriptions alive now.
    pub subscribers: usize,
    /// Subscriptions made so far.
    pub subscribed: u64,
    /// Frames published so far.
    pub published: u64,
    /// Subscribers disconnected for falling behind ([`End::Lagged`]).
    pub lagged: u64,
    /// Subscriptions whose `Last-Event-ID` the history knew ([`Resume::Replayed`],
    /// [`Resume::UpToDate`]).
    pub resume_hits: u64,
    /// Subscriptions whose `Last-Event-ID` it did not ([`Resume::Unknown`]).
    pub resume_misses: u64,
}

#[derive(Debug, Default)]
struct Counters {
    subscribers: AtomicUsize,
    subscribed: AtomicU64,
    published: AtomicU64,
    lagged: AtomicU64,
    resume_hits: AtomicU64,
    resume_misses: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // State behind these locks stays consistent at every step, so a panic elsewhere while
    // holding one leaves it usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A broadcast hub: publish a message once, and every subscriber's stream gets the same
/// encoded [`Frame`] (one encode, then a reference-count bump each). Subscribers that
/// reconnect with a `Last-Event-ID` get what they missed from the history (a [`Store`],
/// [`ResumeBuffer`] by default), then the live feed.
///
/// - **No gap, no duplicate at the hand-over.** The replay is read and the subscriber
///   registered under the lock that [`publish`](Self::publish) takes, so each frame is
///   either in the replay or in the live feed, never both, never neither.
/// - **Unknown id.** When there is no `Last-Event-ID`, or the history does not know it, the
///   frames from [`subscribe_with`](Self::subscribe_with)'s `full_state` go first (built
///   under the same lock, from the newest frame published), and
///   [`Subscription::resume`] says which case it was.
/// - **Slow subscribers are disconnected, never silently skipped.** Each subscriber has a
///   queue of [`HubConfig::capacity`] frames. A publish that finds it full ends that
///   subscription ([`End::Lagged`]) after the frames it already has: its body ends, its
///   client reconnects with the id of the last frame it got and resumes from the history.
///   Give every frame an id so that resume is exact (the history keeps only frames with an
///   id). Publishing never waits for a subscriber, and a subscriber whose client stopped
///   reading costs at most `capacity` queued frames (reference counts, not copies) before it
///   is let go, even while its connection waits to be dropped.
/// - **Counters** ([`stats`](Self::stats)): subscribers, lagged, resume hits and misses.
///   Stalled transports are the body's business ([`Sse::watchdog`](super::Sse::watchdog)),
///   counted by [`Watchdog::stalls`](super::Watchdog::stalls).
///
/// Cheap to clone (a reference count). No runtime needed: subscriptions are plain
/// [`Stream`]s woken by the publisher.
///
/// # Example
///
/// ```
/// use futures_util::StreamExt;
/// use sse_proto::Event;
/// use sse_proto_io::server::{Hub, Resume};
///
/// # futures_executor::block_on(async {
/// let hub = Hub::new(Default::default());
/// let mut first = hub.subscribe(None);
/// for n in 1..=3 {
///     hub.publish(Event::builder().id(n.to_string()).data("x").build()?);
/// }
/// assert_eq!(first.next().await.unwrap().id(), Some("1"));
///
/// // A client that reconnects after event 1 gets 2 and 3 from the history, then live ones.
/// let mut again = hub.subscribe(Some("1"));
/// assert_eq!(again.resume(), Resume::Replayed(2));
/// hub.publish(Event::builder().id("4").data("x").build()?);
/// let ids: Vec<_> = again.take(3).map(|f| f.id().unwrap().to_owned()).collect().await;
/// assert_eq!(ids, ["2", "3", "4"]);
/// assert_eq!(hub.stats().resume_hits, 1);
/// # Ok::<(), sse_proto::EncodeError>(())
/// # }).unwrap();
/// ```
pub struct Hub<S = ResumeBuffer> {
    shared: Arc<Shared<S>>,
}

impl<S> Clone for Hub<S> {
    fn clone(&self) -> Self {
        Hub {
            shared: self.shared.clone(),
        }
    }
}

impl<S> core::fmt::Debug for Hub<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Hub")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

struct Shared<S> {
    state: Mutex<State<S>>,
    counters: Counters,
    capacity: usize,
}

struct State<S> {
    store: S,
    subscribers: HashMap<u64, Arc<Queue>>,
    next_key: u64,
    newest: Option<Frame>,
    closed: bool,
}

/// One subscriber's frames, filled by the publisher, drained by its [`Subscription`].
#[derive(Debug, Default)]
struct Queue {
    state: Mutex<QueueState>,
}

#[derive(Debug, Default)]
struct QueueState {
    frames: VecDeque<Frame>,
    /// How many of the first `frames` are the replay (not counted against the capacity).
    replay: usize,
    waker: Option<Waker>,
    end: Option<End>,
}

impl QueueState {
    fn finish(&mut self, end: End) {
        self.end = Some(end);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

impl Hub<ResumeBuffer> {
    /// A hub whose history is a [`ResumeBuffer`] with the default limits (1024 frames,
    /// 1 MiB).
    ///
    /// # Example
    ///
    /// ```
    /// let hub = sse_proto_io::server::Hub::new(Default::default());
    /// assert_eq!(hub.stats().subscribers, 0);
    /// ```
    pub fn new(config: HubConfig) -> Self {
        Hub::with_store(ResumeBuffer::default(), config)
    }
}

impl<S: Store> Hub<S> {
    /// A hub with this history (a [`ResumeBuffer`] with other limits, or another [`Store`]).
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::{ResumeBuffer, ResumeLimits};
    /// use sse_proto_io::server::Hub;
    ///
    /// let mut limits = ResumeLimits::default();
    /// limits.max_frames = 100;
    /// let hub = Hub::with_store(ResumeBuffer::new(limits), Default::default());
    /// # let _ = hub;
    /// ```
    pub fn with_store(store: S, config: HubConfig) -> Self {
        Hub {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    store,
                    subscribers: HashMap::new(),
                    next_key: 0,
                    newest: None,
                    closed: false,
                }),
                counters: Counters::default(),
                capacity: config.capacity.max(1),
            }),
        }
    }

    /// Encodes `message` once, keeps it in the history and queues it for every subscriber;
    /// a subscriber whose queue is full is disconnected instead ([`End::Lagged`]). Returns
    /// the number of subscribers it was queued for. After [`close`](Self::close), the frame
    /// still goes into the history, to no subscriber.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::Event;
    /// use sse_proto_io::server::Hub;
    ///
    /// let hub = Hub::new(Default::default());
    /// let _subscription = hub.subscribe(None);
    /// assert_eq!(hub.publish(Event::new("hello")), 1);
    /// ```
    pub fn publish(&self, message: impl IntoFrame) -> usize {
        let frame = message.into_frame();
        let capacity = self.shared.capacity;
        let counters = &self.shared.counters;
        let mut state = lock(&self.shared.state);
        state.store.keep(&frame);
        state.newest = Some(frame.clone());
        bump(&counters.published);
        let mut lagged = Vec::new();
        for (&key, queue) in &state.subscribers {
            let mut queue = lock(&queue.state);
            if queue.frames.len() - queue.replay >= capacity {
                queue.finish(End::Lagged);
                lagged.push(key);
                continue;
            }
            queue.frames.push_back(frame.clone());
            if let Some(waker) = queue.waker.take() {
                waker.wake();
            }
        }
        for key in &lagged {
            state.subscribers.remove(key);
            bump(&counters.lagged);
        }
        state.subscribers.len()
    }

    /// Subscribes a client with this `Last-Event-ID` (see [`last_event_id`](super::last_event_id)):
    /// the frames it missed, then every frame published from now on. Without an id, or when
    /// the history does not know it, the live feed starts at once; to send a full state
    /// first, use [`subscribe_with`](Self::subscribe_with).
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto_io::server::{Hub, Resume};
    ///
    /// let hub = Hub::new(Default::default());
    /// let subscription = hub.subscribe(None);
    /// assert_eq!(subscription.resume(), Resume::New);
    /// assert_eq!(hub.stats().subscribers, 1);
    /// drop(subscription);
    /// assert_eq!(hub.stats().subscribers, 0);
    /// ```
    pub fn subscribe(&self, last_event_id: Option<&str>) -> Subscription {
        self.subscribe_with(last_event_id, |_| Vec::new())
    }

    /// [`subscribe`](Self::subscribe), with the frames `full_state` returns sent first when
    /// the client has no `Last-Event-ID` or the history does not know it. `full_state` gets
    /// the newest frame published (the current state of many streams) and runs under the
    /// hub's lock: nothing is published between the state it builds and the live feed. So
    /// it must not call the hub (that would deadlock) and should be quick.
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use sse_proto::Event;
    /// use sse_proto_io::server::{Hub, Resume};
    ///
    /// # futures_executor::block_on(async {
    /// let hub = Hub::new(Default::default());
    /// hub.publish(Event::builder().id("7").data("21.5 C").build()?);
    /// // A client from before a restart: its id is unknown, so it gets the newest frame.
    /// let mut subscription = hub.subscribe_with(Some("3"), |newest| newest.cloned().into_iter().collect());
    /// assert_eq!(subscription.resume(), Resume::Unknown);
    /// assert_eq!(subscription.next().await.unwrap().id(), Some("7"));
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// # }).unwrap();
    /// ```
    pub fn subscribe_with(
        &self,
        last_event_id: Option<&str>,
        full_state: impl FnOnce(Option<&Frame>) -> Vec<Frame>,
    ) -> Subscription {
        let counters = &self.shared.counters;
        let mut state = lock(&self.shared.state);
        let (resume, first) = match last_event_id.map(|id| state.store.history_after(id)) {
            None => (Resume::New, full_state(state.newest.as_ref())),
            Some(History::Frames(frames)) => (Resume::Replayed(frames.len()), frames),
            Some(History::UpToDate) => (Resume::UpToDate, Vec::new()),
            Some(History::Unknown) => (Resume::Unknown, full_state(state.newest.as_ref())),
        };
        match resume {
            Resume::Replayed(_) | Resume::UpToDate => bump(&counters.resume_hits),
            Resume::Unknown => bump(&counters.resume_misses),
            Resume::New => {}
        }
        let queue = Arc::new(Queue::default());
        {
            let mut queued = lock(&queue.state);
            queued.replay = first.len();
            queued.frames = first.into();
            if state.closed {
                queued.end = Some(End::Closed);
            }
        }
        let key = state.next_key;
        state.next_key += 1;
        if !state.closed {
            state.subscribers.insert(key, queue.clone());
        }
        counters.subscribers.fetch_add(1, Ordering::Relaxed);
        bump(&counters.subscribed);
        drop(state);
        Subscription {
            queue,
            resume,
            key,
            hub: self.shared.clone(),
        }
    }

    /// Ends every subscription (after the frames each has queued) and every later one at
    /// once ([`End::Closed`]): for a shutdown.
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use sse_proto_io::server::{End, Hub};
    ///
    /// # futures_executor::block_on(async {
    /// let hub = Hub::new(Default::default());
    /// let mut subscription = hub.subscribe(None);
    /// hub.close();
    /// assert!(subscription.next().await.is_none());
    /// assert_eq!(hub.subscribe(None).ended(), Some(End::Closed));
    /// # });
    /// ```
    pub fn close(&self) {
        let mut state = lock(&self.shared.state);
        state.closed = true;
        for (_, queue) in state.subscribers.drain() {
            lock(&queue.state).finish(End::Closed);
        }
    }
}

impl<S> Hub<S> {
    /// The counters now.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::Event;
    /// use sse_proto_io::server::Hub;
    ///
    /// let hub = Hub::new(Default::default());
    /// hub.publish(Event::new("x"));
    /// assert_eq!(hub.stats().published, 1);
    /// ```
    pub fn stats(&self) -> HubStats {
        let c = &self.shared.counters;
        HubStats {
            subscribers: c.subscribers.load(Ordering::Relaxed),
            subscribed: c.subscribed.load(Ordering::Relaxed),
            published: c.published.load(Ordering::Relaxed),
            lagged: c.lagged.load(Ordering::Relaxed),
            resume_hits: c.resume_hits.load(Ordering::Relaxed),
            resume_misses: c.resume_misses.load(Ordering::Relaxed),
        }
    }
}

/// Lets a [`Subscription`] leave its hub without knowing the hub's store type.
trait Leave: Send + Sync {
    fn leave(&self, key: u64);
}

impl<S: Send> Leave for Shared<S> {
    fn leave(&self, key: u64) {
        lock(&self.state).subscribers.remove(&key);
        self.counters.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One subscriber's feed from a [`Hub`]: a [`Stream`] of [`Frame`]s (the replay or full
/// state first, then the live feed), ready for [`Sse::new`](super::Sse::new). It ends after
/// [`Hub::close`] or when the subscriber fell behind ([`ended`](Self::ended) says which);
/// dropping it unsubscribes.
///
/// # Example
///
/// ```
/// use sse_proto_io::server::{Hub, Sse};
///
/// let hub = Hub::new(Default::default());
/// let body = Sse::new(hub.subscribe(None));
/// # let _ = body;
/// ```
#[must_use = "a subscription queues frames until it is dropped"]
pub struct Subscription {
    queue: Arc<Queue>,
    resume: Resume,
    key: u64,
    hub: Arc<dyn Leave>,
}

impl core::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Subscription")
            .field("resume", &self.resume)
            .field("ended", &self.ended())
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// How it began: what its `Last-Event-ID` found.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto_io::server::{Hub, Resume};
    ///
    /// let hub = Hub::new(Default::default());
    /// assert_eq!(hub.subscribe(None).resume(), Resume::New);
    /// ```
    pub fn resume(&self) -> Resume {
        self.resume
    }

    /// Why it ended (or will end, once its queued frames are taken); `None` while it is
    /// live.
    ///
    /// # Example
    ///
    /// ```
    /// let hub = sse_proto_io::server::Hub::new(Default::default());
    /// assert_eq!(hub.subscribe(None).ended(), None);
    /// ```
    pub fn ended(&self) -> Option<End> {
        lock(&self.queue.state).end
    }

    /// Frames waiting to be taken.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::Event;
    ///
    /// let hub = sse_proto_io::server::Hub::new(Default::default());
    /// let subscription = hub.subscribe(None);
    /// hub.publish(Event::new("x"));
    /// assert_eq!(subscription.queued(), 1);
    /// ```
    pub fn queued(&self) -> usize {
        lock(&self.queue.state).frames.len()
    }
}

impl Stream for Subscription {
    type Item = Frame;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Frame>> {
        let mut queue = lock(&self.queue.state);
        if let Some(frame) = queue.frames.pop_front() {
            queue.replay = queue.replay.saturating_sub(1);
            return Poll::Ready(Some(frame));
        }
        if queue.end.is_some() {
            return Poll::Ready(None);
        }
        queue.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.leave(self.key);
    }
}
