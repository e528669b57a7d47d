//! Sentry integration-platform webhooks, told apart by the
//! `Sentry-Hook-Resource` header: `event_alert` (issue alert rules),
//! `metric_alert` (critical / warning / resolved) and `issue` (created,
//! resolved, unresolved…). Other resources report no alert.
//! <https://docs.sentry.io/integrations/integration-platform/webhooks/>

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Alert, AlertStatus, Malformed, instant, required, text};

pub(super) fn parse(resource: Option<&str>, body: &Value) -> Result<Vec<Alert>, Malformed> {
    let action = text(body, "action").unwrap_or_default();
    let data = &body["data"];
    match resource {
        Some("event_alert") => {
            let event = &data["event"];
            let issue = required(event, "issue_id", "the event")?;
            Ok(vec![issue_alert(
                issue,
                AlertStatus::Firing,
                text(event, "title").or_else(|| text(data, "triggered_rule")),
                text(event, "level"),
                text(event, "web_url"),
                instant(&event["datetime"]),
            )])
        }
        Some("issue") => {
            let issue = &data["issue"];
            let status = match action.as_str() {
                "created" | "unresolved" => AlertStatus::Firing,
                "resolved" | "archived" | "ignored" => AlertStatus::Resolved,
                _ => return Ok(Vec::new()),
            };
            Ok(vec![issue_alert(
                required(issue, "id", "the issue")?,
                status,
                text(issue, "title"),
                text(issue, "level"),
                text(issue, "web_url").or_else(|| text(issue, "permalink")),
                instant(&issue["firstSeen"]),
            )])
        }
        Some("metric_alert") => {
            let alert = &data["metric_alert"];
            let id = required(alert, "id", "the metric alert")?;
            let status = match action.as_str() {
                "resolved" => AlertStatus::Resolved,
                _ => AlertStatus::Firing,
            };
            let rule = text(&alert["alert_rule"], "name");
            Ok(vec![Alert {
                dedup_key: format!("metric:{id}"),
                group_key: format!("metric:{id}"),
                status,
                title: rule.or_else(|| text(data, "description_title")).unwrap_or_default(),
                // `critical` and `warning` are Sentry's thresholds.
                severity_label: Some(action).filter(|a| a == "critical" || a == "warning"),
                labels: BTreeMap::new(),
                link: text(data, "web_url"),
                started_at: instant(&alert["date_started"]),
                raw: Value::Null,
            }])
        }
        _ => Ok(Vec::new()),
    }
}

/// Issue alerts and issue webhooks share the issue id as their key, so an
/// issue resolved in Sentry resolves the alert its rule raised.
fn issue_alert(
    issue: String,
    status: AlertStatus,
    title: Option<String>,
    level: Option<String>,
    link: Option<String>,
    started_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Alert {
    Alert {
        dedup_key: format!("issue:{issue}"),
        group_key: format!("issue:{issue}"),
        status,
        title: title.unwrap_or_default(),
        severity_label: level.map(|level| if level == "fatal" { "critical".into() } else { level }),
        labels: BTreeMap::new(),
        link,
        started_at,
        raw: Value::Null,
    }
}
