//! Reports read from the store: the post-mortem draft of one incident, the
//! metrics of many (`/incident stats`, `/metrics` gauges, `rebound export`).
//! Reads only; the numbers come from [`crate::domain::incident_metrics`] and
//! the document from [`crate::views::postmortem`].

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::config::FileSettings;
use crate::domain::incident_metrics::{self, History, IncidentMetrics};
use crate::domain::{Incident, IncidentId};
use crate::store::{Store, StoreResult};
use crate::views::postmortem::{self, PostmortemSource};

/// An incident's history, in the shape the metrics need.
async fn history(store: &Store, incident: &Incident, cutoff: DateTime<Utc>) -> StoreResult<History> {
    let timeline = store.timeline(incident.id).await?;
    let at = |kind: &str| -> Vec<DateTime<Utc>> {
        timeline
            .iter()
            .filter(|e| e.kind == kind && e.at <= cutoff)
            .map(|e| e.at)
            .collect()
    };
    let severities = store.severity_history(incident.id).await?;
    Ok(History {
        severities: severities.into_iter().filter(|(at, _)| *at <= cutoff).collect(),
        resolutions: at("resolved"),
        reopenings: at("reopened"),
        updates: at("customer_update").len(),
        gaps: store.comms_gaps(incident.id).await?,
    })
}

