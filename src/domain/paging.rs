//! Paging other alerting systems (PagerDuty, Zenduty) from an incident:
//! which alert events an incident's state calls for. Pure: the incident as
//! it is now and the alert already raised for it in, the events to send out.
//!
//! It reconciles rather than reacts: whatever the change was (declared,
//! severity raised, lead named, resolved, reopened), the wanted alert state
//! follows from the incident, and only the difference to what was already
//! recorded is sent. So a repeated or reordered change never pages twice,
//! and a change nobody foresaw still leaves the vendor in the right state.
//!
//! Rules an on-call engineer expects: an unresolved incident the system
//! should hear of gets one alert (`trigger`); naming a lead acknowledges it
//! (someone owns it, stop escalating; the declarer, who leads by default,
//! does not count, or every page would be acknowledged before anyone saw
//! it); resolving resolves it; a reopened
//! incident is a new opening with a new dedup key, so it pages again.
//! Lowering the severity does not resolve a page: the person paged is
//! already on it, and the incident's resolution closes it.

use super::{Incident, Severity, Status};

/// An external alerting system Rebound raises alerts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertSystem {
    PagerDuty,
    Zenduty,
}

impl AlertSystem {
    pub const ALL: [AlertSystem; 2] = [AlertSystem::PagerDuty, AlertSystem::Zenduty];

    /// The name stored and used in outbox methods.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertSystem::PagerDuty => "pagerduty",
            AlertSystem::Zenduty => "zenduty",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The vendor's name for people.
    pub fn display_name(self) -> &'static str {
        match self {
            AlertSystem::PagerDuty => "PagerDuty",
            AlertSystem::Zenduty => "Zenduty",
        }
    }
}

/// The alert raised for the incident's current opening, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaisedAlert {
    pub dedup_key: String,
    pub acknowledged: bool,
    pub resolved: bool,
}

/// What to send to the alerting system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertEvent {
    Trigger,
    Acknowledge,
    Resolve,
}

impl AlertEvent {
    /// PagerDuty's `event_action`.
    pub fn as_str(&self) -> &'static str {
        match self {
            AlertEvent::Trigger => "trigger",
            AlertEvent::Acknowledge => "acknowledge",
            AlertEvent::Resolve => "resolve",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [AlertEvent::Trigger, AlertEvent::Acknowledge, AlertEvent::Resolve]
            .into_iter()
            .find(|e| e.as_str() == text)
    }
}

/// One event for one alert, identified by its dedup key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertStep {
    pub event: AlertEvent,
    pub dedup_key: String,
}

/// Which incidents a system hears of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wants {
    /// Incidents of these severities (PagerDuty's `page`).
    Severities(Vec<Severity>),
    /// Every incident (Zenduty).
    Every,
}

impl Wants {
    fn covers(&self, incident: &Incident) -> bool {
        match self {
            Wants::Every => true,
            Wants::Severities(list) => incident.severity.is_some_and(|s| list.contains(&s)),
        }
    }
}

/// The dedup key of an incident's `opening`-th alert in a system (1 for the
/// first; each reopening that pages again counts one up). Stable across
/// retries and replicas, unique per opening, well under PagerDuty's 255.
pub fn dedup_key(incident: &Incident, opening: u32) -> String {
    format!("rebound-inc-{}-{opening}", incident.id)
}

/// The events that bring the system in line with the incident. `latest` is
/// the last alert raised for it (if any), `raised` how many were, and
/// `lead_named` whether the change being recorded named a lead.
pub fn reconcile(
    incident: &Incident,
    wants: &Wants,
    latest: Option<&RaisedAlert>,
    raised: u32,
    lead_named: bool,
) -> Vec<AlertStep> {
    let open = latest.filter(|alert| !alert.resolved);
    let step = |event, key: &str| AlertStep {
        event,
        dedup_key: key.to_string(),
    };
    if incident.status == Status::Resolved {
        return open
            .map(|alert| vec![step(AlertEvent::Resolve, &alert.dedup_key)])
            .unwrap_or_default();
    }
    match open {
        Some(alert) if lead_named && !alert.acknowledged => vec![step(AlertEvent::Acknowledge, &alert.dedup_key)],
        Some(_) => Vec::new(),
        None if wants.covers(incident) => vec![step(AlertEvent::Trigger, &dedup_key(incident, raised + 1))],
        None => Vec::new(),
    }
}

/// The alert severity for an incident severity: PagerDuty's
/// `payload.severity` and Zenduty's `alert_type` share these words.
pub fn alert_severity(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Sev1) => "critical",
        Some(Severity::Sev2) => "error",
        Some(Severity::Sev3) => "warning",
        Some(Severity::Sev4) | None => "info",
    }
}

