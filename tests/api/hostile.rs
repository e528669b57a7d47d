//! Rebound as an attacker sees it: a workspace member who can type anything
//! into any field and click anything, and a stranger who can reach the
//! public listener. One test per defence, on both databases.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use rebound::store::{InboxKind, NewInboxItem};
use serde_json::{Value, json};

use crate::both_backends;
use crate::fake_slack::{Fault, RecordedCall};
use crate::helpers::{
    DECLARER, FORM, SIGNING_SECRET, TestApp, block_actions, command_body, declared_channel, posts_to, sign,
};

const OUTSIDER: &str = "U0OUTSIDER";

fn replies(app: &TestApp) -> Vec<String> {
    app.fake
        .calls("response_url")
        .into_iter()
        .map(|c| c.args["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn wait_for_post(app: &TestApp, channel: &str, needle: &str) -> String {
    app.fake
        .wait_for(needle, |_| posts_to(app, channel).iter().any(|t| t.contains(needle)))
        .await;
    posts_to(app, channel).into_iter().find(|t| t.contains(needle)).unwrap()
}

/// Every text Rebound sent to Slack, with the tokens Slack would act on.
fn broadcasts_sent(app: &TestApp) -> Vec<(String, Vec<String>)> {
    app.fake
        .all_calls()
        .iter()
        .flat_map(|call| texts_of(&call.args))
        .map(|text| (text.clone(), rebound::text::risky_tokens(&text)))
        .filter(|(_, risky)| risky.iter().any(|t| t.starts_with('!') || t.contains("evil")))
        .collect()
}

fn texts_of(value: &Value) -> Vec<String> {
    match value {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items.iter().flat_map(texts_of).collect(),
        Value::Object(fields) => fields.values().flat_map(texts_of).collect(),
        _ => vec![],
    }
}

both_backends!(
    a_due_date_beyond_ten_years_gets_a_usage_answer_and_nothing_stops,
    |app: TestApp| async move {
        let channel = declared_channel(&app, "open Checkout down sev2").await;
        for due in ["1000000y", "262000y", "9999-12-31", "3660d"] {
            let reply = app
                .command(&format!("action rotate keys due {due}"), DECLARER, &channel)
                .await;
            let text = reply["text"].as_str().unwrap();
            assert!(
                text.contains("at most 10 years ahead") && text.contains("Usage"),
                "due {due}: {text}"
            );
        }
        app.command("note still standing", DECLARER, &channel).await;
        wait_for_post(&app, &channel, "noted: still standing").await;
        assert_eq!(app.get("/readyz").await.status(), 200);
    }
);

both_backends!(
    a_stored_command_that_cannot_apply_is_set_aside_its_author_told_and_the_rest_go_on,
    |app: TestApp| async move {
        let channel = declared_channel(&app, "open Checkout down sev2").await;
        // As if an older Rebound had acknowledged it: straight into the inbox.
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        let poison = command_body(&app.fake, "action x due 1000000y", DECLARER, &channel);
        let item = NewInboxItem {
            kind: InboxKind::Command,
            dedupe_key: "command:poison".into(),
            payload: poison,
        };
        store.insert_inbox(&[item], Utc::now()).await.unwrap();
        app.command("note after the poison", DECLARER, &channel).await;
        wait_for_post(&app, &channel, "noted: after the poison").await;
        app.fake
            .wait_for("the author is told", |_| {
                replies(&app)
                    .iter()
                    .any(|r| r.contains("Rebound could not apply `/incident action x due 1000000y`"))
            })
            .await;
        assert_eq!(app.metric("rebound_inbox_set_aside_total").await, 1.0);
        let kept: Option<String> =
            crate::helpers::scalar(&app, "SELECT last_error FROM inbox WHERE dedupe_key = 'command:poison'").await;
        assert!(
            kept.unwrap().contains("10 years"),
            "the error is kept for the operators"
        );
        assert_eq!(app.get("/readyz").await.status(), 200);
    }
);

both_backends!(
    a_forged_snooze_value_is_refused_and_commands_after_it_still_apply,
    |app: TestApp| async move {
        let channel = declared_channel(&app, "open Checkout down sev2").await;
        let action = json!({
            "type": "button", "action_id": "incident_snooze_nudge:30m", "block_id": "b",
            "value": "99999999999d", "action_ts": "1.1", "text": { "type": "plain_text", "text": "x" }
        });
        let body = block_actions(DECLARER, &channel, "1.000001", "trigger.snooze", action);
        assert_eq!(
            app.post_signed("/slack/interactions", FORM, &body, &[]).await.status(),
            200
        );
        app.command("note after the forged click", DECLARER, &channel).await;
        wait_for_post(&app, &channel, "noted: after the forged click").await;
        app.wait_until_inbox_empty().await;
        assert_eq!(app.metric("rebound_inbox_set_aside_total").await, 1.0);
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        let timers = store.pending_timers(1).await.unwrap();
        assert!(
            timers.iter().all(|t| t.due_at < Utc::now() + chrono::Duration::days(2)),
            "the nudge was not pushed out by the forged value: {timers:?}"
        );
    }
);

both_backends!(
    user_text_never_makes_the_bot_broadcast_or_disguise_a_link,
    |app: TestApp| async move {
        // Slack escapes slash-command text: this is what a member typing
        // "R&D <!here> down" and an update with <!channel> sends.
        let channel = declared_channel(&app, "open R&amp;D <!here> down sev2").await;
        let announcement = wait_for_post(&app, "incidents", "declared by").await;
        assert!(
            announcement.contains("R&amp;D @here down"),
            "escaped once, no ping: {announcement}"
        );
        for text in [
            "update <!channel> we are <https://evil.example/login|on it> <!subteam^S0ALL|@everyone-eng>",
            "note <!everyone> see <https://evil.example/x|the runbook>",
            "decision <!here|here> roll back",
            "action <!channel> fix it <@U0OWNER>",
            "resolve <!channel> fixed, details <https://evil.example|here>",
        ] {
            app.command(text, DECLARER, &channel).await;
        }
        wait_for_post(&app, &channel, "resolved the incident").await;
        app.wait_until_outbox_empty().await;
        let update = wait_for_post(&app, "incidents", "update:").await;
        assert!(
            update.contains("@channel") && update.contains("on it (https://evil.example/login)"),
            "{update}"
        );
        assert_eq!(
            broadcasts_sent(&app),
            vec![],
            "nothing Rebound sent may ping or disguise a link"
        );
        let action = wait_for_post(&app, &channel, "added action item").await;
        assert!(action.contains("<@U0OWNER>"), "user mentions stay: {action}");
    }
);

both_backends!(
    the_bot_token_never_leaves_for_a_response_url_outside_slack,
    |app: TestApp| async move {
        let (evil_url, evil_seen) = listener_that_records().await;
        let body = command_body(&app.fake, "open Token theft sev3", DECLARER, "CGENERAL").replace(
            &urlencode(&app.fake.response_url("")),
            &urlencode(&format!("{evil_url}/")),
        );
        assert!(
            body.contains(&urlencode(&evil_url)),
            "the test must really point elsewhere"
        );
        assert_eq!(app.post_signed("/slack/commands", FORM, &body, &[]).await.status(), 200);
        // A normal declaration answers on the fake's response_url: without a token.
        declared_channel(&app, "open Normal one sev3").await;
        app.wait_until_outbox_empty().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            evil_seen.lock().unwrap().is_empty(),
            "nothing may be sent to {evil_url}"
        );
        let answered: Vec<RecordedCall> = app.fake.calls("response_url");
        assert!(!answered.is_empty());
        assert!(
            answered.iter().all(|c| c.args.get("authorization").is_none()),
            "response_url posts carry no token: {answered:?}"
        );
    }
);

both_backends!(
    the_public_listener_shows_nothing_without_a_session,
    |app: TestApp| async move {
        let channel = declared_channel(&app, "open Page test sev3").await;
        app.command(
            "resolve <a href=javascript:alert(1)>x</a> [y](javascript:alert(2))",
            DECLARER,
            &channel,
        )
        .await;
        wait_for_post(&app, &channel, "resolved the incident").await;
        assert_eq!(app.get("/metrics").await.status(), 404, "/metrics is for operators");
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        for path in [
            "/",
            "/incidents",
            "/incidents/1",
            "/incidents/1/postmortem",
            "/incidents/1/postmortem.md",
            "/failures",
        ] {
            let answer = no_redirects.get(format!("{}{path}", app.base)).send().await.unwrap();
            assert_eq!(answer.status(), 303, "{path} needs a session");
            assert_eq!(answer.headers()["location"], "/login", "{path}");
            assert!(!answer.text().await.unwrap().contains("Page test"), "{path}");
        }
        let page = app.get_signed_in("/incidents/1/postmortem", DECLARER).await;
        assert_eq!(page.status(), 200);
        let policy = page.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(policy.contains("default-src 'none'"), "{policy}");
        assert_eq!(page.headers()["x-content-type-options"], "nosniff");
        let html = page.text().await.unwrap();
        assert!(
            !html.to_lowercase().contains("javascript:alert(2)\""),
            "no script links: {html}"
        );
        assert!(!html.contains("<a href=javascript"), "raw HTML is text: {html}");
    }
);

both_backends!(
    private_post_mortems_answer_like_missing_ones,
    |app: TestApp| async move {
        let channel = declared_channel(&app, "open --private Leaked key sev1").await;
        app.command("resolve rotated", DECLARER, &channel).await;
        app.wait_until_inbox_empty().await;
        let private = app.get_signed_in("/incidents/1/postmortem.md", "U0OUTSIDER").await;
        let missing = app.get_signed_in("/incidents/77/postmortem.md", "U0OUTSIDER").await;
        assert_eq!((private.status().as_u16(), missing.status().as_u16()), (404, 404));
        assert_eq!(private.text().await.unwrap(), missing.text().await.unwrap());
        let member = app.get_signed_in("/incidents/1/postmortem.md", DECLARER).await;
        assert_eq!(member.status(), 200, "the channel's members read it");
        // The operators' listener no longer serves drafts: no way around signing in.
        assert_eq!(app.get_internal("/incidents/1/postmortem.md").await.status(), 404);
    }
);

both_backends!(
    nul_bytes_are_stripped_or_refused_and_never_reach_the_database,
    |app: TestApp| async move {
        // %00 in the form decodes to NUL: stripped, and the incident is declared.
        let channel = declared_channel(&app, "open Null\0 title sev3").await;
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        assert_eq!(store.incident(1).await.unwrap().unwrap().title, "Null title");
        app.command("note a\0b", DECLARER, &channel).await;
        wait_for_post(&app, &channel, "noted: ab").await;
        // A raw NUL in a signed body is malformed; no valid form or JSON has one.
        let raw = command_body(&app.fake, "note raw", DECLARER, &channel).replace("raw", "r\0w");
        let response = app.post_signed("/slack/commands", FORM, &raw, &[]).await;
        assert_eq!(response.status(), 400);
        assert!(response.text().await.unwrap().contains("NUL"));
        // JSON's \u0000 decodes to NUL too: the event is applied without it.
        let event = json!({
            "type": "event_callback", "event_id": "EvNUL1", "event_time": 1, "team_id": "T1", "api_app_id": "A1",
            "event": { "type": "pin_added", "user": DECLARER, "channel_id": channel, "event_ts": "1.2",
                       "item": { "type": "message", "message": { "ts": "1.000009", "text": "pinned\u{0}text", "user": DECLARER } } }
        });
        assert_eq!(app.event(&event, None).await.status(), 200);
        // …and in a field Rebound keys on (found by the fuzz test: a 503 forever on Postgres).
        let action = json!({ "type": "button", "action_id": "x", "block_id": "b", "action_ts": "1.1" });
        let click = block_actions(DECLARER, &channel, "1.000001", "trigger\u{0}nul", action);
        assert_eq!(
            app.post_signed("/slack/interactions", FORM, &click, &[]).await.status(),
            200
        );
        app.wait_until_inbox_empty().await;
        assert_eq!(app.metric("rebound_inbox_set_aside_total").await, 0.0);
    }
);

both_backends!(
    a_forged_body_that_is_not_utf8_is_unauthorized_not_malformed,
    |app: TestApp| async move {
        let app = app; // the whole app, not just the fields used below, lives to the end
        let body: &[u8] = b"text=\xff\xfe&user_id=U1";
        let timestamp = Utc::now().timestamp().to_string();
        let send = |signature: String| {
            app.http
                .post(format!("{}/slack/commands", app.base))
                .header("Content-Type", FORM)
                .header("X-Slack-Request-Timestamp", &timestamp)
                .header("X-Slack-Signature", signature)
                .body(body.to_vec())
                .send()
        };
        let forged = send(sign("not-the-secret", &timestamp, "anything")).await.unwrap();
        assert_eq!(
            forged.status(),
            401,
            "verify before parsing: a forged body is unauthorized"
        );
        // Signed with the secret (over the text Rebound checks), it is malformed with a reason.
        let response = send(sign(SIGNING_SECRET, &timestamp, &String::from_utf8_lossy(body)))
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            400,
            "signed by someone with the secret, it is malformed"
        );
        assert!(response.text().await.unwrap().contains("not UTF-8"));
    }
);

