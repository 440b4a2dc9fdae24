//! [`StallDetector`]: notices a client that stopped reading.

use core::time::Duration;
use std::time::Instant;

/// The verdict of a [`StallDetector`]: bytes were waiting and the transport took none of
/// them for the whole timeout.
///
/// # Example
///
/// ```
/// use std::time::{Duration, Instant};
/// use sse_proto::StallDetector;
///
/// let start = Instant::now();
/// let mut stall = StallDetector::new(Duration::from_secs(10));
/// stall.handle_queued(start, 100);
/// stall.handle_timeout(start + Duration::from_secs(10));
/// let stalled = stall.poll_stalled().unwrap();
/// assert_eq!((stalled.pending, stalled.since), (100, start));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Stalled {
    /// Bytes queued but not accepted by the transport when the verdict was made.
    pub pending: u64,
    /// When the client last made progress (or when bytes started waiting).
    pub since: Instant,
}

/// Detects a stalled client on a server connection (sse-starlette's `send_timeout`): bytes
/// are waiting to go out and the transport has accepted none of them for `timeout`, so the
/// client is not reading (a dead peer whose TCP window is full, a suspended laptop) and the
/// server should drop it instead of buffering for it for ever.
///
/// It only counts what the caller reports: bytes queued for the client (written into its
/// channel or buffer) and bytes the transport accepted (a completed socket write, a message
/// taken off the channel). Time runs only while bytes are pending; a quiet stream with
/// nothing to send is never stalled (that is [`KeepAlive`](crate::KeepAlive)'s business).
///
/// # Call order
///
/// - Bytes queued for the client: [`handle_queued`](Self::handle_queued)`(now, n)`.
/// - The transport accepted bytes: [`handle_accepted`](Self::handle_accepted)`(now, n)`.
/// - While [`poll_timeout`](Self::poll_timeout) is `Some`, wake then and call
///   [`handle_timeout`](Self::handle_timeout)`(now)`; an early or repeated call does nothing.
/// - After any of these, [`poll_stalled`](Self::poll_stalled): `Some` means drop the client.
///   The verdict is final.
///
/// A late report of progress counts before a deadline nobody checked: when
/// `handle_accepted` brings accepted bytes at or after the deadline, the client made
/// progress and is not stalled.
///
/// # Example: the whole loop over a fake transport
///
/// A fake clock ticking once a second; a frame is queued every 10 s, and the transport
/// accepts at most `capacity(second)` bytes each second.
///
/// ```
/// use std::time::{Duration, Instant};
/// use sse_proto::{Event, Frame, StallDetector};
///
/// /// `Some((second, pending bytes))` when the client is dropped.
/// fn serve(capacity: impl Fn(u64) -> usize) -> Option<(u64, u64)> {
///     let start = Instant::now();
///     let mut stall = StallDetector::new(Duration::from_secs(30));
///     let mut queue = 0; // bytes in the client's buffer
///     for second in 0..120 {
///         let now = start + Duration::from_secs(second);
///         if second % 10 == 0 {
///             let frame = Frame::from_event(&Event::new("tick")); // 12 bytes
///             queue += frame.len();
///             stall.handle_queued(now, frame.len());
///         }
///         let taken = capacity(second).min(queue);
///         queue -= taken;
///         stall.handle_accepted(now, taken);
///         stall.handle_timeout(now); // a real loop also wakes at stall.poll_timeout()
///         if let Some(stalled) = stall.poll_stalled() {
///             return Some((second, stalled.pending)); // drop the client
///         }
///     }
///     None
/// }
///
/// assert_eq!(serve(|_| 2), None); // slow, but it keeps up
/// // Stops reading at 25 s; its last progress was at 24 s.
/// assert_eq!(serve(|second| if second < 25 { 2 } else { 0 }), Some((54, 38)));
/// ```
#[derive(Clone, Debug)]
pub struct StallDetector {
    timeout: Duration,
    pending: u64,
    /// Last progress, or when bytes started waiting; `None` while nothing is pending.
    since: Option<Instant>,
    stalled: Option<Stalled>,
}

impl StallDetector {
    /// Default timeout: 30 s, two missed keep-alives at the default 15 s interval.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::StallDetector;
    ///
    /// assert_eq!(StallDetector::DEFAULT_TIMEOUT.as_secs(), 30);
    /// ```
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

