//! No message twice. Slack's `chat.postMessage` has no idempotency key, so
//! every post carries Rebound's message `metadata` (its outbox call id).
//! Before a post whose earlier attempt may have reached Slack is sent again
//! (its process was killed mid-call, or Slack's answer was lost), the
//! channel's recent history (the thread's replies, for a thread post) is
//! searched for that id, and the post found is adopted instead of posting
//! again — the way `name_taken` is handled for channels.

use serde_json::{Value, json};

use crate::slack::{SlackApi, SlackCallError};

/// The metadata `event_type` of Rebound's posts.
pub const EVENT_TYPE: &str = "rebound_outbox_call";
/// Messages searched for an earlier attempt (Slack's limit per page is larger;
/// a retry comes within minutes, so the newest page holds it).
const SEARCHED: u32 = 100;

/// `args` with Rebound's metadata for outbox call `call_id`.
pub fn tagged(args: &Value, call_id: i64) -> Value {
    let mut args = args.clone();
    args["metadata"] = json!({ "event_type": EVENT_TYPE, "event_payload": { "call_id": call_id } });
    args
}

/// The `ts` of a message among `messages` that outbox call `call_id` posted
/// as `bot_user`. Any app can post metadata that looks like ours: only the
/// bot's own messages count, or another app could make Rebound skip a post.
pub fn posted_by(messages: &Value, bot_user: &str, call_id: i64) -> Option<String> {
    messages.as_array()?.iter().find_map(|message| {
        let metadata = &message["metadata"];
        let ours = message["user"] == bot_user
            && metadata["event_type"] == EVENT_TYPE
            && metadata["event_payload"]["call_id"] == call_id;
        ours.then(|| message["ts"].as_str().map(str::to_string)).flatten()
    })
}

/// Looks in Slack for the post an earlier attempt of call `call_id` made.
pub async fn find_earlier(
    slack: &SlackApi,
    bot_user: &str,
    args: &Value,
    call_id: i64,
) -> Result<Option<String>, SlackCallError> {
    let Some(channel) = channel_id(slack, args["channel"].as_str().unwrap_or_default()).await? else {
        return Ok(None);
    };
    let response = match args["thread_ts"].as_str() {
        Some(thread) => {
            let query = json!({ "channel": channel, "ts": thread, "include_all_metadata": true, "limit": SEARCHED });
            slack.call_get("conversations.replies", &query).await?
        }
        None => {
            let query = json!({ "channel": channel, "include_all_metadata": true, "limit": SEARCHED });
            slack.call_get("conversations.history", &query).await?
        }
    };
    Ok(posted_by(&response["messages"], bot_user, call_id))
}

/// History is read by channel id; posts may name their channel (the
/// announce channel is configured by name).
async fn channel_id(slack: &SlackApi, channel: &str) -> Result<Option<String>, SlackCallError> {
    if crate::slack::is_channel_id(channel) {
        return Ok(Some(channel.to_string()));
    }
    let name = channel.trim_start_matches('#');
    Ok(slack.find_channel(name).await?.map(|found| found.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_is_recognised_by_its_call_id_only() {
        let ours = tagged(&json!({ "channel": "C1", "text": "hi" }), 42);
        assert_eq!(ours["text"], "hi");
        let messages = json!([
            { "ts": "1.0", "user": "UOTHERAPP", "metadata": ours["metadata"] },
            { "ts": "1.1", "user": "UBOT", "text": "someone else" },
            { "ts": "1.2", "user": "UBOT", "metadata": { "event_type": EVENT_TYPE, "event_payload": { "call_id": 41 } } },
            { "ts": "1.3", "user": "UBOT", "metadata": ours["metadata"] },
            { "ts": "1.4", "user": "UBOT", "metadata": { "event_type": "another_app", "event_payload": { "call_id": 42 } } },
        ]);
        assert_eq!(
            posted_by(&messages, "UBOT", 42).as_deref(),
            Some("1.3"),
            "not another app's copy"
        );
        assert_eq!(posted_by(&messages, "UBOT", 7), None);
        assert_eq!(posted_by(&json!(null), "UBOT", 42), None);
    }
}