/// What the alert is called outside Slack. A private incident's title is
/// for its channel's members only, so other systems get its reference.
pub fn alert_summary(incident: &Incident) -> String {
    let severity = incident.severity.map(|s| format!(" [{s}]")).unwrap_or_default();
    let title = match incident.private {
        true => "private incident".to_string(),
        false => crate::text::plain(&incident.title),
    };
    let summary = format!("{}{severity} {title}", incident.reference());
    summary.chars().take(1024).collect()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn incident(severity: Option<Severity>, lead: Option<&str>, status: Status) -> Incident {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
        let mut incident = crate::domain::IncidentDraft::declare("Checkout <!channel> down", severity, false, "U1", at)
            .into_incident(7);
        incident.lead = lead.map(str::to_string);
        incident.status = status;
        incident
    }

    fn pages() -> Wants {
        Wants::Severities(vec![Severity::Sev1, Severity::Sev2])
    }

    fn raised(acknowledged: bool, resolved: bool) -> RaisedAlert {
        RaisedAlert {
            dedup_key: "rebound-inc-7-1".into(),
            acknowledged,
            resolved,
        }
    }

    fn events(steps: &[AlertStep]) -> Vec<(&'static str, &str)> {
        steps.iter().map(|s| (s.event.as_str(), s.dedup_key.as_str())).collect()
    }

    #[test]
    fn a_paged_severity_triggers_once() {
        let sev1 = incident(Some(Severity::Sev1), None, Status::Investigating);
        assert_eq!(
            events(&reconcile(&sev1, &pages(), None, 0, false)),
            [("trigger", "rebound-inc-7-1")]
        );
        assert!(
            reconcile(&sev1, &pages(), Some(&raised(false, false)), 1, false).is_empty(),
            "already raised"
        );
    }

    #[test]
    fn other_severities_and_unset_ones_do_not_page_but_every_reaches_zenduty() {
        for severity in [None, Some(Severity::Sev3), Some(Severity::Sev4)] {
            let quiet = incident(severity, None, Status::Investigating);
            assert!(reconcile(&quiet, &pages(), None, 0, false).is_empty());
            assert_eq!(reconcile(&quiet, &Wants::Every, None, 0, false).len(), 1);
        }
    }

    #[test]
    fn naming_a_lead_acknowledges_once_and_resolving_resolves() {
        let led = incident(Some(Severity::Sev2), Some("U2"), Status::Identified);
        assert_eq!(
            events(&reconcile(&led, &pages(), Some(&raised(false, false)), 1, true)),
            [("acknowledge", "rebound-inc-7-1")]
        );
        assert!(reconcile(&led, &pages(), Some(&raised(true, false)), 1, true).is_empty());
        assert!(
            reconcile(&led, &pages(), Some(&raised(false, false)), 1, false).is_empty(),
            "the declarer leading by default acknowledges nothing"
        );
        let resolved = incident(Some(Severity::Sev2), Some("U2"), Status::Resolved);
        assert_eq!(
            events(&reconcile(&resolved, &pages(), Some(&raised(true, false)), 1, false)),
            [("resolve", "rebound-inc-7-1")]
        );
        assert!(reconcile(&resolved, &pages(), Some(&raised(true, true)), 1, false).is_empty());
        assert!(
            reconcile(&resolved, &pages(), None, 0, false).is_empty(),
            "never paged: nothing to resolve"
        );
    }

    #[test]
    fn a_declarer_leading_by_default_is_still_paged() {
        let led = incident(Some(Severity::Sev1), Some("U1"), Status::Investigating);
        assert_eq!(
            events(&reconcile(&led, &pages(), None, 0, false)),
            [("trigger", "rebound-inc-7-1")]
        );
    }

    #[test]
    fn a_reopened_incident_pages_again_under_a_new_key() {
        let reopened = incident(Some(Severity::Sev1), None, Status::Investigating);
        assert_eq!(
            events(&reconcile(&reopened, &pages(), Some(&raised(false, true)), 1, false)),
            [("trigger", "rebound-inc-7-2")]
        );
    }

    #[test]
    fn lowering_the_severity_keeps_the_page_open() {
        let lowered = incident(Some(Severity::Sev4), None, Status::Investigating);
        assert!(reconcile(&lowered, &pages(), Some(&raised(false, false)), 1, false).is_empty());
    }

    #[test]
    fn summaries_carry_no_markup_and_hide_private_titles() {
        let mut sev1 = incident(Some(Severity::Sev1), None, Status::Investigating);
        let summary = alert_summary(&sev1);
        assert!(summary.starts_with("INC-7 [sev1] Checkout"), "{summary}");
        sev1.private = true;
        assert_eq!(alert_summary(&sev1), "INC-7 [sev1] private incident");
        assert_eq!(alert_severity(Some(Severity::Sev1)), "critical");
        assert_eq!(alert_severity(None), "info");
    }
}
