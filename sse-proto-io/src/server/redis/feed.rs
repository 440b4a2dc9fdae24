//! The instance's live feed: a local [`Hub`] per generation, replaced (and the old one
//! closed) when the reader can no longer vouch for what it delivered.

use std::sync::{Mutex, MutexGuard, PoisonError};

use sse_proto::Frame;
use tokio::sync::watch;

use crate::server::{History, Hub, HubConfig, HubStats, Store, Subscription};

/// The hub's history: none. Resume goes to the Redis stream, not to the hub.
pub(crate) struct NoHistory;

impl Store for NoHistory {
    fn keep(&mut self, _frame: &Frame) {}

    fn history_after(&self, _last_event_id: &str) -> History {
        History::Unknown
    }
}

struct State {
    hub: Hub<NoHistory>,
    generation: u64,
    closed: bool,
}

/// Shared by the handles, the reader and the subscriptions' interruption signals.
pub(crate) struct Feed {
    state: Mutex<State>,
    generations: watch::Sender<u64>,
    config: HubConfig,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every step leaves the state whole, so a panic elsewhere while holding it is harmless.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Feed {
    pub(crate) fn new(config: HubConfig) -> Feed {
        Feed {
            state: Mutex::new(State {
                hub: Hub::with_store(NoHistory, config),
                generation: 0,
                closed: false,
            }),
            generations: watch::channel(0).0,
            config,
        }
    }

    /// Subscribes to the current generation's live feed; `None` once closed.
    pub(crate) fn subscribe(&self) -> Option<(Subscription, u64, watch::Receiver<u64>)> {
        let state = lock(&self.state);
        if state.closed {
            return None;
        }
        let live = state.hub.subscribe(None);
        Some((live, state.generation, self.generations.subscribe()))
    }

    /// Hands a frame the reader read to every live subscriber of this instance.
    pub(crate) fn publish(&self, frame: Frame) {
        let hub = lock(&self.state).hub.clone();
        hub.publish(frame);
    }

    /// Ends the current generation: its subscriptions learn it first (their bodies send the
    /// closing `retry:`), then their live feeds end; new subscriptions go to a new hub.
    pub(crate) fn interrupt(&self) {
        self.end(false);
    }

    /// Ends the current generation and every later subscribe.
    pub(crate) fn close(&self) {
        self.end(true);
    }

    fn end(&self, close: bool) {
        let old = {
            let mut state = lock(&self.state);
            if state.closed {
                return;
            }
            state.generation += 1;
            state.closed = close;
            // The signal goes before the hub closes: a body that wakes for the end of its
            // feed sees the signal first and sends the `retry:`.
            self.generations.send_replace(state.generation);
            std::mem::replace(&mut state.hub, Hub::with_store(NoHistory, self.config))
        };
        old.close();
    }

    pub(crate) fn stats(&self) -> HubStats {
        lock(&self.state).hub.stats()
    }

    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    pub(crate) fn generation(&self) -> u64 {
        lock(&self.state).generation
    }
}
