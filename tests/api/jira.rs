//! Jira export end to end against a fake that follows Jira Cloud's REST v3:
//! action items exported automatically or by `/incident action <n> jira`,
//! once each even when Jira's answer is lost (the retry finds the issue by
//! its label), the key in Slack and the post-mortem; failure tickets under
//! `export = "all"`; a refusal told in the channel.

use crate::engines::{run_with_fake, wait_until};
use crate::fake_jira::FakeJira;
use crate::helpers::{Backend, DECLARER, TestApp, declared_channel, posts_to};

macro_rules! with_jira {
    ($name:ident, $project:expr, $export:expr, $body:expr) => {
        $crate::on_both_engines!($name, run($project, $export, $body));
    };
}

/// The app's configuration with the fake Jira.
pub fn jira_config(fake: &FakeJira, project: &str, export: &str) -> String {
    format!(
        "[web]\npublic_url = \"https://rebound.example.com\"\n{}",
        fake.config(project, export)
    )
}

async fn run<F, Fut>(backend: Backend, project: &str, export: &str, body: F)
where
    F: FnOnce(TestApp, FakeJira) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let fake = FakeJira::start().await;
    let config = jira_config(&fake, project, export);
    run_with_fake(backend, fake, &config, body).await;
}

/// Runs a command and waits until it is applied; its immediate reply.
async fn say(app: &TestApp, text: &str, channel: &str) -> String {
    let reply = app.command(text, DECLARER, channel).await;
    app.wait_until_inbox_empty().await;
    reply["text"].as_str().unwrap_or_default().to_string()
}

fn told(app: &TestApp, channel: &str, text: &str) -> bool {
    posts_to(app, channel).iter().any(|p| p.contains(text))
}

with_jira!(
    new_action_items_are_exported_once_even_when_the_answer_is_lost,
    "OPS",
    "action_items",
    |app: TestApp, fake: FakeJira| async move {
        let channel = declared_channel(&app, "open Checkout is down sev1").await;
        fake.lose_next_answers(1);
        say(
            &app,
            "action Add a runbook for <!channel> pool exhaustion <@U0OWNER|owen> due 3d",
            &channel,
        )
        .await;
        wait_until("told where the issue is", || {
            told(&app, &channel, "Action item #1 is <http")
        })
        .await;
        app.wait_until_outbox_empty().await;
        let issues = fake.issues();
        assert_eq!(
            issues.len(),
            1,
            "the retry found the issue instead of creating another: {issues:#?}"
        );
        assert_eq!(fake.counts(), (1, 1), "one create, one search by label");
        let issue = &issues[0];
        assert_eq!(issue["fields"]["summary"], "Add a runbook for @channel pool exhaustion");
        assert_eq!(
            issue["fields"]["labels"],
            serde_json::json!(["rebound", "rebound-action-1"])
        );
        let description = issue["fields"]["description"].to_string();
        assert!(
            description.contains("https://rebound.example.com/incidents/1"),
            "{description}"
        );
        assert!(told(&app, &channel, &format!("<{}/browse/OPS-1|OPS-1>", fake.origin)));
        let postmortem = app.cli(&["postmortem", "1"]);
        assert!(
            postmortem.contains("[OPS-1]("),
            "the post-mortem names the issue:\n{postmortem}"
        );
    }
);

with_jira!(
    a_process_killed_while_jira_creates_the_issue_does_not_create_it_twice,
    "OPS",
    "action_items",
    |mut app: TestApp, fake: FakeJira| async move {
        let channel = declared_channel(&app, "open Payments failing sev1").await;
        fake.hang_next_answers(1);
        say(&app, "action Add a payments canary", &channel).await;
        wait_until("Jira made the issue", || fake.issues().len() == 1).await;
        // Killed while Jira has made the issue but not answered.
        app.crash_and_restart_with_config(&crate::jira::jira_config(&fake, "OPS", "action_items"))
            .await;
        wait_until("told where the issue is", || {
            told(&app, &channel, "Action item #1 is <")
        })
        .await;
        app.wait_until_outbox_empty().await;
        assert_eq!(
            fake.issues().len(),
            1,
            "the restarted process found the issue by its label"
        );
        assert_eq!(fake.counts(), (1, 1), "one create before the kill, one search after");
    }
);

