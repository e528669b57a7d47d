//! Amazon SNS HTTPS subscriptions carrying CloudWatch alarms: the envelope
//! SNS posts, the exact text it signs, which URLs in it may be fetched, and
//! the alarm inside `Message`. Pure: the signature check and the fetches are
//! `intake/sns.rs`'s.
//! <https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html>,
//! <https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html>,
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html>

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{Alert, AlertStatus, Malformed, text};

/// The JSON document SNS posts to an HTTPS subscriber.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Envelope {
    #[serde(rename = "Type")]
    pub kind: String,
    pub message_id: String,
    pub topic_arn: String,
    #[serde(default)]
    pub subject: Option<String>,
    pub message: String,
    pub timestamp: String,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(rename = "SubscribeURL", default)]
    pub subscribe_url: Option<String>,
    pub signature_version: String,
    pub signature: String,
    #[serde(rename = "SigningCertURL")]
    pub signing_cert_url: String,
}

/// The digest a `SignatureVersion` names (RSA PKCS#1 v1.5 either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    /// Version 1: SHA1withRSA.
    Sha1,
    /// Version 2: SHA256withRSA.
    Sha256,
}

impl Envelope {
    /// Reads the envelope; 400 with a reason when it is not one.
    pub fn parse(body: &str) -> Result<Self, Malformed> {
        serde_json::from_str(body).map_err(|e| Malformed(format!("not an SNS message: {e}")))
    }

    pub fn is_notification(&self) -> bool {
        self.kind == "Notification"
    }

    pub fn is_subscription_confirmation(&self) -> bool {
        self.kind == "SubscriptionConfirmation"
    }

    pub fn digest(&self) -> Result<Digest, Malformed> {
        match self.signature_version.as_str() {
            "1" => Ok(Digest::Sha1),
            "2" => Ok(Digest::Sha256),
            other => Err(Malformed(format!("unknown SNS SignatureVersion {other:?}"))),
        }
    }

    /// What SNS signed: each field's name and value on lines of their own,
    /// in byte order of the names, `Subject` only when present.
    pub fn string_to_sign(&self) -> Result<String, Malformed> {
        let mut fields: Vec<(&str, &str)> = vec![("Message", &self.message), ("MessageId", &self.message_id)];
        match self.kind.as_str() {
            "Notification" => {
                if let Some(subject) = &self.subject {
                    fields.push(("Subject", subject));
                }
            }
            "SubscriptionConfirmation" | "UnsubscribeConfirmation" => {
                let missing = || Malformed(format!("an SNS {} has no SubscribeURL or Token", self.kind));
                fields.push(("SubscribeURL", self.subscribe_url.as_deref().ok_or_else(missing)?));
                fields.push(("Timestamp", &self.timestamp));
                fields.push(("Token", self.token.as_deref().ok_or_else(missing)?));
                fields.push(("TopicArn", &self.topic_arn));
                fields.push(("Type", &self.kind));
                return Ok(joined(&fields));
            }
            other => return Err(Malformed(format!("unknown SNS message Type {other:?}"))),
        }
        fields.extend([
            ("Timestamp", self.timestamp.as_str()),
            ("TopicArn", &self.topic_arn),
            ("Type", &self.kind),
        ]);
        Ok(joined(&fields))
    }
}

fn joined(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("{name}\n{value}\n"))
        .collect()
}

/// May Rebound fetch `url` on SNS's word? Only over HTTPS from an SNS host
/// (`sns.<region>.amazonaws.com`, or `.amazonaws.com.cn`) — anything else
/// would let a forged message name its own certificate, or make Rebound
/// request an internal address. `test_origin` (a loopback origin, from a
/// source's `insecure_test_origin`) is also allowed, for tests.
pub fn aws_url_allowed(url: &url::Url, test_origin: Option<&url::Origin>) -> bool {
    if test_origin.is_some_and(|origin| &url.origin() == origin) {
        return true;
    }
    let sns_host = url.host_str().is_some_and(|host| {
        let region = host.strip_prefix("sns.").and_then(|rest| {
            rest.strip_suffix(".amazonaws.com")
                .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))
        });
        region.is_some_and(|r| r.len() >= 3 && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    });
    url.scheme() == "https" && url.port().is_none() && url.username().is_empty() && sns_host
}

/// The CloudWatch alarm a `Notification` carries (other types carry none).
pub(super) fn parse(body: &Value) -> Result<Vec<Alert>, Malformed> {
    if body["Type"].as_str() != Some("Notification") {
        return Ok(Vec::new());
    }
    let message = body["Message"].as_str().unwrap_or_default();
    let alarm: Value = serde_json::from_str(message)
        .ok()
        .filter(|alarm: &Value| alarm["AlarmName"].is_string())
        .ok_or_else(|| Malformed("the SNS Message is not a CloudWatch alarm (no AlarmName)".into()))?;
    let status = match alarm["NewStateValue"].as_str() {
        Some("ALARM") => AlertStatus::Firing,
        Some("OK") => AlertStatus::Resolved,
        // INSUFFICIENT_DATA says nothing about the condition.
        _ => return Ok(Vec::new()),
    };
    let name = text(&alarm, "AlarmName").unwrap_or_default();
    let key = text(&alarm, "AlarmArn").unwrap_or_else(|| name.clone());
    let region = alarm_region(&key);
    let mut labels = BTreeMap::new();
    for (label, field) in [("account", "AWSAccountId"), ("region", "Region")] {
        if let Some(value) = text(&alarm, field) {
            labels.insert(label.to_string(), value);
        }
    }
    if let Some(metric) = text(&alarm["Trigger"], "MetricName") {
        labels.insert("metric".into(), metric);
    }
    if let Some(namespace) = text(&alarm["Trigger"], "Namespace") {
        labels.insert("namespace".into(), namespace);
    }
    let link = region.map(|region| {
        let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
        format!("https://console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{encoded}")
    });
    Ok(vec![Alert {
        dedup_key: key.clone(),
        group_key: key,
        status,
        title: name,
        severity_label: None,
        labels,
        link,
        started_at: alarm["StateChangeTime"].as_str().and_then(state_change_time),
        raw: alarm,
    }])
}

