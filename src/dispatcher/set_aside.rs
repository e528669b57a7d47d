//! Inbox items that can never be applied: why an item failed, and setting it
//! aside so the rest go on.
//!
//! An item is set aside when applying it panicked, when it cannot be
//! understood, or when the database refused it [`super::MAX_ATTEMPTS`] times.
//! It keeps its error (`last_error`), is never pruned by retention, and the
//! person who sent it is told, so nothing acknowledged disappears silently.

use std::any::Any;
use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::store::{AfterSend, InboxItem, InboxKind, NewOutboxCall, Store, StoreError};
use crate::{text, views};

/// Why an item (or the batch holding it) was not applied.
#[derive(Debug)]
pub enum Failure {
    /// The database failed; trying again later may work.
    Store(anyhow::Error),
    /// The item itself cannot be applied (bad payload, a rule that refused it).
    Unprocessable(anyhow::Error),
    /// Applying it panicked: a bug, which would panic again on every retry.
    Panicked(String),
}

impl Failure {
    pub fn store(error: impl Into<anyhow::Error>) -> Self {
        Failure::Store(error.into())
    }

    /// Database errors are transient; every other error is the item's own.
    pub fn classify(error: anyhow::Error) -> Self {
        if error.downcast_ref::<StoreError>().is_some() {
            Failure::Store(error)
        } else {
            Failure::Unprocessable(error)
        }
    }

    pub fn panicked(payload: Box<dyn Any + Send>) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Failure::Panicked(message)
    }

    pub fn is_transient(&self) -> bool {
        matches!(self, Failure::Store(_))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Store(error) => write!(f, "database: {error:#}"),
            Failure::Unprocessable(error) => write!(f, "{error:#}"),
            Failure::Panicked(message) => write!(f, "internal error (panic: {message})"),
        }
    }
}

/// Sets `item` aside with `error` and tells its author, in one transaction.
pub async fn record(store: &Store, item: &InboxItem, error: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
    tracing::error!(
        inbox_id = item.id,
        error,
        "inbox item set aside; it stays stored for inspection"
    );
    let mut uow = store.begin().await?;
    uow.set_aside_inbox(item.id, error, now).await?;
    if let Some(notice) = notice(item, error) {
        uow.enqueue(&notice, now).await?;
    }
    uow.commit().await?;
    Ok(())
}

/// The message that tells the author their request was not applied, when
/// the request says who they are and how to answer them.
fn notice(item: &InboxItem, error: &str) -> Option<NewOutboxCall> {
    let (what, user, response_url) = match item.kind {
        InboxKind::Command => {
            let form: Vec<(String, String)> = serde_urlencoded::from_str(&item.payload).ok()?;
            let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            let what = format!("/incident {}", text::from_slack(&field("text").unwrap_or_default()));
            (what, field("user_id")?, field("response_url"))
        }
        InboxKind::Interaction => {
            let payload: Value = serde_json::from_str(&item.payload).ok()?;
            let user = payload["user"]["id"].as_str()?.to_string();
            let url = payload["response_url"].as_str().map(str::to_string);
            ("your last click or form".to_string(), user, url)
        }
        // Events have no author to answer (reactions, joins, edits), nor do
        // alerts or other systems' webhooks; the set-aside count and the
        // kept item tell the operators.
        InboxKind::Event | InboxKind::Alert | InboxKind::Webhook => return None,
    };
    let reply = format!(
        ":x: Rebound could not apply `{}`: {} (kept as inbox item {} for the operators).",
        text::mrkdwn(&views::clip(&what, 200)),
        text::mrkdwn(&views::clip(error, 300)),
        item.id
    );
    Some(match response_url {
        Some(url) => super::changes::private_reply(&user, &url, &reply),
        // Without a response_url, a direct message from the bot.
        None => NewOutboxCall {
            ordering_key: format!("dm:{user}"),
            method: "chat.postMessage".into(),
            args: json!({ "channel": user, "text": reply }),
            after_send: AfterSend::Nothing,
        },
    })
}
