//! Paging alerts: the alerts Rebound raised in PagerDuty and Zenduty for
//! an incident, one row per opening, recorded in the transaction of the
//! change that called for them; what the vendor answered is kept beside.

use chrono::{DateTime, Utc};

use super::sql::{Row, query};
use super::{Store, StoreResult, UnitOfWork, storable};
use crate::domain::IncidentId;
use crate::domain::paging::{AlertEvent, AlertStep, AlertSystem, RaisedAlert};

/// A raised alert as the card shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagingAlert {
    pub system: AlertSystem,
    pub dedup_key: String,
    pub triggered_at: DateTime<Utc>,
    /// The vendor accepted the trigger.
    pub delivered_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The vendor's final refusal, if it refused.
    pub last_error: Option<String>,
}

fn from_row(row: &Row) -> StoreResult<PagingAlert> {
    Ok(PagingAlert {
        system: row.parsed("system", AlertSystem::parse)?,
        dedup_key: row.text("dedup_key")?,
        triggered_at: row.time("triggered_at")?,
        delivered_at: row.opt_time("delivered_at")?,
        acknowledged_at: row.opt_time("acknowledged_at")?,
        resolved_at: row.opt_time("resolved_at")?,
        last_error: row.opt_text("last_error")?,
    })
}

const SELECT: &str = "SELECT system, dedup_key, triggered_at, delivered_at, acknowledged_at, resolved_at, last_error \
                      FROM paging_alerts WHERE incident_id = $1 ORDER BY id";

impl Store {
    /// Every alert raised for an incident, oldest first.
    pub async fn paging_alerts(&self, incident: IncidentId) -> StoreResult<Vec<PagingAlert>> {
        self.read_all(query(SELECT).bind(incident), from_row).await
    }
}

impl UnitOfWork {
    /// Every alert raised for an incident, oldest first, in this transaction.
    pub async fn paging_alerts(&mut self, incident: IncidentId) -> StoreResult<Vec<PagingAlert>> {
        self.conn().map_all(query(SELECT).bind(incident), from_row).await
    }

    /// The latest alert raised for the incident in `system` and how many were.
    pub async fn raised_alerts(
        &mut self,
        incident: IncidentId,
        system: AlertSystem,
    ) -> StoreResult<(Option<RaisedAlert>, u32)> {
        let alerts = self.paging_alerts(incident).await?;
        let mine: Vec<&PagingAlert> = alerts.iter().filter(|a| a.system == system).collect();
        let latest = mine.last().map(|alert| RaisedAlert {
            dedup_key: alert.dedup_key.clone(),
            acknowledged: alert.acknowledged_at.is_some(),
            resolved: alert.resolved_at.is_some(),
        });
        Ok((latest, mine.len() as u32))
    }

    /// Records that `step` is on its way (the outbox call is recorded in the same transaction).
    pub async fn record_alert_step(
        &mut self,
        incident: IncidentId,
        system: AlertSystem,
        step: &AlertStep,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let q = match step.event {
            AlertEvent::Trigger => query(
                "INSERT INTO paging_alerts (incident_id, system, dedup_key, triggered_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(incident),
            AlertEvent::Acknowledge => query(
                "UPDATE paging_alerts SET acknowledged_at = $4 WHERE incident_id = $1 AND system = $2 AND dedup_key = $3",
            )
            .bind(incident),
            AlertEvent::Resolve => query(
                "UPDATE paging_alerts SET resolved_at = $4 WHERE incident_id = $1 AND system = $2 AND dedup_key = $3",
            )
            .bind(incident),
        };
        let q = q.bind(system.as_str()).bind(step.dedup_key.as_str()).bind(now);
        self.conn().run(q).await
    }

    /// The vendor accepted an event for the alert; a trigger's first acceptance marks it delivered.
    pub async fn alert_delivered(
        &mut self,
        system: AlertSystem,
        dedup_key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let q = query(
            "UPDATE paging_alerts SET delivered_at = COALESCE(delivered_at, $1), last_error = NULL \
             WHERE system = $2 AND dedup_key = $3",
        );
        self.conn().run(q.bind(now).bind(system.as_str()).bind(dedup_key)).await
    }

    /// The vendor refused an event for the alert for good.
    pub async fn alert_refused(&mut self, system: AlertSystem, dedup_key: &str, error: &str) -> StoreResult<()> {
        let q = query("UPDATE paging_alerts SET last_error = $1 WHERE system = $2 AND dedup_key = $3");
        let q = q.bind(storable(error).as_ref()).bind(system.as_str()).bind(dedup_key);
        self.conn().run(q).await
    }
}
