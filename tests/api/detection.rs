//! Detection timestamps end to end: an alert gives its incident an impact
//! start and a detection time, `/incident started` sets or corrects the
//! impact start (timeline, card), and MTTD in `/incident stats`, `/metrics`
//! and `rebound export` matches the hand calculation.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::helpers::{DECLARER, TestApp, scalar};
use crate::intake::{deliver, settled};
use crate::postmortems::export;

const CONFIG: &str = r#"
[[intake.sources]]
name = "prod-am"
kind = "alertmanager"
secret = "intake-secret-0123456789"
"#;

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The Alertmanager fixture, its alert started at `started`.
fn firing(started: DateTime<Utc>) -> String {
    let mut body: Value = serde_json::from_str(&crate::intake::fixture("alertmanager-firing.json")).unwrap();
    body["alerts"][0]["startsAt"] = json!(rfc3339(started));
    body.to_string()
}

async fn incident(app: &TestApp, id: i64) -> rebound::domain::Incident {
    let store = rebound::store::connect(&app.database_url).await.unwrap();
    store.incident(id).await.unwrap().unwrap()
}

async fn reply(app: &TestApp, text: &str, channel: &str) -> String {
    let answer = app.command(text, DECLARER, channel).await;
    app.wait_until_inbox_empty().await;
    app.wait_until_outbox_empty().await;
    answer["text"].as_str().unwrap_or_default().to_string()
}

crate::both_backends!(
    alerts_and_responders_set_the_impact_start_and_mttd_is_measured,
    config = CONFIG,
    |app: TestApp| async move {
        // An alert that began 7 minutes before it reached Rebound.
        let started = Utc::now() - Duration::minutes(7);
        let started = DateTime::from_timestamp_millis(started.timestamp_millis()).unwrap();
        let bearer = vec![("Authorization", "Bearer intake-secret-0123456789".to_string())];
        let (status, _) = deliver(&app, "/hooks/alertmanager/prod-am", &bearer, &firing(started)).await;
        assert_eq!(status, 202);
        settled(&app).await;
        let alerted = incident(&app, 1).await;
        assert_eq!(alerted.impact_started_at.map(rfc3339), Some(rfc3339(started)));
        assert_eq!(alerted.impact_source.as_deref(), Some("alert:prod-am"));
        let detection_lag = alerted.detected_at - started;
        assert!(detection_lag >= Duration::minutes(7) && detection_lag < Duration::minutes(8));
        let card = app.fake.calls("chat.postMessage");
        assert!(
            card.iter()
                .any(|c| c.args.to_string().contains("(from `prod-am` alerts)")),
            "the card says where the impact start comes from"
        );

        // The responder knows better: it began 12 minutes before detection.
        let channel = alerted.channel_id.clone().unwrap();
        let corrected = alerted.detected_at - Duration::minutes(12);
        let answer = reply(&app, &format!("started {}", rfc3339(corrected)), &channel).await;
        assert!(answer.contains("Updating *INC-1*"), "{answer}");
        let alerted = incident(&app, 1).await;
        assert_eq!(alerted.impact_started_at, Some(corrected));
        assert_eq!(alerted.impact_source.as_deref(), Some(DECLARER));
        let entry: String = scalar(&app, "SELECT body FROM timeline WHERE kind = 'impact_started'").await;
        assert!(entry.contains("set the impact start to"), "{entry}");
        let updated = app.fake.calls("chat.update");
        assert!(
            updated
                .iter()
                .any(|c| c.args.to_string().contains(&format!("(set by <@{DECLARER}>)"))),
            "{updated:?}"
        );

        // Refused with a reason: the future, after detection, nonsense.
        let future = reply(&app, "started 2099-01-01 10:00", &channel).await;
        assert!(future.contains("is in the future"), "{future}");
        let late = rfc3339(alerted.detected_at + Duration::seconds(30));
        let after = reply(&app, &format!("started {late}"), &channel).await;
        assert!(after.contains("cannot start after INC-1 was detected"), "{after}");
        let nonsense = reply(&app, "started lunchtime", &channel).await;
        assert!(nonsense.contains("Usage: `/incident started"), "{nonsense}");
        assert_eq!(
            scalar::<i64>(&app, "SELECT COUNT(*) FROM timeline WHERE kind = 'impact_started'").await,
            1
        );

        // Declared by hand: no impact start until someone says; then 20 minutes.
        app.command("open Checkout slow sev1", DECLARER, "CGENERAL").await;
        settled(&app).await;
        let by_hand = incident(&app, 2).await;
        let by_hand_channel = by_hand.channel_id.clone().unwrap();
        assert_eq!(by_hand.impact_started_at, None);
        assert_eq!(by_hand.detected_at, by_hand.declared_at);
        let began = by_hand.detected_at - Duration::minutes(20);
        reply(&app, &format!("started {}", rfc3339(began)), &by_hand_channel).await;
        reply(&app, "sev 1", &channel).await;

        // MTTD = (12m + 20m) / 2 = 16m, both sev1.
        let stats = app.command("stats 7d", "U0MANAGER", "CANYWHERE").await;
        let stats = stats["text"].as_str().unwrap();
        assert!(stats.contains("*2 incidents — MTTD 16m,"), "{stats}");
        let mttd = app.metric("rebound_mttd_seconds{severity=\"sev1\"}").await;
        assert_eq!(mttd, 16.0 * 60.0);
        let rows: Value = serde_json::from_str(&export(&app, &["--format", "json"])).unwrap();
        assert_eq!(rows[0]["time_to_detect_s"], 12 * 60);
        assert_eq!(rows[1]["time_to_detect_s"], 20 * 60);
        assert_eq!(
            rows[1]["impact_started_at"]
                .as_str()
                .map(|s| s.parse::<DateTime<Utc>>().unwrap()),
            Some(began)
        );
    }
);

