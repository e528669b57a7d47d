//! Upgrading a database that holds data: the schema as the previous release
//! left it (migrations up to 0013), with an incident and a failure ticket in
//! it, migrates forward and everything reads back through the store, on
//! both engines.

use std::path::Path;

use sqlx::migrate::Migrator;

use crate::helpers::{Backend, fresh_database};

/// The last migration of the release before word keys, channels and claims.
pub const PREVIOUS_RELEASE: i64 = 13;

async fn previous_schema_with_data(backend: Backend, url: &str) {
    let dir = match backend {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    };
    let mut migrator = Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .await
        .unwrap();
    let previous: Vec<_> = migrator
        .iter()
        .filter(|m| m.version <= PREVIOUS_RELEASE)
        .cloned()
        .collect();
    migrator.migrations = previous.into();
    let (private, at) = match backend {
        Backend::Sqlite => ("0", "1700000000000"),
        Backend::Postgres => ("false", "to_timestamp(1700000000)"),
    };
    let rows = [
        format!(
            "INSERT INTO incidents (title, severity, status, private, declared_by, lead, declared_at) \
             VALUES ('Old incident', 'sev2', 'investigating', {private}, 'U1', 'U1', {at})"
        ),
        format!(
            "INSERT INTO failure_tickets (channel_id, ts, body, reporter, captured_at) \
             VALUES ('COLD', '1.1', 'Disk full on db-3: disk FULL again', 'U1', {at})"
        ),
    ];
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            migrator.run(&pool).await.unwrap();
            for row in rows {
                sqlx::query(sqlx::AssertSqlSafe(row)).execute(&pool).await.unwrap();
            }
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            migrator.run(&pool).await.unwrap();
            for row in rows {
                sqlx::query(sqlx::AssertSqlSafe(row)).execute(&pool).await.unwrap();
            }
        }
    }
}

/// A new database as the previous release left it, with data; its URL.
pub async fn previous_release_database(backend: Backend, dir: &tempfile::TempDir) -> Option<String> {
    let url = fresh_database(backend, dir).await?;
    let url = match backend {
        Backend::Sqlite => format!("{url}?mode=rwc"),
        Backend::Postgres => url,
    };
    previous_schema_with_data(backend, &url).await;
    Some(url)
}

async fn upgrade_keeps_data(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = previous_release_database(backend, &dir).await else {
        return;
    };
    let store = rebound::store::connect(&url).await.unwrap();
    assert!(
        !store.check_ready().await.unwrap(),
        "not ready before the new migrations"
    );
    store.migrate().await.unwrap();
    assert!(store.check_ready().await.unwrap());
    let incident = store.incident(1).await.unwrap().unwrap();
    assert_eq!(
        (incident.title.as_str(), incident.declared_at.timestamp()),
        ("Old incident", 1_700_000_000)
    );
    let ticket = store.ticket(1).await.unwrap().unwrap();
    assert_eq!(ticket.text.as_deref(), Some("Disk full on db-3: disk FULL again"));
    assert!(ticket.private, "Slack has not said whether its channel is private yet");
    assert_eq!(store.channels_without_info(10).await.unwrap(), ["COLD"]);
    let candidates = store.recurrence_candidates(1, 10).await.unwrap();
    assert_eq!(
        candidates[0].words, "again db disk full",
        "no stored word key: read from the text"
    );
}

#[tokio::test]
async fn a_sqlite_database_of_the_previous_release_upgrades_with_its_data() {
    upgrade_keeps_data(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_postgres_database_of_the_previous_release_upgrades_with_its_data() {
    upgrade_keeps_data(Backend::Postgres).await;
}
