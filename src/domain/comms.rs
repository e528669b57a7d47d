//! The comms SLO: did customers hear from us as often as the severity
//! promised? Each gap between updates (or from when the cadence started to
//! the first update, or to resolution) is measured against the promise.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Happened, Incident, Severity};

/// One measured gap between customer updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommsGap {
    pub severity: Severity,
    pub promised: Duration,
    pub actual: Duration,
    pub breached: bool,
}

/// The gap that `happened` closes, if it closes one: a customer update, or
/// resolution, on an incident whose update cadence was running.
pub fn closed_gap(
    before: &Incident,
    happened: &Happened,
    promised: impl Fn(Severity) -> Duration,
    now: DateTime<Utc>,
) -> Option<CommsGap> {
    if !matches!(happened, Happened::CustomerUpdate(_) | Happened::Resolved { .. }) {
        return None;
    }
    let (severity, anchor) = (before.severity?, before.cadence_anchor_at?);
    let actual = (now - anchor).to_std().unwrap_or_default();
    let promised = promised(severity);
    Some(CommsGap {
        severity,
        promised,
        actual,
        breached: actual > promised,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IncidentDraft;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).unwrap()
    }

    fn thirty_minutes(_: Severity) -> Duration {
        Duration::from_secs(1800)
    }

    #[test]
    fn a_late_update_is_a_breach_and_a_timely_one_is_not() {
        let incident = IncidentDraft::declare("x", Some(Severity::Sev1), false, "U1", at(0)).into_incident(1);
        let late = closed_gap(&incident, &Happened::CustomerUpdate("u".into()), thirty_minutes, at(47)).unwrap();
        assert_eq!((late.actual, late.breached), (Duration::from_secs(47 * 60), true));
        let timely = closed_gap(&incident, &Happened::CustomerUpdate("u".into()), thirty_minutes, at(20)).unwrap();
        assert!(!timely.breached);
    }

    #[test]
    fn no_cadence_no_gap() {
        let unset = IncidentDraft::declare("x", None, false, "U1", at(0)).into_incident(1);
        assert_eq!(
            closed_gap(&unset, &Happened::CustomerUpdate("u".into()), thirty_minutes, at(5)),
            None
        );
        let set = IncidentDraft::declare("x", Some(Severity::Sev2), false, "U1", at(0)).into_incident(1);
        assert_eq!(
            closed_gap(&set, &Happened::Noted("n".into()), thirty_minutes, at(5)),
            None
        );
        assert!(
            closed_gap(&set, &Happened::Resolved { summary: None }, thirty_minutes, at(45))
                .unwrap()
                .breached
        );
    }
}
