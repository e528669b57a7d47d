//! What Rebound posts about alerts in an incident channel: alerts that
//! joined it, alerts that cleared, and the offer to resolve once all have.

use serde_json::{Value, json};

use super::card::RESOLVE_ACTION;
use crate::domain::alerts::Alert;
use crate::store::alerts::AlertTally;
use crate::text;

/// Longest list of joined alert titles in one post.
const LISTED: usize = 5;

/// "+3 alerts" with the first few titles: one post for a delivery's joiners.
pub fn joined(source: &str, alerts: &[&Alert]) -> String {
    let mut lines = vec![format!(
        ":heavy_plus_sign: {} more alert{} from `{source}` joined this incident:",
        alerts.len(),
        if alerts.len() == 1 { "" } else { "s" }
    )];
    for alert in alerts.iter().take(LISTED) {
        lines.push(format!("• {}", titled(alert)));
    }
    if alerts.len() > LISTED {
        lines.push(format!("• …and {} more", alerts.len() - LISTED));
    }
    lines.join("\n")
}

/// The alerts that joined an incident before its channel existed (an
/// alert storm opening it): `total` joined, the first titles listed.
pub fn joined_before_channel(source: &str, total: i64, titles: &[String]) -> String {
    let mut lines = vec![format!(
        ":heavy_plus_sign: {total} more alert{} from `{source}` joined this incident:",
        if total == 1 { "" } else { "s" }
    )];
    for title in titles.iter().take(LISTED) {
        lines.push(format!("• *{}*", text::mrkdwn(title)));
    }
    if total > LISTED as i64 {
        lines.push(format!("• …and {} more", total - LISTED as i64));
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

fn titled(alert: &Alert) -> String {
    let title = format!("*{}*", text::mrkdwn(&alert.title));
    match &alert.link {
        Some(link) => format!("{title} (<{}|source>)", link.replace(['<', '>', '|'], "")),
        None => title,
    }
}
