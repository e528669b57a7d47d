//! Follow-ups of vendor calls. A PagerDuty or Zenduty event accepted marks
//! the alert delivered and refreshes the card ("Paged …"); a refused one is
//! kept on the alert and shown on the card. Every refusal (paging or
//! Statuspage) is told in the incident channel, where the change that
//! caused it was made — never dropped silently.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::dispatcher::refresh_card;
use crate::domain::IncidentId;
use crate::domain::jira::Subject;
use crate::domain::paging::AlertSystem;
use crate::store::IssueLink;
use crate::store::paging::PagingAlert;
use crate::store::{AfterSend, NewOutboxCall, OutboxCall, StoreError, UnitOfWork};

/// The vendor accepted the event.
pub async fn delivered(
    uow: &mut UnitOfWork,
    incident_id: IncidentId,
    system: &str,
    dedup_key: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let system = parse(system)?;
    uow.alert_delivered(system, dedup_key, now).await?;
    update_channel(uow, incident_id, None, now).await
}

/// The vendor refused the call for good (or it could not be sent).
pub async fn refused(
    uow: &mut UnitOfWork,
    call: &OutboxCall,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    match &call.after_send {
        AfterSend::AlertEvent {
            incident_id,
            system,
            dedup_key,
        } => {
            let system = parse(system)?;
            uow.alert_refused(system, dedup_key, error).await?;
            let notice = refusal_notice(system.display_name(), "alert", system.as_str(), error);
            update_channel(uow, *incident_id, Some(&notice), now).await
        }
        AfterSend::StatuspageIncident { incident_id } => {
            let notice = refusal_notice("Statuspage", "public update", "statuspage", error);
            update_channel(uow, *incident_id, Some(&notice), now).await
        }
        AfterSend::RollbackDispatched {
            incident_id, service, ..
        } => {
            let notice = format!(
                ":warning: GitHub did not start the rollback of *{}*: {}. Check `[integrations.github]` (the \
                 token's Actions permission, the repo, workflow and ref) and that the workflow has a \
                 `workflow_dispatch` trigger with the inputs `incident` and `request_id`.",
                crate::text::mrkdwn(service),
                crate::text::mrkdwn(error)
            );
            update_channel(uow, *incident_id, Some(&notice), now).await
        }
        AfterSend::JiraIssue {
            subject,
            channel: Some(channel),
            thread_ts,
        } => {
            let what = Subject::parse(subject)
                .map(|s| s.describe())
                .unwrap_or_else(|| subject.clone());
            let notice = format!(
                ":warning: Jira did not take {what}: {}. Check `[integrations.jira]` in Rebound's configuration \
                 (project, issue type, the token's permissions), then ask again with `/incident action <n> jira`.",
                crate::text::mrkdwn(error)
            );
            uow.enqueue(&in_thread(notice_call(channel, &notice), thread_ts), now)
                .await
        }
        _ => Ok(()),
    }
}

/// What the incident channel is told when a system refused a call.
fn refusal_notice(system: &str, what: &str, key: &str, error: &str) -> String {
    format!(
        ":warning: {system} did not take this incident's {what}: {}. Check `[integrations.{key}]` in \
         Rebound's configuration; the incident itself is unaffected.",
        crate::text::mrkdwn(error),
    )
}

/// Notices for refusals that came before the incident had a channel to tell.
pub fn earlier_refusals(alerts: &[PagingAlert], channel: &str) -> Vec<NewOutboxCall> {
    alerts
        .iter()
        .filter_map(|alert| Some((alert.system, alert.last_error.as_deref()?)))
        .map(|(system, error)| {
            let notice = refusal_notice(system.display_name(), "alert", system.as_str(), error);
            notice_call(channel, &notice)
        })
        .collect()
}

