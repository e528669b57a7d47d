//! Postgres implementation of [`Store`], for teams running several replicas.
//!
//! Native types throughout (BIGSERIAL, TIMESTAMPTZ, JSONB, BOOLEAN). Work is
//! claimed with `FOR UPDATE SKIP LOCKED` plus a lease, so replicas never take
//! the same inbox item or outbox call and a crashed replica's lease expires.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row};

use super::*;

mod rows;
mod unit_of_work;

use crate::domain::{Incident, IncidentId};
use rows::*;
use unit_of_work::PostgresUnitOfWork;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

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

#[async_trait]
impl super::sql::ReadPool for PostgresStore {
    async fn read(&self) -> StoreResult<super::sql::Pooled> {
        Ok(super::sql::Pooled::Postgres(self.pool.acquire().await?))
    }
}

#[async_trait]
impl super::sql::WritePool for PostgresStore {
    async fn write(&self) -> StoreResult<super::sql::Pooled> {
        Ok(super::sql::Pooled::Postgres(self.pool.acquire().await?))
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn housekeeping(&self) -> StoreResult<()> {
        // A call enqueued by one replica while another settled the call ahead
        // of it can miss its promotion (neither saw the other's row); give
        // such a queue its head back.
        sqlx::query(
            "UPDATE outbox SET state = 'pending' WHERE id IN ( \
               SELECT MIN(w.id) FROM outbox w WHERE w.state = 'waiting' \
               AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.ordering_key = w.ordering_key) \
               GROUP BY w.ordering_key)",
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn prune(&self, done_before: DateTime<Utc>, limit: i64) -> StoreResult<u64> {
        let inbox = sqlx::query(
            "DELETE FROM inbox WHERE id IN (SELECT id FROM inbox WHERE processed_at < $1 AND last_error IS NULL LIMIT $2)",
        )
        .bind(done_before)
        .bind(limit)
        .execute(&self.pool)
        .await?
        .rows_affected();
        let outbox = sqlx::query(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state = 'sent' AND sent_at < $1 LIMIT $2)",
        )
        .bind(done_before)
        .bind(limit)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inbox.max(outbox))
    }

    async fn check_ready(&self) -> StoreResult<bool> {
        let applied: Result<i64, sqlx::Error> =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await;
        match applied {
            Ok(applied) => Ok(applied >= MIGRATOR.iter().count() as i64),
            Err(sqlx::Error::Database(_)) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    async fn insert_inbox(&self, items: &[NewInboxItem], now: DateTime<Utc>) -> StoreResult<Vec<InsertOutcome>> {
        let mut tx = self.pool.begin().await?;
        let outcomes = super::inbox::insert_items(&mut super::sql::Conn::Postgres(&mut tx), items, now).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn claim_outbox(&self, limit: i64, now: DateTime<Utc>, lease: Duration) -> StoreResult<Vec<OutboxCall>> {
        let q = super::sql::query(
            "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 WHERE id IN ( \
               SELECT o.id FROM outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= $2 \
               AND (o.claimed_until IS NULL OR o.claimed_until <= $2) \
               ORDER BY o.id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id, ordering_key, method, args, after_send, attempts",
        )
        .bind(lease_until(now, lease))
        .bind(now)
        .bind(limit);
        let mut connection = self.pool.acquire().await?;
        let mut calls = super::sql::Conn::Postgres(&mut connection)
            .map_all(q, super::outbox::call_from_row)
            .await?;
        calls.sort_by_key(|call| call.id);
        Ok(calls)
    }

    async fn depths(&self) -> StoreResult<Depths> {
        let (inbox_pending, outbox_pending, timers_pending): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL), \
                    (SELECT COUNT(*) FROM outbox WHERE state IN ('waiting', 'pending')), \
                    (SELECT COUNT(*) FROM timers WHERE state = 'pending')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Depths {
            inbox_pending,
            outbox_pending,
            timers_pending,
        })
    }

    async fn ensure_job(&self, name: &str, fingerprint: &str, next_fire_at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO recurring_jobs (name, fingerprint, next_fire_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint, next_fire_at = excluded.next_fire_at \
             WHERE recurring_jobs.fingerprint <> excluded.fingerprint",
        )
        .bind(name)
        .bind(fingerprint)
        .bind(next_fire_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn histories_since(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<std::collections::BTreeMap<IncidentId, crate::domain::incident_metrics::History>> {
        let mut histories: std::collections::BTreeMap<IncidentId, crate::domain::incident_metrics::History> =
            std::collections::BTreeMap::new();
        let mut severities = sqlx::query(
            "SELECT s.incident_id, s.at, s.severity FROM severity_changes s JOIN incidents i ON i.id = s.incident_id \
             WHERE i.declared_at >= $1 ORDER BY s.incident_id, s.at, s.id",
        )
        .bind(since)
        .fetch(&self.pool);
        while let Some(row) = severities.try_next().await? {
            let entry = histories.entry(row.try_get("incident_id")?).or_default();
            entry
                .severities
                .push((row.try_get("at")?, required_severity(row.try_get("severity")?)?));
        }
        let mut marks = sqlx::query(
            "SELECT t.incident_id, t.kind, t.at FROM timeline t JOIN incidents i ON i.id = t.incident_id \
             WHERE i.declared_at >= $1 AND t.kind IN ('resolved', 'reopened', 'customer_update') \
             ORDER BY t.incident_id, t.at, t.id",
        )
        .bind(since)
        .fetch(&self.pool);
        while let Some(row) = marks.try_next().await? {
            let entry = histories.entry(row.try_get("incident_id")?).or_default();
            let at = row.try_get("at")?;
            match row.try_get::<&str, _>("kind")? {
                "resolved" => entry.resolutions.push(at),
                "reopened" => entry.reopenings.push(at),
                _ => entry.updates += 1,
            }
        }
        let mut gaps = sqlx::query(
            "SELECT g.incident_id, g.severity, g.promised_ms, g.actual_ms, g.breached FROM comms_gaps g \
             JOIN incidents i ON i.id = g.incident_id WHERE i.declared_at >= $1 ORDER BY g.incident_id, g.at, g.id",
        )
        .bind(since)
        .fetch(&self.pool);
        while let Some(row) = gaps.try_next().await? {
            let entry = histories.entry(row.try_get("incident_id")?).or_default();
            entry.gaps.push(CommsGap {
                severity: required_severity(row.try_get("severity")?)?,
                promised: Duration::from_millis(row.try_get::<i64, _>("promised_ms")?.max(0) as u64),
                actual: Duration::from_millis(row.try_get::<i64, _>("actual_ms")?.max(0) as u64),
                breached: row.try_get("breached")?,
            });
        }
        Ok(histories)
    }

    async fn incidents_declared_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<Incident>> {
        let mut rows = sqlx::query(select_incidents!("WHERE declared_at >= $1 ORDER BY id"))
            .bind(since)
            .fetch(&self.pool);
        let mut incidents = Vec::new();
        while let Some(row) = rows.try_next().await? {
            incidents.push(incident_from_row(&row)?);
        }
        Ok(incidents)
    }

    async fn comms_breaches_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<CommsBreach>> {
        let rows = sqlx::query(
            "SELECT incident_id, severity, promised_ms, actual_ms, at FROM comms_gaps WHERE breached AND at > $1 ORDER BY at",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let severity: String = row.try_get("severity")?;
                Ok(CommsBreach {
                    incident_id: row.try_get("incident_id")?,
                    severity: severity
                        .parse()
                        .map_err(|()| StoreError::Corrupt(format!("severity {severity:?}")))?,
                    promised: Duration::from_millis(row.try_get::<i64, _>("promised_ms")?.max(0) as u64),
                    actual: Duration::from_millis(row.try_get::<i64, _>("actual_ms")?.max(0) as u64),
                    at: row.try_get("at")?,
                })
            })
            .collect()
    }

    async fn begin(&self) -> StoreResult<Box<dyn UnitOfWork>> {
        Ok(Box::new(PostgresUnitOfWork {
            tx: self.pool.begin().await?,
        }))
    }
}
