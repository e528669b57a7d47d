//! Incident metrics: time to acknowledge, mitigate and resolve, time open,
//! customer updates and comms-SLO adherence, downtime cost; and their
//! aggregates (MTTA and MTTR by severity and by week). Pure; time passed in.
//!
//! Definitions, chosen so the numbers match a hand calculation:
//! - **Time to acknowledge**: declaration → first responder action (any
//!   command or control after the declaration). Never acknowledged: none, and
//!   the incident is left out of MTTA (but still counted).
//! - **Time to mitigate**: declaration → first move to `monitoring` (or the
//!   resolution, when it skipped `monitoring`).
//! - **Time to resolve**: declaration → the *final* resolution. A reopened
//!   incident was not fixed the first time, so the clock runs on.
//! - **Time to detect**: impact start → detection (the first alert delivery,
//!   or the declaration of an incident declared by hand). Only incidents with
//!   an impact start (from an alert, or `/incident started`) have one; MTTD
//!   is their mean.
//! - **Time open**: the sum of the periods the incident was open (resolved →
//!   reopened gaps excluded), the first from the impact start when known.
//!   Downtime cost is charged on it, per minute at the severity in force at
//!   the time (before the declaration: the severity it was declared with).
//!
//! All durations are differences of UTC instants, so an incident that spans a
//! daylight-saving change measures the real elapsed time; only the weekly
//! grouping uses the team's time zone.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use super::comms::CommsGap;
use super::{Incident, Severity};

/// What happened to an incident over time, beyond its own fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Each severity and since when, oldest first.
    pub severities: Vec<(DateTime<Utc>, Severity)>,
    /// Every resolution, oldest first.
    pub resolutions: Vec<DateTime<Utc>>,
    /// Every reopening, oldest first.
    pub reopenings: Vec<DateTime<Utc>>,
    /// Customer updates sent.
    pub updates: usize,
    /// Measured gaps between customer updates.
    pub gaps: Vec<CommsGap>,
}

/// One incident's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentMetrics {
    pub time_to_detect: Option<Duration>,
    pub time_to_acknowledge: Option<Duration>,
    pub time_to_mitigate: Option<Duration>,
    pub time_to_resolve: Option<Duration>,
    pub time_open: Duration,
    pub reopened: usize,
    /// The worst severity it ever had (sev1 is worst).
    pub worst_severity: Option<Severity>,
    pub updates: usize,
    pub comms_gaps: usize,
    pub comms_on_time: usize,
    /// Time open under each severity (`None`: before one was set).
    pub open_by_severity: Vec<(Option<Severity>, Duration)>,
}

impl IncidentMetrics {
    /// Share of update gaps that kept the promised cadence; none when there were none.
    pub fn comms_adherence(&self) -> Option<f64> {
        (self.comms_gaps > 0).then(|| self.comms_on_time as f64 / self.comms_gaps as f64)
    }

    /// Downtime cost: minutes open under each severity times its rate.
    pub fn cost(&self, per_minute: impl Fn(Severity) -> Option<f64>) -> Option<f64> {
        let mut total = None;
        for (severity, open) in &self.open_by_severity {
            if let Some(rate) = severity.and_then(&per_minute) {
                *total.get_or_insert(0.0) += rate * open.as_secs_f64() / 60.0;
            }
        }
        total
    }
}

fn since(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    (to - from).to_std().unwrap_or_default()
}

/// The periods the incident was open, up to `now` when it still is.
pub fn open_periods(incident: &Incident, history: &History, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut marks: Vec<(DateTime<Utc>, bool)> = history
        .resolutions
        .iter()
        .map(|at| (*at, false))
        .chain(history.reopenings.iter().map(|at| (*at, true)))
        .collect();
    marks.sort();
    let mut periods = Vec::new();
    let impact_began = incident
        .impact_started_at
        .filter(|at| *at < incident.declared_at)
        .unwrap_or(incident.declared_at);
    let mut opened = Some(impact_began);
    for (at, reopens) in marks {
        match (opened, reopens) {
            (Some(start), false) => {
                periods.push((start, at));
                opened = None;
            }
            (None, true) => opened = Some(at),
            _ => {}
        }
    }
    if let Some(start) = opened {
        let end = if incident.is_open() {
            now
        } else {
            incident.resolved_at.unwrap_or(now)
        };
        periods.push((start, end.max(start)));
    }
    periods
}

