//! What Slack's three routes accept and refuse.

use std::time::Duration;

use serde_json::json;

use crate::both_backends;
use crate::helpers::{DECLARER, FORM, SIGNING_SECRET, TestApp, command_body, sign};

async fn assert_nothing_stored(app: &TestApp) {
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.metric("rebound_inbox_depth").await, 0.0, "nothing in the inbox");
    assert!(
        app.fake.all_calls().is_empty(),
        "nothing sent to Slack: {:?}",
        app.fake.all_calls()
    );
    let list = app.command("list", DECLARER, "C1").await;
    assert_eq!(list["text"], ":white_check_mark: No open incidents.");
}

both_backends!(
    unsigned_badly_signed_and_stale_requests_get_401_and_change_nothing,
    |app: TestApp| async move {
        let body = command_body(&app.fake, "open Should not exist", DECLARER, "C1");
        let now = chrono::Utc::now().timestamp();
        let url = format!("{}/slack/commands", app.base);
        let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
            ("no headers", vec![]),
            ("no signature", vec![("X-Slack-Request-Timestamp", now.to_string())]),
            (
                "no timestamp",
                vec![("X-Slack-Signature", sign(SIGNING_SECRET, &now.to_string(), &body))],
            ),
            (
                "wrong secret",
                vec![
                    ("X-Slack-Request-Timestamp", now.to_string()),
                    ("X-Slack-Signature", sign("wrong", &now.to_string(), &body)),
                ],
            ),
            (
                "stale by 6 minutes",
                vec![
                    ("X-Slack-Request-Timestamp", (now - 360).to_string()),
                    (
                        "X-Slack-Signature",
                        sign(SIGNING_SECRET, &(now - 360).to_string(), &body),
                    ),
                ],
            ),
            (
                "6 minutes in the future",
                vec![
                    ("X-Slack-Request-Timestamp", (now + 360).to_string()),
                    (
                        "X-Slack-Signature",
                        sign(SIGNING_SECRET, &(now + 360).to_string(), &body),
                    ),
                ],
            ),
        ];
        for path in ["/slack/commands", "/slack/events", "/slack/interactions"] {
            for (case, headers) in &cases {
                let mut request = app
                    .http
                    .post(format!("{}{path}", app.base))
                    .header("Content-Type", FORM)
                    .body(body.clone());
                for (name, value) in headers {
                    request = request.header(*name, value);
                }
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 401, "{path} with {case}");
            }
        }
        let signed_other_body = app
            .http
            .post(&url)
            .header("Content-Type", FORM)
            .header("X-Slack-Request-Timestamp", now.to_string())
            .header(
                "X-Slack-Signature",
                sign(SIGNING_SECRET, &now.to_string(), "text=something+else"),
            )
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(signed_other_body.status(), 401, "signature over a different body");
        assert_nothing_stored(&app).await;
    }
);

both_backends!(malformed_payloads_get_400_with_a_reason, |app: TestApp| async move {
    let cases = [
        (
            "/slack/events",
            "application/json",
            "{not json".to_string(),
            "event JSON",
        ),
        (
            "/slack/events",
            "application/json",
            json!({"type": "event_callback", "event": {"type": "app_mention"}}).to_string(),
            "without event_id",
        ),
        (
            "/slack/events",
            "application/json",
            json!({"type": "event_callback", "event_id": "Ev1"}).to_string(),
            "without an event type",
        ),
        (
            "/slack/events",
            "application/json",
            json!({"type": "url_verification"}).to_string(),
            "without challenge",
        ),
        (
            "/slack/interactions",
            FORM,
            "nopayload=1".to_string(),
            "interaction form",
        ),
        (
            "/slack/interactions",
            FORM,
            "payload=%7Bbroken".to_string(),
            "interaction payload JSON",
        ),
        (
            "/slack/interactions",
            FORM,
            "payload=%7B%22type%22%3A%22block_actions%22%7D".to_string(),
            "without trigger_id",
        ),
        ("/slack/commands", FORM, "text=open+x".to_string(), "slash command form"),
    ];
    for (path, content_type, body, reason) in cases {
        let response = app.post_signed(path, content_type, &body, &[]).await;
        assert_eq!(response.status(), 400, "{path} {body}");
        let text = response.text().await.unwrap();
        assert!(
            text.contains(reason) && text.lines().count() == 1,
            "{path}: {text:?} should name {reason:?} on one line"
        );
    }
    assert_nothing_stored(&app).await;
});

both_backends!(bodies_over_one_mebibyte_get_413, |app: TestApp| async move {
    let huge = format!("text={}", "a".repeat(1024 * 1024 + 1));
    let response = app.post_signed("/slack/commands", FORM, &huge, &[]).await;
    assert_eq!(response.status(), 413);
});

both_backends!(url_verification_echoes_the_challenge, |app: TestApp| async move {
    let body = json!({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"});
    let response = app.event(&body, None).await;
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        answer["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
});

both_backends!(interactions_are_stored_once_per_trigger, |app: TestApp| async move {
    let payload = json!({
        "type": "block_actions", "trigger_id": "123.456.abc", "user": {"id": DECLARER},
        "actions": [{"action_id": "incident_set_severity", "selected_option": {"value": "sev2"}}]
    });
    let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
    for _ in 0..2 {
        let response = app.post_signed("/slack/interactions", FORM, &body, &[]).await;
        assert_eq!(response.status(), 200);
    }
    app.wait_until_inbox_empty().await;
    let metrics = app.get_internal("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("rebound_http_requests_total{route=\"/slack/interactions\",status=\"200\"} 2"),
        "{metrics}"
    );
});
