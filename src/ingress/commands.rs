//! `POST /slack/commands`: the `/incident` slash command.
//!
//! Read-only subcommands (`help`, `list`) and bad input are answered straight
//! away; anything that changes state is stored in the inbox first and
//! acknowledged with an ephemeral "working on it".

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::Value;
use slack_morphism::prelude::SlackCommandEvent;

use super::{IngressError, verified_body};
use crate::domain::command::FailureList;
use crate::domain::{Audience, Command, command, failure, lifecycle};
use crate::startup::AppState;
use crate::store::TicketFilter;
use crate::store::{InboxKind, NewInboxItem};
use crate::views::{self, failures, reminders, replies};
use crate::{dispatcher, reports};

pub async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, IngressError> {
    let text = verified_body(&state, &headers, &body)?;
    accept(&state, text).await
}

/// Answers a verified slash command (form-encoded, as Slack posts it).
pub(super) async fn accept(state: &AppState, text: &str) -> Result<Json<Value>, IngressError> {
    let invocation = parse_form(text)?;
    let command = match command::parse(invocation.text.as_deref().unwrap_or_default()) {
        Ok(command) => command,
        Err(error) => return Ok(Json(views::ephemeral(&error.reply()))),
    };
    // Replies are ephemeral: private content is shown to members only.
    let here = invocation.channel_id.as_ref();
    let member_of = match command {
        Command::List | Command::Failures(_) | Command::Failure { .. } | Command::ShowFailure { .. } => {
            state.store.private_channels_of(invocation.user_id.as_ref()).await?
        }
        _ => Default::default(),
    };
    let reader = Audience::Person {
        channel: here,
        member_of: &member_of,
    };
    match command {
        Command::Help => Ok(Json(views::ephemeral(&replies::help()))),
        Command::List => {
            let incidents = state.store.open_incidents().await?;
            Ok(Json(views::ephemeral(&replies::list(
                &incidents,
                &reader,
                chrono::Utc::now(),
            ))))
        }
        Command::Open { ref title, .. } => {
            let reply = replies::declaring(title);
            store_invocation(state, &invocation, text).await?;
            Ok(Json(views::ephemeral(&reply)))
        }
        Command::Failures(list) => {
            let user = invocation.user_id.to_string();
            let (filter, title) = match list {
                FailureList::Open => (TicketFilter::Open, "open failure tickets".to_string()),
                FailureList::Mine => (TicketFilter::OwnedBy(user), "open failure tickets of yours".to_string()),
                FailureList::Tagged(tag) => (
                    TicketFilter::Tagged(tag.clone()),
                    format!("open failure tickets tagged `{}`", crate::text::mrkdwn(&tag)),
                ),
            };
            let tickets: Vec<_> = state
                .store
                .tickets(&filter)
                .await?
                .iter()
                .map(|t| t.seen_by(&reader))
                .collect();
            Ok(Json(views::ephemeral(&failures::list(&title, &tickets))))
        }
        Command::Failure { id, ref change } => {
            let Some(ticket) = state.store.ticket(id).await? else {
                return Ok(Json(views::ephemeral(&format!(
                    ":warning: There is no failure #{id} (see `/incident failures`)."
                ))));
            };
            if !ticket.visible_to(&reader) {
                let refusal = dispatcher::failures::private_refusal(id);
                return Ok(Json(views::ephemeral(&format!(":lock: {refusal}"))));
            }
            if let Err(refusal) = failure::apply(&ticket, change.clone(), chrono::Utc::now()) {
                return Ok(Json(views::ephemeral(&format!(":warning: {refusal}"))));
            }
            store_invocation(state, &invocation, text).await?;
            Ok(Json(views::ephemeral(&format!(":ok_hand: Updating failure *#{id}*…"))))
        }
        Command::ShowFailure { id } => {
            let store = state.store.as_ref();
            let reply = match store.ticket(id).await? {
                None => format!(":warning: There is no failure #{id} (see `/incident failures`)."),
                Some(ticket) => {
                    let (history, earlier) = if ticket.visible_to(&reader) {
                        (store.ticket_history(id).await?, store.recurrences_of(id).await?)
                    } else {
                        (vec![], vec![])
                    };
                    let earlier: Vec<_> = earlier.iter().map(|t| t.seen_by(&reader)).collect();
                    failures::detail(&ticket.seen_by(&reader), &history, &earlier)
                }
            };
            Ok(Json(views::ephemeral(&reply)))
        }
        Command::Stats { window } => {
            let stats = reports::stats(state.store.as_ref(), &state.settings.file, window, chrono::Utc::now()).await?;
            Ok(Json(views::ephemeral(&views::stats::render(&stats))))
        }
        Command::ExportAction { .. } if state.settings.file.integrations.jira.is_none() => Ok(Json(views::ephemeral(
            ":warning: Jira is not set up: add `[integrations.jira]` to Rebound's configuration.",
        ))),
        Command::ExportAction { id } => {
            let Some(incident) = state.store.incident_by_channel(here).await? else {
                return Ok(Json(views::ephemeral(
                    ":warning: Run this inside the incident channel of the action item.",
                )));
            };
            if !state
                .store
                .action_items(incident.id)
                .await?
                .iter()
                .any(|item| item.id == id)
            {
                let reply = format!(":warning: {} has no action item #{id}.", incident.reference());
                return Ok(Json(views::ephemeral(&reply)));
            }
            store_invocation(state, &invocation, text).await?;
            Ok(Json(views::ephemeral(&format!(
                ":ok_hand: Exporting action item #{id}…"
            ))))
        }
        Command::OpenForm { .. } => {
            store_invocation(state, &invocation, text).await?;
            Ok(Json(views::ephemeral(":memo: Opening the declaration form…")))
        }
        other => answer_incident_command(state, &invocation, text, other).await,
    }
}