/// The severity in force at `at`.
fn severity_at(history: &History, at: DateTime<Utc>) -> Option<Severity> {
    history
        .severities
        .iter()
        .take_while(|(since, _)| *since <= at)
        .last()
        .map(|(_, s)| *s)
}

fn open_by_severity(
    history: &History,
    declared: DateTime<Utc>,
    periods: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<(Option<Severity>, Duration)> {
    let mut totals: BTreeMap<Option<Severity>, Duration> = BTreeMap::new();
    for (start, end) in periods {
        let mut cuts: Vec<DateTime<Utc>> = history
            .severities
            .iter()
            .map(|(at, _)| *at)
            .filter(|at| at > start && at < end)
            .collect();
        if *start < declared && declared < *end {
            cuts.push(declared);
        }
        cuts.sort();
        cuts.insert(0, *start);
        cuts.push(*end);
        for pair in cuts.windows(2) {
            // Before the declaration, the impact had the severity it was declared with.
            let severity = severity_at(history, pair[0].max(declared));
            *totals.entry(severity).or_default() += since(pair[0], pair[1]);
        }
    }
    totals.into_iter().collect()
}

/// Measures one incident as of `now`.
pub fn measure(incident: &Incident, history: &History, now: DateTime<Utc>) -> IncidentMetrics {
    let declared = incident.declared_at;
    let periods = open_periods(incident, history, now);
    let worst = history
        .severities
        .iter()
        .map(|(_, s)| *s)
        .chain(incident.severity)
        .min();
    IncidentMetrics {
        time_to_detect: incident.impact_started_at.map(|at| since(at, incident.detected_at)),
        time_to_acknowledge: incident.acknowledged_at.map(|at| since(declared, at)),
        time_to_mitigate: incident.mitigated_at.map(|at| since(declared, at)),
        time_to_resolve: incident
            .resolved_at
            .filter(|_| !incident.is_open())
            .map(|at| since(declared, at)),
        time_open: periods.iter().map(|(s, e)| since(*s, *e)).sum(),
        reopened: history.reopenings.len(),
        worst_severity: worst,
        updates: history.updates,
        comms_gaps: history.gaps.len(),
        comms_on_time: history.gaps.iter().filter(|g| !g.breached).count(),
        open_by_severity: open_by_severity(history, declared, &periods),
    }
}

/// Means over a group of incidents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Aggregate {
    pub incidents: usize,
    /// Incidents with an impact start, so a time to detect.
    pub detected: usize,
    pub acknowledged: usize,
    pub resolved: usize,
    /// Mean time to detect, over the incidents with an impact start.
    pub mttd: Option<Duration>,
    /// Mean time to acknowledge, over the acknowledged incidents.
    pub mtta: Option<Duration>,
    /// Mean time to mitigate, over the mitigated incidents.
    pub mttm: Option<Duration>,
    /// Mean time to resolve, over the resolved incidents.
    pub mttr: Option<Duration>,
    /// On-time update gaps over all update gaps.
    pub comms_adherence: Option<f64>,
}

fn mean(values: &[Duration]) -> Option<Duration> {
    (!values.is_empty()).then(|| values.iter().sum::<Duration>() / values.len() as u32)
}

/// Aggregates a group of measured incidents.
pub fn aggregate<'a>(measured: impl IntoIterator<Item = &'a IncidentMetrics>) -> Aggregate {
    let measured: Vec<&IncidentMetrics> = measured.into_iter().collect();
    let ttd: Vec<Duration> = measured.iter().filter_map(|m| m.time_to_detect).collect();
    let tta: Vec<Duration> = measured.iter().filter_map(|m| m.time_to_acknowledge).collect();
    let ttm: Vec<Duration> = measured.iter().filter_map(|m| m.time_to_mitigate).collect();
    let ttr: Vec<Duration> = measured.iter().filter_map(|m| m.time_to_resolve).collect();
    let gaps: usize = measured.iter().map(|m| m.comms_gaps).sum();
    let on_time: usize = measured.iter().map(|m| m.comms_on_time).sum();
    Aggregate {
        incidents: measured.len(),
        detected: ttd.len(),
        acknowledged: tta.len(),
        resolved: ttr.len(),
        mttd: mean(&ttd),
        mtta: mean(&tta),
        mttm: mean(&ttm),
        mttr: mean(&ttr),
        comms_adherence: (gaps > 0).then(|| on_time as f64 / gaps as f64),
    }
}