with_jira!(
    a_manual_export_is_asked_for_by_number_and_happens_once,
    "OPS",
    "manual",
    |app: TestApp, fake: FakeJira| async move {
        let channel = declared_channel(&app, "open Search is slow sev3").await;
        say(&app, "action Tune the index", &channel).await;
        app.wait_until_outbox_empty().await;
        assert!(fake.issues().is_empty(), "manual: nothing is exported unasked");
        let reply = say(&app, "action 1 jira", &channel).await;
        assert!(reply.contains("Exporting action item #1"), "{reply}");
        wait_until("exported", || told(&app, &channel, "Action item #1 is <")).await;
        app.wait_until_outbox_empty().await;
        say(&app, "action 1 jira", &channel).await;
        wait_until("told it already is", || {
            app.fake
                .calls("response_url")
                .iter()
                .any(|c| c.args["text"].as_str().unwrap_or_default().contains("already <"))
        })
        .await;
        let missing = say(&app, "action 99 jira", &channel).await;
        assert!(missing.contains("no action item #99"), "{missing}");
        let elsewhere = say(&app, "action 1 jira", "CGENERAL").await;
        assert!(elsewhere.contains("incident channel"), "{elsewhere}");
        app.wait_until_outbox_empty().await;
        assert_eq!(fake.issues().len(), 1);
        assert_eq!(fake.counts().0, 1, "asking twice created once");
    }
);

with_jira!(
    a_refusal_is_told_in_the_channel,
    "NOPE",
    "action_items",
    |app: TestApp, fake: FakeJira| async move {
        let channel = declared_channel(&app, "open Login broken sev2").await;
        say(&app, "action Rotate the signing key", &channel).await;
        wait_until("told in the channel", || {
            told(&app, &channel, "Jira did not take Action item #1") && told(&app, &channel, "Specify a valid project")
        })
        .await;
        assert!(fake.issues().is_empty());
        assert_eq!(fake.counts().0, 1, "a 400 is final");
    }
);

with_jira!(
    a_compromised_jiras_answer_never_reaches_slack_text,
    "OPS",
    "action_items",
    |app: TestApp, fake: FakeJira| async move {
        let channel = declared_channel(&app, "open Billing down sev2").await;
        fake.turn_hostile();
        say(&app, "action Reconcile the invoices", &channel).await;
        wait_until("the refusal told", || {
            told(&app, &channel, "Jira did not take Action item #1")
        })
        .await;
        app.wait_until_outbox_empty().await;
        let said = posts_to(&app, &channel).join("\n");
        assert!(said.contains("valid issue key"), "{said}");
        assert!(!said.contains("<!channel>") && !said.contains("evil.example"), "{said}");
        let postmortem = app.cli(&["postmortem", "1"]);
        assert!(!postmortem.contains("evil.example"), "{postmortem}");
        assert_eq!(fake.counts().0, 1, "a key that is not a key is final, not retried");
    }
);

fn reaction(channel: &str, ts: &str, emoji: &str, event_id: &str) -> serde_json::Value {
    serde_json::json!({
        "token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": event_id,
        "event_time": 1_700_000_000,
        "event": { "type": "reaction_added", "user": "U0ONE", "reaction": emoji, "item_user": "U0AUTHOR",
                   "item": { "type": "message", "channel": channel, "ts": ts }, "event_ts": "1700000100.000100" }
    })
}

with_jira!(
    failure_tickets_of_public_channels_go_to_jira_under_all,
    "OPS",
    "all",
    |app: TestApp, fake: FakeJira| async move {
        let public = app.fake.add_channel("deploys", "U0AUTHOR", false);
        let private = app.fake.add_channel("security", "U0AUTHOR", true);
        let shared = app
            .fake
            .add_message(&public, "U0AUTHOR", "Deploys keep timing out on the canary");
        let secret = app
            .fake
            .add_message(&private, "U0AUTHOR", "The admin password was in a log");
        app.event(&reaction(&public, &shared, "rotating_light", "EvJira1"), None)
            .await;
        app.event(&reaction(&private, &secret, "rotating_light", "EvJira2"), None)
            .await;
        wait_until("the public ticket exported", || fake.issues().len() == 1).await;
        wait_until("told in the ticket's thread", || {
            app.fake.calls("chat.postMessage").iter().any(|c| {
                c.ok()
                    && c.args["thread_ts"] == shared.as_str()
                    && c.args["text"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("Failure ticket #1 is <")
            })
        })
        .await;
        app.wait_until_outbox_empty().await;
        let issues = fake.issues();
        assert_eq!(issues.len(), 1, "a private channel's ticket stays home: {issues:#?}");
        assert_eq!(issues[0]["fields"]["summary"], "Deploys keep timing out on the canary");
        assert!(!serde_json::to_string(&issues).unwrap().contains("password"));
    }
);
