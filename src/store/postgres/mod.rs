//! The Postgres engine behind [`Store`](super::Store), for teams running several replicas.
//!
//! Native types throughout (BIGSERIAL, TIMESTAMPTZ, JSONB, BOOLEAN). Work is
//! claimed with `FOR UPDATE SKIP LOCKED` plus a lease, so replicas never take
//! the same inbox item or outbox call and a crashed replica's lease expires.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use super::*;

/// Postgres-backed store.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self { pool })
    }
}

impl PostgresStore {
    pub(super) async fn connection(&self) -> StoreResult<sqlx::pool::PoolConnection<sqlx::Postgres>> {
        Ok(self.pool.acquire().await?)
    }

    pub(super) async fn migrate(&self) -> StoreResult<()> {
        migrations::POSTGRES.run(&self.pool).await?;
        Ok(())
    }

    /// Applies `pending` inside one transaction and rolls it back.
    pub(super) async fn dry_run(&self, pending: &[&sqlx::migrate::Migration]) -> StoreResult<Vec<schema::Trial>> {
        let mut tx = self.pool.begin().await?;
        let trials = schema::try_in(&mut tx, pending).await;
        tx.rollback().await?;
        Ok(trials)
    }

    pub(super) async fn insert_inbox(
        &self,
        items: &[NewInboxItem],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<InsertOutcome>> {
        let mut tx = self.pool.begin().await?;
        let outcomes = super::inbox::insert_items(&mut super::sql::Conn::Postgres(&mut tx), items, now).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    pub(super) async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
        Ok(self.pool.begin().await?)
    }
}
