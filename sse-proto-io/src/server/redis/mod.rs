//! The hub across server instances, on Redis Streams (feature `redis`): publish from any
//! instance, every instance's clients get every event, and a client that reconnects to
//! another instance with its `Last-Event-ID` gets exactly what it missed.
//!
//! See [`RedisHub`] for the design.
mod commands;
mod feed;
mod handover;
mod id;
mod reader;

use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::MultiplexedConnection;
use sse_proto::{Event, Frame};

use self::commands::{Found, Keys};
use self::feed::Feed;
use self::id::EventId;
use self::reader::{Position, Reader};
use super::{HubConfig, HubStats, Resume};

pub use handover::RedisSubscription;

/// Settings of a [`RedisHub`].
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use sse_proto_io::server::RedisConfig;
///
/// let mut config = RedisConfig::new("prices");
/// config.history = 50_000;
/// config.block = Duration::from_millis(500);
/// assert_eq!(config.stream, "prices");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// The stream's key; its epoch lives at `<stream>:epoch`.
    pub stream: String,
    /// The history kept for resuming clients: `XADD ... MAXLEN ~ history` (approximate: a
    /// little more is kept). Default [`DEFAULT_HISTORY`](Self::DEFAULT_HISTORY) (10,000);
    /// at least 1.
    pub history: usize,
    /// How long the reader's `XREAD BLOCK` waits for news (1 s by default): also how soon a
    /// flushed Redis is noticed when nobody publishes.
    pub block: Duration,
    /// Entries the reader reads at a time (512 by default; at least 1).
    pub batch: usize,
    /// How long connecting may take (2 s by default).
    pub connect_timeout: Duration,
    /// How long a command's answer may take (2 s by default; the reader's wait adds
    /// [`block`](Self::block)).
    pub response_timeout: Duration,
    /// The reader's first wait before reconnecting (50 ms by default); it doubles on each
    /// failure up to [`reconnect_max`](Self::reconnect_max).
    pub reconnect_min: Duration,
    /// The reader's longest wait before reconnecting (2 s by default).
    pub reconnect_max: Duration,
    /// The local hub's settings (each subscriber's live queue).
    pub hub: HubConfig,
}

impl RedisConfig {
    /// Default [`history`](Self::history): 10,000 events.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(sse_proto_io::server::RedisConfig::DEFAULT_HISTORY, 10_000);
    /// ```
    pub const DEFAULT_HISTORY: usize = 10_000;

    /// The defaults, on the stream at key `stream`.
    ///
    /// # Example
    ///
    /// ```
    /// let config = sse_proto_io::server::RedisConfig::new("events");
    /// assert_eq!(config.history, 10_000);
    /// ```
    pub fn new(stream: impl Into<String>) -> Self {
        RedisConfig {
            stream: stream.into(),
            history: Self::DEFAULT_HISTORY,
            block: Duration::from_secs(1),
            batch: 512,
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(2),
            reconnect_min: reader::RECONNECT_MIN,
            reconnect_max: Duration::from_secs(2),
            hub: HubConfig::default(),
        }
    }
}

/// Why a [`RedisHub`] call failed.
///
/// # Example
///
/// ```
/// use sse_proto_io::server::RedisError;
///
/// let error = RedisError::UnexpectedReply { command: "XADD" };
/// assert_eq!(error.to_string(), "Redis answered XADD with something else than expected");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisError {
    /// Redis could not be reached, or refused the command (the URL is malformed, the
    /// server is down, a timeout passed, the key holds something else).
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// Redis answered in a shape this backend does not know (another program uses the key?).
    #[error("Redis answered {command} with something else than expected")]
    UnexpectedReply {
        /// The command whose answer it was.
        command: &'static str,
    },
    /// The event has an id: on Redis the stream gives the ids, so that they are ordered and
    /// resumable across instances.
    #[error("the event has an id ({id:?}): the stream gives the ids")]
    EventHasId {
        /// The id it had.
        id: String,
    },
    /// [`RedisHub::close`] was called.
    #[error("the hub is closed")]
    Closed,
}

