//! Interactions: card controls (block_actions) and submitted forms
//! (view_submission), turned into the same changes as the slash commands.

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::{Dispatcher, changes, failures};
use crate::config::status::StatusSettings;
use crate::domain::command::is_user_id;
use crate::domain::status_page::ComponentState;
use crate::domain::timers::{self, TimerChange, TimerKind};
use crate::domain::{Change, IncidentDraft};
use crate::store::TimelineEntry;
use crate::store::{AfterSend, NewOutboxCall, StoreResult, StoredActionItem, UnitOfWork};
use crate::views::modals::{self, FormContext};
use crate::views::{self, card, reminders};

impl Dispatcher {
    /// A card control: severity, status, lead or resolve.
    pub(super) async fn interaction(
        &self,
        uow: &mut UnitOfWork,
        payload: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let mut payload: serde_json::Value = serde_json::from_str(payload).context("stored interaction is not JSON")?;
        crate::text::clean_json(&mut payload);
        if payload["type"] == "view_submission" {
            return self.submission(uow, &payload, now).await;
        }
        if payload["type"] != "block_actions" {
            tracing::debug!(kind = %payload["type"], "interaction without a handler");
            return Ok(());
        }
        if payload["actions"][0]["action_id"] == card::POST_UPDATE_ACTION {
            return self.open_update_form(uow, &payload, now).await;
        }
        if payload["actions"][0]["action_id"] == views::rollback::RUN_ROLLBACK_ACTION {
            return super::rollback::pressed(uow, &self.settings, &payload, now).await;
        }
        let action_id = payload["actions"][0]["action_id"].as_str().unwrap_or_default();
        if let Some((action, ticket_id)) = views::failures::parse_action(action_id) {
            return failures::button(uow, &payload, action, ticket_id, now).await;
        }
        if action_id.starts_with(reminders::SNOOZE_NUDGE_ACTION) {
            return snooze(uow, &payload, now).await;
        }
        if let Some((control, id)) = action_id.split_once(':')
            && [
                reminders::ACTION_DONE,
                reminders::ACTION_SNOOZE,
                reminders::ACTION_REASSIGN,
            ]
            .contains(&control)
        {
            let id: i64 = id.parse().with_context(|| format!("action item id in {action_id:?}"))?;
            return action_item_control(uow, &payload, control, id, now).await;
        }
        let Some(change) = card_change(&payload["actions"][0], &self.settings.file.status)? else {
            tracing::debug!(action = %payload["actions"][0]["action_id"], "action without a handler");
            return Ok(());
        };
        let channel = payload["channel"]["id"]
            .as_str()
            .or(payload["container"]["channel_id"].as_str());
        let (Some(channel), Some(actor)) = (channel, payload["user"]["id"].as_str()) else {
            anyhow::bail!("block_actions without channel or user");
        };
        let request = changes::Request {
            channel_id: channel,
            actor,
            change,
            source: "card",
            response_url: payload["response_url"].as_str(),
            quiet_when_unchanged: true,
        };
        Ok(changes::apply(uow, &self.settings, request, now).await?)
    }

    /// A submitted form (already validated at ingress).
    async fn submission(
        &self,
        uow: &mut UnitOfWork,
        payload: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let view = &payload["view"];
        let user = payload["user"]["id"].as_str().context("view_submission without user")?;
        if failures::submission(uow, view, user, now).await? {
            return Ok(());
        }
        match view["callback_id"].as_str().unwrap_or_default() {
            modals::DECLARE_CALLBACK => {
                let form =
                    modals::read_declare(view).map_err(|errors| anyhow::anyhow!("invalid declare form: {errors:?}"))?;
                let draft = IncidentDraft::declare(&form.title, form.severity, form.private, user, now);
                self.declare(uow, draft, form.context.response_url, "slash_command", now)
                    .await
                    .map(drop)
            }
            modals::UPDATE_CALLBACK => {
                let update =
                    modals::read_update(view).map_err(|errors| anyhow::anyhow!("invalid update form: {errors:?}"))?;
                let change = match update.public {
                    true => Change::PublicUpdate(update.text),
                    false => Change::CustomerUpdate(update.text),
                };
                let request = changes::Request {
                    channel_id: &update.context.channel_id,
                    actor: user,
                    change,
                    source: "form",
                    response_url: None,
                    quiet_when_unchanged: false,
                };
                Ok(changes::apply(uow, &self.settings, request, now).await?)
            }
            other => {
                tracing::debug!(callback_id = other, "form without a handler");
                Ok(())
            }
        }
    }