/// `arn:aws:cloudwatch:<region>:<account>:alarm:<name>` → the region.
fn alarm_region(arn: &str) -> Option<&str> {
    let region = arn.split(':').nth(3)?;
    (!region.is_empty() && region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')).then_some(region)
}

/// CloudWatch writes `2021-07-14T23:20:50.708+0000` (no colon in the offset).
fn state_change_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(kind: &str) -> Envelope {
        Envelope {
            kind: kind.into(),
            message_id: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324".into(),
            topic_arn: "arn:aws:sns:us-west-2:123456789012:MyTopic".into(),
            subject: None,
            message: "hello".into(),
            timestamp: "2012-05-02T00:54:06.655Z".into(),
            token: Some("2336412f37".into()),
            subscribe_url: Some("https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription".into()),
            signature_version: "1".into(),
            signature: String::new(),
            signing_cert_url: String::new(),
        }
    }

    #[test]
    fn the_signed_text_follows_the_documented_order() {
        let mut notification = envelope("Notification");
        assert_eq!(
            notification.string_to_sign().unwrap(),
            "Message\nhello\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nTimestamp\n2012-05-02T00:54:06.655Z\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n"
        );
        notification.subject = Some("ALARM".into());
        assert!(
            notification
                .string_to_sign()
                .unwrap()
                .contains("MessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nALARM\nTimestamp\n")
        );
        let confirmation = envelope("SubscriptionConfirmation").string_to_sign().unwrap();
        assert!(
            confirmation
                .contains("SubscribeURL\nhttps://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription\nTimestamp\n")
        );
        assert!(confirmation.contains("Token\n2336412f37\nTopicArn\n"));
        assert!(envelope("Unknown").string_to_sign().is_err());
    }

    #[test]
    fn only_sns_hosts_over_https_may_be_fetched() {
        let allowed = |u: &str| aws_url_allowed(&url::Url::parse(u).unwrap(), None);
        assert!(allowed(
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem"
        ));
        assert!(allowed("https://sns.cn-north-1.amazonaws.com.cn/x.pem"));
        for hostile in [
            "http://sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com.evil.example/x.pem",
            "https://evil.example/sns.us-east-1.amazonaws.com/x.pem",
            "https://s3.amazonaws.com/attacker-bucket/x.pem",
            "https://sns.us-east-1.amazonaws.com:8443/x.pem",
            "https://user@sns.us-east-1.amazonaws.com/x.pem",
            "https://169.254.169.254/latest/meta-data",
        ] {
            assert!(!allowed(hostile), "{hostile}");
        }
        let test = url::Url::parse("http://127.0.0.1:4567").unwrap().origin();
        assert!(aws_url_allowed(
            &url::Url::parse("http://127.0.0.1:4567/cert.pem").unwrap(),
            Some(&test)
        ));
        assert!(!aws_url_allowed(
            &url::Url::parse("http://127.0.0.1:9999/cert.pem").unwrap(),
            Some(&test)
        ));
    }

    #[test]
    fn an_alarm_fires_and_clears() {
        let alarm = serde_json::json!({
            "AlarmName": "api-5xx", "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-5xx",
            "NewStateValue": "ALARM", "StateChangeTime": "2021-07-14T23:20:50.708+0000",
            "Region": "US East (N. Virginia)", "Trigger": { "MetricName": "5XXError" }
        });
        let body = |alarm: &Value| serde_json::json!({ "Type": "Notification", "Message": alarm.to_string() });
        let alerts = parse(&body(&alarm)).unwrap();
        assert_eq!(alerts[0].status, AlertStatus::Firing);
        assert_eq!(alerts[0].title, "api-5xx");
        assert_eq!(
            alerts[0].started_at.unwrap().to_rfc3339(),
            "2021-07-14T23:20:50.708+00:00"
        );
        assert!(
            alerts[0]
                .link
                .as_deref()
                .unwrap()
                .contains("region=us-east-1#alarmsV2:alarm/api-5xx")
        );
        let mut ok = alarm.clone();
        ok["NewStateValue"] = "OK".into();
        assert_eq!(parse(&body(&ok)).unwrap()[0].status, AlertStatus::Resolved);
        ok["NewStateValue"] = "INSUFFICIENT_DATA".into();
        assert!(parse(&body(&ok)).unwrap().is_empty());
        assert!(parse(&serde_json::json!({ "Type": "Notification", "Message": "plain text" })).is_err());
    }
}
