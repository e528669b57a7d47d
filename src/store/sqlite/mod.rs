//! SQLite implementation of [`Store`]: WAL mode, created if missing.
//!
//! SQLite allows one writer at a time. Writes go through a pool of exactly one
//! connection so waiting happens in a fair async queue instead of SQLite's
//! sleeping busy handler (which would add milliseconds to acks); reads use a
//! separate pool and never wait for the writer.
//!
//! Durability: inbox commits run with `synchronous = FULL` (fsync before the
//! ack). Background commits run with `NORMAL`: in WAL mode they survive a
//! process crash, and the next inbox commit's fsync makes them durable too,
//! since the WAL is written in order. A power cut can only lose a suffix of
//! background commits, which are recomputed from the durable inbox (worst
//! case: a Slack call sent again; channel creation stays idempotent).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use super::*;

mod rows;
mod unit_of_work;

use crate::domain::{Incident, IncidentId};
use rows::*;
use unit_of_work::SqliteUnitOfWork;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// SQLite-backed store.
#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Copies the WAL back into the database file without taking the write lock.
    checkpointer: SqlitePool,
    gate: Arc<InboxFirst>,
}

/// Lets inbox writes (which hold up Slack's acknowledgement) go before
/// background writes waiting for the single writer connection: background
/// work waits while an inbox batch is pending, so an ack waits for at most
/// one background transaction already in progress.
#[derive(Default)]
struct InboxFirst {
    pending: AtomicUsize,
    clear: Notify,
}

impl InboxFirst {
    async fn wait_for_inbox(&self) {
        loop {
            let clear = self.clear.notified();
            tokio::pin!(clear);
            clear.as_mut().enable();
            if self.pending.load(Ordering::Acquire) == 0 {
                return;
            }
            clear.await;
        }
    }

    fn inbox_started(&self) {
        self.pending.fetch_add(1, Ordering::AcqRel);
    }

    fn inbox_finished(&self) {
        if self.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.clear.notify_waiters();
        }
    }
}

impl SqliteStore {
    /// Opens `sqlite://PATH`, creating the file if it does not exist.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Checkpoints run in `housekeeping`, never inside a commit that an
            // acknowledgement is waiting for.
            .pragma("wal_autocheckpoint", "0");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self {
            writer,
            reader,
            checkpointer,
            gate: Arc::default(),
        })
    }

    /// One transaction for the whole batch: a single fsync acknowledges all of it.
    async fn insert_inbox_now(&self, items: &[NewInboxItem], now: DateTime<Utc>) -> StoreResult<Vec<InsertOutcome>> {
        let mut connection = self.writer.acquire().await?;
        sqlx::query("PRAGMA synchronous = FULL")
            .execute(&mut *connection)
            .await?;
        let outcomes = Self::insert_inbox_tx(&mut connection, items, now).await;
        sqlx::query("PRAGMA synchronous = NORMAL")
            .execute(&mut *connection)
            .await?;
        outcomes
    }

    async fn insert_inbox_tx(
        connection: &mut sqlx::SqliteConnection,
        items: &[NewInboxItem],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<InsertOutcome>> {
        let mut tx = sqlx::Connection::begin(connection).await?;
        let outcomes = super::inbox::insert_items(&mut super::sql::Conn::Sqlite(&mut tx), items, now).await?;
        tx.commit().await?;
        Ok(outcomes)
    }
}

#[async_trait]
impl super::sql::ReadPool for SqliteStore {
    async fn read(&self) -> StoreResult<super::sql::Pooled> {
        Ok(super::sql::Pooled::Sqlite(self.reader.acquire().await?))
    }
}

