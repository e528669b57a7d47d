//! `rebound check` against the fake Slack and real databases: a working
//! setup passes with what it found; an unreachable database, a bad token, a
//! missing scope, a missing channel, a channel without the bot and a bad
//! app-level token each fail it with their own line and fix, and no token
//! is ever printed.

use crate::fake_slack::{APP_TOKEN, BOT_TOKEN, BOT_USER, FakeSlack};
use crate::helpers::{Backend, SIGNING_SECRET, fresh_database};

/// What a `rebound check` run printed.
struct Checked {
    success: bool,
    stdout: String,
    stderr: String,
}

async fn check(args: &[&str], env: &[(&str, &str)]) -> Checked {
    let dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_rebound"))
        .arg("check")
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    let checked = Checked {
        success: output.status.success(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    };
    for secret in [BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, "xoxb-revoked-0000"] {
        assert!(
            !checked.stdout.contains(secret) && !checked.stderr.contains(secret),
            "{secret} printed"
        );
    }
    checked
}

fn slack_env<'a>(fake_api: &'a str, database_url: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
        ("SLACK_API_URL", fake_api),
        ("DATABASE_URL", database_url),
    ]
}

async fn a_working_setup_passes_with_what_it_found(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(backend, &dir).await else {
        return;
    };
    rebound::store::connect(&url).await.unwrap().migrate().await.unwrap();
    let fake = FakeSlack::start().await;
    fake.add_channel("incident-managers", "UADMIN", true);
    let api = fake.api_url();
    let checked = check(&[], &slack_env(&api, &url)).await;
    assert!(checked.success, "{}\n{}", checked.stdout, checked.stderr);
    let engine = match backend {
        Backend::Sqlite => "SQLite 3.",
        Backend::Postgres => "PostgreSQL ",
    };
    for expected in [
        "ok      database: ".to_string(),
        format!(": {engine}"),
        "up to date".into(),
        format!("ok      token: team Test (T1), bot user rebound ({BOT_USER})"),
        "ok      scope: all 18 bot scopes granted".into(),
        "ok      channel: #incidents (C".into(),
        "ok      channel: #incident-managers (C".into(),
    ] {
        assert!(
            checked.stdout.contains(&expected),
            "{expected:?} in:\n{}",
            checked.stdout
        );
    }
    assert_eq!(fake.calls("auth.test").len(), 1);
    assert_eq!(fake.calls("conversations.info").len(), 2, "each channel asked about");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_working_setup_passes_with_what_it_found_sqlite() {
    a_working_setup_passes_with_what_it_found(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_working_setup_passes_with_what_it_found_postgres() {
    a_working_setup_passes_with_what_it_found(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_problem_is_named_on_its_own_line_with_its_fix() {
    let fake = FakeSlack::start().await;
    let granted: Vec<String> = rebound::manifest::BOT_SCOPES
        .iter()
        .filter(|s| !["chat:write.public", "groups:read"].contains(s))
        .map(|s| s.to_string())
        .collect();
    {
        let mut state = fake.state.lock().unwrap();
        state.granted_scopes = Some(granted);
        // The bot was removed from the announce channel.
        state.channel_by_ref("incidents").unwrap().members.clear();
    }
    let api = fake.api_url();
    // Nothing listens on port 1.
    let env = slack_env(&api, "postgres://rebound:db-password@127.0.0.1:1/rebound");
    let checked = check(&[], &env).await;
    assert!(!checked.success, "{}", checked.stdout);
    let problems: Vec<&str> = checked.stderr.lines().filter(|l| l.starts_with("problem ")).collect();
    let expected = [
        "problem database: cannot use postgres://rebound:REDACTED@127.0.0.1:1/rebound: ",
        "problem scope: the bot token lacks chat:write.public. Fix: add it under",
        "problem scope: the bot token lacks groups:read. Fix: ",
        "problem channel: the bot is not a member of #incidents. Fix: type /invite @Rebound in #incidents",
        "problem channel: #incident-managers does not exist, or is private and the bot is not in it. Fix: create",
    ];
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    for (line, start) in problems.iter().zip(expected) {
        assert!(line.starts_with(start), "{line:?} should start with {start:?}");
    }
    assert!(checked.stderr.contains("5 problem(s) found"), "{}", checked.stderr);
    assert!(!checked.stdout.contains("db-password") && !checked.stderr.contains("db-password"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_a_problem_and_nothing_else_is_asked_with_it() {
    let fake = FakeSlack::start().await;
    let api = fake.api_url();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("rebound.db").display());
    let mut env = slack_env(&api, &url);
    env[0] = ("SLACK_BOT_TOKEN", "xoxb-revoked-0000");
    let checked = check(&[], &env).await;
    assert!(!checked.success);
    assert!(
        checked.stderr.contains(
            "problem token: Slack refused SLACK_BOT_TOKEN (invalid_auth). Fix: copy the Bot User OAuth Token"
        ),
        "{}",
        checked.stderr
    );
    assert!(
        checked
            .stdout
            .contains("does not exist yet; `rebound serve` creates it"),
        "{}",
        checked.stdout
    );
    assert!(!dir.path().join("rebound.db").exists(), "check creates no database");
    assert!(fake.calls("conversations.list").is_empty() && fake.calls("conversations.info").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_is_checked_with_the_app_token() {
    let fake = FakeSlack::start().await;
    let api = fake.api_url();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("rebound.db").display());
    let mut env = slack_env(&api, &url);
    env.push(("SLACK_APP_TOKEN", APP_TOKEN));
    fake.add_channel("incident-managers", "UADMIN", false);
    let good = check(&["--socket-mode"], &env).await;
    assert!(good.success, "{}{}", good.stdout, good.stderr);
    assert!(
        good.stdout
            .contains("ok      socket mode: apps.connections.open gave a WebSocket URL")
    );
    let last = env.len() - 1;
    env[last] = ("SLACK_APP_TOKEN", "xapp-not-this-one");
    let bad = check(&["--socket-mode"], &env).await;
    assert!(!bad.success);
    assert!(
        bad.stderr
            .contains("problem socket mode: Slack refused SLACK_APP_TOKEN (invalid_auth). Fix: turn on Socket Mode"),
        "{}",
        bad.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_asks_nobody() {
    let fake = FakeSlack::start().await;
    let api = fake.api_url();
    let env = slack_env(&api, "postgres://rebound@127.0.0.1:1/rebound");
    let checked = check(&["--offline"], &env).await;
    assert!(checked.success, "{}", checked.stderr);
    assert!(checked.stdout.contains("ok      slack: not checked (--offline)"));
    assert!(fake.all_calls().is_empty());
}
