//! Which reminders an incident needs, as a pure function of what just
//! happened: the severity prompt while no severity is set, and the
//! customer-update nudge on the severity's cadence while unresolved.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Happened, Incident, Severity};

/// The kinds of incident timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// Asks for a severity until one is set.
    SeverityPrompt,
    /// Asks the lead for a customer update on the severity's cadence.
    UpdateNudge,
}

impl TimerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::SeverityPrompt => "severity_prompt",
            TimerKind::UpdateNudge => "update_nudge",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "severity_prompt" => Some(TimerKind::SeverityPrompt),
            "update_nudge" => Some(TimerKind::UpdateNudge),
            _ => None,
        }
    }

    /// How `/incident reminders` names it.
    pub fn label(self) -> &'static str {
        match self {
            TimerKind::SeverityPrompt => "Severity prompt",
            TimerKind::UpdateNudge => "Customer-update nudge",
        }
    }
}

/// A change to an incident's timers, applied in the same transaction as the
/// change that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerChange {
    /// Creates the timer, or re-times the live one of that kind.
    Schedule {
        kind: TimerKind,
        due_at: DateTime<Utc>,
        every: Duration,
    },
    Cancel {
        kind: TimerKind,
    },
}

/// Cadences from the configuration.
pub trait Cadence {
    fn severity_prompt_every(&self) -> Duration;
    fn update_every(&self, severity: Severity) -> Duration;
}

fn schedule(kind: TimerKind, every: Duration, now: DateTime<Utc>) -> TimerChange {
    let due_at = now + chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX);
    TimerChange::Schedule { kind, due_at, every }
}

/// Timers for a newly declared incident.
pub fn on_declare(incident: &Incident, cadence: &dyn Cadence, now: DateTime<Utc>) -> Vec<TimerChange> {
    match incident.severity {
        None => vec![schedule(
            TimerKind::SeverityPrompt,
            cadence.severity_prompt_every(),
            now,
        )],
        Some(severity) => vec![schedule(TimerKind::UpdateNudge, cadence.update_every(severity), now)],
    }
}

/// Timers after `happened` turned an incident into `incident`.
pub fn on_change(
    incident: &Incident,
    happened: &Happened,
    cadence: &dyn Cadence,
    now: DateTime<Utc>,
) -> Vec<TimerChange> {
    let nudge = |severity| schedule(TimerKind::UpdateNudge, cadence.update_every(severity), now);
    match (happened, incident.severity) {
        (Happened::SeverityChanged { .. }, Some(severity)) => {
            vec![
                TimerChange::Cancel {
                    kind: TimerKind::SeverityPrompt,
                },
                nudge(severity),
            ]
        }
        // Each update restarts the cadence.
        (Happened::CustomerUpdate(_), Some(severity)) => vec![nudge(severity)],
        (Happened::Resolved { .. }, _) => vec![
            TimerChange::Cancel {
                kind: TimerKind::SeverityPrompt,
            },
            TimerChange::Cancel {
                kind: TimerKind::UpdateNudge,
            },
        ],
        (Happened::Reopened { .. }, _) => on_declare(incident, cadence, now),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IncidentDraft;

    struct Fixed;
    impl Cadence for Fixed {
        fn severity_prompt_every(&self) -> Duration {
            Duration::from_secs(300)
        }
        fn update_every(&self, severity: Severity) -> Duration {
            Duration::from_secs(if severity == Severity::Sev1 { 1800 } else { 3600 })
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn without_severity_the_prompt_runs_with_it_the_nudge() {
        let unset = IncidentDraft::declare("x", None, false, "U1", at(0)).into_incident(1);
        assert_eq!(
            on_declare(&unset, &Fixed, at(0)),
            [TimerChange::Schedule {
                kind: TimerKind::SeverityPrompt,
                due_at: at(300),
                every: Duration::from_secs(300)
            }]
        );
        let set = IncidentDraft::declare("x", Some(Severity::Sev1), false, "U1", at(0)).into_incident(1);
        assert_eq!(
            on_declare(&set, &Fixed, at(0)),
            [TimerChange::Schedule {
                kind: TimerKind::UpdateNudge,
                due_at: at(1800),
                every: Duration::from_secs(1800)
            }]
        );
    }

    #[test]
    fn setting_severity_stops_the_prompt_and_starts_the_cadence() {
        let mut incident = IncidentDraft::declare("x", None, false, "U1", at(0)).into_incident(1);
        incident.severity = Some(Severity::Sev2);
        let happened = Happened::SeverityChanged {
            from: None,
            to: Severity::Sev2,
        };
        assert_eq!(
            on_change(&incident, &happened, &Fixed, at(60)),
            [
                TimerChange::Cancel {
                    kind: TimerKind::SeverityPrompt
                },
                TimerChange::Schedule {
                    kind: TimerKind::UpdateNudge,
                    due_at: at(3660),
                    every: Duration::from_secs(3600)
                }
            ]
        );
    }

    #[test]
    fn updates_restart_and_resolution_cancels() {
        let incident = IncidentDraft::declare("x", Some(Severity::Sev1), false, "U1", at(0)).into_incident(1);
        let restarted = on_change(&incident, &Happened::CustomerUpdate("u".into()), &Fixed, at(100));
        assert_eq!(
            restarted,
            [TimerChange::Schedule {
                kind: TimerKind::UpdateNudge,
                due_at: at(1900),
                every: Duration::from_secs(1800)
            }]
        );
        let resolved = on_change(&incident, &Happened::Resolved { summary: None }, &Fixed, at(200));
        assert!(resolved.iter().all(|c| matches!(c, TimerChange::Cancel { .. })) && resolved.len() == 2);
        assert!(on_change(&incident, &Happened::Noted("n".into()), &Fixed, at(1)).is_empty());
    }
}
