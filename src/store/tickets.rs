//! Failure tickets: where a flagged message's ticket, its tags and earlier
//! texts are saved and read, for both engines (recurrences: `recurrences.rs`).

use chrono::{DateTime, Utc};

use super::sql::{Conn, Row, query};
use super::{NewFailure, StoreResult, TicketFilter};
use super::{Store, UnitOfWork};
use super::{severity_score, split_tags, split_whys};
use crate::domain::IncidentId;
use crate::domain::failure::{Ticket, TicketStatus};
use crate::domain::recurrence;

/// `SELECT … FROM failure_tickets t` with the tags folded into one column.
/// A ticket is private when its incident is, when Slack says its channel
/// is, and (failing closed) while Slack has not said yet.
macro_rules! select_tickets {
    ($condition:literal) => {
        concat!(
            "SELECT t.id, t.channel_id, t.ts, t.body, t.author, t.permalink, t.reporter, t.captured_at, t.incident_id, \
             t.status, t.owner, t.lesson, t.closed_at, t.source_deleted_at, t.thread_ts, t.severity_score, \
             t.customer_impact, t.five_whys, t.root_cause, t.reply_ts, \
             (EXISTS (SELECT 1 FROM incidents i WHERE i.id = t.incident_id AND i.private) \
              OR EXISTS (SELECT 1 FROM channels c WHERE c.channel_id = t.channel_id AND c.is_private) \
              OR (t.incident_id IS NULL AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.channel_id = t.channel_id))) \
             AS private_channel, \
             (SELECT string_agg(tag, ',') FROM failure_ticket_tags WHERE ticket_id = t.id) AS tags \
             FROM failure_tickets t ",
            $condition
        )
    };
}

pub(super) fn ticket_from_row(row: &Row) -> StoreResult<Ticket> {
    Ok(Ticket {
        id: row.int("id")?,
        channel_id: row.text("channel_id")?,
        ts: row.text("ts")?,
        text: row.opt_text("body")?,
        author: row.opt_text("author")?,
        permalink: row.opt_text("permalink")?,
        reporter: row.text("reporter")?,
        captured_at: row.time("captured_at")?,
        incident_id: row.opt_int("incident_id")?,
        status: row.parsed("status", TicketStatus::parse)?,
        owner: row.opt_text("owner")?,
        tags: split_tags(row.opt_text("tags")?),
        lesson: row.opt_text("lesson")?,
        closed_at: row.opt_time("closed_at")?,
        source_deleted_at: row.opt_time("source_deleted_at")?,
        thread_ts: row.opt_text("thread_ts")?,
        severity_score: severity_score(row.opt_int("severity_score")?),
        customer_impact: row.opt_text("customer_impact")?,
        five_whys: split_whys(row.opt_text("five_whys")?),
        root_cause: row.opt_text("root_cause")?,
        reply_ts: row.opt_text("reply_ts")?,
        private: row.bool("private_channel")?,
    })
}

async fn tickets_where(conn: &mut Conn<'_>, filter: &TicketFilter) -> StoreResult<Vec<Ticket>> {
    let q = match filter {
        TicketFilter::Open => query(select_tickets!(
            "WHERE t.status <> 'closed' ORDER BY t.id DESC LIMIT 50"
        )),
        TicketFilter::OwnedBy(owner) => query(select_tickets!(
            "WHERE t.status <> 'closed' AND t.owner = $1 ORDER BY t.id DESC LIMIT 50"
        ))
        .bind(owner),
        TicketFilter::Tagged(tag) => query(select_tickets!(
            "WHERE t.status <> 'closed' \
             AND EXISTS (SELECT 1 FROM failure_ticket_tags g WHERE g.ticket_id = t.id AND g.tag = $1) \
             ORDER BY t.id DESC LIMIT 50"
        ))
        .bind(tag),
    };
    conn.map_all(q, ticket_from_row).await
}

