//! Running an incident from Slack: severity, status, lead, notes, decisions,
//! customer updates, resolve and reopen, by command and by card control.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::fake_slack::RecordedCall;
use crate::helpers::{DECLARER, FORM, TestApp, posts_to, the_card};

/// Declares an incident and waits for its card; returns the channel id.
async fn declare(app: &TestApp, text: &str) -> String {
    app.command(text, DECLARER, "CGENERAL").await;
    let card = the_card(app).await;
    card.args["channel"].as_str().unwrap().to_string()
}

fn updates(app: &TestApp) -> Vec<Value> {
    app.fake
        .calls("chat.update")
        .into_iter()
        .filter(RecordedCall::ok)
        .map(|c| c.args)
        .collect()
}

async fn timeline_kinds(app: &TestApp) -> Vec<String> {
    let store = rebound::store::connect(&app.database_url).await.unwrap();
    timeline_kinds_of(&store).await
}

async fn run(app: &TestApp, text: &str, channel: &str) {
    let reply = app.command(text, DECLARER, channel).await;
    assert!(
        reply["text"].as_str().unwrap().contains("Updating *INC-1*"),
        "/incident {text} → {reply}"
    );
}

both_backends!(
    every_change_updates_the_card_the_channel_and_the_timeline,
    |app: TestApp| async move {
        let channel = declare(&app, "open Checkout errors").await;
        run(&app, "sev 1", &channel).await;
        app.fake
            .wait_for("card shows sev1", |_| {
                updates(&app)
                    .iter()
                    .any(|u| u["blocks"].to_string().contains("sev1 — critical"))
            })
            .await;
        let card_ts = app
            .fake
            .channels()
            .into_iter()
            .find(|c| c.id == channel)
            .unwrap()
            .messages[0]["ts"]
            .clone();
        assert!(
            updates(&app).iter().all(|u| u["ts"] == card_ts),
            "the card is edited in place, never re-posted"
        );

        for text in [
            "status identified",
            "lead <@U0LEAD|lee>",
            "note rollback of v42 started",
            "decision fail over to eu-west",
            "update We found the cause and are rolling back",
        ] {
            run(&app, text, &channel).await;
        }
        // Lines queued behind one another may share a message (one a second per channel).
        let lines = || -> Vec<String> {
            posts_to(&app, &channel)[1..]
                .iter()
                .flat_map(|post| post.lines().map(str::to_string).collect::<Vec<_>>())
                .collect()
        };
        app.fake.wait_for("six channel notes", |_| lines().len() >= 6).await;
        let notes = lines();
        assert_eq!(notes[0], format!("<@{DECLARER}> set severity to *sev1*"));
        assert_eq!(notes[2], format!("<@{DECLARER}> made <@U0LEAD> the incident lead"));
        app.fake
            .wait_for("card shows lead and status", |_| {
                updates(&app).last().is_some_and(|u| {
                    u["blocks"].to_string().contains("<@U0LEAD>") && u["blocks"].to_string().contains("identified")
                })
            })
            .await;

        app.fake
            .wait_for("escalation announced", |_| {
                posts_to(&app, "incidents")
                    .iter()
                    .any(|t| t.contains("*INC-1*") && t.contains("set severity to *sev1*"))
            })
            .await;
        app.fake
            .wait_for("customer update announced", |_| {
                posts_to(&app, "incidents")
                    .iter()
                    .any(|t| t.contains("update: We found the cause"))
            })
            .await;
        assert_eq!(
            timeline_kinds(&app).await,
            [
                "declared",
                "channel_created",
                "severity",
                "status",
                "lead",
                "note",
                "decision",
                "customer_update"
            ]
        );
        app.fake
            .wait_for("topic follows severity, status and lead", |f| {
                f.calls("conversations.setTopic")
                    .iter()
                    .any(|c| c.args["topic"] == "INC-1 · SEV1 · identified · lead <@U0LEAD>")
            })
            .await;
    }
);

both_backends!(a_resolved_incident_accepts_only_reopen, |app: TestApp| async move {
    let channel = declare(&app, "open Search is slow sev3").await;
    run(&app, "resolve rolled back v42", &channel).await;
    app.fake
        .wait_for("resolution announced", |_| {
            posts_to(&app, "incidents")
                .iter()
                .any(|t| t.contains("resolved the incident: rolled back v42"))
        })
        .await;

    let refusal = app.command("sev 1", DECLARER, &channel).await;
    assert_eq!(refusal["response_type"], "ephemeral");
    let refusal = refusal["text"].as_str().unwrap();
    assert!(
        refusal.contains("INC-1 is resolved") && refusal.contains("/incident reopen"),
        "{refusal}"
    );

    run(&app, "reopen errors are back", &channel).await;
    app.fake
        .wait_for("card back to investigating", |_| {
            updates(&app)
                .last()
                .is_some_and(|u| u["blocks"].to_string().contains("investigating"))
        })
        .await;
    let store = rebound::store::connect(&app.database_url).await.unwrap();
    let incident = store.incident(1).await.unwrap().unwrap();
    assert_eq!(
        incident.severity.map(|s| s.to_string()).as_deref(),
        Some("sev3"),
        "the refused change changed nothing"
    );
    assert!(incident.reopened_at.is_some() && incident.resolved_at.is_none() && incident.acknowledged_at.is_some());
    assert_eq!(timeline_kinds(&app).await[2..], ["resolved", "reopened"]);
});

