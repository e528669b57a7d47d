//! What Rebound learns about channels from Slack: whether one is private
//! (`conversations.info`) and, for a private one, who is in it
//! (`conversations.members`, page by page). `member_joined_channel` and
//! `member_left_channel` keep the members current afterwards
//! (`dispatcher/events.rs`). Until Slack has answered, a channel's tickets
//! count as private: unknown fails closed.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::store::{AfterSend, NewOutboxCall, Store, StoreError, UnitOfWork};

/// How long Slack's word on a channel's privacy holds before a new capture
/// asks again (channels can be converted to private).
pub const RECHECK_AFTER: chrono::Duration = chrono::Duration::hours(24);
/// Members asked for per page (Slack allows up to 1,000; 200 is its advice).
const MEMBERS_PAGE: u32 = 200;

/// Asks Slack whether `channel` is private, unless it said so recently.
/// Ordered before the reads of the channel's messages, so privacy is known
/// before anything the channel said is shown.
pub async fn learn(uow: &mut UnitOfWork, channel: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    let checked = uow.channel_checked_at(channel).await?;
    if checked.is_some_and(|at| now.signed_duration_since(at) < RECHECK_AFTER) {
        return Ok(());
    }
    uow.enqueue(&info_call(channel), now).await
}

/// Channels asked about per start (more follow on the next start; new
/// captures ask for themselves).
const UNKNOWN_PER_START: i64 = 1000;

/// Asks Slack about the channels of tickets captured before Rebound kept
/// channel privacy (an upgraded database): until it answers, their tickets
/// count as private. Harmless when several replicas start at once.
pub async fn learn_unknown(store: &Store) -> Result<(), StoreError> {
    let unknown = store.channels_without_info(UNKNOWN_PER_START).await?;
    if unknown.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let mut uow = store.begin().await?;
    for channel in &unknown {
        uow.enqueue(&info_call(channel), now).await?;
    }
    uow.commit().await?;
    tracing::info!(
        channels = unknown.len(),
        "asking Slack which channels with failure tickets are private"
    );
    Ok(())
}

/// `conversations.info` for `channel`.
pub fn info_call(channel: &str) -> NewOutboxCall {
    NewOutboxCall {
        ordering_key: format!("read:{channel}"),
        method: "conversations.info".into(),
        args: json!({ "channel": channel }),
        after_send: AfterSend::ChannelInfo {
            channel: channel.to_string(),
        },
    }
}

/// One page of `conversations.members`, in the channel's own queue so that
/// it follows the invitations made before it.
pub fn members_call(channel: &str, cursor: Option<&str>) -> NewOutboxCall {
    let mut args = json!({ "channel": channel, "limit": MEMBERS_PAGE });
    if let Some(cursor) = cursor {
        args["cursor"] = json!(cursor);
    }
    NewOutboxCall {
        ordering_key: format!("channel:{channel}"),
        method: "conversations.members".into(),
        args,
        after_send: AfterSend::ChannelMembers {
            channel: channel.to_string(),
            first_page: cursor.is_none(),
        },
    }
}

/// Slack said whether `channel` is private: keep it, and for a private one
/// fetch who is in it.
pub async fn info_arrived(
    uow: &mut UnitOfWork,
    channel: &str,
    response: &Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(is_private) = response["channel"]["is_private"].as_bool() else {
        return Err(StoreError::Corrupt(
            "conversations.info answered without is_private".into(),
        ));
    };
    known_private(uow, channel, is_private, now).await
}

/// Records a channel's privacy; for a private one, asks who is in it.
pub async fn known_private(
    uow: &mut UnitOfWork,
    channel: &str,
    is_private: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    uow.record_channel(channel, is_private, now).await?;
    if is_private {
        uow.enqueue(&members_call(channel, None), now).await?;
    }
    Ok(())
}

/// A page of members arrived: keep them (only what looks like a user id),
/// then ask for the next page.
pub async fn members_arrived(
    uow: &mut UnitOfWork,
    channel: &str,
    first_page: bool,
    response: &Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let members = crate::slack::user_ids(&response["members"]);
    uow.add_channel_members(channel, &members, first_page).await?;
    let next = response["response_metadata"]["next_cursor"]
        .as_str()
        .filter(|c| !c.is_empty());
    if let Some(cursor) = next {
        uow.enqueue(&members_call(channel, Some(cursor)), now).await?;
    }
    Ok(())
}
