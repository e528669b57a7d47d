//! Client-side pacing by Slack's published rate-limit tiers, so Rebound
//! spends its calls where they matter instead of collecting HTTP 429s.
//!
//! Each Web API method has a per-minute allowance (Tier 2 ≈ 20/min, Tier 3 ≈
//! 50/min, Tier 4 ≈ 100/min; FACTS.md §7) kept as a token bucket that may
//! burst up to one minute's worth. A call over budget is put back until a
//! slot of its own: waiting calls get successive slots one refill interval
//! apart, or, when the minute's allowance is spent, the moments the window
//! frees up one call at a time, so each is handled about once instead of
//! retried at every refill. `chat.postMessage` is also paced per channel:
//! about one message per second.
//! Buckets are per process: with several replicas, Slack's 429 with
//! `Retry-After` remains the backstop.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Calls per minute Slack allows for a method, by its tier.
pub fn per_minute(method: &str) -> Option<u32> {
    let tier = match method {
        "conversations.create"
        | "conversations.setTopic"
        | "conversations.setPurpose"
        | "conversations.archive"
        | "pins.add"
        | "bookmarks.add"
        | "usergroups.users.list" => 2,
        "conversations.invite"
        | "conversations.join"
        | "conversations.list"
        | "conversations.history"
        | "conversations.replies"
        | "conversations.info"
        | "chat.update"
        | "reactions.get"
        | "users.lookupByEmail" => 3,
        "chat.postEphemeral"
        | "conversations.members"
        | "users.info"
        | "views.open"
        | "views.update"
        | "views.push" => 4,
        // chat.postMessage: paced per channel (1/s); Slack also caps a workspace
        // at several hundred per minute.
        "chat.postMessage" => return Some(300),
        // PagerDuty's Events API v2: about 120 events a minute per routing key.
        "pagerduty.enqueue" => return Some(120),
        // Zenduty publishes no limit; a sane ceiling for one integration.
        "zenduty.event" => return Some(60),
        // Jira Cloud's limits are cost-based; creating an issue a second is well inside them.
        "jira.create_issue" => return Some(60),
        // GitHub allows far more; a rollback a second is plenty.
        "github.workflow_dispatch" => return Some(60),
        _ => return None,
    };
    Some(match tier {
        2 => 20,
        3 => 50,
        _ => 100,
    })
}

/// How long Rebound waits between messages to one channel: Slack's one a
/// second, with a margin so network jitter never lands two within a second.
pub const PER_CHANNEL_MESSAGE_GAP: Duration = Duration::from_millis(1100);

impl Bucket {
    fn new(per_minute: u32, now: Instant) -> Self {
        let capacity = f64::from(per_minute);
        Self {
            tokens: capacity,
            capacity,
            per_second: capacity / 60.0,
            refilled_at: now,
            next_free_slot: now,
            sent: std::collections::VecDeque::new(),
            promised: std::collections::VecDeque::new(),
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled_at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.refilled_at = now;
    }

    /// Time until one token is available.
    fn wait(&self) -> Duration {
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.per_second)
        }
    }

    /// Promises a call that found the minute's allowance spent the moment
    /// the window admits one more that no earlier call was promised: the
    /// window opens once per call sent a minute before, then once per call
    /// promised a slot, a minute after it. So each waiting call comes back
    /// once, when it can go, instead of all of them at the first opening.
    fn promise_window_slot(&mut self, now: Instant) -> Duration {
        let waiting = self.promised.len();
        let opens = self.sent.iter().chain(self.promised.iter()).nth(waiting);
        let soonest = now.checked_add(Duration::from_millis(10)).unwrap_or(now);
        let slot = opens
            .and_then(|at| at.checked_add(MINUTE))
            .unwrap_or(soonest)
            .max(soonest);
        self.promised.push_back(slot);
        slot.saturating_duration_since(now)
    }

    /// Promises the next free slot to a call that has to wait.
    fn reserve(&mut self, now: Instant) -> Duration {
        let slot = self.next_free_slot.max(now + self.wait());
        self.next_free_slot = slot + Duration::from_secs_f64(1.0 / self.per_second);
        slot - now
    }
}

/// Token buckets for every paced method, and the last message per channel.
#[derive(Debug, Default)]
pub struct Pacer {
    buckets: Mutex<HashMap<String, Bucket>>,
    last_message: Mutex<HashMap<String, Instant>>,
}

/// A method's bucket plus the queue of slots promised to calls sent away to
/// wait, so each deferred call comes back when a token is due for it rather
/// than all of them at the next refill.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    per_second: f64,
    refilled_at: Instant,
    next_free_slot: Instant,
    /// When the calls of the last minute were sent.
    sent: std::collections::VecDeque<Instant>,
    /// Slots promised to calls sent away while the minute's allowance was
    /// spent, in order.
    promised: std::collections::VecDeque<Instant>,
}

