//! What follows a successful Slack call, recorded in the same transaction
//! that marks the call sent (so a crash can neither lose nor repeat them).
//! Work that would hold that write transaction (recurrence matching) is
//! [`prepare`]d before it, outside any transaction.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::config::Settings;
use crate::domain::recurrence::Recurrence;
use crate::store::{AfterSend, NewOutboxCall, Store, StoreError, TimelineEntry, UnitOfWork};

/// What a follow-up needs worked out before its write transaction: reads
/// and CPU work that must not hold the writer (and so delay every ack).
#[derive(Debug, Default)]
pub struct Prepared {
    /// For a captured failure: the earlier tickets it repeats.
    pub recurrences: Vec<Recurrence>,
}

/// Prepares the follow-up of a call Slack answered, outside any transaction.
pub async fn prepare(store: &Store, after_send: &AfterSend) -> Result<Prepared, StoreError> {
    match after_send {
        AfterSend::FailurePermalink { ticket_id, .. } => Ok(Prepared {
            recurrences: crate::dispatcher::failures::find_recurrences(store, *ticket_id).await?,
        }),
        _ => Ok(Prepared::default()),
    }
}

/// Applies `after_send` for a call that Slack answered with `response`.
pub async fn apply(
    uow: &mut UnitOfWork,
    after_send: &AfterSend,
    response: &Value,
    prepared: &Prepared,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    match after_send {
        AfterSend::Nothing => Ok(()),
        AfterSend::CapturedText { captured_id } => captured_text(uow, *captured_id, response, now).await,
        AfterSend::CapturedPermalink { captured_id } => captured_permalink(uow, *captured_id, response, now).await,
        AfterSend::FailureText { ticket_id, channel, ts } => {
            failure_text(uow, *ticket_id, channel, ts, response, now).await
        }
        AfterSend::FailurePermalink {
            ticket_id,
            channel,
            thread_ts,
        } => {
            let found = &prepared.recurrences;
            failure_permalink(uow, *ticket_id, (channel, thread_ts), response, found, settings, now).await
        }
        AfterSend::UsergroupMembers { usergroup } => super::usergroups::members_arrived(uow, usergroup, response).await,
        AfterSend::AlertTicketPosted { source, dedup_key } => {
            alert_ticket_posted(uow, source, dedup_key, response, now).await
        }
        AfterSend::InviteResponders { channel } => {
            super::usergroups::invite_responders(uow, channel, response, now).await
        }
        AfterSend::AlertEvent {
            incident_id,
            system,
            dedup_key,
        } => super::vendors::delivered(uow, *incident_id, system, dedup_key, now).await,
        AfterSend::RollbackDispatched {
            incident_id,
            service,
            request_id,
        } => super::vendors::rollback_started(uow, *incident_id, service, request_id, response, now).await,
        AfterSend::JiraIssue {
            subject,
            channel,
            thread_ts,
        } => super::vendors::jira_issue_created(uow, subject, (channel, thread_ts), response, now).await,
        AfterSend::StatuspageIncident { incident_id } => {
            match response["id"]
                .as_str()
                .filter(|id| crate::outbound::statuspage::is_incident_id(id))
            {
                Some(id) => uow.set_statuspage_id(*incident_id, id).await,
                None => Err(StoreError::Corrupt(
                    "Statuspage answered without a valid incident id".into(),
                )),
            }
        }
        AfterSend::ChannelInfo { channel } => super::channels::info_arrived(uow, channel, response, now).await,
        AfterSend::ChannelMembers { channel, first_page } => {
            super::channels::members_arrived(uow, channel, *first_page, response, now).await
        }
        AfterSend::FailureReplyPosted { ticket_id } => match response["ts"].as_str() {
            Some(ts) => uow.set_ticket_reply(*ticket_id, ts).await,
            None => Err(StoreError::Corrupt("chat.postMessage answered without ts".into())),
        },
        AfterSend::IncidentCardPosted { incident_id } => match response["ts"].as_str() {
            Some(ts) => uow.set_incident_card(*incident_id, ts).await,
            None => Err(StoreError::Corrupt("chat.postMessage answered without ts".into())),
        },
        AfterSend::IncidentChannelCreated {
            incident_id,
            response_url,
            ..
        } => {
            super::channel_ready::channel_created(uow, *incident_id, response_url.as_deref(), response, settings, now)
                .await
        }
    }
}

/// The captured message's text arrived: keep it, then ask for its permalink.
async fn captured_text(
    uow: &mut UnitOfWork,
    captured_id: i64,
    response: &Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(captured) = uow.captured(captured_id).await? else {
        return Ok(());
    };
    let messages = response["messages"].as_array().cloned().unwrap_or_default();
    let message = messages
        .iter()
        .find(|m| m["ts"] == captured.ts.as_str())
        .or(messages.first());
    if let Some(message) = message {
        let text = &crate::text::from_slack(message["text"].as_str().unwrap_or_default());
        uow.set_captured_text(captured_id, text, message["user"].as_str())
            .await?;
    }
    uow.enqueue(&permalink_call(&captured.channel_id, &captured.ts, captured_id), now)
        .await
}