/// Aggregates by worst severity, sev1 first; `"unset"` for incidents never given one.
pub fn by_severity(measured: &[(Incident, IncidentMetrics)]) -> Vec<(String, Aggregate)> {
    // `None` sorts first; it should come last, after sev4.
    let mut groups: BTreeMap<(bool, Option<Severity>), Vec<&IncidentMetrics>> = BTreeMap::new();
    for (_, metrics) in measured {
        let severity = metrics.worst_severity;
        groups.entry((severity.is_none(), severity)).or_default().push(metrics);
    }
    groups
        .into_iter()
        .map(|((_, severity), group)| {
            let label = severity.map(|s| s.to_string()).unwrap_or_else(|| "unset".into());
            (label, aggregate(group))
        })
        .collect()
}

/// The ISO week (`2026-W44`) an instant falls in, in the team's time zone.
pub fn iso_week(at: DateTime<Utc>, zone: Tz) -> String {
    let week = at.with_timezone(&zone).iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

/// Aggregates by the ISO week of declaration in `zone`, oldest week first.
pub fn by_week(measured: &[(Incident, IncidentMetrics)], zone: Tz) -> Vec<(String, Aggregate)> {
    let mut groups: BTreeMap<String, Vec<&IncidentMetrics>> = BTreeMap::new();
    for (incident, metrics) in measured {
        groups
            .entry(iso_week(incident.declared_at, zone))
            .or_default()
            .push(metrics);
    }
    groups
        .into_iter()
        .map(|(week, group)| (week, aggregate(group)))
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::{IncidentDraft, Status};

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 10, hour, minute, 0).unwrap()
    }

    fn minutes(n: u64) -> Duration {
        Duration::from_secs(n * 60)
    }

    fn incident(declared: DateTime<Utc>, severity: Option<Severity>) -> Incident {
        IncidentDraft::declare("API down", severity, false, "U1", declared).into_incident(1)
    }

    fn resolved(mut incident: Incident, at: DateTime<Utc>) -> Incident {
        incident.status = Status::Resolved;
        incident.resolved_at = Some(at);
        incident
    }

    fn gap(breached: bool) -> CommsGap {
        CommsGap {
            severity: Severity::Sev1,
            promised: minutes(30),
            actual: minutes(if breached { 45 } else { 20 }),
            breached,
        }
    }

    #[test]
    fn a_simple_incident_matches_the_hand_calculation() {
        let mut incident = resolved(incident(at(10, 0), Some(Severity::Sev2)), at(11, 30));
        incident.acknowledged_at = Some(at(10, 4));
        incident.mitigated_at = Some(at(10, 50));
        let history = History {
            severities: vec![(at(10, 0), Severity::Sev2)],
            resolutions: vec![at(11, 30)],
            updates: 3,
            gaps: vec![gap(false), gap(true), gap(false)],
            ..History::default()
        };
        let metrics = measure(&incident, &history, at(12, 0));
        assert_eq!(metrics.time_to_acknowledge, Some(minutes(4)));
        assert_eq!(metrics.time_to_mitigate, Some(minutes(50)));
        assert_eq!(metrics.time_to_resolve, Some(minutes(90)));
        assert_eq!(metrics.time_open, minutes(90));
        assert_eq!(metrics.updates, 3);
        assert_eq!(metrics.comms_adherence(), Some(2.0 / 3.0));
    }

    #[test]
    fn a_reopened_incident_resolves_at_its_final_resolution_and_is_open_only_while_open() {
        // Declared 10:00, resolved 10:30, reopened 11:00, resolved again 11:20.
        let mut incident = resolved(incident(at(10, 0), Some(Severity::Sev1)), at(11, 20));
        incident.reopened_at = Some(at(11, 0));
        let history = History {
            severities: vec![(at(10, 0), Severity::Sev1)],
            resolutions: vec![at(10, 30), at(11, 20)],
            reopenings: vec![at(11, 0)],
            ..History::default()
        };
        let metrics = measure(&incident, &history, at(12, 0));
        assert_eq!(metrics.time_to_resolve, Some(minutes(80)));
        assert_eq!(
            metrics.time_open,
            minutes(50),
            "30m + 20m; the resolved half hour is not downtime"
        );
        assert_eq!(metrics.reopened, 1);

        let mut reopened_now = incident.clone();
        reopened_now.status = Status::Investigating;
        reopened_now.resolved_at = None;
        let history = History {
            resolutions: vec![at(10, 30)],
            reopenings: vec![at(11, 0)],
            ..history
        };
        let metrics = measure(&reopened_now, &history, at(11, 45));
        assert_eq!(metrics.time_to_resolve, None, "open again: not resolved");
        assert_eq!(metrics.time_open, minutes(75));
    }

    #[test]
    fn severity_changes_split_time_open_and_cost_and_set_the_worst_severity() {
        // Declared without severity 10:00, sev3 at 10:10, sev1 at 10:40, sev2 at 11:00, resolved 11:30.
        let incident = resolved(incident(at(10, 0), None), at(11, 30));
        let history = History {
            severities: vec![
                (at(10, 10), Severity::Sev3),
                (at(10, 40), Severity::Sev1),
                (at(11, 0), Severity::Sev2),
            ],
            resolutions: vec![at(11, 30)],
            ..History::default()
        };
        let metrics = measure(&incident, &history, at(12, 0));
        assert_eq!(metrics.worst_severity, Some(Severity::Sev1));
        assert_eq!(
            metrics.open_by_severity,
            [
                (None, minutes(10)),
                (Some(Severity::Sev1), minutes(20)),
                (Some(Severity::Sev2), minutes(30)),
                (Some(Severity::Sev3), minutes(30)),
            ]
        );
        let rate = |s: Severity| match s {
            Severity::Sev1 => Some(100.0),
            Severity::Sev2 => Some(10.0),
            _ => None,
        };
        assert_eq!(metrics.cost(rate), Some(20.0 * 100.0 + 30.0 * 10.0));
        assert_eq!(metrics.cost(|_| None), None, "no rates configured, no cost");
    }

    #[test]
    fn incidents_never_acknowledged_are_counted_but_left_out_of_mtta() {
        let mut quick = resolved(incident(at(10, 0), Some(Severity::Sev1)), at(10, 40));
        quick.acknowledged_at = Some(at(10, 2));
        let mut slow = resolved(incident(at(12, 0), Some(Severity::Sev1)), at(14, 0));
        slow.acknowledged_at = Some(at(12, 10));
        let silent = incident(at(13, 0), Some(Severity::Sev2));
        let measured: Vec<(Incident, IncidentMetrics)> = [quick, slow, silent]
            .into_iter()
            .map(|i| {
                let m = measure(&i, &History::default(), at(15, 0));
                (i, m)
            })
            .collect();
        assert_eq!(measured[2].1.time_to_acknowledge, None);
        let all = aggregate(measured.iter().map(|(_, m)| m));
        assert_eq!((all.incidents, all.acknowledged, all.resolved), (3, 2, 2));
        assert_eq!(all.mtta, Some(minutes(6)), "(2m + 10m) / 2");
        assert_eq!(all.mttr, Some(minutes(80)), "(40m + 120m) / 2");
        let severities = by_severity(&measured);
        assert_eq!(severities[0].0, "sev1");
        assert_eq!(severities[0].1.mttr, Some(minutes(80)));
        assert_eq!((severities[1].0.as_str(), severities[1].1.mtta), ("sev2", None));
    }

    #[test]
    fn incidents_spanning_a_dst_change_measure_real_time_and_group_by_local_week() {
        // New York falls back on Sunday 2026-11-01: 00:30 EDT (04:30 UTC) to
        // 01:30 EST (06:30 UTC) reads as one hour on the wall and lasted two.
        let declared = Utc.with_ymd_and_hms(2026, 11, 1, 4, 30, 0).unwrap();
        let incident = resolved(
            incident(declared, Some(Severity::Sev2)),
            declared + chrono::Duration::hours(2),
        );
        let history = History {
            resolutions: vec![declared + chrono::Duration::hours(2)],
            ..History::default()
        };
        let metrics = measure(&incident, &history, declared + chrono::Duration::hours(5));
        assert_eq!(metrics.time_to_resolve, Some(minutes(120)));
        // Berlin springs forward on 2026-03-29: 01:30 CET to 03:30 CEST is one hour.
        let berlin = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
        let spring = resolved(incident_at(berlin), berlin + chrono::Duration::hours(1));
        assert_eq!(
            measure(&spring, &History::default(), berlin + chrono::Duration::hours(3)).time_to_resolve,
            Some(minutes(60))
        );
        // Sunday 23:30 in New York is already Monday in UTC: the team's week counts.
        let late_sunday = Utc.with_ymd_and_hms(2026, 11, 2, 4, 30, 0).unwrap();
        assert_eq!(iso_week(late_sunday, chrono_tz::America::New_York), "2026-W44");
        assert_eq!(iso_week(late_sunday, chrono_tz::UTC), "2026-W45");
        let weekly = by_week(&[(incident.clone(), metrics)], chrono_tz::America::New_York);
        assert_eq!(weekly[0].0, "2026-W44");
    }

    #[test]
    fn time_to_detect_and_cost_count_from_the_impact_start() {
        // Impact 09:48, first alert 10:00 (declared then, sev1), resolved 10:30.
        let mut alerted = resolved(incident(at(10, 0), Some(Severity::Sev1)), at(10, 30));
        alerted.impact_started_at = Some(at(9, 48));
        // Impact 13:00 set by hand, declared 13:20, resolved 14:00.
        let mut by_hand = resolved(incident(at(13, 20), Some(Severity::Sev2)), at(14, 0));
        by_hand.impact_started_at = Some(at(13, 0));
        // No impact start: no time to detect, left out of MTTD.
        let unknown = resolved(incident(at(15, 0), Some(Severity::Sev2)), at(15, 10));
        let history = |severity, declared, end| History {
            severities: vec![(declared, severity)],
            resolutions: vec![end],
            ..History::default()
        };
        let measured: Vec<(Incident, IncidentMetrics)> = [
            (alerted, history(Severity::Sev1, at(10, 0), at(10, 30))),
            (by_hand, history(Severity::Sev2, at(13, 20), at(14, 0))),
            (unknown, history(Severity::Sev2, at(15, 0), at(15, 10))),
        ]
        .into_iter()
        .map(|(i, h)| {
            let m = measure(&i, &h, at(16, 0));
            (i, m)
        })
        .collect();
        assert_eq!(measured[0].1.time_to_detect, Some(minutes(12)));
        assert_eq!(measured[1].1.time_to_detect, Some(minutes(20)));
        assert_eq!(measured[2].1.time_to_detect, None);
        assert_eq!(measured[0].1.time_open, minutes(42), "09:48 → 10:30");
        assert_eq!(
            measured[0].1.open_by_severity,
            [(Some(Severity::Sev1), minutes(42))],
            "before the declaration at the severity it was declared with"
        );
        assert_eq!(measured[0].1.cost(|_| Some(10.0)), Some(420.0));
        assert_eq!(
            measured[0].1.time_to_resolve,
            Some(minutes(30)),
            "MTTR still from the declaration"
        );
        let all = aggregate(measured.iter().map(|(_, m)| m));
        assert_eq!((all.incidents, all.detected), (3, 2));
        assert_eq!(all.mttd, Some(minutes(16)), "(12m + 20m) / 2");
        let severities = by_severity(&measured);
        assert_eq!(severities[0].1.mttd, Some(minutes(12)), "sev1");
        assert_eq!(severities[1].1.mttd, Some(minutes(20)), "sev2: the one with a start");
    }

    fn incident_at(declared: DateTime<Utc>) -> Incident {
        incident(declared, Some(Severity::Sev1))
    }
}
