//! Incidents and their timeline: where an incident is declared, changed and
//! linked to its channel, and where its history (timeline entries, severity
//! changes, customer-update gaps) is written and read, for both engines.

use chrono::{DateTime, Utc};

use super::StoreResult;
use super::sql::{Row, query};
use super::{Store, UnitOfWork};
use crate::domain::comms::CommsGap;
use crate::domain::{Incident, IncidentDraft, IncidentId, Severity};

/// One entry of an incident's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub incident_id: IncidentId,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub body: String,
    pub source: String,
}

pub(super) fn incident_from_row(row: &Row) -> StoreResult<Incident> {
    Ok(Incident {
        id: row.int("id")?,
        title: row.text("title")?,
        severity: row.opt_parsed("severity", |s| s.parse().ok())?,
        status: row.parsed("status", |s| s.parse().ok())?,
        private: row.bool("private")?,
        declared_by: row.text("declared_by")?,
        lead: row.opt_text("lead")?,
        declared_at: row.time("declared_at")?,
        channel_id: row.opt_text("channel_id")?,
        channel_name: row.opt_text("channel_name")?,
        card_ts: row.opt_text("card_ts")?,
        acknowledged_at: row.opt_time("acknowledged_at")?,
        mitigated_at: row.opt_time("mitigated_at")?,
        resolved_at: row.opt_time("resolved_at")?,
        reopened_at: row.opt_time("reopened_at")?,
        summary: row.opt_text("summary")?,
        postmortem_done_at: row.opt_time("postmortem_done_at")?,
        postmortem_link: row.opt_text("postmortem_link")?,
        cadence_anchor_at: row.opt_time("cadence_anchor_at")?,
        impact_started_at: row.opt_time("impact_started_at")?,
        impact_source: row.opt_text("impact_source")?,
        detected_at: row.opt_time("detected_at")?.unwrap_or(row.time("declared_at")?),
    })
}

fn timeline_from_row(row: &Row) -> StoreResult<TimelineEntry> {
    Ok(TimelineEntry {
        incident_id: row.int("incident_id")?,
        at: row.time("at")?,
        actor: row.text("actor")?,
        kind: row.text("kind")?,
        body: row.text("body")?,
        source: row.text("source")?,
    })
}

/// A customer-update gap (`severity, promised_ms, actual_ms, breached`).
pub(super) fn gap_from_row(row: &Row) -> StoreResult<CommsGap> {
    Ok(CommsGap {
        severity: row.parsed("severity", |s| s.parse().ok())?,
        promised: row.millis("promised_ms")?,
        actual: row.millis("actual_ms")?,
        breached: row.bool("breached")?,
    })
}

impl Store {
    pub async fn incident(&self, id: IncidentId) -> StoreResult<Option<Incident>> {
        let q = query(select_incidents!("WHERE id = $1")).bind(id);
        self.read_one(q, incident_from_row).await
    }

    pub async fn incident_by_channel(&self, channel_id: &str) -> StoreResult<Option<Incident>> {
        let q = query(select_incidents!("WHERE channel_id = $1")).bind(channel_id);
        self.read_one(q, incident_from_row).await
    }

    /// Incidents not resolved, oldest first.
    pub async fn open_incidents(&self) -> StoreResult<Vec<Incident>> {
        let q = query(select_incidents!("WHERE status <> 'resolved' ORDER BY declared_at, id"));
        self.read_all(q, incident_from_row).await
    }

    /// The oldest `limit` open incidents (the dashboard's first page).
    pub async fn oldest_open_incidents(&self, limit: i64) -> StoreResult<Vec<Incident>> {
        let q = query(select_incidents!(
            "WHERE status <> 'resolved' ORDER BY declared_at, id LIMIT $1"
        ));
        self.read_all(q.bind(limit), incident_from_row).await
    }

