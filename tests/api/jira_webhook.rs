//! Jira's `jira:issue_updated` admin webhook end to end: an exported action
//! item closes once when its issue is done, told in the channel and on the
//! timeline; repeats change nothing; forged, unsigned, malformed and
//! injected deliveries are refused before anything is stored, and issues
//! Rebound did not make close nothing. Bodies from
//! `tests/fixtures/jira/issue-updated.json` (source in its README), signed as
//! Jira signs them.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::engines::wait_until;
use crate::fake_jira::{FakeJira, WEBHOOK_SECRET};
use crate::helpers::{TestApp, declared_channel, posts_to, say, scalar};
use crate::intake::deliver;

const ROUTE: &str = "/integrations/jira/webhook";

macro_rules! with_jira {
    ($name:ident, $body:expr) => {
        $crate::on_both_engines!($name, run($body));
    };
}

async fn run<F, Fut>(backend: crate::helpers::Backend, body: F)
where
    F: FnOnce(TestApp, FakeJira) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let fake = FakeJira::start().await;
    let config = crate::jira::jira_config(&fake, "OPS", "action_items");
    crate::engines::run_with_fake(backend, fake, &config, body).await;
}

/// The documented body with `key` moved to the status category `category`.
fn issue_updated(key: &str, category: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jira/issue-updated.json");
    let mut body: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    body["issue"]["key"] = key.into();
    body["issue"]["fields"]["status"]["statusCategory"]["key"] = category.into();
    body.to_string()
}

