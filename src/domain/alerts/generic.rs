//! Rebound's own JSON shape, for PostHog alerts, KPI checks, Stripe-style
//! webhooks and scripts: `title`, `status` (`firing` | `resolved`),
//! `dedup_key`, and optionally `severity`, `started_at`, `link`, `labels`
//! (an object of strings) and `group_key`.

use serde_json::Value;

use super::{Alert, AlertStatus, Malformed, instant, required, string_map, text};

pub(super) fn parse(body: &Value) -> Result<Vec<Alert>, Malformed> {
    let status = required(body, "status", "the alert")?;
    let status = AlertStatus::parse(&status)
        .ok_or_else(|| Malformed(format!("status {status:?} is neither firing nor resolved")))?;
    let dedup_key = required(body, "dedup_key", "the alert")?;
    if !body["labels"].is_null() && !body["labels"].is_object() {
        return Err(Malformed::new("labels must be an object of strings"));
    }
    Ok(vec![Alert {
        group_key: text(body, "group_key").unwrap_or_else(|| dedup_key.clone()),
        dedup_key,
        status,
        title: required(body, "title", "the alert")?,
        severity_label: text(body, "severity"),
        labels: string_map(&body["labels"]),
        link: text(body, "link"),
        started_at: instant(&body["started_at"]),
        raw: Value::Null,
    }])
}
