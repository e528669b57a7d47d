//! Exporting action items and failure tickets to Jira: what gets exported
//! and what the issue says. Pure. Each exported thing carries a label that
//! is unique to it, so a retry after a lost answer can find the issue it
//! may already have created (Jira has no idempotency key).

use serde::Deserialize;
use serde_json::{Value, json};

/// What is exported without anyone asking (`[integrations.jira] export`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Export {
    /// Only with `/incident action <n> jira`.
    #[default]
    Manual,
    /// Every new action item.
    ActionItems,
    /// Every new action item and every failure ticket of a public channel.
    All,
}

/// A thing exported to Jira.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    ActionItem(i64),
    Ticket(i64),
}

impl Subject {
    /// Its key in Rebound's records.
    pub fn key(self) -> String {
        match self {
            Subject::ActionItem(id) => format!("action:{id}"),
            Subject::Ticket(id) => format!("ticket:{id}"),
        }
    }

    /// Reads [`Self::key`] back.
    pub fn parse(key: &str) -> Option<Self> {
        let (kind, id) = key.split_once(':')?;
        let id = id.parse().ok()?;
        match kind {
            "action" => Some(Subject::ActionItem(id)),
            "ticket" => Some(Subject::Ticket(id)),
            _ => None,
        }
    }

    /// The label only its issue carries (Jira labels may not contain spaces).
    pub fn label(self) -> String {
        match self {
            Subject::ActionItem(id) => format!("rebound-action-{id}"),
            Subject::Ticket(id) => format!("rebound-failure-{id}"),
        }
    }

    /// How people call it.
    pub fn describe(self) -> String {
        match self {
            Subject::ActionItem(id) => format!("Action item #{id}"),
            Subject::Ticket(id) => format!("Failure ticket #{id}"),
        }
    }
}

/// Jira's longest summary.
const MAX_SUMMARY: usize = 255;

/// The one-line summary: the text flattened to one line.
pub fn summary(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.chars().count() > MAX_SUMMARY {
        true => line.chars().take(MAX_SUMMARY - 1).collect::<String>() + "…",
        false => line,
    }
}

/// The description in Atlassian Document Format: the text, and where it
/// came from with a link back when Rebound has a public URL.
pub fn description(text: &str, origin: &str, link: Option<&str>) -> Value {
    let mut origin_line = vec![json!({ "type": "text", "text": format!("{origin} in Rebound") })];
    if let Some(href) = link {
        origin_line = vec![json!({
            "type": "text",
            "text": format!("{origin} in Rebound"),
            "marks": [{ "type": "link", "attrs": { "href": href } }],
        })];
    }
    let body: Vec<Value> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .take(200)
        .map(|line| json!({ "type": "paragraph", "content": [{ "type": "text", "text": line }] }))
        .collect();
    let mut content = body;
    content.push(json!({ "type": "paragraph", "content": origin_line }));
    json!({ "type": "doc", "version": 1, "content": content })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_unique_per_subject_and_have_no_spaces() {
        assert_eq!(Subject::ActionItem(7).label(), "rebound-action-7");
        assert_eq!(Subject::Ticket(7).label(), "rebound-failure-7");
        assert_ne!(Subject::ActionItem(7).key(), Subject::Ticket(7).key());
        assert_eq!(Subject::parse(&Subject::Ticket(7).key()), Some(Subject::Ticket(7)));
        assert_eq!(Subject::parse("action:x"), None);
    }

    #[test]
    fn summaries_are_one_line_within_jiras_limit() {
        assert_eq!(summary("Add  a\nrunbook"), "Add a runbook");
        let long = summary(&"x".repeat(300));
        assert_eq!(long.chars().count(), 255);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn the_description_is_adf_with_a_link_back() {
        let doc = description(
            "Fix the pool\n\nand alert on it",
            "INC-4 action item #7",
            Some("https://r.example/incidents/4"),
        );
        assert_eq!(doc["type"], "doc");
        assert_eq!(doc["version"], 1);
        let content = doc["content"].as_array().unwrap();
        assert_eq!(content.len(), 3, "two paragraphs of text and the origin");
        assert_eq!(
            content[2]["content"][0]["marks"][0]["attrs"]["href"],
            "https://r.example/incidents/4"
        );
    }
}
