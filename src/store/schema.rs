//! The schema's version and its upgrades: which migrations this binary
//! carries, which the database has applied, migrating under a lock (two
//! replicas starting together apply each migration once), refusing a
//! database that a newer Rebound migrated (with what to do, not a raw sqlx
//! error), and a dry run that applies what is pending and keeps nothing.
//!
//! Postgres: sqlx's migrator holds `pg_advisory_lock` for the whole run, and
//! a dry run applies every pending migration inside one transaction that
//! is rolled back (Postgres DDL is transactional). SQLite: sqlx takes no
//! lock there, so `migrate` holds an exclusive `flock` on `<database>.lock`
//! (never on the database file itself: closing a second descriptor of it
//! would drop SQLite's own POSIX locks); a dry run applies to a copy made
//! with `VACUUM INTO` and deletes it.

use std::time::{Duration, Instant};

use sqlx::migrate::{Migration, Migrator};

use super::sql::query;
use super::{Backend, Store, StoreError, StoreResult, migrations};

/// One migration this binary carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMigration {
    pub version: i64,
    pub description: String,
}

/// What the database holds against what this binary knows.
#[derive(Debug, Clone)]
pub struct Schema {
    /// The engine and its version, e.g. "PostgreSQL 16.4" or "SQLite 3.46.0".
    pub engine: String,
    /// Versions the database has applied successfully, ascending.
    pub applied: Vec<i64>,
    /// Migrations this binary carries, ascending.
    pub known: Vec<KnownMigration>,
}

impl Schema {
    /// Migrations this binary would apply.
    pub fn pending(&self) -> Vec<&KnownMigration> {
        self.known
            .iter()
            .filter(|m| !self.applied.contains(&m.version))
            .collect()
    }

    /// Versions applied by a newer Rebound: this binary does not know them.
    pub fn unknown_applied(&self) -> Vec<i64> {
        self.applied
            .iter()
            .copied()
            .filter(|v| !self.known.iter().any(|m| m.version == *v))
            .collect()
    }

    /// The newest version this binary knows.
    pub fn binary_version(&self) -> i64 {
        self.known.last().map_or(0, |m| m.version)
    }

    /// The newest version the database has.
    pub fn database_version(&self) -> i64 {
        self.applied.last().copied().unwrap_or(0)
    }

    /// Why this binary must not run on this database, with what to do.
    pub fn newer_than_binary(&self) -> Option<String> {
        let unknown = self.unknown_applied();
        (!unknown.is_empty()).then(|| {
            format!(
                "the database schema is at version {} but this Rebound ({}) knows only up to {}: a newer \
                 Rebound migrated it (versions {unknown:?}). Run that newer release (or newer), or to roll \
                 back, restore the backup taken before the upgrade; Rebound never downgrades a schema",
                self.database_version(),
                env!("CARGO_PKG_VERSION"),
                self.binary_version(),
            )
        })
    }

    /// One line: engine, versions, what is pending.
    pub fn summary(&self) -> String {
        let pending = self.pending();
        let state = if let Some(newer) = self.unknown_applied().last() {
            format!(
                "newer than this binary (database {newer}, binary {})",
                self.binary_version()
            )
        } else if pending.is_empty() {
            "up to date".to_string()
        } else {
            let mut named: Vec<String> = pending.iter().take(4).map(|m| m.label()).collect();
            if pending.len() > named.len() {
                named.push(format!("and {} more", pending.len() - named.len()));
            }
            format!("{} pending ({})", pending.len(), named.join(", "))
        };
        format!(
            "{}, schema version {} of {}, {state}",
            self.engine,
            self.database_version(),
            self.binary_version()
        )
    }
}

impl KnownMigration {
    /// `0021_status_page`, as the file is named.
    pub fn label(&self) -> String {
        format!("{:04}_{}", self.version, self.description.replace(' ', "_"))
    }
}

/// One migration tried by a dry run.
#[derive(Debug)]
pub struct Trial {
    pub migration: KnownMigration,
    pub took: Duration,
    /// `Err` with the engine's message when it failed (the later ones are not tried).
    pub outcome: Result<(), String>,
}

