//! [`RedisSubscription`]: the replay read from the stream, then the local live feed, joined
//! without a gap or a duplicate.
//!
//! How to change this safely: the order in [`RedisHub::subscribe`](super::RedisHub::subscribe)
//! (live feed first, range read second) and the filter in [`Handover::admit`] are one
//! argument; the model test at the bottom of this file checks them together against every
//! interleaving of publishes, reader deliveries and subscribes it can find. Keep it passing.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::collections::VecDeque;

use futures_core::Stream;
use sse_proto::Frame;
use tokio::sync::watch;

use super::id::{EntryId, EventId};
use crate::server::{End, Resume, Sse, Subscription};

/// Which live frames a resumed subscription still needs.
#[derive(Clone, Debug)]
pub(crate) enum Handover {
    /// Every one (a new client, or one whose id was unknown: it got a full state instead).
    All,
    /// Those of this epoch newer than this entry: the last one replayed, or the client's own
    /// when the replay was empty.
    After { epoch: String, last: EntryId },
}

impl Handover {
    /// Whether the live `frame` goes to the client. The reader delivers entries in stream
    /// order, so the live feed repeats a prefix of the replay at most, and a frame passes
    /// exactly when it is newer than everything the client has.
    pub(crate) fn admit(&mut self, frame: &Frame) -> bool {
        let Handover::After { epoch, last } = self else {
            return true;
        };
        // Frames of the hub are the reader's: each carries an id of ours.
        let Some(id) = frame.id().and_then(EventId::parse) else {
            return false;
        };
        if id.epoch != epoch || id.entry <= *last {
            return false;
        }
        *last = id.entry;
        true
    }
}

/// One client's feed from a [`RedisHub`](super::RedisHub): what it missed, read from the Redis
/// stream, then the instance's live feed. A [`Stream`] of [`Frame`]s for
/// [`Sse::new`](crate::server::Sse::new) (or [`into_sse`](Self::into_sse), which also wires
/// [`interrupted`](Self::interrupted) to the body's closing `retry:`).
///
/// It ends when the instance can no longer vouch for its live feed (the reader lost Redis's
/// data, or the instance closed): [`interrupted`](Self::interrupted) resolves first, so a
/// body built by `into_sse` tells its client to come back (a `retry:` and a close), and the
/// client resumes after the last event it got, here or at another instance.
#[must_use = "a subscription queues frames until it is dropped"]
pub struct RedisSubscription {
    replay: VecDeque<Frame>,
    live: Subscription,
    handover: Handover,
    resume: Resume,
    generation: u64,
    generations: watch::Receiver<u64>,
}

impl core::fmt::Debug for RedisSubscription {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedisSubscription")
            .field("resume", &self.resume)
            .field("replay", &self.replay.len())
            .field("live", &self.live)
            .finish_non_exhaustive()
    }
}

impl RedisSubscription {
    pub(crate) fn new(
        live: Subscription,
        replay: Vec<Frame>,
        handover: Handover,
        resume: Resume,
        generations: watch::Receiver<u64>,
        generation: u64,
    ) -> Self {
        RedisSubscription {
            replay: replay.into(),
            live,
            handover,
            resume,
            generation,
            generations,
        }
    }

    /// How it began: [`Resume::New`] without a `Last-Event-ID`, [`Resume::Replayed`] or
    /// [`Resume::UpToDate`] when the stream still had everything after it, and
    /// [`Resume::Unknown`] when it did not (another epoch, trimmed, malformed): then the
    /// frames given to [`RedisHub::subscribe_with`](super::RedisHub::subscribe_with) went
    /// first.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(hub: sse_proto_io::server::RedisHub) -> Result<(), sse_proto_io::server::RedisError> {
    /// use sse_proto_io::server::Resume;
    ///
    /// let subscription = hub.subscribe(Some("not-one-of-ours")).await?;
    /// assert_eq!(subscription.resume(), Resume::Unknown);
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume(&self) -> Resume {
        self.resume
    }

