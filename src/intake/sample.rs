//! `rebound intake test <source>`: a sample alert in the shape the source's
//! sender uses, authenticated exactly as that sender would, so an operator
//! can check a source end to end against a running Rebound before the real
//! sender is wired up. SNS cannot be imitated (AWS signs it).

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::config::intake::SourceSettings;
use crate::domain::alerts::SourceKind;

/// The dedup key every sample uses, so `--resolved` clears the one before.
pub const SAMPLE_KEY: &str = "rebound-intake-test";

/// One request to send: path, headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRequest {
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// Why there is no sample for a source.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NoSample(pub String);

/// A firing (or, with `resolved`, clearing) sample alert for `source` at `now`.
pub fn sample(source: &SourceSettings, resolved: bool, now: DateTime<Utc>) -> Result<SampleRequest, NoSample> {
    let title = format!("Rebound intake test from {}", source.name);
    let at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let status = if resolved { "resolved" } else { "firing" };
    let hook = format!("/hooks/{}/{}", source.kind.as_str(), source.name);
    let (path, body) = match source.kind {
        SourceKind::Alertmanager | SourceKind::Grafana => (
            hook,
            json!({
                "version": "4", "groupKey": SAMPLE_KEY, "status": status, "receiver": "rebound", "orgId": 1,
                "alerts": [{
                    "status": status, "fingerprint": SAMPLE_KEY, "startsAt": at,
                    "labels": { "alertname": "ReboundIntakeTest", "severity": "info" },
                    "annotations": { "summary": title }
                }]
            }),
        ),
        SourceKind::Datadog => (
            hook,
            json!({
                "id": "1", "title": title, "transition": if resolved { "Recovered" } else { "Triggered" },
                "aggreg_key": SAMPLE_KEY, "cycle_key": "1", "priority": "P4", "date": now.timestamp_millis().to_string(),
                "tags": "source:rebound-intake-test", "body": "A test alert sent by `rebound intake test`."
            }),
        ),
        SourceKind::Sentry => (
            hook,
            json!({
                "action": if resolved { "resolved" } else { "created" },
                "data": { "issue": { "id": SAMPLE_KEY, "title": title, "level": "info", "firstSeen": at } }
            }),
        ),
        SourceKind::Pagerduty => (
            hook,
            json!({ "event": {
                "event_type": if resolved { "incident.resolved" } else { "incident.triggered" }, "occurred_at": at,
                "data": { "id": SAMPLE_KEY, "type": "incident", "title": title, "urgency": "low", "created_at": at }
            }}),
        ),
        SourceKind::Opsgenie if resolved => (
            format!("/v2/alerts/{SAMPLE_KEY}/close?identifierType=alias"),
            json!({ "note": "closed by rebound intake test" }),
        ),
        SourceKind::Opsgenie => (
            "/v2/alerts".to_string(),
            json!({ "message": title, "alias": SAMPLE_KEY, "priority": "P5" }),
        ),
        SourceKind::Generic => (
            hook,
            json!({ "title": title, "status": status, "dedup_key": SAMPLE_KEY, "severity": "info", "started_at": at }),
        ),
        SourceKind::Sns => {
            return Err(NoSample(
                "SNS messages are signed by AWS, so Rebound cannot imitate one: publish a test to the topic instead \
                 (`aws cloudwatch set-alarm-state --alarm-name <alarm> --state-value ALARM --state-reason test`)"
                    .into(),
            ));
        }
    };
    let body = body.to_string();
    Ok(SampleRequest {
        path,
        headers: credentials(source, &body),
        body,
    })
}

/// The headers that authenticate `body` as `source`'s sender does.
fn credentials(source: &SourceSettings, body: &str) -> Vec<(&'static str, String)> {
    let secret = source.secret.expose_secret();
    let bearer = ("authorization", format!("Bearer {secret}"));
    match source.kind {
        SourceKind::Alertmanager | SourceKind::Grafana | SourceKind::Generic => vec![bearer],
        SourceKind::Datadog => vec![("x-rebound-secret", secret.to_string())],
        SourceKind::Sentry => vec![
            ("sentry-hook-resource", "issue".into()),
            ("sentry-hook-signature", hmac_hex(secret, body)),
        ],
        SourceKind::Pagerduty => vec![("x-pagerduty-signature", format!("v1={}", hmac_hex(secret, body)))],
        SourceKind::Opsgenie => vec![("authorization", format!("GenieKey {secret}"))],
        SourceKind::Sns => Vec::new(),
    }
}

fn hmac_hex(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Sends `request` to the Rebound at `base`; its status and answer.
pub async fn send(base: &url::Url, request: &SampleRequest) -> anyhow::Result<(u16, String)> {
    use http_body_util::Full;
    let url = base.join(request.path.trim_start_matches('/'))?;
    let mut builder = axum::http::Request::post(url.as_str()).header("content-type", "application/json");
    for (name, value) in &request.headers {
        builder = builder.header(*name, value);
    }
    let http_request = builder.body(Full::new(bytes::Bytes::from(request.body.clone())))?;
    let answer = crate::http_client::send(
        &crate::http_client::https_client(),
        http_request,
        std::time::Duration::from_secs(10),
        1024 * 1024,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    Ok((
        answer.status.as_u16(),
        String::from_utf8_lossy(&answer.body).into_owned(),
    ))
}

/// The parsed body, for callers that print it.
pub fn pretty(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alerts::{self, AlertStatus, Delivery};
    use crate::intake::auth::testing::{Map, source};
    use crate::intake::auth::{self, Headers};

    /// What the intake route would make of the sample.
    fn received(kind: SourceKind, resolved: bool) -> Vec<alerts::Alert> {
        let source = source(kind);
        let request = sample(&source, resolved, Utc::now()).unwrap();
        let headers = Map(request.headers.iter().cloned().collect());
        assert!(
            auth::authenticated(&source, &headers, request.body.as_bytes()),
            "{kind:?}"
        );
        let close_alias = request
            .path
            .strip_prefix("/v2/alerts/")
            .and_then(|rest| rest.split('/').next())
            .map(str::to_string);
        let delivery = Delivery {
            resource: headers.get("sentry-hook-resource").map(str::to_string),
            close_alias,
        };
        alerts::parse(kind, &delivery, &request.body).unwrap()
    }

    #[test]
    fn every_sample_authenticates_and_parses_as_its_sender() {
        for kind in SourceKind::ALL.into_iter().filter(|k| *k != SourceKind::Sns) {
            let firing = received(kind, false);
            assert_eq!(firing.len(), 1, "{kind:?}");
            assert_eq!(firing[0].status, AlertStatus::Firing, "{kind:?}");
            assert!(
                firing[0].title.contains("Rebound intake test"),
                "{kind:?}: {}",
                firing[0].title
            );
            let cleared = received(kind, true);
            assert_eq!(cleared[0].status, AlertStatus::Resolved, "{kind:?}");
            assert_eq!(
                cleared[0].dedup_key, firing[0].dedup_key,
                "{kind:?}: --resolved clears the same alert"
            );
        }
        assert!(sample(&source(SourceKind::Sns), false, Utc::now()).is_err());
    }
}