impl Pacer {
    /// Takes a token for `method` (and a message slot in `channel`), or says
    /// how long to wait.
    pub fn take(&self, method: &str, channel: Option<&str>, now: Instant) -> Result<(), Duration> {
        if let Some(channel) = channel {
            self.channel_slot(channel, now)?;
        }
        let Some(limit) = per_minute(method) else { return Ok(()) };
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets
            .entry(method.to_string())
            .or_insert_with(|| Bucket::new(limit, now));
        bucket.refill(now);
        // Slack counts calls per minute: a full bucket plus its refill must
        // not exceed the minute's allowance in any 60 seconds.
        while bucket
            .sent
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= MINUTE)
        {
            bucket.sent.pop_front();
        }
        while bucket.promised.front().is_some_and(|at| *at <= now) {
            bucket.promised.pop_front();
        }
        if bucket.sent.len() >= limit as usize {
            return Err(bucket.promise_window_slot(now));
        }
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            bucket.sent.push_back(now);
            Ok(())
        } else {
            Err(bucket.reserve(now))
        }
    }
}

/// The window Slack's per-minute tiers count over.
const MINUTE: Duration = Duration::from_secs(60);

impl Pacer {
    fn channel_slot(&self, channel: &str, now: Instant) -> Result<(), Duration> {
        let mut last = self.last_message.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(previous) = last.get(channel) {
            let since = now.saturating_duration_since(*previous);
            if since < PER_CHANNEL_MESSAGE_GAP {
                return Err(PER_CHANNEL_MESSAGE_GAP - since);
            }
        }
        if last.len() > 10_000 {
            // Channels quiet for a second no longer need remembering.
            last.retain(|_, at| now.saturating_duration_since(*at) < PER_CHANNEL_MESSAGE_GAP);
        }
        last.insert(channel.to_string(), now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_two_allows_a_minute_of_burst_then_waits_out_the_minute() {
        let pacer = Pacer::default();
        let start = Instant::now();
        for _ in 0..20 {
            assert_eq!(pacer.take("conversations.create", None, start), Ok(()));
        }
        let wait = pacer.take("conversations.create", None, start).unwrap_err();
        assert_eq!(wait, MINUTE, "twenty in a minute is the tier's allowance");
        let refilled = pacer
            .take("conversations.create", None, start + Duration::from_secs(30))
            .unwrap_err();
        assert_eq!(
            refilled,
            Duration::from_secs(30),
            "half a minute refills tokens, but the minute's twenty are spent"
        );
        assert_eq!(pacer.take("conversations.create", None, start + MINUTE), Ok(()));
        for _ in 0..19 {
            assert_eq!(
                pacer.take("conversations.create", None, start + Duration::from_secs(600)),
                Ok(()),
                "refilled after a quiet spell"
            );
        }
    }

    #[test]
    fn calls_waiting_for_the_minute_come_back_one_at_a_time_as_it_frees_up() {
        let pacer = Pacer::default();
        let start = Instant::now();
        for second in 0..20 {
            let at = start + Duration::from_secs(second);
            assert_eq!(pacer.take("conversations.create", None, at), Ok(()));
        }
        let now = start + Duration::from_secs(20);
        let waits: Vec<u64> = (0..5)
            .map(|_| pacer.take("conversations.create", None, now).unwrap_err().as_secs())
            .collect();
        assert_eq!(
            waits,
            [40, 41, 42, 43, 44],
            "each waiting call gets the moment one of the minute's calls leaves the window"
        );
        let first_back = start + MINUTE;
        assert_eq!(pacer.take("conversations.create", None, first_back), Ok(()));
        let late = pacer.take("conversations.create", None, first_back).unwrap_err();
        assert_eq!(
            late,
            Duration::from_secs(5),
            "a new call queues behind the four still promised"
        );
    }

    #[test]
    fn messages_to_one_channel_wait_a_second() {
        let pacer = Pacer::default();
        let start = Instant::now();
        assert_eq!(pacer.take("chat.postMessage", Some("C1"), start), Ok(()));
        assert_eq!(pacer.take("chat.postMessage", Some("C2"), start), Ok(()));
        let wait = pacer
            .take("chat.postMessage", Some("C1"), start + Duration::from_millis(400))
            .unwrap_err();
        assert_eq!(wait, Duration::from_millis(700));
        assert_eq!(
            pacer.take("chat.postMessage", Some("C1"), start + PER_CHANNEL_MESSAGE_GAP),
            Ok(())
        );
    }

    #[test]
    fn unknown_methods_are_not_paced() {
        let pacer = Pacer::default();
        for _ in 0..1000 {
            assert_eq!(pacer.take("response_url", None, Instant::now()), Ok(()));
        }
    }
}
