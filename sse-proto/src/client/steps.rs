//! [`ClientSteps`]: the steps of one body chunk, applied to the client as they are read.

use core::time::Duration;

use crate::error::ParseError;
use crate::parser::{Step, StepRef, Steps};

/// The iterator returned by [`Client::feed`](super::Client::feed): the steps of one body chunk, already applied
/// to the client. Yields what [`Parser::feed`](crate::Parser::feed) does and ends when the chunk is used up; it is
/// empty when the client was not open.
///
/// # Example
///
/// ```
/// use std::time::Instant;
/// use sse_proto::{Action, Client, Step};
///
/// let now = Instant::now();
/// let mut client = Client::new(Default::default());
/// let Action::Send(_request) = client.poll(now, 0) else { unreachable!() };
/// client.handle_response(now, 200, Some(b"text/event-stream"), None)?;
/// let mut steps = client.feed(now, b"data: a\n\ndata: b\n\n");
/// assert!(matches!(steps.next(), Some(Ok(Step::Event(e))) if e.data() == "a"));
/// assert_eq!(steps.remaining(), b"data: b\n\n");
/// # Ok::<(), sse_proto::OpenError>(())
/// ```
#[derive(Debug)]
#[must_use = "the chunk is only parsed as the iterator is advanced"]
pub struct ClientSteps<'c, 'b> {
    /// The parser's steps while the client is open; `None` when the chunk is ignored.
    pub(super) steps: Option<Steps<'c, 'b>>,
    pub(super) reconnection_time: &'c mut Duration,
    pub(super) chunk: &'b [u8],
}

impl<'b> ClientSteps<'_, 'b> {
    /// The part of the chunk not parsed yet (all of it when the client is not open).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Instant;
    ///
    /// let mut client = sse_proto::Client::new(Default::default());
    /// // Not open: nothing is read.
    /// assert_eq!(client.feed(Instant::now(), b"data: x\n\n").remaining().len(), 9);
    /// ```
    pub fn remaining(&self) -> &'b [u8] {
        self.steps.as_ref().map_or(self.chunk, Steps::remaining)
    }

    /// The next step lent ([`Steps::next_ref`]), applied to the client as
    /// [`next`](Iterator::next) applies it. The event is not copied out: as with
    /// [`Parser::poll_ref`](crate::Parser::poll_ref), an event whose one data line lies whole in the chunk costs no
    /// allocation, copy or reference count. The step borrows the iterator until the next
    /// call; `None` once the chunk is used up or when the client was not open.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sse_proto::{Action, Client, StepRef};
    ///
    /// let now = Instant::now();
    /// let mut client = Client::new(Default::default());
    /// let Action::Send(_request) = client.poll(now, 0) else { unreachable!() };
    /// client.handle_response(now, 200, Some(b"text/event-stream"), None)?;
    /// let mut total = 0;
    /// let mut steps = client.feed(now, b"retry: 250\ndata: abc\n\n");
    /// while let Some(step) = steps.next_ref() {
    ///     if let StepRef::Event(event) = step? {
    ///         total += event.data().len();
    ///     }
    /// }
    /// assert_eq!(total, 3);
    /// assert_eq!(client.reconnection_time(), Duration::from_millis(250));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_ref(&mut self) -> Option<Result<StepRef<'_>, ParseError>> {
        let step = self.steps.as_mut()?.next_ref()?;
        if let Ok(StepRef::Retry(delay)) = step {
            // "set the event stream's reconnection time to that integer"
            *self.reconnection_time = delay;
        }
        Some(step)
    }
}

impl Iterator for ClientSteps<'_, '_> {
    type Item = Result<Step, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let step = self.steps.as_mut()?.next()?;
        if let Ok(Step::Retry(delay)) = step {
            // "set the event stream's reconnection time to that integer"
            *self.reconnection_time = delay;
        }
        Some(step)
    }
}
