//! Applying a responder's change to an incident: the domain decides, and this
//! records the outcome (incident, timeline, card refresh, channel and
//! announce-channel posts, or an ephemeral refusal) in the current transaction.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::config::Settings;
use crate::domain::{Change, Happened, Incident, LifecycleError, comms, lifecycle, timers};
use crate::store::{AfterSend, NewOutboxCall, RESPONSE_URL_METHOD, StoreResult, TimelineEntry, UnitOfWork};
use crate::views;

/// Who asked for a change, from where, and how to answer them privately.
pub struct Request<'a> {
    pub channel_id: &'a str,
    pub actor: &'a str,
    pub change: Change,
    /// `slash_command` or `card`.
    pub source: &'static str,
    pub response_url: Option<&'a str>,
    /// Double clicks and repeated selections say nothing; typed commands explain.
    pub quiet_when_unchanged: bool,
}

/// Decides and records one change.
pub async fn apply(
    uow: &mut UnitOfWork,
    settings: &Settings,
    request: Request<'_>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let Some(incident) = uow.incident_by_channel(request.channel_id).await? else {
        return reply(
            uow,
            &request,
            ":warning: This channel is not an incident channel (see `/incident list`).",
            now,
        )
        .await;
    };
    let policy = &settings.file.permissions;
    let groups = match policy.has_admin_groups() {
        true => uow.usergroups_of(request.actor).await?,
        false => Default::default(),
    };
    let policy = policy.applied_to(request.actor, &groups);
    match lifecycle::decide(&incident, request.actor, request.change.clone(), &policy, now) {
        Ok((next, happened)) => {
            let promised = |severity| settings.file.update_every(severity);
            if let Some(gap) = comms::closed_gap(&incident, &happened, promised, now) {
                uow.insert_comms_gap(incident.id, &gap, now).await?;
            }
            record(uow, settings, &request, &next, &happened, now).await
        }
        Err(LifecycleError::Unchanged(_)) if request.quiet_when_unchanged => Ok(()),
        Err(refusal) => reply(uow, &request, &format!(":warning: {refusal}"), now).await,
    }
}

/// Records a change the domain allowed (also used by alert auto-resolve).
pub(super) async fn record(
    uow: &mut UnitOfWork,
    settings: &Settings,
    request: &Request<'_>,
    incident: &Incident,
    happened: &Happened,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    uow.save_incident(incident).await?;
    let lead_named = matches!(happened, Happened::LeadChanged { .. });
    super::paging::reconcile(uow, settings, incident, lead_named, now).await?;
    for change in timers::on_change(incident, happened, &settings.file, now) {
        uow.apply_timer(incident.id, &change, now).await?;
    }
    if let Happened::SeverityChanged { to, .. } = happened {
        uow.record_severity(incident.id, *to, now).await?;
    }
    match happened {
        Happened::PublicUpdate(text) if !incident.private => {
            let public = crate::views::markdown::unbolded_headings(text);
            uow.publish_update(incident.id, incident.status.as_str(), &public, now)
                .await?;
        }
        Happened::PostmortemPublished(text) if !incident.private => {
            let public = crate::views::markdown::unbolded_headings(text);
            uow.publish_update(incident.id, crate::domain::status_page::POSTMORTEM_UPDATE, &public, now)
                .await?;
        }
        Happened::ComponentImpact { component, state } => {
            uow.set_component(component, *state, Some(incident.id), now).await?;
        }
        Happened::Resolved { .. } => uow.restore_components(incident.id, now).await?,
        _ => {}
    }
    super::statuspage::mirror(uow, settings, incident, happened, now).await?;
    if let Happened::ActionAdded(item) = happened {
        let id = uow.insert_action_item(incident.id, item, request.actor, now).await?;
        if super::jira::exports_action_items(settings, incident) {
            super::jira::export_action(uow, settings, incident, id, &item.text, now).await?;
        }
        if let Some(due_at) = item.due_at {
            uow.apply_timer(incident.id, &timers::for_action_item(id, due_at), now)
                .await?;
        }
    }
    let line = happened.describe();
    uow.append_timeline(&TimelineEntry {
        incident_id: incident.id,
        at: now,
        actor: request.actor.to_string(),
        kind: happened.kind().into(),
        body: line.clone(),
        source: request.source.into(),
    })
    .await?;
    let in_channel = format!("channel:{}", request.channel_id);
    for call in [
        refresh_card(incident, request.channel_id, &in_channel),
        post(
            &in_channel,
            request.channel_id,
            &format!("{} {line}", crate::domain::incident::actor_mention(request.actor)),
        ),
    ] {
        uow.enqueue(&call, now).await?;
    }
    if let Happened::Resolved { .. } = happened {
        let link = postmortem_link(settings, incident);
        let summary = views::postmortem::resolved_summary(incident, link.as_deref());
        uow.enqueue(&post(&in_channel, request.channel_id, &summary), now)
            .await?;
    }
    if happened.changes_topic() {
        uow.enqueue(&set_topic(incident, request.channel_id), now).await?;
    }
    if happened.is_announced() && !incident.private {
        let announce = &settings.file.slack.announce_channel;
        let text = announcement(incident, request.channel_id, happened);
        uow.enqueue(&post(&format!("channel:{announce}"), announce, &text), now)
            .await?;
    }
    Ok(())
}

