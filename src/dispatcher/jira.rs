//! Exporting action items and failure tickets to Jira: each is asked for
//! once (a second request says where it went), and recorded with its
//! outbox call in the transaction that asks for it. The worker creates the
//! issue, or after an unknown outcome finds it by its label first. Jira's
//! webhook closes an exported action item when its issue is done.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::config::Settings;
use crate::domain::Incident;
use crate::domain::failure::Ticket;
use crate::domain::jira::{self, Export, Subject};
use crate::intake::jira::VendorWebhook;
use crate::store::{AfterSend, NewOutboxCall, StoreResult, TimelineEntry, UnitOfWork};

/// Outbox method of a Jira issue creation.
pub const JIRA_METHOD: &str = "jira.create_issue";

/// Whether new action items of `incident` go to Jira without being asked.
pub fn exports_action_items(settings: &Settings, incident: &Incident) -> bool {
    let export = settings.file.integrations.jira.as_ref().map(|j| j.export);
    // A private incident's items are exported only when someone asks.
    matches!(export, Some(Export::ActionItems | Export::All)) && !incident.private
}

/// Whether a new failure ticket goes to Jira without being asked.
pub fn exports_tickets(settings: &Settings, ticket: &Ticket) -> bool {
    let export = settings.file.integrations.jira.as_ref().map(|j| j.export);
    matches!(export, Some(Export::All)) && !ticket.private
}

/// Asks for action item `id` of `incident` to be exported; false when it
/// already was asked for.
pub async fn export_action(
    uow: &mut UnitOfWork,
    settings: &Settings,
    incident: &Incident,
    id: i64,
    text: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let origin = format!("{} action item #{id}", incident.reference());
    let link = crate::dispatcher::paging::incident_url(settings, incident);
    let tell = incident.channel_id.clone();
    export(
        uow,
        Subject::ActionItem(id),
        text,
        &origin,
        link.as_deref(),
        (tell, None),
        now,
    )
    .await
}

/// Asks for failure ticket `ticket` to be exported; its thread is told.
pub async fn export_ticket(
    uow: &mut UnitOfWork,
    settings: &Settings,
    ticket: &Ticket,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let origin = format!("Failure ticket #{}", ticket.id);
    let link = settings
        .file
        .web
        .public_url
        .as_deref()
        .map(|base| format!("{}/failures", base.trim_end_matches('/')));
    let text = ticket.text.clone().unwrap_or_else(|| origin.clone());
    let thread = ticket.thread_ts.clone().or_else(|| Some(ticket.ts.clone()));
    let tell = (Some(ticket.channel_id.clone()), thread);
    export(
        uow,
        Subject::Ticket(ticket.id),
        &text,
        &origin,
        link.as_deref(),
        tell,
        now,
    )
    .await
}

async fn export(
    uow: &mut UnitOfWork,
    subject: Subject,
    text: &str,
    origin: &str,
    link: Option<&str>,
    (channel, thread_ts): (Option<String>, Option<String>),
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    if !uow.request_jira_export(subject, now).await? {
        return Ok(false);
    }
    let call = NewOutboxCall {
        ordering_key: format!("jira:{}", subject.key()),
        method: JIRA_METHOD.into(),
        args: json!({
            "summary": jira::summary(&crate::text::plain(text)),
            "description": jira::description(&crate::text::plain(text), origin, link),
            "label": subject.label(),
        }),
        after_send: AfterSend::JiraIssue {
            subject: subject.key(),
            channel,
            thread_ts,
        },
    };
    uow.enqueue(&call, now).await?;
    Ok(true)
}

/// A webhook from an outbound integration's system, as `intake::jira` stored it.
pub(super) async fn webhook(uow: &mut UnitOfWork, payload: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
    let stored: VendorWebhook = serde_json::from_str(payload).context("stored webhook is not a known record")?;
    match stored {
        VendorWebhook::JiraIssueDone { issue_key } => issue_done(uow, &issue_key, now).await?,
    }
    Ok(())
}

/// Jira says issue `key` is done (its webhook): the action item exported to
/// it is completed once, its reminders stop, and the incident's timeline
/// and channel say so. Issues Rebound did not make, failure tickets (they
/// close with a lesson, in Slack) and items already done change nothing.
pub async fn issue_done(uow: &mut UnitOfWork, key: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let Some(Subject::ActionItem(id)) = uow.jira_subject(key).await? else {
        return Ok(());
    };
    let Some(item) = uow.action_item(id).await? else {
        return Ok(());
    };
    if !super::interactions::complete_action_item(uow, &item, now).await? {
        return Ok(());
    }
    let issue = match &item.jira {
        Some(link) => format!("<{}|{}>", link.url, crate::text::mrkdwn(&link.key)),
        None => crate::text::mrkdwn(key),
    };
    let line = format!(
        "completed action item #{id} (its Jira issue {issue} is done): {}",
        crate::text::mrkdwn(&item.text)
    );
    uow.append_timeline(&TimelineEntry {
        incident_id: item.incident_id,
        at: now,
        actor: "jira".into(),
        kind: "action_item".into(),
        body: line.clone(),
        source: "jira".into(),
    })
    .await?;
    let channel = uow.incident(item.incident_id).await?.and_then(|i| i.channel_id);
    if let Some(channel) = channel {
        let note = NewOutboxCall {
            ordering_key: format!("channel:{channel}"),
            method: "chat.postMessage".into(),
            args: json!({ "channel": channel, "text": format!("Jira {line}") }),
            after_send: AfterSend::Nothing,
        };
        uow.enqueue(&note, now).await?;
    }
    Ok(())
}