fn severity_click(channel: &str, trigger: &str, value: &str) -> String {
    let action = json!({
        "type": "static_select", "action_id": "incident_set_severity", "block_id": "incident:1:controls",
        "selected_option": { "text": { "type": "plain_text", "text": value }, "value": value },
        "action_ts": "1700000002.000002"
    });
    card_action(channel, trigger, action)
}

/// A `block_actions` payload as Slack sends it for a control on the card.
fn card_action(channel: &str, trigger: &str, action: Value) -> String {
    crate::helpers::block_actions("U0CLICKER", channel, "1700000001.000001", trigger, action)
}

both_backends!(
    the_card_severity_select_sets_severity_once_however_often_clicked,
    |app: TestApp| async move {
        let channel = declare(&app, "open Login failures").await;
        for trigger in ["1.1.a", "1.2.b", "1.2.b"] {
            let response = app
                .post_signed(
                    "/slack/interactions",
                    FORM,
                    &severity_click(&channel, trigger, "sev2"),
                    &[],
                )
                .await;
            assert_eq!(response.status(), 200);
        }
        app.fake
            .wait_for("card shows sev2", |_| {
                updates(&app).iter().any(|u| u["blocks"].to_string().contains("sev2 —"))
            })
            .await;
        app.wait_until_inbox_empty().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(updates(&app).len(), 1, "a double click changes nothing twice");
        assert_eq!(
            updates(&app)[0]["blocks"][2]["elements"][0]["initial_option"]["value"],
            "sev2"
        );
        assert_eq!(
            timeline_kinds(&app).await.iter().filter(|k| *k == "severity").count(),
            1
        );
        app.fake
            .wait_for("the note in the channel, a second after the card", |_| {
                posts_to(&app, &channel)
                    .last()
                    .is_some_and(|t| t == "<@U0CLICKER> set severity to *sev2*")
            })
            .await;
    }
);

both_backends!(
    conflicting_changes_at_once_leave_state_and_timeline_consistent,
    |app: TestApp| async move {
        let channel = declare(&app, "open Payments flapping").await;
        let (a, b) = tokio::join!(
            app.command("sev 1", DECLARER, &channel),
            app.command("sev 3", "U0OTHER", &channel)
        );
        assert!(a["text"].as_str().unwrap().contains("Updating") && b["text"].as_str().unwrap().contains("Updating"));
        app.wait_until_inbox_empty().await;
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        let timeline = store.timeline(1).await.unwrap();
        let severity_entries: Vec<_> = timeline.iter().filter(|e| e.kind == "severity").collect();
        assert_eq!(
            severity_entries.len(),
            2,
            "both changes are recorded: {severity_entries:?}"
        );
        let final_severity = store.incident(1).await.unwrap().unwrap().severity.unwrap().to_string();
        assert!(
            severity_entries
                .last()
                .unwrap()
                .body
                .ends_with(&format!("*{final_severity}*")),
            "the last entry matches the state"
        );
        assert!(
            severity_entries[1].body.starts_with("changed severity from"),
            "the second change saw the first"
        );
    }
);

both_backends!(
    action_items_are_stored_with_owner_and_due_date,
    |app: TestApp| async move {
        let channel = declare(&app, "open Cert expired sev2").await;
        run(
            &app,
            "action automate cert renewal <@U0OWNER|olga> due 2026-12-01",
            &channel,
        )
        .await;
        run(&app, "action add expiry alert due 3d", &channel).await;
        let bad = app.command("action fix it due someday", DECLARER, &channel).await;
        assert!(
            bad["text"].as_str().unwrap().contains("`someday` is not a due date"),
            "{bad}"
        );
        app.wait_until_inbox_empty().await;
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        let items = store.action_items(1).await.unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(
            (items[0].text.as_str(), items[0].owner.as_deref()),
            ("automate cert renewal", Some("U0OWNER"))
        );
        assert_eq!(items[0].due_at.unwrap().to_rfc3339(), "2026-12-01T17:00:00+00:00");
        let in_three_days = chrono::Utc::now() + chrono::Duration::days(3);
        assert!((items[1].due_at.unwrap() - in_three_days).num_seconds().abs() < 60);
        assert_eq!(items[1].created_by, DECLARER);
        app.fake
            .wait_for("channel note", |_| {
                posts_to(&app, &channel)
                    .iter()
                    .any(|t| t.contains("added action item: automate cert renewal, owner <@U0OWNER>"))
            })
            .await;
        assert_eq!(timeline_kinds(&app).await[2..], ["action_item", "action_item"]);
    }
);

