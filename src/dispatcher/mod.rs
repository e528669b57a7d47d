//! The dispatcher: takes stored Slack requests from the inbox, asks the
//! domain what they mean, and writes the outcome (state, timeline, outbox
//! calls, inbox done) in one transaction. It never calls Slack itself.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use serde_json::json;
use slack_morphism::prelude::SlackCommandEvent;
use tokio::sync::{Notify, watch};

use crate::config::Settings;
use crate::domain::lifecycle::ActionItem;
use crate::domain::{Change, ChannelName, Command, CommandError, IncidentDraft, command, timers};
use crate::metrics::Metrics;
use crate::store::{AfterSend, InboxItem, InboxKind, NewOutboxCall, Store, TimelineEntry, UnitOfWork};
use crate::views;
use crate::views::modals::{self, FormContext};

mod alerts;
mod changes;
mod events;
pub(crate) mod failures;
mod interactions;
pub mod jira;
pub mod paging;
#[cfg(test)]
mod properties;
pub mod rollback;
mod set_aside;
pub mod statuspage;

use interactions::open_view;
use set_aside::Failure;

pub use alerts::announce_joined;
pub use changes::{CARD_OF, TOPIC_OF, refresh_card, set_topic};

/// The lifecycle change a parsed command asks for, if it is one; relative
/// times count from `received` (when ingress acknowledged the command), so
/// the answer is the same at ingress and in the dispatcher, however late.
/// Clock times (`/incident started 14:05`) are read in the team's zone;
/// `/incident impact` names a configured status-page component.
pub fn incident_change(
    command: Command,
    received: DateTime<Utc>,
    settings: &crate::config::FileSettings,
) -> Result<Option<Change>, CommandError> {
    let zone = crate::reports::team_zone(settings);
    Ok(Some(match command {
        Command::Severity(severity) => Change::Severity(severity),
        Command::Status(status) => Change::Status(status),
        Command::Lead { user } => Change::Lead(user),
        Command::Update { text } => Change::CustomerUpdate(text),
        Command::PublicUpdate { text } => Change::PublicUpdate(text),
        Command::Impact { component, state } => match settings.status.component(&component) {
            Some(configured) => Change::ComponentImpact {
                component: configured.name.clone(),
                state,
            },
            None => return Err(CommandError::unknown_component(&component, &settings.status)),
        },
        Command::Note { text } => Change::Note(text),
        Command::Decision { text } => Change::Decision(text),
        Command::Resolve { summary } => Change::Resolve(summary),
        Command::Reopen { reason } => Change::Reopen(reason),
        Command::PostmortemDone { link } => Change::PostmortemDone(link),
        Command::PostmortemPublish { summary } => Change::PublishPostmortem(summary),
        Command::Started(at) => Change::ImpactStarted(at.at(received, zone).map_err(CommandError::started)?),
        Command::Action { text, owner, due } => Change::ActionItem(ActionItem {
            text,
            owner,
            due_at: due.map(|d| d.at(received)).transpose()?,
        }),
        Command::Open { .. }
        | Command::OpenForm { .. }
        | Command::ExportAction { .. }
        | Command::Reminders
        | Command::Stats { .. }
        | Command::ShowFailure { .. }
        | Command::Failures(_)
        | Command::Failure { .. }
        | Command::List
        | Command::Help => {
            return Ok(None);
        }
    }))
}

/// Exports action item `id` of the incident of `channel` to Jira (once);
/// what to tell the person who asked when it was not exported now.
async fn jira_export_reply(
    uow: &mut UnitOfWork,
    settings: &Settings,
    channel: &str,
    id: i64,
    now: DateTime<Utc>,
) -> crate::store::StoreResult<Option<String>> {
    let Some(incident) = uow.incident_by_channel(channel).await? else {
        return Ok(Some(":warning: Run this inside an incident channel.".into()));
    };
    let item = uow
        .action_item(id)
        .await?
        .filter(|item| item.incident_id == incident.id);
    let Some(item) = item else {
        return Ok(Some(format!(
            ":warning: {} has no action item #{id}.",
            incident.reference()
        )));
    };
    if let Some(issue) = &item.jira {
        let reply = format!(
            ":ticket: Action item #{id} is already <{}|{}> in Jira.",
            issue.url, issue.key
        );
        return Ok(Some(reply));
    }
    Ok(
        match jira::export_action(uow, settings, &incident, id, &item.text, now).await? {
            true => None,
            false => Some(format!(
                ":hourglass_flowing_sand: Action item #{id} is already on its way to Jira."
            )),
        },
    )
}

/// A batch that did not commit: its items are untouched in the inbox.
struct BatchFailed {
    items: Vec<InboxItem>,
    failure: Failure,
}

/// Items taken per transaction: small enough that an acknowledgement waiting
/// for the SQLite writer never waits long.
const BATCH: i64 = 8;
/// After this many failed attempts an item is set aside (kept, with its error).
const MAX_ATTEMPTS: i32 = 12;