    /// A detector that declares a client stalled after `timeout` without progress while bytes
    /// are pending. A zero timeout stalls at the first deadline check with bytes pending.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::StallDetector;
    ///
    /// let stall = StallDetector::new(StallDetector::DEFAULT_TIMEOUT);
    /// assert_eq!(stall.pending(), 0);
    /// assert_eq!(stall.poll_timeout(), None);
    /// ```
    pub fn new(timeout: Duration) -> Self {
        StallDetector {
            timeout,
            pending: 0,
            since: None,
            stalled: None,
        }
    }

    /// Bytes queued for the client and not yet accepted by the transport.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::StallDetector;
    ///
    /// let now = Instant::now();
    /// let mut stall = StallDetector::new(Duration::from_secs(30));
    /// stall.handle_queued(now, 10);
    /// stall.handle_accepted(now, 4);
    /// assert_eq!(stall.pending(), 6);
    /// ```
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// `bytes` were queued for the client at `now`. If nothing was pending, the stall clock
    /// starts now.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::StallDetector;
    ///
    /// let now = Instant::now();
    /// let mut stall = StallDetector::new(Duration::from_secs(30));
    /// stall.handle_queued(now, 10);
    /// assert_eq!(stall.poll_timeout(), Some(now + Duration::from_secs(30)));
    /// ```
    pub fn handle_queued(&mut self, now: Instant, bytes: usize) {
        self.expire(now);
        if bytes == 0 {
            return;
        }
        if self.pending == 0 {
            self.since = Some(now);
        }
        self.pending = self.pending.saturating_add(bytes as u64);
    }

    /// The transport accepted `bytes` at `now`: progress, which restarts the stall clock (or
    /// stops it when nothing is left). More than is pending counts as all of it. Ignored once
    /// the client is stalled.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::StallDetector;
    ///
    /// let start = Instant::now();
    /// let mut stall = StallDetector::new(Duration::from_secs(30));
    /// stall.handle_queued(start, 10);
    /// stall.handle_accepted(start + Duration::from_secs(20), 1);
    /// assert_eq!(stall.poll_timeout(), Some(start + Duration::from_secs(50)));
    /// stall.handle_accepted(start + Duration::from_secs(21), 9);
    /// assert_eq!(stall.poll_timeout(), None);
    /// ```
    pub fn handle_accepted(&mut self, now: Instant, bytes: usize) {
        if bytes > 0 && self.stalled.is_none() {
            self.pending = self.pending.saturating_sub(bytes as u64);
            self.since = (self.pending > 0).then_some(now);
        }
        self.expire(now);
    }

    /// When the client will count as stalled if the transport accepts nothing before; `None`
    /// while nothing is pending, and once the verdict is made.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let stall = sse_proto::StallDetector::new(Duration::from_secs(30));
    /// assert_eq!(stall.poll_timeout(), None); // nothing pending
    /// ```
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.stalled.is_some() {
            return None;
        }
        self.deadline()
    }

    /// Makes the verdict when `now` has reached the deadline; an early or repeated call does
    /// nothing.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::StallDetector;
    ///
    /// let start = Instant::now();
    /// let mut stall = StallDetector::new(Duration::from_secs(30));
    /// stall.handle_queued(start, 10);
    /// stall.handle_timeout(start + Duration::from_secs(29));
    /// assert!(stall.poll_stalled().is_none());
    /// stall.handle_timeout(start + Duration::from_secs(30));
    /// assert!(stall.poll_stalled().is_some());
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire(now);
    }

    /// `Some` once the client is stalled: drop it. Final.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::StallDetector;
    ///
    /// let now = Instant::now();
    /// let mut stall = StallDetector::new(Duration::ZERO);
    /// stall.handle_queued(now, 1);
    /// stall.handle_timeout(now);
    /// assert!(stall.poll_stalled().is_some());
    /// ```
    #[must_use]
    pub fn poll_stalled(&self) -> Option<Stalled> {
        self.stalled
    }

    fn deadline(&self) -> Option<Instant> {
        let since = self.since?;
        // Overflow (unreachable on real clocks): no deadline rather than a wrong one.
        since.checked_add(self.timeout)
    }

    fn expire(&mut self, now: Instant) {
        if self.stalled.is_some() {
            return;
        }
        if let (Some(deadline), Some(since)) = (self.deadline(), self.since) {
            if now >= deadline {
                self.stalled = Some(Stalled {
                    pending: self.pending,
                    since,
                });
            }
        }
    }
}
