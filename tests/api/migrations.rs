//! Upgrades that cannot strand a team, on both engines: replicas migrating
//! at once apply each migration once; `rebound migrate --dry-run` applies
//! what is pending where nothing is kept; `serve --no-migrate` runs only
//! on this release's schema; a binary older than the schema says what to
//! do instead of failing with sqlx's error.

use rebound::startup::{Application, Workers};

use crate::fake_slack::FakeSlack;
use crate::helpers::{Backend, fresh_database, scalar_at, settings};
use crate::upgrade::{PREVIOUS_RELEASE, previous_release_database};

/// How many migrations this binary carries (one file per version).
fn known_migrations() -> i64 {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count() as i64
}

async fn rebound(args: &[&str], database_url: &str) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_rebound"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", database_url)
        // Enough for `serve` to reach its migrations; nothing answers on port 9.
        .env("SLACK_BOT_TOKEN", crate::fake_slack::BOT_TOKEN)
        .env("SLACK_SIGNING_SECRET", crate::helpers::SIGNING_SECRET)
        .env("SLACK_API_URL", "http://127.0.0.1:9/api")
        .env("REBOUND_ADDR", "127.0.0.1:0")
        .env("REBOUND_INTERNAL_ADDR", "off")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

async fn applied(url: &str) -> i64 {
    scalar_at(url, "SELECT COUNT(*) FROM _sqlx_migrations WHERE success").await
}

async fn replicas_migrating_together_apply_each_migration_once(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(backend, &dir).await else {
        return;
    };
    let runs = futures_util::future::join_all((0..4).map(|_| rebound(&["migrate"], &url))).await;
    for (success, output) in &runs {
        assert!(success, "{output}");
    }
    assert_eq!(applied(&url).await, known_migrations());
    let (_, again) = rebound(&["migrate"], &url).await;
    assert!(
        again.contains("migrations applied to") && again.contains(": 0 new; "),
        "{again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_migrating_together_apply_each_migration_once_sqlite() {
    replicas_migrating_together_apply_each_migration_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_migrating_together_apply_each_migration_once_postgres() {
    replicas_migrating_together_apply_each_migration_once(Backend::Postgres).await;
}

async fn a_dry_run_reports_each_migration_and_keeps_nothing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = previous_release_database(backend, &dir).await else {
        return;
    };
    let (success, output) = rebound(&["migrate", "--dry-run"], &url).await;
    assert!(success, "{output}");
    let pending = known_migrations() - PREVIOUS_RELEASE;
    assert!(
        output.contains(&format!("schema version {PREVIOUS_RELEASE} of {}", known_migrations())),
        "{output}"
    );
    assert!(output.contains("ok      0014_ticket_words ("), "{output}");
    assert!(
        output.contains(&format!("{pending} migration(s) would apply; nothing was changed")),
        "{output}"
    );
    assert_eq!(applied(&url).await, PREVIOUS_RELEASE, "nothing applied");
    let tables: i64 = match backend {
        Backend::Sqlite => scalar_at(&url, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'web_sessions'").await,
        Backend::Postgres => scalar_at(&url, "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'web_sessions'").await,
    };
    assert_eq!(tables, 0, "no table of a pending migration left behind");
    if backend == Backend::Sqlite {
        let leftovers = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("rebound-dry-run-{}-", std::process::id()))
            })
            .count();
        assert_eq!(leftovers, 0);
    }
    let (success, output) = rebound(&["migrate"], &url).await;
    assert!(success, "{output}");
    assert!(output.contains(&format!(": {pending} new; ")), "{output}");
    let title: String = scalar_at(&url, "SELECT title FROM incidents WHERE id = 1").await;
    assert_eq!(title, "Old incident");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_reports_each_migration_and_keeps_nothing_sqlite() {
    a_dry_run_reports_each_migration_and_keeps_nothing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_reports_each_migration_and_keeps_nothing_postgres() {
    a_dry_run_reports_each_migration_and_keeps_nothing(Backend::Postgres).await;
}

async fn an_older_binary_says_what_to_do_with_a_newer_schema(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(backend, &dir).await else {
        return;
    };
    let store = rebound::store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    // What a later release's migration leaves behind.
    let (success, checksum) = match backend {
        Backend::Sqlite => ("1", "X'00'"),
        Backend::Postgres => ("true", "'\\x00'::bytea"),
    };
    crate::helpers::execute_at(
        &url,
        &format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9001, 'from the future', {success}, {checksum}, 1)"
        ),
    )
    .await;
    for args in [&["migrate"][..], &["migrate", "--dry-run"], &["serve"]] {
        let (success, output) = rebound(args, &url).await;
        assert!(!success, "{args:?} must refuse");
        assert!(
            output.contains("the database schema is at version 9001 but this Rebound")
                && output.contains(&format!("knows only up to {}", known_migrations()))
                && output.contains("restore the backup taken before the upgrade"),
            "{args:?}: {output}"
        );
        assert!(!output.contains("VersionMissing"), "{output}");
    }
    let fake = FakeSlack::start().await;
    let mut no_migrate = settings(&url, &fake, &[]);
    no_migrate.migrate_on_start = false;
    let refused = Application::start(no_migrate, Workers::default()).await;
    assert!(format!("{:#}", refused.err().unwrap()).contains("a newer Rebound migrated it"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_binary_says_what_to_do_with_a_newer_schema_sqlite() {
    an_older_binary_says_what_to_do_with_a_newer_schema(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_binary_says_what_to_do_with_a_newer_schema_postgres() {
    an_older_binary_says_what_to_do_with_a_newer_schema(Backend::Postgres).await;
}

async fn serve_without_migrating_needs_this_releases_schema(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(backend, &dir).await else {
        return;
    };
    let fake = FakeSlack::start().await;
    let no_migrate = || {
        let mut settings = settings(&url, &fake, &[]);
        settings.migrate_on_start = false;
        settings
    };
    let refused = Application::start(no_migrate(), Workers::default()).await;
    let why = format!("{:#}", refused.err().expect("an empty database is refused"));
    assert!(
        why.contains(&format!("lacks {} migration(s)", known_migrations())) && why.contains("run `rebound migrate`"),
        "{why}"
    );
    let schema = rebound::store::connect(&url).await.unwrap().schema().await.unwrap();
    assert!(schema.applied.is_empty(), "--no-migrate applied nothing");
    let (success, output) = rebound(&["migrate"], &url).await;
    assert!(success, "{output}");
    let app = Application::start(no_migrate(), Workers::default())
        .await
        .expect("starts on a current schema");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_without_migrating_needs_this_releases_schema_sqlite() {
    serve_without_migrating_needs_this_releases_schema(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_without_migrating_needs_this_releases_schema_postgres() {
    serve_without_migrating_needs_this_releases_schema(Backend::Postgres).await;
}
