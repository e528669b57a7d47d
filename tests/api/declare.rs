//! `/incident open`, `list` and `help`, end to end on both databases.

use serde_json::Value;

use crate::both_backends;
use crate::fake_slack::{FakeSlack, RecordedCall};
use crate::helpers::{DECLARER, TestApp};

fn today() -> String {
    chrono::Utc::now().format("%Y%m%d").to_string()
}

fn ok_calls(fake: &FakeSlack, method: &str) -> Vec<RecordedCall> {
    fake.calls(method).into_iter().filter(RecordedCall::ok).collect()
}

fn posts_to(fake: &FakeSlack, channel: &str) -> Vec<Value> {
    ok_calls(fake, "chat.postMessage")
        .into_iter()
        .map(|c| c.args)
        .filter(|a| a["channel"] == channel)
        .collect()
}

/// Waits for the whole declaration to reach Slack and returns the new channel id.
async fn declared_channel(app: &TestApp) -> String {
    app.fake
        .wait_for("declaration receipt via response_url", |f| {
            !f.calls("response_url").is_empty()
        })
        .await;
    let created = ok_calls(&app.fake, "conversations.create");
    assert_eq!(created.len(), 1, "exactly one channel is created");
    let name = created[0].args["name"].as_str().unwrap().to_string();
    app.fake.channels().into_iter().find(|c| c.name == name).unwrap().id
}

both_backends!(
    open_creates_channel_invites_posts_card_and_announces,
    |app: TestApp| async move {
        let reply = app.command("open Checkout is down sev1", DECLARER, "CGENERAL").await;
        assert_eq!(reply["response_type"], "ephemeral");
        assert!(
            reply["text"].as_str().unwrap().contains("Declaring *Checkout is down*"),
            "{reply}"
        );

        let channel = declared_channel(&app).await;
        let create = &ok_calls(&app.fake, "conversations.create")[0];
        assert_eq!(create.args["name"], format!("inc-{}-checkout-is-down", today()));
        app.fake
            .wait_for("invitation", |f| {
                f.calls("conversations.invite").iter().any(RecordedCall::ok)
            })
            .await;
        let invite = &ok_calls(&app.fake, "conversations.invite")[0];
        assert_eq!(
            (invite.args["channel"].as_str(), invite.args["users"].as_str()),
            (Some(channel.as_str()), Some(DECLARER))
        );

        app.fake
            .wait_for("card and announcement", |f| f.calls("chat.postMessage").len() >= 2)
            .await;
        let card = &posts_to(&app.fake, &channel)[0];
        let card_text = card["blocks"].to_string();
        assert!(
            card["text"].as_str().unwrap().starts_with("INC-1 Checkout is down"),
            "card fallback text: {card}"
        );
        for expected in ["Checkout is down", "sev1", "investigating", DECLARER, "Declared"] {
            assert!(card_text.contains(expected), "card should show {expected}: {card_text}");
        }
        assert_eq!(
            card["blocks"][2]["elements"][0]["initial_option"]["value"], "sev1",
            "the card's severity select shows the current severity"
        );
        app.fake
            .wait_for("channel topic", |f| {
                f.calls("conversations.setTopic").iter().any(RecordedCall::ok)
            })
            .await;
        let topic = &ok_calls(&app.fake, "conversations.setTopic")[0].args;
        assert_eq!(
            topic["topic"],
            format!("INC-1 · SEV1 · investigating · lead <@{DECLARER}>")
        );

        let announcement = &posts_to(&app.fake, "incidents")[0];
        assert!(
            announcement["text"]
                .as_str()
                .unwrap()
                .contains(&format!("<#{channel}>")),
            "{announcement}"
        );

        let receipt = &app.fake.calls("response_url")[0].args;
        assert_eq!(receipt["response_type"], "ephemeral");
        assert!(
            receipt["text"]
                .as_str()
                .unwrap()
                .contains(&format!("*INC-1* declared: <#{channel}>")),
            "{receipt}"
        );

        let list = app.command("list", "U0OTHER", "CELSEWHERE").await;
        let list = list["text"].as_str().unwrap();
        assert!(
            list.contains("*INC-1* Checkout is down — sev1, investigating"),
            "{list}"
        );
        assert!(list.contains(&format!("<#{channel}>")), "{list}");
    }
);

