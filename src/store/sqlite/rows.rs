//! How SQLite rows become domain values. Times are stored as integer
//! milliseconds since the Unix epoch (UTC).

use chrono::{DateTime, TimeZone, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::domain::Incident;
use crate::store::*;

pub(super) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(super) fn from_millis(ms: i64) -> StoreResult<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms}")))
}

pub(super) fn incident_from_row(row: &SqliteRow) -> StoreResult<Incident> {
    Ok(Incident {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        severity: parse_severity(row.try_get("severity")?)?,
        status: parse_status(row.try_get::<&str, _>("status")?)?,
        private: row.try_get("private")?,
        declared_by: row.try_get("declared_by")?,
        lead: row.try_get("lead")?,
        declared_at: from_millis(row.try_get("declared_at")?)?,
        channel_id: row.try_get("channel_id")?,
        channel_name: row.try_get("channel_name")?,
        card_ts: row.try_get("card_ts")?,
        acknowledged_at: optional_millis(row.try_get("acknowledged_at")?)?,
        mitigated_at: optional_millis(row.try_get("mitigated_at")?)?,
        resolved_at: optional_millis(row.try_get("resolved_at")?)?,
        reopened_at: optional_millis(row.try_get("reopened_at")?)?,
        summary: row.try_get("summary")?,
        postmortem_done_at: optional_millis(row.try_get("postmortem_done_at")?)?,
        postmortem_link: row.try_get("postmortem_link")?,
        cadence_anchor_at: optional_millis(row.try_get("cadence_anchor_at")?)?,
    })
}

pub(super) fn optional_millis(ms: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
    ms.map(from_millis).transpose()
}