/// Connects with the configured timeouts; `response_timeout` is given apart for the reader.
async fn connect(
    client: &::redis::Client,
    config: &RedisConfig,
    response_timeout: Duration,
) -> Result<MultiplexedConnection, RedisError> {
    let settings = ::redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(config.connect_timeout))
        .set_response_timeout(Some(response_timeout));
    Ok(client
        .get_multiplexed_async_connection_with_config(&settings)
        .await?)
}

/// A broadcast hub shared by server instances through one Redis stream (feature `redis`).
///
/// - **Publish** ([`RedisHub::publish`]) is one `XADD` with `MAXLEN ~` the configured
///   history, from any instance.
/// - **Event ids** are the stream entry ids behind an epoch: `<epoch>-<ms>-<seq>`. The epoch
///   is a random id kept in a key beside the stream (`<stream>:epoch`), made with the first
///   publish or read after it went missing; each entry carries the epoch it was added
///   under. A flushed or replaced Redis has a new epoch, so an id from before it is
///   *unknown*, never a silent gap.
/// - **One reader per instance**, on its own connection, copies the stream into the
///   instance's local [`Hub`](super::Hub) in order, encoding each event once; the hub fans
///   it out to the instance's clients.
/// - **Resume** ([`RedisHub::subscribe`]): see *The hand-over* below.
/// - **Unknown**: an id from another epoch, malformed, never written, or older than what the
///   stream still keeps after it (Redis 7's `max-deleted-entry-id` is newer than the id: an
///   entry after it was trimmed). The subscription says [`Resume::Unknown`](super::Resume)
///   and the caller's full state goes first ([`RedisHub::subscribe_with`]).
///
/// # The hand-over
///
/// A resuming client needs the entries after its id from the stream, then the live feed,
/// and the live feed of this instance lags the stream by however far the reader is behind.
/// So [`RedisHub::subscribe`] does it in this order:
///
/// 1. **Subscribe to the local live feed first.** From here on, every entry the reader
///    delivers reaches the client.
/// 2. **Then read the range after the id** (`XRANGE (id +`), in one script with the epoch
///    and trim checks. Every entry the reader delivered before step 1 was in Redis before
///    step 1, so it is in this range: nothing falls between the two (no gap).
/// 3. **Drop live frames not newer than the last one replayed** (or than the client's id,
///    when the range was empty). The reader delivers in stream order, so the live feed
///    repeats at most a prefix of the range, and exactly that is dropped (no duplicate).
///
/// In the other order (range first, live second) an entry the reader delivers between the
/// two steps would be in neither. A model test of this module checks the three steps
/// against arbitrary interleavings of publishes, reader delays and subscribes.
///
/// # When things fail
///
/// - **Redis unreachable at start**: [`RedisHub::connect`] returns
///   [`RedisError::Redis`] (after [`RedisConfig::connect_timeout`] at most); nothing is
///   spawned.
/// - **Redis unreachable later**: [`publish`](Self::publish) and
///   [`subscribe`](Self::subscribe) fail with [`RedisError::Redis`] (answer 503, say);
///   the reader reconnects with a backoff (50 ms doubling to
///   [`RedisConfig::reconnect_max`]), and the clients stay connected meanwhile (their
///   bodies send keep-alives).
/// - **Redis back with its data** (same epoch, nothing trimmed past the reader): the reader
///   goes on where it was and the clients are served on, none the wiser.
/// - **Redis back without it** (restarted without persistence, flushed, replaced, restored
///   from an older snapshot, or trimmed past where the reader was): the reader ends its
///   generation. Every subscription's [`interrupted`](RedisSubscription::interrupted)
///   resolves, then its feed ends; a body from
///   [`into_sse`](RedisSubscription::into_sse) sends a short `retry:` and closes. The
///   clients reconnect with their `Last-Event-ID`, which is now unknown: full state.
/// - **An instance killed** (even with SIGKILL): its clients reconnect to another instance
///   with their `Last-Event-ID` and get exactly what they missed from the stream. Nothing
///   is kept in an instance that another needs.
///
/// Nothing is delivered twice: within a generation the reader delivers each entry once, in
/// order, and the hand-over drops what the replay already gave.
///
/// # Example: two instances
///
/// ```no_run
/// use futures_util::StreamExt;
/// use sse_proto::Event;
/// use sse_proto_io::server::{RedisConfig, RedisHub, Resume};
///
/// # async fn run() -> Result<(), sse_proto_io::server::RedisError> {
/// // Two instances (two processes, in real life) sharing one stream.
/// let a = RedisHub::connect("redis://127.0.0.1:6379", RedisConfig::new("news")).await?;
/// let b = RedisHub::connect("redis://127.0.0.1:6379", RedisConfig::new("news")).await?;
///
/// let mut on_b = b.subscribe(None).await?;
/// let id = a.publish(&Event::new("hello")).await?;
/// let first = on_b.next().await.expect("live");
/// assert_eq!(first.id(), Some(id.as_str()));
///
/// // A client of `b` that comes back to `a` with the id of the last event it got.
/// a.publish(&Event::new("missed")).await?;
/// let mut on_a = a.subscribe(Some(&id)).await?;
/// assert_eq!(on_a.resume(), Resume::Replayed(1));
/// # Ok(())
/// # }
/// ```
///
/// # Limits
///
/// - Redis 7 or later for resume: before 7, `XINFO STREAM` does not say what was trimmed, so
///   every `Last-Event-ID` is unknown (a full state, never a gap).
/// - The history is approximate (`MAXLEN ~`): Redis trims whole nodes (100 entries by
///   default), so a little more than [`RedisConfig::history`] is kept.
/// - A replay is read whole, at most the history; a subscription then holds at most
///   [`HubConfig::capacity`](super::HubConfig::capacity) live frames, as on a local hub.
/// - One stream key, one Redis (no cluster): the ordering comes from one stream.
///
/// # Handles
///
/// Cheap to clone (a reference count); the reader task stops when the last clone is
/// dropped or on [`close`](Self::close). Needs a tokio runtime (the reader is spawned on
/// it).
///
/// # Example: in a handler
///
/// ```no_run
/// use sse_proto_io::server::{RedisConfig, RedisHub};
///
/// # async fn run(headers: http::HeaderMap) -> Result<(), sse_proto_io::server::RedisError> {
/// let hub = RedisHub::connect("redis://127.0.0.1:6379", RedisConfig::new("events")).await?;
/// // In a handler: the client's `Last-Event-ID`, the response.
/// let last_event_id = sse_proto_io::server::last_event_id(&headers);
/// let response = hub.subscribe(last_event_id).await?.into_sse().into_http_response(http::Version::HTTP_11);
/// # let _ = response;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisHub {
    inner: Arc<Inner>,
}

