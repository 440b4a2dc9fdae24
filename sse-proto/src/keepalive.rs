//! [`KeepAlive`]: when an idle server connection should send a ping.

use core::time::Duration;
use std::time::Instant;

use crate::frame::{Frame, KeepAlivePing};

/// Settings of a [`KeepAlive`].
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use sse_proto::{KeepAliveConfig, KeepAlivePing};
///
/// let mut config = KeepAliveConfig::default();
/// assert_eq!(config.interval, Duration::from_secs(15));
/// config.ping = KeepAlivePing::event("heartbeat")?;
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeepAliveConfig {
    /// How long the connection may stay silent before a ping. Default
    /// [`DEFAULT_INTERVAL`](Self::DEFAULT_INTERVAL) (15 s). Must not be zero.
    pub interval: Duration,
    /// What to send: a comment (default; no listener sees it) or a named event.
    pub ping: KeepAlivePing,
}

impl KeepAliveConfig {
    /// Default [`interval`](Self::interval): 15 s, as sse-starlette and axum use, well under
    /// the 30 to 60 s after which common proxies and load balancers drop idle connections.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::KeepAliveConfig;
    ///
    /// assert_eq!(KeepAliveConfig::DEFAULT_INTERVAL.as_secs(), 15);
    /// ```
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);
}

impl Default for KeepAliveConfig {
    fn default() -> Self {
        KeepAliveConfig {
            interval: Self::DEFAULT_INTERVAL,
            ping: KeepAlivePing::Comment,
        }
    }
}

/// Schedules keep-alive pings for one server connection: a ping after `interval` without
/// writes, so proxies and load balancers do not drop an idle stream. The [standard]'s
/// authoring notes recommend the same: a comment line every 15 seconds or so.
///
/// [standard]: https://html.spec.whatwg.org/multipage/server-sent-events.html
///
/// # Call order
///
/// - After writing anything to the connection (an event, a comment, the ping itself):
///   [`handle_write`](Self::handle_write)`(now)`. It pushes the deadline out.
/// - Sleep until [`poll_timeout`](Self::poll_timeout) (or until there is something to
///   write), then [`handle_timeout`](Self::handle_timeout)`(now)` and
///   [`poll_ping`](Self::poll_ping): `Some(frame)` is the ping to write now. An early or
///   repeated `handle_timeout` does nothing.
///
/// # Example: the whole loop over a fake transport
///
/// Events become ready at scripted times; the transport records what was written when.
///
/// ```
/// use std::time::{Duration, Instant};
/// use sse_proto::{Event, Frame, KeepAlive, KeepAliveConfig};
///
/// let start = Instant::now();
/// let secs = Duration::from_secs;
/// let ready = [(secs(5), "a"), (secs(40), "b")]; // when each event is ready
/// let mut keep_alive = KeepAlive::new(KeepAliveConfig::default(), start);
/// let mut transport: Vec<(Duration, Frame)> = Vec::new();
/// for (at, data) in ready {
///     let at = start + at;
///     // Until the next event: sleep to each keep-alive deadline that comes first.
///     while keep_alive.poll_timeout() <= at {
///         let now = keep_alive.poll_timeout();
///         keep_alive.handle_timeout(now);
///         if let Some(ping) = keep_alive.poll_ping() {
///             transport.push((now - start, ping));
///             keep_alive.handle_write(now);
///         }
///     }
///     transport.push((at - start, Frame::from_event(&Event::new(data))));
///     keep_alive.handle_write(at);
/// }
/// let written: Vec<_> = transport.iter().map(|(t, f)| (t.as_secs(), f.as_bytes().clone())).collect();
/// assert_eq!(
///     written,
///     [
///         (5, "data: a\n\n".into()),
///         (20, ": ping\n\n".into()), // 15 s after the last write
///         (35, ": ping\n\n".into()),
///         (40, "data: b\n\n".into()),
///     ]
/// );
/// ```
#[derive(Clone, Debug)]
pub struct KeepAlive {
    interval: Duration,
    ping: Frame,
    deadline: Instant,
    due: bool,
}

