//! The outbox: Slack and vendor calls recorded in the same transaction as
//! the change that needs them, then sent one at a time per ordering key
//! (lane) by the outbox worker. Where calls are recorded (in their lane,
//! coalesced) and settled, for both engines; claiming is in
//! `outbox_claims.rs`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::sql::{Conn, Row, query};
use super::{Store, UnitOfWork};
use super::{StoreError, StoreResult, storable};
use crate::domain::IncidentId;

/// What the outbox worker must do once a call succeeded, in the same
/// transaction that marks it sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "then", rename_all = "snake_case")]
pub enum AfterSend {
    Nothing,
    /// `conversations.create` for an incident: link the channel, then invite,
    /// post the card and announce.
    IncidentChannelCreated {
        incident_id: IncidentId,
        attempt: u32,
        response_url: Option<String>,
    },
    /// The incident card was posted: remember its `ts` to edit it in place.
    IncidentCardPosted {
        incident_id: IncidentId,
    },
    /// `conversations.replies` for a captured message: keep its text, then fetch its permalink.
    CapturedText {
        captured_id: i64,
    },
    /// `chat.getPermalink` for a captured message: keep it and add the timeline entry.
    CapturedPermalink {
        captured_id: i64,
    },
    /// `conversations.replies` for a failure ticket's message: keep text and thread, then fetch the permalink.
    FailureText {
        ticket_id: i64,
        channel: String,
        ts: String,
    },
    /// `chat.getPermalink` for a failure ticket: keep it and reply in the message's thread.
    FailurePermalink {
        ticket_id: i64,
        channel: String,
        thread_ts: String,
    },
    /// The ticket's message in the thread was posted: keep its `ts` to edit it later.
    FailureReplyPosted {
        ticket_id: i64,
    },
    /// `conversations.info`: keep whether the channel is private.
    ChannelInfo {
        channel: String,
    },
    /// `usergroups.users.list` for an admin user group: replace its members.
    UsergroupMembers {
        usergroup: String,
    },
    /// A page of `conversations.members` for a private channel.
    ChannelMembers {
        channel: String,
        first_page: bool,
    },
    /// An alert routed to a ticket was posted: that post becomes its failure ticket.
    AlertTicketPosted {
        source: String,
        dedup_key: String,
    },
    /// `usergroups.users.list` for an alert source's responders: invite them.
    InviteResponders {
        channel: String,
    },
    /// An event for an alert in PagerDuty or Zenduty (`system`): record the
    /// vendor's answer and show it on the incident's card.
    AlertEvent {
        incident_id: IncidentId,
        system: String,
        dedup_key: String,
    },
    /// A Statuspage incident was created or updated: keep its id.
    StatuspageIncident {
        incident_id: IncidentId,
    },
    /// GitHub started (or a retry found) the rollback run for `request_id`:
    /// keep its URL, put it on the timeline and in the channel.
    RollbackDispatched {
        incident_id: IncidentId,
        service: String,
        request_id: String,
    },
    /// A Jira issue was created (or found) for `subject`: keep its key and
    /// say so in `channel` (in the thread `thread_ts`, if given).
    JiraIssue {
        subject: String,
        channel: Option<String>,
        thread_ts: Option<String>,
    },
}

/// A Slack Web API call to record in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxCall {
    /// Calls with the same key are sent one at a time, in id order
    /// (per-channel order).
    pub ordering_key: String,
    /// A Web API method such as `chat.postMessage`, or [`RESPONSE_URL_METHOD`].
    pub method: String,
    pub args: serde_json::Value,
    pub after_send: AfterSend,
}

/// The pseudo-method for posting to a slash command's `response_url`.
pub const RESPONSE_URL_METHOD: &str = "response_url";

/// A recorded call claimed by an outbox worker.
#[derive(Debug, Clone)]
pub struct OutboxCall {
    pub id: i64,
    pub ordering_key: String,
    pub method: String,
    pub args: serde_json::Value,
    pub after_send: AfterSend,
    /// Attempts so far, including the current one.
    pub attempts: i32,
    /// When what caused it was received (for time-to-Slack).
    pub origin_at: DateTime<Utc>,
}

/// A claimed call from its row (`RETURNING id, ordering_key, method, args, after_send, attempts`).
pub(super) fn call_from_row(row: &Row) -> StoreResult<OutboxCall> {
    let after_send = serde_json::from_value(row.json("after_send")?)
        .map_err(|e| StoreError::Corrupt(format!("outbox after_send: {e}")))?;
    Ok(OutboxCall {
        id: row.int("id")?,
        ordering_key: row.text("ordering_key")?,
        method: row.text("method")?,
        args: row.json("args")?,
        after_send,
        attempts: i32::try_from(row.int("attempts")?).map_err(|e| StoreError::Corrupt(format!("attempts: {e}")))?,
        origin_at: match row.opt_time("origin_at")? {
            Some(at) => at,
            None => row.time("created_at")?,
        },
    })
}