both_backends!(
    with_the_lead_policy_a_member_cannot_make_themselves_lead_to_resolve,
    config = "[permissions]\nresolve = \"lead\"\nadmins = [\"U0ADMIN\"]\n",
    |app: TestApp| async move {
        let channel = declared_channel(&app, "open Checkout down sev2").await;
        let grab = app.command(&format!("lead <@{OUTSIDER}>"), OUTSIDER, &channel).await;
        assert!(
            grab["text"].as_str().unwrap().contains("only the incident lead"),
            "{grab}"
        );
        let resolve = app.command("resolve done", OUTSIDER, &channel).await;
        assert!(
            resolve["text"].as_str().unwrap().contains("only the incident lead"),
            "{resolve}"
        );
        // The card's lead picker is held to the same rule.
        let pick = json!({ "type": "users_select", "action_id": "incident_set_lead", "block_id": "b", "selected_user": OUTSIDER, "action_ts": "1.1" });
        let body = block_actions(OUTSIDER, &channel, "1.000001", "trigger.lead", pick);
        assert_eq!(
            app.post_signed("/slack/interactions", FORM, &body, &[]).await.status(),
            200
        );
        app.wait_until_inbox_empty().await;
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        assert_eq!(
            store.incident(1).await.unwrap().unwrap().lead.as_deref(),
            Some(DECLARER)
        );
        app.command("resolve by the admin", "U0ADMIN", &channel).await;
        wait_for_post(&app, &channel, "resolved the incident").await;
    }
);