#[async_trait]
impl super::sql::WritePool for SqliteStore {
    async fn write(&self) -> StoreResult<super::sql::Pooled> {
        self.gate.wait_for_inbox().await;
        Ok(super::sql::Pooled::Sqlite(self.writer.acquire().await?))
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.writer).await?;
        Ok(())
    }

    async fn housekeeping(&self) -> StoreResult<()> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.checkpointer)
            .await?;
        Ok(())
    }

    async fn prune(&self, done_before: DateTime<Utc>, limit: i64) -> StoreResult<u64> {
        self.gate.wait_for_inbox().await;
        let inbox = sqlx::query(
            "DELETE FROM inbox WHERE id IN (SELECT id FROM inbox WHERE processed_at < ? AND last_error IS NULL LIMIT ?)",
        )
        .bind(millis(done_before))
        .bind(limit)
        .execute(&self.writer)
        .await?
        .rows_affected();
        self.gate.wait_for_inbox().await;
        let outbox = sqlx::query(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state = 'sent' AND sent_at < ? LIMIT ?)",
        )
        .bind(millis(done_before))
        .bind(limit)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(inbox.max(outbox))
    }

    async fn check_ready(&self) -> StoreResult<bool> {
        let applied: Result<i64, sqlx::Error> =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.reader)
                .await;
        match applied {
            Ok(applied) => Ok(applied >= MIGRATOR.iter().count() as i64),
            Err(sqlx::Error::Database(_)) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    async fn insert_inbox(&self, items: &[NewInboxItem], now: DateTime<Utc>) -> StoreResult<Vec<InsertOutcome>> {
        self.gate.inbox_started();
        let result = self.insert_inbox_now(items, now).await;
        self.gate.inbox_finished();
        result
    }

    async fn claim_outbox(&self, limit: i64, now: DateTime<Utc>, lease: Duration) -> StoreResult<Vec<OutboxCall>> {
        self.gate.wait_for_inbox().await;
        let q = super::sql::query(
            "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 WHERE id IN ( \
               SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $2 \
               AND (claimed_until IS NULL OR claimed_until <= $2) \
               ORDER BY id LIMIT $3) \
             RETURNING id, ordering_key, method, args, after_send, attempts",
        )
        .bind(lease_until(now, lease))
        .bind(now)
        .bind(limit);
        let mut writer = self.writer.acquire().await?;
        let mut calls = super::sql::Conn::Sqlite(&mut writer)
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
        .fetch_one(&self.reader)
        .await?;
        Ok(Depths {
            inbox_pending,
            outbox_pending,
            timers_pending,
        })
    }

    async fn ensure_job(&self, name: &str, fingerprint: &str, next_fire_at: DateTime<Utc>) -> StoreResult<()> {
        self.gate.wait_for_inbox().await;
        sqlx::query(
            "INSERT INTO recurring_jobs (name, fingerprint, next_fire_at) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint, next_fire_at = excluded.next_fire_at \
             WHERE recurring_jobs.fingerprint <> excluded.fingerprint",
        )
        .bind(name)
        .bind(fingerprint)
        .bind(millis(next_fire_at))
        .execute(&self.writer)
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
             WHERE i.declared_at >= ? ORDER BY s.incident_id, s.at, s.id",
        )
        .bind(millis(since))
        .fetch(&self.reader);
        while let Some(row) = severities.try_next().await? {
            let entry = histories.entry(row.try_get("incident_id")?).or_default();
            entry.severities.push((
                from_millis(row.try_get("at")?)?,
                required_severity(row.try_get("severity")?)?,
            ));
        }
        let mut marks = sqlx::query(
            "SELECT t.incident_id, t.kind, t.at FROM timeline t JOIN incidents i ON i.id = t.incident_id \
             WHERE i.declared_at >= ? AND t.kind IN ('resolved', 'reopened', 'customer_update') \
             ORDER BY t.incident_id, t.at, t.id",
        )
        .bind(millis(since))
        .fetch(&self.reader);
        while let Some(row) = marks.try_next().await? {
            let entry = histories.entry(row.try_get("incident_id")?).or_default();
            let at = from_millis(row.try_get("at")?)?;
            match row.try_get::<&str, _>("kind")? {
                "resolved" => entry.resolutions.push(at),
                "reopened" => entry.reopenings.push(at),
                _ => entry.updates += 1,
            }
        }
        let mut gaps = sqlx::query(
            "SELECT g.incident_id, g.severity, g.promised_ms, g.actual_ms, g.breached FROM comms_gaps g \
             JOIN incidents i ON i.id = g.incident_id WHERE i.declared_at >= ? ORDER BY g.incident_id, g.at, g.id",
        )
        .bind(millis(since))
        .fetch(&self.reader);
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
        let mut rows = sqlx::query(select_incidents!("WHERE declared_at >= ? ORDER BY id"))
            .bind(millis(since))
            .fetch(&self.reader);
        let mut incidents = Vec::new();
        while let Some(row) = rows.try_next().await? {
            incidents.push(incident_from_row(&row)?);
        }
        Ok(incidents)
    }

    async fn comms_breaches_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<CommsBreach>> {
        let rows = sqlx::query(
            "SELECT incident_id, severity, promised_ms, actual_ms, at FROM comms_gaps WHERE breached AND at > ? ORDER BY at",
        )
        .bind(millis(since))
        .fetch_all(&self.reader)
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
                    at: from_millis(row.try_get("at")?)?,
                })
            })
            .collect()
    }

    async fn begin(&self) -> StoreResult<Box<dyn UnitOfWork>> {
        self.gate.wait_for_inbox().await;
        Ok(Box::new(SqliteUnitOfWork {
            tx: self.writer.begin().await?,
        }))
    }
}