/// `chat.update` of the card; the worker fills in the card's `ts` and the
/// current rendering when it sends, so it always shows the latest state.
pub fn refresh_card(incident: &Incident, channel_id: &str, ordering_key: &str) -> NewOutboxCall {
    NewOutboxCall {
        ordering_key: ordering_key.into(),
        method: "chat.update".into(),
        args: json!({ "channel": channel_id, CARD_OF: incident.id }),
        after_send: AfterSend::Nothing,
    }
}

/// `conversations.setTopic` with the incident's severity, status and lead
/// as they are when it is sent (so queued topic changes coalesce).
pub fn set_topic(incident: &Incident, channel_id: &str) -> NewOutboxCall {
    NewOutboxCall {
        ordering_key: format!("channel:{channel_id}"),
        method: "conversations.setTopic".into(),
        args: json!({ "channel": channel_id, TOPIC_OF: incident.id }),
        after_send: AfterSend::Nothing,
    }
}

/// Marks a `chat.update` whose `ts` and blocks come from the incident at send time.
pub const CARD_OF: &str = "rebound_card_of_incident";

/// Marks a `conversations.setTopic` whose topic comes from the incident at send time.
pub const TOPIC_OF: &str = "rebound_topic_of_incident";

fn post(ordering_key: &str, channel: &str, text: &str) -> NewOutboxCall {
    NewOutboxCall {
        ordering_key: ordering_key.into(),
        method: "chat.postMessage".into(),
        args: json!({ "channel": channel, "text": views::clip(text, 3900), "unfurl_links": false }),
        after_send: AfterSend::Nothing,
    }
}

fn announcement(incident: &Incident, channel_id: &str, happened: &Happened) -> String {
    let reference = incident.reference();
    let title = crate::text::mrkdwn(&incident.title);
    match happened {
        Happened::CustomerUpdate(text) => {
            let text = crate::text::mrkdwn(text);
            format!(":loudspeaker: *{reference}* {title} — update: {text} (<#{channel_id}>)")
        }
        Happened::Resolved { .. } => format!(
            ":white_check_mark: *{reference}* {title} — {} (<#{channel_id}>)",
            happened.describe()
        ),
        _ => format!(
            ":rotating_light: *{reference}* {title} — {} (<#{channel_id}>)",
            happened.describe()
        ),
    }
}

async fn reply(uow: &mut UnitOfWork, request: &Request<'_>, text: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let Some(url) = request.response_url else {
        tracing::info!(actor = request.actor, text, "refused change with nowhere to reply");
        return Ok(());
    };
    uow.enqueue(&private_reply(request.actor, url, text), now).await
}

/// An ephemeral answer to `actor` through their interaction's
/// `response_url`, queued behind their earlier answers so they read in order.
pub fn private_reply(actor: &str, response_url: &str, text: &str) -> NewOutboxCall {
    NewOutboxCall {
        ordering_key: format!("respond:{actor}"),
        method: RESPONSE_URL_METHOD.into(),
        args: json!({ "url": response_url, "body": views::ephemeral(text) }),
        after_send: AfterSend::Nothing,
    }
}

/// Where the post-mortem draft can be read, when a public URL is configured
/// (private incidents have none: their drafts are for the CLI only).
fn postmortem_link(settings: &Settings, incident: &Incident) -> Option<String> {
    let base = settings.file.web.public_url.as_deref()?;
    (!incident.private).then(|| format!("{}/incidents/{}/postmortem", base.trim_end_matches('/'), incident.id))
}