fn after_send_json(after_send: &AfterSend) -> StoreResult<serde_json::Value> {
    serde_json::to_value(after_send).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Makes the next waiting call of the same ordering key claimable, once the
/// call `settled_id` is sent or set aside.
async fn promote_next(conn: &mut Conn<'_>, settled_id: i64) -> StoreResult<()> {
    let q = query(
        "UPDATE outbox SET state = 'pending' WHERE id = ( \
           SELECT MIN(w.id) FROM outbox w WHERE w.state = 'waiting' \
           AND w.ordering_key = (SELECT ordering_key FROM outbox WHERE id = $1))",
    );
    conn.run(q.bind(settled_id)).await
}

impl Store {
    /// Gives a queue whose calls all wait its head back. On Postgres a call
    /// enqueued by one replica while another settled the call ahead of it
    /// can miss its promotion (neither saw the other's row); SQLite's single
    /// writer never races so.
    pub(super) async fn repair_outbox_queues(&self) -> StoreResult<()> {
        let q = query(
            "UPDATE outbox SET state = 'pending' WHERE id IN ( \
               SELECT MIN(w.id) FROM outbox w WHERE w.state = 'waiting' \
               AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.ordering_key = w.ordering_key) \
               GROUP BY w.ordering_key)",
        );
        self.write_now(q).await.map(drop)
    }
}

impl UnitOfWork {
    /// Records a call in its lane ([`crate::outbox::lanes`]); it waits
    /// behind earlier calls of that lane. A call rendered when sent is not
    /// recorded again while one like it is still queued (unclaimed); that
    /// one is locked until this transaction ends, so a replica cannot send
    /// it rendered from the state before this change.
    pub async fn enqueue(&mut self, call: &NewOutboxCall, now: DateTime<Utc>) -> StoreResult<()> {
        let lane = call.lane();
        if let Some(key) = &lane.coalesce_key {
            let queued = query(
                "SELECT id FROM outbox WHERE coalesce_key = $1 \
                 AND (state = 'waiting' OR (state = 'pending' AND claimed_until IS NULL))",
            )
            .bind(key.as_str())
            .locked("FOR UPDATE");
            if !self.conn().map_all(queued, |r| r.int("id")).await?.is_empty() {
                return Ok(());
            }
        }
        let q = query(
            "INSERT INTO outbox (ordering_key, method, args, after_send, created_at, next_attempt_at, state, \
             priority, coalesce_key, origin_at) \
             VALUES ($1, $2, $3, $4, $5, $5, CASE WHEN EXISTS (SELECT 1 FROM outbox WHERE ordering_key = $1 \
               AND state IN ('waiting', 'pending')) THEN 'waiting' ELSE 'pending' END, $6, $7, $8)",
        )
        .bind(lane.ordering_key.as_str())
        .bind(call.method.as_str())
        .bind(&call.args)
        .bind(after_send_json(&call.after_send)?)
        .bind(now)
        .bind(i64::from(lane.priority))
        .bind(lane.coalesce_key)
        .bind(self.origin.unwrap_or(now));
        self.conn().run(q).await
    }

    /// Calls recorded from now on were caused by something received at
    /// `at` (a command, an event): their time to Slack counts from it.
    pub fn caused_by_arrival_at(&mut self, at: DateTime<Utc>) {
        self.origin = Some(at);
    }

    pub async fn mark_outbox_sent(
        &mut self,
        id: i64,
        now: DateTime<Utc>,
        response: &serde_json::Value,
    ) -> StoreResult<()> {
        let mut conn = self.conn();
        let q =
            query("UPDATE outbox SET state = 'sent', sent_at = $1, claimed_until = NULL, response = $2 WHERE id = $3");
        conn.execute(q.bind(now).bind(response).bind(id)).await?;
        promote_next(&mut conn, id).await
    }

    /// Schedules another attempt, optionally rewriting the call (e.g. a new channel name).
    pub async fn retry_outbox(
        &mut self,
        id: i64,
        at: DateTime<Utc>,
        error: &str,
        rewrite: Option<(&serde_json::Value, &AfterSend)>,
    ) -> StoreResult<()> {
        let after_send = rewrite.map(|(_, after_send)| after_send_json(after_send)).transpose()?;
        let q = query(
            "UPDATE outbox SET claimed_until = NULL, next_attempt_at = $1, last_error = $2, \
             args = COALESCE($3, args), after_send = COALESCE($4, after_send) WHERE id = $5",
        )
        .bind(at)
        .bind(storable(error).as_ref())
        .bind(rewrite.map(|(args, _)| args))
        .bind(after_send.as_ref())
        .bind(id);
        self.conn().run(q).await
    }

    /// Sets a call aside for good; the next call of its key goes on.
    pub async fn fail_outbox(&mut self, id: i64, error: &str) -> StoreResult<()> {
        let mut conn = self.conn();
        let q = query("UPDATE outbox SET state = 'failed', claimed_until = NULL, last_error = $1 WHERE id = $2");
        conn.execute(q.bind(storable(error).as_ref()).bind(id)).await?;
        promote_next(&mut conn, id).await
    }

    /// Puts a claimed call back until `at` without counting an attempt (pacing).
    pub async fn defer_outbox(&mut self, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
        let q = query(
            "UPDATE outbox SET claimed_until = NULL, next_attempt_at = $1, attempts = attempts - 1 WHERE id = $2",
        );
        self.conn().run(q.bind(at).bind(id)).await
    }
}
