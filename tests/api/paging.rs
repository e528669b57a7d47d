//! PagerDuty and Zenduty from the incident, end to end against fakes that
//! follow their documented APIs: a sev1 pages once, a named lead
//! acknowledges, resolving resolves; retries, lost answers and 429s never
//! page twice; a reopened incident pages again; a refusal is told in the
//! channel; private titles and credentials stay home.

use reqwest::StatusCode;

use crate::engines::{run_with_fake, wait_until};
use crate::fake_paging::{FakePaging, ROUTING_KEY, ZENDUTY_KEY};
use crate::helpers::{Backend, TestApp, declared_channel, posts_to, say, scalar};

/// Runs `body` on both engines with the fakes configured (plus `extra` TOML).
macro_rules! with_paging {
    ($name:ident, $extra:expr, $body:expr) => {
        $crate::on_both_engines!($name, run($extra, $body));
    };
}

async fn run<F, Fut>(backend: Backend, extra: &str, body: F)
where
    F: FnOnce(TestApp, FakePaging) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let fake = FakePaging::start().await;
    let config = format!("{}\n{extra}", fake.config());
    run_with_fake(backend, fake, &config, body).await;
}

fn events(fake: &FakePaging) -> Vec<Vec<String>> {
    fake.pagerduty_alerts().into_iter().map(|a| a.events).collect()
}

/// Whether the card, as first posted or as edited since, showed `text`.
fn card_shows(app: &TestApp, text: &str) -> bool {
    ["chat.postMessage", "chat.update"]
        .into_iter()
        .flat_map(|method| app.fake.calls(method))
        .any(|c| c.ok() && c.args["blocks"].to_string().contains(text))
}

const PUBLIC_URL: &str = "[web]\npublic_url = \"https://rebound.example.com\"\n";

with_paging!(
    a_sev1_pages_once_a_named_lead_acknowledges_and_resolving_resolves,
    PUBLIC_URL,
    |app: TestApp, fake: FakePaging| async move {
        let channel = declared_channel(&app, "open Checkout is down sev1").await;
        wait_until("PagerDuty paged", || fake.pagerduty_alerts().len() == 1).await;
        let trigger = &fake.pagerduty_requests()[0];
        assert_eq!(trigger["dedup_key"], "rebound-inc-1-1");
        assert_eq!(trigger["payload"]["severity"], "critical");
        assert_eq!(trigger["payload"]["summary"], "INC-1 [sev1] Checkout is down");
        assert_eq!(trigger["links"][0]["href"], "https://rebound.example.com/incidents/1");
        wait_until("Zenduty alerted", || fake.zenduty_alerts().len() == 1).await;
        assert_eq!(fake.zenduty_alerts()[0].dedup_key, "rebound-inc-1-1");
        wait_until("the card says who was paged, with the link", || {
            card_shows(
                &app,
                "Paged <https://acme.pagerduty.com/service-directory/PCHECKOUT|Checkout API>",
            )
        })
        .await;

        say(&app, "lead <@U0LEAD|lee>", &channel).await;
        wait_until("acknowledged", || fake.pagerduty_alerts()[0].status == "acknowledge").await;
        wait_until("Zenduty acknowledged", || {
            fake.zenduty_alerts()[0].status == "acknowledge"
        })
        .await;
        say(&app, "note the declarer leading or another note pages nobody", &channel).await;
        say(&app, "resolve Rolled back", &channel).await;
        wait_until("resolved", || fake.pagerduty_alerts()[0].status == "resolve").await;
        wait_until("Zenduty resolved", || fake.zenduty_alerts()[0].status == "resolve").await;
        app.wait_until_outbox_empty().await;
        assert_eq!(events(&fake), [["trigger", "acknowledge", "resolve"]]);
        assert_eq!(fake.pagerduty_requests().len(), 3, "one request per event");
        assert!(card_shows(&app, "· resolved"));
    }
);

with_paging!(
    failed_lost_and_rate_limited_attempts_never_page_twice,
    "",
    |app: TestApp, fake: FakePaging| async move {
        // Two 500s, then one processed whose answer is lost (PagerDuty took
        // it), then one 429 with Retry-After, then success.
        fake.fail_next(2, StatusCode::INTERNAL_SERVER_ERROR, None);
        fake.lose_next_answers(1);
        declared_channel(&app, "open Payments failing sev2").await;
        wait_until("the lost answer's event arrived", || {
            fake.pagerduty_requests().len() >= 3
        })
        .await;
        fake.fail_next(1, StatusCode::TOO_MANY_REQUESTS, Some(1));
        wait_until("delivered after the retries", || {
            fake.pagerduty_requests().len() >= 5 && fake.pagerduty_alerts()[0].events.len() == 2
        })
        .await;
        app.wait_until_outbox_empty().await;
        let alerts = fake.pagerduty_alerts();
        assert_eq!(alerts.len(), 1, "one alert whatever the retries: {alerts:?}");
        assert_eq!(alerts[0].status, "triggered");
        let requests = fake.pagerduty_requests();
        assert!(
            requests.iter().all(|r| r["dedup_key"] == "rebound-inc-1-1"),
            "every attempt carries the same key: {requests:?}"
        );
        let delivered: i64 = scalar(
            &app,
            "SELECT COUNT(*) FROM paging_alerts WHERE system = 'pagerduty' AND delivered_at IS NOT NULL",
        )
        .await;
        assert_eq!(delivered, 1);
    }
);

