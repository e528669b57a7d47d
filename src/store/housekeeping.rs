//! Database upkeep off the request path: each engine's periodic work every
//! second, and pruning of delivered inbox items and Slack calls.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Store;
use super::StoreResult;
use super::sql::query;

/// How many rows one prune statement deletes at most, so a large backlog
/// never holds SQLite's writer for long.
const PRUNE_BATCH: i64 = 1000;

/// Runs [`Store::housekeeping`] every second, and prunes delivered work older
/// than `keep_delivered` every `keep_delivered / 2` (at most every 10
/// minutes), until `shutdown`.
pub async fn run_housekeeping(
    store: Arc<Store>,
    keep_delivered: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let prune_every = (keep_delivered / 2).clamp(Duration::from_secs(1), Duration::from_secs(600));
    let mut last_prune: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        if let Err(error) = store.housekeeping().await {
            tracing::warn!(%error, "database housekeeping failed");
        }
        if last_prune.is_none_or(|at| at.elapsed() >= prune_every) {
            last_prune = Some(tokio::time::Instant::now());
            prune(store.as_ref(), keep_delivered).await;
        }
    }
}

async fn prune(store: &Store, keep_delivered: Duration) {
    let done_before = crate::domain::clock::earlier(Utc::now(), keep_delivered);
    let mut total = 0;
    loop {
        match store.prune(done_before, PRUNE_BATCH).await {
            Ok(deleted) => {
                total += deleted;
                if deleted < PRUNE_BATCH as u64 {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "pruning delivered work failed");
                break;
            }
        }
    }
    if total > 0 {
        tracing::info!(rows = total, "pruned delivered inbox items and Slack calls");
    }
}

impl Store {
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
        let inbox = self
            .write()
            .await?
            .conn()
            .execute(inbox.bind(done_before).bind(limit))
            .await?;
        let outbox = query(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state = 'sent' AND sent_at < $1 LIMIT $2)",
        );
        let outbox = self
            .write()
            .await?
            .conn()
            .execute(outbox.bind(done_before).bind(limit))
            .await?;
        Ok(inbox.max(outbox))
    }
}
