//! Reading a row of either engine by column name, into the types the
//! aggregates use: what differs is how a time is kept (SQLite: integer
//! milliseconds since the epoch; Postgres: `timestamptz`), how JSON is kept
//! (text; `jsonb`), and integer widths (Postgres `integer` widens to `i64`).
//! Anything a column holds that its type cannot mean is
//! [`StoreError::Corrupt`], never a panic.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Row as _, Type};

use super::{StoreError, StoreResult};

/// A row of either engine, read by column name.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl Row {
    fn get<T>(&self, column: &str) -> StoreResult<T>
    where
        T: for<'r> Decode<'r, sqlx::Sqlite> + Type<sqlx::Sqlite>,
        T: for<'r> Decode<'r, sqlx::Postgres> + Type<sqlx::Postgres>,
    {
        Ok(match self {
            Row::Sqlite(row) => row.try_get(column)?,
            Row::Postgres(row) => row.try_get(column)?,
        })
    }

    pub fn int(&self, column: &str) -> StoreResult<i64> {
        self.opt_int(column)?
            .ok_or_else(|| StoreError::Corrupt(format!("{column} is empty")))
    }

    /// Any integer column: Postgres `integer` columns widen to `i64`.
    pub fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
        match self {
            Row::Sqlite(row) => Ok(row.try_get(column)?),
            Row::Postgres(row) => match row.try_get::<Option<i64>, _>(column) {
                Ok(value) => Ok(value),
                Err(_) => Ok(row.try_get::<Option<i32>, _>(column)?.map(i64::from)),
            },
        }
    }

    pub fn text(&self, column: &str) -> StoreResult<String> {
        self.get(column)
    }

    pub fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        self.get(column)
    }

    pub fn bool(&self, column: &str) -> StoreResult<bool> {
        self.get(column)
    }

    pub fn time(&self, column: &str) -> StoreResult<DateTime<Utc>> {
        self.opt_time(column)?
            .ok_or_else(|| StoreError::Corrupt(format!("{column} is empty")))
    }

    pub fn opt_time(&self, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
        match self {
            Row::Sqlite(row) => row.try_get::<Option<i64>, _>(column)?.map(from_millis).transpose(),
            Row::Postgres(row) => Ok(row.try_get(column)?),
        }
    }

    /// A text column naming a domain value; anything `parse` refuses is corruption.
    pub fn parsed<T>(&self, column: &str, parse: impl FnOnce(&str) -> Option<T>) -> StoreResult<T> {
        let text = self.text(column)?;
        parse(&text).ok_or_else(|| StoreError::Corrupt(format!("{column} {text:?}")))
    }

    /// A nullable text column naming a domain value.
    pub fn opt_parsed<T>(&self, column: &str, parse: impl FnOnce(&str) -> Option<T>) -> StoreResult<Option<T>> {
        match self.opt_text(column)? {
            Some(_) => self.parsed(column, parse).map(Some),
            None => Ok(None),
        }
    }

    /// A duration kept as integer milliseconds (a negative one reads as zero).
    pub fn millis(&self, column: &str) -> StoreResult<Duration> {
        Ok(Duration::from_millis(self.int(column)?.max(0) as u64))
    }

    /// A JSON column (text on SQLite, `jsonb` on Postgres).
    pub fn json(&self, column: &str) -> StoreResult<serde_json::Value> {
        match self {
            Row::Sqlite(row) => {
                let text: String = row.try_get(column)?;
                serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
            }
            Row::Postgres(row) => Ok(row.try_get(column)?),
        }
    }
}

/// A SQLite time column's value.
fn from_millis(ms: i64) -> StoreResult<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms}")))
}
