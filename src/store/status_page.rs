//! The public status page's state: each component's current state and
//! which incident set it, every change (for the 90-day history), and the
//! updates published from Slack. Written with the lifecycle change that
//! causes it; read by the status page outside any transaction.

use chrono::{DateTime, Utc};

use super::sql::{Row, query};
use super::{Store, StoreResult, UnitOfWork};
use crate::domain::IncidentId;
use crate::domain::status_page::ComponentState;

/// A component's state as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentStatus {
    pub name: String,
    pub state: ComponentState,
    pub incident_id: Option<IncidentId>,
    pub updated_at: DateTime<Utc>,
}

/// An update published on the status page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedUpdate {
    pub id: i64,
    pub incident_id: IncidentId,
    /// The incident's status when it was published (`investigating`…).
    pub status: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

/// One change of a component's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentChange {
    pub name: String,
    pub state: ComponentState,
    pub at: DateTime<Utc>,
}

fn state_of(row: &Row) -> StoreResult<ComponentState> {
    row.parsed("state", ComponentState::from_stored)
}

impl UnitOfWork {
    /// Component `name` is in `state` because of incident `id`.
    pub async fn set_component(
        &mut self,
        name: &str,
        state: ComponentState,
        id: Option<IncidentId>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let q = query(
            "INSERT INTO status_components (name, state, incident_id, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET state = excluded.state, incident_id = excluded.incident_id, \
             updated_at = excluded.updated_at",
        );
        self.conn()
            .run(q.bind(name).bind(state.as_str()).bind(id).bind(now))
            .await?;
        let history =
            query("INSERT INTO status_component_history (name, state, incident_id, at) VALUES ($1, $2, $3, $4)");
        self.conn()
            .run(history.bind(name).bind(state.as_str()).bind(id).bind(now))
            .await
    }

    /// Incident `id` resolved: the components it set are operational again.
    pub async fn restore_components(&mut self, id: IncidentId, now: DateTime<Utc>) -> StoreResult<()> {
        let q = query("SELECT name FROM status_components WHERE incident_id = $1 AND state <> 'operational'");
        let names = self.conn().map_all(q.bind(id), |r| r.text("name")).await?;
        for name in names {
            self.set_component(&name, ComponentState::Operational, None, now)
                .await?;
        }
        Ok(())
    }

    /// Publishes `body` for incident `id`, whose status is now `status`.
    pub async fn publish_update(
        &mut self,
        id: IncidentId,
        status: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let q = query("INSERT INTO status_updates (incident_id, status, body, at) VALUES ($1, $2, $3, $4)");
        self.conn().run(q.bind(id).bind(status).bind(body).bind(now)).await
    }
}

impl Store {
    /// Every component Slack has set, by name.
    pub async fn component_statuses(&self) -> StoreResult<Vec<ComponentStatus>> {
        let q = query("SELECT name, state, incident_id, updated_at FROM status_components ORDER BY name");
        self.read_all(q, |r| {
            Ok(ComponentStatus {
                name: r.text("name")?,
                state: state_of(r)?,
                incident_id: r.opt_int("incident_id")?,
                updated_at: r.time("updated_at")?,
            })
        })
        .await
    }

    /// Component changes since `since`, oldest first, with the last one before it
    /// (so the state at `since` is known).
    pub async fn component_changes_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<ComponentChange>> {
        let q = query(
            "SELECT h.name, h.state, h.at FROM status_component_history h WHERE h.at >= $1 \
             OR h.id = (SELECT MAX(p.id) FROM status_component_history p WHERE p.name = h.name AND p.at < $1) \
             ORDER BY h.at, h.id",
        );
        self.read_all(q.bind(since), |r| {
            Ok(ComponentChange {
                name: r.text("name")?,
                state: state_of(r)?,
                at: r.time("at")?,
            })
        })
        .await
    }

    /// Every published update of incidents declared since `since`, newest first.
    pub async fn published_updates_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<PublishedUpdate>> {
        let q = query(
            "SELECT u.id, u.incident_id, u.status, u.body, u.at FROM status_updates u \
             JOIN incidents i ON i.id = u.incident_id WHERE i.declared_at >= $1 AND NOT i.private \
             ORDER BY u.at DESC, u.id DESC",
        );
        self.read_all(q.bind(since), |r| {
            Ok(PublishedUpdate {
                id: r.int("id")?,
                incident_id: r.int("incident_id")?,
                status: r.text("status")?,
                body: r.text("body")?,
                at: r.time("at")?,
            })
        })
        .await
    }
}
