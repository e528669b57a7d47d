//! The Statuspage.io incidents mirroring Rebound's: which incidents are
//! mirrored, and the id Statuspage gave each (once it answered).

use chrono::{DateTime, Utc};

use super::sql::query;
use super::{Store, StoreResult, UnitOfWork};
use crate::domain::IncidentId;
use crate::domain::status_page::ComponentState;

impl Store {
    /// The Statuspage incident id of a mirrored incident, once known.
    pub async fn statuspage_id(&self, incident: IncidentId) -> StoreResult<Option<String>> {
        let q = query("SELECT statuspage_id FROM statuspage_incidents WHERE incident_id = $1").bind(incident);
        Ok(self.read_one(q, |r| r.opt_text("statuspage_id")).await?.flatten())
    }
}

impl UnitOfWork {
    /// Whether the incident is mirrored (its first public change was recorded).
    pub async fn statuspage_mirrored(&mut self, incident: IncidentId) -> StoreResult<bool> {
        let q = query("SELECT 1 AS mirrored FROM statuspage_incidents WHERE incident_id = $1").bind(incident);
        Ok(self.conn().map_optional(q, |r| r.int("mirrored")).await?.is_some())
    }

    /// Marks the incident mirrored (a no-op when it is).
    pub async fn mirror_on_statuspage(&mut self, incident: IncidentId, now: DateTime<Utc>) -> StoreResult<()> {
        let q = query(
            "INSERT INTO statuspage_incidents (incident_id, created_at) VALUES ($1, $2) \
             ON CONFLICT (incident_id) DO NOTHING",
        );
        self.conn().run(q.bind(incident).bind(now)).await
    }

    /// Keeps the id Statuspage gave the mirrored incident.
    pub async fn set_statuspage_id(&mut self, incident: IncidentId, statuspage_id: &str) -> StoreResult<()> {
        let q = query("UPDATE statuspage_incidents SET statuspage_id = $1 WHERE incident_id = $2");
        self.conn().run(q.bind(statuspage_id).bind(incident)).await
    }

    /// The components the incident ever set, each in its current state.
    pub async fn components_touched_by(&mut self, incident: IncidentId) -> StoreResult<Vec<(String, ComponentState)>> {
        let q = query(
            "SELECT name, state FROM status_components WHERE name IN \
             (SELECT name FROM status_component_history WHERE incident_id = $1) ORDER BY name",
        );
        let row = |r: &super::sql::Row| Ok((r.text("name")?, r.parsed("state", ComponentState::from_stored)?));
        self.conn().map_all(q.bind(incident), row).await
    }
}
