//! Failure tickets: capture with a reaction, one ticket per message, triage
//! through `/incident failure(s)` and through the thread reply's buttons and
//! forms, recurrence flagging, and what the digest and `/metrics` report.

use serde_json::{Value, json};

use crate::both_backends;
use crate::fake_slack::FakeSlack;
use crate::helpers::{DECLARER, FORM, TestApp, click, opened_view, scalar, submission, text_value, unique};

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

/// Captures `text` as a failure ticket and waits for its thread reply; returns the message ts.
async fn capture(app: &TestApp, channel: &str, text: &str) -> String {
    let ts = app.fake.add_message(channel, "U0AUTHOR", text);
    let before = thread_replies(&app.fake).len();
    app.event(
        &reaction(channel, &ts, "U0ONE", "rotating_light", &format!("Ev{}", unique())),
        None,
    )
    .await;
    app.fake
        .wait_for("thread reply", |f| thread_replies(f).len() > before)
        .await;
    ts
}

fn posts_in_thread(fake: &FakeSlack, ts: &str) -> Vec<String> {
    fake.calls("chat.postMessage")
        .into_iter()
        .filter(|c| c.ok() && c.args["thread_ts"] == ts)
        .map(|c| c.args["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn wait_for_recurrence_flag(fake: &FakeSlack, thread: &str) {
    fake.wait_for("the recurrence flag", |f| {
        posts_in_thread(f, thread)
            .iter()
            .any(|t| t.contains("Seen once before"))
    })
    .await;
}

async fn press(app: &TestApp, channel: &str, ts: &str, action_id: &str, trigger: &str) {
    let body = click(DECLARER, channel, ts, action_id, trigger);
    let response = app.post_signed("/slack/interactions", FORM, &body, &[]).await;
    assert_eq!(response.status(), 200);
}

async fn submit(app: &TestApp, view: &Value, values: Value, trigger: &str) -> Value {
    let response = app
        .post_signed("/slack/interactions", FORM, &submission(view, values, trigger), &[])
        .await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap()
    }
}

both_backends!(
    the_thread_buttons_triage_analyse_and_close_a_ticket,
    |app: TestApp| async move {
        let channel = app.fake.add_channel("alerts", "UADMIN", false);
        let ts = capture(&app, &channel, "checkout 502s from the edge").await;
        let reply = thread_replies(&app.fake)[0].clone();
        let buttons: Vec<&str> = reply["blocks"][1]["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["action_id"].as_str().unwrap())
            .collect();
        assert_eq!(buttons, ["failure_triage:1", "failure_root_cause:1", "failure_close:1"]);

        press(&app, &channel, &ts, "failure_triage:1", "1.1.triage").await;
        let form = opened_view(&app, "failure_triage").await;
        assert_eq!(
            form["blocks"][1]["element"]["initial_user"], DECLARER,
            "owner defaults to the clicker"
        );
        let refused = submit(&app, &form, json!({ "tags": text_value("edge bad/tag") }), "1.2.a").await;
        assert_eq!(refused["response_action"], "errors");
        let fields: Vec<&String> = refused["errors"].as_object().unwrap().keys().collect();
        assert_eq!(fields, ["owner", "score", "tags"]);
        let triage = json!({
            "owner": { "value": { "type": "users_select", "selected_user": "U0OWNER" } },
            "tags": text_value("edge, Checkout"),
            "score": { "value": { "type": "static_select", "selected_option": { "value": "4" } } },
            "impact": text_value("2% of checkouts failed for 20 minutes")
        });
        assert_eq!(
            submit(&app, &form, triage.clone(), "1.3.b").await,
            Value::Null,
            "an empty 200 closes the form"
        );
        assert_eq!(
            submit(&app, &form, triage, "1.3.b").await,
            Value::Null,
            "a retried submission"
        );
        app.wait_until_inbox_empty().await;
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        let ticket = store.ticket(1).await.unwrap().unwrap();
        assert_eq!(ticket.status.as_str(), "triaged");
        assert_eq!(ticket.owner.as_deref(), Some("U0OWNER"));
        assert_eq!(ticket.tags, ["checkout", "edge"]);
        assert_eq!(ticket.severity_score, Some(4));
        assert_eq!(
            ticket.customer_impact.as_deref(),
            Some("2% of checkouts failed for 20 minutes")
        );

        press(&app, &channel, &ts, "failure_root_cause:1", "2.1.cause").await;
        let form = opened_view(&app, "failure_root_cause").await;
        let analysis = json!({
            "why1": text_value("the edge returned 502"),
            "why2": text_value("upstream pool exhausted"),
            "why3": text_value("keepalive set to 0 in a config change"),
            "root_cause": text_value("config changes skip review"),
            "lesson": text_value("review every edge config change")
        });
        assert_eq!(submit(&app, &form, analysis, "2.2.a").await, Value::Null);
        app.wait_until_inbox_empty().await;
        let ticket = store.ticket(1).await.unwrap().unwrap();
        assert_eq!(ticket.status.as_str(), "actioned");
        assert_eq!(ticket.five_whys.len(), 3);
        assert_eq!(ticket.root_cause.as_deref(), Some("config changes skip review"));

        press(&app, &channel, &ts, "failure_close:1", "3.1.close").await;
        let form = opened_view(&app, "failure_close").await;
        assert_eq!(
            form["blocks"][1]["element"]["initial_value"], "review every edge config change",
            "the close form starts from the lesson already written"
        );
        let refused = submit(&app, &form, json!({ "lesson": text_value("  ") }), "3.2.a").await;
        assert_eq!(refused["errors"]["lesson"], "Closing needs the lesson learned.");
        let closing = json!({ "lesson": text_value("review every edge config change; alert on pool use") });
        assert_eq!(submit(&app, &form, closing, "3.3.b").await, Value::Null);
        app.wait_until_inbox_empty().await;
        let ticket = store.ticket(1).await.unwrap().unwrap();
        assert_eq!(ticket.status.as_str(), "closed");
        assert_eq!(
            ticket.lesson.as_deref(),
            Some("review every edge config change; alert on pool use")
        );

        press(&app, &channel, &ts, "failure_triage:1", "4.1.late").await;
        app.fake
            .wait_for("closed note", |f| {
                posts_in_thread(f, &ts).iter().any(|t| t.contains("already closed"))
            })
            .await;
        let thread = posts_in_thread(&app.fake, &ts);
        let triaged: Vec<_> = thread.iter().filter(|t| t.contains("triaged *#1*")).collect();
        assert_eq!(
            triaged.len(),
            1,
            "the retried submission changed nothing twice: {thread:?}"
        );
        assert!(
            thread.iter().any(|t| t.contains("recorded the root cause of *#1*")),
            "{thread:?}"
        );
        assert!(
            thread.iter().any(|t| t.contains("closed *#1*")
                && t.contains("*Lesson learned:* review every edge config change; alert on pool use")),
            "{thread:?}"
        );
        assert_eq!(app.fake.calls("views.open").len(), 3, "no form for a closed ticket");
        let card_ts = store
            .ticket(1)
            .await
            .unwrap()
            .unwrap()
            .reply_ts
            .expect("the card's ts is kept");
        let card = app
            .fake
            .calls("chat.update")
            .into_iter()
            .rev()
            .find(|c| c.ok() && c.args["ts"] == card_ts.as_str())
            .expect("the ticket's card is edited in place");
        assert!(
            card.args["text"]
                .as_str()
                .unwrap()
                .contains("failure ticket *#1* — *closed*"),
            "{:?}",
            card.args
        );
        assert_eq!(
            card.args["blocks"].as_array().unwrap().len(),
            1,
            "no buttons on a closed ticket"
        );

        let shown = app.command("failure 1", "U0ANYONE", "CANY").await;
        let shown = shown["text"].as_str().unwrap();
        for expected in [
            "*#1* checkout 502s from the edge — closed, <@U0OWNER> [checkout, edge]",
            "*Severity score:* 4 of 5",
            "*Customer impact:* 2% of checkouts failed for 20 minutes",
            "*Five whys:* \n1. the edge returned 502\n2. upstream pool exhausted\n3. keepalive set to 0 in a config change",
            "*Root cause:* config changes skip review",
            "*Lesson learned:* review every edge config change; alert on pool use",
        ] {
            assert!(shown.contains(expected), "{expected:?} missing from:\n{shown}");
        }
    }
);

both_backends!(
    recurring_failures_are_flagged_with_links_to_earlier_ones,
    |app: TestApp| async move {
        let channel = app.fake.add_channel("alerts", "UADMIN", false);
        capture(
            &app,
            &channel,
            "[FIRING:1] HighErrorRate checkout-api 5xx rate 7.2% on pod checkout-7f9c",
        )
        .await;
        let again = capture(
            &app,
            &channel,
            "[FIRING:1] HighErrorRate checkout-api 5xx rate 9.8% on pod checkout-1a2b",
        )
        .await;
        let other = capture(&app, &channel, "Nightly billing export wrote an empty file").await;
        wait_for_recurrence_flag(&app.fake, &again).await;
        let flagged = posts_in_thread(&app.fake, &again).join("\n");
        assert!(
            flagged.contains(":repeat: Seen once before: <https://test.slack.com/archives/"),
            "{flagged}"
        );
        assert!(flagged.contains("|#1>"), "{flagged}");
        app.wait_until_inbox_empty().await;
        app.wait_until_outbox_empty().await;
        assert!(
            !posts_in_thread(&app.fake, &other).iter().any(|t| t.contains("Seen")),
            "an unrelated failure is not a recurrence"
        );
        app.command("failure 1 tag billing", DECLARER, "CANY").await;
        app.command("failure 3 tag Billing", DECLARER, "CANY").await;
        app.fake
            .wait_for("tag recurrence", |f| {
                posts_in_thread(f, &other)
                    .iter()
                    .any(|t| t.contains("Seen once before") && t.contains("#1"))
            })
            .await;
        app.wait_until_inbox_empty().await;
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        assert_eq!(
            store
                .recurrences_of(3)
                .await
                .unwrap()
                .iter()
                .map(|t| t.id)
                .collect::<Vec<_>>(),
            [1]
        );
        let month = chrono::Utc::now().format("%Y-%m").to_string();
        let rate = app
            .metric(&format!("rebound_failure_recurrence_rate{{month=\"{month}\"}}"))
            .await;
        assert!(
            (rate - 2.0 / 3.0).abs() < 1e-6,
            "2 of 3 tickets this month recur: {rate}"
        );
    }
);

both_backends!(
    removed_reactions_and_malformed_events_lose_nothing,
    |app: TestApp| async move {
        let channel = app.fake.add_channel("support", "UADMIN", false);
        let ts = capture(&app, &channel, "customer says invoices are blank").await;
        let mut removed = reaction(&channel, &ts, "U0ONE", "rotating_light", "EvRemoved");
        removed["event"]["type"] = json!("reaction_removed");
        assert_eq!(app.event(&removed, None).await.status(), 200);
        let mut broken = reaction(&channel, &ts, "U0TWO", "rotating_light", "EvBroken");
        broken["event"]["item"] = json!({ "type": "message" });
        assert_eq!(app.event(&broken, None).await.status(), 200, "stored, not refused");
        let later = capture(&app, &channel, "invoices blank again for EU customers").await;
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        let first = store.ticket(1).await.unwrap().unwrap();
        assert_eq!(first.status.as_str(), "open", "removing the reaction keeps the ticket");
        assert_eq!(
            store.ticket(2).await.unwrap().unwrap().ts,
            later,
            "a broken event blocks nothing after it"
        );
    }
);

both_backends!(
    the_digest_lists_the_untriaged_backlog_busiest_owners_and_recurrence,
    config =
        "[failures]\nuntriaged_after = \"1s\"\n[digest]\ncron = \"*/2 * * * * *\"\nchannel = \"incident-managers\"\n",
    |app: TestApp| async move {
        app.fake.add_channel("incident-managers", "UADMIN", false);
        let channel = app.fake.add_channel("alerts", "UADMIN", false);
        capture(&app, &channel, "Payments webhook retries exhausted for acme").await;
        capture(&app, &channel, "Payments webhook retries exhausted for globex").await;
        capture(&app, &channel, "Search cluster yellow after node restart").await;
        app.command("failure 3 assign <@U0OWNER|olga>", DECLARER, "CANY").await;
        app.wait_until_inbox_empty().await;
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let month = chrono::Utc::now().format("%Y-%m").to_string();
        let wanted = [
            "*Failure tickets (3 open)*".to_string(),
            "_Untriaged for over 1s (2)_".to_string(),
            "• #1 Payments webhook retries exhausted for acme — captured 0h ago".to_string(),
            "_Most open tickets:_ <@U0OWNER> 1".to_string(),
            format!("_Recurrence:_ {month} 33% (1 of 3)"),
        ];
        app.fake
            .wait_for("a digest with the failure backlog", |f| {
                f.calls("chat.postMessage").iter().any(|c| {
                    let blocks = c.args["blocks"].to_string();
                    c.args["channel"] == "incident-managers" && wanted.iter().all(|w| blocks.contains(w.as_str()))
                })
            })
            .await;
    }
);

both_backends!(
    word_keys_are_stored_at_capture_and_older_tickets_still_match,
    |app: TestApp| async move {
        let channel = app.fake.add_channel("alerts", "UADMIN", false);
        capture(&app, &channel, "Payments gateway timeout upstream, checkout degraded").await;
        app.wait_until_outbox_empty().await;
        let stored: String = scalar(&app, "SELECT words FROM failure_tickets WHERE id = 1").await;
        assert_eq!(stored, "checkout degraded gateway payments timeout upstream");
        // A ticket from before word keys were stored has none: its text is read instead.
        let cleared: i64 = scalar(
            &app,
            "UPDATE failure_tickets SET words = NULL WHERE id = 1 RETURNING id",
        )
        .await;
        assert_eq!(cleared, 1);
        let again = capture(
            &app,
            &channel,
            "payments gateway timeout upstream; checkout degraded again",
        )
        .await;
        wait_for_recurrence_flag(&app.fake, &again).await;
    }
);