impl Store {
    /// Up to 50 tickets matching `filter`, newest first.
    pub async fn tickets(&self, filter: &TicketFilter) -> StoreResult<Vec<Ticket>> {
        tickets_where(&mut self.read().await?.conn(), filter).await
    }

    pub async fn ticket(&self, id: i64) -> StoreResult<Option<Ticket>> {
        let q = query(select_tickets!("WHERE t.id = $1")).bind(id);
        self.read_one(q, ticket_from_row).await
    }

    /// The backlog the dashboard lists: tickets of `status` (any when
    /// `None`), with `tag`, owned by `owner`, newest first, at most `limit`.
    pub async fn ticket_backlog(
        &self,
        status: Option<&str>,
        tag: Option<&str>,
        owner: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<Ticket>> {
        let q = query(select_tickets!(
            "WHERE (COALESCE($1, '') = '' OR t.status = $1) \
             AND (COALESCE($2, '') = '' OR EXISTS (SELECT 1 FROM failure_ticket_tags g WHERE g.ticket_id = t.id AND g.tag = $2)) \
             AND (COALESCE($3, '') = '' OR t.owner = $3) \
             ORDER BY t.id DESC LIMIT $4"
        ))
        .bind(status)
        .bind(tag)
        .bind(owner)
        .bind(limit);
        self.read_all(q, ticket_from_row).await
    }

    /// Earlier texts of a ticket's message, oldest first.
    pub async fn ticket_history(&self, id: i64) -> StoreResult<Vec<String>> {
        let q = query("SELECT body FROM failure_ticket_history WHERE ticket_id = $1 ORDER BY replaced_at").bind(id);
        self.read_all(q, |r| r.text("body")).await
    }

    /// Tickets still open (never triaged) that were captured before `captured_before`, oldest first (at most 50).
    pub async fn untriaged_tickets(&self, captured_before: DateTime<Utc>) -> StoreResult<Vec<Ticket>> {
        let q = query(select_tickets!(
            "WHERE t.status = 'open' AND t.captured_at < $1 ORDER BY t.captured_at LIMIT 50"
        ));
        self.read_all(q.bind(captured_before), ticket_from_row).await
    }

    /// Owners by number of tickets not closed, most first.
    pub async fn open_ticket_owners(&self, limit: i64) -> StoreResult<Vec<(String, i64)>> {
        let q = query(
            "SELECT owner, COUNT(*) AS tickets FROM failure_tickets WHERE status <> 'closed' AND owner IS NOT NULL \
             GROUP BY owner ORDER BY tickets DESC, owner LIMIT $1",
        );
        let owner = |r: &Row| Ok((r.text("owner")?, r.int("tickets")?));
        self.read_all(q.bind(limit), owner).await
    }

    /// The tickets captured in an incident's channel, oldest first.
    pub async fn incident_tickets(&self, id: IncidentId) -> StoreResult<Vec<Ticket>> {
        let q = query(select_tickets!("WHERE t.incident_id = $1 ORDER BY t.id")).bind(id);
        self.read_all(q, ticket_from_row).await
    }
}

impl UnitOfWork {
    /// Records a flagged message; `None` when that message already has a ticket.
    pub async fn capture_failure(&mut self, failure: &NewFailure<'_>, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
        let q = query(
            "INSERT INTO failure_tickets (channel_id, ts, author, reporter, captured_at, incident_id) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_id, ts) DO NOTHING RETURNING id",
        )
        .bind(failure.channel_id)
        .bind(failure.ts)
        .bind(failure.author)
        .bind(failure.reporter)
        .bind(now)
        .bind(failure.incident_id);
        self.conn().map_optional(q, |r| r.int("id")).await
    }

