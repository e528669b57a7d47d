//! Slack calls that keep up during a flurry, against the simulator
//! enforcing Slack's limits: card edits coalesce and never wait behind
//! messages, lines queued behind one another share a message when the
//! channel is behind (in order, none lost), nothing gets a 429, and
//! `/metrics` reports the time to Slack per method.

use std::time::Duration;

use crate::helpers::{DECLARER, TestApp, declared_channel, posts_to};

crate::both_backends!(
    a_flurry_coalesces_card_edits_and_folds_lines_without_a_429,
    |app: TestApp| async move {
        app.fake.enforce_rate_limits();
        let channel = declared_channel(&app, "open Checkout is down sev1").await;
        app.wait_until_outbox_empty().await;
        let edits_before = app.fake.calls("chat.update").len();
        let leads: Vec<String> = (0..12).map(|i| format!("U0LEAD{i:02}")).collect();
        for lead in &leads {
            let reply = app.command(&format!("lead <@{lead}>"), DECLARER, &channel).await;
            assert!(reply["text"].as_str().unwrap().contains("INC-1"), "{reply}");
        }
        app.wait_until_inbox_empty().await;
        let last = leads.last().unwrap().clone();
        app.fake
            .wait_for("every line in the channel", |_| {
                posts_to(&app, &channel).iter().any(|p| p.contains(&last))
            })
            .await;
        app.wait_until_outbox_empty().await;

        let all = app.fake.all_calls();
        let limited: Vec<_> = all
            .iter()
            .filter(|c| c.status == 429)
            .map(|c| c.method.clone())
            .collect();
        assert!(limited.is_empty(), "no call was rate limited: {limited:?}");

        let edits: Vec<String> = app.fake.calls("chat.update")[edits_before..]
            .iter()
            .filter(|c| c.ok())
            .map(|c| c.args["blocks"].to_string())
            .collect();
        assert!(
            edits.len() < leads.len(),
            "{} commands, {} card edits: queued edits coalesce",
            leads.len(),
            edits.len()
        );
        assert!(
            edits.last().unwrap().contains(&format!("<@{last}>")),
            "the card ends on the latest lead"
        );

        let lines: Vec<String> = posts_to(&app, &channel)
            .into_iter()
            .filter(|p| p.contains("U0LEAD"))
            .collect();
        assert!(lines.len() < leads.len(), "queued lines share messages: {lines:#?}");
        let text = lines.join("\n");
        let mut at = 0;
        for lead in &leads {
            let found = text[at..]
                .find(&format!("<@{lead}>"))
                .unwrap_or_else(|| panic!("{lead} missing or out of order:\n{text}"));
            at += found;
        }

        tokio::time::sleep(Duration::from_millis(100)).await;
        let metrics = app.get_internal("/metrics").await.text().await.unwrap();
        assert!(
            metrics.contains("rebound_time_to_slack_seconds_count{method=\"chat.update\"}"),
            "time to Slack per method on /metrics"
        );
    }
);