/// Processes the inbox.
pub struct Dispatcher {
    pub store: Arc<Store>,
    pub settings: Arc<Settings>,
    pub metrics: Arc<Metrics>,
    /// Woken by the inbox writer after each commit.
    pub inbox_stored: Arc<Notify>,
    /// Woken after outbox calls were recorded.
    pub outbox_ready: Arc<Notify>,
    /// Woken after changes that may have scheduled an earlier timer.
    pub timers_changed: Arc<Notify>,
}

impl Dispatcher {
    /// Runs until `shutdown` flips to true; unfinished items stay in the inbox.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        // After a failed batch, items go one per transaction until the
        // culprit has been found and set aside or back.
        let mut one_by_one = 0;
        loop {
            let limit = if one_by_one > 0 { 1 } else { BATCH };
            let worked = match self.process_batch(limit).await {
                Ok(count) => {
                    one_by_one = (one_by_one - count as i64).max(0);
                    count > 0
                }
                Err(BatchFailed { items, failure }) => {
                    tracing::error!(error = %failure, items = items.len(), "dispatcher batch failed");
                    if let [item] = items.as_slice() {
                        self.handle_failed_item(item, &failure).await;
                    }
                    one_by_one = items.len() as i64;
                    // A failed batch of several is retried one by one at once.
                    items.len() > 1
                }
            };
            if worked {
                continue;
            }
            tokio::select! {
                _ = self.inbox_stored.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// Takes up to `limit` items and processes them in one transaction
    /// (one commit for the batch keeps the writer free for acknowledgements).
    /// Each item runs under `catch_unwind`: a panic fails the batch like any
    /// error, so the transaction rolls back and the item can be set aside.
    async fn process_batch(&self, limit: i64) -> Result<usize, BatchFailed> {
        let now = Utc::now();
        let mut items = Vec::new();
        let result: Result<(), Failure> = async {
            let mut uow = self.store.begin().await.map_err(Failure::store)?;
            items = uow.claim_inbox(limit, now).await.map_err(Failure::store)?;
            for item in &items {
                uow.caused_by_arrival_at(item.received_at);
                let applied = AssertUnwindSafe(self.process(uow.as_mut(), item, now))
                    .catch_unwind()
                    .await;
                applied.map_err(Failure::panicked)??;
                uow.finish_inbox(item.id, now).await.map_err(Failure::store)?;
            }
            uow.commit().await.map_err(Failure::store)?;
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                if !items.is_empty() {
                    self.metrics.changed();
                    self.outbox_ready.notify_one();
                    self.timers_changed.notify_one();
                }
                Ok(items.len())
            }
            Err(failure) => Err(BatchFailed { items, failure }),
        }
    }

    /// A single item failed on its own: retry it later if the database was
    /// the trouble, otherwise (or after [`MAX_ATTEMPTS`]) set it aside.
    async fn handle_failed_item(&self, item: &InboxItem, failure: &Failure) {
        let result = if failure.is_transient() && item.attempts + 1 < MAX_ATTEMPTS {
            self.set_back(item, failure).await
        } else {
            self.metrics.inbox_set_aside.inc();
            set_aside::record(self.store.as_ref(), item, &failure.to_string(), Utc::now()).await
        };
        if let Err(error) = result {
            tracing::error!(
                inbox_id = item.id,
                error = format!("{error:#}"),
                "could not record the failure"
            );
        }
    }

    async fn set_back(&self, item: &InboxItem, failure: &Failure) -> anyhow::Result<()> {
        let backoff = Duration::from_secs(1 << item.attempts.clamp(0, 8));
        tracing::warn!(inbox_id = item.id, error = %failure, ?backoff, "inbox item failed; will retry");
        let retry_at = crate::domain::clock::later(Utc::now(), backoff);
        self.store
            .release_inbox(item.id, &failure.to_string(), retry_at)
            .await?;
        Ok(())
    }

    /// Applies one item. Database errors are transient; anything else means
    /// the item itself can never be applied.
    async fn process(&self, uow: &mut UnitOfWork, item: &InboxItem, now: DateTime<Utc>) -> Result<(), Failure> {
        let outcome = match item.kind {
            InboxKind::Command => self.command(uow, &item.payload, item.received_at, now).await,
            InboxKind::Event => self.event(uow, &item.payload, now).await,
            InboxKind::Interaction => self.interaction(uow, &item.payload, now).await,
            InboxKind::Alert => self.alerts(uow, &item.payload, item.received_at, now).await,
            InboxKind::Webhook => jira::webhook(uow, &item.payload, now).await,
        };
        outcome.map_err(Failure::classify)
    }

    async fn command(
        &self,
        uow: &mut UnitOfWork,
        payload: &str,
        received: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let invocation: SlackCommandEvent =
            crate::ingress::commands::parse_invocation(payload).context("stored slash command is not a form")?;
        match command::parse(invocation.text.as_deref().unwrap_or_default()) {
            Ok(Command::Open {
                title,
                severity,
                private,
            }) => {
                let draft = IncidentDraft::declare(&title, severity, private, invocation.user_id.as_ref(), now);
                let response_url = Some(invocation.response_url.0.to_string());
                self.declare(uow, draft, response_url, "slash_command", now).await?;
                Ok(())
            }
            Ok(Command::OpenForm { severity, private }) => {
                let context = FormContext {
                    channel_id: invocation.channel_id.to_string(),
                    response_url: Some(invocation.response_url.0.to_string()),
                };
                let view = modals::declare_form(severity, private, &context);
                Ok(open_view(
                    uow,
                    invocation.user_id.as_ref(),
                    invocation.trigger_id.as_ref(),
                    view,
                    now,
                )
                .await?)
            }
            Ok(Command::Failure { id, change }) => {
                let from = Some(invocation.channel_id.as_ref());
                let reply = match failures::change(uow, id, change, invocation.user_id.as_ref(), from, now).await? {
                    Ok(ticket) => format!(":white_check_mark: {}", views::failures::summary(&ticket)),
                    Err(refusal) => format!(":warning: {refusal}"),
                };
                let call =
                    changes::private_reply(invocation.user_id.as_ref(), invocation.response_url.0.as_str(), &reply);
                Ok(uow.enqueue(&call, now).await?)
            }
            Ok(Command::ExportAction { id }) => {
                let channel = invocation.channel_id.as_ref();
                // A new export says nothing more: the channel hears where the issue is.
                let Some(reply) = jira_export_reply(uow, &self.settings, channel, id, now).await? else {
                    return Ok(());
                };
                let call =
                    changes::private_reply(invocation.user_id.as_ref(), invocation.response_url.0.as_str(), &reply);
                Ok(uow.enqueue(&call, now).await?)
            }
            Ok(command) => match incident_change(command, received, &self.settings.file) {
                Err(refusal) => {
                    let reply = changes::private_reply(
                        invocation.user_id.as_ref(),
                        invocation.response_url.0.as_str(),
                        &refusal.reply(),
                    );
                    Ok(uow.enqueue(&reply, now).await?)
                }
                Ok(Some(change)) => {
                    let request = changes::Request {
                        channel_id: invocation.channel_id.as_ref(),
                        actor: invocation.user_id.as_ref(),
                        change,
                        source: "slash_command",
                        response_url: Some(invocation.response_url.0.as_str()),
                        quiet_when_unchanged: false,
                    };
                    Ok(changes::apply(uow, &self.settings, request, now).await?)
                }
                // Read-only commands were answered at ingress and never stored.
                Ok(None) => Ok(()),
            },
            Err(error) => anyhow::bail!("stored command no longer parses: {error}"),
        }
    }

    /// Stores the incident and records the `conversations.create` call; the
    /// rest (invite, card, announcement) follows once Slack has made the channel.
    /// Returns the new incident's id.
    async fn declare(
        &self,
        uow: &mut UnitOfWork,
        draft: IncidentDraft,
        response_url: Option<String>,
        source: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<crate::domain::IncidentId> {
        let incident = uow.insert_incident(&draft).await?;
        paging::reconcile(uow, &self.settings, &incident, false, now).await?;
        for change in timers::on_declare(&incident, &self.settings.file, now) {
            uow.apply_timer(incident.id, &change, now).await?;
        }
        let name = ChannelName::for_incident(
            &self.settings.file.slack.channel_prefix,
            now.date_naive(),
            &incident.title,
            incident.id,
            1,
        );
        uow.append_timeline(&TimelineEntry {
            incident_id: incident.id,
            at: now,
            actor: incident.declared_by.clone(),
            kind: "declared".into(),
            body: format!(
                "Declared \"{}\" ({})",
                incident.title,
                incident
                    .severity
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "severity not set".into())
            ),
            source: source.into(),
        })
        .await?;
        let call = NewOutboxCall {
            ordering_key: format!("incident:{}", incident.id),
            method: "conversations.create".into(),
            args: json!({ "name": name.as_str(), "is_private": incident.private }),
            after_send: AfterSend::IncidentChannelCreated {
                incident_id: incident.id,
                attempt: 1,
                response_url,
            },
        };
        uow.enqueue(&call, now).await?;
        tracing::info!(incident = incident.id, channel = %name, "incident declared");
        Ok(incident.id)
    }

    async fn event(&self, uow: &mut UnitOfWork, payload: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
        let mut envelope: serde_json::Value = serde_json::from_str(payload).context("stored event is not JSON")?;
        crate::text::clean_json(&mut envelope);
        events::handle(uow, &self.settings, &envelope["event"], now).await
    }
}