impl KeepAlive {
    /// A scheduler for a connection that starts (or last wrote) at `now`: the first ping is
    /// due at `now + interval`. The ping frame is encoded once, here.
    ///
    /// # Panics
    ///
    /// When `config.interval` is zero (a ping would always be due).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{KeepAlive, KeepAliveConfig};
    ///
    /// let now = Instant::now();
    /// let keep_alive = KeepAlive::new(KeepAliveConfig::default(), now);
    /// assert_eq!(keep_alive.poll_timeout(), now + Duration::from_secs(15));
    /// ```
    pub fn new(config: KeepAliveConfig, now: Instant) -> Self {
        assert!(
            !config.interval.is_zero(),
            "the keep-alive interval must not be zero"
        );
        KeepAlive {
            interval: config.interval,
            ping: config.ping.frame(),
            deadline: deadline(now, config.interval),
            due: false,
        }
    }

    /// The idle time after which a ping is sent.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{KeepAlive, KeepAliveConfig};
    ///
    /// let mut config = KeepAliveConfig::default();
    /// config.interval = Duration::from_secs(30);
    /// assert_eq!(KeepAlive::new(config, Instant::now()).interval(), Duration::from_secs(30));
    /// ```
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Something was written to the connection at `now`: the next ping is due `interval`
    /// later, and a ping that was due but not yet taken is dropped (the write was traffic
    /// enough).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{KeepAlive, KeepAliveConfig};
    ///
    /// let start = Instant::now();
    /// let mut keep_alive = KeepAlive::new(KeepAliveConfig::default(), start);
    /// keep_alive.handle_write(start + Duration::from_secs(10));
    /// assert_eq!(keep_alive.poll_timeout(), start + Duration::from_secs(25));
    /// ```
    pub fn handle_write(&mut self, now: Instant) {
        self.deadline = deadline(now, self.interval);
        self.due = false;
    }

    /// The instant the next ping is due (if nothing is written before).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Instant;
    /// use sse_proto::{KeepAlive, KeepAliveConfig};
    ///
    /// let now = Instant::now();
    /// assert!(KeepAlive::new(KeepAliveConfig::default(), now).poll_timeout() > now);
    /// ```
    #[must_use]
    pub fn poll_timeout(&self) -> Instant {
        self.deadline
    }

    /// When `now` has reached the deadline, a ping becomes due ([`poll_ping`](Self::poll_ping))
    /// and the next deadline is `interval` later. Earlier or repeated calls do nothing.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{KeepAlive, KeepAliveConfig};
    ///
    /// let start = Instant::now();
    /// let mut keep_alive = KeepAlive::new(KeepAliveConfig::default(), start);
    /// keep_alive.handle_timeout(start + Duration::from_secs(14));
    /// assert!(keep_alive.poll_ping().is_none());
    /// keep_alive.handle_timeout(start + Duration::from_secs(15));
    /// assert!(keep_alive.poll_ping().is_some());
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        if now >= self.deadline {
            self.due = true;
            self.deadline = deadline(now, self.interval);
        }
    }

    /// The ping to write now, once per due ping; `None` otherwise. A clone of the frame
    /// built by [`new`](Self::new) (no allocation).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{KeepAlive, KeepAliveConfig, KeepAlivePing};
    ///
    /// let start = Instant::now();
    /// let mut config = KeepAliveConfig::default();
    /// config.ping = KeepAlivePing::event("ping")?;
    /// let mut keep_alive = KeepAlive::new(config, start);
    /// keep_alive.handle_timeout(start + Duration::from_secs(15));
    /// let ping = keep_alive.poll_ping().unwrap();
    /// assert_eq!(ping.as_bytes(), &b"event: ping\ndata: \n\n"[..]);
    /// assert!(keep_alive.poll_ping().is_none());
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    #[must_use = "the ping is only sent if it is written"]
    pub fn poll_ping(&mut self) -> Option<Frame> {
        core::mem::take(&mut self.due).then(|| self.ping.clone())
    }
}

/// `now + interval`, or `now` in the (unreachable on real clocks) case of overflow.
fn deadline(now: Instant, interval: Duration) -> Instant {
    now.checked_add(interval).unwrap_or(now)
}
