//! Never lose, never repeat: retries, rate limits, crashes and restarts.

use std::time::Duration;

use rebound::startup::Workers;
use serde_json::json;

use crate::both_backends;
use crate::fake_slack::{Fault, RecordedCall};
use crate::helpers::{Backend, DECLARER, TestApp, spawn_app_with};

fn mention(event_id: &str) -> serde_json::Value {
    json!({
        "token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": event_id, "event_time": 1_700_000_000,
        "authorizations": [{ "enterprise_id": null, "team_id": "T1", "user_id": "UBOT", "is_bot": true, "is_enterprise_install": false }],
        "event": { "type": "app_mention", "user": DECLARER, "text": "<@UBOT> help", "ts": "1700000000.000100", "channel": "CGENERAL", "event_ts": "1700000000.000100" }
    })
}

both_backends!(
    an_event_delivered_three_times_is_processed_once,
    |app: TestApp| async move {
        for retry in [None, Some(1), Some(2)] {
            let response = app.event(&mention("Ev0001"), retry).await;
            assert_eq!(response.status(), 200);
        }
        app.wait_until_inbox_empty().await;
        app.fake
            .wait_for("reply to the mention", |f| !f.calls("chat.postMessage").is_empty())
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let replies = app.fake.calls("chat.postMessage");
        assert_eq!(replies.len(), 1, "one reply for one event: {replies:?}");
        assert_eq!(replies[0].args["thread_ts"], "1700000000.000100");
    }
);

both_backends!(rate_limited_posts_wait_for_retry_after, |app: TestApp| async move {
    app.fake
        .fail_next("chat.postMessage", Fault::RateLimited { retry_after_secs: 1 });
    app.command("open Queue backlog sev2", DECLARER, "CGENERAL").await;
    app.fake
        .wait_for("card after the 429", |f| {
            f.calls("chat.postMessage").iter().filter(|c| c.ok()).count() >= 2
        })
        .await;
    let posts = app.fake.calls("chat.postMessage");
    assert_eq!(posts[0].status, 429);
    let limited_channel = posts[0].args["channel"].clone();
    let retry = posts
        .iter()
        .skip(1)
        .find(|c| c.args["channel"] == limited_channel)
        .expect("the limited post is retried");
    assert!(retry.ok());
    let waited = retry.at.duration_since(posts[0].at);
    assert!(
        waited >= Duration::from_millis(950),
        "retried after {waited:?}, before Retry-After: 1"
    );
});

both_backends!(server_errors_are_retried_with_backoff, |app: TestApp| async move {
    app.fake.fail_next("conversations.invite", Fault::ServerError);
    app.command("open Disk full", DECLARER, "CGENERAL").await;
    app.fake
        .wait_for("invite retried", |f| {
            f.calls("conversations.invite").iter().any(RecordedCall::ok)
        })
        .await;
    let invites = app.fake.calls("conversations.invite");
    assert_eq!(invites[0].status, 500);
    assert!(invites[1].at.duration_since(invites[0].at) >= Duration::from_millis(900));
});

both_backends!(
    a_lost_create_answer_does_not_make_a_second_channel,
    |app: TestApp| async move {
        // Slack creates the channel but the answer never arrives (as in a crash
        // between "sent" and "marked sent"): the retry must adopt, not duplicate.
        app.fake
            .fail_next("conversations.create", Fault::SucceedThenServerError);
        app.command("open Search outage sev1", DECLARER, "CGENERAL").await;
        app.fake
            .wait_for("declaration receipt", |f| !f.calls("response_url").is_empty())
            .await;
        let channels: Vec<_> = app
            .fake
            .channels()
            .into_iter()
            .filter(|c| c.name.contains("search-outage"))
            .collect();
        assert_eq!(channels.len(), 1, "one channel: {channels:?}");
        let channel = channels[0].id.clone();
        app.fake
            .wait_for("card in the adopted channel", |f| {
                f.calls("chat.postMessage").iter().any(|c| c.args["channel"] == channel)
            })
            .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let card_posts = app
            .fake
            .calls("chat.postMessage")
            .into_iter()
            .filter(|c| c.args["channel"] == channels[0].id)
            .count();
        assert_eq!(card_posts, 1, "the card goes to the adopted channel");
    }
);

