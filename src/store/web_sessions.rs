//! Sign in with Slack's state: logins in progress (`state` → `nonce`, used
//! once) and sessions (by the SHA-256 of the cookie's token; expiring,
//! revocable). Small writes, on the writer like everything else.

use chrono::{DateTime, Utc};

use super::sql::{Row, query};
use super::{Store, StoreResult};

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub user_id: String,
    pub team_id: String,
    pub name: String,
    /// The token every form of this session must carry.
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

fn session_from_row(row: &Row) -> StoreResult<WebSession> {
    Ok(WebSession {
        user_id: row.text("user_id")?,
        team_id: row.text("team_id")?,
        name: row.text("name")?,
        csrf: row.text("csrf")?,
        expires_at: row.time("expires_at")?,
    })
}

impl Store {
    /// Remembers a login Rebound sent to Slack.
    pub async fn begin_login(&self, state: &str, nonce: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let q = query("INSERT INTO web_logins (state, nonce, created_at) VALUES ($1, $2, $3)");
        self.write_now(q.bind(state).bind(nonce).bind(now)).await.map(drop)
    }

    /// Takes the login `state` names if it began after `since`: its nonce.
    /// A state works once; older ones are dropped on the way.
    pub async fn take_login(&self, state: &str, since: DateTime<Utc>) -> StoreResult<Option<String>> {
        self.write_now(query("DELETE FROM web_logins WHERE created_at <= $1").bind(since))
            .await?;
        let q = query("DELETE FROM web_logins WHERE state = $1 RETURNING nonce").bind(state);
        self.write().await?.conn().map_optional(q, |r| r.text("nonce")).await
    }

    pub async fn create_session(&self, token_hash: &str, session: &WebSession, now: DateTime<Utc>) -> StoreResult<()> {
        let q = query(
            "INSERT INTO web_sessions (token_hash, user_id, team_id, name, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token_hash)
        .bind(session.user_id.as_str())
        .bind(session.team_id.as_str())
        .bind(session.name.as_str())
        .bind(session.csrf.as_str())
        .bind(now)
        .bind(session.expires_at);
        self.write_now(q).await.map(drop)
    }

    /// The live session whose token hashes to `token_hash`.
    pub async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<WebSession>> {
        let q = query(
            "SELECT user_id, team_id, name, csrf, expires_at FROM web_sessions \
             WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
        );
        self.read_one(q.bind(token_hash).bind(now), session_from_row).await
    }

    /// Ends one session (logout).
    pub async fn revoke_session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let q = query("UPDATE web_sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL");
        self.write_now(q.bind(now).bind(token_hash)).await.map(drop)
    }

    /// Ends every live session (a leaked cookie, a rotated client secret); how many.
    pub async fn revoke_all_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let q = query("UPDATE web_sessions SET revoked_at = $1 WHERE revoked_at IS NULL AND expires_at > $1");
        self.write_now(q.bind(now)).await
    }

    /// The sessions still live at `now`, newest first, with when each began.
    pub async fn live_sessions(&self, now: DateTime<Utc>) -> StoreResult<Vec<(DateTime<Utc>, WebSession)>> {
        let q = query(
            "SELECT user_id, team_id, name, csrf, created_at, expires_at FROM web_sessions \
             WHERE revoked_at IS NULL AND expires_at > $1 ORDER BY created_at DESC",
        );
        self.read_all(q.bind(now), |row| Ok((row.time("created_at")?, session_from_row(row)?)))
            .await
    }

    /// Ends every session of `user_id` (someone left the team); how many.
    pub async fn revoke_sessions_of(&self, user_id: &str, now: DateTime<Utc>) -> StoreResult<u64> {
        let q = query("UPDATE web_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL");
        self.write_now(q.bind(now).bind(user_id)).await
    }
}
