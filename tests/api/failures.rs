//! Failure tickets: capture with a reaction, one ticket per message, and
//! triage through `/incident failure(s)`.

use serde_json::{Value, json};

use crate::both_backends;
use crate::fake_slack::FakeSlack;
use crate::helpers::{DECLARER, TestApp, unique};

fn reaction(channel: &str, ts: &str, user: &str, emoji: &str, event_id: &str) -> Value {
    json!({
        "token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": event_id,
        "event_time": 1_700_000_000,
        "event": { "type": "reaction_added", "user": user, "reaction": emoji, "item_user": "U0AUTHOR",
                   "item": { "type": "message", "channel": channel, "ts": ts }, "event_ts": "1700000100.000100" }
    })
}

fn thread_replies(fake: &FakeSlack) -> Vec<Value> {
    fake.calls("chat.postMessage")
        .into_iter()
        .filter(|c| c.ok() && c.args["text"].as_str().unwrap_or("").contains("failure ticket"))
        .map(|c| c.args)
        .collect()
}

both_backends!(
    one_ticket_per_message_however_many_react_and_retry,
    |app: TestApp| async move {
        let channel = app.fake.add_channel("deploys", "UADMIN", false);
        let ts = app
            .fake
            .add_message(&channel, "U0AUTHOR", "deploy 512 failed: migration timeout");
        let retried = format!("Ev{}", unique());
        let deliveries = [
            (reaction(&channel, &ts, "U0ONE", "rotating_light", &retried), None),
            (
                reaction(&channel, &ts, "U0TWO", "rotating_light", &format!("Ev{}", unique())),
                None,
            ),
            (
                reaction(&channel, &ts, "U0THREE", "rotating_light", &format!("Ev{}", unique())),
                None,
            ),
            (reaction(&channel, &ts, "U0ONE", "rotating_light", &retried), Some(1)),
        ];
        let (a, b, c, d) = tokio::join!(
            app.event(&deliveries[0].0, deliveries[0].1),
            app.event(&deliveries[1].0, deliveries[1].1),
            app.event(&deliveries[2].0, deliveries[2].1),
            app.event(&deliveries[3].0, deliveries[3].1),
        );
        assert!([a, b, c, d].iter().all(|r| r.status() == 200));
        app.event(
            &reaction(&channel, &ts, "U0FOUR", "eyes", &format!("Ev{}", unique())),
            None,
        )
        .await;
        app.fake
            .wait_for("thread reply", |f| !thread_replies(f).is_empty())
            .await;
        app.wait_until_inbox_empty().await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let replies = thread_replies(&app.fake);
        assert_eq!(replies.len(), 1, "one ticket, one reply: {replies:?}");
        assert_eq!(replies[0]["thread_ts"], ts.as_str());
        assert!(replies[0]["text"].as_str().unwrap().contains("failure ticket *#1*"));

        let listed = app.command("failures", "U0ONE", "CANY").await;
        let listed = listed["text"].as_str().unwrap();
        assert!(listed.starts_with("*1 open failure tickets*"), "{listed}");
        assert!(
            listed.contains("*#1* deploy 512 failed: migration timeout — open, no owner"),
            "{listed}"
        );
        assert!(
            listed.contains(&format!("https://test.slack.com/archives/{channel}/p")),
            "permalink kept: {listed}"
        );
    }
);

