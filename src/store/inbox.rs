//! The inbox: every Slack request Rebound acknowledged, stored before the
//! acknowledgement and applied by the dispatcher afterwards. Where items are
//! stored, claimed, finished, set aside and retried, for both engines.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::sql::{Conn, Row, query};
use super::{Store, UnitOfWork};
use super::{StoreError, StoreResult, storable};

/// What kind of Slack request an inbox item holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InboxKind {
    Command,
    Event,
    Interaction,
    /// An alert delivery from monitoring (`/hooks/…`, `/v2/alerts`).
    Alert,
    /// A webhook from an outbound integration's system (Jira's issue updates).
    Webhook,
}

impl InboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InboxKind::Command => "command",
            InboxKind::Event => "event",
            InboxKind::Interaction => "interaction",
            InboxKind::Alert => "alert",
            InboxKind::Webhook => "webhook",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            InboxKind::Command,
            InboxKind::Event,
            InboxKind::Interaction,
            InboxKind::Alert,
            InboxKind::Webhook,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// A Slack request to keep before acknowledging it.
#[derive(Debug, Clone)]
pub struct NewInboxItem {
    pub kind: InboxKind,
    /// `event_id` for events, `trigger_id` for commands and interactions.
    pub dedupe_key: String,
    /// The raw body as Slack sent it.
    pub payload: String,
}

/// Whether an inbox write stored something new or recognised a repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    Stored,
    Duplicate,
}

/// A stored Slack request waiting to be processed.
#[derive(Debug, Clone)]
pub struct InboxItem {
    pub id: i64,
    pub kind: InboxKind,
    pub payload: String,
    pub attempts: i32,
    /// When ingress stored it: relative times in the request (`due 3d`) count from here,
    /// so a retried or delayed item means what it meant when it was acknowledged.
    pub received_at: DateTime<Utc>,
}

fn item_from_row(row: &Row) -> StoreResult<InboxItem> {
    Ok(InboxItem {
        id: row.int("id")?,
        kind: row.parsed("kind", InboxKind::parse)?,
        payload: row.text("payload")?,
        attempts: i32::try_from(row.int("attempts")?).map_err(|e| StoreError::Corrupt(format!("attempts: {e}")))?,
        received_at: row.time("received_at")?,
    })
}

/// Stores a batch in the caller's transaction (one fsync acknowledges it
/// all); a repeated delivery is recognised by its dedupe key.
pub(super) async fn insert_items(
    conn: &mut Conn<'_>,
    items: &[NewInboxItem],
    now: DateTime<Utc>,
) -> StoreResult<Vec<InsertOutcome>> {
    let mut outcomes = Vec::with_capacity(items.len());
    for item in items {
        let q = query(
            "INSERT INTO inbox (kind, dedupe_key, payload, received_at, available_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(item.kind.as_str())
        .bind(storable(&item.dedupe_key).as_ref())
        .bind(storable(&item.payload).as_ref())
        .bind(now);
        outcomes.push(match conn.execute(q).await? {
            1 => InsertOutcome::Stored,
            _ => InsertOutcome::Duplicate,
        });
    }
    Ok(outcomes)
}

impl Store {
    /// Puts an item back for another attempt at `retry_at`, keeping the error.
    pub async fn release_inbox(&self, id: i64, error: &str, retry_at: DateTime<Utc>) -> StoreResult<()> {
        let q = query("UPDATE inbox SET available_at = $1, last_error = $2, attempts = attempts + 1 WHERE id = $3")
            .bind(retry_at)
            .bind(storable(error).as_ref())
            .bind(id);
        self.write_now(q).await?;
        Ok(())
    }
}

impl UnitOfWork {
    /// Takes up to `limit` unprocessed items, locked until this transaction
    /// ends (other replicas skip them).
    pub async fn claim_inbox(&mut self, limit: i64, now: DateTime<Utc>) -> StoreResult<Vec<InboxItem>> {
        let q = query(
            "SELECT id, kind, payload, attempts, received_at FROM inbox \
             WHERE processed_at IS NULL AND available_at <= $1 ORDER BY id LIMIT $2",
        );
        let q = q.locked("FOR UPDATE SKIP LOCKED").bind(now).bind(limit);
        self.conn().map_all(q, item_from_row).await
    }

    pub async fn finish_inbox(&mut self, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
        // A success clears the errors of earlier attempts: only items that
        // ended in an error keep one (and so escape retention).
        let q = query("UPDATE inbox SET processed_at = $1, last_error = NULL WHERE id = $2");
        self.conn().run(q.bind(now).bind(id)).await
    }

    /// Ends an item that can never be applied: it keeps `error` for
    /// inspection, is not retried and is not pruned by retention.
    pub async fn set_aside_inbox(&mut self, id: i64, error: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let q = query("UPDATE inbox SET processed_at = $1, last_error = $2 WHERE id = $3");
        self.conn()
            .run(q.bind(now).bind(storable(error).as_ref()).bind(id))
            .await
    }
}
