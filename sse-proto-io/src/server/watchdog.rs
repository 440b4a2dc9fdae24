//! [`Watchdog`]: drops a connection whose client stopped reading.

use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::{Poll, Waker};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use sse_proto::{StallDetector, Stalled};

/// The stall verdicts of one connection's event-stream bodies, on a clock of its own: the
/// piece that drops a client that stopped reading.
///
/// A stalled client's connection stops polling its body (see [`Sse`](super::Sse)), so the
/// body cannot act on a send timeout by itself. The accept loop makes one `Watchdog` per
/// connection, hands it to the request handlers (as a request extension, say), which pass it
/// to [`Sse::watchdog`](super::Sse::watchdog), and drops the connection when
/// [`stalled`](Self::stalled) resolves. The bodies report what they queued and what the
/// transport took; each verdict is [`sse_proto::StallDetector`]'s.
///
/// Cheap to clone (a reference count); it holds the bodies weakly, so a finished body is
/// forgotten. Each body has its own detector with the watchdog's timeout, started when the
/// body is first polled.
///
/// **Counting stalls.** Make each connection's watchdog with [`for_connection`](Self::for_connection)
/// from one made at startup: they share a count of the connections judged stalled,
/// [`stalls`](Self::stalls), to export next to [`Hub::stats`](super::Hub::stats).
///
/// # Example: the accept loop's side
///
/// ```no_run
/// use std::time::Duration;
/// use sse_proto_io::server::Watchdog;
///
/// # async fn serve(connection: impl std::future::Future<Output = ()>) {
/// # let watchdogs = Watchdog::new(Duration::from_secs(30));
/// // `watchdogs`: made once, at startup, with the send timeout; one per connection from it.
/// let watchdog = watchdogs.for_connection();
/// // ... give `watchdog.clone()` to this connection's request handlers ...
/// tokio::select! {
///     _ = connection => {}                   // it ended by itself
///     stalled = watchdog.stalled() => {      // dropping `connection` closes the socket
///         eprintln!("dropped a client with {} bytes unread", stalled.pending);
///     }
/// }
/// // `watchdogs.stalls()`: how many connections were dropped that way, for export.
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Watchdog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    timeout: Duration,
    state: Mutex<State>,
    /// Connections judged stalled, shared by the watchdogs made with `for_connection`.
    stalls: Arc<AtomicU64>,
}