both_backends!(
    open_without_severity_puts_a_severity_select_on_the_card,
    |app: TestApp| async move {
        app.command("open API latency", DECLARER, "CGENERAL").await;
        let channel = declared_channel(&app).await;
        app.fake.wait_for("card", |f| !posts_to(f, &channel).is_empty()).await;
        let card = posts_to(&app.fake, &channel)[0]["blocks"].to_string();
        assert!(
            card.contains("incident_set_severity") && card.contains("Set severity"),
            "{card}"
        );
    }
);

both_backends!(
    titles_without_latin_letters_fall_back_to_the_incident_number,
    |app: TestApp| async move {
        app.command("open 決済が失敗しています 🔥", DECLARER, "CGENERAL").await;
        declared_channel(&app).await;
        let create = &ok_calls(&app.fake, "conversations.create")[0];
        assert_eq!(create.args["name"], format!("inc-{}-incident-1", today()));
    }
);

both_backends!(name_taken_retries_with_a_suffix, |app: TestApp| async move {
    app.fake
        .add_channel(&format!("inc-{}-db-down", today()), "USOMEONE", false);
    app.command("open DB down", DECLARER, "CGENERAL").await;
    declared_channel(&app).await;
    let attempts: Vec<_> = app
        .fake
        .calls("conversations.create")
        .iter()
        .map(|c| c.args["name"].clone())
        .collect();
    assert_eq!(
        attempts,
        [format!("inc-{}-db-down", today()), format!("inc-{}-db-down-2", today())]
    );
});

both_backends!(
    private_incidents_get_a_private_channel_and_a_bare_announcement,
    |app: TestApp| async move {
        app.command("open --private Credential leak sev2", DECLARER, "CGENERAL")
            .await;
        declared_channel(&app).await;
        assert_eq!(ok_calls(&app.fake, "conversations.create")[0].args["is_private"], true);
        app.fake
            .wait_for("announcement", |f| !posts_to(f, "incidents").is_empty())
            .await;
        let announcement = posts_to(&app.fake, "incidents")[0].to_string();
        assert!(
            announcement.contains("private incident") && !announcement.contains("Credential leak"),
            "{announcement}"
        );
    }
);

both_backends!(
    help_and_bad_commands_answer_at_once_and_store_nothing,
    |app: TestApp| async move {
        let help = app.command("help", DECLARER, "CGENERAL").await;
        // Slack shows `&lt;title&gt;` as `<title>`.
        assert!(
            rebound::text::from_slack(help["text"].as_str().unwrap()).contains("/incident open [--private] [<title>]"),
            "{help}"
        );

        for (text, problem, usage) in [
            (
                "status fixed",
                "`fixed` is not a status",
                "/incident status <investigating",
            ),
            ("sev 7", "`7` is not a severity", "/incident sev <1-4>"),
            (
                "frobnicate",
                "`frobnicate` is not an /incident subcommand",
                "/incident <open|",
            ),
            ("lead bob", "@mention", "/incident lead @user"),
        ] {
            let reply = app.command(text, DECLARER, "CGENERAL").await;
            let reply_text = rebound::text::from_slack(reply["text"].as_str().unwrap());
            assert_eq!(reply["response_type"], "ephemeral");
            assert!(
                reply_text.contains(problem) && reply_text.contains(usage),
                "/incident {text} → {reply_text}"
            );
            let stray = rebound::text::stray_angle_brackets(reply["text"].as_str().unwrap());
            assert!(stray.is_empty(), "{stray:?}");
        }
        let outside = app.command("sev 1", DECLARER, "CGENERAL").await;
        assert!(
            outside["text"].as_str().unwrap().contains("inside an incident channel"),
            "{outside}"
        );

        let empty = app.command("list", DECLARER, "CGENERAL").await;
        assert_eq!(empty["text"], ":white_check_mark: No open incidents.");
        assert_eq!(app.metric("rebound_inbox_depth").await, 0.0);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(
            app.fake.all_calls().is_empty(),
            "nothing reaches Slack: {:?}",
            app.fake.all_calls()
        );
    }
);
