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

/// The issue's one-line summary: the text flattened to one line.
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

/// The longest issue key taken from a webhook (Jira's own are far shorter).
const MAX_ISSUE_KEY: usize = 64;

/// Reads a Jira webhook delivery: `Ok(Some(key))` when it says issue `key`
/// is now in the *Done* status category (`jira:issue_updated`), `Ok(None)`
/// for every other event or status, `Err` with a reason when it is not a
/// Jira webhook body at all.
pub fn done_issue(body: &str) -> Result<Option<String>, String> {
    let body: Value = serde_json::from_str(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let event = body["webhookEvent"]
        .as_str()
        .ok_or("body has no webhookEvent: is this a Jira webhook?")?;
    if event != "jira:issue_updated" {
        return Ok(None);
    }
    let key = body["issue"]["key"]
        .as_str()
        .ok_or("jira:issue_updated without issue.key")?;
    if !is_issue_key(key) {
        return Err("issue.key is not a Jira issue key (PROJECT-123)".into());
    }
    let category = &body["issue"]["fields"]["status"]["statusCategory"]["key"];
    Ok((category.as_str() == Some("done")).then(|| key.to_string()))
}

/// `PROJECT-123`: a project key (a capital letter, then capitals, digits or
/// underscores), a hyphen, a number. Keys from Jira's answers and webhooks
/// are checked with it before they reach Slack text or a query.
pub fn is_issue_key(key: &str) -> bool {
    let Some((project, number)) = key.split_once('-') else {
        return false;
    };
    let mut project_chars = project.chars();
    key.len() <= MAX_ISSUE_KEY
        && project_chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && project_chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An issue moved to Done, shaped as in
    /// https://developer.atlassian.com/cloud/jira/platform/webhooks/#example-callback-for-an-issue-related-event
    fn issue_updated(key: &str, category: &str) -> String {
        json!({
            "timestamp": 1525698237764_i64,
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "user": { "accountId": "5b10a2844c20165700ede21g", "displayName": "Owen" },
            "issue": {
                "id": "10002",
                "self": "https://acme.atlassian.net/rest/api/3/issue/10002",
                "key": key,
                "fields": { "status": { "name": "Done", "statusCategory": { "id": 3, "key": category, "name": "Done" } } }
            },
            "changelog": { "id": "10106", "items": [{ "field": "status", "fieldtype": "jira", "fromString": "In Progress", "toString": "Done" }] }
        })
        .to_string()
    }

    #[test]
    fn a_webhook_names_an_issue_only_when_it_is_done() {
        assert_eq!(done_issue(&issue_updated("OPS-12", "done")), Ok(Some("OPS-12".into())));
        assert_eq!(done_issue(&issue_updated("OPS-12", "indeterminate")), Ok(None));
        let created = json!({ "webhookEvent": "jira:issue_created", "issue": { "key": "OPS-1" } });
        assert_eq!(done_issue(&created.to_string()), Ok(None));
    }

    #[test]
    fn hostile_webhook_bodies_are_refused_with_a_reason() {
        assert!(done_issue("not json").unwrap_err().contains("not JSON"));
        assert!(done_issue("{}").unwrap_err().contains("webhookEvent"));
        for key in [
            "<!channel>",
            "OPS-",
            "-12",
            "ops-12",
            "OPS-12|x",
            "OPS-1 2",
            &format!("A{}-1", "B".repeat(70)),
        ] {
            assert!(done_issue(&issue_updated(key, "done")).is_err(), "{key}");
        }
        assert_eq!(done_issue(&issue_updated("A_1-7", "done")), Ok(Some("A_1-7".into())));
    }

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
