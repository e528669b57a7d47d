//! `serve --socket-mode`: the same commands, events and interactions over
//! Socket Mode envelopes from the fake's WebSocket, acknowledged only after
//! the inbox has them, with reconnection when Slack asks for it.

use serde_json::{Value, json};

use crate::fake_slack::APP_TOKEN;
use crate::helpers::{Backend, DECLARER, FORM, TestApp, spawn_app_with_env, unique};

async fn socket_app(backend: Backend) -> Option<TestApp> {
    let env = [
        ("REBOUND_SOCKET_MODE", "true"),
        ("SLACK_APP_TOKEN", APP_TOKEN),
        ("SLACK_SIGNING_SECRET", ""),
    ];
    let app = spawn_app_with_env(backend, &env).await?;
    app.fake.wait_for_sockets(1).await;
    Some(app)
}

fn command(text: &str, trigger: &str, app: &TestApp) -> Value {
    json!({
        "token": "deprecated", "team_id": "T1", "team_domain": "test", "channel_id": "CGENERAL",
        "channel_name": "general", "user_id": DECLARER, "user_name": "decl", "command": "/incident",
        "text": text, "api_app_id": "A1", "is_enterprise_install": "false",
        "response_url": app.fake.response_url(&unique()), "trigger_id": trigger
    })
}

fn failure_reaction(channel: &str, ts: &str, event_id: &str) -> Value {
    json!({
        "token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": event_id,
        "event_time": 1_700_000_000,
        "event": { "type": "reaction_added", "user": "U0ONE", "reaction": "rotating_light", "item_user": "U0AUTHOR",
                   "item": { "type": "message", "channel": channel, "ts": ts }, "event_ts": "1700000100.000100" }
    })
}

async fn socket_mode_carries_commands_events_and_interactions(backend: Backend) {
    let Some(app) = socket_app(backend).await else {
        return;
    };
    let opened = app.fake.calls("apps.connections.open");
    assert!(
        opened.iter().all(|c| c.ok()),
        "the app-level token opens connections: {opened:?}"
    );

    let envelope = app.fake.send_envelope(
        "slash_commands",
        command("open Checkout down sev1", "51.1.a", &app),
        true,
    );
    let ack = app.fake.ack_for(&envelope).await;
    assert!(
        ack["payload"]["text"]
            .as_str()
            .unwrap()
            .contains("Declaring *Checkout down*"),
        "the reply rides on the ack: {ack}"
    );
    app.fake
        .wait_for("the incident channel", |f| {
            f.calls("conversations.create").iter().any(|c| c.ok())
        })
        .await;

    let channel = app.fake.add_channel("alerts", "UADMIN", false);
    let ts = app.fake.add_message(&channel, "U0AUTHOR", "payments 500s");
    let first = app
        .fake
        .send_envelope("events_api", failure_reaction(&channel, &ts, "EvSock1"), false);
    assert_eq!(app.fake.ack_for(&first).await, json!({ "envelope_id": first }));
    let again = app
        .fake
        .send_envelope("events_api", failure_reaction(&channel, &ts, "EvSock1"), false);
    app.fake.ack_for(&again).await;
    app.wait_until_inbox_empty().await;
    let store = rebound::store::connect(&app.database_url).await.unwrap();
    let ticket = store.ticket(1).await.unwrap().expect("the reaction made a ticket");
    assert_eq!(ticket.ts, ts);
    assert!(
        store.ticket(2).await.unwrap().is_none(),
        "a redelivered envelope changes nothing"
    );

    let triage = json!({
        "type": "view_submission", "trigger_id": "52.1.b", "user": { "id": DECLARER }, "team": { "id": "T1" },
        "view": { "id": "V1", "callback_id": "failure_triage", "private_metadata": "1", "state": { "values": {} } }
    });
    let envelope = app.fake.send_envelope("interactive", triage, true);
    let ack = app.fake.ack_for(&envelope).await;
    assert_eq!(
        ack["payload"]["response_action"], "errors",
        "form errors ride on the ack: {ack}"
    );

    // Slack refreshes connections: the app replaces both and carries on.
    app.fake.wait_for_sockets(2).await;
    app.fake.disconnect_all("refresh_requested");
    app.fake
        .wait_for("both connections replaced", |f| {
            f.state.lock().unwrap().sockets.opened >= 4
        })
        .await;
    let envelope = app
        .fake
        .send_envelope("slash_commands", command("list", "53.1.c", &app), true);
    let ack = app.fake.ack_for(&envelope).await;
    assert!(
        ack["payload"]["text"]
            .as_str()
            .unwrap()
            .contains("*INC-1* Checkout down"),
        "{ack}"
    );

    let unsigned = app.post_signed("/slack/commands", FORM, "text=list", &[]).await;
    assert_eq!(
        unsigned.status(),
        401,
        "without a signing secret the HTTP routes take nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_carries_commands_events_and_interactions_sqlite() {
    socket_mode_carries_commands_events_and_interactions(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_carries_commands_events_and_interactions_postgres() {
    socket_mode_carries_commands_events_and_interactions(Backend::Postgres).await;
}
