//! Health, readiness, metrics, the app manifest and the CLI.

use std::process::Command;

use crate::both_backends;
use crate::helpers::{DECLARER, TestApp};

both_backends!(health_readiness_and_metrics_report_the_app, |app: TestApp| async move {
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.command("open Metrics check sev3", DECLARER, "CGENERAL").await;
    app.fake
        .wait_for("receipt", |f| !f.calls("response_url").is_empty())
        .await;
    let metrics = app.get_internal("/metrics").await.text().await.unwrap();
    for expected in [
        "rebound_http_requests_total{route=\"/slack/commands\",status=\"200\"} 1",
        "rebound_ack_latency_seconds_count{route=\"/slack/commands\"} 1",
        "rebound_slack_calls_total{method=\"conversations.create\",result=\"ok\"} 1",
        "rebound_inbox_depth",
        "rebound_outbox_depth",
    ] {
        assert!(metrics.contains(expected), "/metrics lacks {expected}:\n{metrics}");
    }
});

fn manifest_schema() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/manifest.schema.1.0.0.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn manifest_command_prints_yaml_that_slacks_schema_accepts() {
    let output = Command::new(env!("CARGO_BIN_EXE_rebound"))
        .args(["manifest", "--url", "https://rebound.example.com"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let yaml: serde_json::Value = serde_yaml_ng::from_str(&String::from_utf8(output.stdout).unwrap()).unwrap();
    let errors: Vec<String> = manifest_schema().iter_errors(&yaml).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "manifest violates Slack's schema: {errors:#?}");
    assert_eq!(
        yaml["features"]["slash_commands"][0]["url"],
        "https://rebound.example.com/slack/commands"
    );
    assert_eq!(
        yaml["settings"]["event_subscriptions"]["request_url"],
        "https://rebound.example.com/slack/events"
    );
    assert_eq!(
        yaml["settings"]["interactivity"]["request_url"],
        "https://rebound.example.com/slack/interactions"
    );
}

#[test]
fn the_socket_mode_manifest_has_no_urls_and_slacks_schema_accepts_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_rebound"))
        .args(["manifest", "--socket-mode"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let yaml: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
    let errors: Vec<String> = manifest_schema().iter_errors(&yaml).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "manifest violates Slack's schema: {errors:#?}");
    assert_eq!(yaml["settings"]["socket_mode_enabled"], true);
    assert!(!text.contains("url"), "no request URLs in Socket Mode:\n{text}");
    assert_eq!(yaml["settings"]["event_subscriptions"]["bot_events"][0], "app_mention");
    let neither = Command::new(env!("CARGO_BIN_EXE_rebound"))
        .arg("manifest")
        .output()
        .unwrap();
    assert!(!neither.status.success(), "manifest needs --url or --socket-mode");
}

#[test]
fn the_schema_check_rejects_a_broken_manifest() {
    let mut broken = rebound::manifest::manifest("https://x.example");
    broken["features"]["slash_commands"][0]["command"] = "incident-without-slash".into();
    assert!(!manifest_schema().is_valid(&broken));
}

#[test]
fn serve_without_secrets_names_each_missing_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_rebound"))
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("SLACK_BOT_TOKEN") && stderr.contains("OAuth & Permissions"),
        "{stderr}"
    );
    assert!(
        stderr.contains("SLACK_SIGNING_SECRET") && stderr.contains("Basic Information"),
        "{stderr}"
    );
}

#[test]
fn check_prints_settings_with_secrets_redacted() {
    let output = Command::new(env!("CARGO_BIN_EXE_rebound"))
        .args(["check", "--offline"])
        .env_clear()
        .env("SLACK_BOT_TOKEN", "xoxb-super-secret-token")
        .env("SLACK_SIGNING_SECRET", "signing-super-secret")
        .env("DATABASE_URL", "postgres://rebound:db-password@db.internal/rebound")
        .env("REBOUND_REPLICA", "rebound-0")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("REBOUND_REPLICA        rebound-0"), "{stdout}");
    for secret in ["xoxb-super-secret-token", "signing-super-secret", "db-password"] {
        assert!(!stdout.contains(secret), "{secret} leaked:\n{stdout}");
    }
    assert!(stdout.contains("SLACK_BOT_TOKEN        [set, redacted]"), "{stdout}");
    assert!(stdout.contains("slack.channel_prefix   inc"), "{stdout}");
}

