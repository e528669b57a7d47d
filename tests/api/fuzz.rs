//! Property tests at the edge: hundreds of generated, correctly signed
//! slash commands, events and interactions (the three ingress parsers, and
//! the command grammar behind them) must each get a clear answer (200, 400
//! or 413), and none may make any worker panic or stop. Deterministic seeds,
//! so a failure repeats; bounded case counts, so CI stays fast.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{DECLARER, FORM, TestApp, command_body, declared_channel};

/// Cases per database in CI; `REBOUND_FUZZ_CASES` runs more (e.g. 100000 overnight).
fn cases() -> usize {
    std::env::var("REBOUND_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300)
}

/// Words the grammar and the payloads care about, mixed with noise.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("open".to_string()),
        Just("action".to_string()),
        Just("due".to_string()),
        Just("failure".to_string()),
        Just("sev1".to_string()),
        Just("lead".to_string()),
        Just("<@U1>".to_string()),
        Just("<!channel>".to_string()),
        Just("&amp;".to_string()),
        Just("9999999999999d".to_string()),
        Just("1000000y".to_string()),
        Just("2262-04-11".to_string()),
        Just("-1".to_string()),
        Just("\0".to_string()),
        Just("%".to_string()),
        any::<char>().prop_map(String::from),
        "[a-z0-9 ]{0,8}",
    ];
    proptest::collection::vec(pieces, 0..12).prop_map(|parts| parts.join(" "))
}

fn generate(runner: &mut TestRunner, strategy: &impl Strategy<Value = String>) -> String {
    strategy.new_tree(runner).unwrap().current()
}

async fn assert_clear_answer(app: &TestApp, path: &str, content_type: &str, body: &str) {
    let response = app.post_signed(path, content_type, body, &[]).await;
    let status = response.status().as_u16();
    assert!(
        matches!(status, 200 | 400 | 413),
        "{path} answered {status} to {body:?}: {}",
        response.text().await.unwrap_or_default()
    );
}

both_backends!(
    generated_requests_get_clear_answers_and_never_stop_a_worker,
    |app: TestApp| async move {
        let channel = declared_channel(&app, "open Fuzz target sev2").await;
        let mut runner = TestRunner::deterministic();
        let text = hostile_text();
        for _ in 0..cases() {
            let command = generate(&mut runner, &text);
            for place in [channel.as_str(), "CGENERAL"] {
                let body = command_body(&app.fake, &command, DECLARER, place);
                assert_clear_answer(&app, "/slack/commands", FORM, &body).await;
            }
            let value = generate(&mut runner, &text);
            let event = json!({
                "type": "event_callback", "event_id": format!("Ev{}", crate::helpers::unique()), "event_time": 1,
                "team_id": "T1", "api_app_id": "A1",
                "event": { "type": "reaction_added", "user": value, "reaction": value, "event_ts": value,
                           "item": { "type": "message", "channel": channel, "ts": value } }
            });
            assert_clear_answer(&app, "/slack/events", "application/json", &event.to_string()).await;
            let raw_event = format!("{{\"type\":\"event_callback\",\"event\":{value}}}");
            assert_clear_answer(&app, "/slack/events", "application/json", &raw_event).await;
            let action = json!({ "type": "button", "action_id": value, "value": value, "selected_user": value,
                                 "selected_option": { "value": value } });
            let click = crate::helpers::block_actions(DECLARER, &channel, &value, &value, action);
            assert_clear_answer(&app, "/slack/interactions", FORM, &click).await;
            let form = serde_urlencoded::to_string([("payload", value.as_str())]).unwrap();
            assert_clear_answer(&app, "/slack/interactions", FORM, &form).await;
        }
        app.wait_until_inbox_empty().await;
        assert_eq!(app.get("/readyz").await.status(), 200, "every worker still runs");
        let metrics = app.get_internal("/metrics").await.text().await.unwrap();
        assert!(
            !metrics.contains("rebound_worker_restarts_total{"),
            "no worker stopped:\n{metrics}"
        );
        assert!(
            !metrics.contains("rebound_work_set_aside_total{"),
            "no Slack call or timer panicked"
        );
        let panicked: i64 =
            crate::helpers::scalar(&app, "SELECT COUNT(*) FROM inbox WHERE last_error LIKE '%panic%'").await;
        assert_eq!(panicked, 0, "no inbox item made the dispatcher panic");
    }
);
