//! Messages captured into an incident's timeline (pinned, or marked with the
//! timeline emoji), and how they read there.

use chrono::{DateTime, Utc};

use super::IncidentId;

/// A message captured from an incident channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedMessage {
    pub id: i64,
    pub incident_id: IncidentId,
    pub channel_id: String,
    pub ts: String,
    /// Unknown until fetched when the capture came from a reaction.
    pub text: Option<String>,
    pub author: Option<String>,
    pub permalink: Option<String>,
    pub captured_by: String,
    pub captured_at: DateTime<Utc>,
    /// `pin` or `reaction`.
    pub source: String,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Longest excerpt of a message kept in a timeline line.
const EXCERPT_CHARS: usize = 500;

fn excerpt(text: &str) -> String {
    let mut excerpt = crate::text::mrkdwn(&text.chars().take(EXCERPT_CHARS).collect::<String>());
    if text.chars().count() > EXCERPT_CHARS {
        excerpt.push('…');
    }
    excerpt
}

impl CapturedMessage {
    /// The timeline line for the capture.
    pub fn timeline_line(&self) -> String {
        let verb = if self.source == "pin" { "pinned" } else { "marked" };
        let author = self
            .author
            .as_deref()
            .map(|a| format!(" from <@{a}>"))
            .unwrap_or_default();
        let text = self
            .text
            .as_deref()
            .map(excerpt)
            .unwrap_or_else(|| "(text unavailable)".into());
        let link = self.permalink.as_deref().map(|p| format!(" — {p}")).unwrap_or_default();
        format!("{verb} a message{author}: “{text}”{link}")
    }
}

/// The timeline line for an edit of a captured message (the old text stays
/// in the earlier entries, so the history is kept).
pub fn edit_line(before: Option<&str>, after: &str) -> String {
    match before {
        Some(before) => format!(
            "edited a captured message: “{}” (was “{}”)",
            excerpt(after),
            excerpt(before)
        ),
        None => format!("edited a captured message: “{}”", excerpt(after)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured() -> CapturedMessage {
        CapturedMessage {
            id: 1,
            incident_id: 1,
            channel_id: "C1".into(),
            ts: "1.2".into(),
            text: Some("db is at 100% cpu".into()),
            author: Some("U2".into()),
            permalink: Some("https://x.slack.com/archives/C1/p12".into()),
            captured_by: "U1".into(),
            captured_at: Utc::now(),
            source: "pin".into(),
            deleted_at: None,
        }
    }

    #[test]
    fn a_capture_reads_with_author_text_and_link() {
        assert_eq!(
            captured().timeline_line(),
            "pinned a message from <@U2>: “db is at 100% cpu” — https://x.slack.com/archives/C1/p12"
        );
    }

    #[test]
    fn long_messages_are_cut() {
        let mut long = captured();
        long.text = Some("x".repeat(2000));
        assert!(long.timeline_line().chars().count() < 700);
    }

    #[test]
    fn edits_keep_the_old_text() {
        assert_eq!(
            edit_line(Some("old"), "new"),
            "edited a captured message: “new” (was “old”)"
        );
    }
}
