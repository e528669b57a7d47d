//! The Postgres [`UnitOfWork`]: everything one command changes, in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, Row, Transaction};

use super::*;
use crate::store::{InboxItem, InboxKind, StoreResult, UnitOfWork};

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

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