both_backends!(
    failures_are_triaged_tagged_and_closed_with_a_lesson,
    |app: TestApp| async move {
        let channel = app.fake.add_channel("alerts", "UADMIN", false);
        let ts = app.fake.add_message(&channel, "U0AUTHOR", "disk full on db-2");
        app.event(&reaction(&channel, &ts, "U0ONE", "rotating_light", "Ev1"), None)
            .await;
        app.fake
            .wait_for("thread reply", |f| !thread_replies(f).is_empty())
            .await;

        let run = |text: &'static str, user: &'static str| {
            let app = &app;
            async move {
                app.command(text, user, "CANY").await["text"]
                    .as_str()
                    .unwrap()
                    .to_string()
            }
        };
        assert!(
            run("failure 1 assign <@U0OWNER|olga>", DECLARER)
                .await
                .contains("Updating failure *#1*")
        );
        assert!(run("failure 1 tag Storage", DECLARER).await.contains("Updating"));
        app.wait_until_inbox_empty().await;
        assert!(
            run("failures mine", "U0OWNER")
                .await
                .contains("*#1* disk full on db-2 — triaged, <@U0OWNER> [storage]")
        );
        assert!(run("failures tag:storage", DECLARER).await.contains("*#1*"));
        assert!(
            run("failures tag:network", DECLARER)
                .await
                .contains("No open failure tickets tagged `network`")
        );
        assert!(
            run("failure 1 tag storage", DECLARER)
                .await
                .contains("already has tag `storage`")
        );
        assert!(
            run("failure 1 close", DECLARER)
                .await
                .contains("needs the lesson learned")
        );
        assert!(
            run("failure 99 tag x", DECLARER)
                .await
                .contains("There is no failure #99")
        );
        assert!(
            run("failure 1 close alert at 80% not 95%", DECLARER)
                .await
                .contains("Updating")
        );
        app.wait_until_inbox_empty().await;
        app.fake
            .wait_for("confirmation", |f| {
                f.calls("response_url")
                    .iter()
                    .any(|c| c.args["text"].as_str().unwrap_or("").contains("— closed"))
            })
            .await;
        assert!(run("failures", DECLARER).await.contains("No open failure tickets"));
        assert!(
            run("failure 1 tag late", DECLARER)
                .await
                .contains("failure #1 is closed")
        );
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        let ticket = store.ticket(1).await.unwrap().unwrap();
        assert_eq!(ticket.lesson.as_deref(), Some("alert at 80% not 95%"));
        assert_eq!(
            (ticket.reporter.as_str(), ticket.author.as_deref()),
            ("U0ONE", Some("U0AUTHOR"))
        );
    }
);

both_backends!(
    edits_and_deletions_of_the_source_follow_the_ticket,
    |app: TestApp| async move {
        let channel = app.fake.add_channel("payments", "UADMIN", false);
        let ts = app.fake.add_message(&channel, "U0AUTHOR", "refunds stuck");
        app.event(&reaction(&channel, &ts, "U0ONE", "rotating_light", "Ev9"), None)
            .await;
        app.fake
            .wait_for("thread reply", |f| !thread_replies(f).is_empty())
            .await;
        let edit = json!({
            "token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": "Ev10", "event_time": 1_700_000_000,
            "event": { "type": "message", "subtype": "message_changed", "channel": channel, "hidden": true, "ts": "1700000200.000001",
                       "message": { "type": "message", "user": "U0AUTHOR", "text": "refunds stuck since 09:00 UTC", "ts": ts },
                       "event_ts": "1700000200.000001" }
        });
        app.event(&edit, None).await;
        let delete = json!({
            "token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": "Ev11", "event_time": 1_700_000_000,
            "event": { "type": "message", "subtype": "message_deleted", "channel": channel, "hidden": true, "deleted_ts": ts,
                       "ts": "1700000300.000001", "event_ts": "1700000300.000001" }
        });
        app.event(&delete, None).await;
        app.wait_until_inbox_empty().await;
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        let ticket = store.ticket(1).await.unwrap().unwrap();
        assert_eq!(ticket.text.as_deref(), Some("refunds stuck since 09:00 UTC"));
        assert!(
            ticket.source_deleted_at.is_some(),
            "the source is marked deleted and the ticket kept"
        );
        assert_eq!(store.ticket_history(1).await.unwrap(), ["refunds stuck"]);
        let listed = app.command("failures", "U0ONE", "CANY").await;
        assert!(
            listed["text"].as_str().unwrap().contains("(source deleted)"),
            "{listed}"
        );
    }
);
