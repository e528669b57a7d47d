//! The measured part of a post-mortem: summary facts, impact, the one-page
//! audit (expected / happened / why) and the incident's metrics.

use std::fmt::Write;
use std::time::Duration;

use super::{PostmortemSource, after, to_write, when};
use crate::config::CostSettings;
use crate::domain::Severity;
use crate::views::markdown::{human, markdown};

pub(super) fn summary(doc: &mut String, source: &PostmortemSource) {
    let incident = &source.incident;
    let _ = writeln!(doc, "## Summary\n");
    match incident.summary.as_deref() {
        Some(summary) => {
            let _ = writeln!(doc, "{}\n", markdown(summary));
        }
        None => {
            let _ = writeln!(
                doc,
                "{}\n",
                to_write("what broke, who was affected, and how it was fixed, in three sentences")
            );
        }
    }
    let severity = incident
        .severity
        .map(|s| s.to_string())
        .unwrap_or_else(|| "not set".into());
    let channel = incident
        .channel_name
        .as_deref()
        .map(|n| format!("#{n}"))
        .unwrap_or_else(|| "—".into());
    let lead = incident
        .lead
        .as_deref()
        .map(|l| format!("@{l}"))
        .unwrap_or_else(|| "—".into());
    let resolved = incident.resolved_at.map(when).unwrap_or_else(|| "not resolved".into());
    let _ = writeln!(doc, "| | |\n|---|---|");
    for (field, value) in [
        (
            "Declared",
            match incident.alert_source() {
                Some(source) => format!("{} by `{source}` alerts", when(incident.declared_at)),
                None => format!("{} by @{}", when(incident.declared_at), incident.declared_by),
            },
        ),
        ("Resolved", resolved),
        ("Severity", severity),
        ("Status", incident.status.to_string()),
        ("Lead", lead),
        ("Channel", channel),
    ] {
        let _ = writeln!(doc, "| {field} | {value} |");
    }
    doc.push('\n');
}

pub(super) fn impact(doc: &mut String, source: &PostmortemSource, cost: &CostSettings) {
    let metrics = &source.metrics;
    let _ = writeln!(doc, "## Impact\n");
    let reopened = match metrics.reopened {
        0 => String::new(),
        1 => ", reopened once".into(),
        n => format!(", reopened {n} times"),
    };
    let _ = writeln!(doc, "- **Duration:** open {}{reopened}", human(metrics.time_open));
    let history: Vec<String> = source
        .severities
        .iter()
        .map(|(at, s)| format!("{s} from {}", at.format("%H:%M UTC")))
        .collect();
    let history = if history.is_empty() {
        "never set".into()
    } else {
        history.join(" → ")
    };
    let _ = writeln!(doc, "- **Severity history:** {history}");
    let rate = |s: Severity| cost.per_minute.get(&s).copied();
    if let Some(total) = metrics.cost(rate) {
        let parts: Vec<String> = metrics
            .open_by_severity
            .iter()
            .filter_map(|(severity, open)| {
                let severity = (*severity)?;
                let rate = rate(severity)?;
                Some(format!("{} at {severity} × {rate:.0}/min", human(*open)))
            })
            .collect();
        let _ = writeln!(
            doc,
            "- **Estimated downtime cost:** {total:.0} {} ({})",
            cost.currency,
            parts.join(" + ")
        );
    }
    let impacts: Vec<String> = source
        .tickets
        .iter()
        .filter_map(|t| {
            Some(format!(
                "{} (failure #{})",
                markdown(t.customer_impact.as_deref()?),
                t.id
            ))
        })
        .collect();
    let customers = if impacts.is_empty() {
        to_write("who was affected, how, and for how long")
    } else {
        impacts.join("; ")
    };
    let _ = writeln!(doc, "- **Customer impact:** {customers}\n");
}