    /// The card's "Post update" button opens the EARS form.
    async fn open_update_form(
        &self,
        uow: &mut UnitOfWork,
        payload: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let channel = payload["channel"]["id"]
            .as_str()
            .or(payload["container"]["channel_id"].as_str());
        let (Some(channel), Some(user), Some(trigger)) =
            (channel, payload["user"]["id"].as_str(), payload["trigger_id"].as_str())
        else {
            anyhow::bail!("update button without channel, user or trigger_id");
        };
        let Some(incident) = uow.incident_by_channel(channel).await? else {
            return Ok(());
        };
        let context = FormContext {
            channel_id: channel.to_string(),
            response_url: None,
        };
        Ok(open_view(
            uow,
            user,
            trigger,
            modals::update_form(&incident.reference(), &context),
            now,
        )
        .await?)
    }
}

/// An action-item reminder's controls: done, snooze a day, reassign.
async fn action_item_control(
    uow: &mut UnitOfWork,
    payload: &serde_json::Value,
    control: &str,
    id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let actor = payload["user"]["id"].as_str().context("action without user")?;
    let Some(item) = uow.action_item(id).await? else {
        return Ok(());
    };
    let line = match control {
        reminders::ACTION_DONE => {
            if !complete_action_item(uow, &item, now).await? {
                return Ok(()); // a double click
            }
            format!("completed action item #{id}: {}", crate::text::mrkdwn(&item.text))
        }
        reminders::ACTION_SNOOZE => {
            let due = crate::domain::clock::later(now, timers::ACTION_REMINDER_EVERY);
            uow.retime_timer(item.incident_id, TimerKind::ActionReminder, id, due)
                .await?;
            format!("snoozed action item #{id} for a day")
        }
        _ => {
            let owner = payload["actions"][0]["selected_user"]
                .as_str()
                .filter(|u| is_user_id(u))
                .context("reassign without a valid selected_user")?;
            uow.reassign_action_item(id, owner).await?;
            format!("reassigned action item #{id} to <@{owner}>")
        }
    };
    uow.append_timeline(&TimelineEntry {
        incident_id: item.incident_id,
        at: now,
        actor: actor.to_string(),
        kind: "action_item".into(),
        body: line.clone(),
        source: "card".into(),
    })
    .await?;
    if let Some(channel) = payload["channel"]["id"]
        .as_str()
        .or(payload["container"]["channel_id"].as_str())
    {
        let note = NewOutboxCall {
            ordering_key: format!("channel:{channel}"),
            method: "chat.postMessage".into(),
            args: serde_json::json!({ "channel": channel, "text": format!("<@{actor}> {line}") }),
            after_send: AfterSend::Nothing,
        };
        uow.enqueue(&note, now).await?;
    }
    Ok(())
}

/// Marks `item` done and stops its reminders; false when it already was.
pub(super) async fn complete_action_item(
    uow: &mut UnitOfWork,
    item: &StoredActionItem,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    if !uow.complete_action_item(item.id, now).await? {
        return Ok(false);
    }
    let reminders = TimerChange::Cancel {
        kind: TimerKind::ActionReminder,
        subject: item.id,
    };
    uow.apply_timer(item.incident_id, &reminders, now).await?;
    Ok(true)
}