    /// The flagged message's text arrived (its word key is stored with it).
    pub async fn set_ticket_source(
        &mut self,
        id: i64,
        text: &str,
        author: Option<&str>,
        thread_ts: Option<&str>,
    ) -> StoreResult<()> {
        let q = query(
            "UPDATE failure_tickets SET body = $1, words = $2, author = COALESCE($3, author), thread_ts = $4 WHERE id = $5",
        )
        .bind(text)
        .bind(recurrence::word_key(text))
        .bind(author)
        .bind(thread_ts)
        .bind(id);
        self.conn().run(q).await
    }

    pub async fn set_ticket_permalink(&mut self, id: i64, permalink: &str) -> StoreResult<()> {
        let q = query("UPDATE failure_tickets SET permalink = $1 WHERE id = $2");
        self.conn().run(q.bind(permalink).bind(id)).await
    }

    /// Where the ticket's own message in the thread is (`ts`).
    pub async fn set_ticket_reply(&mut self, id: i64, reply_ts: &str) -> StoreResult<()> {
        let q = query("UPDATE failure_tickets SET reply_ts = $1 WHERE id = $2");
        self.conn().run(q.bind(reply_ts).bind(id)).await
    }

    /// The source message of a ticket was edited: keep the old text, store the new. False if no ticket.
    pub async fn ticket_source_edited(
        &mut self,
        channel_id: &str,
        ts: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut conn = self.conn();
        let keep = query(
            "INSERT INTO failure_ticket_history (ticket_id, body, replaced_at) \
             SELECT id, body, $1 FROM failure_tickets WHERE channel_id = $2 AND ts = $3 AND body IS NOT NULL",
        );
        conn.execute(keep.bind(now).bind(channel_id).bind(ts)).await?;
        let replace = query("UPDATE failure_tickets SET body = $1, words = $2 WHERE channel_id = $3 AND ts = $4")
            .bind(text)
            .bind(recurrence::word_key(text))
            .bind(channel_id)
            .bind(ts);
        Ok(conn.execute(replace).await? > 0)
    }

    /// The source message of a ticket was deleted; the ticket stays.
    pub async fn ticket_source_deleted(&mut self, channel_id: &str, ts: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let q = query("UPDATE failure_tickets SET source_deleted_at = $1 WHERE channel_id = $2 AND ts = $3");
        self.conn().run(q.bind(now).bind(channel_id).bind(ts)).await
    }

    /// A failure ticket, locked until the transaction ends.
    pub async fn ticket(&mut self, id: i64) -> StoreResult<Option<Ticket>> {
        let q = query(select_tickets!("WHERE t.id = $1")).locked("FOR UPDATE OF t");
        self.conn().map_optional(q.bind(id), ticket_from_row).await
    }

    /// Writes everything a [`TicketChange`](crate::domain::failure::TicketChange) can change, tags included.
    pub async fn save_ticket(&mut self, ticket: &Ticket) -> StoreResult<()> {
        let mut conn = self.conn();
        let q = query(
            "UPDATE failure_tickets SET status = $1, owner = $2, lesson = $3, closed_at = $4, severity_score = $5, \
             customer_impact = $6, five_whys = $7, root_cause = $8 WHERE id = $9",
        )
        .bind(ticket.status.as_str())
        .bind(ticket.owner.as_deref())
        .bind(ticket.lesson.as_deref())
        .bind(ticket.closed_at)
        .bind(ticket.severity_score.map(i64::from))
        .bind(ticket.customer_impact.as_deref())
        .bind((!ticket.five_whys.is_empty()).then(|| ticket.five_whys.join("\n")))
        .bind(ticket.root_cause.as_deref())
        .bind(ticket.id);
        conn.execute(q).await?;
        conn.execute(query("DELETE FROM failure_ticket_tags WHERE ticket_id = $1").bind(ticket.id))
            .await?;
        for tag in &ticket.tags {
            let q = query("INSERT INTO failure_ticket_tags (ticket_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING");
            conn.execute(q.bind(ticket.id).bind(tag)).await?;
        }
        Ok(())
    }
}
