//! Pinning a message, or reacting with the timeline emoji, adds it to the
//! incident's timeline once, with its permalink; edits and deletions follow.

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, unique};

async fn incident_channel(app: &TestApp) -> String {
    crate::helpers::declared_channel(app, "open Disk latency sev2").await
}

fn envelope(event: Value) -> Value {
    json!({
        "token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": format!("Ev{}", unique()), "event_time": 1_700_000_000, "event": event
    })
}

fn reaction(channel: &str, ts: &str, user: &str, emoji: &str) -> Value {
    envelope(json!({
        "type": "reaction_added", "user": user, "reaction": emoji, "item_user": "U0AUTHOR",
        "item": { "type": "message", "channel": channel, "ts": ts }, "event_ts": "1700000100.000100"
    }))
}

async fn timeline(app: &TestApp) -> Vec<rebound::store::TimelineEntry> {
    let store = rebound::store::connect(&app.database_url).await.unwrap();
    store.timeline(1).await.unwrap()
}

async fn wait_for_timeline(app: &TestApp, kind: &str, count: usize) -> Vec<rebound::store::TimelineEntry> {
    for _ in 0..300 {
        let entries = timeline(app).await;
        if entries.iter().filter(|e| e.kind == kind).count() >= count {
            return entries;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("timeline never got {count} {kind} entries: {:#?}", timeline(app).await);
}

both_backends!(
    a_pinned_message_joins_the_timeline_with_its_permalink,
    |app: TestApp| async move {
        let channel = incident_channel(&app).await;
        let ts = app.fake.add_message(&channel, "U0AUTHOR", "p99 latency on db-3 is 4s");
        let pin = envelope(json!({
            "type": "pin_added", "user": "U0PINNER", "channel_id": channel, "item_user": "U0AUTHOR", "pin_count": 1,
            "item": { "type": "message", "channel": channel, "created": 1_700_000_000, "created_by": "U0PINNER",
                      "message": { "type": "message", "user": "U0AUTHOR", "text": "p99 latency on db-3 is 4s", "ts": ts } },
            "event_ts": "1700000100.000200"
        }));
        assert_eq!(app.event(&pin, None).await.status(), 200);
        let entries = wait_for_timeline(&app, "message", 1).await;
        let entry = entries.iter().find(|e| e.kind == "message").unwrap();
        let permalink = format!("https://test.slack.com/archives/{channel}/p{}", ts.replace('.', ""));
        assert_eq!(
            entry.body,
            format!("pinned a message from <@U0AUTHOR>: “p99 latency on db-3 is 4s” — {permalink}")
        );
        assert_eq!((entry.actor.as_str(), entry.source.as_str()), ("U0PINNER", "pin"));
        assert!(
            app.fake.calls("conversations.replies").is_empty(),
            "a pin carries the text; no need to fetch it"
        );
    }
);

both_backends!(
    a_pushpin_reaction_captures_once_however_many_react,
    |app: TestApp| async move {
        let channel = incident_channel(&app).await;
        let ts = app.fake.add_message(&channel, "U0AUTHOR", "rolled back to v41");
        for user in ["U0ONE", "U0TWO", "U0ONE"] {
            assert_eq!(
                app.event(&reaction(&channel, &ts, user, "pushpin"), None)
                    .await
                    .status(),
                200
            );
        }
        app.event(&reaction(&channel, &ts, "U0ONE", "thumbsup"), None).await;
        let entries = wait_for_timeline(&app, "message", 1).await;
        app.wait_until_inbox_empty().await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let captured: Vec<_> = timeline(&app)
            .await
            .into_iter()
            .filter(|e| e.kind == "message")
            .collect();
        assert_eq!(captured.len(), 1, "one entry per message: {captured:#?}");
        assert!(entries.iter().any(|e| {
            e.body
                .contains("marked a message from <@U0AUTHOR>: “rolled back to v41”")
        }));
        assert_eq!(app.fake.calls("conversations.replies").len(), 1);
        assert_eq!(app.fake.calls("chat.getPermalink").len(), 1);
    }
);

both_backends!(
    edits_and_deletions_of_captured_messages_are_followed,
    |app: TestApp| async move {
        let channel = incident_channel(&app).await;
        let ts = app.fake.add_message(&channel, "U0AUTHOR", "cause: bad config");
        app.event(&reaction(&channel, &ts, "U0ONE", "pushpin"), None).await;
        wait_for_timeline(&app, "message", 1).await;
        let edit = envelope(json!({
            "type": "message", "subtype": "message_changed", "channel": channel, "hidden": true, "ts": "1700000200.000001",
            "message": { "type": "message", "user": "U0AUTHOR", "text": "cause: bad config push to eu-west", "ts": ts },
            "previous_message": { "type": "message", "user": "U0AUTHOR", "text": "cause: bad config", "ts": ts },
            "event_ts": "1700000200.000001"
        }));
        app.event(&edit, None).await;
        let delete = envelope(json!({
            "type": "message", "subtype": "message_deleted", "channel": channel, "hidden": true, "deleted_ts": ts,
            "ts": "1700000300.000001", "event_ts": "1700000300.000001",
            "previous_message": { "type": "message", "user": "U0AUTHOR", "text": "cause: bad config push to eu-west", "ts": ts }
        }));
        app.event(&delete, None).await;
        let entries = wait_for_timeline(&app, "message_deleted", 1).await;
        let kinds: Vec<_> = entries.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds[2..], ["message", "message_edited", "message_deleted"]);
        assert!(
            entries[2].body.contains("“cause: bad config”"),
            "the original text stays: {}",
            entries[2].body
        );
        assert_eq!(
            entries[3].body,
            "edited a captured message: “cause: bad config push to eu-west” (was “cause: bad config”)"
        );
    }
);

both_backends!(
    messages_outside_incident_channels_are_not_captured,
    |app: TestApp| async move {
        let ts = app.fake.add_message("incidents", "U0AUTHOR", "unrelated");
        app.event(&reaction("C_NOT_AN_INCIDENT", &ts, "U0ONE", "pushpin"), None)
            .await;
        app.wait_until_inbox_empty().await;
        assert!(app.fake.all_calls().is_empty());
    }
);
