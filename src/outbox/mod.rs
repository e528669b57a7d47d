//! The outbox worker: sends the Slack Web API calls that transactions
//! recorded. One call per ordering key (channel) is in flight at a time, so
//! per-channel order holds; calls are paced by Slack's rate-limit tiers
//! ([`pacing`]); HTTP 429 waits for `Retry-After`; other transient
//! failures back off exponentially; final errors are set aside so they do
//! not block the channel.
//!
//! Repeats are made harmless: a channel an earlier attempt created is
//! adopted ([`adoption`]), a post an earlier attempt made is found by its
//! metadata ([`posted`]). Card edits and topics are rendered when they are
//! sent ([`render`]), so a queued one never shows an old incident.

mod adoption;
mod channel_ready;
pub mod channels;
pub mod followups;
pub mod lanes;
pub mod pacing;
pub mod posted;
mod render;
mod settle;
pub mod usergroups;
pub mod vendors;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::FutureExt;
use serde_json::{Value, json};
use tokio::sync::{Notify, OnceCell, watch};

use crate::config::Settings;
use crate::domain::clock;
use crate::metrics::{Metrics, WorkerLabels};
use crate::outbound::Vendors;
use crate::slack::{QUERY_ONLY_METHODS, SlackApi, SlackCallError};
use crate::store::{AfterSend, OutboxCall, RESPONSE_URL_METHOD, Store, StoreError};

use pacing::Pacer;

/// Calls leased per round (each to a different channel).
const BATCH: i64 = 64;
/// Outcomes recorded per transaction: small enough that an acknowledgement
/// waiting for the SQLite writer never waits long.
const SETTLE_CHUNK: usize = 8;
/// A call not settled within this time is tried again by any replica.
/// Short, because a live worker renews its leases while calls are in flight
/// ([`HEARTBEAT`]): a killed worker's calls are taken over within seconds.
const LEASE: Duration = Duration::from_secs(10);
/// A Slack call without an answer by then is given up and retried (a
/// retried post first looks for what the unanswered attempt may have
/// posted): one hung connection must not hold the other channels' calls.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How often in-flight leases are renewed (well inside [`LEASE`]).
const HEARTBEAT: Duration = Duration::from_secs(3);
/// Transient failures are retried this many times before the call is set aside.
const MAX_ATTEMPTS: i32 = 10;
/// At most this many queued lines share one message (and this many characters).
const MERGED_LINES: i64 = 10;
const MERGED_CHARS: usize = 3500;
/// Suffixes tried after `name_taken` before giving up on a channel name.
const MAX_NAME_ATTEMPTS: u32 = 20;

/// Sends recorded calls.
#[derive(Clone)]
pub struct OutboxWorker {
    pub store: Arc<Store>,
    pub slack: SlackApi,
    pub settings: Arc<Settings>,
    pub metrics: Arc<Metrics>,
    pub ready: Arc<Notify>,
    bot_user: Arc<OnceCell<String>>,
    pacer: Arc<Pacer>,
    vendors: Vendors,
}

/// What to do with a call after trying it.
enum Settle {
    Sent(Value, followups::Prepared),
    /// Over Rebound's own pacing budget: try again later, no attempt counted.
    Defer(Duration),
    Retry {
        after: Duration,
        error: String,
        rewrite: Option<(Value, AfterSend)>,
    },
    Fail(String),
}

