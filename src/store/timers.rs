//! Durable timers (severity nags, update reminders, action-item dues) and
//! recurring jobs (the manager digest): where they are scheduled, claimed
//! when due and recorded as fired, for both engines. Claiming is the one
//! place the texts differ: Postgres replicas skip rows another holds
//! (`FOR UPDATE SKIP LOCKED`), SQLite's single writer needs no lock.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::sql::{Row, query};
use super::{Store, UnitOfWork};
use super::{StoreError, StoreResult};
use crate::domain::IncidentId;
use crate::domain::timers::{TimerChange, TimerKind};

/// A durable timer as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub id: i64,
    pub kind: TimerKind,
    pub incident_id: IncidentId,
    /// What within the incident it is about (an action item id), or 0.
    pub subject: i64,
    pub due_at: DateTime<Utc>,
    /// Recurring timers move to `now + every` when they fire.
    pub every: Option<Duration>,
    pub fired: i32,
}

macro_rules! select {
    ($condition:literal) => {
        concat!(
            "SELECT id, kind, incident_id, subject_id, due_at, every_ms, fired FROM timers ",
            $condition
        )
    };
}

fn from_row(row: &Row) -> StoreResult<Timer> {
    Ok(Timer {
        id: row.int("id")?,
        kind: row.parsed("kind", TimerKind::parse)?,
        incident_id: row.int("incident_id")?,
        subject: row.int("subject_id")?,
        due_at: row.time("due_at")?,
        every: row
            .opt_int("every_ms")?
            .map(|ms| Duration::from_millis(ms.max(0) as u64)),
        fired: i32::try_from(row.int("fired")?).map_err(|e| StoreError::Corrupt(format!("timer fired: {e}")))?,
    })
}

impl Store {
    /// Creates the recurring job, or re-plans it when its schedule changed.
    pub async fn ensure_job(&self, name: &str, fingerprint: &str, next_fire_at: DateTime<Utc>) -> StoreResult<()> {
        let q = query(
            "INSERT INTO recurring_jobs (name, fingerprint, next_fire_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint, next_fire_at = excluded.next_fire_at \
             WHERE recurring_jobs.fingerprint <> excluded.fingerprint",
        );
        self.write_now(q.bind(name).bind(fingerprint).bind(next_fire_at))
            .await?;
        Ok(())
    }

    /// When the next pending timer is due, if any.
    pub async fn next_timer_due(&self) -> StoreResult<Option<DateTime<Utc>>> {
        self.read_time(query("SELECT MIN(due_at) AS at FROM timers WHERE state = 'pending'"))
            .await
    }

    /// An incident's pending timers, soonest first.
    pub async fn pending_timers(&self, id: IncidentId) -> StoreResult<Vec<Timer>> {
        let q = query(select!("WHERE incident_id = $1 AND state = 'pending' ORDER BY due_at")).bind(id);
        self.read_all(q, from_row).await
    }
}

impl UnitOfWork {
    /// Creates, re-times or cancels an incident's timer.
    pub async fn apply_timer(
        &mut self,
        incident_id: IncidentId,
        change: &TimerChange,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let q = match change {
            TimerChange::Schedule {
                kind,
                subject,
                due_at,
                every,
            } => query(
                "INSERT INTO timers (kind, incident_id, subject_id, due_at, every_ms, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (kind, incident_id, subject_id) WHERE state = 'pending' \
                 DO UPDATE SET due_at = excluded.due_at, every_ms = excluded.every_ms",
            )
            .bind(kind.as_str())
            .bind(incident_id)
            .bind(*subject)
            .bind(*due_at)
            .bind(every.as_millis() as i64)
            .bind(now),
            TimerChange::Cancel { kind, subject } => query(
                "UPDATE timers SET state = 'cancelled' WHERE kind = $1 AND incident_id = $2 AND subject_id = $3 \
                 AND state = 'pending'",
            )
            .bind(kind.as_str())
            .bind(incident_id)
            .bind(*subject),
        };
        self.conn().run(q).await
    }

    /// Moves a pending timer to `due_at` (snooze).
    pub async fn retime_timer(
        &mut self,
        incident_id: IncidentId,
        kind: TimerKind,
        subject: i64,
        due_at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let q = query(
            "UPDATE timers SET due_at = $1 WHERE kind = $2 AND incident_id = $3 AND subject_id = $4 AND state = 'pending'",
        )
        .bind(due_at)
        .bind(kind.as_str())
        .bind(incident_id)
        .bind(subject);
        Ok(self.conn().execute(q).await? > 0)
    }

    /// Whether incident `id` has a pending timer of `kind` (subject 0).
    pub async fn has_pending_timer(&mut self, id: IncidentId, kind: TimerKind) -> StoreResult<bool> {
        let q = query(
            "SELECT COUNT(*) AS n FROM timers WHERE incident_id = $1 AND kind = $2 AND subject_id = 0 AND state = 'pending'",
        );
        let count = self
            .conn()
            .map_optional(q.bind(id).bind(kind.as_str()), |r| r.int("n"))
            .await?;
        Ok(count.unwrap_or(0) > 0)
    }

    /// Takes up to `limit` due timers, locked until this transaction ends
    /// (other replicas skip them).
    pub async fn claim_due_timers(&mut self, limit: i64, now: DateTime<Utc>) -> StoreResult<Vec<Timer>> {
        let q = query(select!(
            "WHERE state = 'pending' AND due_at <= $1 ORDER BY due_at LIMIT $2"
        ));
        let q = q.locked("FOR UPDATE SKIP LOCKED").bind(now).bind(limit);
        self.conn().map_all(q, from_row).await
    }

    /// Records a firing: recurring timers move to `next`, others are done.
    pub async fn timer_fired(&mut self, id: i64, next: Option<DateTime<Utc>>) -> StoreResult<()> {
        let q = query(
            "UPDATE timers SET fired = fired + 1, due_at = COALESCE($1, due_at), \
             state = CASE WHEN $1 IS NULL THEN 'done' ELSE state END WHERE id = $2",
        );
        self.conn().run(q.bind(next).bind(id)).await
    }

    /// Locks the job when it is due and returns when it was scheduled for.
    /// Also returns when it last fired.
    #[allow(clippy::type_complexity)]
    pub async fn claim_due_job(
        &mut self,
        name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(DateTime<Utc>, Option<DateTime<Utc>>)>> {
        let q = query("SELECT next_fire_at, last_fired_at FROM recurring_jobs WHERE name = $1 AND next_fire_at <= $2");
        let due = |r: &Row| Ok((r.time("next_fire_at")?, r.opt_time("last_fired_at")?));
        let q = q.locked("FOR UPDATE SKIP LOCKED").bind(name).bind(now);
        self.conn().map_optional(q, due).await
    }

    pub async fn job_fired(
        &mut self,
        name: &str,
        fired_at: DateTime<Utc>,
        next_fire_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let q = query("UPDATE recurring_jobs SET last_fired_at = $1, next_fire_at = $2 WHERE name = $3");
        self.conn().run(q.bind(fired_at).bind(next_fire_at).bind(name)).await
    }
}