pub(super) fn audit(doc: &mut String, source: &PostmortemSource) {
    let (incident, metrics) = (&source.incident, &source.metrics);
    let _ = writeln!(doc, "## One-page audit\n");
    let _ = writeln!(doc, "| | What we expected | What happened | Why |\n|---|---|---|---|");
    let why = to_write("why");
    let declared_severity = source.severities.first().filter(|(at, _)| *at <= incident.declared_at);
    let severity_happened = match (declared_severity, source.severities.first()) {
        (Some((_, s)), _) => format!("Declared as {s}"),
        (None, Some((at, s))) => format!(
            "{s} set {}",
            after(Some((*at - incident.declared_at).to_std().unwrap_or_default()), "")
        ),
        (None, None) => "Never set".into(),
    };
    let cadence = source
        .promised_cadence
        .map(|c| format!("An update every {}", human(c)))
        .unwrap_or_else(|| "Updates at the severity's cadence".into());
    let longest = source.gaps.iter().map(|g| g.actual).max();
    let comms_happened = format!(
        "{} updates; {} of {} gaps on time{}",
        metrics.updates,
        metrics.comms_on_time,
        metrics.comms_gaps,
        longest.map(|l| format!(" (longest {})", human(l))).unwrap_or_default()
    );
    let comms_why = if metrics.comms_gaps > 0 && metrics.comms_on_time == metrics.comms_gaps {
        "The cadence was kept".to_string()
    } else {
        why.clone()
    };
    let rows = [
        (
            "Detection",
            "Detected within minutes of the impact starting".to_string(),
            detection_happened(incident, metrics.time_to_detect),
            to_write("how it was noticed: alert, customer or teammate, and why not sooner"),
        ),
        (
            "Response",
            "A responder acts within minutes".into(),
            format!("First responder action {}", after(metrics.time_to_acknowledge, "never")),
            why.clone(),
        ),
        (
            "Severity",
            "Severity set at declaration".into(),
            severity_happened,
            why.clone(),
        ),
        ("Customer updates", cadence, comms_happened, comms_why),
        (
            "Mitigation",
            "Impact stopped quickly".into(),
            format!("Mitigated {}", after(metrics.time_to_mitigate, "— not yet")),
            why.clone(),
        ),
        (
            "Resolution",
            "Fixed for good the first time".into(),
            format!(
                "Resolved {}{}",
                after(metrics.time_to_resolve, "— not yet"),
                if metrics.reopened > 0 {
                    format!(", reopened {}×", metrics.reopened)
                } else {
                    String::new()
                }
            ),
            why,
        ),
    ];
    for (aspect, expected, happened, why) in rows {
        let _ = writeln!(doc, "| **{aspect}** | {expected} | {happened} | {why} |");
    }
    doc.push('\n');
}

/// What the detection row says happened: impact start, detection and the gap.
fn detection_happened(incident: &crate::domain::Incident, time_to_detect: Option<Duration>) -> String {
    let detected = match incident.alert_source() {
        Some(source) => format!("Detected by `{source}` alerts {}", when(incident.detected_at)),
        None => format!("Declared {}", when(incident.detected_at)),
    };
    match (incident.impact_started_at, time_to_detect) {
        (Some(start), Some(lag)) => format!("Impact began {}; {detected}, {} later", when(start), human(lag)),
        _ => format!("{detected}; impact start unknown (`/incident started <time>`)"),
    }
}

pub(super) fn metrics(doc: &mut String, source: &PostmortemSource) {
    let metrics = &source.metrics;
    let _ = writeln!(doc, "## Metrics\n\n| Metric | Value |\n|---|---|");
    let or_dash = |d: Option<Duration>| d.map(human).unwrap_or_else(|| "—".into());
    for (name, value) in [
        ("Time to detect", or_dash(metrics.time_to_detect)),
        ("Time to acknowledge", or_dash(metrics.time_to_acknowledge)),
        ("Time to mitigate", or_dash(metrics.time_to_mitigate)),
        ("Time to resolve", or_dash(metrics.time_to_resolve)),
        ("Time open", human(metrics.time_open)),
        ("Customer updates", metrics.updates.to_string()),
        (
            "Comms-SLO adherence",
            metrics
                .comms_adherence()
                .map(|a| format!("{:.0}%", a * 100.0))
                .unwrap_or_else(|| "—".into()),
        ),
        ("Reopened", metrics.reopened.to_string()),
    ] {
        let _ = writeln!(doc, "| {name} | {value} |");
    }
    doc.push('\n');
}