both_backends!(
    the_cards_status_lead_and_resolve_controls_act_like_the_commands,
    |app: TestApp| async move {
        let channel = declare(&app, "open Webhooks delayed sev2").await;
        let actions = [
            json!({"type": "static_select", "action_id": "incident_set_status", "block_id": "incident:1:controls",
               "selected_option": {"text": {"type": "plain_text", "text": "monitoring"}, "value": "monitoring"}, "action_ts": "1.1"}),
            json!({"type": "users_select", "action_id": "incident_set_lead", "block_id": "incident:1:controls",
               "selected_user": "U0NEWLEAD", "action_ts": "1.2"}),
            json!({"type": "button", "action_id": "incident_resolve", "block_id": "incident:1:controls", "action_ts": "1.3"}),
        ];
        for (i, action) in actions.into_iter().enumerate() {
            let body = card_action(&channel, &format!("2.{i}.x"), action);
            assert_eq!(
                app.post_signed("/slack/interactions", FORM, &body, &[]).await.status(),
                200
            );
            app.wait_until_inbox_empty().await;
        }
        app.fake
            .wait_for("resolution announced", |_| {
                posts_to(&app, "incidents")
                    .iter()
                    .any(|t| t.contains("resolved the incident"))
            })
            .await;
        assert_eq!(timeline_kinds(&app).await[2..], ["status", "lead", "resolved"]);
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        let incident = store.incident(1).await.unwrap().unwrap();
        assert_eq!(incident.lead.as_deref(), Some("U0NEWLEAD"));
        assert!(incident.mitigated_at.is_some() && incident.resolved_at.is_some());
        app.fake
            .wait_for("card without controls once resolved", |_| {
                updates(&app)
                    .last()
                    .is_some_and(|u| u["blocks"].to_string().contains("*Resolved*"))
            })
            .await;
        assert!(
            !updates(&app).last().unwrap()["blocks"]
                .to_string()
                .contains("incident_resolve")
        );
    }
);

async fn only_the_lead_resolves_when_configured(backend: crate::helpers::Backend) {
    let config = "[permissions]\nresolve = \"lead\"\n";
    let Some(app) = crate::helpers::spawn_app_with_config(backend, config).await else {
        return;
    };
    let channel = declare(&app, "open Queue stuck sev2").await;
    let reply = app.command("resolve", "U0BYSTANDER", &channel).await;
    assert!(
        reply["text"].as_str().unwrap().contains("only the incident lead"),
        "{reply}"
    );
    run(&app, "resolve fixed", &channel).await;
    app.wait_until_inbox_empty().await;
    let store = rebound::store::connect(&app.database_url).await.unwrap();
    assert_eq!(
        timeline_kinds_of(&store).await,
        ["declared", "channel_created", "resolved"]
    );
}

async fn timeline_kinds_of(store: &rebound::store::Store) -> Vec<String> {
    store.timeline(1).await.unwrap().into_iter().map(|e| e.kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_lead_resolves_when_configured_sqlite() {
    only_the_lead_resolves_when_configured(crate::helpers::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_lead_resolves_when_configured_postgres() {
    only_the_lead_resolves_when_configured(crate::helpers::Backend::Postgres).await;
}

both_backends!(
    every_incident_command_explains_itself_outside_an_incident_channel_and_with_bad_arguments,
    |app: TestApp| async move {
        for text in [
            "sev 1",
            "status monitoring",
            "lead <@U1>",
            "update hi",
            "note hi",
            "decision hi",
            "action hi",
            "resolve",
            "reopen",
        ] {
            let reply = app.command(text, DECLARER, "CGENERAL").await;
            assert!(
                reply["text"].as_str().unwrap().contains("inside an incident channel"),
                "/incident {text} → {reply}"
            );
        }
        let channel = declare(&app, "open Bad input drill").await;
        for (text, problem) in [
            ("sev 0", "is not a severity"),
            ("status done", "is not a status"),
            ("lead someone", "@mention"),
            ("update", "needs text"),
            ("note", "needs text"),
            ("decision", "needs text"),
            ("action", "needs a description"),
            ("action fix due never", "is not a due date"),
            ("reopen", "is not resolved"),
            ("lead <@U0DECLARER>", "already leads"),
        ] {
            let reply = app.command(text, DECLARER, &channel).await;
            let reply_text = reply["text"].as_str().unwrap();
            assert_eq!(reply["response_type"], "ephemeral");
            assert!(reply_text.contains(problem), "/incident {text} → {reply_text}");
        }
        app.wait_until_inbox_empty().await;
        assert_eq!(
            timeline_kinds(&app).await,
            ["declared", "channel_created"],
            "nothing was recorded"
        );
    }
);
