//! The durable inbox writer: group commit for acknowledgements.
//!
//! Handlers hand their item to one writer task and wait. The task takes
//! everything that queued up while the previous commit was in flight and
//! stores it in a single transaction, so one fsync covers many requests and
//! every request is still durable before its 200. Under light load a batch
//! is one item and costs exactly one commit; under heavy load batches grow
//! and the commit rate stays flat.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::store::{InsertOutcome, NewInboxItem, Store};

/// Most items stored in one transaction.
const MAX_BATCH: usize = 512;

/// Why an item could not be stored.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InboxError {
    #[error("inbox writer is shutting down")]
    Closed,
    #[error("inbox write failed: {0}")]
    Store(String),
}

struct Pending {
    item: NewInboxItem,
    done: oneshot::Sender<Result<InsertOutcome, InboxError>>,
}

/// Handle used by the HTTP handlers.
#[derive(Clone)]
pub struct InboxWriter {
    queue: mpsc::Sender<Pending>,
}

impl InboxWriter {
    /// Starts the writer task. `stored` is notified after each commit so the
    /// dispatcher wakes without polling.
    pub fn start(store: Arc<Store>, stored: Arc<Notify>) -> (Self, tokio::task::JoinHandle<()>) {
        let (queue, receiver) = mpsc::channel(4 * MAX_BATCH);
        let task = tokio::spawn(write_batches(store, receiver, stored));
        (Self { queue }, task)
    }

    /// Stores `item` durably; returns once it is committed (or recognised as a repeat).
    pub async fn write(&self, item: NewInboxItem) -> Result<InsertOutcome, InboxError> {
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Pending { item, done })
            .await
            .map_err(|_| InboxError::Closed)?;
        outcome.await.map_err(|_| InboxError::Closed)?
    }
}

async fn write_batches(store: Arc<Store>, mut receiver: mpsc::Receiver<Pending>, stored: Arc<Notify>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // Ends when every InboxWriter handle is dropped, after the last batch.
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let items: Vec<NewInboxItem> = batch.iter().map(|p| p.item.clone()).collect();
        match store.insert_inbox(&items, chrono::Utc::now()).await {
            Ok(outcomes) => {
                for (pending, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = pending.done.send(Ok(outcome));
                }
            }
            // One item the database refuses must not fail the others that
            // happened to share its commit: each is tried on its own.
            Err(error) if batch.len() > 1 => {
                tracing::warn!(%error, items = batch.len(), "inbox batch failed; storing its items one by one");
                for pending in batch.drain(..) {
                    let outcome = store
                        .insert_inbox(std::slice::from_ref(&pending.item), chrono::Utc::now())
                        .await;
                    let outcome = outcome.map(|mut outcomes| outcomes.remove(0));
                    let _ = pending.done.send(outcome.map_err(refused));
                }
            }
            Err(error) => {
                let error = refused(error);
                for pending in batch.drain(..) {
                    let _ = pending.done.send(Err(error.clone()));
                }
            }
        }
        stored.notify_one();
    }
}

fn refused(error: crate::store::StoreError) -> InboxError {
    tracing::error!(%error, "inbox write failed; the request gets 503 and Slack retries");
    InboxError::Store(error.to_string())
}
