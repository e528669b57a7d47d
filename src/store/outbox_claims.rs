//! Claiming outbox calls: which are due, leasing them to this replica
//! (`FOR UPDATE SKIP LOCKED` on Postgres; SQLite's single writer needs no
//! lock), renewing and releasing leases, and folding lines queued behind a
//! message into it when the channel is behind. Recording and settling
//! calls is in `outbox.rs`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::outbox::{OutboxCall, call_from_row};
use super::sql::{Engine, query};
use super::{Store, StoreResult};
use crate::domain::clock;

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
                   AND (claimed_until IS NULL OR claimed_until <= $2) ORDER BY priority, id LIMIT $3) \
                 RETURNING id, ordering_key, method, args, after_send, attempts, origin_at, created_at",
            ),
            Engine::Postgres => query(
                "UPDATE outbox SET claimed_until = $1, claimed_by = $4, attempts = attempts + 1 WHERE id IN ( \
                   SELECT o.id FROM outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= $2 \
                   AND (o.claimed_until IS NULL OR o.claimed_until <= $2) ORDER BY o.priority, o.id LIMIT $3 \
                   FOR UPDATE SKIP LOCKED) \
                 RETURNING id, ordering_key, method, args, after_send, attempts, origin_at, created_at",
            ),
        };
        let q = q.bind(clock::later(now, lease)).bind(now).bind(limit).bind(replica);
        let mut calls = conn.map_all(q, call_from_row).await?;
        calls.sort_by_key(|call| call.id);
        Ok(calls)
    }

    /// When the channel is behind, folds the plain lines queued right behind
    /// `head` (same lane, text only, nothing to do after) into it, up to
    /// `max_lines` and `max_chars`: one message instead of one a second.
    /// The merged calls are marked sent and the head's text rewritten in one
    /// transaction before anything is sent, so a retry after a crash sends
    /// the same combined message (and finds it by the head's id).
    pub async fn merge_queued_lines(
        &self,
        head: &OutboxCall,
        max_lines: i64,
        max_chars: usize,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<serde_json::Value>> {
        let Some(mut text) = plain_text(&head.args).map(str::to_string) else {
            return Ok(None);
        };
        // Read first, off the writer: most sends have nothing queued behind.
        // Waiting calls change only when the head (claimed by this worker)
        // settles, so what is read here still holds when written.
        let queued = query(
            "SELECT id, args, after_send FROM outbox WHERE ordering_key = $1 AND state = 'waiting' \
             AND method = 'chat.postMessage' ORDER BY id LIMIT $2",
        )
        .bind(head.ordering_key.as_str())
        .bind(max_lines);
        let rows = self
            .read_all(queued, |r| Ok((r.int("id")?, r.json("args")?, r.json("after_send")?)))
            .await?;
        let mut merged = Vec::new();
        for (id, args, after_send) in rows {
            let line = plain_text(&args).filter(|_| args["channel"] == head.args["channel"]);
            let nothing_after = after_send["then"] == "nothing";
            match line {
                Some(line) if nothing_after && text.len() + line.len() < max_chars => {
                    text = format!("{text}\n{line}");
                    merged.push(id);
                }
                _ => break,
            }
        }
        if merged.is_empty() {
            return Ok(None);
        }
        let mut args = head.args.clone();
        args["text"] = serde_json::Value::String(text);
        let mut uow = self.begin().await?;
        uow.conn()
            .run(
                query("UPDATE outbox SET args = $1 WHERE id = $2")
                    .bind(&args)
                    .bind(head.id),
            )
            .await?;
        for id in merged {
            let q = query(
                "UPDATE outbox SET state = 'sent', sent_at = $1, response = $2 WHERE id = $3 AND state = 'waiting'",
            );
            let response = serde_json::json!({ "ok": true, "merged_into": head.id });
            uow.conn().run(q.bind(now).bind(&response).bind(id)).await?;
        }
        uow.commit().await?;
        Ok(Some(args))
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

/// The text of a message that is only text (no blocks, no thread, no
/// attachments): such messages can share one post.
fn plain_text(args: &serde_json::Value) -> Option<&str> {
    let only_text = args
        .as_object()?
        .keys()
        .all(|key| ["channel", "text", "unfurl_links", "unfurl_media", "mrkdwn"].contains(&key.as_str()));
    only_text.then(|| args["text"].as_str()).flatten()
}
