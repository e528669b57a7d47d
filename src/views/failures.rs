//! Failure-ticket messages: the thread reply with its Triage / Root cause /
//! Close buttons, the recurrence flag, the list and the one-line summary.

use serde_json::{Value, json};

use crate::domain::failure::Ticket;

/// One line for a ticket.
pub fn summary(ticket: &Ticket) -> String {
    let owner = ticket
        .owner
        .as_deref()
        .map(|o| format!("<@{o}>"))
        .unwrap_or_else(|| "no owner".into());
    let tags = if ticket.tags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", crate::text::mrkdwn(&ticket.tags.join(", ")))
    };
    let text = ticket
        .text
        .as_deref()
        .map(|t| super::clip(&crate::text::mrkdwn(t), 80))
        .unwrap_or_else(|| "(text pending)".into());
    let link = match (&ticket.source_deleted_at, ticket.permalink.as_deref()) {
        (Some(_), _) => " (source deleted)".to_string(),
        (None, Some(p)) => format!(" <{p}|source>"),
        (None, None) => String::new(),
    };
    format!(
        "*#{}* {} — {}, {owner}{tags}{link}",
        ticket.id,
        text,
        ticket.status.as_str()
    )
}

/// `/incident failure <id>`: everything known about one ticket.
pub fn detail(ticket: &Ticket, history: &[String], earlier: &[Ticket]) -> String {
    let mut text = format!("{}\n", summary(ticket));
    let mut field = |name: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            text.push_str(&format!("*{name}:* {value}\n"));
        }
    };
    field(
        "Reported",
        Some(format!(
            "by <@{}> {}",
            ticket.reporter,
            super::slack_date(ticket.captured_at)
        )),
    );
    field("Incident", ticket.incident_id.map(|id| format!("INC-{id}")));
    field("Severity score", ticket.severity_score.map(|s| format!("{s} of 5")));
    field(
        "Customer impact",
        ticket.customer_impact.as_deref().map(crate::text::mrkdwn),
    );
    let whys: Vec<String> = ticket
        .five_whys
        .iter()
        .enumerate()
        .map(|(n, why)| format!("{}. {}", n + 1, crate::text::mrkdwn(why)))
        .collect();
    field(
        "Five whys",
        (!whys.is_empty()).then(|| format!("\n{}", whys.join("\n"))),
    );
    field("Root cause", ticket.root_cause.as_deref().map(crate::text::mrkdwn));
    field("Lesson learned", ticket.lesson.as_deref().map(crate::text::mrkdwn));
    field(
        "Earlier text",
        (!history.is_empty()).then(|| {
            history
                .iter()
                .map(|h| super::clip(&crate::text::mrkdwn(h), 200))
                .collect::<Vec<_>>()
                .join(" → ")
        }),
    );
    if !earlier.is_empty() {
        text.push_str(&recurrence_line(earlier));
        text.push('\n');
    }
    text
}

/// `/incident failures …`.
pub fn list(title: &str, tickets: &[Ticket]) -> String {
    if tickets.is_empty() {
        return format!(":white_check_mark: No {title}.");
    }
    let mut text = format!("*{} {title}*\n", tickets.len());
    for ticket in tickets {
        text.push_str(&format!("• {}\n", summary(ticket)));
    }
    text
}

/// The last three months' recurrence, newest first: `2026-11 33% (1 of 3) · …`.
pub fn recent_recurrence(months: &[crate::domain::recurrence::MonthlyRecurrence]) -> String {
    let recent: Vec<String> = months
        .iter()
        .rev()
        .take(3)
        .map(|m| {
            format!(
                "{} {:.0}% ({} of {})",
                m.month,
                m.rate() * 100.0,
                m.recurring,
                m.tickets
            )
        })
        .collect();
    recent.join(" · ")
}

/// `action_id` prefixes of the buttons on a ticket's thread reply; the ticket id follows a `:`.
pub const TRIAGE_ACTION: &str = "failure_triage";
pub const ROOT_CAUSE_ACTION: &str = "failure_root_cause";
pub const CLOSE_ACTION: &str = "failure_close";

fn plain(text: &str) -> Value {
    json!({ "type": "plain_text", "text": text })
}