/// `call` as a reply in the thread `thread_ts`, if there is one.
fn in_thread(mut call: NewOutboxCall, thread_ts: &Option<String>) -> NewOutboxCall {
    if let Some(ts) = thread_ts {
        call.args["thread_ts"] = json!(ts);
    }
    call
}

fn notice_call(channel: &str, text: &str) -> NewOutboxCall {
    NewOutboxCall {
        ordering_key: format!("channel:{channel}"),
        method: "chat.postMessage".into(),
        args: json!({ "channel": channel, "text": text, "unfurl_links": false }),
        after_send: AfterSend::Nothing,
    }
}

/// GitHub started (or a retry found) the rollback run: keep its URL and say where it is.
pub async fn rollback_started(
    uow: &mut UnitOfWork,
    incident_id: crate::domain::IncidentId,
    service: &str,
    request_id: &str,
    response: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    // Only a GitHub web URL is linked: the answer is the vendor's, not ours.
    let run_url = response["html_url"].as_str().filter(|url| {
        url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "https" | "http")) && !url.contains(['|', '>', '<'])
    });
    let line = match run_url {
        Some(url) => {
            uow.set_rollback_run(request_id, url).await?;
            format!(
                "rollback of *{}* is running: <{url}|workflow run>",
                crate::text::mrkdwn(service)
            )
        }
        None => format!(
            "rollback of *{}* was started (GitHub gave no run link; request `{request_id}`)",
            crate::text::mrkdwn(service)
        ),
    };
    uow.append_timeline(&crate::store::TimelineEntry {
        incident_id,
        at: now,
        actor: "rebound".into(),
        kind: "rollback".into(),
        body: line.clone(),
        source: "github".into(),
    })
    .await?;
    let Some(channel) = uow.incident(incident_id).await?.and_then(|i| i.channel_id) else {
        return Ok(());
    };
    uow.enqueue(&notice_call(&channel, &format!(":rewind: The {line}.")), now)
        .await
}

/// Jira made (or a retry found) the issue for `subject`: keep it and say where it is.
pub async fn jira_issue_created(
    uow: &mut UnitOfWork,
    subject: &str,
    (channel, thread_ts): (&Option<String>, &Option<String>),
    response: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let subject = Subject::parse(subject).ok_or_else(|| StoreError::Corrupt(format!("jira subject {subject:?}")))?;
    let (Some(key), Some(url)) = (response["key"].as_str(), response["url"].as_str()) else {
        return Err(StoreError::Corrupt("Jira answered without an issue key".into()));
    };
    let issue = IssueLink {
        key: key.to_string(),
        url: url.to_string(),
    };
    uow.set_jira_issue(subject, &issue).await?;
    if let Some(channel) = channel {
        let text = format!(
            ":ticket: {} is <{}|{}> in Jira.",
            subject.describe(),
            issue.url,
            issue.key
        );
        uow.enqueue(&in_thread(notice_call(channel, &text), thread_ts), now)
            .await?;
    }
    Ok(())
}

fn parse(system: &str) -> Result<AlertSystem, StoreError> {
    AlertSystem::parse(system).ok_or_else(|| StoreError::Corrupt(format!("alert system {system:?}")))
}

/// Re-renders the card (and posts `notice`) once the channel exists; before
/// that, the card is first posted with the alert's state already in it,
/// and the notice follows it ([`earlier_refusals`]).
async fn update_channel(
    uow: &mut UnitOfWork,
    incident_id: IncidentId,
    notice: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(incident) = uow.incident(incident_id).await? else {
        return Ok(());
    };
    let Some(channel) = incident.channel_id.clone() else {
        return Ok(());
    };
    let in_channel = format!("channel:{channel}");
    // Queued behind the card's first post in the same channel, so it
    // finds the card's `ts` even when the card is not out yet.
    uow.enqueue(&refresh_card(&incident, &channel, &in_channel), now)
        .await?;
    if let Some(text) = notice {
        uow.enqueue(&notice_call(&channel, text), now).await?;
    }
    Ok(())
}
