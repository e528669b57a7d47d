//! Where an alert goes: the configured routes in order (first match wins),
//! else its source's default action; then, knowing what Rebound already
//! holds for the alert and its group, the one step to take. Pure.

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{Alert, AlertStatus};
use crate::domain::{IncidentId, Severity};

/// What a routed alert becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Open an incident (or join the open one holding its group).
    #[default]
    Incident,
    /// Open a failure ticket (a KPI threshold breached, not an outage).
    Ticket,
    /// Count it and do nothing else.
    Drop,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Incident => "incident",
            Action::Ticket => "ticket",
            Action::Drop => "drop",
        }
    }
}

/// One `[[intake.routes]]` entry; every matcher given must match.
#[derive(Debug, Clone)]
pub struct Route {
    pub source: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub title: Option<Regex>,
    /// Matches the alert's own severity word or its mapped severity (`sev2`).
    pub when_severity: Option<String>,
    pub action: Action,
    /// Overrides the severity mapped from the alert.
    pub severity: Option<Severity>,
    pub auto_resolve: Option<bool>,
}

impl Route {
    fn matches(&self, source: &str, alert: &Alert) -> bool {
        let source_ok = self.source.as_deref().is_none_or(|s| s == source);
        let labels_ok = self.labels.iter().all(|(k, v)| alert.labels.get(k) == Some(v));
        let title_ok = self.title.as_ref().is_none_or(|re| re.is_match(&alert.title));
        let severity_ok = self.when_severity.as_deref().is_none_or(|wanted| {
            let own = alert
                .severity_label
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(wanted));
            own || alert
                .mapped_severity()
                .is_some_and(|s| s.as_str().eq_ignore_ascii_case(wanted))
        });
        source_ok && labels_ok && title_ok && severity_ok
    }
}

/// A source's defaults, for alerts no route matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    pub action: Action,
    pub auto_resolve: bool,
}

/// The routing decision for one alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routed {
    pub action: Action,
    pub severity: Option<Severity>,
    pub auto_resolve: bool,
}

/// The first route that matches, else the source's defaults.
pub fn route(source: &str, defaults: Defaults, routes: &[Route], alert: &Alert) -> Routed {
    match routes.iter().find(|r| r.matches(source, alert)) {
        Some(route) => Routed {
            action: route.action,
            severity: route.severity.or_else(|| alert.mapped_severity()),
            auto_resolve: route.auto_resolve.unwrap_or(defaults.auto_resolve),
        },
        None => Routed {
            action: defaults.action,
            severity: alert.mapped_severity(),
            auto_resolve: defaults.auto_resolve,
        },
    }
}

/// What the ledger knew of an alert before this delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub status: AlertStatus,
    pub incident: Option<IncidentId>,
    pub ticket: Option<i64>,
}

/// The one thing to do for an alert of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Firing again and already known firing: count it, nothing else.
    Repeat,
    /// A newly firing alert whose group an open incident holds: link it there.
    Join(IncidentId),
    OpenIncident(Routed),
    OpenTicket,
    Drop,
    /// It was firing and has cleared: tell its incident or ticket.
    Cleared(Known),
    /// Resolved, but never seen firing (or cleared already): recorded only.
    Nothing,
}