both_backends!(
    with_the_lead_policy_an_admin_user_group_steers_only_through_its_members,
    config = "[permissions]\nresolve = \"lead\"\nadmins = [\"S0ONCALL\"]\n",
    |app: TestApp| async move {
        app.fake.add_usergroup("S0ONCALL", &["U0ONCALL", "not-a-user"]);
        app.fake
            .wait_for("the admin group's members", |f| {
                f.calls("usergroups.users.list").iter().any(|c| c.ok())
            })
            .await;
        let channel = declared_channel(&app, "open Checkout down sev2").await;
        app.wait_until_outbox_empty().await;
        // Naming the group itself, or being outside it, gives nothing.
        for stranger in ["S0ONCALL", OUTSIDER] {
            let refused = app.command("resolve done", stranger, &channel).await;
            assert!(
                refused["text"].as_str().unwrap().contains("only the incident lead"),
                "{refused}"
            );
        }
        let lead = app.command("lead <@U0ONCALL>", "U0ONCALL", &channel).await;
        assert!(lead["text"].as_str().unwrap().contains("Updating"), "{lead}");
        app.command("resolve by on-call", "U0ONCALL", &channel).await;
        wait_for_post(&app, &channel, "resolved the incident").await;
    }
);

both_backends!(
    a_declaration_whose_channel_can_never_be_made_tells_the_declarer_why,
    |app: TestApp| async move {
        app.fake
            .fail_next("conversations.create", Fault::Error("restricted_action"));
        app.command("open Cannot create sev2", DECLARER, "CGENERAL").await;
        app.fake
            .wait_for("the declarer is told", |_| {
                replies(&app)
                    .iter()
                    .any(|r| r.contains("could not create the channel for INC-1") && r.contains("restricted_action"))
            })
            .await;
    }
);

/// A plain HTTP listener on loopback that records every request it gets.
async fn listener_that_records() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            use tokio::io::AsyncReadExt;
            let mut buffer = vec![0; 8192];
            let read = stream.read(&mut buffer).await.unwrap_or(0);
            recorded
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buffer[..read]).to_string());
        }
    });
    (url, seen)
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("x", text)]).unwrap()[2..].to_string()
}
