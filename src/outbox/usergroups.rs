//! The user groups named in `[permissions] admins`: their members steer
//! incidents like admins. Every few minutes Rebound asks Slack who is in
//! each (`usergroups.users.list`, through the outbox like every Slack call)
//! and the answer replaces what was known. Until Slack first answers, a
//! group's members are not admins: unknown fails closed.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

use crate::domain::lifecycle::Permissions;
use crate::store::{AfterSend, NewOutboxCall, Store, StoreError, UnitOfWork};

/// How often the members of the admin groups are asked for again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(600);

/// `usergroups.users.list` for `usergroup`.
pub fn members_call(usergroup: &str) -> NewOutboxCall {
    NewOutboxCall {
        ordering_key: format!("usergroup:{usergroup}"),
        method: "usergroups.users.list".into(),
        args: json!({ "usergroup": usergroup }),
        after_send: AfterSend::UsergroupMembers {
            usergroup: usergroup.to_string(),
        },
    }
}

/// Slack said who is in `usergroup`: that replaces what was known.
pub async fn members_arrived(uow: &mut UnitOfWork, usergroup: &str, response: &Value) -> Result<(), StoreError> {
    uow.set_usergroup_members(usergroup, &crate::slack::user_ids(&response["users"]))
        .await
}

/// The responders of an alert source, for the incident channel `channel`
/// an alert of it opened: asked of Slack, then invited.
pub fn responders_call(usergroup: &str, channel: &str) -> NewOutboxCall {
    NewOutboxCall {
        ordering_key: format!("channel:{channel}"),
        method: "usergroups.users.list".into(),
        args: json!({ "usergroup": usergroup }),
        after_send: AfterSend::InviteResponders {
            channel: channel.to_string(),
        },
    }
}

/// Slack said who the responders are: invite them (Slack takes up to 1,000 a call).
pub async fn invite_responders(
    uow: &mut UnitOfWork,
    channel: &str,
    response: &Value,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let users = crate::slack::user_ids(&response["users"]);
    for batch in users.chunks(1000) {
        let call = NewOutboxCall {
            ordering_key: format!("channel:{channel}"),
            method: "conversations.invite".into(),
            args: json!({ "channel": channel, "users": batch.join(",") }),
            after_send: AfterSend::Nothing,
        };
        uow.enqueue(&call, now).await?;
    }
    Ok(())
}

/// Asks for every admin group's members now, then every [`REFRESH_EVERY`],
/// until `shutdown`.
pub async fn run(
    store: Arc<Store>,
    permissions: Permissions,
    outbox_ready: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let groups: Vec<String> = permissions.admin_groups().map(str::to_string).collect();
    if groups.is_empty() {
        return shutdown.changed().await.unwrap_or_default();
    }
    loop {
        match ask(store.as_ref(), &groups, Utc::now()).await {
            Ok(()) => outbox_ready.notify_one(),
            Err(error) => tracing::warn!(%error, "could not ask Slack for the admin groups' members"),
        }
        tokio::select! {
            _ = tokio::time::sleep(REFRESH_EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn ask(store: &Store, groups: &[String], now: DateTime<Utc>) -> Result<(), StoreError> {
    let mut uow = store.begin().await?;
    for group in groups {
        uow.enqueue(&members_call(group), now).await?;
    }
    uow.commit().await
}
