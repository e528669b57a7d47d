//! Datadog webhooks, with the payload template the README tells users to
//! paste (Datadog does not sign; a shared header authenticates it).
//! <https://docs.datadoghq.com/integrations/webhooks/#variables>

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Alert, AlertStatus, Malformed, instant, required, text};

pub(super) fn parse(body: &Value) -> Result<Vec<Alert>, Malformed> {
    let aggregation = required(body, "aggreg_key", "the Datadog payload")?;
    let transition = text(body, "transition").unwrap_or_default();
    // One cycle of a monitor (triggered … recovered) shares a cycle key.
    let dedup_key = match text(body, "cycle_key") {
        Some(cycle) => format!("{aggregation}-{cycle}"),
        None => aggregation.clone(),
    };
    let status = match transition.as_str() {
        "Recovered" => AlertStatus::Resolved,
        _ => AlertStatus::Firing,
    };
    Ok(vec![Alert {
        dedup_key,
        group_key: aggregation,
        status,
        title: text(body, "title").unwrap_or_default(),
        severity_label: text(body, "priority").filter(|p| p.to_ascii_lowercase().starts_with('p')),
        labels: tags(body["tags"].as_str().unwrap_or_default()),
        link: text(body, "link"),
        started_at: instant(&body["date"]),
        raw: Value::Null,
    }])
}

/// `$TAGS` is `key:value,other,key2:value2`; bare tags map to "".
fn tags(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .map(|tag| match tag.split_once(':') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => (tag.to_string(), String::new()),
        })
        .collect()
}
