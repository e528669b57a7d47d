//! Durable timers: the worker that fires severity prompts, customer-update
//! nudges, post-mortem reminders (escalated to the digest channel after a
//! few) and action-item reminders.
//!
//! Timers live in the database. Each round claims the due ones (`FOR UPDATE
//! SKIP LOCKED` on Postgres; SQLite's single writer), records their effect
//! (outbox messages) and their next due time in the same transaction, so a
//! timer fires exactly once across restarts and replicas. Between rounds the
//! worker sleeps until the next due time (an index lookup, not a scan), woken
//! early when a change may have added an earlier timer; the sleep is capped at
//! a second so timers created by other replicas are not missed for long.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use serde_json::json;
use tokio::sync::{Notify, watch};

use crate::config::Settings;
use crate::domain::Incident;
use crate::domain::digest::DigestSchedule;
use crate::domain::timers::TimerKind;
use crate::domain::{clock, recurrence};
use crate::metrics::{Metrics, WorkerLabels};
use crate::store::{AfterSend, NewOutboxCall, Store, StoreResult, StoredActionItem, TicketFilter, Timer, UnitOfWork};
use crate::views::{digest, reminders};

/// The recurring job name of the manager digest.
const DIGEST_JOB: &str = "digest";
/// Timers fired per transaction.
const BATCH: i64 = 32;
/// Longest sleep between looks at the next due time.
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// Fires due timers.
pub struct Scheduler {
    pub store: Arc<Store>,
    pub settings: Arc<Settings>,
    /// The manager digest's schedule.
    pub digest: DigestSchedule,
    pub metrics: Arc<Metrics>,
    /// Woken after changes that may have scheduled an earlier timer.
    pub timers_changed: Arc<Notify>,
    pub outbox_ready: Arc<Notify>,
}

impl Scheduler {
    /// Runs until `shutdown`; timers not yet fired stay in the database.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        if let Some(first) = self.digest.next_after(Utc::now(), None)
            && let Err(error) = self
                .store
                .ensure_job(DIGEST_JOB, &self.digest.fingerprint(), first)
                .await
        {
            tracing::error!(%error, "could not plan the manager digest");
        }
        loop {
            match AssertUnwindSafe(self.fire_digest()).catch_unwind().await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::error!(%error, "sending the manager digest failed; retrying"),
                Err(_) => tracing::error!("building the manager digest panicked; retrying"),
            }
            match self.fire_due().await {
                Ok(0) => {}
                Ok(_) => continue,
                Err(error) => tracing::error!(%error, "firing timers failed; retrying"),
            }
            let wait = self.until_next().await;
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.timers_changed.notified() => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// Sends the digest if it is due: once, whichever replica gets there first.
    async fn fire_digest(&self) -> StoreResult<()> {
        let now = Utc::now();
        let mut uow = self.store.begin().await?;
        let Some((scheduled, last_fired)) = uow.claim_due_job(DIGEST_JOB, now).await? else {
            return Ok(());
        };
        let Some(next) = self.digest.next_after(now, Some(scheduled)) else {
            return Ok(());
        };
        let open = self.store.open_incidents().await?;
        let due_after = self.settings.file.timers.postmortem_due_after;
        let postmortems = self.store.overdue_postmortems(clock::earlier(now, due_after)).await?;
        let actions = self.store.overdue_action_items(now).await?;
        let since = last_fired.unwrap_or(clock::earlier(now, Duration::from_secs(7 * 86_400)));
        let breaches = self.store.comms_breaches_since(since).await?;
        let failures = self.failure_backlog(now).await?;
        let mut private_incidents = std::collections::BTreeSet::new();
        for id in actions
            .iter()
            .map(|a| a.incident_id)
            .collect::<std::collections::BTreeSet<_>>()
        {
            if self.store.incident(id).await?.is_some_and(|i| i.private) {
                private_incidents.insert(id);
            }
        }
        let message = digest::digest(
            &digest::DigestContent {
                open,
                postmortems,
                actions,
                breaches,
                failures,
                private_incidents,
            },
            now,
        );
        uow.enqueue(&digest_post(&self.settings.file.digest.channel, message), now)
            .await?;
        uow.job_fired(DIGEST_JOB, now, next).await?;
        uow.commit().await?;
        self.outbox_ready.notify_one();
        Ok(())
    }

    async fn failure_backlog(&self, now: DateTime<Utc>) -> StoreResult<digest::FailureBacklog> {
        let untriaged_after = self.settings.file.failures.untriaged_after;
        let cutoff = clock::earlier(now, untriaged_after);
        let months_ago = clock::earlier(now, Duration::from_secs(100 * 86_400));
        Ok(digest::FailureBacklog {
            open: self.store.tickets(&TicketFilter::Open).await?.len(),
            untriaged: self.store.untriaged_tickets(cutoff).await?,
            untriaged_after,
            owners: self.store.open_ticket_owners(5).await?,
            months: recurrence::by_month(&self.store.ticket_recurrence_since(months_ago).await?),
        })
    }

    /// A timer whose firing panics would panic every round: it is ended.
    async fn set_aside(&self, timer: &Timer) -> StoreResult<()> {
        tracing::error!(timer = timer.id, kind = ?timer.kind, incident = timer.incident_id, "firing a timer panicked; it is set aside");
        self.metrics
            .work_set_aside
            .get_or_create(&WorkerLabels {
                worker: "scheduler".into(),
            })
            .inc();
        let mut uow = self.store.begin().await?;
        uow.timer_fired(timer.id, None).await?;
        uow.commit().await
    }