impl OutboxWorker {
    pub fn new(
        store: Arc<Store>,
        slack: SlackApi,
        settings: Arc<Settings>,
        metrics: Arc<Metrics>,
        ready: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            slack,
            vendors: Vendors::new(settings.clone()),
            settings,
            metrics,
            ready,
            bot_user: Arc::new(OnceCell::new()),
            pacer: Arc::default(),
        }
    }

    /// Runs until `shutdown`; unsent calls stay in the database.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            let sent = match self.round().await {
                Ok(count) => count,
                Err(error) => {
                    tracing::error!(%error, "outbox round failed");
                    0
                }
            };
            if sent > 0 {
                continue;
            }
            let wait = self.idle_wait().await;
            tokio::select! {
                _ = self.ready.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    async fn idle_wait(&self) -> Duration {
        let next = self.store.next_outbox_due().await.ok().flatten();
        let until_next = next
            .map(|at| (at - Utc::now()).to_std().unwrap_or_default())
            .unwrap_or(Duration::from_secs(5));
        until_next.clamp(Duration::from_millis(20), Duration::from_secs(5))
    }

    /// Sends every due head-of-channel call concurrently, then records all
    /// outcomes in one transaction.
    async fn round(&self) -> Result<usize, StoreError> {
        let replica = &self.settings.replica;
        let calls = self.store.claim_outbox(replica, BATCH, Utc::now(), LEASE).await?;
        let count = calls.len();
        let mut tasks = tokio::task::JoinSet::new();
        for call in calls {
            let worker = self.clone();
            tasks.spawn(async move {
                // A call whose handling panics would panic on every retry:
                // it is set aside like a final error, and the rest go on.
                let delivery =
                    tokio::time::timeout(CALL_TIMEOUT, AssertUnwindSafe(worker.deliver(&call)).catch_unwind());
                let settle = match delivery.await {
                    Ok(Ok(settle)) => settle,
                    Ok(Err(panic)) => worker.panicked("delivering", &panic),
                    Err(_) => Settle::Retry {
                        after: backoff(call.attempts),
                        error: format!("no answer from Slack within {} s", CALL_TIMEOUT.as_secs()),
                        rewrite: None,
                    },
                };
                (call, settle)
            });
        }
        let mut outcomes = Vec::with_capacity(count);
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
        loop {
            tokio::select! {
                joined = tasks.join_next() => match joined {
                    None => break,
                    Some(Ok(outcome)) => outcomes.push(outcome),
                    Some(Err(error)) => {
                        tracing::error!(%error, "outbox task ended abnormally; its lease will expire and it is retried")
                    }
                },
                _ = heartbeat.tick() => self.renew_leases(replica).await,
            }
        }
        for chunk in outcomes.chunks(SETTLE_CHUNK) {
            if self.settle_safely(chunk).await.is_err() {
                // One bad outcome must not hold up the others: record them one by one.
                for outcome in chunk {
                    if self.settle_safely(std::slice::from_ref(outcome)).await.is_err() {
                        self.set_aside(&outcome.0).await;
                    }
                }
            }
        }
        Ok(count)
    }

    /// Keeps this replica's in-flight calls claimed while Slack answers slowly.
    async fn renew_leases(&self, replica: &str) {
        if let Err(error) = self.store.renew_claims(replica, clock::later(Utc::now(), LEASE)).await {
            tracing::warn!(%error, "could not renew outbox leases; another replica may send these calls again");
        }
    }

    fn panicked(&self, doing: &str, panic: &Box<dyn std::any::Any + Send>) -> Settle {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(panic = message, "panicked while {doing} a Slack call; it is set aside");
        self.metrics
            .work_set_aside
            .get_or_create(&WorkerLabels {
                worker: "outbox".into(),
            })
            .inc();
        Settle::Fail(format!("rebound internal error (panic: {message})"))
    }

    async fn deliver(&self, call: &OutboxCall) -> Settle {
        // Slack's one message a second is per channel, whichever lane it came from.
        let channel_key = (call.method == "chat.postMessage")
            .then(|| call.args["channel"].as_str())
            .flatten();
        // Lines queued behind this one join it first, so the message slot
        // taken below is taken just before the message goes out.
        let merged;
        let call = match self.with_queued_lines(call).await {
            Some(combined) => {
                merged = combined;
                &merged
            }
            None => call,
        };
        if let Err(wait) = self.pacer.take(&call.method, channel_key, Instant::now()) {
            return Settle::Defer(wait);
        }
        let sent_at = Utc::now();
        let outcome = self.send(call).await;
        self.metrics.record_slack_call(&call.method, &result_label(&outcome));
        if outcome.is_ok() {
            let waited = (sent_at - call.origin_at).num_milliseconds() as f64 / 1000.0;
            self.metrics.record_time_to_slack(&call.method, waited);
        }
        match outcome {
            Ok(response) => self.prepared(call, response).await,
            Err(error) => self.on_error(call, error).await,
        }
    }

    /// A message to a channel that is behind carries the lines queued
    /// behind it too ([`Store::merge_queued_lines`]).
    async fn with_queued_lines(&self, call: &OutboxCall) -> Option<OutboxCall> {
        if call.method != "chat.postMessage" {
            return None;
        }
        match self
            .store
            .merge_queued_lines(call, MERGED_LINES, MERGED_CHARS, Utc::now())
            .await
        {
            Ok(Some(args)) => Some(OutboxCall { args, ..call.clone() }),
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(call = call.id, %error, "could not fold queued lines into one message; sending one");
                None
            }
        }
    }

    /// Works out the follow-up's reads and CPU work before the write
    /// transaction; if the store cannot be read, the (idempotent) call is
    /// tried again later rather than followed up half.
    async fn prepared(&self, call: &OutboxCall, response: Value) -> Settle {
        match followups::prepare(self.store.as_ref(), &call.after_send).await {
            Ok(prepared) => Settle::Sent(response, prepared),
            Err(error) => Settle::Retry {
                after: backoff(call.attempts),
                error: error.to_string(),
                rewrite: None,
            },
        }
    }

    async fn send(&self, call: &OutboxCall) -> Result<Value, SlackCallError> {
        if let AfterSend::StatuspageIncident { incident_id } = call.after_send {
            let known = self.store.statuspage_id(incident_id).await;
            let known = known.map_err(|error| SlackCallError::Transient(error.to_string()))?;
            return self
                .vendors
                .statuspage(known.as_deref(), call.attempts > 1, &call.args)
                .await;
        }
        if let AfterSend::RollbackDispatched { .. } = call.after_send {
            return self.vendors.github(call.attempts > 1, &call.args).await;
        }
        if let AfterSend::JiraIssue { .. } = call.after_send {
            return self.vendors.jira(call.attempts > 1, &call.args).await;
        }
        if Vendors::handles(&call.method) {
            return self.vendors.send(&call.method, &call.args).await;
        }
        if let Some(args) = render::at_send_time(&self.store, &self.settings, &call.args).await? {
            return self.slack.call(&call.method, &args).await;
        }
        if QUERY_ONLY_METHODS.contains(&call.method.as_str()) {
            return self.slack.call_get(&call.method, &call.args).await;
        }
        if call.method == "chat.postMessage" {
            return self.post_once(call).await;
        }
        if call.method == RESPONSE_URL_METHOD {
            let url = call.args["url"].as_str().unwrap_or_default();
            self.slack
                .respond(url, &call.args["body"])
                .await
                .map(|()| json!({ "ok": true }))
        } else {
            self.slack.call(&call.method, &call.args).await
        }
    }

    /// Posts a message tagged with its call id; a retry first adopts the
    /// post an earlier attempt may have made ([`posted`]).
    async fn post_once(&self, call: &OutboxCall) -> Result<Value, SlackCallError> {
        if call.attempts > 1 {
            let earlier = async {
                let bot_user = self.bot_user.get_or_try_init(|| self.slack.bot_user_id()).await?;
                posted::find_earlier(&self.slack, bot_user, &call.args, call.id).await
            };
            match earlier.await {
                Ok(Some(ts)) => {
                    tracing::info!(call = call.id, %ts, "adopting the message an earlier attempt posted");
                    return Ok(json!({ "ok": true, "channel": call.args["channel"], "ts": ts }));
                }
                Ok(None) => {}
                // Looking is best effort: rather a rare duplicate than a lost message.
                Err(error) => tracing::warn!(call = call.id, %error, "could not look for an earlier attempt; posting"),
            }
        }
        self.slack
            .call(&call.method, &posted::tagged(&call.args, call.id))
            .await
    }

    async fn on_error(&self, call: &OutboxCall, error: SlackCallError) -> Settle {
        match (&error, call.method.as_str()) {
            // The card's first post is still queued in the message lane; an
            // edit waits for it, but not forever (a card that never posts).
            (SlackCallError::NotReady(_), _) if Utc::now() - call.origin_at < chrono::Duration::minutes(5) => {
                Settle::Defer(Duration::from_millis(300))
            }
            (SlackCallError::Api(code), "conversations.create") if code == "name_taken" => {
                self.on_name_taken(call).await
            }
            (SlackCallError::Api(code), "conversations.invite") if code == "already_in_channel" => {
                self.prepared(call, json!({ "ok": true })).await
            }
            (SlackCallError::RateLimited(after), _) => Settle::Retry {
                after: *after,
                error: error.to_string(),
                rewrite: None,
            },
            _ if error.is_retryable() && call.attempts < MAX_ATTEMPTS => Settle::Retry {
                after: backoff(call.attempts),
                error: error.to_string(),
                rewrite: None,
            },
            _ => Settle::Fail(error.to_string()),
        }
    }
}

/// 1 s, 2 s, 4 s … capped at 5 minutes.
fn backoff(attempts: i32) -> Duration {
    Duration::from_secs(1u64 << attempts.clamp(1, 9).saturating_sub(1)).min(Duration::from_secs(300))
}

fn result_label(outcome: &Result<Value, SlackCallError>) -> String {
    match outcome {
        Ok(_) => "ok".into(),
        Err(SlackCallError::Api(code)) => code.clone(),
        Err(SlackCallError::RateLimited(_)) => "ratelimited".into(),
        Err(SlackCallError::Transient(_)) => "transient".into(),
        Err(SlackCallError::NotReady(_)) => "not_ready".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(30), Duration::from_secs(256));
    }
}
