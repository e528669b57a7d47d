//! Privacy follows the channel: what a private channel said (its failure
//! tickets, its incident) is shown and changeable only by its members, as
//! Slack reports them (`conversations.members`, then member events), and
//! nothing is shown while Slack has not said whether a channel is private.

use serde_json::{Value, json};

use crate::both_backends;
use crate::fake_slack::Fault;
use crate::helpers::{DECLARER, TestApp, declared_channel};

pub(crate) const INSIDER: &str = "U0INSIDER";
const OUTSIDER: &str = "U0OUTSIDER";
const SECRET_TEXT: &str = "Leaked deploy key for payments found in a public gist";

fn reaction(channel: &str, ts: &str, user: &str, event_id: &str) -> Value {
    json!({
        "token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": event_id,
        "event_time": 1_700_000_000,
        "event": { "type": "reaction_added", "user": user, "reaction": "rotating_light", "item_user": INSIDER,
                   "item": { "type": "message", "channel": channel, "ts": ts }, "event_ts": "1700000100.000100" }
    })
}

fn member_event(kind: &str, channel: &str, user: &str, event_id: &str) -> Value {
    json!({
        "token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": event_id,
        "event_time": 1_700_000_000,
        "event": { "type": kind, "user": user, "channel": channel, "channel_type": "G", "team": "T1",
                   "event_ts": "1700000200.000100" }
    })
}

/// Flags `text` in `channel` as a failure and waits until every follow-up is done.
pub(crate) async fn flag(app: &TestApp, channel: &str, text: &str, event_id: &str) {
    let ts = app.fake.add_message(channel, INSIDER, text);
    assert_eq!(
        app.event(&reaction(channel, &ts, INSIDER, event_id), None)
            .await
            .status(),
        200
    );
    app.wait_until_inbox_empty().await;
    app.wait_until_outbox_empty().await;
}

async fn reply(app: &TestApp, text: &str, user: &str, channel: &str) -> String {
    app.command(text, user, channel).await["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn member_change(app: &TestApp, kind: &str, channel: &str, user: &str, event_id: &str) {
    assert_eq!(
        app.event(&member_event(kind, channel, user, event_id), None)
            .await
            .status(),
        200
    );
    app.wait_until_inbox_empty().await;
}

both_backends!(
    a_ticket_in_a_private_channel_is_seen_and_changed_only_by_its_members,
    |app: TestApp| async move {
        let secret = app.fake.add_channel("security-team", "UADMIN", true);
        app.fake.add_member(&secret, INSIDER);
        flag(&app, &secret, SECRET_TEXT, "EvSecret").await;
        assert!(
            app.fake.calls("conversations.members").iter().any(|c| c.ok()),
            "members come from Slack"
        );

        for command in ["failures", "failure 1"] {
            let seen = reply(&app, command, OUTSIDER, "CGENERAL").await;
            assert!(
                seen.contains("a ticket in a private channel") && !seen.contains("Leaked"),
                "an outsider sees no private text ({command}): {seen}"
            );
            let seen = reply(&app, command, INSIDER, "CGENERAL").await;
            assert!(
                seen.contains("Leaked deploy key"),
                "a member sees it anywhere ({command}): {seen}"
            );
        }
        let refused = reply(&app, &format!("failure 1 assign <@{OUTSIDER}>"), OUTSIDER, "CGENERAL").await;
        assert!(refused.contains(":lock:"), "{refused}");
        let accepted = reply(&app, "failure 1 tag credentials", INSIDER, "CGENERAL").await;
        assert!(accepted.contains("Updating failure"), "{accepted}");
        app.wait_until_inbox_empty().await;
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        assert_eq!(store.ticket(1).await.unwrap().unwrap().tags, ["credentials"]);

        // Membership follows Slack's member events.
        member_change(&app, "member_left_channel", &secret, INSIDER, "EvLeft").await;
        member_change(&app, "member_joined_channel", &secret, OUTSIDER, "EvJoined").await;
        let former = reply(&app, "failures", INSIDER, "CGENERAL").await;
        assert!(
            !former.contains("Leaked"),
            "a former member no longer sees it: {former}"
        );
        let newcomer = reply(&app, "failure 1", OUTSIDER, "CGENERAL").await;
        assert!(newcomer.contains("Leaked deploy key"), "a new member does: {newcomer}");
        // A member event naming something that is not a user changes nothing.
        member_change(&app, "member_joined_channel", &secret, "<!channel>", "EvForged").await;
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        assert!(store.private_channels_of("<!channel>").await.unwrap().is_empty());
    }
);

both_backends!(
    until_slack_says_a_channel_is_public_its_tickets_stay_private,
    |app: TestApp| async move {
        let unknown = app.fake.add_channel("ops", "UADMIN", false);
        app.fake.fail_next("conversations.info", Fault::Error("missing_scope"));
        flag(&app, &unknown, "Backups did not run last night", "EvUnknown").await;
        let seen = reply(&app, "failures", OUTSIDER, "CGENERAL").await;
        assert!(
            seen.contains("a ticket in a private channel") && !seen.contains("Backups"),
            "fails closed: {seen}"
        );

        let public = app.fake.add_channel("deploys", "UADMIN", false);
        flag(&app, &public, "Deploy of search failed on canary", "EvPublic").await;
        let seen = reply(&app, "failure 2", OUTSIDER, "CGENERAL").await;
        assert!(
            seen.contains("Deploy of search failed"),
            "public tickets are public: {seen}"
        );
    }
);

both_backends!(
    members_of_a_large_private_channel_are_read_page_by_page,
    |app: TestApp| async move {
        let secret = app.fake.add_channel("incident-review", "UADMIN", true);
        for n in 0..450 {
            app.fake.add_member(&secret, &format!("U0M{n:04}"));
        }
        flag(&app, &secret, SECRET_TEXT, "EvLarge").await;
        let pages = app
            .fake
            .calls("conversations.members")
            .iter()
            .filter(|c| c.ok())
            .count();
        assert_eq!(pages, 3, "451 members in pages of 200");
        let last = reply(&app, "failure 1", "U0M0449", "CGENERAL").await;
        assert!(last.contains("Leaked deploy key"), "the last page counts too: {last}");
    }
);

both_backends!(
    a_private_incident_is_listed_in_full_only_to_its_members,
    |app: TestApp| async move {
        let channel = declared_channel(&app, "open --private Credential leak in billing sev1").await;
        app.wait_until_outbox_empty().await;
        let outsider = reply(&app, "list", OUTSIDER, "CGENERAL").await;
        assert!(
            outsider.contains("(private)") && !outsider.contains("Credential leak"),
            "{outsider}"
        );
        let declarer = reply(&app, "list", DECLARER, "CGENERAL").await;
        assert!(
            declarer.contains("Credential leak in billing") && declarer.contains(&format!("<#{channel}>")),
            "the declarer was invited, so is a member: {declarer}"
        );
    }
);
