//! The housekeeping worker: each engine's periodic upkeep every second
//! (SQLite: WAL checkpoints off the request path) and pruning of delivered
//! inbox items and Slack calls once they are older than the retention.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::store::Store;

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
