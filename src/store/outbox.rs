//! The outbox: Slack calls recorded in the same transaction as the change
//! that needs them, then sent one at a time per ordering key (channel) by the
//! outbox worker. Where calls are recorded, settled and found due, for both
//! engines; claiming stays with each engine (lock clause, single writer).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::sql::{Conn, Engine, Row, query};
use super::{Store, UnitOfWork};
use super::{StoreError, StoreResult, storable};
use crate::domain::{IncidentId, clock};

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
    })
}

impl Store {
    /// When the next pending call may be sent, if any.
    pub async fn next_outbox_due(&self) -> StoreResult<Option<DateTime<Utc>>> {
        self.read_time(query(
            "SELECT MIN(next_attempt_at) AS at FROM outbox WHERE state = 'pending'",
        ))
        .await
    }

    /// Leases the next call of each ordering key that is due, oldest first.
    /// Postgres replicas skip rows another is claiming; SQLite's single
    /// writer needs no lock.
    pub async fn claim_outbox(
        &self,
        replica: &str,
        limit: i64,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<Vec<OutboxCall>> {
        let mut writer = self.write().await?;
        let mut conn = writer.conn();
        let q = match conn.engine() {
            Engine::Sqlite => query(
                "UPDATE outbox SET claimed_until = $1, claimed_by = $4, attempts = attempts + 1 WHERE id IN ( \
                   SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $2 \
                   AND (claimed_until IS NULL OR claimed_until <= $2) ORDER BY id LIMIT $3) \
                 RETURNING id, ordering_key, method, args, after_send, attempts",
            ),
            Engine::Postgres => query(
                "UPDATE outbox SET claimed_until = $1, claimed_by = $4, attempts = attempts + 1 WHERE id IN ( \
                   SELECT o.id FROM outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= $2 \
                   AND (o.claimed_until IS NULL OR o.claimed_until <= $2) ORDER BY o.id LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, ordering_key, method, args, after_send, attempts",
            ),
        };
        let q = q.bind(clock::later(now, lease)).bind(now).bind(limit).bind(replica);
        let mut calls = conn.map_all(q, call_from_row).await?;
        calls.sort_by_key(|call| call.id);
        Ok(calls)
    }

    /// Extends the leases of the calls `replica` has in flight to `until`:
    /// the heartbeat that lets leases be short.
    pub async fn renew_claims(&self, replica: &str, until: DateTime<Utc>) -> StoreResult<u64> {
        let q = query(
            "UPDATE outbox SET claimed_until = $1 WHERE claimed_by = $2 AND claimed_until IS NOT NULL \
             AND state = 'pending'",
        );
        self.write_now(q.bind(until).bind(replica)).await
    }

    /// At start: takes back the claims a previous run left (it was killed
    /// mid-call), so their calls go out now rather than when the lease
    /// expires. On SQLite every claim is this process's (it is the only
    /// one); on Postgres only those of this replica's name.
    pub async fn release_claims(&self, replica: &str) -> StoreResult<u64> {
        let mut writer = self.write().await?;
        let mut conn = writer.conn();
        let q = match conn.engine() {
            Engine::Sqlite => query("UPDATE outbox SET claimed_until = NULL WHERE claimed_until IS NOT NULL"),
            Engine::Postgres => {
                query("UPDATE outbox SET claimed_until = NULL WHERE claimed_until IS NOT NULL AND claimed_by = $1")
                    .bind(replica)
            }
        };
        conn.execute(q).await
    }
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

impl UnitOfWork {
    /// Records a call; it waits behind earlier calls with the same ordering key.
    pub async fn enqueue(&mut self, call: &NewOutboxCall, now: DateTime<Utc>) -> StoreResult<()> {
        let q = query(
            "INSERT INTO outbox (ordering_key, method, args, after_send, created_at, next_attempt_at, state) \
             VALUES ($1, $2, $3, $4, $5, $5, CASE WHEN EXISTS (SELECT 1 FROM outbox WHERE ordering_key = $1 \
               AND state IN ('waiting', 'pending')) THEN 'waiting' ELSE 'pending' END)",
        )
        .bind(call.ordering_key.as_str())
        .bind(call.method.as_str())
        .bind(&call.args)
        .bind(after_send_json(&call.after_send)?)
        .bind(now);
        self.conn().run(q).await
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