async fn stopped_after_ack_is_processed_on_next_start(backend: Backend) {
    let no_workers = Workers {
        dispatcher: false,
        outbox: false,
    };
    let Some(mut app) = spawn_app_with(backend, no_workers).await else {
        return;
    };
    let reply = app.command("open Billing down sev1", DECLARER, "CGENERAL").await;
    assert!(reply["text"].as_str().unwrap().contains("Declaring"));
    assert_eq!(
        app.metric("rebound_inbox_depth").await,
        1.0,
        "acknowledged means stored"
    );
    app.restart(no_workers).await;
    assert_eq!(
        app.metric("rebound_inbox_depth").await,
        1.0,
        "still stored after a restart"
    );
    assert!(app.fake.all_calls().is_empty());
    app.restart(Workers::default()).await;
    app.fake
        .wait_for("declaration after restart", |f| !f.calls("response_url").is_empty())
        .await;
    assert_eq!(app.fake.calls("conversations.create").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_after_ack_is_processed_on_next_start_sqlite() {
    stopped_after_ack_is_processed_on_next_start(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_after_ack_is_processed_on_next_start_postgres() {
    stopped_after_ack_is_processed_on_next_start(Backend::Postgres).await;
}

both_backends!(
    a_call_that_fails_for_good_does_not_block_its_channel,
    |app: TestApp| async move {
        app.fake
            .fail_next("conversations.invite", Fault::Error("user_not_found"));
        app.command("open Cache stampede", DECLARER, "CGENERAL").await;
        app.fake
            .wait_for("card after the failed invite", |f| {
                f.calls("chat.postMessage").len() >= 2
            })
            .await;
        let invites = app.fake.calls("conversations.invite");
        assert_eq!(invites.len(), 1, "a final error is not retried: {invites:?}");
        assert_eq!(invites[0].error.as_deref(), Some("user_not_found"));
        assert_eq!(
            app.metric("rebound_slack_calls_total{method=\"conversations.invite\",result=\"user_not_found\"}")
                .await,
            1.0
        );
    }
);

both_backends!(
    messages_to_one_channel_are_paced_a_second_apart,
    |app: TestApp| async move {
        let mut second = mention("Ev0002");
        second["event"]["ts"] = json!("1700000000.000200");
        second["event"]["event_ts"] = json!("1700000000.000200");
        app.event(&mention("Ev0001"), None).await;
        app.event(&second, None).await;
        app.fake
            .wait_for("both replies", |f| f.calls("chat.postMessage").len() >= 2)
            .await;
        let replies = app.fake.calls("chat.postMessage");
        let gap = replies[1].at.duration_since(replies[0].at);
        assert!(
            gap >= Duration::from_millis(950),
            "two posts to one channel {gap:?} apart; Slack allows about one per second"
        );
        assert_eq!(replies[0].args["thread_ts"], "1700000000.000100", "order kept");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_postgres_declare_each_incident_once() {
    let Some(first) = spawn_app_with(Backend::Postgres, Workers::default()).await else {
        return;
    };
    let settings = crate::helpers::settings(&first.database_url, &first.fake, &[("REBOUND_REPLICA", "second")]);
    let second = rebound::startup::Application::start(settings, Workers::default())
        .await
        .unwrap();
    let second_base = format!("http://{}", second.addr());
    for i in 0..6 {
        let body = crate::helpers::command_body(&first.fake, &format!("open Replica test {i}"), DECLARER, "CGENERAL");
        let path = "/slack/commands";
        if i % 2 == 0 {
            first.post_signed(path, crate::helpers::FORM, &body, &[]).await;
        } else {
            let timestamp = chrono::Utc::now().timestamp().to_string();
            let signature = crate::helpers::sign(crate::helpers::SIGNING_SECRET, &timestamp, &body);
            let response = first
                .http
                .post(format!("{second_base}{path}"))
                .header("Content-Type", crate::helpers::FORM)
                .header("X-Slack-Request-Timestamp", timestamp)
                .header("X-Slack-Signature", signature)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
    }
    first
        .fake
        .wait_for("six receipts", |f| f.calls("response_url").len() >= 6)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let created: Vec<_> = first
        .fake
        .calls("conversations.create")
        .into_iter()
        .filter(RecordedCall::ok)
        .collect();
    assert_eq!(
        created.len(),
        6,
        "one channel per incident across replicas: {created:?}"
    );
    assert_eq!(first.fake.calls("response_url").len(), 6);
    second.stop().await;
}

both_backends!(
    a_worker_killed_mid_call_is_replaced_within_seconds,
    |app: TestApp| async move {
        let mut app = app;
        // Slack creates the channel but the answer never comes: the process
        // is killed with conversations.create in flight.
        app.fake.fail_next("conversations.create", Fault::SucceedThenHang);
        app.command("open Killed mid create sev2", DECLARER, "CGENERAL").await;
        app.fake
            .wait_for("the channel the call in flight made", |f| {
                f.channels().iter().any(|c| c.name.contains("killed-mid-create"))
            })
            .await;
        let channel = app
            .fake
            .channels()
            .into_iter()
            .find(|c| c.name.contains("killed-mid-create"))
            .unwrap()
            .id;
        let crashed_at = std::time::Instant::now();
        app.crash_and_restart().await;
        app.fake
            .wait_for("the card in the adopted channel", |f| {
                f.calls("chat.postMessage")
                    .iter()
                    .any(|c| c.ok() && c.args["channel"] == channel.as_str())
            })
            .await;
        let recovered = crashed_at.elapsed();
        assert!(
            recovered < Duration::from_secs(5),
            "card {recovered:?} after the restart"
        );
        let created = app
            .fake
            .channels()
            .iter()
            .filter(|c| c.name.contains("killed-mid-create"))
            .count();
        assert_eq!(
            created, 1,
            "the channel the killed call made is adopted, not made twice"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_call_keeps_its_claim_while_another_replica_waits() {
    let Some(first) = spawn_app_with(Backend::Postgres, Workers::default()).await else {
        return;
    };
    // Longer than the 10 s lease: only the heartbeat keeps the second
    // replica from taking the call over and sending it again.
    first.fake.fail_next("conversations.create", Fault::Slow(12));
    first.command("open Slow Slack sev2", DECLARER, "CGENERAL").await;
    // The first replica has claimed the call before the second one starts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settings = crate::helpers::settings(&first.database_url, &first.fake, &[("REBOUND_REPLICA", "second")]);
    let second = rebound::startup::Application::start(settings, Workers::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(14)).await;
    first.wait_until_outbox_empty().await;
    let created: Vec<_> = first.fake.calls("conversations.create");
    assert_eq!(
        created.len(),
        1,
        "sent once, though it took longer than a lease: {created:?}"
    );
    second.stop().await;
}

both_backends!(
    a_post_slack_made_before_a_kill_is_adopted_not_sent_twice,
    |app: TestApp| async move {
        let mut app = app;
        let channel = crate::helpers::declared_channel(&app, "open Card before kill sev2").await;
        app.wait_until_outbox_empty().await;
        // Slack posts the update (in the channel or its announcement), but
        // the answer never comes: the process is killed mid-call.
        app.fake.fail_next("chat.postMessage", Fault::SucceedThenHang);
        app.command("update Payments are failing for some customers", DECLARER, &channel)
            .await;
        let posts_per_channel = |f: &crate::fake_slack::FakeSlack| -> Vec<usize> {
            f.channels()
                .iter()
                .map(|c| {
                    let mentions = |m: &&serde_json::Value| m.to_string().contains("Payments are failing");
                    c.messages.iter().filter(mentions).count()
                })
                .filter(|n| *n > 0)
                .collect()
        };
        app.fake
            .wait_for("the update posted", |f| !posts_per_channel(f).is_empty())
            .await;
        app.crash_and_restart().await;
        app.fake
            .wait_for("the earlier post looked for", |f| {
                f.calls("conversations.history").iter().any(|c| c.ok())
            })
            .await;
        app.wait_until_outbox_empty().await;
        let posts = posts_per_channel(&app.fake);
        assert!(
            posts.len() == 2 && posts.iter().all(|n| *n == 1),
            "the update once in its channel and once announced, nothing twice: {posts:?}"
        );
    }
);
