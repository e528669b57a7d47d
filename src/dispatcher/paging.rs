//! Raising, acknowledging and resolving alerts in PagerDuty and Zenduty as
//! an incident changes: the domain says which events its state calls for
//! ([`crate::domain::paging`]); this records them and their outbox calls
//! in the transaction of the change, so a change and its page commit
//! together or not at all.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::config::Settings;
use crate::domain::Incident;
use crate::domain::paging::{self, AlertEvent, AlertStep, AlertSystem};
use crate::store::{AfterSend, NewOutboxCall, StoreResult, UnitOfWork};

/// Outbox method of a PagerDuty Events API v2 event.
pub const PAGERDUTY_METHOD: &str = "pagerduty.enqueue";
/// Outbox method of a Zenduty Generic Integration event.
pub const ZENDUTY_METHOD: &str = "zenduty.event";

/// Brings every configured system in line with `incident` as it now is;
/// `lead_named` when the change being recorded named its lead.
pub async fn reconcile(
    uow: &mut UnitOfWork,
    settings: &Settings,
    incident: &Incident,
    lead_named: bool,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    for system in AlertSystem::ALL {
        let Some(wants) = settings.file.integrations.wants(system) else {
            continue;
        };
        let (latest, raised) = uow.raised_alerts(incident.id, system).await?;
        for step in paging::reconcile(incident, &wants, latest.as_ref(), raised, lead_named) {
            uow.record_alert_step(incident.id, system, &step, now).await?;
            uow.enqueue(&call(settings, incident, system, &step), now).await?;
        }
    }
    Ok(())
}

/// The outbox call for one event. Credentials are not in it: the worker
/// adds them from the configuration when it sends, so none is stored.
fn call(settings: &Settings, incident: &Incident, system: AlertSystem, step: &AlertStep) -> NewOutboxCall {
    let (method, args) = match system {
        AlertSystem::PagerDuty => (PAGERDUTY_METHOD, pagerduty_event(settings, incident, step)),
        AlertSystem::Zenduty => (ZENDUTY_METHOD, zenduty_event(settings, incident, step)),
    };
    NewOutboxCall {
        // One queue per incident and system: trigger, acknowledge and
        // resolve reach the vendor in the order they happened.
        ordering_key: format!("{}:{}", system.as_str(), incident.id),
        method: method.into(),
        args,
        after_send: AfterSend::AlertEvent {
            incident_id: incident.id,
            system: system.as_str().into(),
            dedup_key: step.dedup_key.clone(),
        },
    }
}

/// Where the incident can be read, when Rebound has a public URL.
pub fn incident_url(settings: &Settings, incident: &Incident) -> Option<String> {
    let base = settings.file.web.public_url.as_deref()?;
    Some(format!("{}/incidents/{}", base.trim_end_matches('/'), incident.id))
}

/// The Events API v2 body, without `routing_key`.
/// <https://developer.pagerduty.com/docs/events-api-v2/trigger-events/>
fn pagerduty_event(settings: &Settings, incident: &Incident, step: &AlertStep) -> Value {
    let mut event = json!({ "event_action": step.event.as_str(), "dedup_key": step.dedup_key });
    if step.event == AlertEvent::Trigger {
        event["payload"] = json!({
            "summary": paging::alert_summary(incident),
            "source": "rebound",
            "severity": paging::alert_severity(incident.severity),
            "timestamp": incident.declared_at.to_rfc3339(),
            "class": "incident",
            "custom_details": {
                "incident": incident.reference(),
                "severity": incident.severity.map(|s| s.as_str()).unwrap_or("not set"),
                "status": incident.status.as_str(),
            },
        });
        event["client"] = json!("Rebound");
        if let Some(url) = incident_url(settings, incident) {
            event["client_url"] = json!(url);
            event["links"] = json!([{ "href": url, "text": format!("{} in Rebound", incident.reference()) }]);
        }
    }
    event
}

/// The Generic Integration body; `entity_id` ties the events of one alert.
/// <https://zenduty.com/docs/generic-integration/>
fn zenduty_event(settings: &Settings, incident: &Incident, step: &AlertStep) -> Value {
    let alert_type = match step.event {
        AlertEvent::Trigger => paging::alert_severity(incident.severity),
        AlertEvent::Acknowledge => "acknowledged",
        AlertEvent::Resolve => "resolved",
    };
    let summary = paging::alert_summary(incident);
    let mut event = json!({
        "alert_type": alert_type,
        "message": summary,
        "summary": format!("{summary} ({})", incident.status.as_str()),
        "entity_id": step.dedup_key,
    });
    if let Some(url) = incident_url(settings, incident) {
        event["urls"] = json!([{ "link_url": url, "link_text": format!("{} in Rebound", incident.reference()) }]);
    }
    event
}