struct Inner {
    client: ::redis::Client,
    keys: Keys,
    config: RedisConfig,
    feed: Arc<Feed>,
    /// The connection for publish and resume, made again after it broke.
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.reader.abort();
        self.feed.close();
    }
}

impl core::fmt::Debug for RedisHub {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedisHub")
            .field("stream", &self.inner.keys.stream)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl RedisHub {
    /// Connects to the Redis at `url` (`redis://host:port/db`), reads where the stream is,
    /// and starts this instance's reader there: the live feed begins with the next event
    /// published.
    ///
    /// # Errors
    ///
    /// [`RedisError::Redis`] when the URL is malformed or Redis cannot be reached within
    /// [`RedisConfig::connect_timeout`] (no panic, nothing left running);
    /// [`RedisError::UnexpectedReply`] when the key holds something else.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto_io::server::{RedisConfig, RedisError, RedisHub};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // Nothing listens on port 1.
    /// let error = RedisHub::connect("redis://127.0.0.1:1", RedisConfig::new("events")).await;
    /// assert!(matches!(error, Err(RedisError::Redis(_))));
    /// # }
    /// ```
    pub async fn connect(url: &str, config: RedisConfig) -> Result<RedisHub, RedisError> {
        let client = ::redis::Client::open(url)?;
        let keys = Keys {
            epoch: format!("{}:epoch", config.stream),
            stream: config.stream.clone(),
        };
        let mut connection = connect(&client, &config, config.response_timeout).await?;
        // Where the stream is now: the reader starts after its newest entry.
        let step = commands::next(&mut connection, &keys, id::EntryId::ZERO, 0).await?;
        let position = Position {
            after: step.last.unwrap_or(id::EntryId::ZERO),
            epoch: step.epoch,
        };
        let mut config = config;
        config.batch = config.batch.max(1);
        let feed = Arc::new(Feed::new(config.hub));
        let reader = Reader {
            client: client.clone(),
            keys: keys.clone(),
            feed: feed.clone(),
            config: config.clone(),
        };
        let reader = tokio::spawn(reader.run(position));
        Ok(RedisHub {
            inner: Arc::new(Inner {
                client,
                keys,
                config,
                feed,
                connection: tokio::sync::Mutex::new(Some(connection)),
                reader,
            }),
        })
    }

    /// Runs `command` on the shared connection, connecting first if there is none, and
    /// drops the connection when it broke so that the next call connects again.
    async fn with_connection<T>(
        &self,
        command: impl AsyncFnOnce(&mut MultiplexedConnection) -> Result<T, RedisError>,
    ) -> Result<T, RedisError> {
        let inner = &self.inner;
        let mut connection = {
            let mut slot = inner.connection.lock().await;
            match &*slot {
                Some(connection) => connection.clone(),
                None => {
                    let connection =
                        connect(&inner.client, &inner.config, inner.config.response_timeout)
                            .await?;
                    *slot = Some(connection.clone());
                    connection
                }
            }
        };
        let result = command(&mut connection).await;
        if let Err(RedisError::Redis(error)) = &result {
            if error.is_io_error()
                || error.is_connection_dropped()
                || error.is_unrecoverable_error()
                || error.is_timeout()
            {
                *inner.connection.lock().await = None;
            }
        }
        result
    }

    /// Publishes `event` to every instance: one `XADD` (trimming the stream to about
    /// [`RedisConfig::history`] entries). Returns the id the event got,
    /// `<epoch>-<ms>-<seq>`; every instance's clients get it with that id.
    ///
    /// # Errors
    ///
    /// [`RedisError::EventHasId`] when `event` has an id (the stream gives them);
    /// [`RedisError::Redis`] when Redis cannot be reached (the event was then not
    /// published, or, after a timeout, perhaps was); [`RedisError::Closed`] after
    /// [`close`](Self::close).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(hub: sse_proto_io::server::RedisHub) -> Result<(), sse_proto_io::server::RedisError> {
    /// let event = sse_proto::Event::builder().event("price").data("42.1").build().expect("no line break");
    /// let id = hub.publish(&event).await?;
    /// assert_eq!(id.split('-').count(), 3); // epoch, milliseconds, sequence
    /// # Ok(())
    /// # }
    /// ```
    pub async fn publish(&self, event: &Event) -> Result<String, RedisError> {
        if let Some(id) = event.id() {
            return Err(RedisError::EventHasId { id: id.to_owned() });
        }
        if self.inner.feed.is_closed() {
            return Err(RedisError::Closed);
        }
        let inner = &self.inner;
        self.with_connection(async |connection| {
            commands::publish(connection, &inner.keys, inner.config.history, event).await
        })
        .await
    }

    /// Subscribes a client with this `Last-Event-ID` (see
    /// [`last_event_id`](super::last_event_id)): the events it missed, from the stream,
    /// then this instance's live feed, joined as the [type docs](RedisHub#the-hand-over) say.
    /// Without an id, or when it is unknown, the live feed starts at once: to send a full
    /// state first, use [`subscribe_with`](Self::subscribe_with).
    ///
    /// # Errors
    ///
    /// [`RedisError::Redis`] when a resume needs Redis and it cannot be reached (a client
    /// without an id needs no Redis); [`RedisError::Closed`] after [`close`](Self::close).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(hub: sse_proto_io::server::RedisHub) -> Result<(), sse_proto_io::server::RedisError> {
    /// use sse_proto_io::server::Resume;
    ///
    /// let subscription = hub.subscribe(None).await?;
    /// assert_eq!(subscription.resume(), Resume::New);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn subscribe(
        &self,
        last_event_id: Option<&str>,
    ) -> Result<RedisSubscription, RedisError> {
        self.subscribe_with(last_event_id, Vec::new).await
    }

