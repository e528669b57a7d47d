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
    /// Reminds the lead of the post-mortem until it is marked done.
    PostmortemReminder,
    /// Reminds an action item's owner when it is due, then daily until done.
    ActionReminder,
    /// Summarises the alerts that joined the incident since the last post.
    AlertSummary,
}

impl TimerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::SeverityPrompt => "severity_prompt",
            TimerKind::UpdateNudge => "update_nudge",
            TimerKind::PostmortemReminder => "postmortem_reminder",
            TimerKind::ActionReminder => "action_reminder",
            TimerKind::AlertSummary => "alert_summary",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "severity_prompt" => Some(TimerKind::SeverityPrompt),
            "update_nudge" => Some(TimerKind::UpdateNudge),
            "postmortem_reminder" => Some(TimerKind::PostmortemReminder),
            "action_reminder" => Some(TimerKind::ActionReminder),
            "alert_summary" => Some(TimerKind::AlertSummary),
            _ => None,
        }
    }

    /// How `/incident reminders` names it.
    pub fn label(self) -> &'static str {
        match self {
            TimerKind::SeverityPrompt => "Severity prompt",
            TimerKind::UpdateNudge => "Customer-update nudge",
            TimerKind::PostmortemReminder => "Post-mortem reminder",
            TimerKind::ActionReminder => "Action item reminder",
            TimerKind::AlertSummary => "Summary of joined alerts",
        }
    }
}

/// A change to an incident's timers, applied in the same transaction as the
/// change that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerChange {
    /// Creates the timer, or re-times the live one of that kind and subject.
    Schedule {
        kind: TimerKind,
        subject: i64,
        due_at: DateTime<Utc>,
        every: Duration,
    },
    Cancel {
        kind: TimerKind,
        subject: i64,
    },
}

/// Incident-wide timers have subject 0; action reminders use the item's id.
pub const INCIDENT: i64 = 0;

/// How often an overdue action item's owner is reminded.
pub const ACTION_REMINDER_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Cadences from the configuration.
pub trait Cadence {
    fn severity_prompt_every(&self) -> Duration;
    fn update_every(&self, severity: Severity) -> Duration;
    fn postmortem_due_after(&self) -> Duration;
    fn postmortem_remind_every(&self) -> Duration;
}

fn after(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    super::clock::later(now, wait)
}

fn schedule(kind: TimerKind, every: Duration, now: DateTime<Utc>) -> TimerChange {
    TimerChange::Schedule {
        kind,
        subject: INCIDENT,
        due_at: after(now, every),
        every,
    }
}

fn cancel(kind: TimerKind) -> TimerChange {
    TimerChange::Cancel {
        kind,
        subject: INCIDENT,
    }
}

/// The reminder for a new action item with a due date.
pub fn for_action_item(action_item_id: i64, due_at: DateTime<Utc>) -> TimerChange {
    TimerChange::Schedule {
        kind: TimerKind::ActionReminder,
        subject: action_item_id,
        due_at,
        every: ACTION_REMINDER_EVERY,
    }
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
        (Happened::SeverityChanged { .. }, Some(severity)) => vec![cancel(TimerKind::SeverityPrompt), nudge(severity)],
        // Each update restarts the cadence.
        (Happened::CustomerUpdate(_), Some(severity)) => vec![nudge(severity)],
        (Happened::Resolved { .. }, _) => vec![
            cancel(TimerKind::SeverityPrompt),
            cancel(TimerKind::UpdateNudge),
            TimerChange::Schedule {
                kind: TimerKind::PostmortemReminder,
                subject: INCIDENT,
                due_at: after(now, cadence.postmortem_due_after()),
                every: cadence.postmortem_remind_every(),
            },
        ],
        (Happened::Reopened { .. }, _) => {
            let mut changes = vec![cancel(TimerKind::PostmortemReminder)];
            changes.extend(on_declare(incident, cadence, now));
            changes
        }
        (Happened::PostmortemDone { .. }, _) => vec![cancel(TimerKind::PostmortemReminder)],
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
        fn postmortem_due_after(&self) -> Duration {
            Duration::from_secs(48 * 3600)
        }
        fn postmortem_remind_every(&self) -> Duration {
            Duration::from_secs(24 * 3600)
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn every(kind: TimerKind, due: i64, seconds: u64) -> TimerChange {
        TimerChange::Schedule {
            kind,
            subject: INCIDENT,
            due_at: at(due),
            every: Duration::from_secs(seconds),
        }
    }

    #[test]
    fn without_severity_the_prompt_runs_with_it_the_nudge() {
        let unset = IncidentDraft::declare("x", None, false, "U1", at(0)).into_incident(1);
        assert_eq!(
            on_declare(&unset, &Fixed, at(0)),
            [every(TimerKind::SeverityPrompt, 300, 300)]
        );
        let set = IncidentDraft::declare("x", Some(Severity::Sev1), false, "U1", at(0)).into_incident(1);
        assert_eq!(
            on_declare(&set, &Fixed, at(0)),
            [every(TimerKind::UpdateNudge, 1800, 1800)]
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
                cancel(TimerKind::SeverityPrompt),
                every(TimerKind::UpdateNudge, 3660, 3600)
            ]
        );
    }

    #[test]
    fn updates_restart_resolution_cancels_and_starts_the_post_mortem_clock() {
        let incident = IncidentDraft::declare("x", Some(Severity::Sev1), false, "U1", at(0)).into_incident(1);
        let restarted = on_change(&incident, &Happened::CustomerUpdate("u".into()), &Fixed, at(100));
        assert_eq!(restarted, [every(TimerKind::UpdateNudge, 1900, 1800)]);
        let resolved = on_change(&incident, &Happened::Resolved { summary: None }, &Fixed, at(200));
        assert_eq!(
            resolved,
            [
                cancel(TimerKind::SeverityPrompt),
                cancel(TimerKind::UpdateNudge),
                every(TimerKind::PostmortemReminder, 200 + 48 * 3600, 86400)
            ]
        );
        let done = on_change(&incident, &Happened::PostmortemDone { link: None }, &Fixed, at(300));
        assert_eq!(done, [cancel(TimerKind::PostmortemReminder)]);
        assert!(on_change(&incident, &Happened::Noted("n".into()), &Fixed, at(1)).is_empty());
    }

    #[test]
    fn action_items_are_reminded_daily_from_their_due_date() {
        assert_eq!(
            for_action_item(7, at(500)),
            TimerChange::Schedule {
                kind: TimerKind::ActionReminder,
                subject: 7,
                due_at: at(500),
                every: ACTION_REMINDER_EVERY
            }
        );
    }
}
