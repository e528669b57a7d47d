//! Captured messages: messages pinned or marked in an incident channel that
//! join its timeline, followed through edits and deletions.

use chrono::{DateTime, Utc};

use super::StoreResult;
use super::UnitOfWork;
use super::sql::{Row, query};
use crate::domain::IncidentId;
use crate::domain::capture::CapturedMessage;

/// A message to capture into an incident's timeline.
#[derive(Debug, Clone)]
pub struct NewCapture<'a> {
    pub incident_id: IncidentId,
    pub channel_id: &'a str,
    pub ts: &'a str,
    pub text: Option<&'a str>,
    pub author: Option<&'a str>,
    pub captured_by: &'a str,
    pub source: &'a str,
}

macro_rules! select {
    ($condition:literal) => {
        concat!(
            "SELECT id, incident_id, channel_id, ts, body, author, permalink, captured_by, captured_at, source, \
             deleted_at FROM captured_messages ",
            $condition
        )
    };
}

fn from_row(row: &Row) -> StoreResult<CapturedMessage> {
    Ok(CapturedMessage {
        id: row.int("id")?,
        incident_id: row.int("incident_id")?,
        channel_id: row.text("channel_id")?,
        ts: row.text("ts")?,
        text: row.opt_text("body")?,
        author: row.opt_text("author")?,
        permalink: row.opt_text("permalink")?,
        captured_by: row.text("captured_by")?,
        captured_at: row.time("captured_at")?,
        source: row.text("source")?,
        deleted_at: row.opt_time("deleted_at")?,
    })
}

impl UnitOfWork {
    /// Records a captured message; `None` when that message was captured before.
    pub async fn capture_message(&mut self, capture: &NewCapture<'_>, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
        let q = query(
            "INSERT INTO captured_messages (incident_id, channel_id, ts, body, author, captured_by, captured_at, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (channel_id, ts) DO NOTHING RETURNING id",
        )
        .bind(capture.incident_id)
        .bind(capture.channel_id)
        .bind(capture.ts)
        .bind(capture.text)
        .bind(capture.author)
        .bind(capture.captured_by)
        .bind(now)
        .bind(capture.source);
        self.conn().map_optional(q, |r| r.int("id")).await
    }

    pub async fn captured(&mut self, id: i64) -> StoreResult<Option<CapturedMessage>> {
        self.conn()
            .map_optional(query(select!("WHERE id = $1")).bind(id), from_row)
            .await
    }

    pub async fn captured_at(&mut self, channel_id: &str, ts: &str) -> StoreResult<Option<CapturedMessage>> {
        let q = query(select!("WHERE channel_id = $1 AND ts = $2"))
            .bind(channel_id)
            .bind(ts);
        self.conn().map_optional(q, from_row).await
    }

    pub async fn set_captured_text(&mut self, id: i64, text: &str, author: Option<&str>) -> StoreResult<()> {
        let q = query("UPDATE captured_messages SET body = $1, author = COALESCE($2, author) WHERE id = $3");
        self.conn().run(q.bind(text).bind(author).bind(id)).await
    }

    pub async fn set_captured_permalink(&mut self, id: i64, permalink: &str) -> StoreResult<()> {
        let q = query("UPDATE captured_messages SET permalink = $1 WHERE id = $2");
        self.conn().run(q.bind(permalink).bind(id)).await
    }

    pub async fn mark_captured_deleted(&mut self, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
        let q = query("UPDATE captured_messages SET deleted_at = $1 WHERE id = $2");
        self.conn().run(q.bind(now).bind(id)).await
    }
}
