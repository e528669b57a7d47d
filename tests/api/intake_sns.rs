//! CloudWatch alarms through an Amazon SNS HTTPS subscription, end to end:
//! the subscription is confirmed, notifications signed with SNS's v1 and v2
//! signatures open and auto-resolve an incident, and forged, re-pointed or
//! foreign-topic messages are refused before anything is fetched or stored.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::fake_sns::fake_sns;
use crate::helpers::{TestApp, scalar, unique};
use crate::intake::{Headers, SECRET, count, deliver, fixture, incidents, settled};

const TOPIC: &str = "arn:aws:sns:us-west-2:123456789012:MyTopic";
const HOOK: &str = "/hooks/sns/cloudwatch";

fn sns_sources() -> String {
    format!(
        r#"
[[intake.sources]]
name = "cloudwatch"
kind = "sns"
secret = "{SECRET}"
auto_resolve = true
topic_arns = ["{TOPIC}"]
insecure_test_origin = "{}"
"#,
        fake_sns().origin
    )
}

/// What SNS sends when the subscription URL is `https://rebound:SECRET@…`.
fn basic_auth() -> Headers {
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("rebound:{SECRET}"));
    vec![("Authorization", format!("Basic {credentials}"))]
}

/// The documented notification, its certificate at `cert`, signed.
fn notification(cert: &str, state: &str, message_id: &str, version: u8) -> String {
    let mut envelope: Value = serde_json::from_str(&fixture("sns-notification.json")).unwrap();
    let mut alarm: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    alarm["NewStateValue"] = json!(state);
    envelope["Message"] = json!(alarm.to_string());
    envelope["MessageId"] = json!(message_id);
    envelope["SigningCertURL"] = json!(fake_sns().cert_url(cert));
    fake_sns().sign(&mut envelope, version);
    envelope.to_string()
}

fn confirmation(cert: &str, token: &str) -> Value {
    let mut envelope: Value = serde_json::from_str(&fixture("sns-subscription-confirmation.json")).unwrap();
    envelope["Token"] = json!(token);
    envelope["SubscribeURL"] = json!(fake_sns().subscribe_url(TOPIC, token));
    envelope["SigningCertURL"] = json!(fake_sns().cert_url(cert));
    envelope
}

