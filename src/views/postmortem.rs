//! The post-mortem draft: blameless Markdown built from what Rebound
//! recorded (summary, impact, one-page audit, timeline, decisions, customer
//! updates, failure tickets, action items, metrics, five whys, lessons), the
//! same draft as an HTML page, and the summary posted in Slack on resolve.
//!
//! Where Rebound cannot know the answer, the draft says `_To write: …_` so the
//! team sees at a glance what is left for people.

use std::fmt::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::markdown::{human, markdown};
use crate::config::CostSettings;
use crate::domain::comms::CommsGap;
use crate::domain::failure::Ticket;
use crate::domain::incident_metrics::IncidentMetrics;
use crate::domain::{Incident, Severity};
use crate::store::{StoredActionItem, TimelineEntry};

/// Timeline kinds whose body starts with a fixed verb phrase the sections drop.
const DECISION_PREFIX: &str = "decided: ";
const UPDATE_PREFIX: &str = "sent a customer update: ";

/// Everything a post-mortem is written from.
#[derive(Debug, Clone)]
pub struct PostmortemSource {
    pub incident: Incident,
    pub timeline: Vec<TimelineEntry>,
    pub severities: Vec<(DateTime<Utc>, Severity)>,
    pub actions: Vec<StoredActionItem>,
    pub tickets: Vec<Ticket>,
    pub gaps: Vec<CommsGap>,
    pub metrics: IncidentMetrics,
    /// The cadence the incident's worst severity promised.
    pub promised_cadence: Option<Duration>,
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn to_write(what: &str) -> String {
    format!("_To write: {what}_")
}

fn after(duration: Option<Duration>, never: &str) -> String {
    duration
        .map(|d| format!("after {}", human(d)))
        .unwrap_or_else(|| never.into())
}

/// The draft in Markdown.
pub fn render(source: &PostmortemSource, cost: &CostSettings, generated_at: DateTime<Utc>) -> String {
    let mut doc = String::new();
    header(&mut doc, source, generated_at);
    summary(&mut doc, source);
    impact(&mut doc, source, cost);
    audit(&mut doc, source);
    timeline(&mut doc, source);
    decisions(&mut doc, source);
    updates(&mut doc, source);
    tickets(&mut doc, source);
    actions(&mut doc, source);
    metrics(&mut doc, source);
    root_cause(&mut doc, source);
    lessons(&mut doc, source);
    doc
}

fn header(doc: &mut String, source: &PostmortemSource, generated_at: DateTime<Utc>) {
    let incident = &source.incident;
    let _ = writeln!(
        doc,
        "# Post-mortem: {} {}\n",
        incident.reference(),
        markdown(&incident.title)
    );
    let state = match (incident.postmortem_done_at, incident.postmortem_link.as_deref()) {
        (Some(done), Some(link)) => format!("Marked done {}; the final version lives at {link}.", when(done)),
        (Some(done), None) => format!("Marked done {}; this is what was recorded until then.", when(done)),
        (None, _) => format!(
            "**Draft**, generated {} from what was recorded in Slack; it is regenerated until the post-mortem is marked done.",
            when(generated_at)
        ),
    };
    let _ = writeln!(
        doc,
        "> {state} This review is blameless: it looks at systems, signals and decisions, not at who to blame.\n"
    );
}

fn summary(doc: &mut String, source: &PostmortemSource) {
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
            format!("{} by @{}", when(incident.declared_at), incident.declared_by),
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

fn impact(doc: &mut String, source: &PostmortemSource, cost: &CostSettings) {
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

fn audit(doc: &mut String, source: &PostmortemSource) {
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
            "Declared as soon as the failure was noticed".to_string(),
            format!("Declared {}", when(incident.declared_at)),
            to_write("how it was noticed: alert, customer or teammate, and how long after it began"),
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

fn timeline(doc: &mut String, source: &PostmortemSource) {
    let _ = writeln!(doc, "## Timeline\n\n| Time (UTC) | Who | What |\n|---|---|---|");
    for entry in &source.timeline {
        let _ = writeln!(
            doc,
            "| {} | @{} | {} |",
            entry.at.format("%Y-%m-%d %H:%M:%S"),
            entry.actor,
            markdown(&entry.body)
        );
    }
    doc.push('\n');
}

fn entries<'a>(source: &'a PostmortemSource, kind: &'a str) -> impl Iterator<Item = &'a TimelineEntry> {
    source.timeline.iter().filter(move |e| e.kind == kind)
}

/// A section listing the timeline entries of one kind, without their verb prefix.
fn quoted_entries(doc: &mut String, source: &PostmortemSource, kind: &str, prefix: &str, none: &str) {
    let mut any = false;
    for entry in entries(source, kind) {
        any = true;
        let text = entry.body.strip_prefix(prefix).unwrap_or(&entry.body);
        let _ = writeln!(
            doc,
            "- {} @{}: {}",
            entry.at.format("%H:%M"),
            entry.actor,
            markdown(text)
        );
    }
    if !any {
        let _ = writeln!(doc, "{none}");
    }
}

fn decisions(doc: &mut String, source: &PostmortemSource) {
    let _ = writeln!(doc, "## Decisions\n");
    quoted_entries(
        doc,
        source,
        "decision",
        DECISION_PREFIX,
        "No decisions were logged (`/incident decision <text>`).",
    );
    doc.push('\n');
}

fn updates(doc: &mut String, source: &PostmortemSource) {
    let _ = writeln!(doc, "## Customer updates\n");
    quoted_entries(
        doc,
        source,
        "customer_update",
        UPDATE_PREFIX,
        "No customer updates were sent.",
    );
    let metrics = &source.metrics;
    let adherence = metrics
        .comms_adherence()
        .map(|a| {
            format!(
                "{:.0}% ({} of {} gaps between updates on time)",
                a * 100.0,
                metrics.comms_on_time,
                metrics.comms_gaps
            )
        })
        .unwrap_or_else(|| "no measured gaps".into());
    let _ = writeln!(doc, "\n**Comms SLO:** {adherence}.\n");
}

fn tickets(doc: &mut String, source: &PostmortemSource) {
    let _ = writeln!(doc, "## Failure tickets\n");
    if source.tickets.is_empty() {
        let _ = writeln!(doc, "None were captured in the incident channel.\n");
        return;
    }
    for ticket in &source.tickets {
        let text = ticket
            .text
            .as_deref()
            .map(markdown)
            .unwrap_or_else(|| "(text pending)".into());
        let owner = ticket
            .owner
            .as_deref()
            .map(|o| format!(", owner @{o}"))
            .unwrap_or_default();
        let cause = ticket
            .root_cause
            .as_deref()
            .map(|c| format!(" — root cause: {}", markdown(c)))
            .unwrap_or_default();
        let _ = writeln!(
            doc,
            "- #{} {text} ({}{owner}){cause}",
            ticket.id,
            ticket.status.as_str()
        );
    }
    doc.push('\n');
}

fn actions(doc: &mut String, source: &PostmortemSource) {
    let _ = writeln!(doc, "## Action items\n");
    if source.actions.is_empty() {
        let _ = writeln!(
            doc,
            "{}\n",
            to_write("what will stop this happening again (`/incident action <text> @owner due <date>`)")
        );
        return;
    }
    let _ = writeln!(doc, "| # | Action | Owner | Due | Done |\n|---|---|---|---|---|");
    for item in &source.actions {
        let owner = item
            .owner
            .as_deref()
            .map(|o| format!("@{o}"))
            .unwrap_or_else(|| "—".into());
        let due = item
            .due_at
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| "—".into());
        let done = item
            .done_at
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| "no".into());
        let _ = writeln!(
            doc,
            "| {} | {} | {owner} | {due} | {done} |",
            item.id,
            markdown(&item.text)
        );
    }
    doc.push('\n');
}

fn metrics(doc: &mut String, source: &PostmortemSource) {
    let metrics = &source.metrics;
    let _ = writeln!(doc, "## Metrics\n\n| Metric | Value |\n|---|---|");
    let or_dash = |d: Option<Duration>| d.map(human).unwrap_or_else(|| "—".into());
    for (name, value) in [
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

fn root_cause(doc: &mut String, source: &PostmortemSource) {
    let _ = writeln!(doc, "## Root cause (five whys)\n");
    let analysed = source.tickets.iter().find(|t| t.root_cause.is_some());
    let whys = analysed.map(|t| t.five_whys.clone()).unwrap_or_default();
    for n in 0..5 {
        let answer = whys.get(n).map(|w| markdown(w)).unwrap_or_else(|| to_write("why?"));
        let _ = writeln!(doc, "{}. Why? {answer}", n + 1);
    }
    let cause = analysed
        .and_then(|t| t.root_cause.as_deref())
        .map(markdown)
        .unwrap_or_else(|| to_write("the cause that, fixed, stops this coming back"));
    let _ = writeln!(doc, "\n**Root cause:** {cause}\n");
}

fn lessons(doc: &mut String, source: &PostmortemSource) {
    let _ = writeln!(doc, "## Lessons learned\n");
    let lessons: Vec<String> = source
        .tickets
        .iter()
        .filter_map(|t| Some(format!("- {} (failure #{})", markdown(t.lesson.as_deref()?), t.id)))
        .collect();
    if lessons.is_empty() {
        let _ = writeln!(
            doc,
            "{}",
            to_write("what went well, what went wrong, where we got lucky")
        );
    } else {
        let _ = writeln!(doc, "{}", lessons.join("\n"));
    }
}

/// The message posted in the incident channel when it resolves.
pub fn resolved_summary(incident: &Incident, link: Option<&str>) -> String {
    let open = incident
        .resolved_at
        .map(|r| human((r - incident.declared_at).to_std().unwrap_or_default()))
        .unwrap_or_default();
    let acknowledged = incident
        .acknowledged_at
        .map(|a| {
            format!(
                ", first response after {}",
                human((a - incident.declared_at).to_std().unwrap_or_default())
            )
        })
        .unwrap_or_default();
    let severity = incident.severity.map(|s| format!(", {s}")).unwrap_or_default();
    let read = match link {
        Some(link) => format!("<{link}|Read the draft>, or run `rebound postmortem {}`", incident.id),
        None => format!("Print it with `rebound postmortem {}`", incident.id),
    };
    format!(
        ":memo: *{}* resolved after {open}{severity}{acknowledged}. The post-mortem draft is ready, written from this \
         channel's timeline, decisions, updates and action items. {read}. It follows what is recorded here until \
         `/incident postmortem done [link]`.",
        incident.reference()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sections_prefixes_match_what_the_lifecycle_writes() {
        use crate::domain::Happened;
        assert!(Happened::Decided("x".into()).describe().starts_with(DECISION_PREFIX));
        assert!(
            Happened::CustomerUpdate("x".into())
                .describe()
                .starts_with(UPDATE_PREFIX)
        );
    }
}
