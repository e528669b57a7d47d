//! The manager digest: what is open, what is overdue.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::clip;
use crate::domain::failure::Ticket;
use crate::domain::recurrence::MonthlyRecurrence;
use crate::domain::{Incident, Severity};
use crate::store::{CommsBreach, StoredActionItem};

fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let hours = (now - since).num_hours().max(0);
    if hours < 48 {
        format!("{hours}h")
    } else {
        format!("{}d", hours / 24)
    }
}

/// What a digest reports.
#[derive(Debug, Clone, Default)]
pub struct DigestContent {
    pub open: Vec<Incident>,
    pub postmortems: Vec<Incident>,
    pub actions: Vec<StoredActionItem>,
    /// Comms-SLO breaches since the last digest.
    pub breaches: Vec<CommsBreach>,
    pub failures: FailureBacklog,
    /// Incidents among the action items' that are private: their items' texts stay out.
    pub private_incidents: std::collections::BTreeSet<crate::domain::IncidentId>,
}

/// The failure-ticket part of a digest.
#[derive(Debug, Clone, Default)]
pub struct FailureBacklog {
    /// Tickets not closed (at most 50 are read; 50 means "50 or more").
    pub open: usize,
    /// Open tickets nobody triaged within `untriaged_after`, oldest first.
    pub untriaged: Vec<Ticket>,
    pub untriaged_after: std::time::Duration,
    /// Owners with the most tickets not closed, most first.
    pub owners: Vec<(String, i64)>,
    /// Recurrence by month, oldest first.
    pub months: Vec<MonthlyRecurrence>,
}

fn failure_section(backlog: &FailureBacklog, now: DateTime<Utc>) -> String {
    let open = if backlog.open >= 50 {
        "50+".to_string()
    } else {
        backlog.open.to_string()
    };
    let mut part = format!(
        "*Failure tickets ({open} open)*\n_Untriaged for over {} ({})_",
        humantime::format_duration(backlog.untriaged_after),
        backlog.untriaged.len()
    );
    // The digest channel is not the tickets' channel: private ones say nothing.
    for ticket in backlog.untriaged.iter().take(10).map(|t| t.seen_from("")) {
        let text = ticket
            .text
            .as_deref()
            .map(|t| clip(&crate::text::mrkdwn(t), 80))
            .unwrap_or_default();
        let link = ticket
            .permalink
            .as_deref()
            .map(|p| format!(" <{p}|source>"))
            .unwrap_or_default();
        part.push_str(&format!(
            "\n• #{} {text} — captured {} ago{link}",
            ticket.id,
            age(ticket.captured_at, now)
        ));
    }
    if !backlog.owners.is_empty() {
        let owners: Vec<String> = backlog.owners.iter().map(|(o, n)| format!("<@{o}> {n}")).collect();
        part.push_str(&format!("\n_Most open tickets:_ {}", owners.join(", ")));
    }
    if !backlog.months.is_empty() {
        part.push_str(&format!(
            "\n_Recurrence:_ {}",
            super::failures::recent_recurrence(&backlog.months)
        ));
    }
    part
}