crate::both_backends!(
    sns_confirms_the_subscription_and_cloudwatch_alarms_open_and_resolve_an_incident,
    config = &sns_sources(),
    |app: TestApp| async move {
        let sns = fake_sns();
        let cert = unique();
        let token = format!("token-{}", unique());
        let mut confirm = confirmation(&cert, &token);
        sns.sign(&mut confirm, 2);

        // SNS first calls without credentials and expects a challenge.
        let response = app
            .http
            .post(format!("{}{HOOK}", app.base))
            .body(confirm.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["www-authenticate"], r#"Basic realm="rebound""#);
        assert!(!sns.confirmed(&token));

        let (status, answer) = deliver(&app, HOOK, &basic_auth(), &confirm.to_string()).await;
        assert_eq!(status, 202, "{answer}");
        assert!(answer.contains("subscription_confirmed"), "{answer}");
        assert!(sns.confirmed(&token), "Rebound visited the SubscribeURL");

        // An alarm, retried three times by SNS with the same MessageId (v1 signature).
        let alarm = notification(&cert, "ALARM", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", 1);
        for _ in 0..3 {
            let (status, answer) = deliver(&app, HOOK, &basic_auth(), &alarm).await;
            assert_eq!(status, 202, "{answer}");
        }
        settled(&app).await;
        assert_eq!(incidents(&app).await, 1);
        let title: String = scalar(&app, "SELECT title FROM incidents").await;
        assert_eq!(title, "EXAMPLE", "the alarm's name");
        let deliveries: i64 = scalar(&app, "SELECT deliveries FROM alerts").await;
        assert_eq!(deliveries, 1, "SNS retries are one delivery");

        // OK (a v2 signature) clears it; the source auto-resolves.
        let ok = notification(&cert, "OK", "7f1e3c0a-0b3e-4d3f-9b8e-5c3a1d2e4f60", 2);
        let (status, answer) = deliver(&app, HOOK, &basic_auth(), &ok).await;
        assert_eq!(status, 202, "{answer}");
        settled(&app).await;
        let status: String = scalar(&app, "SELECT status FROM incidents").await;
        assert_eq!(status, "resolved");
        assert_eq!(
            sns.cert_fetches(&cert),
            1,
            "the certificate is fetched once, then cached"
        );
    }
);

crate::both_backends!(
    forged_and_repointed_sns_messages_are_refused_and_store_nothing,
    config = &sns_sources(),
    |app: TestApp| async move {
        let sns = fake_sns();
        let cert = unique();
        let mut cases: Vec<(&str, String, u16)> = Vec::new();

        let mut tampered: Value = serde_json::from_str(&notification(&cert, "ALARM", "m-1", 2)).unwrap();
        tampered["Message"] = json!(tampered["Message"].as_str().unwrap().replace("EXAMPLE", "Pay me"));
        cases.push(("message changed after signing", tampered.to_string(), 401));

        // A certificate anywhere but SNS (here: another port of this host).
        let mut elsewhere: Value = serde_json::from_str(&fixture("sns-notification.json")).unwrap();
        elsewhere["SigningCertURL"] = json!(format!("http://127.0.0.1:1/certs/{cert}.pem"));
        sns.sign(&mut elsewhere, 2);
        cases.push(("certificate off SNS", elsewhere.to_string(), 401));
        let mut metadata = elsewhere.clone();
        metadata["SigningCertURL"] = json!("https://169.254.169.254/latest/meta-data/x.pem");
        sns.sign(&mut metadata, 2);
        cases.push(("certificate at an internal address", metadata.to_string(), 401));

        let mut other_topic: Value = serde_json::from_str(&notification(&cert, "ALARM", "m-2", 2)).unwrap();
        other_topic["TopicArn"] = json!("arn:aws:sns:us-east-1:999999999999:AttackerTopic");
        sns.sign(&mut other_topic, 2);
        cases.push(("a topic not in topic_arns", other_topic.to_string(), 401));

        let token = format!("token-{}", unique());
        let mut repointed = confirmation(&cert, &token);
        repointed["SubscribeURL"] = json!(format!("http://127.0.0.1:1/?Action=ConfirmSubscription&Token={token}"));
        sns.sign(&mut repointed, 2);
        cases.push(("SubscribeURL off SNS", repointed.to_string(), 401));

        let mut version: Value = serde_json::from_str(&notification(&cert, "ALARM", "m-3", 2)).unwrap();
        version["SignatureVersion"] = json!("3");
        cases.push(("unknown SignatureVersion", version.to_string(), 401));

        let mut not_alarm: Value = serde_json::from_str(&fixture("sns-notification.json")).unwrap();
        not_alarm["Message"] = json!("deploy finished");
        not_alarm["SigningCertURL"] = json!(sns.cert_url(&cert));
        sns.sign(&mut not_alarm, 1);
        cases.push(("a message that is not an alarm", not_alarm.to_string(), 400));

        cases.push(("not an SNS envelope", "{}".to_string(), 400));
        cases.push((
            "certificate host failing",
            notification(&format!("broken-{cert}"), "ALARM", "m-4", 2),
            503,
        ));

        for (what, body, expected) in &cases {
            let (status, answer) = deliver(&app, HOOK, &basic_auth(), body).await;
            assert_eq!(status, *expected, "{what}: {answer}");
        }
        // The right signature without the subscription's password.
        let signed = notification(&cert, "ALARM", "m-5", 2);
        let wrong = base64::engine::general_purpose::STANDARD.encode("rebound:not-the-secret-at-all");
        let (status, _) = deliver(&app, HOOK, &[("Authorization", format!("Basic {wrong}"))], &signed).await;
        assert_eq!(
            status, 401,
            "SNS's signature alone proves only that some AWS topic sent it"
        );

        assert!(!sns.confirmed(&token), "a re-pointed SubscribeURL is never visited");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM inbox").await, 0, "nothing stored");
        assert_eq!(incidents(&app).await, 0);
    }
);
