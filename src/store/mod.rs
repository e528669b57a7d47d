//! Persistence behind one trait, with a SQLite and a Postgres implementation.
//!
//! All SQL lives here; no rules do. Queries are built at runtime
//! (`query`/`query_as` + `bind`) because the `query!` macros check against a
//! single database. Every state change a command causes is written through one
//! [`UnitOfWork`], so state, timeline and outbox rows commit together.

/// `SELECT … FROM incidents`, completed by each query's own condition.
macro_rules! select_incidents {
    ($condition:literal) => {
        concat!(
            "SELECT id, title, severity, status, private, declared_by, lead, declared_at, channel_id, channel_name, card_ts, \
             acknowledged_at, mitigated_at, resolved_at, reopened_at, summary, postmortem_done_at, postmortem_link, \
             cadence_anchor_at FROM incidents ",
            $condition
        )
    };
}

pub mod action_items;
pub mod captures;
pub mod channels;
mod housekeeping;
pub mod inbox;
pub mod incidents;
pub mod outbox;
mod postgres;
pub mod reports;
pub mod sql;
mod sqlite;
pub mod tickets;
pub mod timers;

pub use housekeeping::run_housekeeping;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::IncidentId;
use crate::domain::failure::TicketStatus;
use crate::domain::recurrence::{self, Candidate};
use crate::domain::timers::TimerKind;

pub use action_items::StoredActionItem;
pub use captures::NewCapture;
pub use inbox::{InboxItem, InboxKind, InsertOutcome, NewInboxItem};
pub use incidents::TimelineEntry;
pub use outbox::{AfterSend, NewOutboxCall, OutboxCall, RESPONSE_URL_METHOD};
pub use postgres::PostgresStore;
pub use reports::{CommsBreach, Depths};
pub use sqlite::SqliteStore;
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

/// The database, whichever engine it is.
#[async_trait]
pub trait Store:
    housekeeping::Retention
    + timers::TimersWrites
    + reports::ReportsReads
    + inbox::InboxWrites
    + outbox::OutboxReads
    + incidents::IncidentsReads
    + timers::TimersReads
    + action_items::ActionItemsReads
    + channels::ChannelsReads
    + tickets::TicketsReads
    + Send
    + Sync
    + 'static
{
    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<()>;
    /// Periodic upkeep off the request path (SQLite: WAL checkpoints).
    async fn housekeeping(&self) -> StoreResult<()>;
    /// Ok when the database answers and every migration is applied.
    async fn check_ready(&self) -> StoreResult<bool>;

    /// Stores a batch of inbox items in one transaction (one fsync): a group commit.
    async fn insert_inbox(&self, items: &[NewInboxItem], now: DateTime<Utc>) -> StoreResult<Vec<InsertOutcome>>;

    /// Leases the next call of each ordering key that is due.
    /// Leases the next call of each ordering key that is due.
    async fn claim_outbox(&self, limit: i64, now: DateTime<Utc>, lease: Duration) -> StoreResult<Vec<OutboxCall>>;

    /// Starts a transaction.
    async fn begin(&self) -> StoreResult<Box<dyn UnitOfWork>>;
}

/// One transaction: everything in it commits together or not at all.
#[async_trait]
pub trait UnitOfWork:
    inbox::InboxUnit
    + outbox::OutboxUnit
    + incidents::IncidentsUnit
    + timers::TimersUnit
    + captures::CapturesUnit
    + action_items::ActionItemsUnit
    + channels::ChannelsUnit
    + tickets::TicketsUnit
    + Send
{
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// Opens (and for SQLite creates) the database named by `url`.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(
            url.split(':').next().unwrap_or_default().to_string(),
        ))
    }
}

fn parse_ticket_status(text: &str) -> StoreResult<TicketStatus> {
    TicketStatus::parse(text).ok_or_else(|| StoreError::Corrupt(format!("ticket status {text:?}")))
}

fn parse_timer_kind(text: &str) -> StoreResult<TimerKind> {
    TimerKind::parse(text).ok_or_else(|| StoreError::Corrupt(format!("timer kind {text:?}")))
}

fn every_from_millis(ms: Option<i64>) -> Option<Duration> {
    ms.map(|ms| Duration::from_millis(ms.max(0) as u64))
}

fn parse_severity(text: Option<String>) -> StoreResult<Option<crate::domain::Severity>> {
    text.map(|s| s.parse().map_err(|()| StoreError::Corrupt(format!("severity {s:?}"))))
        .transpose()
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

fn required_severity(text: String) -> StoreResult<crate::domain::Severity> {
    text.parse()
        .map_err(|()| StoreError::Corrupt(format!("severity {text:?}")))
}

fn parse_status(text: &str) -> StoreResult<crate::domain::Status> {
    text.parse()
        .map_err(|()| StoreError::Corrupt(format!("status {text:?}")))
}

fn lease_until(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    crate::domain::clock::later(now, lease)
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
