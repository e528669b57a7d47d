//! The Opsgenie Alert API's create and close calls, so senders configured
//! for Opsgenie keep working: `message` is the title, `alias` the dedup key,
//! `priority` `P1`–`P5` the severity.
//! <https://docs.opsgenie.com/docs/alert-api#create-alert>

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Alert, AlertStatus, Malformed, required, string_map, text};

/// A create (no alias in the path) or a close of the alert `close_alias`.
pub(super) fn parse(close_alias: Option<&str>, body: &Value) -> Result<Vec<Alert>, Malformed> {
    if let Some(alias) = close_alias {
        return Ok(vec![Alert {
            dedup_key: alias.to_string(),
            group_key: alias.to_string(),
            status: AlertStatus::Resolved,
            title: text(body, "note").unwrap_or_default(),
            severity_label: None,
            labels: BTreeMap::new(),
            link: None,
            started_at: None,
            raw: Value::Null,
        }]);
    }
    let message = required(body, "message", "the alert")?;
    // Opsgenie de-duplicates on the message when no alias is given.
    let alias = text(body, "alias").unwrap_or_else(|| message.clone());
    let mut labels = string_map(&body["details"]);
    for tag in body["tags"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        labels.insert(tag.to_string(), String::new());
    }
    if let Some(entity) = text(body, "entity") {
        labels.insert("entity".into(), entity);
    }
    Ok(vec![Alert {
        dedup_key: alias.clone(),
        group_key: alias,
        status: AlertStatus::Firing,
        title: message,
        severity_label: Some(text(body, "priority").unwrap_or_else(|| "P3".into())),
        labels,
        link: None,
        started_at: None,
        raw: Value::Null,
    }])
}
