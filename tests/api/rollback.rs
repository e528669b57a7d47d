//! Rollbacks from the card end to end against a fake GitHub Actions API:
//! the lead's press (after Slack's confirmation) dispatches the workflow
//! once with the incident and a request id, the run's URL goes to the
//! channel and the timeline; others are refused; a lost answer and a
//! double press never start two runs; a forged service runs nothing.

use serde_json::{Value, json};

use crate::engines::{run_with_fake, wait_until};
use crate::fake_github::FakeGithub;
use crate::helpers::{Backend, DECLARER, FORM, TestApp, declared_channel, posts_to, the_card};

macro_rules! with_github {
    ($name:ident, $run_by:expr, $body:expr) => {
        $crate::on_both_engines!($name, run($run_by, $body));
    };
}

async fn run<F, Fut>(backend: Backend, run_by: &str, body: F)
where
    F: FnOnce(TestApp, FakeGithub) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let fake = FakeGithub::start().await;
    let config = fake.config(run_by);
    run_with_fake(backend, fake, &config, body).await;
}

/// The card's rollback button as Slack shows it.
async fn rollback_button(app: &TestApp) -> Value {
    let card = the_card(app).await;
    assert!(card.ok(), "Slack accepted the card with its buttons: {card:?}");
    let blocks = card.args["blocks"].as_array().unwrap().clone();
    blocks
        .iter()
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .find(|e| e["action_id"] == "incident_run_rollback")
        .expect("a rollback button on the card")
}

/// Presses the rollback button for `service` as `user`, as Slack posts it after the confirmation.
async fn press(app: &TestApp, channel: &str, user: &str, service: &str, trigger: &str) {
    let payload = json!({
        "type": "block_actions", "trigger_id": trigger, "api_app_id": "A1", "token": "x",
        "team": { "id": "T1", "domain": "test" }, "user": { "id": user, "username": "u", "name": "u", "team_id": "T1" },
        "channel": { "id": channel, "name": "inc" },
        "container": { "type": "message", "message_ts": "1.1", "channel_id": channel, "is_ephemeral": false },
        "message": { "type": "message", "ts": "1.1", "text": "" },
        "response_url": app.fake.response_url(trigger),
        "state": { "values": {} },
        "actions": [{ "type": "button", "action_id": "incident_run_rollback", "block_id": "incident:1:rollback",
                      "value": service, "action_ts": "1.2", "text": { "type": "plain_text", "text": "Run rollback: api" } }]
    });
    let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
    let answer = app.post_signed("/slack/interactions", FORM, &body, &[]).await;
    assert_eq!(answer.status(), 200);
    app.wait_until_inbox_empty().await;
}

async fn timeline(app: &TestApp) -> Vec<String> {
    let store = rebound::store::connect(&app.database_url).await.unwrap();
    store.timeline(1).await.unwrap().into_iter().map(|e| e.body).collect()
}

with_github!(
    the_leads_press_runs_the_workflow_once_and_links_the_run,
    "lead",
    |app: TestApp, fake: FakeGithub| async move {
        let channel = declared_channel(&app, "open Bad deploy of the API sev1").await;
        let button = rollback_button(&app).await;
        assert_eq!(button["value"], "api");
        assert_eq!(
            button["confirm"]["confirm"]["text"], "Run rollback",
            "it asks before it runs"
        );

        press(&app, &channel, DECLARER, "api", "T1").await;
        wait_until("the run", || fake.runs().len() == 1).await;
        let run = &fake.runs()[0];
        assert_eq!(run["inputs"]["incident"], "INC-1");
        let request_id = run["inputs"]["request_id"].as_str().unwrap().to_string();
        assert!(request_id.starts_with("rebound-inc-1-"), "{request_id}");
        wait_until("the run's link in the channel", || {
            posts_to(&app, &channel)
                .iter()
                .any(|p| p.contains("<https://github.com/acme/api/actions/runs/9001|workflow run>"))
        })
        .await;
        let entries = timeline(&app).await;
        assert!(
            entries.iter().any(|e| e.contains("requested the rollback of *api*")),
            "{entries:?}"
        );
        assert!(entries.iter().any(|e| e.contains("actions/runs/9001")), "{entries:?}");

        // A second press moments later is the same request.
        press(&app, &channel, DECLARER, "api", "T2").await;
        app.wait_until_outbox_empty().await;
        assert_eq!(fake.dispatches(), 1, "a double press started one run");
    }
);

with_github!(
    others_are_refused_and_forged_services_run_nothing,
    "lead",
    |app: TestApp, fake: FakeGithub| async move {
        let channel = declared_channel(&app, "open Bad deploy sev2").await;
        press(&app, &channel, "U0SOMEONE", "api", "T3").await;
        app.fake
            .wait_for("the refusal", |f| {
                f.calls("response_url").iter().any(|c| {
                    c.args["text"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("only the incident lead")
                })
            })
            .await;
        press(&app, &channel, DECLARER, "../../admin", "T4").await;
        press(&app, &channel, DECLARER, "billing", "T5").await;
        app.wait_until_outbox_empty().await;
        assert_eq!(fake.dispatches(), 0, "nothing ran");
    }
);

with_github!(
    a_lost_answer_is_found_by_the_request_id_not_run_twice,
    "anyone",
    |app: TestApp, fake: FakeGithub| async move {
        let channel = declared_channel(&app, "open Bad config push sev1").await;
        fake.lose_next_answers(1);
        press(&app, &channel, "U0ANYONE", "api", "T6").await;
        wait_until("the run's link in the channel", || {
            posts_to(&app, &channel)
                .iter()
                .any(|p| p.contains("actions/runs/9001|workflow run>"))
        })
        .await;
        app.wait_until_outbox_empty().await;
        assert_eq!(fake.runs().len(), 1, "the retry adopted the run it had started");
    }
);

with_github!(
    a_compromised_apis_run_link_is_not_linked,
    "lead",
    |app: TestApp, fake: FakeGithub| async move {
        let channel = declared_channel(&app, "open Bad deploy of the API sev1").await;
        fake.turn_hostile();
        press(&app, &channel, DECLARER, "api", "T9").await;
        wait_until("the run told without its link", || {
            posts_to(&app, &channel)
                .iter()
                .any(|p| p.contains("GitHub gave no run link"))
        })
        .await;
        app.wait_until_outbox_empty().await;
        let said = posts_to(&app, &channel).join("\n");
        assert!(!said.contains("javascript:") && !said.contains("<!channel>"), "{said}");
        let entries = timeline(&app).await;
        assert!(entries.iter().all(|e| !e.contains("javascript:")), "{entries:?}");
        assert_eq!(fake.dispatches(), 1);
    }
);
