//! What [`Client::poll`](super::Client::poll) tells the caller to do next, and the signals a
//! browser would fire as `open` and `error` events.

use std::time::Instant;

use super::{CloseReason, Request};
use crate::error::OpenError;

/// What to do next: the output of [`Client::poll`](super::Client::poll). A caller's loop is
/// a `match` on it, the same on any runtime.
///
/// # Example
///
/// ```
/// use std::time::Instant;
/// use sse_proto::{Action, Client, Signal};
///
/// let now = Instant::now();
/// let mut client = Client::new(Default::default());
/// let Action::Send(_request) = client.poll(now, 0) else { unreachable!() };
/// assert_eq!(client.poll(now, 0), Action::AwaitResponse { deadline: None });
/// client.handle_response(now, 200, Some(b"text/event-stream"), None)?;
/// assert_eq!(client.poll(now, 0), Action::Signal(Signal::Open));
/// assert_eq!(client.poll(now, 0), Action::ReadBody { deadline: None });
/// # Ok::<(), sse_proto::OpenError>(())
/// ```
// Not `#[non_exhaustive]`: a caller's loop must handle every action, and one added later
// that a wildcard arm ignored would leave that loop stuck; adding one is a breaking change.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "the client waits for the caller to act on this"]
pub enum Action {
    /// Open a connection with this request, dropping any connection still held. Then poll
    /// again: the answer is [`AwaitResponse`](Self::AwaitResponse).
    Send(Request),
    /// Report this to the application, as a browser fires `open` and `error`, then poll
    /// again. Signals come out in the order they happened, before any other action.
    Signal(Signal),
    /// A request is in flight: wait for its response head, then call
    /// [`handle_response`](super::Client::handle_response), or
    /// [`handle_disconnect`](super::Client::handle_disconnect) if the request failed. If
    /// nothing has come by `deadline` (the read timeout; `None`: no limit), call
    /// [`handle_timeout`](super::Client::handle_timeout) and poll again.
    AwaitResponse {
        /// When to give up waiting: then `handle_timeout`.
        deadline: Option<Instant>,
    },
    /// The stream is open: read the body, [`feed`](super::Client::feed) each chunk, and call
    /// [`handle_disconnect`](super::Client::handle_disconnect) when it ends or fails. If no
    /// chunk has come by `deadline` (the read timeout; `None`: no limit), call
    /// [`handle_timeout`](super::Client::handle_timeout) and poll again. The deadline counts
    /// from the last bytes fed, so it may already have passed when a caller comes back from
    /// handling events: take what is buffered first, and time out only a wait that found
    /// nothing.
    ReadBody {
        /// When to give up waiting for a chunk: then `handle_timeout`.
        deadline: Option<Instant>,
    },
    /// Nothing to do before `until` (the wait before reconnecting): sleep, then poll again.
    Wait {
        /// The end of the wait.
        until: Instant,
    },
    /// Closed for good: stop. Every later poll says the same.
    Closed(CloseReason),
}

/// What a browser's `EventSource` reports to the page, reported to the caller: `open` when a
/// response opened the stream, `error` when a connection ended or was refused.
///
/// # Example
///
/// ```
/// use std::time::{Duration, Instant};
/// use sse_proto::{Action, Client, ErrorCause, Signal};
///
/// let now = Instant::now();
/// let mut client = Client::new(Default::default());
/// let Action::Send(_request) = client.poll(now, 0) else { unreachable!() };
/// client.handle_disconnect(now); // connection refused
/// assert_eq!(
///     client.poll(now, 0),
///     Action::Signal(Signal::Error {
///         cause: ErrorCause::RequestFailed,
///         reconnect_at: Some(now + Duration::from_secs(3)),
///     })
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signal {
    /// `open`: a response was accepted; the ready state is `OPEN`.
    Open,
    /// `error`: the connection ended, failed or was refused.
    ///
    /// Every reconnection is preceded by one: the place to refresh credentials
    /// ([`Client::set_header`](super::Client::set_header)) before the next request.
    Error {
        /// What happened.
        cause: ErrorCause,
        /// When the client reconnects; `None` when it is closed for good (the ready state is
        /// `CLOSED`, and the next action is [`Action::Closed`] with the reason).
        reconnect_at: Option<Instant>,
    },
}

/// Why a connection ended, in a [`Signal::Error`].
///
/// # Example
///
/// ```
/// use sse_proto::{ErrorCause, OpenError};
///
/// let cause = ErrorCause::Refused(OpenError::Status { status: 404 });
/// assert_eq!(cause.to_string(), "response refused: the server answered with status 404 instead of 200");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorCause {
    /// The request failed before a response head arrived (DNS, TCP, TLS, a reset).
    #[error("the request failed before a response")]
    RequestFailed,
    /// The response did not open the stream (a status other than 200, another content
    /// type). Closed for good, unless [`ClientConfig::retry_server_errors`] lets a 429 or 5xx
    /// be retried.
    ///
    /// [`ClientConfig::retry_server_errors`]: super::ClientConfig::retry_server_errors
    #[error("response refused: {0}")]
    Refused(OpenError),
    /// The server refused the credentials (401 or 403) and
    /// [`ClientConfig::refresh_credentials`](super::ClientConfig::refresh_credentials) is on:
    /// set fresh ones now; the client retries at once, once.
    #[error("the server refused the credentials (status {status}); retrying once with fresh ones")]
    CredentialsRefused {
        /// 401 or 403.
        status: u16,
    },
    /// The response body ended (cleanly or not) while the stream was open.
    #[error("the stream ended")]
    BodyEnded,
    /// Nothing arrived for [`ClientConfig::read_timeout`](super::ClientConfig::read_timeout):
    /// no response head after the request, or no body bytes after the last ones.
    #[error("nothing received within the read timeout")]
    ReadTimeout,
}