    /// [`subscribe`](Self::subscribe), with the frames `full_state` returns sent first when
    /// the client has no `Last-Event-ID` or it is unknown ([`Resume::New`],
    /// [`Resume::Unknown`]). `full_state` is called after the live feed is subscribed, so
    /// nothing published after the state it builds is missed (an event may show in both,
    /// as with any state-then-feed).
    ///
    /// # Errors
    ///
    /// As [`subscribe`](Self::subscribe).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(hub: sse_proto_io::server::RedisHub) -> Result<(), sse_proto_io::server::RedisError> {
    /// use sse_proto::{Event, Frame};
    ///
    /// let subscription = hub
    ///     .subscribe_with(Some("from-before-a-flush"), || {
    ///         vec![Frame::from_event(&Event::builder().event("state").data("{}").build().expect("no line break"))]
    ///     })
    ///     .await?;
    /// # let _ = subscription;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn subscribe_with(
        &self,
        last_event_id: Option<&str>,
        full_state: impl FnOnce() -> Vec<Frame>,
    ) -> Result<RedisSubscription, RedisError> {
        // Step 1 of the hand-over: the live feed first.
        let (live, generation, generations) =
            self.inner.feed.subscribe().ok_or(RedisError::Closed)?;
        let Some(last_event_id) = last_event_id else {
            return Ok(RedisSubscription::new(
                live,
                full_state(),
                handover::Handover::All,
                Resume::New,
                generations,
                generation,
            ));
        };
        let found = match EventId::parse(last_event_id) {
            // Malformed: not one of ours; no need to ask Redis.
            None => Found::Unknown,
            // Step 2: the range after the id, with the epoch and trim checks.
            Some(id) => {
                let keys = &self.inner.keys;
                self.with_connection(async |connection| {
                    commands::resume(connection, keys, id).await
                })
                .await?
            }
        };
        let (Found::After(entries), Some(id)) = (found, EventId::parse(last_event_id)) else {
            return Ok(RedisSubscription::new(
                live,
                full_state(),
                handover::Handover::All,
                Resume::Unknown,
                generations,
                generation,
            ));
        };
        // Step 3: the live feed goes on after the last entry replayed.
        let mut last = id.entry;
        let mut replay = Vec::with_capacity(entries.len());
        for entry in entries {
            last = entry.id;
            if entry.epoch.as_deref() == Some(id.epoch) {
                replay.extend(entry.frame);
            }
        }
        let resume = match replay.len() {
            0 => Resume::UpToDate,
            n => Resume::Replayed(n),
        };
        let handover = handover::Handover::After {
            epoch: id.epoch.to_owned(),
            last,
        };
        Ok(RedisSubscription::new(
            live,
            replay,
            handover,
            resume,
            generations,
            generation,
        ))
    }

    /// Ends every subscription of this instance (their [`interrupted`](RedisSubscription::interrupted)
    /// first, so bodies send a `retry:`), stops the reader, and refuses later calls
    /// ([`RedisError::Closed`]): for a shutdown. The stream and the other instances carry on.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(hub: sse_proto_io::server::RedisHub) {
    /// hub.close();
    /// assert!(hub.subscribe(None).await.is_err());
    /// # }
    /// ```
    pub fn close(&self) {
        self.inner.reader.abort();
        self.inner.feed.close();
    }

    /// The local hub's counters (this generation's: they start again when the reader ends
    /// one).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(hub: sse_proto_io::server::RedisHub) {
    /// println!("{} clients here", hub.stats().subscribers);
    /// # }
    /// ```
    pub fn stats(&self) -> HubStats {
        self.inner.feed.stats()
    }

    /// How many times the live feed was ended so far (the reader found a gap, a flush, a new
    /// epoch), plus one after [`close`](Self::close): 0 while nothing went wrong.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(hub: sse_proto_io::server::RedisHub) {
    /// assert_eq!(hub.interruptions(), 0);
    /// # }
    /// ```
    pub fn interruptions(&self) -> u64 {
        self.inner.feed.generation()
    }
}
