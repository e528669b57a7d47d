//! Upkeep off the request path, run by the housekeeping worker
//! (`src/housekeeping.rs`): retention (pruning delivered inbox items and
//! Slack calls) and each engine's own upkeep.

use chrono::{DateTime, Utc};

use super::sql::query;
use super::{Backend, Store, StoreResult};

impl Store {
    /// Periodic upkeep: on SQLite, copying the WAL back into the database
    /// (never inside a commit an acknowledgement waits for); on Postgres,
    /// giving back their head to outbox queues that lost it to a race
    /// between replicas (see [`Store::repair_outbox_queues`]).
    pub async fn housekeeping(&self) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.checkpoint().await,
            Backend::Postgres(_) => self.repair_outbox_queues().await,
        }
    }

    /// Deletes up to `limit` processed inbox items and sent Slack calls
    /// finished before `done_before`; returns how many rows went. Items and
    /// calls that ended in an error are kept for inspection.
    pub async fn prune(&self, done_before: DateTime<Utc>, limit: i64) -> StoreResult<u64> {
        // One connection per statement: on SQLite each waits for pending
        // inbox writes, so a large prune never delays an acknowledgement.
        let inbox = query(
            "DELETE FROM inbox WHERE id IN \
             (SELECT id FROM inbox WHERE processed_at < $1 AND last_error IS NULL LIMIT $2)",
        );
        let inbox = self.write_now(inbox.bind(done_before).bind(limit)).await?;
        let outbox = query(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state = 'sent' AND sent_at < $1 LIMIT $2)",
        );
        let outbox = self.write_now(outbox.bind(done_before).bind(limit)).await?;
        Ok(inbox.max(outbox))
    }
}