    /// Why the live feed ended, once it has; `None` while it is live.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(hub: sse_proto_io::server::RedisHub) -> Result<(), sse_proto_io::server::RedisError> {
    /// let subscription = hub.subscribe(None).await?;
    /// assert_eq!(subscription.ended(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn ended(&self) -> Option<End> {
        self.live.ended()
    }

    /// Resolves when this subscription's live feed is over for a reason other than a slow
    /// client: the instance's reader found Redis flushed, replaced or trimmed past what it
    /// had read, or the hub was closed. Give it to [`Sse::shutdown`] so that the body sends a
    /// `retry:` and closes, and the client reconnects with its `Last-Event-ID`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(hub: sse_proto_io::server::RedisHub) -> Result<(), sse_proto_io::server::RedisError> {
    /// use sse_proto_io::server::Sse;
    ///
    /// let subscription = hub.subscribe(None).await?;
    /// let interrupted = subscription.interrupted();
    /// let body = Sse::new(subscription).shutdown(interrupted);
    /// # let _ = body;
    /// # Ok(())
    /// # }
    /// ```
    pub fn interrupted(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut generations = self.generations.clone();
        let mine = self.generation;
        async move {
            // An error means the hub itself is gone: interrupted too.
            let _ = generations.wait_for(|now| *now != mine).await;
        }
    }

    /// The response body for this subscription, with [`interrupted`](Self::interrupted)
    /// as its shutdown signal (see [`Sse`] for the other settings, which can still be
    /// changed on the result).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(hub: sse_proto_io::server::RedisHub) -> Result<(), sse_proto_io::server::RedisError> {
    /// let body = hub.subscribe(None).await?.into_sse();
    /// let response = body.into_http_response(http::Version::HTTP_11);
    /// # let _ = response;
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_sse(self) -> Sse<Self> {
        let interrupted = self.interrupted();
        Sse::new(self).shutdown(interrupted)
    }
}

