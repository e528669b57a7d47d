//! Statuspage.io mirrors what Rebound publishes, end to end against a fake
//! that follows its documented API: one Statuspage incident per Rebound
//! incident (even when an answer is lost), component states by name,
//! public updates as incident updates, resolve resolves; never faster than
//! one request a second; a refusal is told in the channel.

use reqwest::StatusCode;

use crate::engines::{run_with_fake, wait_until};
use crate::fake_statuspage::{API_KEY, FakeStatuspage};
use crate::helpers::{Backend, TestApp, declared_channel, posts_to, say};

const STATUS: &str = "[status]\ntitle = \"Acme status\"\n[[status.components]]\nname = \"API\"\n\
                      [[status.components]]\nname = \"Dashboard\"\n[[status.components]]\nname = \"Billing\"\n";

macro_rules! with_statuspage {
    ($name:ident, $key:expr, $body:expr) => {
        $crate::on_both_engines!($name, run($key, $body));
    };
}

async fn run<F, Fut>(backend: Backend, key: &str, body: F)
where
    F: FnOnce(TestApp, FakeStatuspage) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let fake = FakeStatuspage::start().await;
    let config = format!("{STATUS}\n{}", fake.config(key));
    run_with_fake(backend, fake, &config, body).await;
}

fn update_bodies(incident: &serde_json::Value) -> Vec<String> {
    let updates = incident["incident_updates"].as_array().unwrap();
    updates
        .iter()
        .rev()
        .map(|u| u["body"].as_str().unwrap().to_string())
        .collect()
}

with_statuspage!(
    public_changes_are_mirrored_on_one_incident_and_resolve_resolves,
    API_KEY,
    |app: TestApp, fake: FakeStatuspage| async move {
        let channel = declared_channel(&app, "open Checkout is down sev1").await;
        say(&app, "note internal: the primary database is out of disk", &channel).await;
        say(&app, "impact API major", &channel).await;
        say(&app, "update --public We are investigating failed checkouts.", &channel).await;
        say(&app, "impact Billing degraded", &channel).await;
        say(&app, "update --public A fix is being rolled out.", &channel).await;
        wait_until("mirrored", || {
            fake.incidents().first().is_some_and(|i| update_bodies(i).len() == 2)
        })
        .await;
        say(&app, "resolve Disk grown", &channel).await;
        wait_until("resolved on Statuspage", || {
            fake.incidents().first().is_some_and(|i| i["status"] == "resolved")
        })
        .await;
        app.wait_until_outbox_empty().await;

        let incidents = fake.incidents();
        assert_eq!(incidents.len(), 1, "one Statuspage incident: {incidents:#?}");
        assert_eq!(incidents[0]["name"], "Checkout is down");
        assert_eq!(
            update_bodies(&incidents[0]),
            ["We are investigating failed checkouts.", "A fix is being rolled out."]
        );
        assert!(
            !incidents[0].to_string().contains("primary database"),
            "internal notes stay home"
        );
        assert_eq!(fake.component_status("API").as_deref(), Some("operational"));
        assert_eq!(
            fake.component_status("Dashboard"),
            None,
            "untouched components are left alone"
        );
        assert_eq!(fake.rate_limited(), 0, "never faster than one request a second");
        let requests = fake.requests();
        assert_eq!(requests.iter().filter(|(m, _)| m == "POST").count(), 1, "{requests:?}");
    }
);

with_statuspage!(
    a_lost_create_answer_is_found_again_not_created_twice,
    API_KEY,
    |app: TestApp, fake: FakeStatuspage| async move {
        let channel = declared_channel(&app, "open Search is slow sev2").await;
        // The component list is read first; the create is the second request.
        say(&app, "impact API degraded", &channel).await;
        wait_until("component list read", || !fake.requests().is_empty()).await;
        fake.lose_next_answers(1);
        wait_until("the create arrived", || !fake.incidents().is_empty()).await;
        // And a 429 on the next attempt is waited out.
        fake.fail_next(StatusCode::TOO_MANY_REQUESTS);
        say(&app, "update --public Searches are slower than usual.", &channel).await;
        wait_until("the update arrived", || {
            fake.incidents().first().is_some_and(|i| update_bodies(i).len() == 1)
        })
        .await;
        app.wait_until_outbox_empty().await;
        let incidents = fake.incidents();
        assert_eq!(incidents.len(), 1, "a retried create adopts the first: {incidents:#?}");
        assert_eq!(fake.component_status("API").as_deref(), Some("degraded_performance"));
        let requests = fake.requests();
        assert!(
            requests.iter().any(|(m, p)| m == "GET" && p == "incidents/unresolved"),
            "the retry looked before creating: {requests:?}"
        );
    }
);

with_statuspage!(
    a_refused_update_is_told_in_the_channel,
    "a-revoked-statuspage-key",
    |app: TestApp, fake: FakeStatuspage| async move {
        let channel = declared_channel(&app, "open Login broken sev1").await;
        say(&app, "update --public Logins are failing.", &channel).await;
        wait_until("told in the channel", || {
            posts_to(&app, &channel)
                .iter()
                .any(|p| p.contains("Statuspage did not take") && p.contains("Could not authenticate"))
        })
        .await;
        assert!(fake.incidents().is_empty());
        assert_eq!(fake.requests().len(), 1, "a 401 is final");
    }
);
