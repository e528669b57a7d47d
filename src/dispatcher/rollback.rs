//! The card's *Run rollback* button: the domain decides who may and whether
//! a press repeats one moments ago ([`crate::domain::rollback`]); this
//! records the request, its timeline entry, a line in the channel and the
//! `workflow_dispatch` call in one transaction.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::config::Settings;
use crate::config::integrations::RunBy;
use crate::domain::rollback;
use crate::store::rollbacks::NewRollback;
use crate::store::{AfterSend, NewOutboxCall, TimelineEntry, UnitOfWork};

/// Outbox method of a GitHub Actions `workflow_dispatch`.
pub const GITHUB_METHOD: &str = "github.workflow_dispatch";

/// Someone pressed *Run rollback* (after confirming).
pub async fn pressed(
    uow: &mut UnitOfWork,
    settings: &Settings,
    payload: &Value,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let service = payload["actions"][0]["value"].as_str().unwrap_or_default();
    let channel = payload["channel"]["id"]
        .as_str()
        .or(payload["container"]["channel_id"].as_str());
    let (Some(channel), Some(actor)) = (channel, payload["user"]["id"].as_str()) else {
        anyhow::bail!("rollback press without channel or user");
    };
    // A forged or outdated value names no configured rollback and runs nothing.
    let Some(github) = settings.file.integrations.github.as_ref() else {
        return Ok(());
    };
    let Some(configured) = github.rollback(service) else {
        tracing::warn!(service, "rollback press for a service with no configured rollback");
        return Ok(());
    };
    let Some(incident) = uow.incident_by_channel(channel).await? else {
        return Ok(());
    };
    let permissions = &settings.file.permissions;
    let groups = match permissions.has_admin_groups() {
        true => uow.usergroups_of(actor).await?,
        false => Default::default(),
    };
    let permissions = permissions.applied_to(actor, &groups);
    let last = uow.last_rollback(incident.id, service).await?;
    let lead_only = github.run_by == RunBy::Lead;
    if let Err(refusal) = rollback::decide(&incident, actor, lead_only, &permissions, last, now) {
        let Some(url) = payload["response_url"].as_str() else {
            return Ok(());
        };
        let reply = super::changes::private_reply(actor, url, &format!(":warning: Not run: {refusal}."));
        return Ok(uow.enqueue(&reply, now).await?);
    }
    let request_id = rollback::request_id(&incident, rand::random());
    let rollback = NewRollback {
        request_id: &request_id,
        incident_id: incident.id,
        service,
        requested_by: actor,
    };
    uow.record_rollback(&rollback, now).await?;
    let what = format!(
        "requested the rollback of *{service}* (`{}` in `{}` on `{}`, request `{request_id}`)",
        configured.workflow, configured.repo, configured.git_ref
    );
    uow.append_timeline(&TimelineEntry {
        incident_id: incident.id,
        at: now,
        actor: actor.to_string(),
        kind: "rollback".into(),
        body: what.clone(),
        source: "card".into(),
    })
    .await
    .context("timeline")?;
    let in_channel = format!("channel:{channel}");
    let line = NewOutboxCall {
        ordering_key: in_channel,
        method: "chat.postMessage".into(),
        args: json!({ "channel": channel, "text": format!(":rewind: <@{actor}> {what}…"), "unfurl_links": false }),
        after_send: AfterSend::Nothing,
    };
    uow.enqueue(&line, now).await?;
    let dispatch = NewOutboxCall {
        ordering_key: format!("github:{request_id}"),
        method: GITHUB_METHOD.into(),
        args: json!({
            "repo": configured.repo,
            "workflow": configured.workflow,
            "ref": configured.git_ref,
            "inputs": { "incident": incident.reference(), "request_id": request_id },
        }),
        after_send: AfterSend::RollbackDispatched {
            incident_id: incident.id,
            service: service.to_string(),
            request_id: request_id.clone(),
        },
    };
    Ok(uow.enqueue(&dispatch, now).await?)
}
