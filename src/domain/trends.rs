//! What the dashboard's charts plot: for each of the last weeks (ISO weeks
//! in the team's zone, empty ones included) the MTTD / MTTA / MTTR, the
//! incidents by worst severity and the comms-SLO adherence; for each of the
//! last months (UTC) the failure recurrence rate and the downtime cost.
//! Pure: measured incidents, ticket captures and the time come in.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use super::incident_metrics::{self, Aggregate, IncidentMetrics, iso_week};
use super::recurrence::{self, MonthlyRecurrence};
use super::{Incident, Severity};

/// One week's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Week {
    /// `2026-W49`.
    pub label: String,
    pub aggregate: Aggregate,
    /// Incidents by worst severity: sev1..sev4, then unset.
    pub by_severity: [u32; 5],
}

/// One month's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Month {
    /// `2026-12`.
    pub label: String,
    pub recurrence: MonthlyRecurrence,
    /// Downtime cost of the incidents declared that month; `None` without rates.
    pub cost: Option<f64>,
}

/// Everything the charts show.
#[derive(Debug, Clone, PartialEq)]
pub struct Trends {
    pub weeks: Vec<Week>,
    pub months: Vec<Month>,
}

/// The labels of the `count` weeks up to `now`'s, oldest first.
fn week_labels(now: DateTime<Utc>, zone: Tz, count: usize) -> Vec<String> {
    let mut labels: Vec<String> = (0..count)
        .rev()
        .map(|back| iso_week(now - chrono::Duration::weeks(back as i64), zone))
        .collect();
    labels.dedup();
    labels
}

/// The labels of the `count` months up to `now`'s (UTC), oldest first.
fn month_labels(now: DateTime<Utc>, count: u32) -> Vec<String> {
    let months_since_zero = now.year() * 12 + now.month0() as i32;
    (0..count as i32)
        .rev()
        .map(|back| {
            let m = months_since_zero - back;
            format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1)
        })
        .collect()
}

fn severity_slot(severity: Option<Severity>) -> usize {
    match severity {
        Some(Severity::Sev1) => 0,
        Some(Severity::Sev2) => 1,
        Some(Severity::Sev3) => 2,
        Some(Severity::Sev4) => 3,
        None => 4,
    }
}

/// The trends over `weeks` weeks and `months` months up to `now`.
pub fn trends(
    measured: &[(Incident, IncidentMetrics)],
    captures: &[(DateTime<Utc>, bool)],
    per_minute: impl Fn(Severity) -> Option<f64>,
    now: DateTime<Utc>,
    zone: Tz,
    (weeks, months): (usize, u32),
) -> Trends {
    let mut by_week: BTreeMap<String, Vec<&(Incident, IncidentMetrics)>> = BTreeMap::new();
    for pair in measured {
        by_week
            .entry(iso_week(pair.0.declared_at, zone))
            .or_default()
            .push(pair);
    }
    let weeks = week_labels(now, zone, weeks)
        .into_iter()
        .map(|label| {
            let group = by_week.remove(&label).unwrap_or_default();
            let mut by_severity = [0u32; 5];
            for (_, metrics) in &group {
                by_severity[severity_slot(metrics.worst_severity)] += 1;
            }
            Week {
                aggregate: incident_metrics::aggregate(group.iter().map(|(_, m)| m)),
                label,
                by_severity,
            }
        })
        .collect();
    let mut recurrence: BTreeMap<String, MonthlyRecurrence> = recurrence::by_month(captures)
        .into_iter()
        .map(|m| (m.month.clone(), m))
        .collect();
    let mut cost: BTreeMap<String, f64> = BTreeMap::new();
    let mut any_rate = false;
    for (incident, metrics) in measured {
        if let Some(amount) = metrics.cost(&per_minute) {
            any_rate = true;
            *cost
                .entry(incident.declared_at.format("%Y-%m").to_string())
                .or_default() += amount;
        }
    }
    let months = month_labels(now, months)
        .into_iter()
        .map(|label| Month {
            recurrence: recurrence.remove(&label).unwrap_or(MonthlyRecurrence {
                month: label.clone(),
                tickets: 0,
                recurring: 0,
            }),
            cost: any_rate.then(|| cost.get(&label).copied().unwrap_or(0.0)),
            label,
        })
        .collect();
    Trends { weeks, months }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::IncidentDraft;
    use crate::domain::incident_metrics::{History, measure};

    fn at(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, month, day, hour, 0, 0).unwrap()
    }

    fn resolved(declared: DateTime<Utc>, severity: Severity, minutes: i64) -> (Incident, IncidentMetrics) {
        let mut incident = IncidentDraft::declare("x", Some(severity), false, "U1", declared).into_incident(1);
        let end = declared + chrono::Duration::minutes(minutes);
        incident.status = crate::domain::Status::Resolved;
        incident.resolved_at = Some(end);
        let history = History {
            severities: vec![(declared, severity)],
            resolutions: vec![end],
            ..History::default()
        };
        let metrics = measure(&incident, &history, end);
        (incident, metrics)
    }

    #[test]
    fn weeks_and_months_match_the_hand_calculation_and_keep_empty_periods() {
        let now = at(12, 2, 12);
        let measured = vec![
            resolved(at(11, 30, 9), Severity::Sev1, 60), // W49 (Mon 30 Nov)
            resolved(at(12, 1, 9), Severity::Sev2, 120), // W49
            resolved(at(11, 18, 9), Severity::Sev1, 30), // W47
        ];
        let captures = vec![(at(11, 3, 1), false), (at(11, 4, 1), true), (at(12, 1, 1), true)];
        let rate = |s: Severity| (s == Severity::Sev1).then_some(10.0);
        let trends = trends(&measured, &captures, rate, now, chrono_tz::UTC, (4, 3));
        let labels: Vec<&str> = trends.weeks.iter().map(|w| w.label.as_str()).collect();
        assert_eq!(labels, ["2026-W46", "2026-W47", "2026-W48", "2026-W49"]);
        assert_eq!(trends.weeks[0].aggregate.incidents, 0, "an empty week is still a week");
        assert_eq!(trends.weeks[1].by_severity, [1, 0, 0, 0, 0]);
        assert_eq!(trends.weeks[3].by_severity, [1, 1, 0, 0, 0]);
        assert_eq!(
            trends.weeks[3].aggregate.mttr,
            Some(std::time::Duration::from_secs(90 * 60)),
            "(60m + 120m) / 2"
        );
        let months: Vec<&str> = trends.months.iter().map(|m| m.label.as_str()).collect();
        assert_eq!(months, ["2026-10", "2026-11", "2026-12"]);
        assert_eq!(trends.months[1].recurrence.rate(), 0.5);
        assert_eq!(trends.months[2].recurrence.rate(), 1.0);
        assert_eq!(trends.months[0].cost, Some(0.0));
        assert_eq!(
            trends.months[1].cost,
            Some(10.0 * 60.0 + 10.0 * 30.0),
            "two sev1 hours' worth in November"
        );
        assert_eq!(trends.months[2].cost, Some(0.0), "sev2 has no rate");
    }

    #[test]
    fn month_labels_cross_the_year() {
        assert_eq!(month_labels(at(1, 15, 0), 3), ["2025-11", "2025-12", "2026-01"]);
    }
}
