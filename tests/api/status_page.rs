//! The public status page end to end: components set from Slack, public
//! updates only, back to operational on resolve, private incidents never
//! shown; the JSON in Statuspage's documented shape; cacheable answers.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{DECLARER, TestApp, declared_channel};

const CONFIG: &str = r#"
[web]
public_url = "https://rebound.example.com/"
[status]
title = "Acme status"
[[status.components]]
name = "API"
group = "Core"
description = "Public REST API"
[[status.components]]
name = "Dashboard"
"#;

async fn json(app: &TestApp, path: &str) -> Value {
    let answer = app.get(&format!("/status/api/v2/{path}")).await;
    assert_eq!(answer.status(), 200, "{path}");
    answer.json().await.unwrap()
}

/// Every key `documented` has, `ours` has too (arrays: their first items).
fn has_documented_keys(ours: &Value, documented: &Value, path: &str) {
    match (ours, documented) {
        (Value::Object(ours), Value::Object(documented)) => {
            for (key, value) in documented {
                let Some(mine) = ours.get(key) else {
                    panic!("{path}.{key} is missing");
                };
                has_documented_keys(mine, value, &format!("{path}.{key}"));
            }
        }
        (Value::Array(ours), Value::Array(documented)) => {
            if let (Some(mine), Some(theirs)) = (ours.first(), documented.first()) {
                has_documented_keys(mine, theirs, &format!("{path}[0]"));
            }
        }
        _ => {}
    }
}

async fn say(app: &TestApp, text: &str, channel: &str) -> String {
    let reply = app.command(text, DECLARER, channel).await;
    app.wait_until_inbox_empty().await;
    reply["text"].as_str().unwrap_or_default().to_string()
}

