//! Recurrences: which earlier failure tickets a ticket repeats. Matching
//! reads word keys outside any transaction (`recurrence_candidates`); what
//! it found is recorded inside one.

use chrono::{DateTime, Utc};

use super::candidate_from_parts;
use super::sql::{Row, query};
use super::tickets::ticket_from_row;
use super::{Store, StoreResult, UnitOfWork};
use crate::domain::failure::Ticket;
use crate::domain::recurrence::{self, Candidate, Recurrence};

impl Store {
    /// Every ticket captured since `since`: when, and whether it repeats an earlier one.
    pub async fn ticket_recurrence_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<(DateTime<Utc>, bool)>> {
        let q = query(
            "SELECT t.captured_at, EXISTS (SELECT 1 FROM failure_recurrences r WHERE r.ticket_id = t.id) AS recurring \
             FROM failure_tickets t WHERE t.captured_at >= $1",
        );
        let capture = |r: &Row| Ok((r.time("captured_at")?, r.bool("recurring")?));
        self.read_all(q.bind(since), capture).await
    }

    /// The earlier tickets a ticket repeats, oldest first.
    pub async fn recurrences_of(&self, id: i64) -> StoreResult<Vec<Ticket>> {
        let q = query(select_tickets!(
            "JOIN failure_recurrences r ON r.earlier_id = t.id WHERE r.ticket_id = $1 ORDER BY t.id"
        ));
        self.read_all(q.bind(id), ticket_from_row).await
    }

    /// Ticket `id` and the `window` tickets captured before it, as
    /// recurrence matching sees them (word keys, no text), newest first.
    /// Read outside any write transaction: matching is CPU work.
    pub async fn recurrence_candidates(&self, id: i64, window: i64) -> StoreResult<Vec<Candidate>> {
        let q = query(
            "SELECT t.id, (SELECT string_agg(tag, ',') FROM failure_ticket_tags WHERE ticket_id = t.id) AS tags, \
             t.words, CASE WHEN t.words IS NULL THEN substr(t.body, 1, CAST($1 AS INTEGER)) END AS head \
             FROM failure_tickets t WHERE t.id <= $2 ORDER BY t.id DESC LIMIT $3",
        )
        .bind(recurrence::MAX_COMPARED_CHARS as i64)
        .bind(id)
        .bind(window.saturating_add(1));
        let candidate = |r: &Row| {
            Ok(candidate_from_parts(
                r.int("id")?,
                r.opt_text("tags")?,
                r.opt_text("words")?,
                r.opt_text("head")?,
            ))
        };
        self.read_all(q, candidate).await
    }
}

impl UnitOfWork {
    /// `(earlier ticket, tag)` for each of ticket `id`'s saved tags that one
    /// of the `window` most recent such pairs before it shares.
    pub async fn tags_shared_with_earlier(&mut self, id: i64, window: i64) -> StoreResult<Vec<(i64, String)>> {
        let q = query(
            "SELECT e.ticket_id, e.tag FROM failure_ticket_tags e \
             JOIN failure_ticket_tags own ON own.tag = e.tag AND own.ticket_id = $1 \
             WHERE e.ticket_id < $1 ORDER BY e.ticket_id DESC LIMIT $2",
        );
        let pair = |r: &Row| Ok((r.int("ticket_id")?, r.text("tag")?));
        self.conn().map_all(q.bind(id).bind(window), pair).await
    }

    /// Records that a ticket repeats earlier ones; returns the ids not recorded before.
    pub async fn add_recurrences(
        &mut self,
        ticket_id: i64,
        found: &[Recurrence],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>> {
        let mut conn = self.conn();
        let mut added = Vec::new();
        for recurrence in found {
            let q = query(
                "INSERT INTO failure_recurrences (ticket_id, earlier_id, reason, found_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(ticket_id)
            .bind(recurrence.earlier_id)
            .bind(recurrence.reason.describe())
            .bind(now);
            if conn.execute(q).await? > 0 {
                added.push(recurrence.earlier_id);
            }
        }
        Ok(added)
    }
}