    /// The dashboard's list: incidents of `status` and `severity` (any when
    /// empty) declared since `since`, open first, then newest, at most `limit`.
    pub async fn incident_list(
        &self,
        status: Option<&str>,
        severity: Option<&str>,
        since: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<Incident>> {
        let q = query(select_incidents!(
            "WHERE declared_at >= $1 AND (COALESCE($2, '') = '' OR status = $2) \
             AND (COALESCE($3, '') = '' OR severity = $3) \
             ORDER BY CASE WHEN status = 'resolved' THEN 1 ELSE 0 END, declared_at DESC, id DESC LIMIT $4"
        ));
        self.read_all(q.bind(since).bind(status).bind(severity).bind(limit), incident_from_row)
            .await
    }

    pub async fn timeline(&self, id: IncidentId) -> StoreResult<Vec<TimelineEntry>> {
        let q = query(
            "SELECT incident_id, at, actor, kind, body, source FROM timeline WHERE incident_id = $1 ORDER BY at, id",
        );
        self.read_all(q.bind(id), timeline_from_row).await
    }

    /// Resolved incidents without a finished post-mortem, resolved before `resolved_before`.
    pub async fn overdue_postmortems(&self, resolved_before: DateTime<Utc>) -> StoreResult<Vec<Incident>> {
        let q = query(select_incidents!(
            "WHERE status = 'resolved' AND postmortem_done_at IS NULL AND resolved_at < $1 ORDER BY resolved_at"
        ));
        self.read_all(q.bind(resolved_before), incident_from_row).await
    }

    /// The severities an incident had, oldest first, each with when it was set.
    pub async fn severity_history(&self, id: IncidentId) -> StoreResult<Vec<(DateTime<Utc>, Severity)>> {
        let q = query("SELECT at, severity FROM severity_changes WHERE incident_id = $1 ORDER BY at, id");
        let change = |r: &Row| Ok((r.time("at")?, r.parsed("severity", |s| s.parse().ok())?));
        self.read_all(q.bind(id), change).await
    }

    /// Gaps between an incident's customer updates, in order.
    pub async fn comms_gaps(&self, id: IncidentId) -> StoreResult<Vec<CommsGap>> {
        let q = query(
            "SELECT severity, promised_ms, actual_ms, breached FROM comms_gaps WHERE incident_id = $1 ORDER BY at, id",
        );
        self.read_all(q.bind(id), gap_from_row).await
    }
}

impl UnitOfWork {
    pub async fn insert_incident(&mut self, draft: &IncidentDraft) -> StoreResult<Incident> {
        let q = query(
            "INSERT INTO incidents (title, severity, status, private, declared_by, lead, declared_at, cadence_anchor_at, \
             detected_at, impact_started_at, impact_source) \
             VALUES ($1, $2, 'investigating', $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(draft.title.as_str())
        .bind(draft.severity.map(|s| s.as_str()))
        .bind(draft.private)
        .bind(draft.declared_by.as_str())
        .bind(draft.lead())
        .bind(draft.declared_at)
        .bind(draft.severity.map(|_| draft.declared_at))
        .bind(draft.detected_at)
        .bind(draft.impact_started_at)
        .bind(draft.impact_started_at.map(|_| draft.declared_by.as_str()));
        let id = self.conn().map_optional(q, |r| r.int("id")).await?;
        let id = id.ok_or_else(|| super::StoreError::Corrupt("INSERT … RETURNING gave no id".into()))?;
        if let Some(severity) = draft.severity {
            self.record_severity(id, severity, draft.declared_at).await?;
        }
        Ok(draft.clone().into_incident(id))
    }

    /// An incident, locked until the transaction ends.
    pub async fn incident(&mut self, id: IncidentId) -> StoreResult<Option<Incident>> {
        let q = query(select_incidents!("WHERE id = $1")).locked("FOR UPDATE");
        self.conn().map_optional(q.bind(id), incident_from_row).await
    }

    /// The incident whose channel this is, locked until the transaction ends.
    pub async fn incident_by_channel(&mut self, channel_id: &str) -> StoreResult<Option<Incident>> {
        let q = query(select_incidents!("WHERE channel_id = $1")).locked("FOR UPDATE");
        self.conn().map_optional(q.bind(channel_id), incident_from_row).await
    }

    /// Writes everything a lifecycle change can change.
    pub async fn save_incident(&mut self, incident: &Incident) -> StoreResult<()> {
        let q = query(
            "UPDATE incidents SET severity = $1, status = $2, lead = $3, acknowledged_at = $4, mitigated_at = $5, \
             resolved_at = $6, reopened_at = $7, summary = $8, postmortem_done_at = $9, postmortem_link = $10, \
             cadence_anchor_at = $11, impact_started_at = $12, impact_source = $13 WHERE id = $14",
        )
        .bind(incident.severity.map(|s| s.as_str()))
        .bind(incident.status.as_str())
        .bind(incident.lead.as_deref())
        .bind(incident.acknowledged_at)
        .bind(incident.mitigated_at)
        .bind(incident.resolved_at)
        .bind(incident.reopened_at)
        .bind(incident.summary.as_deref())
        .bind(incident.postmortem_done_at)
        .bind(incident.postmortem_link.as_deref())
        .bind(incident.cadence_anchor_at)
        .bind(incident.impact_started_at)
        .bind(incident.impact_source.as_deref())
        .bind(incident.id);
        self.conn().run(q).await
    }

    pub async fn link_incident_channel(
        &mut self,
        id: IncidentId,
        channel_id: &str,
        channel_name: &str,
    ) -> StoreResult<()> {
        let q = query("UPDATE incidents SET channel_id = $1, channel_name = $2 WHERE id = $3");
        self.conn().run(q.bind(channel_id).bind(channel_name).bind(id)).await
    }

    pub async fn set_incident_card(&mut self, id: IncidentId, ts: &str) -> StoreResult<()> {
        let q = query("UPDATE incidents SET card_ts = $1 WHERE id = $2");
        self.conn().run(q.bind(ts).bind(id)).await
    }

    pub async fn append_timeline(&mut self, entry: &TimelineEntry) -> StoreResult<()> {
        let q =
            query("INSERT INTO timeline (incident_id, at, actor, kind, body, source) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(entry.incident_id)
                .bind(entry.at)
                .bind(entry.actor.as_str())
                .bind(entry.kind.as_str())
                .bind(entry.body.as_str())
                .bind(entry.source.as_str());
        self.conn().run(q).await
    }

    /// Records the severity an incident has from `at` on.
    pub async fn record_severity(&mut self, id: IncidentId, severity: Severity, at: DateTime<Utc>) -> StoreResult<()> {
        let q = query("INSERT INTO severity_changes (incident_id, severity, at) VALUES ($1, $2, $3)");
        self.conn().run(q.bind(id).bind(severity.as_str()).bind(at)).await
    }

    pub async fn insert_comms_gap(
        &mut self,
        incident_id: IncidentId,
        gap: &CommsGap,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let q = query(
            "INSERT INTO comms_gaps (incident_id, severity, promised_ms, actual_ms, breached, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(incident_id)
        .bind(gap.severity.as_str())
        .bind(gap.promised.as_millis() as i64)
        .bind(gap.actual.as_millis() as i64)
        .bind(gap.breached)
        .bind(now);
        self.conn().run(q).await
    }
}
