//! [`ClientConfig`]: the settings of a [`Client`](super::Client), browser-like by default.

use core::time::Duration;

use super::Backoff;
use crate::parser::ParserConfig;

/// Settings of a [`Client`](super::Client). The defaults behave like a browser's `EventSource`, plus
/// nothing: no backoff, no limit on attempts, no read timeout, no retry of error statuses.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use sse_proto::{Backoff, Client, ClientConfig};
///
/// let mut config = ClientConfig::default();
/// config.backoff = Some(Backoff::new(2, Duration::from_secs(60)));
/// config.max_attempts = Some(10);
/// config.read_timeout = Some(Duration::from_secs(45)); // 3 missed 15 s keep-alives
/// config.retry_server_errors = true;
/// let client = Client::new(config);
/// assert_eq!(client.reconnection_time(), ClientConfig::DEFAULT_RECONNECTION_TIME);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The wait before reconnecting until the server sends `retry:`, which replaces it.
    /// Default [`DEFAULT_RECONNECTION_TIME`](Self::DEFAULT_RECONNECTION_TIME) (3 s).
    pub reconnection_time: Duration,
    /// Exponential backoff from the reconnection time; `None` (default) waits the
    /// reconnection time every time, as browsers do.
    pub backoff: Option<Backoff>,
    /// How many reconnection attempts in a row may be made (each one counted when it is
    /// scheduled, the count reset by a healthy connection); the failure after the last one
    /// closes the client with [`CloseReason::GaveUp`](super::CloseReason::GaveUp). `None` (default): no limit. `Some(0)`
    /// closes at the first failure.
    pub max_attempts: Option<u32>,
    /// How long a connection must stay open for the attempt count (and so the backoff) to
    /// start again from zero when it ends. Flapping connections that drop sooner keep
    /// backing off. Default [`DEFAULT_HEALTHY_AFTER`](Self::DEFAULT_HEALTHY_AFTER) (30 s).
    pub healthy_after: Duration,
    /// Liveness: when nothing arrives for this long (no response head after the request, no
    /// body bytes after the last ones: events, comments and keep-alives all count), the
    /// connection is taken for dead and the client reconnects. Set it above the server's
    /// keep-alive interval. `None` (default): wait for ever, as browsers do. There is no
    /// total timeout: a healthy stream may last for ever. It fires when the caller reports a
    /// wait that found nothing ([`Client::handle_timeout`](super::Client::handle_timeout)),
    /// so time spent handling events is never taken for silence.
    pub read_timeout: Option<Duration>,
    /// Opt-in: treat status 429 and 5xx as temporary and reconnect (counted as an attempt,
    /// waiting at least the `Retry-After` delay when the response gives one in seconds)
    /// instead of closing for good. Browsers close; off by default.
    pub retry_server_errors: bool,
    /// Opt-in: when the server refuses the credentials (401 or 403), signal
    /// [`ErrorCause::CredentialsRefused`](super::ErrorCause::CredentialsRefused) so the caller sets fresh ones
    /// ([`Client::set_header`](super::Client::set_header)), and retry at once, once: a second refusal in a row closes
    /// the client. Neither counted as an attempt nor waited for. Browsers close at the
    /// first; off by default.
    pub refresh_credentials: bool,
    /// Limits and options of the client's [`Parser`](crate::Parser).
    pub parser: ParserConfig,
}

impl ClientConfig {
    /// Default [`reconnection_time`](Self::reconnection_time): 3 s. The standard leaves it to
    /// the client ("a few seconds"); Chromium and WebKit use 3 s, Firefox 5 s.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::ClientConfig;
    ///
    /// assert_eq!(ClientConfig::default().reconnection_time, ClientConfig::DEFAULT_RECONNECTION_TIME);
    /// ```
    pub const DEFAULT_RECONNECTION_TIME: Duration = Duration::from_secs(3);
    /// Default [`healthy_after`](Self::healthy_after): 30 s, longer than the first few
    /// backoff steps, so a server that accepts and then drops every connection is not
    /// hammered.
    ///
    /// # Example
    ///
    /// ```
    /// use sse_proto::ClientConfig;
    ///
    /// assert_eq!(ClientConfig::DEFAULT_HEALTHY_AFTER.as_secs(), 30);
    /// ```
    pub const DEFAULT_HEALTHY_AFTER: Duration = Duration::from_secs(30);
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            reconnection_time: Self::DEFAULT_RECONNECTION_TIME,
            backoff: None,
            max_attempts: None,
            healthy_after: Self::DEFAULT_HEALTHY_AFTER,
            read_timeout: None,
            retry_server_errors: false,
            refresh_credentials: false,
            parser: ParserConfig::default(),
        }
    }
}
