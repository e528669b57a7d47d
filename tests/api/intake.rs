//! Alert intake end to end: each sender's documented payload, authenticated
//! as that sender does, opens, joins and clears incidents (or opens a
//! ticket); forged, missing and malformed deliveries store nothing.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{TestApp, scalar};

pub(crate) const SECRET: &str = "intake-secret-0123456789";

/// Request headers as name and value.
pub(crate) type Headers = Vec<(&'static str, String)>;
/// A path, its headers and its body.
type Sent<'a> = (&'a str, Headers, &'a str);

const SOURCES: &str = r#"
[[intake.sources]]
name = "prod-am"
kind = "alertmanager"
secret = "intake-secret-0123456789"

[[intake.sources]]
name = "am-auto"
kind = "alertmanager"
secret = "intake-secret-0123456789"
auto_resolve = true

[[intake.sources]]
name = "grafana"
kind = "grafana"
secret = "intake-secret-0123456789"

[[intake.sources]]
name = "dd"
kind = "datadog"
secret = "intake-secret-0123456789"

[[intake.sources]]
name = "sentry"
kind = "sentry"
secret = "intake-secret-0123456789"

[[intake.sources]]
name = "pd"
kind = "pagerduty"
secret = "intake-secret-0123456789"

[[intake.sources]]
name = "genie"
kind = "opsgenie"
secret = "intake-secret-0123456789"

[[intake.sources]]
name = "kpi"
kind = "generic"
secret = "intake-secret-0123456789"
action = "ticket"

[[intake.sources]]
name = "sns"
kind = "sns"
secret = "intake-secret-0123456789"
"#;

pub(crate) fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/alerts/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn hmac_hex(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub(crate) async fn deliver(app: &TestApp, path: &str, headers: &[(&str, String)], body: &str) -> (u16, String) {
    let mut request = app
        .http
        .post(format!("{}{path}", app.base))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn bearer() -> Headers {
    vec![("Authorization", format!("Bearer {SECRET}"))]
}

pub(crate) async fn count(app: &TestApp, sql: &str) -> i64 {
    scalar::<i64>(app, sql).await
}

pub(crate) async fn incidents(app: &TestApp) -> i64 {
    count(app, "SELECT COUNT(*) FROM incidents").await
}

/// Waits until the inbox is drained and the Slack calls sent.
pub(crate) async fn settled(app: &TestApp) {
    app.wait_until_inbox_empty().await;
    app.wait_until_outbox_empty().await;
}

fn resolved(body: &str) -> String {
    let mut json: Value = serde_json::from_str(body).unwrap();
    json["status"] = json!("resolved");
    for alert in json["alerts"].as_array_mut().unwrap() {
        alert["status"] = json!("resolved");
        alert["endsAt"] = json!("2023-02-06T13:20:00Z");
    }
    json.to_string()
}

crate::both_backends!(
    alertmanager_opens_an_incident_once_and_offers_to_resolve_when_it_clears,
    config = SOURCES,
    |app: TestApp| async move {
        let body = fixture("alertmanager-firing.json");
        for _ in 0..3 {
            let (status, answer) = deliver(&app, "/hooks/alertmanager/prod-am", &bearer(), &body).await;
            assert_eq!(status, 202, "{answer}");
        }
        settled(&app).await;
        assert_eq!(incidents(&app).await, 1, "a delivery retried 3x opens one incident");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM alerts").await, 1);
        let incident: String = scalar(&app, "SELECT title FROM incidents").await;
        assert_eq!(incident, "BlackBox Probe Failure: https://server.example.org");
        let severity: String = scalar(&app, "SELECT severity FROM incidents").await;
        assert_eq!(severity, "sev1", "critical maps to sev1");
        let lead: Option<String> = scalar(&app, "SELECT lead FROM incidents").await;
        assert_eq!(lead, None, "nobody leads an incident an alert opened");
        let card = app.fake.calls("chat.postMessage");
        assert!(
            card.iter().any(|c| c.args.to_string().contains("`prod-am` alerts")),
            "{card:?}"
        );

        let (status, _) = deliver(&app, "/hooks/alertmanager/prod-am", &bearer(), &resolved(&body)).await;
        assert_eq!(status, 202);
        settled(&app).await;
        let status: String = scalar(&app, "SELECT status FROM incidents").await;
        assert_ne!(status, "resolved", "without auto_resolve a person decides");
        let offers: Vec<_> = app
            .fake
            .calls("chat.postMessage")
            .into_iter()
            .filter(|c| c.args.to_string().contains("resolve the incident?"))
            .collect();
        assert_eq!(offers.len(), 1, "one offer to resolve");
        assert!(
            offers[0].args.to_string().contains("incident_resolve"),
            "with the resolve button"
        );
        let alert_status: String = scalar(&app, "SELECT status FROM alerts").await;
        assert_eq!(alert_status, "resolved");
        let deliveries: i64 = scalar(&app, "SELECT deliveries FROM alerts").await;
        assert_eq!(
            deliveries, 2,
            "the retries were recognised at the inbox; the resolve counted"
        );
    }
);

crate::both_backends!(
    auto_resolve_resolves_when_every_alert_has_cleared,
    config = SOURCES,
    |app: TestApp| async move {
        let mut storm: Value = serde_json::from_str(&fixture("alertmanager-firing.json")).unwrap();
        let template = storm["alerts"][0].clone();
        storm["alerts"] = (0..100)
            .map(|i| {
                let mut alert = template.clone();
                alert["fingerprint"] = json!(format!("fp{i:03}"));
                alert["labels"]["instance"] = json!(format!("https://server{i}.example.org"));
                alert
            })
            .collect();
        let (status, _) = deliver(&app, "/hooks/alertmanager/am-auto", &bearer(), &storm.to_string()).await;
        assert_eq!(status, 202);
        settled(&app).await;
        assert_eq!(
            incidents(&app).await,
            1,
            "a storm of 100 alerts in one group is one incident"
        );
        let linked = count(&app, "SELECT COUNT(*) FROM alerts WHERE incident_id IS NOT NULL").await;
        assert_eq!(linked, 100);
        let joined: Vec<_> = app
            .fake
            .calls("chat.postMessage")
            .into_iter()
            .filter(|c| c.args.to_string().contains("joined this incident"))
            .collect();
        assert_eq!(joined.len(), 1, "one summarised post, not 99");
        assert!(joined[0].args.to_string().contains("99 more alerts"));

        // Half clear: still open. The rest clear: resolved by itself.
        let mut half = storm.clone();
        half["alerts"] = json!(storm["alerts"].as_array().unwrap()[..50].to_vec());
        deliver(
            &app,
            "/hooks/alertmanager/am-auto",
            &bearer(),
            &resolved(&half.to_string()),
        )
        .await;
        settled(&app).await;
        let status: String = scalar(&app, "SELECT status FROM incidents").await;
        assert_ne!(status, "resolved");
        deliver(
            &app,
            "/hooks/alertmanager/am-auto",
            &bearer(),
            &resolved(&storm.to_string()),
        )
        .await;
        settled(&app).await;
        let status: String = scalar(&app, "SELECT status FROM incidents").await;
        assert_eq!(status, "resolved", "every alert cleared on an auto_resolve source");
        let summary: Option<String> = scalar(&app, "SELECT summary FROM incidents").await;
        assert_eq!(summary.as_deref(), Some("All alerts resolved"));
    }
);

crate::both_backends!(
    every_sender_opens_an_incident_with_its_own_payload_and_auth,
    config = SOURCES,
    |app: TestApp| async move {
        let grafana = fixture("grafana-firing.json");
        let datadog = fixture("datadog-triggered.json");
        let sentry = fixture("sentry-event-alert.json");
        let pagerduty = fixture("pagerduty-triggered.json");
        let opsgenie = fixture("opsgenie-create.json");
        let deliveries: Vec<Sent> = vec![
            // Grafana's HMAC alone is enough.
            (
                "/hooks/grafana/grafana",
                vec![("X-Grafana-Alerting-Signature", hmac_hex(&grafana))],
                &grafana,
            ),
            (
                "/hooks/datadog/dd",
                vec![("X-Rebound-Secret", SECRET.to_string())],
                &datadog,
            ),
            (
                "/hooks/sentry/sentry",
                vec![
                    ("Sentry-Hook-Resource", "event_alert".to_string()),
                    ("Sentry-Hook-Signature", hmac_hex(&sentry)),
                    ("Request-ID", "6a3e8a4e-1c3a-4f4a-9a3b-1f5f0c0d2a11".to_string()),
                ],
                &sentry,
            ),
            (
                "/hooks/pagerduty/pd",
                vec![
                    // Key rotation: an old signature first, then the current one.
                    (
                        "X-PagerDuty-Signature",
                        format!("v1={}, v1={}", "ab".repeat(32), hmac_hex(&pagerduty)),
                    ),
                    ("X-Webhook-Id", "5ac64822-4adc-4fda-ade0-410becf0de4f".to_string()),
                ],
                &pagerduty,
            ),
            (
                "/v2/alerts",
                vec![("Authorization", format!("GenieKey {SECRET}"))],
                &opsgenie,
            ),
        ];
        for (path, headers, body) in &deliveries {
            let (status, answer) = deliver(&app, path, headers, body).await;
            assert!(status == 202, "{path}: {status} {answer}");
        }
        settled(&app).await;
        let titles: Vec<String> = {
            let mut titles = Vec::new();
            for id in 1..=5 {
                titles.push(scalar(&app, &format!("SELECT title FROM incidents WHERE id = {id}")).await);
            }
            titles
        };
        assert_eq!(
            titles,
            [
                "This alert was triggered for zone us-1",
                "[Triggered] Checkout error rate above 5% on env:prod",
                "ReferenceError: heck is not defined",
                "The server is on fire.",
                "An example alert message",
            ]
        );
        let severities: String = scalar(
            &app,
            "SELECT COALESCE(severity, '-') || ',' FROM incidents ORDER BY id LIMIT 1 OFFSET 1",
        )
        .await;
        assert_eq!(severities, "sev2,", "Datadog P2 → sev2");
        let pd: String = scalar(&app, "SELECT severity FROM incidents WHERE id = 4").await;
        assert_eq!(pd, "sev1", "PagerDuty priority P1 → sev1");
        let genie: String = scalar(&app, "SELECT severity FROM incidents WHERE id = 5").await;
        assert_eq!(genie, "sev1", "Opsgenie P1 → sev1");

        // Each clears the way its sender says so.
        let mut recovered: Value = serde_json::from_str(&datadog).unwrap();
        recovered["transition"] = json!("Recovered");
        let recovered = recovered.to_string();
        let mut pd_resolved: Value = serde_json::from_str(&pagerduty).unwrap();
        pd_resolved["event"]["event_type"] = json!("incident.resolved");
        let pd_resolved = pd_resolved.to_string();
        let grafana_resolved = resolved(&grafana);
        // Sentry's issue webhook says the issue its alert rule raised is resolved.
        let sentry_resolved = json!({ "action": "resolved", "data": { "issue": {
            "id": "1117540176", "title": "ReferenceError: heck is not defined", "status": "resolved" } } })
        .to_string();
        let alias = "Life%20is%20too%20short%20for%20no%20alias";
        let close = format!("/v2/alerts/{alias}/close?identifierType=alias");
        let clears: Vec<Sent> = vec![
            (
                "/hooks/datadog/dd",
                vec![("X-Rebound-Secret", SECRET.to_string())],
                &recovered,
            ),
            (
                "/hooks/pagerduty/pd",
                vec![("X-PagerDuty-Signature", format!("v1={}", hmac_hex(&pd_resolved)))],
                &pd_resolved,
            ),
            (
                &close,
                vec![("Authorization", format!("GenieKey {SECRET}"))],
                r#"{"user":"Monitoring","note":"fixed"}"#,
            ),
            (
                "/hooks/grafana/grafana",
                vec![("Authorization", format!("Bearer {SECRET}"))],
                &grafana_resolved,
            ),
            (
                "/hooks/sentry/sentry",
                vec![
                    ("Sentry-Hook-Resource", "issue".to_string()),
                    ("Sentry-Hook-Signature", hmac_hex(&sentry_resolved)),
                ],
                &sentry_resolved,
            ),
        ];
        for (path, headers, body) in &clears {
            let (status, answer) = deliver(&app, path, headers, body).await;
            assert_eq!(status, 202, "{path}: {answer}");
        }
        settled(&app).await;
        let cleared = count(&app, "SELECT COUNT(*) FROM alerts WHERE status = 'resolved'").await;
        assert_eq!(
            cleared, 5,
            "Datadog Recovered, PagerDuty resolved, Opsgenie close, Grafana resolved, Sentry issue resolved"
        );
        let offers = app
            .fake
            .calls("chat.postMessage")
            .into_iter()
            .filter(|c| c.args.to_string().contains("resolve the incident?"))
            .count();
        assert_eq!(offers, 5, "each incident is offered its resolve button");
        assert_eq!(
            app.metric("rebound_intake_deliveries_total{source=\"pd\",outcome=\"cleared\"}")
                .await,
            1.0
        );
    }
);

crate::both_backends!(
    forged_missing_and_malformed_deliveries_store_nothing,
    config = SOURCES,
    |app: TestApp| async move {
        let am = fixture("alertmanager-firing.json");
        let sentry = fixture("sentry-event-alert.json");
        let wrong = vec![("Authorization", "Bearer not-the-secret-at-all".to_string())];
        let cases: Vec<(&str, Headers, String, u16)> = vec![
            ("/hooks/alertmanager/prod-am", vec![], am.clone(), 401),
            ("/hooks/alertmanager/prod-am", wrong.clone(), am.clone(), 401),
            // Signed for another body.
            (
                "/hooks/sentry/sentry",
                vec![
                    ("Sentry-Hook-Resource", "event_alert".into()),
                    ("Sentry-Hook-Signature", hmac_hex("{}")),
                ],
                sentry.clone(),
                401,
            ),
            ("/hooks/datadog/dd", bearer(), fixture("datadog-triggered.json"), 401),
            (
                "/v2/alerts",
                vec![("Authorization", "GenieKey wrong-key-wrong-key".into())],
                fixture("opsgenie-create.json"),
                401,
            ),
            ("/hooks/sns/sns", bearer(), "{}".into(), 401),
            ("/hooks/alertmanager/nobody", bearer(), am.clone(), 404),
            ("/hooks/grafana/prod-am", bearer(), am.clone(), 404),
            ("/hooks/alertmanager/prod-am", bearer(), "{not json".into(), 400),
            (
                "/hooks/alertmanager/prod-am",
                bearer(),
                r#"{"alerts":[{"status":"exploded","fingerprint":"x"}]}"#.into(),
                400,
            ),
            ("/hooks/kpi/kpi", bearer(), "{}".into(), 404),
            (
                "/hooks/generic/kpi",
                bearer(),
                r#"{"title":"t","status":"firing"}"#.into(),
                400,
            ),
            (
                "/hooks/alertmanager/prod-am",
                bearer(),
                format!("{{\"alerts\":[],\"pad\":\"{}\"}}", "x".repeat(1024 * 1024 + 1)),
                413,
            ),
            (
                "/v2/alerts/a/close",
                vec![("Authorization", format!("GenieKey {SECRET}"))],
                "{}".into(),
                400,
            ),
        ];
        for (path, headers, body, expected) in cases {
            let (status, answer) = deliver(&app, path, &headers, &body).await;
            assert_eq!(status, expected, "{path}: {answer}");
            if expected == 400 {
                assert!(!answer.trim().is_empty(), "a 400 says why");
            }
        }
        assert_eq!(count(&app, "SELECT COUNT(*) FROM inbox").await, 0, "nothing stored");
        assert_eq!(
            app.metric("rebound_intake_deliveries_total{source=\"prod-am\",outcome=\"unauthenticated\"}")
                .await,
            2.0
        );
    }
);

crate::both_backends!(
    a_kpi_breach_becomes_a_failure_ticket,
    config = SOURCES,
    |app: TestApp| async move {
        let body = json!({
            "title": "Signup conversion below 2% for 30 minutes",
            "status": "firing",
            "dedup_key": "kpi-signup-conversion",
            "severity": "warning",
            "labels": { "metric": "signup_conversion" },
            "link": "https://posthog.example.com/insights/abc"
        })
        .to_string();
        let signed = vec![("X-Rebound-Signature", format!("sha256={}", hmac_hex(&body)))];
        let (status, answer) = deliver(&app, "/hooks/generic/kpi", &signed, &body).await;
        assert_eq!(status, 202, "{answer}");
        settled(&app).await;
        assert_eq!(incidents(&app).await, 0, "a ticket, not an incident");
        let ticket: String = scalar(&app, "SELECT body FROM failure_tickets").await;
        assert!(ticket.contains("Signup conversion below 2%"), "{ticket}");
        let reporter: String = scalar(&app, "SELECT reporter FROM failure_tickets").await;
        assert_eq!(reporter, "alert:kpi");
        let linked = count(&app, "SELECT COUNT(*) FROM alerts WHERE ticket_id IS NOT NULL").await;
        assert_eq!(linked, 1);
        let thread = app
            .fake
            .calls("chat.postMessage")
            .into_iter()
            .filter(|c| c.args["thread_ts"].is_string())
            .count();
        assert_eq!(thread, 1, "the ticket's thread reply with its triage buttons");

        // The KPI recovers: the ticket's thread says when.
        let recovered = body.replace("\"firing\"", "\"resolved\"");
        let signed = vec![("X-Rebound-Signature", format!("sha256={}", hmac_hex(&recovered)))];
        let (status, _) = deliver(&app, "/hooks/generic/kpi", &signed, &recovered).await;
        assert_eq!(status, 202);
        settled(&app).await;
        let notes: Vec<_> = app
            .fake
            .calls("chat.postMessage")
            .into_iter()
            .filter(|c| {
                c.args["thread_ts"].is_string() && c.args.to_string().contains("The alert behind failure #1 cleared")
            })
            .collect();
        assert_eq!(notes.len(), 1, "one note in the ticket's thread");
        assert_eq!(incidents(&app).await, 0);
    }
);

const SUMMARISED: &str = r#"
[intake]
summary_every = "1s"

[[intake.sources]]
name = "checks"
kind = "generic"
secret = "intake-secret-0123456789"
"#;

crate::both_backends!(
    alerts_joining_one_by_one_are_summarised_once_per_window,
    config = SUMMARISED,
    |app: TestApp| async move {
        let alert = |i: usize| {
            json!({ "title": format!("probe {i} failing"), "status": "firing", "dedup_key": format!("probe-{i}"),
                    "group_key": "probes", "severity": "error" })
            .to_string()
        };
        let send = |body: String| {
            let app = &app;
            async move {
                let (status, answer) = deliver(app, "/hooks/generic/checks", &bearer(), &body).await;
                assert_eq!(status, 202, "{answer}");
            }
        };
        send(alert(0)).await;
        settled(&app).await;
        // Thirty more, each its own delivery, as a script or KPI check sends them.
        let started = std::time::Instant::now();
        for i in 1..=30 {
            send(alert(i)).await;
        }
        app.wait_until_inbox_empty().await;
        let joined = |fake: &crate::fake_slack::FakeSlack| -> Vec<String> {
            fake.calls("chat.postMessage")
                .into_iter()
                .filter_map(|c| c.args["text"].as_str().map(str::to_string))
                .filter(|text| text.contains("joined this incident"))
                .collect()
        };
        // Summaries queued behind one another may share a message: count each.
        let told = |posts: &[String]| -> usize {
            posts
                .iter()
                .flat_map(|text| text.split(":heavy_plus_sign: ").skip(1))
                .map(|count| count.split(' ').next().unwrap_or_default().parse::<usize>().unwrap())
                .sum()
        };
        app.fake
            .wait_for("every joined alert told", |fake| told(&joined(fake)) == 30)
            .await;
        let windows = started.elapsed().as_secs_f64().ceil() as usize;
        let posts = joined(&app.fake);
        let summaries: usize = posts
            .iter()
            .map(|text| text.matches(":heavy_plus_sign: ").count())
            .sum();
        assert_eq!(incidents(&app).await, 1, "one group, one incident");
        assert!(
            summaries <= 1 + windows,
            "one summary at once, then at most one a second ({windows} s), not one per alert: {posts:#?}"
        );
        assert!(summaries >= 2, "the first at once, the rest summarised: {posts:#?}");
        let unannounced = count(&app, "SELECT COUNT(*) FROM alerts WHERE announced = FALSE").await;
        assert_eq!(unannounced, 0);
    }
);

/// Runs `rebound intake test …` with `SOURCES` as its configuration.
fn intake_test(app: &TestApp, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rebound.toml");
    std::fs::write(&config, SOURCES).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_rebound"))
        .args(["intake", "test"])
        .args(args)
        .args(["--url", &app.base])
        .env_clear()
        .env("REBOUND_CONFIG", &config)
        .output()
        .unwrap()
}

crate::both_backends!(
    rebound_intake_test_posts_a_sample_each_sender_would_send,
    config = SOURCES,
    |app: TestApp| async move {
        for source in ["prod-am", "genie", "sentry", "pd"] {
            let output = intake_test(&app, &[source]);
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success(),
                "{source}: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(stdout.contains("→ 202"), "{stdout}");
            assert!(!stdout.contains(SECRET), "the secret is never printed");
        }
        settled(&app).await;
        let titles: String = scalar(&app, "SELECT MIN(title) FROM incidents").await;
        assert!(titles.starts_with("Rebound intake test from "), "{titles}");
        assert_eq!(incidents(&app).await, 4, "one incident per source");

        let cleared = intake_test(&app, &["prod-am", "--resolved"]);
        assert!(cleared.status.success());
        settled(&app).await;
        let status: String = scalar(&app, "SELECT status FROM alerts WHERE source = 'prod-am'").await;
        assert_eq!(status, "resolved");

        let sns = intake_test(&app, &["sns"]);
        assert!(!sns.status.success(), "SNS cannot be imitated");
        assert!(String::from_utf8_lossy(&sns.stderr).contains("signed by AWS"));
        let unknown = intake_test(&app, &["nobody"]);
        assert!(String::from_utf8_lossy(&unknown.stderr).contains("no intake source named \"nobody\""));
    }
);
