//! How Postgres rows become domain values.

use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::domain::Incident;
use crate::store::*;

pub(super) fn incident_from_row(row: &PgRow) -> StoreResult<Incident> {
    Ok(Incident {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        severity: parse_severity(row.try_get("severity")?)?,
        status: parse_status(row.try_get::<&str, _>("status")?)?,
        private: row.try_get("private")?,
        declared_by: row.try_get("declared_by")?,
        lead: row.try_get("lead")?,
        declared_at: row.try_get("declared_at")?,
        channel_id: row.try_get("channel_id")?,
        channel_name: row.try_get("channel_name")?,
        card_ts: row.try_get("card_ts")?,
        acknowledged_at: row.try_get("acknowledged_at")?,
        mitigated_at: row.try_get("mitigated_at")?,
        resolved_at: row.try_get("resolved_at")?,
        reopened_at: row.try_get("reopened_at")?,
        summary: row.try_get("summary")?,
        postmortem_done_at: row.try_get("postmortem_done_at")?,
        postmortem_link: row.try_get("postmortem_link")?,
        cadence_anchor_at: row.try_get("cadence_anchor_at")?,
    })
}
