//! The `/incident stats` reply: MTTD, MTTA, MTTM and MTTR overall, by severity and
//! by week, comms-SLO adherence, and the failure recurrence rate.

use std::time::Duration;

use super::markdown::human;
use crate::domain::incident_metrics::Aggregate;
use crate::domain::recurrence::MonthlyRecurrence;

/// What the stats reply reports.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub window: Duration,
    pub overall: Aggregate,
    pub reopened: usize,
    pub by_severity: Vec<(String, Aggregate)>,
    pub by_week: Vec<(String, Aggregate)>,
    pub zone: String,
    pub recurrence: Vec<MonthlyRecurrence>,
}

fn or_dash(value: Option<Duration>) -> String {
    value.map(human).unwrap_or_else(|| "—".into())
}

fn line(aggregate: &Aggregate) -> String {
    let adherence = aggregate
        .comms_adherence
        .map(|a| format!(", comms SLO {:.0}%", a * 100.0))
        .unwrap_or_default();
    format!(
        "{} incident{} — MTTD {}, MTTA {}, MTTM {}, MTTR {}{adherence}",
        aggregate.incidents,
        if aggregate.incidents == 1 { "" } else { "s" },
        or_dash(aggregate.mttd),
        or_dash(aggregate.mtta),
        or_dash(aggregate.mttm),
        or_dash(aggregate.mttr)
    )
}

/// The reply text (mrkdwn).
pub fn render(stats: &Stats) -> String {
    let overall = &stats.overall;
    let mut text = format!(
        ":bar_chart: *Incident stats, last {}*\n*{}* ({} acknowledged, {} resolved, {} reopened)\n",
        human(stats.window),
        line(overall),
        overall.acknowledged,
        overall.resolved,
        stats.reopened
    );
    if overall.incidents == 0 {
        return format!(":bar_chart: No incidents in the last {}.", human(stats.window));
    }
    text.push_str("*By worst severity*\n");
    for (severity, aggregate) in &stats.by_severity {
        text.push_str(&format!("• {severity}: {}\n", line(aggregate)));
    }
    text.push_str(&format!("*By week* ({})\n", stats.zone));
    for (week, aggregate) in stats.by_week.iter().rev().take(8) {
        text.push_str(&format!("• {week}: {}\n", line(aggregate)));
    }
    if !stats.recurrence.is_empty() {
        text.push_str(&format!(
            "*Failure recurrence:* {}\n",
            super::failures::recent_recurrence(&stats.recurrence)
        ));
    }
    text.push_str(
        "_MTTD: impact start → detection (incidents with an impact start only). \
         MTTA: declaration → first responder action. MTTR: declaration → final resolution._",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reply_shows_overall_severity_and_week_lines() {
        let minutes = |n: u64| Some(Duration::from_secs(n * 60));
        let aggregate = Aggregate {
            incidents: 2,
            detected: 1,
            acknowledged: 2,
            resolved: 1,
            mttd: minutes(12),
            mtta: minutes(6),
            mttm: minutes(30),
            mttr: minutes(80),
            comms_adherence: Some(0.75),
        };
        let stats = Stats {
            window: Duration::from_secs(30 * 86_400),
            overall: aggregate.clone(),
            reopened: 1,
            by_severity: vec![("sev1".into(), aggregate.clone())],
            by_week: vec![("2026-W48".into(), aggregate)],
            zone: "UTC".into(),
            recurrence: vec![],
        };
        let text = render(&stats);
        assert!(text.contains("*Incident stats, last 30d*"), "{text}");
        assert!(
            text.contains(
                "*2 incidents — MTTD 12m, MTTA 6m, MTTM 30m, MTTR 1h 20m, comms SLO 75%* (2 acknowledged, 1 resolved, 1 reopened)"
            ),
            "{text}"
        );
        assert!(text.contains("• sev1: 2 incidents"), "{text}");
        assert!(text.contains("• 2026-W48: 2 incidents"), "{text}");
        let empty = Stats {
            window: Duration::from_secs(7 * 86_400),
            ..Stats::default()
        };
        assert_eq!(render(&empty), ":bar_chart: No incidents in the last 7d.");
    }
}