#[derive(Debug, Default)]
struct State {
    bodies: Vec<Weak<Mutex<StallDetector>>>,
    /// The task waiting in [`Watchdog::stalled`].
    waker: Option<Waker>,
    /// When that task wakes next by itself; `None`: not before a body nudges it.
    next_check: Option<Instant>,
    /// Whether [`Watchdog::stalled`] has resolved (and the stall been counted) yet: a caller
    /// that waits again on a stalled connection gets the verdict again, counted once.
    counted: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves counters that are still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Watchdog {
    /// A watchdog for one connection, with no body yet, that drops the connection when one
    /// of its bodies has had bytes waiting and none taken for `send_timeout`
    /// ([`StallDetector::DEFAULT_TIMEOUT`], 30 s, is a good default). A zero timeout drops at
    /// the first check with bytes waiting.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let watchdog = sse_proto_io::server::Watchdog::new(Duration::from_secs(30));
    /// assert_eq!(watchdog.bodies(), 0);
    /// assert_eq!(watchdog.send_timeout(), Duration::from_secs(30));
    /// ```
    pub fn new(send_timeout: Duration) -> Self {
        Self::with_count(send_timeout, Arc::default())
    }

    fn with_count(timeout: Duration, stalls: Arc<AtomicU64>) -> Self {
        Watchdog {
            inner: Arc::new(Inner {
                timeout,
                state: Mutex::default(),
                stalls,
            }),
        }
    }

    /// A watchdog for another connection: the same send timeout and the same stall count
    /// ([`stalls`](Self::stalls)), with no body yet. Unlike a clone, which watches the same
    /// connection.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_proto_io::server::Watchdog;
    ///
    /// let watchdogs = Watchdog::new(Duration::from_secs(30)); // at startup
    /// let watchdog = watchdogs.for_connection(); // for each accepted connection
    /// assert_eq!(watchdog.send_timeout(), Duration::from_secs(30));
    /// assert_eq!(watchdogs.stalls(), 0);
    /// ```
    pub fn for_connection(&self) -> Self {
        Self::with_count(self.inner.timeout, self.inner.stalls.clone())
    }

    /// Connections judged stalled so far, among this watchdog and those that share its count
    /// ([`for_connection`](Self::for_connection)): each connection counted once, the first
    /// time its [`stalled`](Self::stalled) resolves. A counter to export (the connections
    /// dropped because their client stopped reading).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_util::{stream, StreamExt};
    /// use http_body::Body;
    /// use sse_proto_io::server::{Sse, Watchdog};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let watchdogs = Watchdog::new(Duration::from_secs(30));
    /// let watchdog = watchdogs.for_connection();
    /// let mut body = Box::pin(Sse::new(stream::pending::<sse_proto::Frame>()).watchdog(&watchdog));
    /// // The server takes the opening comment, then the client reads nothing more.
    /// let _ = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await;
    /// watchdog.stalled().await; // 30 s later, on the paused clock
    /// assert_eq!(watchdogs.stalls(), 1);
    /// # }
    /// ```
    pub fn stalls(&self) -> u64 {
        self.inner.stalls.load(Ordering::Relaxed)
    }

    /// The send timeout of its bodies.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::StallDetector;
    /// use sse_proto_io::server::Watchdog;
    ///
    /// let watchdog = Watchdog::new(StallDetector::DEFAULT_TIMEOUT);
    /// assert_eq!(watchdog.send_timeout().as_secs(), 30);
    /// ```
    pub fn send_timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The bodies with a send timeout watched now (those that have started and not ended).
    ///
    /// # Example
    ///
    /// ```
    /// let watchdog = sse_proto_io::server::Watchdog::new(std::time::Duration::from_secs(30));
    /// assert_eq!(watchdog.bodies(), 0);
    /// ```
    pub fn bodies(&self) -> usize {
        let state = lock(&self.inner.state);
        state.bodies.iter().filter(|b| b.strong_count() > 0).count()
    }

    /// Resolves when one of the connection's bodies has stalled: the transport took none of
    /// its bytes for its send timeout. Drop the connection then. Never resolves for a
    /// connection whose clients keep reading. Needs a tokio runtime with the timer; one task
    /// should wait on it at a time (a second one takes the wake-ups from the first).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_util::FutureExt;
    /// use sse_proto_io::server::Watchdog;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let watchdog = Watchdog::new(Duration::from_secs(30));
    /// // Nothing watched, nothing stalled.
    /// assert!(watchdog.stalled().now_or_never().is_none());
    /// # }
    /// ```
    pub fn stalled(&self) -> impl Future<Output = Stalled> + Send + '_ {
        let mut sleep: Option<Pin<Box<tokio::time::Sleep>>> = None;
        poll_fn(move |cx| {
            let now = super::now();
            let mut state = lock(&self.inner.state);
            state.waker = Some(cx.waker().clone());
            let mut next: Option<Instant> = None;
            let mut verdict = None;
            state.bodies.retain(|body| {
                let Some(body) = body.upgrade() else {
                    return false;
                };
                let mut detector = lock(&body);
                detector.handle_timeout(now);
                if let Some(stalled) = detector.poll_stalled() {
                    verdict.get_or_insert(stalled);
                }
                if let Some(deadline) = detector.poll_timeout() {
                    next = Some(next.map_or(deadline, |n| n.min(deadline)));
                }
                true
            });
            if let Some(stalled) = verdict {
                state.next_check = None;
                if !state.counted {
                    state.counted = true;
                    self.inner.stalls.fetch_add(1, Ordering::Relaxed);
                }
                return Poll::Ready(stalled);
            }
            state.next_check = next;
            drop(state);
            if let Some(next) = next {
                let deadline = tokio::time::Instant::from_std(next);
                let timer =
                    sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.deadline() != deadline {
                    timer.as_mut().reset(deadline);
                }
                if timer.as_mut().poll(cx).is_ready() {
                    // The deadline passed while we looked: look again at once.
                    cx.waker().wake_by_ref();
                }
            }
            Poll::Pending
        })
    }
}

impl Inner {
    /// A body has a deadline at `deadline`: wake the waiting task if it would sleep past it.
    fn nudge(&self, deadline: Instant) {
        let mut state = lock(&self.state);
        if state.next_check.is_none_or(|check| deadline < check) {
            state.next_check = Some(deadline);
            if let Some(waker) = state.waker.take() {
                waker.wake();
            }
        }
    }
}

/// One body's stall detector, shared with its connection's watchdog.
pub(super) struct Tracked {
    detector: Arc<Mutex<StallDetector>>,
    watchdog: Arc<Inner>,
}

impl Tracked {
    pub(super) fn new(watchdog: &Watchdog) -> Self {
        let detector = Arc::new(Mutex::new(StallDetector::new(watchdog.inner.timeout)));
        let mut state = lock(&watchdog.inner.state);
        // Forget finished bodies here too, for a connection whose watchdog nobody awaits.
        state.bodies.retain(|body| body.strong_count() > 0);
        state.bodies.push(Arc::downgrade(&detector));
        drop(state);
        Tracked {
            detector,
            watchdog: watchdog.inner.clone(),
        }
    }

    pub(super) fn timeout(&self) -> Duration {
        self.watchdog.timeout
    }

    pub(super) fn handle_queued(&self, now: Instant, bytes: usize) {
        // Two locks, never nested: the watchdog takes them in the other order.
        let deadline = {
            let mut detector = lock(&self.detector);
            detector.handle_queued(now, bytes);
            detector.poll_timeout()
        };
        if let Some(deadline) = deadline {
            self.watchdog.nudge(deadline);
        }
    }

    pub(super) fn handle_accepted(&self, now: Instant, bytes: usize) {
        lock(&self.detector).handle_accepted(now, bytes);
    }

    pub(super) fn poll_stalled(&self, now: Instant) -> Option<Stalled> {
        let mut detector = lock(&self.detector);
        detector.handle_timeout(now);
        detector.poll_stalled()
    }
}