/// A nudge's snooze button: the next nudge waits that long.
async fn snooze(uow: &mut UnitOfWork, payload: &serde_json::Value, now: DateTime<Utc>) -> anyhow::Result<()> {
    let channel = payload["channel"]["id"]
        .as_str()
        .or(payload["container"]["channel_id"].as_str());
    let (Some(channel), Some(actor)) = (channel, payload["user"]["id"].as_str()) else {
        anyhow::bail!("snooze without channel or user");
    };
    // A button's value comes back from the client: only the choices the
    // nudge offered are accepted.
    let choice = payload["actions"][0]["value"].as_str().unwrap_or_default();
    if !reminders::SNOOZE_CHOICES.contains(&choice) {
        anyhow::bail!("{:?} is not one of the snooze choices", views::clip(choice, 40));
    }
    let wait = humantime::parse_duration(choice).with_context(|| format!("snooze for {choice:?}"))?;
    let Some(incident) = uow.incident_by_channel(channel).await? else {
        return Ok(());
    };
    let due = crate::domain::clock::ahead(now, wait).context("snooze beyond ten years")?;
    if !uow
        .retime_timer(incident.id, TimerKind::UpdateNudge, timers::INCIDENT, due)
        .await?
    {
        return Ok(());
    }
    let line = format!("snoozed the customer-update nudge for {choice}");
    uow.append_timeline(&TimelineEntry {
        incident_id: incident.id,
        at: now,
        actor: actor.to_string(),
        kind: "snooze".into(),
        body: line.clone(),
        source: "card".into(),
    })
    .await?;
    let note = NewOutboxCall {
        ordering_key: format!("channel:{channel}"),
        method: "chat.postMessage".into(),
        args: serde_json::json!({ "channel": channel, "text": format!("<@{actor}> {line}") }),
        after_send: AfterSend::Nothing,
    };
    Ok(uow.enqueue(&note, now).await?)
}

/// `views.open` must follow the trigger within about 3 seconds; the outbox
/// sends it right after this transaction commits.
pub(super) async fn open_view(
    uow: &mut UnitOfWork,
    user: &str,
    trigger_id: &str,
    view: serde_json::Value,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let call = NewOutboxCall {
        ordering_key: format!("views:{user}"),
        method: "views.open".into(),
        args: serde_json::json!({ "trigger_id": trigger_id, "view": view }),
        after_send: AfterSend::Nothing,
    };
    uow.enqueue(&call, now).await
}

/// The lifecycle change a card control asks for, if it is one of ours.
fn card_change(action: &serde_json::Value, status: &StatusSettings) -> anyhow::Result<Option<Change>> {
    let selected = action["selected_option"]["value"].as_str().unwrap_or_default();
    let change = match action["action_id"].as_str().unwrap_or_default() {
        card::SET_SEVERITY_ACTION => Change::Severity(
            selected
                .parse()
                .map_err(|()| anyhow::anyhow!("severity {selected:?}"))?,
        ),
        card::SET_STATUS_ACTION => {
            Change::Status(selected.parse().map_err(|()| anyhow::anyhow!("status {selected:?}"))?)
        }
        card::SET_LEAD_ACTION => match action["selected_user"].as_str().filter(|u| is_user_id(u)) {
            Some(user) => Change::Lead(user.to_string()),
            None => anyhow::bail!("lead picker without selected_user"),
        },
        card::RESOLVE_ACTION => Change::Resolve(None),
        // A forged value names no configured component and changes nothing.
        card::SET_IMPACT_ACTION => {
            let (state, name) = selected.split_once(' ').unwrap_or_default();
            match (ComponentState::parse(state), status.component(name)) {
                (Some(state), Some(component)) => Change::ComponentImpact {
                    component: component.name.clone(),
                    state,
                },
                _ => anyhow::bail!("impact {selected:?} names no configured component and state"),
            }
        }
        reminders::POSTMORTEM_DONE_ACTION => Change::PostmortemDone(None),
        _ => return Ok(None),
    };
    Ok(Some(change))
}
