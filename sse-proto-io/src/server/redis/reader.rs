//! The instance's reader: one task, on its own connection, copying the stream into the
//! local live feed in order, and ending the feed's generation whenever it cannot prove that
//! what it delivers follows on from what it delivered before.

use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::MultiplexedConnection;

use super::commands::{self, Keys, Step};
use super::feed::Feed;
use super::id::EntryId;
use super::{connect, RedisConfig, RedisError};

/// Where the reader is: the epoch of the feed it fills, and the last entry it read.
#[derive(Clone, Debug)]
pub(crate) struct Position {
    pub(crate) epoch: String,
    pub(crate) after: EntryId,
}

pub(crate) struct Reader {
    pub(crate) client: ::redis::Client,
    pub(crate) keys: Keys,
    pub(crate) feed: Arc<Feed>,
    pub(crate) config: RedisConfig,
}

impl Reader {
    /// Runs until aborted (the task is aborted when the last handle goes or on close).
    /// Connection failures never end it: it reconnects after a backoff that doubles from
    /// [`RedisConfig::reconnect_min`] to [`RedisConfig::reconnect_max`], and the clients
    /// stay subscribed meanwhile, so that if Redis comes back with its data they are served
    /// on without noticing.
    pub(crate) async fn run(self, mut position: Position) {
        let mut backoff = self.config.reconnect_min;
        loop {
            let mut connected = false;
            // Every error ends the session; the position says where to go on from.
            let _ = self.session(&mut position, &mut connected).await;
            if connected {
                backoff = self.config.reconnect_min;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(self.config.reconnect_max.max(self.config.reconnect_min));
        }
    }

    async fn session(
        &self,
        position: &mut Position,
        connected: &mut bool,
    ) -> Result<(), RedisError> {
        // The block time rides on top of the response timeout: a quiet stream is not a
        // dead connection.
        let mut connection: MultiplexedConnection = connect(
            &self.client,
            &self.config,
            self.config.block + self.config.response_timeout,
        )
        .await?;
        *connected = true;
        let block_ms = u64::try_from(self.config.block.as_millis()).unwrap_or(u64::MAX);
        loop {
            let step = commands::next(
                &mut connection,
                &self.keys,
                position.after,
                self.config.batch,
            )
            .await?;
            let caught_up = step.entries.len() < self.config.batch;
            self.take(&mut connection, step, position).await?;
            if caught_up
                && !commands::wait(&mut connection, &self.keys, position.after, block_ms).await?
            {
                // The block time passed: the next step checks the epoch anyway, so a flushed
                // Redis is noticed within one block time even when nobody publishes.
                continue;
            }
        }
    }

    /// Delivers a step's entries, or ends the generation first if they do not follow on.
    async fn take(
        &self,
        connection: &mut MultiplexedConnection,
        step: Step,
        position: &mut Position,
    ) -> Result<(), RedisError> {
        if step.epoch != position.epoch {
            // Flushed or replaced (or the epoch key lost): nothing known carries over.
            self.feed.interrupt();
            *position = Position {
                epoch: step.epoch,
                after: EntryId::ZERO,
            };
            return Ok(());
        }
        if step.last.unwrap_or(EntryId::ZERO) < position.after {
            // The stream is behind what was read from it: restored from an older snapshot.
            // The ids handed out since then may name entries that will never come back, or
            // be reused for new ones: a new epoch makes all of them unknown.
            let epoch = commands::rotate(connection, &self.keys, &position.epoch).await?;
            self.feed.interrupt();
            *position = Position {
                epoch,
                after: EntryId::ZERO,
            };
            return Ok(());
        }
        // Something after the last entry read was deleted or trimmed (the reader fell more
        // than the history behind, or was away that long): the local feed would have a
        // gap. From `ZERO` (a new epoch) everything kept is wanted, and nothing is missed.
        // Without the figures (Redis 6) the reader cannot tell, and goes on.
        let deleted = step.deleted.is_some_and(|deleted| deleted > position.after);
        let trimmed = step.first.is_some_and(|first| first > position.after);
        if position.after != EntryId::ZERO && (deleted || trimmed) {
            self.feed.interrupt();
        }
        for entry in step.entries {
            position.after = entry.id;
            // Entries of another epoch are leftovers from before the epoch key was lost;
            // entries without our fields are someone else's: neither goes out.
            if entry.epoch.as_deref() == Some(position.epoch.as_str()) {
                if let Some(frame) = entry.frame {
                    self.feed.publish(frame);
                }
            }
        }
        Ok(())
    }
}

/// How long the reader waits before its first reconnect by default.
pub(crate) const RECONNECT_MIN: Duration = Duration::from_millis(50);
