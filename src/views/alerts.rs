//! What Rebound posts about alerts in an incident channel: alerts that
//! joined it, alerts that cleared, and the offer to resolve once all have.

use serde_json::{Value, json};

use super::card::RESOLVE_ACTION;
use crate::domain::alerts::Alert;
use crate::store::alerts::AlertTally;
use crate::text;

/// Longest list of joined alert titles in one post.
pub const LISTED: usize = 5;

/// "+N more alerts joined" with the first few titles: one post for the
/// alerts that joined since the channel was last told.
pub fn joined(source: &str, total: usize, titles: &[String]) -> String {
    let mut lines = vec![format!(
        ":heavy_plus_sign: {total} more alert{} from `{source}` joined this incident:",
        if total == 1 { "" } else { "s" }
    )];
    for title in titles.iter().take(LISTED) {
        lines.push(format!("• *{}*", text::mrkdwn(title)));
    }
    if total > LISTED {
        lines.push(format!("• …and {} more", total - LISTED));
    }
    lines.join("\n")
}

/// Alerts of a delivery cleared; once all have, offer to resolve (unless
/// the incident resolves itself).
pub fn cleared(alerts: &[&Alert], tally: AlertTally, auto_resolve: bool) -> Value {
    let resolved = tally.total - tally.firing;
    let what = match alerts {
        [alert] => format!("Alert cleared: {}", titled(alert)),
        _ => format!("{} alerts cleared", alerts.len()),
    };
    let line = format!(
        ":white_check_mark: {what} ({resolved} of {} alert{} resolved)",
        tally.total,
        if tally.total == 1 { "" } else { "s" }
    );
    if tally.firing > 0 || auto_resolve {
        return json!({ "text": line });
    }
    let ask = format!(
        "{line}\nAll {} alert{} resolved — resolve the incident?",
        tally.total,
        if tally.total == 1 { "" } else { "s" }
    );
    json!({
        "text": ask,
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": ask } },
            { "type": "actions", "elements": [{
                "type": "button", "action_id": RESOLVE_ACTION, "style": "primary",
                "text": { "type": "plain_text", "text": "Resolve" }
            }]}
        ]
    })
}

/// A ticket's alert cleared: when, and how long after the ticket opened.
pub fn ticket_alert_cleared(
    ticket: i64,
    alert: &Alert,
    opened: chrono::DateTime<chrono::Utc>,
    cleared: chrono::DateTime<chrono::Utc>,
) -> String {
    let lasted = (cleared - opened).to_std().unwrap_or_default();
    format!(
        ":white_check_mark: The alert behind failure #{ticket} cleared {} ({} after the ticket opened): {}",
        super::slack_date(cleared),
        super::markdown::human(lasted),
        titled(alert)
    )
}

fn titled(alert: &Alert) -> String {
    let title = format!("*{}*", text::mrkdwn(&alert.title));
    match &alert.link {
        Some(link) => format!("{title} (<{}|source>)", link.replace(['<', '>', '|'], "")),
        None => title,
    }
}