impl Stream for RedisSubscription {
    type Item = Frame;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Frame>> {
        let this = self.get_mut();
        if let Some(frame) = this.replay.pop_front() {
            return Poll::Ready(Some(frame));
        }
        loop {
            match Pin::new(&mut this.live).poll_next(cx) {
                Poll::Ready(Some(frame)) => {
                    if this.handover.admit(&frame) {
                        return Poll::Ready(Some(frame));
                    }
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The hand-over against a model: Redis is an in-memory ordered log, the instance's
    //! reader copies it into a real [`Hub`] as far as it has got (lagging by any amount), and
    //! each subscribe is split in its two steps (live feed, then range read) with anything
    //! in between. Every subscriber must get exactly the log after its id, in order.
    use super::super::feed::NoHistory;
    use super::*;
    use crate::server::{Hub, HubConfig};
    use futures_util::{FutureExt, StreamExt};
    use proptest::prelude::*;
    use sse_proto::Event;

    const EPOCH: &str = "e0";

    fn frame(n: u64) -> Frame {
        // Entry ids as XADD makes them: several in one millisecond, then the next.
        let id = format!("{EPOCH}-{}-{}", n / 3, n % 3);
        Frame::from_event(&Event::builder().id(id).data(n.to_string()).build().unwrap())
    }

    fn entry(n: u64) -> EntryId {
        EntryId {
            ms: n / 3,
            seq: n % 3,
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        Publish,
        /// The reader delivers up to this many entries it has not delivered yet.
        Deliver(u8),
        /// A client subscribes to the live feed, resuming after the n-th event (modulo the
        /// log, `None` for a new client); the range read comes later.
        Begin(Option<u8>),
        /// The range read of a pending subscribe.
        Finish(u8),
        /// A client takes what it has.
        Poll(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Publish),
            2 => (1u8..4).prop_map(Op::Deliver),
            1 => proptest::option::of(any::<u8>()).prop_map(Op::Begin),
            1 => any::<u8>().prop_map(Op::Finish),
            2 => any::<u8>().prop_map(Op::Poll),
        ]
    }

    struct Client {
        /// Index of the first event it needs.
        from: u64,
        resume_after: Option<u64>,
        live: Option<Subscription>,
        joined: Option<RedisSubscription>,
        got: Vec<String>,
    }

    fn finish(client: &mut Client, log: u64, generations: &watch::Receiver<u64>) {
        let Some(live) = client.live.take() else {
            return;
        };
        let (replay, handover) = match client.resume_after {
            None => (Vec::new(), Handover::All),
            Some(after) => {
                let replay: Vec<Frame> = (after + 1..log).map(frame).collect();
                let last = if log > after + 1 { log - 1 } else { after };
                let handover = Handover::After {
                    epoch: EPOCH.into(),
                    last: entry(last),
                };
                (replay, handover)
            }
        };
        client.joined = Some(RedisSubscription::new(
            live,
            replay,
            handover,
            Resume::New,
            generations.clone(),
            0,
        ));
    }

    fn drain(client: &mut Client) {
        if let Some(joined) = &mut client.joined {
            while let Some(Some(frame)) = joined.next().now_or_never() {
                client.got.push(frame.id().unwrap().to_owned());
            }
        }
    }

    proptest! {
        #[test]
        fn no_gap_no_duplicate_at_the_hand_over(ops in proptest::collection::vec(op(), 1..80)) {
            // Within a crate the struct literal is allowed (outside, it is non-exhaustive).
            let hub = Hub::with_store(NoHistory, HubConfig { capacity: 10_000 });
            let (_generation, generations) = watch::channel(0u64);
            let mut log = 0u64;
            let mut delivered = 0u64;
            let mut clients: Vec<Client> = Vec::new();
            for op in ops {
                match op {
                    Op::Publish => log += 1,
                    Op::Deliver(n) => {
                        for _ in 0..n {
                            if delivered < log {
                                hub.publish(frame(delivered));
                                delivered += 1;
                            }
                        }
                    }
                    Op::Begin(after) => {
                        // A new client's first event is whatever the live feed brings: the
                        // first one the reader had not delivered yet.
                        let resume_after = match after {
                            Some(n) if log > 0 => Some(u64::from(n) % log),
                            _ => None,
                        };
                        let from = resume_after.map_or(delivered, |after| after + 1);
                        clients.push(Client {
                            from,
                            resume_after,
                            live: Some(hub.subscribe(None)),
                            joined: None,
                            got: Vec::new(),
                        });
                    }
                    Op::Finish(k) if !clients.is_empty() => {
                        let k = usize::from(k) % clients.len();
                        finish(&mut clients[k], log, &generations);
                    }
                    Op::Poll(k) if !clients.is_empty() => {
                        let k = usize::from(k) % clients.len();
                        drain(&mut clients[k]);
                    }
                    Op::Finish(_) | Op::Poll(_) => {}
                }
            }
            // The rest: every range read done, the reader caught up, every client drained.
            for client in &mut clients {
                finish(client, log, &generations);
            }
            while delivered < log {
                hub.publish(frame(delivered));
                delivered += 1;
            }
            for client in &mut clients {
                drain(client);
                let expected: Vec<String> =
                    (client.from..log).map(|n| frame(n).id().unwrap().to_owned()).collect();
                prop_assert_eq!(&client.got, &expected);
            }
        }
    }

    #[test]
    fn admit_drops_other_epochs_and_old_entries() {
        let mut handover = Handover::After {
            epoch: EPOCH.into(),
            last: entry(4),
        };
        assert!(!handover.admit(&frame(3)));
        assert!(!handover.admit(&frame(4)));
        assert!(handover.admit(&frame(5)));
        assert!(!handover.admit(&frame(5)));
        let other = Event::builder().id("e1-9-0").data("x").build().unwrap();
        assert!(!handover.admit(&Frame::from_event(&other)));
        assert!(!handover.admit(&Frame::from_event(&Event::new("no id"))));
        assert!(Handover::All.admit(&Frame::from_event(&Event::new("no id"))));
    }
}
