//! The alert ledger: where each alert monitoring sent is recorded (one row
//! per source and dedup key, repeats counted), linked to the incident or
//! ticket it opened or joined, and found by group or by incident.

use chrono::{DateTime, Utc};

use super::sql::{Row, query};
use super::{StoreResult, UnitOfWork};
use crate::domain::IncidentId;
use crate::domain::alerts::routing::{Action, Known};
use crate::domain::alerts::{Alert, AlertStatus};

/// How an incident's alerts stand, for "2 of 3 alerts resolved".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlertTally {
    pub total: i64,
    pub firing: i64,
}

impl UnitOfWork {
    /// What the ledger held for this alert before this delivery, if anything.
    pub async fn known_alert(&mut self, source: &str, dedup_key: &str) -> StoreResult<Option<Known>> {
        let q = query("SELECT status, incident_id, ticket_id FROM alerts WHERE source = $1 AND dedup_key = $2")
            .bind(source)
            .bind(dedup_key);
        let known = |r: &Row| {
            Ok(Known {
                status: r.parsed("status", AlertStatus::parse)?,
                incident: r.opt_int("incident_id")?,
                ticket: r.opt_int("ticket_id")?,
            })
        };
        self.conn().map_optional(q, known).await
    }

    /// The open incident holding an alert of this group, if any.
    pub async fn incident_of_group(&mut self, source: &str, group_key: &str) -> StoreResult<Option<IncidentId>> {
        let q = query(
            "SELECT a.incident_id FROM alerts a JOIN incidents i ON i.id = a.incident_id \
             WHERE a.source = $1 AND a.group_key = $2 AND i.status <> 'resolved' ORDER BY a.id DESC LIMIT 1",
        );
        let q = q.bind(source).bind(group_key);
        self.conn().map_optional(q, |r| r.int("incident_id")).await
    }

    /// Records a delivery of `alert`: a new row, or the known one updated
    /// (status, last seen, one more delivery; a re-fire unlinks the cleared
    /// incident so the alert can open or join another).
    pub async fn record_alert(
        &mut self,
        source: &str,
        alert: &Alert,
        action: Action,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let resolved_at = (alert.status == AlertStatus::Resolved).then_some(now);
        let q = query(
            "INSERT INTO alerts (source, dedup_key, group_key, status, title, severity_label, labels, link, \
             started_at, first_seen_at, last_seen_at, resolved_at, action, raw) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13) \
             ON CONFLICT (source, dedup_key) DO UPDATE SET status = excluded.status, \
             last_seen_at = excluded.last_seen_at, deliveries = alerts.deliveries + 1, raw = excluded.raw, \
             resolved_at = COALESCE(excluded.resolved_at, CASE WHEN excluded.status = 'firing' THEN NULL \
               ELSE alerts.resolved_at END), \
             started_at = COALESCE(alerts.started_at, excluded.started_at), \
             incident_id = CASE WHEN alerts.status = 'resolved' AND excluded.status = 'firing' THEN NULL \
               ELSE alerts.incident_id END, \
             action = excluded.action",
        )
        .bind(source)
        .bind(alert.dedup_key.as_str())
        .bind(alert.group_key.as_str())
        .bind(alert.status.as_str())
        .bind(alert.title.as_str())
        .bind(alert.severity_label.as_deref())
        .bind(serde_json::to_value(&alert.labels).unwrap_or_default())
        .bind(alert.link.as_deref())
        .bind(alert.started_at)
        .bind(now)
        .bind(resolved_at)
        .bind(action.as_str())
        .bind(&alert.raw);
        self.conn().run(q).await
    }

    /// Links an alert to the incident it opened or joined.
    pub async fn link_alert_incident(&mut self, source: &str, dedup_key: &str, id: IncidentId) -> StoreResult<()> {
        let q = query("UPDATE alerts SET incident_id = $1 WHERE source = $2 AND dedup_key = $3");
        self.conn().run(q.bind(id).bind(source).bind(dedup_key)).await
    }

    /// Links an alert to the open incident it joined; the channel has not
    /// been told yet (see [`UnitOfWork::take_unannounced`]).
    pub async fn join_alert_incident(&mut self, source: &str, dedup_key: &str, id: IncidentId) -> StoreResult<()> {
        let q = query("UPDATE alerts SET incident_id = $1, announced = $2 WHERE source = $3 AND dedup_key = $4");
        self.conn()
            .run(q.bind(id).bind(false).bind(source).bind(dedup_key))
            .await
    }

    /// The alerts that joined incident `id` since the channel was last told,
    /// now marked as told: how many, and the titles of the first `limit`.
    pub async fn take_unannounced(&mut self, id: IncidentId, limit: usize) -> StoreResult<(usize, Vec<String>)> {
        let q = query("UPDATE alerts SET announced = $1 WHERE incident_id = $2 AND announced = $3 RETURNING id, title");
        let mut joined = self
            .conn()
            .map_all(q.bind(true).bind(id).bind(false), |r| {
                Ok((r.int("id")?, r.text("title")?))
            })
            .await?;
        joined.sort();
        let count = joined.len();
        Ok((count, joined.into_iter().take(limit).map(|(_, title)| title).collect()))
    }

    /// Links an alert to the failure ticket it opened.
    pub async fn link_alert_ticket(&mut self, source: &str, dedup_key: &str, ticket_id: i64) -> StoreResult<()> {
        let q = query("UPDATE alerts SET ticket_id = $1 WHERE source = $2 AND dedup_key = $3");
        self.conn().run(q.bind(ticket_id).bind(source).bind(dedup_key)).await
    }

    /// How many alerts an incident holds, and how many still fire.
    pub async fn alert_tally(&mut self, id: IncidentId) -> StoreResult<AlertTally> {
        let q = query(
            "SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN status = 'firing' THEN 1 ELSE 0 END), 0) AS firing \
             FROM alerts WHERE incident_id = $1",
        );
        let tally = |r: &Row| {
            Ok(AlertTally {
                total: r.int("total")?,
                firing: r.int("firing")?,
            })
        };
        Ok(self.conn().map_optional(q.bind(id), tally).await?.unwrap_or_default())
    }

    /// An alert that joined incident `id` began at `at`: the impact start
    /// moves back to it if that is earlier, unless a responder set it.
    pub async fn move_impact_start_back(&mut self, id: IncidentId, at: DateTime<Utc>, source: &str) -> StoreResult<()> {
        let q = query(
            "UPDATE incidents SET impact_started_at = $1, impact_source = $2 WHERE id = $3 \
             AND (impact_started_at IS NULL OR impact_started_at > $1) \
             AND (impact_source IS NULL OR impact_source LIKE 'alert:%')",
        )
        .bind(at)
        .bind(source)
        .bind(id);
        self.conn().run(q).await
    }
}
