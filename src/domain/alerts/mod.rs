//! Alerts from monitoring, as Rebound understands them whatever sent them:
//! each sender's payload (`prometheus.rs` for Alertmanager and Grafana,
//! `datadog.rs`, `sns.rs` for CloudWatch alarms, `sentry.rs`, `pagerduty.rs`,
//! `opsgenie.rs`, `generic.rs`)
//! becomes a list of [`Alert`]s, each with the dedup key its sender gives.
//! Pure: no I/O, no clock; `routing.rs` decides what each alert does.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Severity;

mod datadog;
mod generic;
mod opsgenie;
mod pagerduty;
mod prometheus;
pub mod routing;
mod sentry;
pub mod sns;

/// The senders Rebound accepts, as named in `[[intake.sources]] kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Alertmanager,
    Grafana,
    Datadog,
    Sns,
    Sentry,
    Pagerduty,
    Opsgenie,
    Generic,
}

impl SourceKind {
    pub const ALL: [SourceKind; 8] = [
        SourceKind::Alertmanager,
        SourceKind::Grafana,
        SourceKind::Datadog,
        SourceKind::Sns,
        SourceKind::Sentry,
        SourceKind::Pagerduty,
        SourceKind::Opsgenie,
        SourceKind::Generic,
    ];

    /// The spelling in config and in `/hooks/{kind}/{name}`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Alertmanager => "alertmanager",
            SourceKind::Grafana => "grafana",
            SourceKind::Datadog => "datadog",
            SourceKind::Sns => "sns",
            SourceKind::Sentry => "sentry",
            SourceKind::Pagerduty => "pagerduty",
            SourceKind::Opsgenie => "opsgenie",
            SourceKind::Generic => "generic",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// Whether the condition an alert reports still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "firing" => Some(AlertStatus::Firing),
            "resolved" => Some(AlertStatus::Resolved),
            _ => None,
        }
    }
}

/// One alert of a delivery, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// What the sender uses to say "the same alert again" (Alertmanager's
    /// fingerprint, Datadog's aggregation and cycle key, Opsgenie's alias…).
    pub dedup_key: String,
    /// Alerts that belong together (one Alertmanager group, one Datadog
    /// monitor group); a new alert of a group an open incident holds joins it.
    pub group_key: String,
    pub status: AlertStatus,
    pub title: String,
    /// The sender's own word for how bad it is (`critical`, `P2`…), if any.
    pub severity_label: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub link: Option<String>,
    /// When the condition began, as the sender says.
    pub started_at: Option<DateTime<Utc>>,
    /// The part of the delivery that described this alert, kept in the ledger.
    pub raw: Value,
}

impl Alert {
    /// The severity the default mapping gives this alert's label.
    pub fn mapped_severity(&self) -> Option<Severity> {
        self.severity_label.as_deref().and_then(map_severity)
    }
}

/// The default mapping: `critical`, `P1` → sev1; `error`, `high`, `P2` →
/// sev2; `warning`, `medium`, `P3` → sev3; `info`, `low`, `P4`, `P5` → sev4;
/// Rebound's own `sev1`–`sev4` as themselves; anything else → unset.
pub fn map_severity(label: &str) -> Option<Severity> {
    match label.trim().to_ascii_lowercase().as_str() {
        "critical" | "p1" | "sev1" => Some(Severity::Sev1),
        "error" | "high" | "p2" | "sev2" => Some(Severity::Sev2),
        "warning" | "medium" | "p3" | "sev3" => Some(Severity::Sev3),
        "info" | "low" | "p4" | "p5" | "sev4" => Some(Severity::Sev4),
        _ => None,
    }
}

/// Why a delivery could not be read; the sender gets it with a 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

impl Malformed {
    fn new(reason: impl Into<String>) -> Self {
        Malformed(reason.into())
    }
}

/// What a delivery carried besides its body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Sentry's `Sentry-Hook-Resource` header.
    pub resource: Option<String>,
    /// The Opsgenie-compatible close call names the alert in the path.
    pub close_alias: Option<String>,
}

/// The alerts a delivery from a sender of `kind` carries (possibly none:
/// a Sentry `installation` hook or a PagerDuty `incident.annotated` event
/// reports no alert).
pub fn parse(kind: SourceKind, delivery: &Delivery, body: &str) -> Result<Vec<Alert>, Malformed> {
    let json: Value = serde_json::from_str(body).map_err(|e| Malformed(format!("body is not JSON: {e}")))?;
    if !json.is_object() {
        return Err(Malformed::new("body is not a JSON object"));
    }
    let alerts = match kind {
        SourceKind::Alertmanager | SourceKind::Grafana => prometheus::parse(&json)?,
        SourceKind::Datadog => datadog::parse(&json)?,
        SourceKind::Sentry => sentry::parse(delivery.resource.as_deref(), &json)?,
        SourceKind::Pagerduty => pagerduty::parse(&json)?,
        SourceKind::Opsgenie => opsgenie::parse(delivery.close_alias.as_deref(), &json)?,
        SourceKind::Generic => generic::parse(&json)?,
        SourceKind::Sns => sns::parse(&json)?,
    };
    let own_part = |mut alert: Alert| {
        if alert.raw.is_null() {
            alert.raw = json.clone();
        }
        bounded(alert)
    };
    alerts.into_iter().map(own_part).collect()
}