fn known(migrator: &Migrator) -> Vec<KnownMigration> {
    migrator
        .iter()
        .map(|m| KnownMigration {
            version: m.version,
            description: m.description.to_string(),
        })
        .collect()
}

impl Store {
    fn migrator(&self) -> &'static Migrator {
        match &self.backend {
            Backend::Sqlite(_) => &migrations::SQLITE,
            Backend::Postgres(_) => &migrations::POSTGRES,
        }
    }

    /// The database's schema against this binary's migrations.
    pub async fn schema(&self) -> StoreResult<Schema> {
        let engine = match &self.backend {
            Backend::Sqlite(_) => "SELECT 'SQLite ' || sqlite_version() AS v",
            Backend::Postgres(_) => "SELECT 'PostgreSQL ' || current_setting('server_version') AS v",
        };
        let engine = self.read_one(query(engine), |r| r.text("v")).await?.unwrap_or_default();
        let applied = query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version");
        let applied = match self.read_all(applied, |r| r.int("version")).await {
            Ok(applied) => applied,
            // No migrations table yet: nothing applied.
            Err(StoreError::Database(sqlx::Error::Database(_))) => Vec::new(),
            Err(other) => return Err(other),
        };
        Ok(Schema {
            engine,
            applied,
            known: known(self.migrator()),
        })
    }

    /// Applies pending migrations under the engine's lock; refuses a
    /// database a newer Rebound migrated.
    pub async fn migrate(&self) -> StoreResult<()> {
        if let Some(why) = self.schema().await?.newer_than_binary() {
            return Err(StoreError::SchemaAhead(why));
        }
        let result = match &self.backend {
            Backend::Sqlite(s) => s.migrate().await,
            Backend::Postgres(p) => p.migrate().await,
        };
        // Another process may have gone ahead between the check and the lock.
        match result {
            Err(StoreError::Migrate(sqlx::migrate::MigrateError::VersionMissing(_))) => Err(StoreError::SchemaAhead(
                self.schema().await?.newer_than_binary().unwrap_or_default(),
            )),
            other => other,
        }
    }

    /// Ok when the schema is exactly what this binary expects (for
    /// `serve --no-migrate`); otherwise what to do.
    pub async fn require_current_schema(&self) -> StoreResult<()> {
        let schema = self.schema().await?;
        if let Some(why) = schema.newer_than_binary() {
            return Err(StoreError::SchemaAhead(why));
        }
        let pending = schema.pending();
        if pending.is_empty() {
            return Ok(());
        }
        Err(StoreError::SchemaBehind(format!(
            "the database lacks {} migration(s) this Rebound needs ({}): run `rebound migrate` with this \
             release first, or start without --no-migrate",
            pending.len(),
            pending.iter().map(|m| m.label()).collect::<Vec<_>>().join(", ")
        )))
    }

    /// Applies every pending migration where nothing is kept (a copy of a
    /// SQLite database, a rolled-back Postgres transaction), timing each.
    pub async fn dry_run_migrations(&self) -> StoreResult<Vec<Trial>> {
        let schema = self.schema().await?;
        if let Some(why) = schema.newer_than_binary() {
            return Err(StoreError::SchemaAhead(why));
        }
        let pending: Vec<&Migration> = self
            .migrator()
            .iter()
            .filter(|m| !schema.applied.contains(&m.version))
            .collect();
        match &self.backend {
            Backend::Sqlite(s) => s.dry_run(&pending).await,
            Backend::Postgres(p) => p.dry_run(&pending).await,
        }
    }
}

/// Runs `pending` in order inside `tx` (which the caller rolls back),
/// stopping at the first failure.
pub(super) async fn try_in<DB>(tx: &mut sqlx::Transaction<'_, DB>, pending: &[&Migration]) -> Vec<Trial>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let mut trials = Vec::new();
    for migration in pending {
        let started = Instant::now();
        let outcome = sqlx::raw_sql(migration.sql.clone())
            .execute(&mut **tx)
            .await
            .map(drop)
            .map_err(|e| e.to_string());
        let failed = outcome.is_err();
        trials.push(Trial {
            migration: KnownMigration {
                version: migration.version,
                description: migration.description.to_string(),
            },
            took: started.elapsed(),
            outcome,
        });
        if failed {
            break;
        }
    }
    trials
}
