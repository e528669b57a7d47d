//! What reports and `/metrics` read in bulk: queue depths, the histories of
//! every incident in a window (three streamed queries, not one per
//! incident), incidents declared since a date and comms-SLO breaches.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::incidents::{gap_from_row, incident_from_row};
use super::sql::{Row, query};
use super::{Store, StoreResult};
use crate::domain::incident_metrics::History;
use crate::domain::{Incident, IncidentId};

/// A customer-update gap longer than the severity promised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommsBreach {
    pub incident_id: IncidentId,
    pub severity: crate::domain::Severity,
    pub promised: Duration,
    pub actual: Duration,
    pub at: DateTime<Utc>,
}

/// Work waiting, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Depths {
    pub inbox_pending: i64,
    pub outbox_pending: i64,
    pub timers_pending: i64,
}

impl Store {
    /// How much work is waiting, for `/metrics`.
    pub async fn depths(&self) -> StoreResult<Depths> {
        let q = query(
            "SELECT (SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL) AS inbox, \
                    (SELECT COUNT(*) FROM outbox WHERE state IN ('waiting', 'pending')) AS outbox, \
                    (SELECT COUNT(*) FROM timers WHERE state = 'pending') AS timers",
        );
        let depths = |r: &Row| {
            Ok(Depths {
                inbox_pending: r.int("inbox")?,
                outbox_pending: r.int("outbox")?,
                timers_pending: r.int("timers")?,
            })
        };
        Ok(self.read_one(q, depths).await?.unwrap_or_default())
    }

    /// The histories (severities, resolutions, reopenings, update counts and
    /// gaps) of every incident declared at or after `since`, in three queries.
    pub async fn histories_since(&self, since: DateTime<Utc>) -> StoreResult<BTreeMap<IncidentId, History>> {
        let mut histories: BTreeMap<IncidentId, History> = BTreeMap::new();
        let mut pooled = self.read().await?;
        let mut conn = pooled.conn();
        let severities = query(
            "SELECT s.incident_id, s.at, s.severity FROM severity_changes s JOIN incidents i ON i.id = s.incident_id \
             WHERE i.declared_at >= $1 ORDER BY s.incident_id, s.at, s.id",
        );
        conn.for_each(severities.bind(since), |row| {
            let entry = histories.entry(row.int("incident_id")?).or_default();
            entry
                .severities
                .push((row.time("at")?, row.parsed("severity", |s| s.parse().ok())?));
            Ok(())
        })
        .await?;
        let marks = query(
            "SELECT t.incident_id, t.kind, t.at FROM timeline t JOIN incidents i ON i.id = t.incident_id \
             WHERE i.declared_at >= $1 AND t.kind IN ('resolved', 'reopened', 'customer_update') \
             ORDER BY t.incident_id, t.at, t.id",
        );
        conn.for_each(marks.bind(since), |row| {
            let entry = histories.entry(row.int("incident_id")?).or_default();
            let at = row.time("at")?;
            match row.text("kind")?.as_str() {
                "resolved" => entry.resolutions.push(at),
                "reopened" => entry.reopenings.push(at),
                _ => entry.updates += 1,
            }
            Ok(())
        })
        .await?;
        let gaps = query(
            "SELECT g.incident_id, g.severity, g.promised_ms, g.actual_ms, g.breached FROM comms_gaps g \
             JOIN incidents i ON i.id = g.incident_id WHERE i.declared_at >= $1 ORDER BY g.incident_id, g.at, g.id",
        );
        conn.for_each(gaps.bind(since), |row| {
            let entry = histories.entry(row.int("incident_id")?).or_default();
            entry.gaps.push(gap_from_row(&row)?);
            Ok(())
        })
        .await?;
        Ok(histories)
    }

    /// Incidents declared at or after `since`, oldest first.
    pub async fn incidents_declared_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<Incident>> {
        let q = query(select_incidents!("WHERE declared_at >= $1 ORDER BY id")).bind(since);
        self.read_all(q, incident_from_row).await
    }

    /// Comms-SLO breaches recorded after `since`.
    pub async fn comms_breaches_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<CommsBreach>> {
        let q = query(
            "SELECT incident_id, severity, promised_ms, actual_ms, at FROM comms_gaps WHERE breached AND at > $1 ORDER BY at",
        );
        let breach = |row: &Row| {
            Ok(CommsBreach {
                incident_id: row.int("incident_id")?,
                severity: row.parsed("severity", |s| s.parse().ok())?,
                promised: row.millis("promised_ms")?,
                actual: row.millis("actual_ms")?,
                at: row.time("at")?,
            })
        };
        self.read_all(q.bind(since), breach).await
    }
}