with_paging!(
    lower_severities_wait_until_raised_and_a_reopen_pages_again,
    "",
    |app: TestApp, fake: FakePaging| async move {
        let channel = declared_channel(&app, "open Search slow sev3").await;
        wait_until("Zenduty hears of every incident", || fake.zenduty_alerts().len() == 1).await;
        app.wait_until_outbox_empty().await;
        assert!(fake.pagerduty_requests().is_empty(), "sev3 pages nobody");
        say(&app, "sev 1", &channel).await;
        wait_until("paged once raised", || fake.pagerduty_alerts().len() == 1).await;
        say(&app, "sev 3", &channel).await;
        say(&app, "resolve", &channel).await;
        wait_until("resolved", || fake.pagerduty_alerts()[0].status == "resolve").await;
        say(&app, "reopen it came back", &channel).await;
        say(&app, "sev 2", &channel).await;
        wait_until("a second alert for the reopening", || {
            fake.pagerduty_alerts().len() == 2
        })
        .await;
        let alerts = fake.pagerduty_alerts();
        assert_eq!(alerts[1].dedup_key, "rebound-inc-1-2");
        assert_eq!(
            alerts[0].events,
            ["trigger", "resolve"],
            "lowering the severity kept the page open"
        );
    }
);

with_paging!(
    a_refusal_is_told_in_the_channel_and_not_retried,
    "",
    |mut app: TestApp, fake: FakePaging| async move {
        // A routing key of the right length that PagerDuty does not know.
        let config = fake.config().replace(ROUTING_KEY, "R0123456789abcdef0123456789ZZZZZ");
        app.restart_with_config(&config).await;
        let channel = declared_channel(&app, "open Login broken sev1").await;
        wait_until("told in the channel", || {
            posts_to(&app, &channel)
                .iter()
                .any(|p| p.contains("PagerDuty did not take") && p.contains("Invalid routing key"))
        })
        .await;
        wait_until("the card says so", || card_shows(&app, "Could not page")).await;
        app.wait_until_outbox_empty().await;
        assert_eq!(fake.pagerduty_requests().len(), 1, "a 400 is final: no retries");
        assert!(fake.pagerduty_alerts().is_empty());
    }
);

with_paging!(
    private_titles_and_credentials_stay_home,
    "",
    |app: TestApp, fake: FakePaging| async move {
        declared_channel(&app, "open --private Breach of customer data sev1").await;
        wait_until("paged", || fake.pagerduty_alerts().len() == 1).await;
        wait_until("Zenduty alerted", || fake.zenduty_alerts().len() == 1).await;
        assert_eq!(fake.pagerduty_alerts()[0].summary, "INC-1 [sev1] private incident");
        assert_eq!(fake.zenduty_alerts()[0].summary, "INC-1 [sev1] private incident");
        let sent = format!("{:?}{:?}", fake.pagerduty_requests(), fake.zenduty_requests());
        assert!(!sent.contains("Breach"), "the private title left Slack: {sent}");
        app.wait_until_outbox_empty().await;
        for secret in [ROUTING_KEY, ZENDUTY_KEY] {
            let stored: i64 = scalar(
                &app,
                &format!(
                    "SELECT COUNT(*) FROM outbox WHERE CAST(args AS TEXT) LIKE '%{secret}%' \
                     OR CAST(response AS TEXT) LIKE '%{secret}%'"
                ),
            )
            .await;
            assert_eq!(stored, 0, "a credential was stored in the outbox");
        }
        let config = app._dir_config(&fake.config());
        let check = std::process::Command::new(env!("CARGO_BIN_EXE_rebound"))
            .args(["check", "--offline"])
            .env("DATABASE_URL", &app.database_url)
            .env("REBOUND_CONFIG", &config)
            .output()
            .unwrap();
        let described = format!(
            "{}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        assert!(described.contains("integrations.pagerduty"), "{described}");
        assert!(
            !described.contains(ROUTING_KEY) && !described.contains(ZENDUTY_KEY),
            "{described}"
        );
    }
);
