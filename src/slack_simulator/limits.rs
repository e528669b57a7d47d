//! Slack's published rate limits, enforced when a benchmark or test asks
//! (`FakeSlack::enforce_rate_limits`): `chat.postMessage` about one message
//! a second per channel, other methods by their tier per minute (Tier 2:
//! 20, Tier 3: 50, Tier 4: 100), each over a rolling window; beyond them
//! HTTP 429 with `Retry-After`, as Slack answers.
//! <https://api.slack.com/apis/rate-limits>

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Calls a method may make per minute, by the tier Slack's docs give it.
fn per_minute(method: &str) -> Option<usize> {
    Some(match method {
        "conversations.create" | "conversations.setTopic" | "usergroups.users.list" => 20,
        "conversations.invite"
        | "conversations.info"
        | "conversations.history"
        | "conversations.replies"
        | "chat.update"
        | "chat.getPermalink" => 50,
        "conversations.members" | "chat.postEphemeral" | "views.open" => 100,
        _ => return None,
    })
}

/// Recent accepted calls, for the rolling windows.
#[derive(Default)]
pub struct Limits {
    pub enforced: bool,
    by_method: HashMap<String, VecDeque<Instant>>,
    last_post: HashMap<String, Instant>,
}

impl Limits {
    /// `Some(retry_after_secs)` when this call is over a limit; otherwise it counts.
    pub fn over(&mut self, method: &str, args: &Value, now: Instant) -> Option<u64> {
        if !self.enforced {
            return None;
        }
        if method == "chat.postMessage" {
            let channel = args["channel"].as_str().unwrap_or_default().to_string();
            if let Some(last) = self.last_post.get(&channel)
                && now.duration_since(*last) < Duration::from_secs(1)
            {
                return Some(1);
            }
            self.last_post.insert(channel, now);
            return None;
        }
        let limit = per_minute(method)?;
        let window = self.by_method.entry(method.to_string()).or_default();
        while window
            .front()
            .is_some_and(|at| now.duration_since(*at) >= Duration::from_secs(60))
        {
            window.pop_front();
        }
        if window.len() >= limit {
            let oldest = *window.front()?;
            return Some(60u64.saturating_sub(now.duration_since(oldest).as_secs()).max(1));
        }
        window.push_back(now);
        None
    }
}