    async fn until_next(&self) -> Duration {
        match self.store.next_timer_due().await {
            Ok(Some(due)) => (due - Utc::now()).to_std().unwrap_or_default().min(MAX_SLEEP),
            _ => MAX_SLEEP,
        }
    }

    /// Fires every due timer (up to a batch) in one transaction.
    async fn fire_due(&self) -> StoreResult<usize> {
        let now = Utc::now();
        let mut uow = self.store.begin().await?;
        let timers = uow.claim_due_timers(BATCH, now).await?;
        for timer in &timers {
            let fired = AssertUnwindSafe(fire(uow.as_mut(), &self.settings, timer, now))
                .catch_unwind()
                .await;
            if fired.is_err() {
                // The batch rolls back; the others fire next round.
                drop(uow);
                self.set_aside(timer).await?;
                return Ok(1);
            }
            fired.unwrap_or(Ok(()))?;
        }
        uow.commit().await?;
        for timer in &timers {
            let late = (now - timer.due_at).to_std().unwrap_or_default();
            self.metrics.timer_lateness.observe(late.as_secs_f64());
        }
        if !timers.is_empty() {
            self.metrics.changed();
            self.outbox_ready.notify_one();
        }
        Ok(timers.len())
    }
}

/// Records one firing: its messages, and when (if ever) it fires next.
async fn fire(uow: &mut UnitOfWork, settings: &Settings, timer: &Timer, now: DateTime<Utc>) -> StoreResult<()> {
    let incident = uow.incident(timer.incident_id).await?;
    if timer.kind == TimerKind::AlertSummary {
        return summarise_alerts(uow, timer, incident.as_ref(), now).await;
    }
    let item = match timer.kind {
        TimerKind::ActionReminder => uow.action_item(timer.subject).await?,
        _ => None,
    };
    let still_wanted = incident.as_ref().is_some_and(|i| wanted(timer.kind, i, item.as_ref()));
    if let (true, Some(incident)) = (still_wanted, &incident) {
        for message in messages(timer, incident, item.as_ref(), settings) {
            uow.enqueue(&message, now).await?;
        }
    }
    // From now, not from the missed due time: an outage gives one catch-up.
    let next = timer
        .every
        .filter(|_| still_wanted)
        .map(|every| clock::later(now, every));
    uow.timer_fired(timer.id, next).await
}

/// The alerts that joined since the channel was last told, in one post; the
/// window re-opens only when there was something to tell (the next join
/// after a quiet window is posted at once).
async fn summarise_alerts(
    uow: &mut UnitOfWork,
    timer: &Timer,
    incident: Option<&Incident>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let open_channel = incident
        .filter(|i| i.is_open())
        .and_then(|i| Some((i, i.channel_id.as_deref()?)));
    let mut posted = false;
    if let Some((incident, channel)) = open_channel {
        let source = incident.alert_source().unwrap_or("monitoring");
        posted = crate::dispatcher::announce_joined(uow, incident.id, source, channel, now).await?;
    }
    let next = timer.every.filter(|_| posted).map(|every| clock::later(now, every));
    uow.timer_fired(timer.id, next).await
}

/// Whether the reason for a timer still holds (a stale one just ends).
fn wanted(kind: TimerKind, incident: &Incident, item: Option<&StoredActionItem>) -> bool {
    match kind {
        TimerKind::SeverityPrompt => incident.is_open() && incident.severity.is_none(),
        TimerKind::UpdateNudge => incident.is_open() && incident.severity.is_some(),
        TimerKind::PostmortemReminder => !incident.is_open() && incident.postmortem_done_at.is_none(),
        TimerKind::ActionReminder => item.is_some_and(|item| item.done_at.is_none()),
        TimerKind::AlertSummary => incident.is_open(),
    }
}

/// The digest goes in its own lane: behind replies, card edits and
/// incident messages when Slack is busy (see `outbox::lanes`).
fn digest_post(channel: &str, args: serde_json::Value) -> NewOutboxCall {
    NewOutboxCall {
        ordering_key: format!("digest:{channel}"),
        ..post(channel, args)
    }
}

fn post(channel: &str, mut args: serde_json::Value) -> NewOutboxCall {
    args["channel"] = json!(channel);
    NewOutboxCall {
        ordering_key: format!("channel:{channel}"),
        method: "chat.postMessage".into(),
        args,
        after_send: AfterSend::Nothing,
    }
}

fn messages(
    timer: &Timer,
    incident: &Incident,
    item: Option<&StoredActionItem>,
    settings: &Settings,
) -> Vec<NewOutboxCall> {
    // Before Slack has made the channel there is nowhere to post yet.
    let Some(channel) = incident.channel_id.as_deref() else {
        return vec![];
    };
    let reminder = match (timer.kind, item) {
        (TimerKind::SeverityPrompt, _) => reminders::severity_prompt(incident),
        (TimerKind::UpdateNudge, _) => reminders::update_nudge(incident, timer.every.unwrap_or_default()),
        (TimerKind::PostmortemReminder, _) => reminders::postmortem_reminder(incident),
        (TimerKind::ActionReminder, Some(item)) => reminders::action_reminder(incident, item),
        (TimerKind::ActionReminder, None) | (TimerKind::AlertSummary, _) => return vec![],
    };
    let mut calls = vec![post(channel, reminder)];
    let reminders_sent = u32::try_from(timer.fired + 1).unwrap_or(u32::MAX);
    if timer.kind == TimerKind::PostmortemReminder && reminders_sent >= settings.file.timers.postmortem_escalate_after {
        let digest = &settings.file.digest.channel;
        calls.push(post(digest, reminders::postmortem_escalation(incident, reminders_sent)));
    }
    calls
}
