//! The Postgres [`UnitOfWork`]: everything one command changes, in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{Postgres, Row, Transaction};

use super::*;
use crate::store::{AfterSend, InboxItem, InboxKind, NewOutboxCall, StoreResult, UnitOfWork};

pub(super) struct PostgresUnitOfWork {
    pub(super) tx: Transaction<'static, Postgres>,
}

impl super::super::sql::InTransaction for PostgresUnitOfWork {
    fn conn(&mut self) -> super::super::sql::Conn<'_> {
        super::super::sql::Conn::Postgres(&mut self.tx)
    }
}

#[async_trait]
impl UnitOfWork for PostgresUnitOfWork {
    async fn claim_inbox(&mut self, limit: i64, now: DateTime<Utc>) -> StoreResult<Vec<InboxItem>> {
        let rows = sqlx::query(
            "SELECT id, kind, payload, attempts, received_at FROM inbox WHERE processed_at IS NULL AND available_at <= $1 \
             ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(InboxItem {
                    id: row.try_get("id")?,
                    kind: InboxKind::parse(row.try_get("kind")?)?,
                    payload: row.try_get("payload")?,
                    attempts: row.try_get("attempts")?,
                    received_at: row.try_get("received_at")?,
                })
            })
            .collect()
    }

    async fn enqueue(&mut self, call: &NewOutboxCall, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO outbox (ordering_key, method, args, after_send, created_at, next_attempt_at, state) \
             VALUES ($1, $2, $3, $4, $5, $5, CASE WHEN EXISTS (SELECT 1 FROM outbox WHERE ordering_key = $1 \
               AND state IN ('waiting', 'pending')) THEN 'waiting' ELSE 'pending' END)",
        )
        .bind(&call.ordering_key)
        .bind(&call.method)
        .bind(&call.args)
        .bind(Json(&call.after_send))
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn finish_inbox(&mut self, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
        // A success clears the errors of earlier attempts: only items that
        // ended in an error keep one (and so escape retention).
        sqlx::query("UPDATE inbox SET processed_at = $1, last_error = NULL WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn set_aside_inbox(&mut self, id: i64, error: &str, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE inbox SET processed_at = $1, last_error = $2 WHERE id = $3")
            .bind(now)
            .bind(storable(error))
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn mark_outbox_sent(&mut self, id: i64, now: DateTime<Utc>, response: &serde_json::Value) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = $1, claimed_until = NULL, response = $2 WHERE id = $3",
        )
        .bind(now)
        .bind(response)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        promote_next(&mut self.tx, id).await?;
        Ok(())
    }

    async fn retry_outbox(
        &mut self,
        id: i64,
        at: DateTime<Utc>,
        error: &str,
        rewrite: Option<(&serde_json::Value, &AfterSend)>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET claimed_until = NULL, next_attempt_at = $1, last_error = $2, \
             args = COALESCE($3, args), after_send = COALESCE($4, after_send) WHERE id = $5",
        )
        .bind(at)
        .bind(storable(error))
        .bind(rewrite.map(|(args, _)| args))
        .bind(rewrite.map(|(_, after_send)| Json(after_send)))
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn fail_outbox(&mut self, id: i64, error: &str) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET state = 'failed', claimed_until = NULL, last_error = $1 WHERE id = $2")
            .bind(storable(error))
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        promote_next(&mut self.tx, id).await?;
        Ok(())
    }

    async fn defer_outbox(&mut self, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET claimed_until = NULL, next_attempt_at = $1, attempts = attempts - 1 WHERE id = $2",
        )
        .bind(at)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// Makes the next waiting call of the same ordering key claimable, once the
/// call `settled_id` is sent or set aside.
async fn promote_next(tx: &mut Transaction<'static, Postgres>, settled_id: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'pending' WHERE id = ( \
           SELECT MIN(w.id) FROM outbox w WHERE w.state = 'waiting' \
           AND w.ordering_key = (SELECT ordering_key FROM outbox WHERE id = $1))",
    )
    .bind(settled_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