/// Decides the step for `alert`, given what was `known` of it and the open
/// incident (if any) holding an alert of its group.
pub fn step(alert: &Alert, known: Option<Known>, group_incident: Option<IncidentId>, routed: Routed) -> Step {
    match (alert.status, known) {
        (AlertStatus::Firing, Some(k)) if k.status == AlertStatus::Firing => Step::Repeat,
        (AlertStatus::Firing, _) => match (routed.action, group_incident) {
            (Action::Drop, _) => Step::Drop,
            (Action::Ticket, _) => Step::OpenTicket,
            (Action::Incident, Some(incident)) => Step::Join(incident),
            (Action::Incident, None) => Step::OpenIncident(routed),
        },
        (AlertStatus::Resolved, Some(k)) if k.status == AlertStatus::Firing => Step::Cleared(k),
        (AlertStatus::Resolved, _) => Step::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(status: AlertStatus) -> Alert {
        Alert {
            dedup_key: "fp1".into(),
            group_key: "g1".into(),
            status,
            title: "Checkout latency p99 over 2s".into(),
            severity_label: Some("critical".into()),
            labels: BTreeMap::from([("team".into(), "payments".into())]),
            link: None,
            started_at: None,
            raw: serde_json::Value::Null,
        }
    }

    fn rule(action: Action) -> Route {
        Route {
            source: None,
            labels: BTreeMap::new(),
            title: None,
            when_severity: None,
            action,
            severity: None,
            auto_resolve: None,
        }
    }

    const DEFAULTS: Defaults = Defaults {
        action: Action::Incident,
        auto_resolve: false,
    };

    #[test]
    fn no_route_takes_the_source_default_and_the_mapped_severity() {
        let routed = route("prod-am", DEFAULTS, &[], &alert(AlertStatus::Firing));
        assert_eq!(routed.action, Action::Incident);
        assert_eq!(routed.severity, Some(Severity::Sev1));
        assert!(!routed.auto_resolve);
    }

    #[test]
    fn the_first_matching_route_wins_and_overrides() {
        let mut other_source = rule(Action::Drop);
        other_source.source = Some("staging".into());
        let mut payments = rule(Action::Ticket);
        payments.labels = BTreeMap::from([("team".into(), "payments".into())]);
        payments.severity = Some(Severity::Sev3);
        payments.auto_resolve = Some(true);
        let routes = [other_source, payments, rule(Action::Drop)];
        let routed = route("prod-am", DEFAULTS, &routes, &alert(AlertStatus::Firing));
        assert_eq!(
            routed,
            Routed {
                action: Action::Ticket,
                severity: Some(Severity::Sev3),
                auto_resolve: true
            }
        );
    }

    #[test]
    fn every_matcher_must_match() {
        let mut route_ = rule(Action::Drop);
        route_.labels = BTreeMap::from([("team".into(), "payments".into()), ("env".into(), "prod".into())]);
        assert_eq!(
            route("s", DEFAULTS, &[route_], &alert(AlertStatus::Firing)).action,
            Action::Incident
        );
        let mut by_title = rule(Action::Drop);
        by_title.title = Some(Regex::new("(?i)latency").unwrap());
        by_title.when_severity = Some("sev1".into());
        assert_eq!(
            route("s", DEFAULTS, &[by_title.clone()], &alert(AlertStatus::Firing)).action,
            Action::Drop
        );
        by_title.when_severity = Some("warning".into());
        assert_eq!(
            route("s", DEFAULTS, &[by_title], &alert(AlertStatus::Firing)).action,
            Action::Incident
        );
    }

    #[test]
    fn steps_follow_what_is_known() {
        let routed = route("s", DEFAULTS, &[], &alert(AlertStatus::Firing));
        let firing = Known {
            status: AlertStatus::Firing,
            incident: Some(7),
            ticket: None,
        };
        let cleared = Known {
            status: AlertStatus::Resolved,
            ..firing
        };
        let firing_alert = alert(AlertStatus::Firing);
        let resolved_alert = alert(AlertStatus::Resolved);
        assert_eq!(step(&firing_alert, None, None, routed), Step::OpenIncident(routed));
        assert_eq!(step(&firing_alert, None, Some(3), routed), Step::Join(3));
        assert_eq!(step(&firing_alert, Some(firing), Some(3), routed), Step::Repeat);
        assert_eq!(
            step(&firing_alert, Some(cleared), None, routed),
            Step::OpenIncident(routed)
        );
        assert_eq!(step(&resolved_alert, Some(firing), None, routed), Step::Cleared(firing));
        assert_eq!(step(&resolved_alert, Some(cleared), None, routed), Step::Nothing);
        assert_eq!(step(&resolved_alert, None, None, routed), Step::Nothing);
        let ticket = Routed {
            action: Action::Ticket,
            ..routed
        };
        assert_eq!(step(&firing_alert, None, Some(3), ticket), Step::OpenTicket);
    }
}
