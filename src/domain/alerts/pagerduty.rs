//! PagerDuty webhooks v3: `incident.triggered` / `reopened` open,
//! `incident.resolved` resolves; acknowledgements and other events report
//! no change of condition. <https://developer.pagerduty.com/docs/webhooks-overview>

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Alert, AlertStatus, Malformed, instant, required, text};

pub(super) fn parse(body: &Value) -> Result<Vec<Alert>, Malformed> {
    let event = &body["event"];
    let event_type = required(event, "event_type", "the PagerDuty event")?;
    let status = match event_type.as_str() {
        "incident.triggered" | "incident.reopened" | "incident.unacknowledged" => AlertStatus::Firing,
        "incident.resolved" => AlertStatus::Resolved,
        _ => return Ok(Vec::new()),
    };
    let data = &event["data"];
    let id = required(data, "id", "the PagerDuty incident")?;
    let mut labels = BTreeMap::new();
    if let Some(service) = text(&data["service"], "summary") {
        labels.insert("service".into(), service);
    }
    if let Some(urgency) = text(data, "urgency") {
        labels.insert("urgency".into(), urgency);
    }
    Ok(vec![Alert {
        dedup_key: id.clone(),
        group_key: id,
        status,
        title: text(data, "title").unwrap_or_default(),
        severity_label: text(&data["priority"], "summary")
            .or_else(|| (text(data, "urgency").as_deref() == Some("high")).then(|| "high".to_string())),
        labels,
        link: text(data, "html_url"),
        started_at: instant(&data["created_at"]).or_else(|| instant(&event["occurred_at"])),
        raw: Value::Null,
    }])
}