/// The Alertmanager fixture as another alert of the same group.
fn joining(fingerprint: &str, started: DateTime<Utc>) -> String {
    let mut body: Value = serde_json::from_str(&firing(started)).unwrap();
    body["alerts"][0]["fingerprint"] = json!(fingerprint);
    body.to_string()
}

crate::both_backends!(
    an_earlier_alert_joining_moves_the_impact_start_back_unless_a_responder_set_it,
    config = CONFIG,
    |app: TestApp| async move {
        let bearer = vec![("Authorization", "Bearer intake-secret-0123456789".to_string())];
        let ms = |at: DateTime<Utc>| DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap();
        let now = Utc::now();
        let (status, _) = deliver(
            &app,
            "/hooks/alertmanager/prod-am",
            &bearer,
            &firing(ms(now - Duration::minutes(5))),
        )
        .await;
        assert_eq!(status, 202);
        settled(&app).await;
        let earlier = ms(now - Duration::minutes(15));
        deliver(
            &app,
            "/hooks/alertmanager/prod-am",
            &bearer,
            &joining("fp-earlier", earlier),
        )
        .await;
        settled(&app).await;
        let moved = incident(&app, 1).await;
        assert_eq!(
            moved.impact_started_at,
            Some(earlier),
            "the group's earliest alert sets the start"
        );
        assert_eq!(moved.impact_source.as_deref(), Some("alert:prod-am"));
        // A later-starting alert changes nothing.
        deliver(
            &app,
            "/hooks/alertmanager/prod-am",
            &bearer,
            &joining("fp-later", ms(now - Duration::minutes(1))),
        )
        .await;
        settled(&app).await;
        assert_eq!(incident(&app, 1).await.impact_started_at, Some(earlier));

        // Once a responder says when it began, alerts no longer move it.
        let channel = moved.channel_id.clone().unwrap();
        let set = ms(now - Duration::minutes(10));
        reply(&app, &format!("started {}", rfc3339(set)), &channel).await;
        deliver(
            &app,
            "/hooks/alertmanager/prod-am",
            &bearer,
            &joining("fp-oldest", ms(now - Duration::minutes(40))),
        )
        .await;
        settled(&app).await;
        let kept = incident(&app, 1).await;
        assert_eq!(kept.impact_started_at, Some(set), "the responder's start stands");
        assert_eq!(kept.impact_source.as_deref(), Some(DECLARER));
    }
);
