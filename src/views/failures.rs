//! Failure-ticket replies: the list and the one-line summary.

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
        format!(" [{}]", ticket.tags.join(", "))
    };
    let text = ticket
        .text
        .as_deref()
        .map(|t| super::clip(&super::escape(t), 80))
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