crate::both_backends!(
    the_status_page_shows_only_what_was_published_before_during_and_after,
    config = CONFIG,
    |app: TestApp| async move {
        let before = json(&app, "status.json").await;
        assert_eq!(before["status"]["indicator"], "none");
        assert_eq!(before["status"]["description"], "All Systems Operational");
        let components = json(&app, "components.json").await;
        assert_eq!(components["components"][0]["name"], "API");
        assert_eq!(components["components"][0]["status"], "operational");

        let channel = declared_channel(&app, "open Database failover stuck sev1").await;
        say(&app, "update Internal: replica 3 is wedged, paging DBA", &channel).await;
        let unpublished = app.get("/status").await.text().await.unwrap();
        assert!(
            !unpublished.contains("Database failover"),
            "nothing is shown until published"
        );
        assert!(!unpublished.contains("replica 3"));

        let refused = say(&app, "impact Billing major", &channel).await;
        assert!(refused.contains("there is no component `Billing`"), "{refused}");
        let bad_state = say(&app, "impact API on-fire", &channel).await;
        assert!(bad_state.contains("Usage: `/incident impact"), "{bad_state}");
        say(&app, "impact api partial", &channel).await;
        say(
            &app,
            "update --public We are investigating errors on the API <script>x</script>",
            &channel,
        )
        .await;
        // The page is cached for a few seconds; wait for the next snapshot.
        tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
        let during = json(&app, "summary.json").await;
        let documented: Value = serde_json::from_str(
            &std::fs::read_to_string(format!(
                "{}/tests/fixtures/statuspage/summary.json",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap(),
        )
        .unwrap();
        has_documented_keys(&during, &documented, "summary");
        assert_eq!(
            during["status"]["indicator"], "critical",
            "a sev1 incident is open: {during}"
        );
        assert_eq!(during["components"][0]["status"], "partial_outage");
        let incident = &during["incidents"][0];
        assert_eq!(incident["name"], "Database failover stuck");
        assert_eq!(incident["impact"], "critical");
        let updates = incident["incident_updates"].as_array().unwrap();
        assert_eq!(updates.len(), 1, "only the public update: {updates:?}");
        assert!(
            updates[0]["body"]
                .as_str()
                .unwrap()
                .starts_with("We are investigating errors on the API")
        );
        let html = app.get("/status").await.text().await.unwrap();
        assert!(
            html.contains("Partial outage") && html.contains("We are investigating errors"),
            "{html}"
        );
        assert!(!html.contains("<script>x</script>"), "escaped");
        assert!(!html.contains("replica 3"), "the internal update stays internal");
        let unresolved = json(&app, "incidents/unresolved.json").await;
        assert_eq!(unresolved["incidents"].as_array().unwrap().len(), 1);

        say(&app, "resolve failover completed", &channel).await;
        tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
        let after = json(&app, "summary.json").await;
        assert_eq!(after["status"]["indicator"], "none", "{after}");
        assert_eq!(
            after["components"][0]["status"], "operational",
            "back to operational on resolve"
        );
        assert_eq!(
            json(&app, "incidents/unresolved.json").await["incidents"],
            serde_json::json!([])
        );
        let all = json(&app, "incidents.json").await;
        assert_eq!(all["incidents"][0]["status"], "resolved");
        let page = app.get("/status").await.text().await.unwrap();
        assert!(
            page.contains("Past incidents") && page.contains("Database failover stuck"),
            "{page}"
        );
        let feed = app.get("/status/feed.atom").await.text().await.unwrap();
        assert!(
            feed.contains("<feed") && feed.contains("We are investigating errors"),
            "{feed}"
        );
        assert!(!feed.contains("<script>"), "escaped in the feed too");
        assert!(
            !page.contains("failover completed"),
            "the resolve summary is internal: {page}"
        );

        // The post-mortem's summary goes public only once it is done and published.
        let early = say(&app, "postmortem publish A stuck failover; we now drill it", &channel).await;
        assert!(early.contains("is not done yet"), "{early}");
        say(&app, "postmortem done https://wiki.example/pm", &channel).await;
        say(
            &app,
            "postmortem publish A stuck failover; we now drill it monthly",
            &channel,
        )
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
        let page = app.get("/status").await.text().await.unwrap();
        assert!(
            page.contains("Post-mortem:") && page.contains("we now drill it monthly"),
            "{page}"
        );
        let all = json(&app, "incidents.json").await;
        assert_eq!(all["incidents"][0]["status"], "postmortem", "{all}");
        let updates = all["incidents"][0]["incident_updates"].as_array().unwrap();
        assert_eq!(updates[0]["status"], "postmortem");
        assert!(
            !all.to_string().contains("wiki.example"),
            "the internal link stays internal"
        );
        let failed: Vec<_> = app.fake.all_calls().into_iter().filter(|c| !c.ok()).collect();
        assert!(
            failed.is_empty(),
            "every call Slack would accept, the card's impact select too: {failed:#?}"
        );
    }
);

crate::both_backends!(
    private_incidents_never_reach_the_status_page_and_answers_are_cacheable,
    config = CONFIG,
    |app: TestApp| async move {
        let channel = declared_channel(&app, "open --private Credential leak sev1").await;
        app.wait_until_outbox_empty().await;
        let refused = say(&app, "update --public Keys rotated", &channel).await;
        assert!(
            refused.contains("is private, so nothing of it goes on the public status page"),
            "{refused}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
        let all = json(&app, "incidents.json").await;
        assert_eq!(all["incidents"], serde_json::json!([]));
        assert!(
            !app.get("/status")
                .await
                .text()
                .await
                .unwrap()
                .contains("Credential leak")
        );

        let first = app.get("/status/api/v2/summary.json").await;
        let tag = first.headers()["etag"].to_str().unwrap().to_string();
        assert!(first.headers()["cache-control"].to_str().unwrap().contains("max-age"));
        let again = app
            .http
            .get(format!("{}/status/api/v2/summary.json", app.base))
            .header("If-None-Match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }
);

crate::both_backends!(
    the_customer_update_form_can_publish_on_the_status_page,
    config = CONFIG,
    |app: TestApp| async move {
        use crate::helpers::{FORM, opened_view, submission, text_value};
        let channel = declared_channel(&app, "open Search is down sev2").await;
        app.wait_until_outbox_empty().await;
        let click = serde_json::json!({
            "type": "block_actions", "trigger_id": "7.7.publish", "user": { "id": DECLARER },
            "channel": { "id": channel }, "container": { "type": "message", "channel_id": channel },
            "actions": [{ "type": "button", "action_id": "incident_post_update", "block_id": "incident:1:controls", "action_ts": "1.1" }]
        });
        let click = serde_urlencoded::to_string([("payload", click.to_string())]).unwrap();
        assert_eq!(
            app.post_signed("/slack/interactions", FORM, &click, &[]).await.status(),
            200
        );
        let view = opened_view(&app, "customer_update").await;
        let values = serde_json::json!({
            "explain": text_value("Search returns errors"),
            "acknowledge": text_value("Customers cannot find orders"),
            "resolve": text_value("Restarting the index; next update 15:00 UTC"),
            "publish": { "value": { "type": "checkboxes", "selected_options": [{ "value": "public", "text": { "type": "plain_text", "text": "Publish on the public status page" } }] } }
        });
        let submitted = submission(&view, values, "7.9.publish");
        assert_eq!(
            app.post_signed("/slack/interactions", FORM, &submitted, &[])
                .await
                .status(),
            200
        );
        app.wait_until_inbox_empty().await;
        tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
        let all = json(&app, "incidents.json").await;
        let body = all["incidents"][0]["incident_updates"][0]["body"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            body,
            "What is happening: Search returns errors\nImpact: Customers cannot find orders\nWhat we are doing: Restarting the index; next update 15:00 UTC",
            "{all}"
        );
    }
);

crate::both_backends!(
    the_cards_impact_select_sets_a_component_and_a_forged_one_changes_nothing,
    config = CONFIG,
    |app: TestApp| async move {
        use crate::helpers::FORM;
        let channel = declared_channel(&app, "open API slow sev3").await;
        app.wait_until_outbox_empty().await;
        let card = app
            .fake
            .calls("chat.postMessage")
            .into_iter()
            .map(|call| call.args)
            .find(|args| args["channel"] == channel.as_str() && args.to_string().contains("incident_set_impact"))
            .expect("the card offers the impact select");
        assert!(card.to_string().contains("degraded_performance API"), "{card}");
        let choose = |value: &str| {
            let click = serde_json::json!({
                "type": "block_actions", "user": { "id": DECLARER }, "trigger_id": format!("9.9.{value}"),
                "channel": { "id": channel }, "container": { "type": "message", "channel_id": channel },
                "actions": [{ "type": "static_select", "action_id": "incident_set_impact", "block_id": "incident:1:impact",
                              "selected_option": { "value": value }, "action_ts": "1.1" }]
            });
            serde_urlencoded::to_string([("payload", click.to_string())]).unwrap()
        };
        for forged in ["major_outage Billing", "on_fire API", "major_outage", ""] {
            let answer = app.post_signed("/slack/interactions", FORM, &choose(forged), &[]).await;
            assert_eq!(answer.status(), 200, "{forged:?}");
        }
        app.wait_until_inbox_empty().await;
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        assert!(
            store.component_statuses().await.unwrap().is_empty(),
            "forged choices change nothing"
        );

        app.post_signed("/slack/interactions", FORM, &choose("degraded_performance API"), &[])
            .await;
        app.wait_until_inbox_empty().await;
        let states = store.component_statuses().await.unwrap();
        assert_eq!(states.len(), 1);
        assert_eq!(
            (states[0].name.as_str(), states[0].state),
            ("API", rebound::domain::status_page::ComponentState::Degraded)
        );
    }
);
