//! [`Backoff`]: how the wait before reconnecting grows after failures in a row.

use core::time::Duration;

use super::Client;

/// Exponential backoff between reconnection attempts, off unless set in
/// [`ClientConfig::backoff`](super::ClientConfig::backoff) (browsers wait the plain reconnection time every time).
///
/// The wait before reconnection attempt `n` (0 for the first one after a healthy
/// connection) is the reconnection time multiplied by `factor` `n` times, capped at
/// `max_delay`, then lengthened by up to `jitter_percent` percent of itself, according to
/// the caller's random number. Two rules protect the server's wishes: the cap never brings
/// the wait below the reconnection time (a server that sent `retry: 60000` waits 60 s even
/// with a 30 s cap), and jitter only ever adds. One protects the server from itself: after
/// the first failure in a row, the multiplication starts from at least
/// [`MIN_STEP`](Self::MIN_STEP), so a `retry: 0` (reconnect at once) followed by failures
/// backs off instead of reconnecting in a tight loop.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use sse_proto::Backoff;
///
/// let backoff = Backoff::new(2, Duration::from_secs(30));
/// let base = Duration::from_secs(3);
/// assert_eq!(backoff.delay(base, 0, 0), Duration::from_secs(3));
/// assert_eq!(backoff.delay(base, 2, 0), Duration::from_secs(12));
/// assert_eq!(backoff.delay(base, 9, 0), Duration::from_secs(30)); // capped
/// let most = backoff.delay(base, 0, u32::MAX); // the largest random number
/// assert!(most > Duration::from_secs(3) && most < Duration::from_millis(4500));
/// // `retry: 0`: at once the first time, then growing from MIN_STEP.
/// assert_eq!(backoff.delay(Duration::ZERO, 0, 0), Duration::ZERO);
/// assert_eq!(backoff.delay(Duration::ZERO, 3, 0), Backoff::MIN_STEP * 8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Backoff {
    /// Multiplier per failed attempt in a row. `2` doubles; `0` and `1` keep the wait
    /// constant (useful with jitter alone). Default 2.
    pub factor: u32,
    /// Longest wait the multiplication may reach (never below the reconnection time).
    /// Default 60 s.
    pub max_delay: Duration,
    /// Most that jitter adds, in percent of the wait: the caller's random number, read as a
    /// fraction of `2^32`, picks how much. Default 50, which spreads a herd of clients
    /// dropped at the same moment over half a wait; 0 disables jitter.
    pub jitter_percent: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(2, Duration::from_secs(60))
    }
}

impl Backoff {
    /// The least base the multiplication grows from after a first failure: 250 ms, so a
    /// server that asks for `retry: 0` and keeps failing is retried at 0, 0.5, 1, 2, ... s
    /// (factor 2) rather than hammered.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(sse_proto::Backoff::MIN_STEP.as_millis(), 250);
    /// ```
    pub const MIN_STEP: Duration = Duration::from_millis(250);

    /// A backoff with this factor and cap, and the default jitter (50 %).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let backoff = sse_proto::Backoff::new(3, Duration::from_secs(90));
    /// assert_eq!(backoff.jitter_percent, 50);
    /// ```
    pub fn new(factor: u32, max_delay: Duration) -> Self {
        Backoff {
            factor,
            max_delay,
            jitter_percent: 50,
        }
    }

    /// The wait before reconnection attempt `attempt` (0-based), from the reconnection time
    /// `base` and the caller's `random` number. Never below `base` (unless `base` is over
    /// [`Client::MAX_WAIT`]), never above `max(base, max_delay)` plus jitter, never above
    /// [`Client::MAX_WAIT`]; from attempt 1 on it grows from `max(base, MIN_STEP)`.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_proto::Backoff;
    ///
    /// let mut backoff = Backoff::new(2, Duration::from_secs(10));
    /// backoff.jitter_percent = 100;
    /// let base = Duration::from_secs(1);
    /// assert_eq!(backoff.delay(base, 1, 0), Duration::from_secs(2));
    /// assert_eq!(backoff.delay(base, 1, 1 << 31), Duration::from_secs(3)); // half of 100 %
    /// ```
    pub fn delay(&self, base: Duration, attempt: u32, random: u32) -> Duration {
        let base = base.as_nanos().min(Client::MAX_WAIT.as_nanos());
        let from = if attempt == 0 {
            base
        } else {
            base.max(Self::MIN_STEP.as_nanos())
        };
        let grown = from.saturating_mul(u128::from(self.factor.max(1)).saturating_pow(attempt));
        let cap = self.max_delay.as_nanos().max(base);
        let wait = grown.min(cap).min(Client::MAX_WAIT.as_nanos());
        // At most 8.64e13 ns × 4.3e9 × 4.3e9 ≈ 1.6e33, well inside u128.
        let extra = wait * u128::from(self.jitter_percent) * u128::from(random) / (100u128 << 32);
        nanos(wait + extra).min(Client::MAX_WAIT)
    }
}

fn nanos(n: u128) -> Duration {
    Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
}
