//! What Slack said about channels and user groups: whether a channel is
//! private, who is in a private channel, who is in an admin user group.
//! Filled by the outbox's follow-ups (`outbox/channels.rs`,
//! `outbox/usergroups.rs`) and member events; read to decide who may see
//! private content and who steers as an admin.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::StoreResult;
use super::sql::query;
use super::{Store, UnitOfWork};

const USERGROUPS_OF: &str = "SELECT usergroup_id FROM usergroup_members WHERE user_id = $1";

impl UnitOfWork {
    /// When Slack last said whether `channel_id` is private; `None` if never.
    pub async fn channel_checked_at(&mut self, channel_id: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let q = query("SELECT checked_at FROM channels WHERE channel_id = $1").bind(channel_id);
        self.conn().map_optional(q, |row| row.time("checked_at")).await
    }

    /// Records what `conversations.info` said of a channel.
    pub async fn record_channel(&mut self, channel_id: &str, is_private: bool, now: DateTime<Utc>) -> StoreResult<()> {
        let q = query(
            "INSERT INTO channels (channel_id, is_private, checked_at) VALUES ($1, $2, $3) \
             ON CONFLICT (channel_id) DO UPDATE SET is_private = excluded.is_private, checked_at = excluded.checked_at",
        );
        self.conn().run(q.bind(channel_id).bind(is_private).bind(now)).await
    }

    /// Adds a page of `conversations.members`; the first page replaces what was known.
    pub async fn add_channel_members(
        &mut self,
        channel_id: &str,
        members: &[String],
        first_page: bool,
    ) -> StoreResult<()> {
        if first_page {
            let q = query("DELETE FROM channel_members WHERE channel_id = $1").bind(channel_id);
            self.conn().execute(q).await?;
        }
        for member in members {
            self.member_joined(channel_id, member).await?;
        }
        Ok(())
    }

    /// `member_joined_channel`: kept for private channels Rebound knows.
    pub async fn member_joined(&mut self, channel_id: &str, user_id: &str) -> StoreResult<()> {
        let q = query(
            "INSERT INTO channel_members (channel_id, user_id) \
             SELECT channel_id, $1 FROM channels WHERE channel_id = $2 AND is_private \
             ON CONFLICT DO NOTHING",
        );
        self.conn().run(q.bind(user_id).bind(channel_id)).await
    }

    /// `member_left_channel`.
    pub async fn member_left(&mut self, channel_id: &str, user_id: &str) -> StoreResult<()> {
        let q = query("DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2");
        self.conn().run(q.bind(channel_id).bind(user_id)).await
    }

    /// Is `user_id` a member of `channel_id`, as far as Slack has told us?
    pub async fn is_member(&mut self, channel_id: &str, user_id: &str) -> StoreResult<bool> {
        let q = query("SELECT 1 AS one FROM channel_members WHERE channel_id = $1 AND user_id = $2");
        let found = self
            .conn()
            .map_optional(q.bind(channel_id).bind(user_id), |_| Ok(()))
            .await?;
        Ok(found.is_some())
    }

    /// Replaces what is known of a user group's members.
    pub async fn set_usergroup_members(&mut self, usergroup_id: &str, members: &[String]) -> StoreResult<()> {
        let mut conn = self.conn();
        conn.execute(query("DELETE FROM usergroup_members WHERE usergroup_id = $1").bind(usergroup_id))
            .await?;
        for member in members {
            let q =
                query("INSERT INTO usergroup_members (usergroup_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING");
            conn.execute(q.bind(usergroup_id).bind(member)).await?;
        }
        Ok(())
    }

    /// The user groups `user_id` is in, of those Rebound follows.
    pub async fn usergroups_of(&mut self, user_id: &str) -> StoreResult<BTreeSet<String>> {
        let q = query(USERGROUPS_OF).bind(user_id);
        let rows = self.conn().map_all(q, |r| r.text("usergroup_id")).await?;
        Ok(rows.into_iter().collect())
    }
}

impl Store {
    /// The user groups `user_id` is in, of those Rebound follows.
    pub async fn usergroups_of(&self, user_id: &str) -> StoreResult<BTreeSet<String>> {
        let q = query(USERGROUPS_OF).bind(user_id);
        Ok(self
            .read_all(q, |r| r.text("usergroup_id"))
            .await?
            .into_iter()
            .collect())
    }

    /// The private channels `user_id` is a member of, as far as Slack has told us.
    pub async fn private_channels_of(&self, user_id: &str) -> StoreResult<BTreeSet<String>> {
        let q = query(
            "SELECT m.channel_id FROM channel_members m JOIN channels c ON c.channel_id = m.channel_id \
             WHERE m.user_id = $1 AND c.is_private",
        );
        let rows = self.read_all(q.bind(user_id), |r| r.text("channel_id")).await?;
        Ok(rows.into_iter().collect())
    }

    /// Channels with failure tickets (outside incident channels) whose
    /// privacy Slack has not told us yet, at most `limit`.
    pub async fn channels_without_info(&self, limit: i64) -> StoreResult<Vec<String>> {
        let q = query(
            "SELECT DISTINCT t.channel_id FROM failure_tickets t WHERE t.incident_id IS NULL \
             AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.channel_id = t.channel_id) \
             ORDER BY t.channel_id LIMIT $1",
        );
        self.read_all(q.bind(limit), |r| r.text("channel_id")).await
    }
}
