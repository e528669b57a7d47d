//! Block Kit rendering: pure functions from state to Slack messages.
//!
//! Every message carries a plain `text` fallback (notifications, screen
//! readers) and stays within Slack's limits: 50 blocks, 150-character
//! headers, 3000-character sections, 2000-character fields.

pub mod alerts;
pub mod card;
pub mod charts;
pub mod digest;
pub mod failure_forms;
pub mod failures;
pub mod markdown;
pub mod modals;
pub mod paging;
pub mod postmortem;
pub mod reminders;
pub mod replies;
pub mod rollback;
pub mod stats;

#[cfg(test)]
mod safety_tests;

use serde_json::{Value, json};

/// Slack's header block limit.
pub const HEADER_MAX: usize = 150;
/// Slack's section text limit.
pub const SECTION_MAX: usize = 3000;

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut clipped: String = text.chars().take(max.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
}

/// An incident's title for places outside its channel (announce and digest
/// channels): a private incident is only "a private incident".
pub fn public_title(incident: &crate::domain::Incident) -> String {
    if incident.private {
        "(private)".to_string()
    } else {
        crate::text::mrkdwn(&incident.title)
    }
}

/// A `<!date^…>` token that Slack shows in each reader's own time zone.
pub fn slack_date(at: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "<!date^{}^{{date_short_pretty}} {{time}}|{}>",
        at.timestamp(),
        at.format("%Y-%m-%d %H:%M UTC")
    )
}

/// An ephemeral slash-command reply body.
pub fn ephemeral(text: &str) -> Value {
    json!({ "response_type": "ephemeral", "text": clip(text, 3900) })
}
