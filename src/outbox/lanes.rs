//! Lanes, priorities and coalescing: how the outbox keeps the incident
//! channel current when Slack holds messages to about one a second per
//! channel. Pure: a recorded call in, where it queues out.
//!
//! - **Lanes.** Card edits (`chat.update`, which Slack does not limit per
//!   channel) queue in the channel's edit lane, `edit:<channel>`, and topic
//!   changes in `topic:<channel>` (a Tier 2 method, 20 a minute), so neither
//!   waits behind messages (`channel:<channel>`, one a second) nor the card
//!   behind the topic.
//! - **Coalescing.** The card and the topic are rendered when sent, so while
//!   one edit of them is still queued another adds nothing: it is recorded
//!   once (`coalesce_key`).
//! - **Priorities.** Claimed first: replies to the person who typed, forms,
//!   card edits (0); then messages and other systems (1); then background
//!   reads, digests and backfills (2).

use crate::dispatcher::{CARD_OF, TOPIC_OF};
use crate::store::{NewOutboxCall, RESPONSE_URL_METHOD};

/// Where and how urgently a call queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    pub ordering_key: String,
    pub priority: i32,
    pub coalesce_key: Option<String>,
}

/// Replies, forms and card edits.
pub const URGENT: i32 = 0;
/// Channel messages and other systems.
pub const NORMAL: i32 = 1;
/// Reads, digests, backfills.
pub const BACKGROUND: i32 = 2;

impl NewOutboxCall {
    /// Where and how urgently this call queues.
    pub fn lane(&self) -> Lane {
        lane(self)
    }
}

/// The lane of `call`.
pub fn lane(call: &NewOutboxCall) -> Lane {
    // The topic has a lane of its own: its tier (20 a minute) must never
    // hold up the card.
    let rendered_when_sent = [(CARD_OF, "card", "edit"), (TOPIC_OF, "topic", "topic")]
        .into_iter()
        .find_map(|(marker, what, lane)| call.args[marker].as_i64().map(|id| (format!("{what}:{id}"), lane)));
    if let Some((coalesce_key, lane)) = rendered_when_sent {
        let ordering_key = match call.ordering_key.strip_prefix("channel:") {
            Some(channel) => format!("{lane}:{channel}"),
            None => call.ordering_key.clone(),
        };
        return Lane {
            ordering_key,
            priority: URGENT,
            coalesce_key: Some(coalesce_key),
        };
    }
    let priority = match call.method.as_str() {
        RESPONSE_URL_METHOD | "chat.postEphemeral" | "views.open" | "views.update" | "views.push" => URGENT,
        _ if ["read:", "usergroup:", "digest:"]
            .iter()
            .any(|prefix| call.ordering_key.starts_with(prefix)) =>
        {
            BACKGROUND
        }
        "conversations.info"
        | "conversations.members"
        | "conversations.replies"
        | "chat.getPermalink"
        | "usergroups.users.list"
        | "conversations.history" => BACKGROUND,
        _ => NORMAL,
    };
    Lane {
        ordering_key: call.ordering_key.clone(),
        priority,
        coalesce_key: None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::AfterSend;

    fn call(key: &str, method: &str, args: serde_json::Value) -> NewOutboxCall {
        NewOutboxCall {
            ordering_key: key.into(),
            method: method.into(),
            args,
            after_send: AfterSend::Nothing,
        }
    }

    #[test]
    fn card_and_topic_edits_have_their_own_lanes_and_coalesce_per_incident() {
        let card = lane(&call(
            "channel:C1",
            "chat.update",
            json!({ "channel": "C1", CARD_OF: 4 }),
        ));
        assert_eq!(card.ordering_key, "edit:C1");
        assert_eq!(card.priority, URGENT);
        assert_eq!(card.coalesce_key.as_deref(), Some("card:4"));
        let topic = lane(&call(
            "channel:C1",
            "conversations.setTopic",
            json!({ "channel": "C1", TOPIC_OF: 4 }),
        ));
        assert_eq!(topic.ordering_key, "topic:C1");
        assert_eq!(topic.coalesce_key.as_deref(), Some("topic:4"));
    }

    #[test]
    fn messages_wait_behind_replies_and_before_background_work() {
        let line = lane(&call(
            "channel:C1",
            "chat.postMessage",
            json!({ "channel": "C1", "text": "x" }),
        ));
        assert_eq!(
            (line.ordering_key.as_str(), line.priority, line.coalesce_key),
            ("channel:C1", NORMAL, None)
        );
        assert_eq!(
            lane(&call("respond:U1", RESPONSE_URL_METHOD, json!({}))).priority,
            URGENT
        );
        assert_eq!(
            lane(&call("digest:CM", "chat.postMessage", json!({}))).priority,
            BACKGROUND
        );
        assert_eq!(
            lane(&call("read:C1", "conversations.replies", json!({}))).priority,
            BACKGROUND
        );
        assert_eq!(
            lane(&call("pagerduty:4", "pagerduty.enqueue", json!({}))).priority,
            NORMAL
        );
    }
}