fn signature(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Delivers `body` as Jira does: signed with `secret`, named `delivery`.
async fn from_jira(app: &TestApp, secret: &str, delivery: &str, body: &str) -> (u16, String) {
    let headers = [
        ("X-Hub-Signature", signature(secret, body)),
        ("X-Atlassian-Webhook-Identifier", delivery.to_string()),
    ];
    deliver(app, ROUTE, &headers, body).await
}

/// An incident with action item #1 exported as OPS-1; its channel.
async fn exported_action_item(app: &TestApp, fake: &FakeJira) -> String {
    let channel = declared_channel(app, "open Checkout is down sev1").await;
    say(
        app,
        "action Add a runbook for pool exhaustion <@U0OWNER|owen> due 3d",
        &channel,
    )
    .await;
    wait_until("exported", || fake.issues().len() == 1).await;
    app.wait_until_outbox_empty().await;
    channel
}

fn closed_lines(app: &TestApp, channel: &str) -> usize {
    posts_to(app, channel)
        .iter()
        .filter(|p| p.contains("completed action item #1 (its Jira issue <"))
        .count()
}

async fn pending_reminders(app: &TestApp) -> i64 {
    let sql = "SELECT COUNT(*) FROM timers WHERE kind = 'action_reminder' AND subject_id = 1 AND state = 'pending'";
    scalar(app, sql).await
}

async fn done_at_set(app: &TestApp) -> bool {
    scalar::<i64>(
        app,
        "SELECT COUNT(*) FROM action_items WHERE id = 1 AND done_at IS NOT NULL",
    )
    .await
        == 1
}

with_jira!(
    an_exported_action_item_closes_once_when_its_jira_issue_is_done,
    |app: TestApp, fake: FakeJira| async move {
        let channel = exported_action_item(&app, &fake).await;
        assert_eq!(
            pending_reminders(&app).await,
            1,
            "an owned item with a due date is reminded"
        );
        let (status, answer) = from_jira(&app, WEBHOOK_SECRET, "d-1", &issue_updated("OPS-1", "indeterminate")).await;
        assert_eq!(
            (status, answer.contains("ignored")),
            (200, true),
            "in progress: {answer}"
        );
        app.wait_until_inbox_empty().await;
        assert!(!done_at_set(&app).await, "an issue in progress closes nothing");

        let done = issue_updated("OPS-1", "done");
        let (status, answer) = from_jira(&app, WEBHOOK_SECRET, "d-2", &done).await;
        assert_eq!((status, answer.contains("accepted")), (202, true), "{answer}");
        wait_until("told in the channel", || closed_lines(&app, &channel) == 1).await;
        assert!(done_at_set(&app).await);
        let line = posts_to(&app, &channel)
            .into_iter()
            .find(|p| p.contains("completed action item #1"))
            .unwrap();
        assert!(
            line.contains(&format!("<{}/browse/OPS-1|OPS-1>", fake.origin)),
            "{line}"
        );
        let timeline = app.cli(&["postmortem", "1"]);
        assert!(timeline.contains("completed action item #1"), "{timeline}");

        // Jira's retry of the same delivery, then another "done" edit.
        let (status, answer) = from_jira(&app, WEBHOOK_SECRET, "d-2", &done).await;
        assert_eq!((status, answer.contains("duplicate")), (202, true), "{answer}");
        let (status, _) = from_jira(&app, WEBHOOK_SECRET, "d-3", &done).await;
        assert_eq!(status, 202);
        app.wait_until_inbox_empty().await;
        app.wait_until_outbox_empty().await;
        assert_eq!(closed_lines(&app, &channel), 1, "closed once, told once");
        assert_eq!(pending_reminders(&app).await, 0, "its reminders stopped");
    }
);

with_jira!(
    forged_malformed_and_foreign_jira_webhooks_close_nothing,
    |mut app: TestApp, fake: FakeJira| async move {
        let channel = exported_action_item(&app, &fake).await;
        let done = issue_updated("OPS-1", "done");
        let (unsigned, _) = deliver(&app, ROUTE, &[], &done).await;
        let (forged, _) = from_jira(&app, "someone-elses-secret-000", "f-1", &done).await;
        let tampered_body = done.replace("Done", "Done ");
        let headers = [("X-Hub-Signature", signature(WEBHOOK_SECRET, &done))];
        let (tampered, _) = deliver(&app, ROUTE, &headers, &tampered_body).await;
        let bare_hex = [(
            "X-Hub-Signature",
            signature(WEBHOOK_SECRET, &done).replace("sha256=", ""),
        )];
        let (unprefixed, _) = deliver(&app, ROUTE, &bare_hex, &done).await;
        assert_eq!((unsigned, forged, tampered, unprefixed), (401, 401, 401, 401));

        let (garbage, reason) = from_jira(&app, WEBHOOK_SECRET, "f-2", "{not json").await;
        assert_eq!(garbage, 400);
        assert!(reason.contains("not JSON"), "{reason}");
        let (injected, reason) = from_jira(&app, WEBHOOK_SECRET, "f-3", &issue_updated("<!channel>", "done")).await;
        assert_eq!(injected, 400, "{reason}");
        let (nul, _) = from_jira(&app, WEBHOOK_SECRET, "f-6", &issue_updated("OPS-1\u{0}", "done")).await;
        let (huge, _) = from_jira(
            &app,
            WEBHOOK_SECRET,
            "f-7",
            &issue_updated(&format!("OPS-{}", "9".repeat(80)), "done"),
        )
        .await;
        let padded = done.replacen('{', &format!("{{\"pad\": \"{}\",", "x".repeat(2 << 20)), 1);
        let (oversized, _) = from_jira(&app, WEBHOOK_SECRET, "f-8", &padded).await;
        assert_eq!((nul, huge, oversized), (400, 400, 413), "NUL, an absurd key, 2 MiB");

        // Signed, but for an issue Rebound did not make, and a repeat of it.
        let (status, _) = from_jira(&app, WEBHOOK_SECRET, "f-4", &issue_updated("OPS-99", "done")).await;
        assert_eq!(status, 202);
        app.wait_until_inbox_empty().await;
        app.wait_until_outbox_empty().await;
        assert!(!done_at_set(&app).await, "nothing closed");
        assert_eq!(closed_lines(&app, &channel), 0);
        let stored: i64 = scalar(&app, "SELECT COUNT(*) FROM inbox WHERE kind = 'webhook'").await;
        assert_eq!(stored, 1, "only the signed, well-formed delivery was stored");
        let said: Vec<String> = posts_to(&app, &channel);
        assert!(said.iter().all(|p| !p.contains("<!channel>")), "{said:?}");

        // Without a webhook secret the route is not there.
        let config = format!(
            "[integrations.jira]\nurl = \"{}\"\nemail = \"ops@acme.example\"\napi_token = \"t\"\nproject = \"OPS\"\n",
            fake.origin
        );
        app.restart_with_config(&config).await;
        let (status, _) = from_jira(&app, WEBHOOK_SECRET, "f-5", &done).await;
        assert_eq!(status, 404);
    }
);
