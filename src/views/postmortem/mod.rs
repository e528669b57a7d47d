//! The post-mortem draft: blameless Markdown built from what Rebound
//! recorded (summary, impact, one-page audit, timeline, decisions, customer
//! updates, failure tickets, action items, metrics, five whys, lessons), the
//! same draft as an HTML page, and the summary posted in Slack on resolve.
//!
//! Where Rebound cannot know the answer, the draft says `_To write: …_` so the
//! team sees at a glance what is left for people.

mod facts;
mod record;

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
    facts::summary(&mut doc, source);
    facts::impact(&mut doc, source, cost);
    facts::audit(&mut doc, source);
    record::timeline(&mut doc, source);
    record::decisions(&mut doc, source);
    record::updates(&mut doc, source);
    record::tickets(&mut doc, source);
    record::actions(&mut doc, source);
    facts::metrics(&mut doc, source);
    record::root_cause(&mut doc, source);
    record::lessons(&mut doc, source);
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
