//! Durable timers with second-scale cadences: severity prompts and
//! customer-update nudges arrive on time, stop when moot, survive restarts,
//! and fire once across replicas.

use std::time::{Duration, Instant};

use rebound::startup::Workers;
use serde_json::{Value, json};

use crate::fake_slack::{FakeSlack, RecordedCall};
use crate::helpers::{Backend, DECLARER, FORM, declared_channel, spawn_app_with_config};

const FAST: &str = "[timers]\nseverity_prompt_every = \"1s\"\n[severity.sev2]\nupdate_every = \"2s\"\n";

fn posts_containing(fake: &FakeSlack, needle: &str) -> Vec<RecordedCall> {
    fake.calls("chat.postMessage")
        .into_iter()
        .filter(|c| c.ok() && c.args["text"].as_str().unwrap_or("").contains(needle))
        .collect()
}

fn prompts(fake: &FakeSlack) -> Vec<RecordedCall> {
    posts_containing(fake, "has no severity yet")
}

fn nudges(fake: &FakeSlack) -> Vec<RecordedCall> {
    posts_containing(fake, "since the last customer update")
}

async fn severity_prompts_repeat_until_a_severity_is_set(backend: Backend) {
    let Some(app) = spawn_app_with_config(backend, FAST).await else {
        return;
    };
    let channel = declared_channel(&app, "open Mystery errors").await;
    app.fake
        .wait_for("two severity prompts", |f| prompts(f).len() >= 2)
        .await;
    let seen = prompts(&app.fake);
    let gap = seen[1].at.duration_since(seen[0].at);
    assert!(
        gap >= Duration::from_millis(900),
        "prompts every second, not faster: {gap:?}"
    );
    assert_eq!(seen[0].args["channel"], channel.as_str());
    assert_eq!(
        seen[0].args["blocks"][1]["elements"][0]["action_id"],
        "incident_set_severity"
    );

    let reply = app.command("reminders", DECLARER, &channel).await;
    assert!(
        reply["text"].as_str().unwrap().contains("Severity prompt in"),
        "{reply}"
    );
    app.command("sev 2", DECLARER, &channel).await;
    app.wait_until_inbox_empty().await;
    let after_set = prompts(&app.fake).len();
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert!(
        prompts(&app.fake).len() <= after_set + 1,
        "the prompt stops once severity is set"
    );
    let reply = app.command("reminders", DECLARER, &channel).await;
    let text = reply["text"].as_str().unwrap();
    assert!(
        !text.contains("Severity prompt") && text.contains("Customer-update nudge in"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn severity_prompts_repeat_until_a_severity_is_set_sqlite() {
    severity_prompts_repeat_until_a_severity_is_set(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn severity_prompts_repeat_until_a_severity_is_set_postgres() {
    severity_prompts_repeat_until_a_severity_is_set(Backend::Postgres).await;
}

async fn update_nudges_follow_updates_snoozes_and_resolution(backend: Backend) {
    let Some(app) = spawn_app_with_config(backend, FAST).await else {
        return;
    };
    let channel = declared_channel(&app, "open Slow search sev2").await;
    let declared = Instant::now();
    app.fake.wait_for("first nudge", |f| !nudges(f).is_empty()).await;
    let first = nudges(&app.fake)[0].clone();
    assert!(
        first.at.duration_since(declared) >= Duration::from_millis(1500),
        "sev2 cadence is 2s"
    );
    assert!(
        first.args["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("<@{DECLARER}>")),
        "the lead is nudged"
    );

    app.command("update Search is slow; we are adding capacity", DECLARER, &channel)
        .await;
    app.wait_until_inbox_empty().await;
    let updated = Instant::now();
    let before = nudges(&app.fake).len();
    app.fake
        .wait_for("nudge after the update", |f| nudges(f).len() > before)
        .await;
    let next = nudges(&app.fake).last().unwrap().at;
    assert!(
        next.duration_since(updated) >= Duration::from_millis(1500),
        "an update restarts the cadence"
    );

    let snooze = json!({
        "type": "block_actions", "trigger_id": "5.5.snooze", "user": { "id": DECLARER },
        "channel": { "id": channel }, "container": { "type": "message", "channel_id": channel },
        "actions": [{ "type": "button", "action_id": "incident_snooze_nudge:1h", "value": "1h", "block_id": "incident:1:nudge", "action_ts": "1.1" }]
    });
    let body = serde_urlencoded::to_string([("payload", snooze.to_string())]).unwrap();
    app.post_signed("/slack/interactions", FORM, &body, &[]).await;
    app.wait_until_inbox_empty().await;
    let reply = app.command("reminders", DECLARER, &channel).await;
    assert!(
        reply["text"].as_str().unwrap().contains("Customer-update nudge in 59m"),
        "{reply}"
    );

    app.command("resolve fixed", DECLARER, &channel).await;
    app.wait_until_inbox_empty().await;
    let reply = app.command("reminders", DECLARER, &channel).await;
    assert!(
        reply["text"].as_str().unwrap().contains("Post-mortem reminder in")
            && !reply["text"].as_str().unwrap().contains("nudge"),
        "{reply}"
    );
    assert_eq!(
        app.metric("rebound_timers_pending").await,
        1.0,
        "only the post-mortem reminder is left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_nudges_follow_updates_snoozes_and_resolution_sqlite() {
    update_nudges_follow_updates_snoozes_and_resolution(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_nudges_follow_updates_snoozes_and_resolution_postgres() {
    update_nudges_follow_updates_snoozes_and_resolution(Backend::Postgres).await;
}

async fn a_restart_neither_loses_nor_repeats_a_timer(backend: Backend) {
    let Some(mut app) = spawn_app_with_config(backend, FAST).await else {
        return;
    };
    declared_channel(&app, "open Flaky deploys").await;
    app.fake.wait_for("a prompt", |f| !prompts(f).is_empty()).await;
    app.stop().await;
    // Down for three cadences: one catch-up prompt on start, not three.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let last_call = app.fake.all_calls().iter().map(|c| c.at).max().unwrap();
    assert!(
        last_call.elapsed() >= Duration::from_millis(3000),
        "nothing runs while down"
    );
    let before = prompts(&app.fake).len();
    let restarted = Instant::now();
    app.restart_with_config(FAST).await;
    app.fake
        .wait_for("the catch-up prompt", |f| prompts(f).len() > before)
        .await;
    let resumed = prompts(&app.fake);
    assert!(
        resumed[before].at.duration_since(restarted) < Duration::from_millis(900),
        "fires at once on start"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        prompts(&app.fake).len(),
        before + 1,
        "one catch-up, not one per missed slot"
    );
    app.fake
        .wait_for("the regular cadence resumes", |f| prompts(f).len() > before + 1)
        .await;
    let resumed = prompts(&app.fake);
    let gap = resumed[before + 1].at.duration_since(resumed[before].at);
    assert!(
        gap >= Duration::from_millis(900),
        "next prompt a cadence after the catch-up: {gap:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_neither_loses_nor_repeats_a_timer_sqlite() {
    a_restart_neither_loses_nor_repeats_a_timer(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_neither_loses_nor_repeats_a_timer_postgres() {
    a_restart_neither_loses_nor_repeats_a_timer(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_on_one_postgres_fire_each_timer_once() {
    let Some(first) = spawn_app_with_config(Backend::Postgres, FAST).await else {
        return;
    };
    let config = first._dir_config(FAST);
    let settings = |fake: &FakeSlack, replica: &str| {
        let extra = [("REBOUND_CONFIG", config.as_str()), ("REBOUND_REPLICA", replica)];
        crate::helpers::settings(&first.database_url, fake, &extra)
    };
    let second = rebound::startup::Application::start(settings(&first.fake, "second"), Workers::default())
        .await
        .unwrap();
    let third = rebound::startup::Application::start(settings(&first.fake, "third"), Workers::default())
        .await
        .unwrap();
    for i in 0..5 {
        first
            .command(&format!("open Replica timer {i}"), DECLARER, "CGENERAL")
            .await;
    }
    first
        .fake
        .wait_for("five channels", |f| f.calls("response_url").len() >= 5)
        .await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let mut by_channel: std::collections::BTreeMap<String, Vec<Instant>> = Default::default();
    for prompt in prompts(&first.fake) {
        by_channel
            .entry(prompt.args["channel"].as_str().unwrap().to_string())
            .or_default()
            .push(prompt.at);
    }
    assert_eq!(by_channel.len(), 5, "every incident is prompted");
    for (channel, times) in &by_channel {
        assert!(
            (2..=4).contains(&times.len()),
            "{channel}: {} prompts in 3.5 s at one per second",
            times.len()
        );
        // Fired a second apart; delivery through three replicas' outboxes
        // (each woken only by its own scheduler) adds up to ~0.5 s of jitter
        // under load. A timer fired twice shows as two posts at once.
        for pair in times.windows(2) {
            let gap = pair[1].duration_since(pair[0]);
            assert!(
                gap >= Duration::from_millis(300),
                "{channel}: two prompts {gap:?} apart — a timer fired twice"
            );
        }
    }
    assert_eq!(
        first.metric("rebound_timers_pending").await,
        5.0,
        "one live prompt per incident"
    );
    second.stop().await;
    third.stop().await;
}

const POSTMORTEM: &str =
    "[timers]\npostmortem_due_after = \"1s\"\npostmortem_remind_every = \"1s\"\npostmortem_escalate_after = 2\n";

async fn post_mortem_reminders_escalate_and_stop_when_done(backend: Backend) {
    let Some(app) = spawn_app_with_config(backend, POSTMORTEM).await else {
        return;
    };
    app.fake.add_channel("incident-managers", "UADMIN", false);
    let channel = declared_channel(&app, "open Billing drift sev3").await;
    app.command("resolve reconciled", DECLARER, &channel).await;
    app.wait_until_inbox_empty().await;
    let resolved = Instant::now();
    let reminders = |f: &FakeSlack| posts_containing(f, "The post-mortem for *INC-1* is due");
    app.fake
        .wait_for("two post-mortem reminders", |f| reminders(f).len() >= 2)
        .await;
    assert!(
        reminders(&app.fake)[0].at.duration_since(resolved) >= Duration::from_millis(800),
        "due after postmortem_due_after"
    );
    app.fake
        .wait_for("escalation to the digest channel", |f| {
            f.calls("chat.postMessage").iter().any(|c| {
                c.args["channel"] == "incident-managers"
                    && c.args["text"]
                        .as_str()
                        .unwrap_or("")
                        .contains("is overdue: 2 reminders")
            })
        })
        .await;

    let early = app.command("postmortem done", DECLARER, "CGENERAL").await;
    assert!(early["text"].as_str().unwrap().contains("inside an incident channel"));
    app.command("postmortem done https://docs.example/pm-1", DECLARER, &channel)
        .await;
    app.wait_until_inbox_empty().await;
    // Reminders enqueued before "done" may still be in the outbox on a busy
    // machine; count once it has drained (one fire racing "done" may follow).
    app.wait_until_outbox_empty().await;
    let count = reminders(&app.fake).len();
    // Long enough for two more reminders (every 1 s) if they did not stop.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert!(
        reminders(&app.fake).len() <= count + 1,
        "reminders stop once the post-mortem is done"
    );
    let store = rebound::store::connect(&app.database_url).await.unwrap();
    let incident = store.incident(1).await.unwrap().unwrap();
    assert_eq!(incident.postmortem_link.as_deref(), Some("https://docs.example/pm-1"));
    let reply = app.command("reminders", DECLARER, &channel).await;
    assert!(
        reply["text"].as_str().unwrap().contains("Nothing is scheduled"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_mortem_reminders_escalate_and_stop_when_done_sqlite() {
    post_mortem_reminders_escalate_and_stop_when_done(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_mortem_reminders_escalate_and_stop_when_done_postgres() {
    post_mortem_reminders_escalate_and_stop_when_done(Backend::Postgres).await;
}

fn reminder_control(channel: &str, trigger: &str, action: Value) -> String {
    let payload = json!({
        "type": "block_actions", "trigger_id": trigger, "user": { "id": "U0OWNER" },
        "channel": { "id": channel }, "container": { "type": "message", "channel_id": channel }, "actions": [action]
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap()
}

async fn action_items_are_reminded_when_due_with_done_snooze_and_reassign(backend: Backend) {
    let Some(app) = spawn_app_with_config(backend, "").await else {
        return;
    };
    let channel = declared_channel(&app, "open Queue lag sev3").await;
    app.command("action add a lag alert <@U0OWNER> due 1s", DECLARER, &channel)
        .await;
    app.command("action write the runbook <@U0OWNER> due 1s", DECLARER, &channel)
        .await;
    let due = |f: &FakeSlack| posts_containing(f, "is due:");
    app.fake.wait_for("both reminders", |f| due(f).len() >= 2).await;
    let first = &due(&app.fake)[0];
    assert!(
        first.args["text"]
            .as_str()
            .unwrap()
            .starts_with("<@U0OWNER> :white_check_mark: Action item #1 from *INC-1* is due: add a lag alert")
    );

    let done =
        json!({ "type": "button", "action_id": "action_item_done:1", "block_id": "action_item:1", "action_ts": "1.1" });
    let snooze = json!({ "type": "button", "action_id": "action_item_snooze:2", "value": "1d", "block_id": "action_item:2", "action_ts": "1.2" });
    let reassign = json!({ "type": "users_select", "action_id": "action_item_reassign:2", "selected_user": "U0NEW", "block_id": "action_item:2", "action_ts": "1.3" });
    for (i, action) in [done.clone(), done, snooze, reassign].into_iter().enumerate() {
        let body = reminder_control(&channel, &format!("8.{i}.x"), action);
        assert_eq!(
            app.post_signed("/slack/interactions", FORM, &body, &[]).await.status(),
            200
        );
    }
    app.wait_until_inbox_empty().await;
    let store = rebound::store::connect(&app.database_url).await.unwrap();
    let items = store.action_items(1).await.unwrap();
    assert!(items[0].done_at.is_some(), "done");
    assert_eq!((items[1].done_at, items[1].owner.as_deref()), (None, Some("U0NEW")));
    let timeline = store.timeline(1).await.unwrap();
    let lines: Vec<_> = timeline
        .iter()
        .filter(|e| e.source == "card")
        .map(|e| e.body.as_str())
        .collect();
    assert_eq!(
        lines,
        [
            "completed action item #1: add a lag alert",
            "snoozed action item #2 for a day",
            "reassigned action item #2 to <@U0NEW>"
        ]
    );
    let reply = app.command("reminders", DECLARER, &channel).await;
    let text = reply["text"].as_str().unwrap();
    assert!(
        text.contains("Action item reminder in 23h") && text.matches("Action item reminder").count() == 1,
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_items_are_reminded_when_due_with_done_snooze_and_reassign_sqlite() {
    action_items_are_reminded_when_due_with_done_snooze_and_reassign(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_items_are_reminded_when_due_with_done_snooze_and_reassign_postgres() {
    action_items_are_reminded_when_due_with_done_snooze_and_reassign(Backend::Postgres).await;
}

async fn the_manager_digest_arrives_on_its_cron_schedule(backend: Backend) {
    let config = "[digest]\ncron = \"*/2 * * * * *\"\ntimezone = \"Europe/Berlin\"\nchannel = \"incident-managers\"\n";
    let started = std::time::Instant::now();
    let Some(app) = spawn_app_with_config(backend, config).await else {
        return;
    };
    app.fake.add_channel("incident-managers", "UADMIN", false);
    declared_channel(&app, "open Digest subject sev1").await;
    let digests = |f: &FakeSlack| posts_containing(f, "Incident digest");
    app.fake.wait_for("two digests", |f| digests(f).len() >= 2).await;
    // At most one digest per two-second slot since start. Arrival gaps are
    // not a measure: a busy machine may deliver two queued digests together.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let seen = digests(&app.fake);
    let slots_so_far = started.elapsed().as_secs() / 2 + 1;
    assert!(
        (seen.len() as u64) <= slots_so_far,
        "one per cron slot: {} digests in {} slots",
        seen.len(),
        slots_so_far
    );
    let blocks = seen.last().unwrap().args["blocks"].to_string();
    assert!(
        blocks.contains("*Open incidents (1)* — sev1: 1") && blocks.contains("Digest subject"),
        "{blocks}"
    );
    assert_eq!(seen[0].args["channel"], "incident-managers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_digest_arrives_on_its_cron_schedule_sqlite() {
    the_manager_digest_arrives_on_its_cron_schedule(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_digest_arrives_on_its_cron_schedule_postgres() {
    the_manager_digest_arrives_on_its_cron_schedule(Backend::Postgres).await;
}

async fn late_customer_updates_are_recorded_as_comms_slo_breaches(backend: Backend) {
    let config = "[severity.sev2]\nupdate_every = \"1s\"\n";
    let Some(app) = spawn_app_with_config(backend, config).await else {
        return;
    };
    let channel = declared_channel(&app, "open Login slow sev2").await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    app.command("update We are on it", DECLARER, &channel).await;
    app.command("update Fixed a cache; watching", DECLARER, &channel).await;
    app.wait_until_inbox_empty().await;
    let store = rebound::store::connect(&app.database_url).await.unwrap();
    let breaches = store
        .comms_breaches_since(chrono::Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        breaches.len(),
        1,
        "the first update was late, the second on time: {breaches:?}"
    );
    assert_eq!(breaches[0].promised, Duration::from_secs(1));
    assert!(breaches[0].actual >= Duration::from_millis(1300));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_customer_updates_are_recorded_as_comms_slo_breaches_sqlite() {
    late_customer_updates_are_recorded_as_comms_slo_breaches(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_customer_updates_are_recorded_as_comms_slo_breaches_postgres() {
    late_customer_updates_are_recorded_as_comms_slo_breaches(Backend::Postgres).await;
}
