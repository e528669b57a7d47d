//! The one query layer both engines run: each query is one SQL text, in the
//! dialect SQLite and Postgres share, with `$1…$n` placeholders (which both
//! accept), its arguments bound and its rows read through engine-neutral
//! types (rows: `row.rs`). What differs stays here: how a time or JSON is
//! bound (SQLite keeps times as integer milliseconds since the epoch,
//! Postgres as `timestamptz`) and which connection runs the text.
//!
//! Why not a query builder: a spike with `sea-query` 1.0 and its sqlx 0.9
//! driver worked, but it binds `chrono` times as text on SQLite (our columns
//! hold integers), so every time would still need an engine-aware wrapper,
//! and the queries — upserts, `EXISTS` subqueries, `string_agg` — read
//! better as the SQL they are than as builder calls. Shared SQL text plus
//! typed arguments gives one definition per query with less machinery.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;

use super::StoreResult;
pub use super::row::Row;

/// Which engine a connection belongs to, for the few texts that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// One argument of a query, converted to each engine's column type on bind.
#[derive(Debug, Clone)]
pub enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(bool),
    Time(Option<DateTime<Utc>>),
    /// SQLite keeps JSON as text, Postgres as `jsonb`.
    Json(Option<serde_json::Value>),
}

macro_rules! arg_from {
    ($($ty:ty => $variant:ident($convert:expr)),* $(,)?) => {
        $(impl From<$ty> for Arg {
            fn from(value: $ty) -> Self {
                Arg::$variant($convert(value))
            }
        })*
    };
}

arg_from! {
    i64 => Int(Some),
    i32 => Int(|v| Some(i64::from(v))),
    Option<i64> => Int(|v| v),
    &str => Text(|v: &str| Some(v.to_string())),
    String => Text(Some),
    &String => Text(|v: &String| Some(v.clone())),
    Option<&str> => Text(|v: Option<&str>| v.map(str::to_string)),
    Option<String> => Text(|v| v),
    bool => Bool(|v| v),
    DateTime<Utc> => Time(Some),
    Option<DateTime<Utc>> => Time(|v| v),
    serde_json::Value => Json(Some),
    &serde_json::Value => Json(|v: &serde_json::Value| Some(v.clone())),
    Option<&serde_json::Value> => Json(|v: Option<&serde_json::Value>| v.cloned()),
}

/// A query: its shared SQL text and its arguments, in placeholder order.
#[derive(Debug, Clone)]
pub struct Query {
    sql: &'static str,
    /// A row-lock clause appended on Postgres only.
    lock: Option<&'static str>,
    args: Vec<Arg>,
}

/// Starts a query from its SQL text.
pub fn query(sql: &'static str) -> Query {
    Query {
        sql,
        lock: None,
        args: Vec::new(),
    }
}

impl Query {
    /// Binds the next placeholder.
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Locks the rows a `SELECT` reads until the transaction ends (`FOR
    /// UPDATE …`, appended to the text on Postgres). SQLite needs no lock:
    /// its single writer already serialises every transaction.
    pub fn locked(mut self, clause: &'static str) -> Self {
        self.lock = Some(clause);
        self
    }

    fn for_sqlite(&self) -> sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
        self.args.iter().fold(sqlx::query(self.sql), |q, arg| match arg {
            Arg::Int(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.as_deref()),
            Arg::Bool(v) => q.bind(*v),
            Arg::Time(v) => q.bind(v.map(|at| at.timestamp_millis())),
            Arg::Json(v) => q.bind(v.as_ref().map(serde_json::Value::to_string)),
        })
    }

    fn for_postgres(&self) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
        let text = match self.lock {
            // Both parts are static texts of this crate; nothing user-given is spliced.
            Some(lock) => sqlx::query(AssertSqlSafe(format!("{} {lock}", self.sql))),
            None => sqlx::query(self.sql),
        };
        self.args.iter().fold(text, |q, arg| match arg {
            Arg::Int(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.as_deref()),
            Arg::Bool(v) => q.bind(*v),
            Arg::Time(v) => q.bind(*v),
            Arg::Json(v) => q.bind(v.clone()),
        })
    }
}

/// A connection or transaction of either engine.
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Conn<'_> {
    pub fn engine(&self) -> Engine {
        match self {
            Conn::Sqlite(_) => Engine::Sqlite,
            Conn::Postgres(_) => Engine::Postgres,
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub async fn execute(&mut self, query: Query) -> StoreResult<u64> {
        Ok(match self {
            Conn::Sqlite(c) => query.for_sqlite().execute(&mut **c).await?.rows_affected(),
            Conn::Postgres(c) => query.for_postgres().execute(&mut **c).await?.rows_affected(),
        })
    }

    /// Runs a statement whose row count does not matter.
    pub async fn run(&mut self, query: Query) -> StoreResult<()> {
        self.execute(query).await.map(drop)
    }

    /// Hands each row to `each` as it arrives, without holding them all:
    /// for reports over many rows.
    pub async fn for_each(&mut self, query: Query, mut each: impl FnMut(Row) -> StoreResult<()>) -> StoreResult<()> {
        use futures_util::TryStreamExt;
        match self {
            Conn::Sqlite(c) => {
                let mut rows = query.for_sqlite().fetch(&mut **c);
                while let Some(row) = rows.try_next().await? {
                    each(Row::Sqlite(row))?;
                }
            }
            Conn::Postgres(c) => {
                let mut rows = query.for_postgres().fetch(&mut **c);
                while let Some(row) = rows.try_next().await? {
                    each(Row::Postgres(row))?;
                }
            }
        }
        Ok(())
    }

    /// Rows mapped by `map`, in order.
    pub async fn map_all<T>(&mut self, query: Query, map: impl Fn(&Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
        let mut mapped = Vec::new();
        self.for_each(query, |row| {
            mapped.push(map(&row)?);
            Ok(())
        })
        .await?;
        Ok(mapped)
    }

    /// The first row mapped by `map`, if any.
    pub async fn map_optional<T>(
        &mut self,
        query: Query,
        map: impl Fn(&Row) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let row = match self {
            Conn::Sqlite(c) => query.for_sqlite().fetch_optional(&mut **c).await?.map(Row::Sqlite),
            Conn::Postgres(c) => query.for_postgres().fetch_optional(&mut **c).await?.map(Row::Postgres),
        };
        row.as_ref().map(map).transpose()
    }
}

/// A pooled connection of either engine.
pub enum Pooled {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl Pooled {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(c) => Conn::Sqlite(c),
            Pooled::Postgres(c) => Conn::Postgres(c),
        }
    }
}
