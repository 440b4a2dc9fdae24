//! [`EventStream`]: any stream of byte chunks to a stream of events, with no runtime.

use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use sse_proto::{Event, ParseError, Parser, ParserConfig, Step};

pin_project_lite::pin_project! {
    /// Events from a stream of byte chunks: reqwest's `bytes_stream()`, a hyper body's
    /// frames, an actix payload, anything that yields `Result<impl Into<Bytes>, E>`.
    ///
    /// Chunks may split the stream anywhere (inside a UTF-8 character, between CR and LF,
    /// inside the BOM). Each chunk is handed to the parser as it is: an event whose data lies
    /// whole in one chunk is cut from it without a copy. The parser's limits
    /// ([`ParserConfig`]) bound the memory a hostile stream can take; an event over a limit
    /// comes out as [`StreamError::Parse`] and the stream goes on with the next one. When the
    /// inner stream ends, a half-built event is discarded, as the standard says, and so does
    /// this stream.
    ///
    /// Comments are not yielded, even with [`ParserConfig::emit_comments`]: the items are
    /// events only (the clients report comments). This is the parser alone: no
    /// reconnection. `retry:` and `id:` are kept for a caller
    /// that reconnects itself ([`reconnection_time`](Self::reconnection_time),
    /// [`last_event_id`](Self::last_event_id)); for a whole client, see the `reqwest` and
    /// `blocking` features.
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::{stream, StreamExt};
    /// use sse_proto_io::EventStream;
    ///
    /// # futures_executor::block_on(async {
    /// let chunks = stream::iter([
    ///     Ok::<_, std::io::Error>(&b"\xEF\xBB"[..]), // the BOM, split
    ///     Ok(&b"\xBFid: 1\nda"[..]),
    ///     Ok(&b"ta: caf\xC3"[..]),
    ///     Ok(&b"\xA9\r"[..]),
    ///     Ok(&b"\n\r\n"[..]),
    /// ]);
    /// let mut events = EventStream::new(chunks);
    /// let event = events.next().await.unwrap()?;
    /// assert_eq!((event.data(), event.last_event_id()), ("café", "1"));
    /// assert!(events.next().await.is_none());
    /// # Ok::<(), sse_proto_io::StreamError<std::io::Error>>(())
    /// # }).unwrap();
    /// ```
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct EventStream<S> {
        #[pin]
        inner: S,
        parser: Parser,
        // The part of the last chunk not parsed yet.
        pending: Bytes,
        reconnection_time: Option<Duration>,
        done: bool,
    }
}

/// Why an [`EventStream`] yielded an error instead of an event.
///
/// # Example
///
/// ```
/// use sse_proto::ParseError;
/// use sse_proto_io::StreamError;
///
/// let error: StreamError<std::io::Error> = StreamError::Parse(ParseError::LineTooLong { len: 9, limit: 8 });
/// assert!(error.to_string().contains("limit of 8 bytes"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError<E> {
    /// An event went over a [`ParserConfig`] limit and was dropped; the stream goes on.
    #[error(transparent)]
    Parse(ParseError),
    /// The inner stream failed; it is then polled again, as a stream that failed once may
    /// have more (stop polling to stop).
    #[error("the byte stream failed: {0}")]
    Transport(#[source] E),
}

impl<S> EventStream<S> {
    /// Events from `inner`, with the parser's default limits (16 MiB a line, 16 MiB an
    /// event).
    ///
    /// # Example
    ///
    /// ```
    /// let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(b"data: x\n\n".to_vec())]);
    /// let events = sse_proto_io::EventStream::new(chunks);
    /// assert_eq!(events.last_event_id(), "");
    /// ```
    pub fn new(inner: S) -> Self {
        Self::with_config(inner, ParserConfig::default())
    }

    /// Events from `inner`, with these parser settings.
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::{stream, StreamExt};
    /// use sse_proto::{ParseError, ParserConfig};
    /// use sse_proto_io::{EventStream, StreamError};
    ///
    /// # futures_executor::block_on(async {
    /// let mut config = ParserConfig::default();
    /// config.max_event_len = 4;
    /// let chunks = stream::iter([Ok::<_, std::io::Error>(&b"data: too big\n\ndata: ok\n\n"[..])]);
    /// let mut events = EventStream::with_config(chunks, config);
    /// assert!(matches!(events.next().await, Some(Err(StreamError::Parse(ParseError::EventTooLarge { .. })))));
    /// assert_eq!(events.next().await.unwrap().unwrap().data(), "ok");
    /// # });
    /// ```
    pub fn with_config(inner: S, config: ParserConfig) -> Self {
        EventStream {
            inner,
            parser: Parser::with_config(config),
            pending: Bytes::new(),
            reconnection_time: None,
            done: false,
        }
    }

    /// The last event ID: what to send as `Last-Event-ID` when reconnecting (`""` when
    /// none).
    ///
    /// # Example
    ///
    /// ```
    /// # let chunks = futures_util::stream::empty::<Result<Vec<u8>, std::io::Error>>();
    /// let events = sse_proto_io::EventStream::new(chunks);
    /// assert_eq!(events.last_event_id(), "");
    /// ```
    pub fn last_event_id(&self) -> &str {
        self.parser.last_event_id()
    }

    /// The reconnection time the stream last set with `retry:`; `None` until it does.
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::{stream, StreamExt};
    /// use std::time::Duration;
    ///
    /// # futures_executor::block_on(async {
    /// let chunks = stream::iter([Ok::<_, std::io::Error>(&b"retry: 1500\n\n"[..])]);
    /// let mut events = sse_proto_io::EventStream::new(chunks);
    /// assert!(events.next().await.is_none()); // no event, but the retry is kept
    /// assert_eq!(events.reconnection_time(), Some(Duration::from_millis(1500)));
    /// # });
    /// ```
    pub fn reconnection_time(&self) -> Option<Duration> {
        self.reconnection_time
    }

    /// The wrapped stream.
    ///
    /// # Example
    ///
    /// ```
    /// # let chunks = futures_util::stream::empty::<Result<Vec<u8>, std::io::Error>>();
    /// let events = sse_proto_io::EventStream::new(chunks);
    /// let _chunks = events.into_inner();
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, E> Stream for EventStream<S>
where
    S: Stream<Item = Result<B, E>>,
    B: Into<Bytes>,
{
    type Item = Result<Event, StreamError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            match this.parser.poll_bytes(this.pending) {
                Ok(Step::Event(event)) => return Poll::Ready(Some(Ok(event))),
                Ok(Step::Retry(delay)) => *this.reconnection_time = Some(delay),
                Ok(Step::Comment(_)) => {}
                Ok(Step::End) => {
                    *this.done = true;
                    return Poll::Ready(None);
                }
                Ok(Step::NeedData) => match this.inner.as_mut().poll_next(cx) {
                    Poll::Ready(Some(Ok(chunk))) => *this.pending = chunk.into(),
                    Poll::Ready(Some(Err(error))) => {
                        return Poll::Ready(Some(Err(StreamError::Transport(error))))
                    }
                    // "Once the end of the file is reached, any pending data must be
                    // discarded": `finish` drops a half-built event, then `End` comes.
                    Poll::Ready(None) => this.parser.finish(),
                    Poll::Pending => return Poll::Pending,
                },
                Err(limit) => return Poll::Ready(Some(Err(StreamError::Parse(limit)))),
                Ok(_) => {}
            }
        }
    }
}