/// The flagged message's text arrived: keep it (and its thread), then fetch the permalink.
async fn failure_text(
    uow: &mut UnitOfWork,
    ticket_id: i64,
    channel: &str,
    ts: &str,
    response: &Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let messages = response["messages"].as_array().cloned().unwrap_or_default();
    let message = messages.iter().find(|m| m["ts"] == ts).or(messages.first());
    let thread_ts = message.and_then(|m| m["thread_ts"].as_str()).unwrap_or(ts).to_string();
    if let Some(message) = message {
        let text = &crate::text::from_slack(message["text"].as_str().unwrap_or_default());
        uow.set_ticket_source(ticket_id, text, message["user"].as_str(), message["thread_ts"].as_str())
            .await?;
    }
    let call = NewOutboxCall {
        ordering_key: format!("read:{channel}"),
        method: "chat.getPermalink".into(),
        args: json!({ "channel": channel, "message_ts": ts }),
        after_send: AfterSend::FailurePermalink {
            ticket_id,
            channel: channel.to_string(),
            thread_ts,
        },
    };
    uow.enqueue(&call, now).await
}

/// The post of an alert routed to a ticket is in Slack: it becomes the
/// ticket's message, and the usual flow (permalink, thread reply with the
/// triage buttons) follows.
async fn alert_ticket_posted(
    uow: &mut UnitOfWork,
    source: &str,
    dedup_key: &str,
    response: &Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (Some(channel), Some(ts)) = (response["channel"].as_str(), response["ts"].as_str()) else {
        return Err(StoreError::Corrupt(
            "chat.postMessage answered without channel and ts".into(),
        ));
    };
    let reporter = format!("{}{source}", crate::domain::incident::ALERT_DECLARER);
    let failure = crate::store::NewFailure {
        channel_id: channel,
        ts,
        author: None,
        reporter: &reporter,
        incident_id: None,
    };
    let Some(ticket_id) = uow.capture_failure(&failure, now).await? else {
        return Ok(());
    };
    uow.link_alert_ticket(source, dedup_key, ticket_id).await?;
    super::channels::learn(uow, channel, now).await?;
    let as_read = json!({ "messages": [response["message"]] });
    failure_text(uow, ticket_id, channel, ts, &as_read, now).await
}

/// The permalink arrived: tell the thread the ticket exists.
async fn failure_permalink(
    uow: &mut UnitOfWork,
    ticket_id: i64,
    (channel, thread_ts): (&str, &str),
    response: &Value,
    found: &[Recurrence],
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if let Some(permalink) = response["permalink"].as_str() {
        uow.set_ticket_permalink(ticket_id, permalink).await?;
    }
    let Some(ticket) = uow.ticket(ticket_id).await? else {
        return Ok(());
    };
    let earlier = crate::dispatcher::failures::record_recurrences(uow, &ticket, found, now).await?;
    let mut args = crate::views::failures::ticket_card(&ticket);
    args["channel"] = json!(channel);
    args["thread_ts"] = json!(thread_ts);
    let card = NewOutboxCall {
        ordering_key: format!("channel:{channel}"),
        method: "chat.postMessage".into(),
        args,
        after_send: AfterSend::FailureReplyPosted { ticket_id },
    };
    uow.enqueue(&card, now).await?;
    if !earlier.is_empty() {
        let flag = crate::views::failures::recurrence_line(&earlier);
        let call = NewOutboxCall {
            ordering_key: format!("channel:{channel}"),
            method: "chat.postMessage".into(),
            args: json!({ "channel": channel, "thread_ts": thread_ts, "text": flag }),
            after_send: AfterSend::Nothing,
        };
        uow.enqueue(&call, now).await?;
    }
    if crate::dispatcher::jira::exports_tickets(settings, &ticket) {
        crate::dispatcher::jira::export_ticket(uow, settings, &ticket, now).await?;
    }
    Ok(())
}

/// `chat.getPermalink` for a captured message.
pub fn permalink_call(channel_id: &str, ts: &str, captured_id: i64) -> NewOutboxCall {
    NewOutboxCall {
        ordering_key: format!("read:{channel_id}"),
        method: "chat.getPermalink".into(),
        args: json!({ "channel": channel_id, "message_ts": ts }),
        after_send: AfterSend::CapturedPermalink { captured_id },
    }
}

/// The permalink arrived: the capture is complete and joins the timeline.
async fn captured_permalink(
    uow: &mut UnitOfWork,
    captured_id: i64,
    response: &Value,
    _now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(mut captured) = uow.captured(captured_id).await? else {
        return Ok(());
    };
    if let Some(permalink) = response["permalink"].as_str() {
        uow.set_captured_permalink(captured_id, permalink).await?;
        captured.permalink = Some(permalink.to_string());
    }
    uow.append_timeline(&TimelineEntry {
        incident_id: captured.incident_id,
        at: captured.captured_at,
        actor: captured.captured_by.clone(),
        kind: "message".into(),
        body: captured.timeline_line(),
        source: captured.source.clone(),
    })
    .await
}