/// The digest message (mrkdwn text; one section per part, within Slack's limits).
pub fn digest(content: &DigestContent, now: DateTime<Utc>) -> Value {
    let (open, overdue_postmortems, overdue_actions) = (&content.open, &content.postmortems, &content.actions);
    let mut sections = Vec::new();
    let by_severity: Vec<String> = Severity::ALL
        .into_iter()
        .map(|s| format!("{s}: {}", open.iter().filter(|i| i.severity == Some(s)).count()))
        .chain(std::iter::once(format!(
            "unset: {}",
            open.iter().filter(|i| i.severity.is_none()).count()
        )))
        .collect();
    let mut part = format!("*Open incidents ({})* — {}", open.len(), by_severity.join(", "));
    for incident in open {
        let title = super::public_title(incident);
        let severity = incident
            .severity
            .map(|s| s.to_string())
            .unwrap_or_else(|| "no severity".into());
        part.push_str(&format!(
            "\n• *{}* {title} — {severity}, {}, open {}",
            incident.reference(),
            incident.status,
            age(incident.declared_at, now)
        ));
    }
    sections.push(part);
    let mut part = format!("*Overdue post-mortems ({})*", overdue_postmortems.len());
    for incident in overdue_postmortems {
        let lead = incident
            .lead
            .as_deref()
            .map(|u| format!(", lead <@{u}>"))
            .unwrap_or_default();
        let resolved = incident.resolved_at.map(|r| age(r, now)).unwrap_or_default();
        part.push_str(&format!(
            "\n• *{}* {} — resolved {resolved} ago{lead}",
            incident.reference(),
            super::public_title(incident)
        ));
    }
    sections.push(part);
    let mut part = format!("*Overdue action items ({})*", overdue_actions.len());
    for item in overdue_actions {
        let owner = item
            .owner
            .as_deref()
            .map(|u| format!("<@{u}>"))
            .unwrap_or_else(|| "no owner".into());
        let due = item
            .due_at
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let text = if content.private_incidents.contains(&item.incident_id) {
            "an action item of a private incident".to_string()
        } else {
            crate::text::mrkdwn(&item.text)
        };
        part.push_str(&format!(
            "\n• #{} {text} — {owner}, due {due}, INC-{}",
            item.id, item.incident_id
        ));
    }
    sections.push(part);
    let mut part = format!(
        "*Comms-SLO breaches since the last digest ({})*",
        content.breaches.len()
    );
    for breach in &content.breaches {
        part.push_str(&format!(
            "\n• *INC-{}* {}: promised an update every {}, took {}",
            breach.incident_id,
            breach.severity,
            humantime::format_duration(breach.promised),
            humantime::format_duration(std::time::Duration::from_secs(breach.actual.as_secs()))
        ));
    }
    sections.push(part);
    sections.push(failure_section(&content.failures, now));
    let text = format!(":bar_chart: Incident digest — {}", now.format("%Y-%m-%d"));
    let mut blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "text": clip(&text.replace(":bar_chart: ", ""), 150) } }),
    ];
    blocks.extend(
        sections
            .iter()
            .map(|s| json!({ "type": "section", "text": { "type": "mrkdwn", "text": clip(s, 3000) } })),
    );
    json!({ "text": format!("{text}: {} open, {} overdue post-mortems, {} overdue action items", open.len(), overdue_postmortems.len(), overdue_actions.len()), "blocks": blocks })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IncidentDraft;

    #[test]
    fn the_digest_counts_by_severity_and_lists_what_is_overdue() {
        let now = Utc::now();
        let open = vec![
            IncidentDraft::declare(
                "api down",
                Some(Severity::Sev1),
                false,
                "U1",
                now - chrono::Duration::hours(3),
            )
            .into_incident(1),
        ];
        let item = StoredActionItem {
            id: 4,
            incident_id: 2,
            text: "add alert".into(),
            owner: Some("U9".into()),
            due_at: Some(now - chrono::Duration::days(1)),
            created_by: "U1".into(),
            created_at: now,
            done_at: None,
            jira: None,
        };
        let breach = CommsBreach {
            incident_id: 1,
            severity: Severity::Sev1,
            promised: std::time::Duration::from_secs(1800),
            actual: std::time::Duration::from_secs(2820),
            at: now,
        };
        let content = DigestContent {
            open,
            postmortems: vec![],
            actions: vec![item],
            breaches: vec![breach],
            failures: FailureBacklog {
                open: 3,
                untriaged: vec![untriaged_ticket(now)],
                untriaged_after: std::time::Duration::from_secs(2 * 86_400),
                owners: vec![("U7".into(), 2), ("U8".into(), 1)],
                months: vec![
                    MonthlyRecurrence {
                        month: "2026-10".into(),
                        tickets: 4,
                        recurring: 1,
                    },
                    MonthlyRecurrence {
                        month: "2026-11".into(),
                        tickets: 3,
                        recurring: 2,
                    },
                ],
            },
            private_incidents: Default::default(),
        };
        let message = digest(&content, now);
        let text = message["blocks"].to_string();
        assert!(
            text.contains("*Open incidents (1)* — sev1: 1, sev2: 0, sev3: 0, sev4: 0, unset: 0"),
            "{text}"
        );
        assert!(
            text.contains("*INC-1* api down — sev1, investigating, open 3h"),
            "{text}"
        );
        assert!(text.contains("#4 add alert — <@U9>"), "{text}");
        assert!(
            text.contains("*INC-1* sev1: promised an update every 30m, took 47m"),
            "{text}"
        );
        assert!(
            message["text"]
                .as_str()
                .unwrap()
                .contains("1 open, 0 overdue post-mortems, 1 overdue action items")
        );
        assert!(text.contains("*Failure tickets (3 open)*"), "{text}");
        assert!(text.contains("_Untriaged for over 2days (1)_"), "{text}");
        assert!(
            text.contains("#6 disk full on db-2 — captured 3d ago <https://x/p1|source>"),
            "{text}"
        );
        assert!(text.contains("_Most open tickets:_ <@U7> 2, <@U8> 1"), "{text}");
        assert!(
            text.contains("_Recurrence:_ 2026-11 67% (2 of 3) · 2026-10 25% (1 of 4)"),
            "{text}"
        );
    }

    fn untriaged_ticket(now: DateTime<Utc>) -> Ticket {
        Ticket {
            permalink: Some("https://x/p1".into()),
            captured_at: now - chrono::Duration::days(3),
            ..Ticket::example(6, "disk full on db-2")
        }
    }
}