/// Longest title kept (Slack headers hold 150 characters; the card shows more).
const MAX_TITLE: usize = 200;
const MAX_KEY: usize = 512;
const MAX_LABELS: usize = 64;

/// Keeps hostile senders' fields to sizes Slack and the database take.
fn bounded(mut alert: Alert) -> Result<Alert, Malformed> {
    if alert.dedup_key.is_empty() {
        return Err(Malformed::new("an alert has no dedup key"));
    }
    if alert.dedup_key.len() > MAX_KEY || alert.group_key.len() > MAX_KEY {
        return Err(Malformed::new(format!("a dedup or group key is over {MAX_KEY} bytes")));
    }
    if alert.labels.len() > MAX_LABELS {
        return Err(Malformed::new(format!("an alert has over {MAX_LABELS} labels")));
    }
    let title = alert.title.trim();
    alert.title = match title.is_empty() {
        true => "Untitled alert".to_string(),
        false => title.chars().take(MAX_TITLE).collect(),
    };
    alert.link = alert
        .link
        .filter(|link| link.starts_with("https://") || link.starts_with("http://"));
    Ok(alert)
}

/// A string field, if present and not empty.
fn text(value: &Value, key: &str) -> Option<String> {
    match &value[key] {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A required string field.
fn required(value: &Value, key: &str, what: &str) -> Result<String, Malformed> {
    text(value, key).ok_or_else(|| Malformed(format!("{what} has no {key:?}")))
}

/// An object of strings (labels, tags); other values are shown as JSON.
fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|object| {
            object
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// An instant as senders write them: RFC 3339, or epoch seconds or milliseconds.
fn instant(value: &Value) -> Option<DateTime<Utc>> {
    let epoch = |n: i64| match n {
        n if n > 100_000_000_000 => DateTime::from_timestamp_millis(n),
        n => DateTime::from_timestamp(n, 0),
    };
    match value {
        Value::String(s) => DateTime::parse_from_rfc3339(s.trim())
            .map(|at| at.with_timezone(&Utc))
            .ok()
            .or_else(|| s.trim().parse::<i64>().ok().and_then(epoch)),
        Value::Number(n) => n.as_i64().and_then(epoch),
        _ => None,
    }
    // Alertmanager writes "0001-01-01T00:00:00Z" for "not yet".
    .filter(|at| at.timestamp() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_mapping_follows_the_interface() {
        for (label, severity) in [
            ("critical", Some(Severity::Sev1)),
            ("P1", Some(Severity::Sev1)),
            ("error", Some(Severity::Sev2)),
            ("high", Some(Severity::Sev2)),
            ("P2", Some(Severity::Sev2)),
            ("warning", Some(Severity::Sev3)),
            ("medium", Some(Severity::Sev3)),
            ("P3", Some(Severity::Sev3)),
            ("info", Some(Severity::Sev4)),
            ("low", Some(Severity::Sev4)),
            ("P4", Some(Severity::Sev4)),
            ("P5", Some(Severity::Sev4)),
            ("page-everyone", None),
        ] {
            assert_eq!(map_severity(label), severity, "{label}");
        }
    }

    #[test]
    fn instants_come_in_three_spellings() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T14:05:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(instant(&Value::from("2026-12-01T14:05:00Z")), Some(at));
        assert_eq!(instant(&Value::from(at.timestamp())), Some(at));
        assert_eq!(instant(&Value::from(at.timestamp_millis().to_string())), Some(at));
        assert_eq!(instant(&Value::from("0001-01-01T00:00:00Z")), None);
    }

    #[test]
    fn hostile_fields_are_bounded() {
        let body = serde_json::json!({ "title": "x".repeat(10_000), "status": "firing", "dedup_key": "k", "link": "javascript:alert(1)" });
        let alerts = parse(SourceKind::Generic, &Delivery::default(), &body.to_string()).unwrap();
        assert_eq!(alerts[0].title.chars().count(), MAX_TITLE);
        assert_eq!(alerts[0].link, None, "only web links are kept");
        let long_key = serde_json::json!({ "title": "t", "status": "firing", "dedup_key": "k".repeat(600) });
        assert!(parse(SourceKind::Generic, &Delivery::default(), &long_key.to_string()).is_err());
        assert!(parse(SourceKind::Generic, &Delivery::default(), "[1, 2]").is_err());
    }
}