/// Subcommands that act on an incident: checked against its current state
/// for an immediate answer, then stored when run in an incident channel. The
/// dispatcher decides again on the locked state, so a change that raced
/// another is still judged correctly.
async fn answer_incident_command(
    state: &AppState,
    invocation: &SlackCommandEvent,
    raw: &str,
    command: Command,
) -> Result<Json<Value>, IngressError> {
    let Some(incident) = state.store.incident_by_channel(invocation.channel_id.as_ref()).await? else {
        return Ok(Json(views::ephemeral(
            ":warning: Run this inside an incident channel (see `/incident list`).",
        )));
    };
    let now = chrono::Utc::now();
    if matches!(command, Command::Reminders) {
        let timers = state.store.pending_timers(incident.id).await?;
        let timers: Vec<_> = timers.into_iter().map(|t| (t.kind, t.due_at, t.every)).collect();
        return Ok(Json(views::ephemeral(&reminders::listing(
            &incident.reference(),
            &timers,
            now,
        ))));
    }
    let change = match dispatcher::incident_change(command, now, &state.settings.file) {
        Ok(change) => change,
        Err(refusal) => return Ok(Json(views::ephemeral(&refusal.reply()))),
    };
    if let Some(change) = change {
        let actor = invocation.user_id.as_ref();
        let policy = &state.settings.file.permissions;
        let groups = match policy.has_admin_groups() {
            true => state.store.usergroups_of(actor).await?,
            false => Default::default(),
        };
        let policy = policy.applied_to(actor, &groups);
        if let Err(refusal) = lifecycle::decide(&incident, actor, change, &policy, now) {
            return Ok(Json(views::ephemeral(&format!(":warning: {refusal}"))));
        }
    }
    store_invocation(state, invocation, raw).await?;
    Ok(Json(views::ephemeral(&format!(
        ":ok_hand: Updating *{}*…",
        incident.reference()
    ))))
}

fn parse_form(text: &str) -> Result<SlackCommandEvent, IngressError> {
    parse_invocation(text).map_err(|e| IngressError::Malformed(format!("slash command form: {e}")))
}

/// A slash command as Rebound reads it, at ingress and in the dispatcher
/// alike: its `text` plain (Slack's escaping undone once), NUL-free.
pub fn parse_invocation(raw: &str) -> Result<SlackCommandEvent, serde_urlencoded::de::Error> {
    serde_urlencoded::from_str(&crate::text::slash_command_form(raw)?)
}

async fn store_invocation(state: &AppState, invocation: &SlackCommandEvent, raw: &str) -> Result<(), IngressError> {
    // trigger_id is unique per invocation, so a repeated delivery is recognised.
    let item = NewInboxItem {
        kind: InboxKind::Command,
        dedupe_key: format!("command:{}", invocation.trigger_id),
        payload: raw.to_string(),
    };
    state.inbox.write(item).await?;
    Ok(())
}