/// Every incident declared since `since`, measured as of `now`, oldest first.
/// Four queries whatever the number of incidents.
pub async fn measured_since(
    store: &Store,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<(Incident, IncidentMetrics)>> {
    let mut histories = store.histories_since(since).await?;
    let incidents = store.incidents_declared_since(since).await?;
    Ok(incidents
        .into_iter()
        .map(|incident| {
            let history = histories.remove(&incident.id).unwrap_or_default();
            let metrics = incident_metrics::measure(&incident, &history, now);
            (incident, metrics)
        })
        .collect())
}

/// What a post-mortem is written from. Once the post-mortem is marked done,
/// only what was recorded until then counts, so the document stops changing.
pub async fn postmortem_source(
    store: &Store,
    settings: &FileSettings,
    id: IncidentId,
    now: DateTime<Utc>,
) -> StoreResult<Option<PostmortemSource>> {
    let Some(incident) = store.incident(id).await? else {
        return Ok(None);
    };
    let cutoff = incident.postmortem_done_at.unwrap_or(now);
    let history = history(store, &incident, cutoff).await?;
    let metrics = incident_metrics::measure(&incident, &history, cutoff);
    let mut timeline = store.timeline(id).await?;
    timeline.retain(|e| e.at <= cutoff);
    let mut actions = store.action_items(id).await?;
    actions.retain(|a| a.created_at <= cutoff);
    let mut tickets = store.incident_tickets(id).await?;
    tickets.retain(|t| t.captured_at <= cutoff);
    Ok(Some(PostmortemSource {
        promised_cadence: metrics.worst_severity.map(|s| settings.update_every(s)),
        severities: history.severities,
        gaps: history.gaps,
        incident,
        timeline,
        actions,
        tickets,
        metrics,
    }))
}

/// The post-mortem draft of incident `id` in Markdown, or `None` when there is no such incident.
pub async fn postmortem_markdown(
    store: &Store,
    settings: &FileSettings,
    id: IncidentId,
    now: DateTime<Utc>,
) -> StoreResult<Option<String>> {
    let source = postmortem_source(store, settings, id, now).await?;
    Ok(source.map(|s| postmortem::render(&s, &settings.cost, now)))
}

/// One row of `rebound export`: an incident with its metrics (durations in seconds).
#[derive(Debug, Clone, Serialize)]
pub struct ExportRow {
    pub id: IncidentId,
    pub title: String,
    pub private: bool,
    pub severity: Option<String>,
    pub worst_severity: Option<String>,
    pub status: String,
    pub declared_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub mitigated_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub time_to_acknowledge_s: Option<u64>,
    pub time_to_mitigate_s: Option<u64>,
    pub time_to_resolve_s: Option<u64>,
    pub time_open_s: u64,
    pub reopened: usize,
    pub customer_updates: usize,
    pub comms_gaps: usize,
    pub comms_on_time: usize,
    pub comms_adherence: Option<f64>,
    pub downtime_cost: Option<f64>,
    /// When the impact began (alert or `/incident started`), if known.
    pub impact_started_at: Option<DateTime<Utc>>,
    /// The first alert delivery, or the declaration.
    pub detected_at: DateTime<Utc>,
    pub time_to_detect_s: Option<u64>,
}

impl ExportRow {
    /// The row as a CSV cell writer must write it: a title that a
    /// spreadsheet would run as a formula is defused ([`crate::text::csv_cell`]).
    pub fn for_spreadsheet(&self) -> Self {
        Self {
            title: crate::text::csv_cell(&self.title).into_owned(),
            ..self.clone()
        }
    }

    pub fn new(incident: &Incident, metrics: &IncidentMetrics, settings: &FileSettings) -> Self {
        let secs = |d: Option<std::time::Duration>| d.map(|d| d.as_secs());
        Self {
            id: incident.id,
            // Private incidents keep their details out of exports too.
            title: if incident.private {
                "(private)".into()
            } else {
                incident.title.clone()
            },
            private: incident.private,
            severity: incident.severity.map(|s| s.to_string()),
            worst_severity: metrics.worst_severity.map(|s| s.to_string()),
            status: incident.status.to_string(),
            declared_at: incident.declared_at,
            acknowledged_at: incident.acknowledged_at,
            mitigated_at: incident.mitigated_at,
            resolved_at: incident.resolved_at,
            time_to_acknowledge_s: secs(metrics.time_to_acknowledge),
            time_to_mitigate_s: secs(metrics.time_to_mitigate),
            time_to_resolve_s: secs(metrics.time_to_resolve),
            time_open_s: metrics.time_open.as_secs(),
            reopened: metrics.reopened,
            customer_updates: metrics.updates,
            comms_gaps: metrics.comms_gaps,
            comms_on_time: metrics.comms_on_time,
            comms_adherence: metrics.comms_adherence(),
            downtime_cost: metrics.cost(|s| settings.cost.per_minute.get(&s).copied()),
            impact_started_at: incident.impact_started_at,
            detected_at: incident.detected_at,
            time_to_detect_s: secs(metrics.time_to_detect),
        }
    }
}

/// The team's time zone (the digest's), for weekly grouping.
pub fn team_zone(settings: &FileSettings) -> Tz {
    settings.digest.timezone.parse().unwrap_or(chrono_tz::UTC)
}

/// The `/incident stats` figures over the last `window`.
pub async fn stats(
    store: &Store,
    settings: &FileSettings,
    window: std::time::Duration,
    now: DateTime<Utc>,
) -> StoreResult<crate::views::stats::Stats> {
    let since = crate::domain::clock::earlier(now, window);
    let measured = measured_since(store, since, now).await?;
    let zone = team_zone(settings);
    let captures = store.ticket_recurrence_since(since).await?;
    Ok(crate::views::stats::Stats {
        window,
        overall: incident_metrics::aggregate(measured.iter().map(|(_, m)| m)),
        reopened: measured.iter().filter(|(_, m)| m.reopened > 0).count(),
        by_severity: incident_metrics::by_severity(&measured),
        by_week: incident_metrics::by_week(&measured, zone),
        zone: zone.name().to_string(),
        recurrence: crate::domain::recurrence::by_month(&captures),
    })
}

/// The dashboard's trends: `weeks` weeks and `months` months up to `now`.
pub async fn trends(
    store: &Store,
    settings: &FileSettings,
    (weeks, months): (usize, u32),
    now: DateTime<Utc>,
) -> StoreResult<crate::domain::trends::Trends> {
    let since = now - chrono::Duration::days(i64::from(months) * 31 + 7).max(chrono::Duration::weeks(weeks as i64 + 1));
    let measured = measured_since(store, since, now).await?;
    let captures = store.ticket_recurrence_since(since).await?;
    Ok(crate::domain::trends::trends(
        &measured,
        &captures,
        |s| settings.cost.per_minute.get(&s).copied(),
        now,
        team_zone(settings),
        (weeks, months),
    ))
}

/// The incident aggregates `/metrics` exports: 30 days by severity, 8 weeks by week.
pub async fn metric_figures(
    store: &Store,
    settings: &FileSettings,
    now: DateTime<Utc>,
) -> StoreResult<crate::metrics::IncidentFigures> {
    let measured = measured_since(store, now - chrono::Duration::weeks(8), now).await?;
    let month_ago = now - chrono::Duration::days(30);
    let recent: Vec<(Incident, IncidentMetrics)> = measured
        .iter()
        .filter(|(incident, _)| incident.declared_at >= month_ago)
        .cloned()
        .collect();
    Ok(crate::metrics::IncidentFigures {
        by_severity: incident_metrics::by_severity(&recent),
        by_week: incident_metrics::by_week(&measured, team_zone(settings)),
        comms_adherence: incident_metrics::aggregate(recent.iter().map(|(_, m)| m)).comms_adherence,
    })
}
