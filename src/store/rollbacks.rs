//! Rollbacks requested from the card: who asked for which service when,
//! and the workflow run GitHub started for it.

use chrono::{DateTime, Utc};

use super::sql::query;
use super::{StoreResult, UnitOfWork};
use crate::domain::IncidentId;

/// A rollback request to record.
#[derive(Debug, Clone)]
pub struct NewRollback<'a> {
    pub request_id: &'a str,
    pub incident_id: IncidentId,
    pub service: &'a str,
    pub requested_by: &'a str,
}

impl UnitOfWork {
    /// When the incident's rollback of `service` was last requested.
    pub async fn last_rollback(&mut self, incident: IncidentId, service: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let q = query("SELECT MAX(requested_at) AS at FROM rollback_runs WHERE incident_id = $1 AND service = $2");
        Ok(self
            .conn()
            .map_optional(q.bind(incident).bind(service), |r| r.opt_time("at"))
            .await?
            .flatten())
    }

    pub async fn record_rollback(&mut self, rollback: &NewRollback<'_>, now: DateTime<Utc>) -> StoreResult<()> {
        let q = query(
            "INSERT INTO rollback_runs (request_id, incident_id, service, requested_by, requested_at) \
             VALUES ($1, $2, $3, $4, $5)",
        );
        let q = q
            .bind(rollback.request_id)
            .bind(rollback.incident_id)
            .bind(rollback.service)
            .bind(rollback.requested_by)
            .bind(now);
        self.conn().run(q).await
    }

    /// Keeps the run GitHub started for the request.
    pub async fn set_rollback_run(&mut self, request_id: &str, run_url: &str) -> StoreResult<()> {
        let q = query("UPDATE rollback_runs SET run_url = $1 WHERE request_id = $2");
        self.conn().run(q.bind(run_url).bind(request_id)).await
    }
}
