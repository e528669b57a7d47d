//! Prometheus Alertmanager webhook (version 4) and Grafana alerting's
//! webhook, which has the same shape plus `orgId`, `values` and panel links.
//! <https://prometheus.io/docs/alerting/latest/configuration/#webhook_config>

use serde_json::Value;

use super::{Alert, AlertStatus, Malformed, instant, required, string_map, text};

pub(super) fn parse(body: &Value) -> Result<Vec<Alert>, Malformed> {
    let group_key = text(body, "groupKey").unwrap_or_default();
    let alerts = body["alerts"]
        .as_array()
        .ok_or_else(|| Malformed::new("no \"alerts\" array"))?;
    alerts
        .iter()
        .map(|alert| {
            let labels = string_map(&alert["labels"]);
            let status = required(alert, "status", "an alert")?;
            let status = AlertStatus::parse(&status)
                .ok_or_else(|| Malformed(format!("alert status {status:?} is neither firing nor resolved")))?;
            let fingerprint = required(alert, "fingerprint", "an alert")?;
            let title = text(&alert["annotations"], "summary")
                .or_else(|| labels.get("alertname").cloned())
                .unwrap_or_default();
            let link = ["panelURL", "dashboardURL", "generatorURL"]
                .into_iter()
                .find_map(|key| text(alert, key));
            Ok(Alert {
                // A group key of Rebound's own when the sender gave none keeps
                // unrelated alerts from joining each other.
                group_key: match group_key.is_empty() {
                    true => format!("fingerprint:{fingerprint}"),
                    false => group_key.clone(),
                },
                dedup_key: fingerprint,
                status,
                title,
                severity_label: labels.get("severity").cloned(),
                labels,
                link,
                started_at: instant(&alert["startsAt"]),
                raw: alert.clone(),
            })
        })
        .collect()
}
