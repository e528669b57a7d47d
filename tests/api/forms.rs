//! Modals: the declare form and the customer-update form, opened with the
//! interaction's `trigger_id` and validated with errors keyed by `block_id`.

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{DECLARER, FORM, TestApp, opened_view, submission, text_value, the_card};

both_backends!(
    open_without_a_title_declares_through_the_form,
    |app: TestApp| async move {
        let reply = app.command("open sev2", DECLARER, "CGENERAL").await;
        assert!(
            reply["text"].as_str().unwrap().contains("Opening the declaration form"),
            "{reply}"
        );
        let view = opened_view(&app, "declare_incident").await;
        let open_call = &app.fake.calls("views.open")[0];
        assert!(
            open_call.args["trigger_id"].as_str().unwrap().ends_with(".1.abc"),
            "uses the command's trigger_id"
        );
        assert_eq!(
            view["blocks"][1]["element"]["initial_option"]["value"], "sev2",
            "the form keeps what the command said"
        );

        let empty = app
            .post_signed(
                "/slack/interactions",
                FORM,
                &submission(&view, json!({ "title": text_value("  ") }), "9.1.a"),
                &[],
            )
            .await;
        assert_eq!(empty.status(), 200);
        let errors: Value = empty.json().await.unwrap();
        assert_eq!(errors["response_action"], "errors");
        assert_eq!(errors["errors"]["title"], "Give the incident a title.");
        assert_eq!(
            app.metric("rebound_inbox_depth").await,
            0.0,
            "a refused form stores nothing"
        );

        let values = json!({
            "title": text_value("Checkout is down"),
            "severity": { "value": { "type": "static_select", "selected_option": { "value": "sev2" } } },
            "private": { "value": { "type": "checkboxes", "selected_options": [] } }
        });
        let accepted = app
            .post_signed("/slack/interactions", FORM, &submission(&view, values, "9.2.b"), &[])
            .await;
        assert_eq!(accepted.status(), 200);
        assert!(
            accepted.text().await.unwrap().is_empty(),
            "an empty 200 closes the form"
        );
        app.fake
            .wait_for("declaration receipt", |f| !f.calls("response_url").is_empty())
            .await;
        let created = app.fake.calls("conversations.create");
        assert!(created[0].args["name"].as_str().unwrap().ends_with("-checkout-is-down"));
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        let incident = store.incident(1).await.unwrap().unwrap();
        assert_eq!(
            (incident.title.as_str(), incident.severity.map(|s| s.to_string())),
            ("Checkout is down", Some("sev2".into()))
        );
    }
);

both_backends!(
    the_update_button_opens_the_ears_form_and_announces_the_update,
    |app: TestApp| async move {
        app.command("open Checkout errors sev1", DECLARER, "CGENERAL").await;
        the_card(&app).await;
        let channel = app.fake.calls("conversations.create")[0].args["name"]
            .as_str()
            .map(str::to_string)
            .unwrap();
        let channel = app.fake.channels().into_iter().find(|c| c.name == channel).unwrap().id;
        let click = json!({
            "type": "block_actions", "trigger_id": "7.7.update", "user": { "id": DECLARER },
            "channel": { "id": channel }, "container": { "type": "message", "channel_id": channel },
            "actions": [{ "type": "button", "action_id": "incident_post_update", "block_id": "incident:1:controls", "action_ts": "1.1" }]
        });
        let body = serde_urlencoded::to_string([("payload", click.to_string())]).unwrap();
        assert_eq!(
            app.post_signed("/slack/interactions", FORM, &body, &[]).await.status(),
            200
        );
        let view = opened_view(&app, "customer_update").await;

        let partial = app
            .post_signed(
                "/slack/interactions",
                FORM,
                &submission(&view, json!({ "explain": text_value("API errors") }), "7.8.a"),
                &[],
            )
            .await;
        let errors: Value = partial.json().await.unwrap();
        assert_eq!(
            errors["errors"].as_object().unwrap().keys().collect::<Vec<_>>(),
            ["acknowledge", "resolve"]
        );

        let values = json!({
            "explain": text_value("Payments fail at checkout"),
            "acknowledge": text_value("About 20% of EU customers cannot pay"),
            "resolve": text_value("Rolling back the release; next update by 14:30 UTC"),
        });
        let accepted = app
            .post_signed("/slack/interactions", FORM, &submission(&view, values, "7.9.b"), &[])
            .await;
        assert_eq!(accepted.status(), 200);
        app.fake
            .wait_for("update announced", |f| {
                f.calls("chat.postMessage").iter().any(|c| {
                    c.args["channel"] == "incidents"
                        && c.args["text"]
                            .as_str()
                            .unwrap_or("")
                            .contains("*Impact:* About 20% of EU customers cannot pay")
                })
            })
            .await;
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        let timeline = store.timeline(1).await.unwrap();
        let update = timeline.iter().find(|e| e.kind == "customer_update").unwrap();
        assert_eq!((update.source.as_str(), update.actor.as_str()), ("form", DECLARER));
    }
);