#[test]
fn check_lists_each_intake_source_with_its_url_and_never_its_secret() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rebound.toml");
    let toml = "[web]\npublic_url = \"https://rebound.example.com/\"\n\
                [[intake.sources]]\nname = \"prod-am\"\nkind = \"alertmanager\"\nsecret = \"am-secret-0123456789\"\nauto_resolve = true\n\
                [[intake.sources]]\nname = \"genie\"\nkind = \"opsgenie\"\nsecret = \"genie-secret-0123456789\"\naction = \"ticket\"\n";
    std::fs::write(&config, toml).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rebound"))
        .args(["check", "--offline"])
        .current_dir(dir.path())
        .env_clear()
        .env("SLACK_BOT_TOKEN", "xoxb-super-secret-token")
        .env("SLACK_SIGNING_SECRET", "signing-super-secret")
        .env("REBOUND_CONFIG", &config)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("intake.prod-am alertmanager https://rebound.example.com/hooks/alertmanager/prod-am → incident, auto_resolve"),
        "{stdout}"
    );
    assert!(
        stdout.contains("intake.genie opsgenie https://rebound.example.com/v2/alerts → ticket"),
        "{stdout}"
    );
    for secret in ["am-secret-0123456789", "genie-secret-0123456789"] {
        assert!(!stdout.contains(secret), "{secret} leaked:\n{stdout}");
    }
}

#[test]
fn help_describes_every_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_rebound"))
        .arg("--help")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    for command in ["serve", "migrate", "manifest", "check"] {
        assert!(stdout.contains(command), "{stdout}");
    }
}

async fn readiness_follows_migrations(backend: crate::helpers::Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = crate::helpers::fresh_database(backend, &dir).await else {
        return;
    };
    let store = rebound::store::connect(&url).await.unwrap();
    assert!(!store.check_ready().await.unwrap(), "not ready before migrations");
    let output = Command::new(env!("CARGO_BIN_EXE_rebound"))
        .arg("migrate")
        .env_clear()
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8(output.stdout).unwrap().contains("migrations applied"));
    assert!(store.check_ready().await.unwrap(), "ready after `rebound migrate`");
}

#[tokio::test]
async fn migrate_command_makes_the_database_ready_sqlite() {
    readiness_follows_migrations(crate::helpers::Backend::Sqlite).await;
}

#[tokio::test]
async fn migrate_command_makes_the_database_ready_postgres() {
    readiness_follows_migrations(crate::helpers::Backend::Postgres).await;
}

/// Counts rows with a plain SQL query, on either database.
async fn count(database_url: &str, sql: &'static str) -> i64 {
    if database_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(database_url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::PgPool::connect(database_url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    }
}

both_backends!(
    delivered_work_is_pruned_after_the_retention_period,
    config = "[retention]\nkeep_delivered = \"1s\"\n",
    |app: TestApp| async move {
        crate::helpers::declared_channel(&app, "open Pruning check sev3").await;
        app.wait_until_inbox_empty().await;
        let delivered = "SELECT (SELECT COUNT(*) FROM inbox WHERE processed_at IS NOT NULL) \
                         + (SELECT COUNT(*) FROM outbox WHERE state = 'sent')";
        assert!(count(&app.database_url, delivered).await > 0, "work was recorded");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while count(&app.database_url, delivered).await > 0 {
            assert!(std::time::Instant::now() < deadline, "delivered work was never pruned");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        assert!(store.incident(1).await.unwrap().is_some(), "state is kept");
        assert!(!store.timeline(1).await.unwrap().is_empty(), "the timeline is kept");
    }
);
