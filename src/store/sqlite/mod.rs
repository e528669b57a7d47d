//! The SQLite engine behind [`Store`](super::Store): WAL mode, created if missing.
//!
//! SQLite allows one writer at a time. Writes go through a pool of exactly one
//! connection so waiting happens in a fair async queue instead of SQLite's
//! sleeping busy handler (which would add milliseconds to acks); reads use a
//! separate pool and never wait for the writer.
//!
//! Durability: inbox commits run with `synchronous = FULL` (fsync before the
//! ack). Background commits run with `NORMAL`: in WAL mode they survive a
//! process crash, and the next inbox commit's fsync makes them durable too,
//! since the WAL is written in order. A power cut can only lose a suffix of
//! background commits, which are recomputed from the durable inbox (worst
//! case: a Slack call sent again; channel creation stays idempotent).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::*;

/// SQLite-backed store.
#[derive(Clone)]
pub struct SqliteStore {
    /// The database file (`None` in memory): migrations lock beside it.
    path: Option<std::path::PathBuf>,
    writer: SqlitePool,
    reader: SqlitePool,
    /// Copies the WAL back into the database file without taking the write lock.
    checkpointer: SqlitePool,
    gate: Arc<InboxFirst>,
}

/// Lets inbox writes (which hold up Slack's acknowledgement) go before
/// background writes waiting for the single writer connection: background
/// work waits while an inbox batch is pending, so an ack waits for at most
/// one background transaction already in progress.
#[derive(Default)]
struct InboxFirst {
    pending: AtomicUsize,
    clear: Notify,
}

impl InboxFirst {
    async fn wait_for_inbox(&self) {
        loop {
            let clear = self.clear.notified();
            tokio::pin!(clear);
            clear.as_mut().enable();
            if self.pending.load(Ordering::Acquire) == 0 {
                return;
            }
            clear.await;
        }
    }

    fn inbox_started(&self) {
        self.pending.fetch_add(1, Ordering::AcqRel);
    }

    fn inbox_finished(&self) {
        if self.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.clear.notify_waiters();
        }
    }
}

impl SqliteStore {
    /// Opens `sqlite://PATH`, creating the file if it does not exist.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Checkpoints run in `housekeeping`, never inside a commit that an
            // acknowledgement is waiting for.
            .pragma("wal_autocheckpoint", "0");
        let path = Some(options.get_filename().to_path_buf()).filter(|p| p.as_os_str() != ":memory:");
        // The first open of a new database switches it to WAL, which needs an
        // exclusive lock; two processes doing that at once can deadlock
        // inside SQLite, which answers "database is locked" at once instead
        // of waiting (seen with replicas starting together). Opening takes
        // the migration lock, so one process at a time does it.
        let _opening = match &path {
            Some(path) => Some(MigrationLock::acquire(path).await?),
            None => None,
        };
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self {
            path,
            writer,
            reader,
            checkpointer,
            gate: Arc::default(),
        })
    }

    /// One transaction for the whole batch: a single fsync acknowledges all of it.
    async fn insert_inbox_now(&self, items: &[NewInboxItem], now: DateTime<Utc>) -> StoreResult<Vec<InsertOutcome>> {
        let mut connection = self.writer.acquire().await?;
        sqlx::query("PRAGMA synchronous = FULL")
            .execute(&mut *connection)
            .await?;
        let outcomes = Self::insert_inbox_tx(&mut connection, items, now).await;
        sqlx::query("PRAGMA synchronous = NORMAL")
            .execute(&mut *connection)
            .await?;
        outcomes
    }

    async fn insert_inbox_tx(
        connection: &mut sqlx::SqliteConnection,
        items: &[NewInboxItem],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<InsertOutcome>> {
        let mut tx = sqlx::Connection::begin(connection).await?;
        let outcomes = super::inbox::insert_items(&mut super::sql::Conn::Sqlite(&mut tx), items, now).await?;
        tx.commit().await?;
        Ok(outcomes)
    }
}

impl SqliteStore {
    pub(super) async fn reader(&self) -> StoreResult<sqlx::pool::PoolConnection<sqlx::Sqlite>> {
        Ok(self.reader.acquire().await?)
    }

    /// The writer, once pending inbox writes have gone first.
    pub(super) async fn writer(&self) -> StoreResult<sqlx::pool::PoolConnection<sqlx::Sqlite>> {
        self.gate.wait_for_inbox().await;
        Ok(self.writer.acquire().await?)
    }

    /// Applies pending migrations while holding `<database>.lock`, so two
    /// processes starting together apply each one once.
    pub(super) async fn migrate(&self) -> StoreResult<()> {
        let _lock = match &self.path {
            Some(path) => Some(MigrationLock::acquire(path).await?),
            None => None,
        };
        migrations::SQLITE.run(&self.writer).await?;
        Ok(())
    }

    /// Applies `pending` to a copy of the database, then deletes the copy.
    pub(super) async fn dry_run(&self, pending: &[&sqlx::migrate::Migration]) -> StoreResult<Vec<schema::Trial>> {
        let dir = std::env::temp_dir().join(format!(
            "rebound-dry-run-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).map_err(io_error)?;
        let copy = dir.join("copy.db");
        let trials = self.dry_run_on(&copy, pending).await;
        let _ = std::fs::remove_dir_all(&dir);
        trials
    }

    async fn dry_run_on(
        &self,
        copy: &std::path::Path,
        pending: &[&sqlx::migrate::Migration],
    ) -> StoreResult<Vec<schema::Trial>> {
        sqlx::query("VACUUM INTO $1")
            .bind(copy.to_string_lossy().into_owned())
            .execute(&self.writer)
            .await?;
        let options = SqliteConnectOptions::new().filename(copy).foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        let mut tx = pool.begin().await?;
        let trials = schema::try_in(&mut tx, pending).await;
        tx.rollback().await?;
        pool.close().await;
        Ok(trials)
    }

    /// Copies the WAL back into the database file (a passive checkpoint:
    /// it never waits for, or blocks, the writer).
    pub(super) async fn checkpoint(&self) -> StoreResult<()> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.checkpointer)
            .await?;
        Ok(())
    }

    pub(super) async fn insert_inbox(
        &self,
        items: &[NewInboxItem],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<InsertOutcome>> {
        self.gate.inbox_started();
        let result = self.insert_inbox_now(items, now).await;
        self.gate.inbox_finished();
        result
    }

    pub(super) async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.gate.wait_for_inbox().await;
        Ok(self.writer.begin().await?)
    }
}

fn io_error(error: std::io::Error) -> StoreError {
    StoreError::Database(sqlx::Error::Io(error))
}

/// An exclusive `flock` on `<database>.lock`, held while opening and while migrating.
struct MigrationLock {
    _file: std::fs::File,
}

impl MigrationLock {
    async fn acquire(database: &std::path::Path) -> StoreResult<Self> {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(std::path::PathBuf::from(name))
            .map_err(io_error)?;
        tokio::task::spawn_blocking(move || {
            use std::os::fd::AsRawFd;
            // SAFETY: flock on a descriptor this function owns; it blocks
            // until the other migrating process closes its lock file.
            match unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } {
                0 => Ok(Self { _file: file }),
                _ => Err(io_error(std::io::Error::last_os_error())),
            }
        })
        .await
        .map_err(|e| io_error(std::io::Error::other(e)))?
    }
}
