//! The recorded part of a post-mortem: timeline, decisions, customer
//! updates, failure tickets, action items, five whys and lessons.

use std::fmt::Write;

use super::{DECISION_PREFIX, PostmortemSource, UPDATE_PREFIX, to_write};
use crate::store::TimelineEntry;
use crate::views::markdown::markdown;

pub(super) fn timeline(doc: &mut String, source: &PostmortemSource) {
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

pub(super) fn decisions(doc: &mut String, source: &PostmortemSource) {
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

pub(super) fn updates(doc: &mut String, source: &PostmortemSource) {
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

pub(super) fn tickets(doc: &mut String, source: &PostmortemSource) {
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

pub(super) fn actions(doc: &mut String, source: &PostmortemSource) {
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
        let issue = item
            .jira
            .as_ref()
            .map(|issue| format!(" ([{}]({}))", issue.key, issue.url))
            .unwrap_or_default();
        let _ = writeln!(
            doc,
            "| {} | {}{issue} | {owner} | {due} | {done} |",
            item.id,
            markdown(&item.text)
        );
    }
    doc.push('\n');
}

pub(super) fn root_cause(doc: &mut String, source: &PostmortemSource) {
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

pub(super) fn lessons(doc: &mut String, source: &PostmortemSource) {
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