/// "Seen N times before: #3, #5" with links to the earlier tickets' messages.
pub fn recurrence_line(earlier: &[Ticket]) -> String {
    let times = if earlier.len() == 1 { "once" } else { "times" };
    let count = if earlier.len() == 1 {
        String::new()
    } else {
        format!("{} ", earlier.len())
    };
    let links: Vec<String> = earlier
        .iter()
        .rev()
        .take(5)
        .map(|t| match t.permalink.as_deref() {
            Some(link) => format!("<{link}|#{}>", t.id),
            None => format!("#{}", t.id),
        })
        .collect();
    let more = if earlier.len() > 5 {
        format!(" and {} more", earlier.len() - 5)
    } else {
        String::new()
    };
    format!(":repeat: Seen {count}{times} before: {}{more}", links.join(", "))
}

/// The ticket's own message in the thread: posted on capture and edited in
/// place as the ticket moves on. Open tickets carry the Triage / Root cause /
/// Close buttons; a closed one shows its lesson instead.
pub fn ticket_card(ticket: &Ticket) -> Value {
    let id = ticket.id;
    let mut text = format!(
        ":rotating_light: Captured as failure ticket *#{id}* — *{}*",
        ticket.status.as_str()
    );
    let mut facts = Vec::new();
    if let Some(owner) = &ticket.owner {
        facts.push(format!("owner <@{owner}>"));
    }
    if !ticket.tags.is_empty() {
        facts.push(format!("tags {}", crate::text::mrkdwn(&ticket.tags.join(", "))));
    }
    if let Some(score) = ticket.severity_score {
        facts.push(format!("severity {score}/5"));
    }
    if !facts.is_empty() {
        text.push_str(&format!(" · {}", facts.join(" · ")));
    }
    let Some(lesson) = ticket.lesson.as_deref().filter(|_| ticket.closed_at.is_some()) else {
        text.push_str(&format!(
            "\n*Triage* gives it an owner, tags and a severity; *Root cause* records the five whys; \
             *Close* needs the lesson learned. (Or `/incident failure {id} assign|tag|close`.)"
        ));
        let button = |action: &str, label: &str| json!({ "type": "button", "action_id": format!("{action}:{id}"), "value": id.to_string(), "text": plain(label) });
        return json!({
            "text": text,
            "blocks": [
                { "type": "section", "text": { "type": "mrkdwn", "text": super::clip(&text, super::SECTION_MAX) } },
                { "type": "actions", "block_id": format!("failure:{id}"), "elements": [
                    button(TRIAGE_ACTION, "Triage"), button(ROOT_CAUSE_ACTION, "Root cause"), button(CLOSE_ACTION, "Close")
                ] }
            ]
        });
    };
    text.push_str(&format!("\n*Lesson learned:* {}", crate::text::mrkdwn(lesson)));
    json!({
        "text": text,
        "blocks": [{ "type": "section", "text": { "type": "mrkdwn", "text": super::clip(&text, super::SECTION_MAX) } }]
    })
}

/// Which button of a ticket's reply was pressed, and for which ticket.
pub fn parse_action(action_id: &str) -> Option<(&'static str, i64)> {
    let (action, id) = action_id.split_once(':')?;
    let action = [TRIAGE_ACTION, ROOT_CAUSE_ACTION, CLOSE_ACTION]
        .into_iter()
        .find(|a| *a == action)?;
    Some((action, id.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_ticket_card_shows_its_lesson_and_no_buttons() {
        let mut ticket = Ticket::example(4, "disk full");
        ticket.status = crate::domain::failure::TicketStatus::Closed;
        ticket.closed_at = Some(chrono::Utc::now());
        ticket.lesson = Some("alert at 80%".into());
        let card = ticket_card(&ticket);
        assert_eq!(card["blocks"].as_array().unwrap().len(), 1);
        assert!(card["text"].as_str().unwrap().contains("— *closed*"));
        assert!(
            card["text"]
                .as_str()
                .unwrap()
                .contains("*Lesson learned:* alert at 80%")
        );
    }

    #[test]
    fn button_action_ids_carry_the_ticket_id() {
        let reply = ticket_card(&Ticket::example(12, "x"));
        let ids: Vec<&str> = reply["blocks"][1]["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["action_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["failure_triage:12", "failure_root_cause:12", "failure_close:12"]);
        assert_eq!(parse_action(ids[1]), Some((ROOT_CAUSE_ACTION, 12)));
        assert_eq!(parse_action("failure_close:x"), None);
        assert_eq!(parse_action("incident_set_status"), None);
    }
}
