//! Persistence: one [`Store`] and one [`UnitOfWork`] for SQLite and
//! Postgres alike. Each query is written once, in the SQL both engines
//! speak (`sql.rs` says how and why; `row.rs` reads rows), in the module
//! of its aggregate: `incidents.rs` (incidents, timeline, severity changes,
//! update gaps), `action_items.rs`, `captures.rs` (captured messages),
//! `tickets.rs` and `recurrences.rs` (failure tickets), `channels.rs`
//! (channel privacy, members, admin groups), `timers.rs` (timers, recurring
//! jobs), `inbox.rs`, `outbox.rs` and `outbox_claims.rs`, `reports.rs` (bulk
//! reads), `housekeeping.rs` (retention, each engine's upkeep), `alerts.rs`
//! (the alert ledger), `web_sessions.rs`, `status_page.rs`, and what other
//! systems were told: `paging.rs` (PagerDuty, Zenduty), `statuspage.rs`,
//! `jira.rs`, `rollbacks.rs` (GitHub Actions). `schema.rs` and
//! `migrations.rs`: the schema's version, embedded migrations, upgrades.
//! `sqlite/` and `postgres/` hold only what really differs: connecting,
//! pragmas and the single writer, migrating and dry runs; they run no query
//! of an aggregate (a test in `tests/api/store_layout.rs` keeps it so).
//! Every state change a command causes goes through one [`UnitOfWork`], so
//! state, timeline and outbox rows commit together.

/// `SELECT … FROM incidents`, completed by each query's own condition.
macro_rules! select_incidents {
    ($condition:literal) => {
        concat!(
            "SELECT id, title, severity, status, private, declared_by, lead, declared_at, channel_id, channel_name, card_ts, \
             acknowledged_at, mitigated_at, resolved_at, reopened_at, summary, postmortem_done_at, postmortem_link, \
             cadence_anchor_at, impact_started_at, impact_source, detected_at FROM incidents ",
            $condition
        )
    };
}

pub mod action_items;
pub mod alerts;
pub mod captures;
pub mod channels;
mod housekeeping;
pub mod inbox;
pub mod incidents;
pub mod jira;
mod migrations;
pub mod outbox;
pub mod outbox_claims;
pub mod paging;
mod postgres;
pub mod reports;
pub mod rollbacks;
mod row;
pub mod sql;
mod sqlite;
#[macro_use]
pub mod tickets;
pub mod recurrences;
pub mod schema;
pub mod status_page;
pub mod statuspage;
pub mod timers;
pub mod web_sessions;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sql::{Conn, Pooled, Query, Row};

use crate::domain::IncidentId;
use crate::domain::recurrence::{self, Candidate};

pub use action_items::{IssueLink, StoredActionItem};
pub use captures::NewCapture;
pub use inbox::{InboxItem, InboxKind, InsertOutcome, NewInboxItem};
pub use incidents::TimelineEntry;
pub use outbox::{AfterSend, NewOutboxCall, OutboxCall, RESPONSE_URL_METHOD};
use postgres::PostgresStore;
pub use reports::{CommsBreach, Depths};
use sqlite::SqliteStore;
pub use timers::Timer;

/// A storage failure. Callers retry or report it; they never see SQL.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("unsupported DATABASE_URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// A newer Rebound migrated the database; the message says what to do.
    #[error("{0}")]
    SchemaAhead(String),
    /// Migrations are pending and this process was told not to apply them.
    #[error("{0}")]
    SchemaBehind(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A message flagged as a failure, to store.
#[derive(Debug, Clone)]
pub struct NewFailure<'a> {
    pub channel_id: &'a str,
    pub ts: &'a str,
    pub author: Option<&'a str>,
    pub reporter: &'a str,
    pub incident_id: Option<IncidentId>,
}

/// Which failure tickets `/incident failures` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketFilter {
    /// Not closed.
    Open,
    /// Not closed and owned by this user.
    OwnedBy(String),
    /// Not closed and carrying this tag.
    Tagged(String),
}

/// The database, whichever engine it is. Its queries live in the
/// aggregate modules (`impl Store` blocks), written once for both engines;
/// what differs per engine (connections, claims, migrations) is here.
pub struct Store {
    backend: Backend,
}

enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    /// Ok when the database answers and every migration is applied.
    pub async fn check_ready(&self) -> StoreResult<bool> {
        let expected = match &self.backend {
            Backend::Sqlite(_) => migrations::SQLITE.iter().count(),
            Backend::Postgres(_) => migrations::POSTGRES.iter().count(),
        };
        let q = sql::query("SELECT COUNT(*) AS applied FROM _sqlx_migrations WHERE success");
        match self.read_one(q, |r| r.int("applied")).await {
            Ok(applied) => Ok(applied.unwrap_or(0) >= expected as i64),
            // No migrations table yet.
            Err(StoreError::Database(sqlx::Error::Database(_))) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// Stores a batch of inbox items in one transaction (one fsync): a group commit.
    pub async fn insert_inbox(&self, items: &[NewInboxItem], now: DateTime<Utc>) -> StoreResult<Vec<InsertOutcome>> {
        match &self.backend {
            Backend::Sqlite(s) => s.insert_inbox(items, now).await,
            Backend::Postgres(p) => p.insert_inbox(items, now).await,
        }
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> StoreResult<Box<UnitOfWork>> {
        let tx = match &self.backend {
            Backend::Sqlite(s) => Tx::Sqlite(s.begin().await?),
            Backend::Postgres(p) => Tx::Postgres(p.begin().await?),
        };
        Ok(Box::new(UnitOfWork { tx, origin: None }))
    }

    /// A pooled connection for reads outside any transaction (never the SQLite writer).
    async fn read(&self) -> StoreResult<Pooled> {
        match &self.backend {
            Backend::Sqlite(s) => Ok(Pooled::Sqlite(s.reader().await?)),
            Backend::Postgres(p) => Ok(Pooled::Postgres(p.connection().await?)),
        }
    }

    /// A read outside any transaction: every row, mapped by `map`.
    async fn read_all<T>(&self, q: Query, map: impl Fn(&Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
        self.read().await?.conn().map_all(q, map).await
    }

    /// A read outside any transaction: the first row, mapped by `map`.
    async fn read_one<T>(&self, q: Query, map: impl Fn(&Row) -> StoreResult<T>) -> StoreResult<Option<T>> {
        self.read().await?.conn().map_optional(q, map).await
    }

    /// The time a one-row query selects as `at`, if any (NULL counts as none).
    async fn read_time(&self, q: Query) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(self.read_one(q, |r| r.opt_time("at")).await?.flatten())
    }

    /// A background write outside any transaction; the rows it changed.
    async fn write_now(&self, q: Query) -> StoreResult<u64> {
        self.write().await?.conn().execute(q).await
    }

    /// A connection for a background write outside any transaction (on
    /// SQLite the single writer, once pending inbox writes have gone first).
    async fn write(&self) -> StoreResult<Pooled> {
        match &self.backend {
            Backend::Sqlite(s) => Ok(Pooled::Sqlite(s.writer().await?)),
            Backend::Postgres(p) => Ok(Pooled::Postgres(p.connection().await?)),
        }
    }
}

/// One transaction: everything in it commits together or not at all. Its
/// queries live in the aggregate modules (`impl UnitOfWork` blocks).
pub struct UnitOfWork {
    tx: Tx,
    /// When what caused the calls being recorded was received.
    origin: Option<DateTime<Utc>>,
}

enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl UnitOfWork {
    fn conn(&mut self) -> Conn<'_> {
        match &mut self.tx {
            Tx::Sqlite(tx) => Conn::Sqlite(tx),
            Tx::Postgres(tx) => Conn::Postgres(tx),
        }
    }

    pub async fn commit(self: Box<Self>) -> StoreResult<()> {
        match self.tx {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// Opens (and for SQLite creates) the database named by `url`.
pub async fn connect(url: &str) -> StoreResult<Arc<Store>> {
    let backend = if url.starts_with("sqlite:") {
        Backend::Sqlite(SqliteStore::connect(url).await?)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Backend::Postgres(PostgresStore::connect(url).await?)
    } else {
        return Err(StoreError::UnsupportedUrl(
            url.split(':').next().unwrap_or_default().to_string(),
        ));
    };
    Ok(Arc::new(Store { backend }))
}

/// A ticket's tags as one comma-separated column (folded by the query), sorted.
fn split_tags(tags: Option<String>) -> Vec<String> {
    let mut tags: Vec<String> = tags
        .unwrap_or_default()
        .split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    tags.sort();
    tags
}

/// A recurrence candidate from its stored row: the word key stored at
/// capture, or (tickets from before word keys were stored) the key of the
/// start of its text.
fn candidate_from_parts(id: i64, tags: Option<String>, words: Option<String>, head: Option<String>) -> Candidate {
    let words = words.unwrap_or_else(|| head.as_deref().map(recurrence::word_key).unwrap_or_default());
    Candidate {
        id,
        tags: split_tags(tags),
        words,
    }
}

/// A ticket's five whys, stored one per line.
fn split_whys(whys: Option<String>) -> Vec<String> {
    whys.map(|w| w.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// A stored severity score, if it is one.
fn severity_score(score: Option<i64>) -> Option<u8> {
    score.and_then(|s| u8::try_from(s).ok())
}

/// Text both engines can store: Postgres refuses NUL in `text` columns, so
/// it is dropped (ingress already strips it from user text; this covers
/// text Rebound writes itself, such as error messages).
fn storable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        text.replace('\0', "").into()
    } else {
        text.into()
    }
}
