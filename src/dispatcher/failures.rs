//! Failure tickets after capture: the Triage / Root cause / Close buttons and
//! forms, `/incident failure <id> …`, and recurrence flagging. Every change
//! is told in the ticket's thread, where the team flagged the failure.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::interactions::open_view;
use crate::domain::failure::{self, Ticket, TicketChange};
use crate::domain::recurrence;
use crate::store::{AfterSend, NewOutboxCall, StoreResult, UnitOfWork};
use crate::views::{failure_forms, failures};

/// How many earlier tickets a new one is compared with (the most recent).
const RECURRENCE_WINDOW: i64 = 2000;

/// Applies a change to ticket `id` and tells its thread; the answer for the
/// actor. A command run in `from_channel` may only change a private ticket
/// when that is the ticket's own channel or the actor is a member of it
/// (forms come from its thread).
pub(super) async fn change(
    uow: &mut UnitOfWork,
    id: i64,
    change: TicketChange,
    actor: &str,
    from_channel: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<Result<Ticket, String>> {
    let Some(ticket) = uow.ticket(id).await? else {
        return Ok(Err(format!("There is no failure #{id}.")));
    };
    let outsider = from_channel.is_some_and(|channel| !ticket.visible_in(channel));
    if outsider && !uow.is_member(&ticket.channel_id, actor).await? {
        return Ok(Err(private_refusal(id)));
    }
    let verb = verb(&change);
    let next = match failure::apply(&ticket, change, now) {
        Ok(next) => next,
        Err(refusal) => return Ok(Err(refusal.to_string())),
    };
    uow.save_ticket(&next).await?;
    let mut line = format!("<@{actor}> {verb} {}", failures::summary(&next));
    if let Some(lesson) = next.lesson.as_deref().filter(|_| next.closed_at.is_some()) {
        line.push_str(&format!("\n*Lesson learned:* {}", crate::text::mrkdwn(lesson)));
    }
    if next.tags != ticket.tags {
        let earlier = flag_tag_recurrences(uow, &next, now).await?;
        if !earlier.is_empty() {
            line.push('\n');
            line.push_str(&failures::recurrence_line(&earlier));
        }
    }
    uow.enqueue(&thread_note(&next, &line), now).await?;
    if let Some(card) = card_update(&next) {
        uow.enqueue(&card, now).await?;
    }
    Ok(Ok(next))
}

fn verb(change: &TicketChange) -> &'static str {
    match change {
        TicketChange::Assign(_) => "assigned",
        TicketChange::Tag(_) => "tagged",
        TicketChange::Triage(_) => "triaged",
        TicketChange::RootCause(_) => "recorded the root cause of",
        TicketChange::Close { .. } => "closed",
    }
}

/// Edits the ticket's own message to show where it is now (once Slack told us its `ts`).
fn card_update(ticket: &Ticket) -> Option<NewOutboxCall> {
    let reply_ts = ticket.reply_ts.as_deref()?;
    let mut args = failures::ticket_card(ticket);
    args["channel"] = json!(ticket.channel_id);
    args["ts"] = json!(reply_ts);
    Some(NewOutboxCall {
        ordering_key: format!("channel:{}", ticket.channel_id),
        method: "chat.update".into(),
        args,
        after_send: AfterSend::Nothing,
    })
}

/// Why a private ticket cannot be changed from elsewhere.
pub(crate) fn private_refusal(id: i64) -> String {
    format!(
        "Failure #{id} is {}: change it from that channel.",
        crate::domain::failure::PRIVATE_TICKET
    )
}

/// A message in the ticket's thread.
pub(crate) fn thread_note(ticket: &Ticket, text: &str) -> NewOutboxCall {
    NewOutboxCall {
        ordering_key: format!("channel:{}", ticket.channel_id),
        method: "chat.postMessage".into(),
        args: json!({ "channel": ticket.channel_id, "thread_ts": ticket.reply_thread(), "text": text }),
        after_send: AfterSend::Nothing,
    }
}

/// A re-tagged ticket repeats the earlier tickets that share a tag (its
/// text was compared when it was captured): records them, returns those
/// not known before. A set-based query; no text is read.
async fn flag_tag_recurrences(uow: &mut UnitOfWork, ticket: &Ticket, now: DateTime<Utc>) -> StoreResult<Vec<Ticket>> {
    let pairs = uow.tags_shared_with_earlier(ticket.id, RECURRENCE_WINDOW).await?;
    let found = recurrence::by_shared_tags(ticket.id, &pairs);
    record_recurrences(uow, ticket, &found, now).await
}

/// Records the recurrences found for `ticket`; returns the earlier tickets
/// not known to repeat before, oldest first, as `ticket`'s channel may see
/// them (those from another private channel show their number only).
pub(crate) async fn record_recurrences(
    uow: &mut UnitOfWork,
    ticket: &Ticket,
    found: &[recurrence::Recurrence],
    now: DateTime<Utc>,
) -> StoreResult<Vec<Ticket>> {
    let mut repeated = Vec::new();
    for earlier_id in uow.add_recurrences(ticket.id, found, now).await? {
        if let Some(earlier) = uow.ticket(earlier_id).await? {
            repeated.push(earlier.seen_from(&ticket.channel_id));
        }
    }
    repeated.sort_by_key(|t| t.id);
    Ok(repeated)
}

/// The earlier tickets ticket `id` repeats, by tags and text: read from the
/// store and compared outside any write transaction (on a blocking thread:
/// thousands of word keys are compared per capture).
pub(crate) async fn find_recurrences(store: &crate::store::Store, id: i64) -> StoreResult<Vec<recurrence::Recurrence>> {
    let mut candidates = store.recurrence_candidates(id, RECURRENCE_WINDOW).await?;
    let Some(position) = candidates.iter().position(|c| c.id == id) else {
        return Ok(vec![]);
    };
    let subject = candidates.swap_remove(position);
    let found = tokio::task::spawn_blocking(move || recurrence::recurrences(&subject, &candidates)).await;
    // A panic in matching is the caller's to handle (the outbox sets the call aside).
    Ok(found.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic())))
}

/// A button on a ticket's thread reply opens its form.
pub(super) async fn button(
    uow: &mut UnitOfWork,
    payload: &Value,
    action: &str,
    id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let user = payload["user"]["id"].as_str().context("failure button without user")?;
    let trigger = payload["trigger_id"]
        .as_str()
        .context("failure button without trigger_id")?;
    let Some(ticket) = uow.ticket(id).await? else {
        return Ok(());
    };
    if ticket.closed_at.is_some() {
        let note = format!("<@{user}> failure #{id} is already closed.");
        return Ok(uow.enqueue(&thread_note(&ticket, &note), now).await?);
    }
    let view = match action {
        failures::TRIAGE_ACTION => failure_forms::triage_form(&ticket, user),
        failures::ROOT_CAUSE_ACTION => failure_forms::root_cause_form(&ticket),
        _ => failure_forms::close_form(&ticket),
    };
    Ok(open_view(uow, user, trigger, view, now).await?)
}

/// A submitted failure form (validated at ingress); false when it is not one.
pub(super) async fn submission(
    uow: &mut UnitOfWork,
    view: &Value,
    user: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let invalid = |errors| anyhow::anyhow!("invalid failure form: {errors:?}");
    let (id, ticket_change) = match view["callback_id"].as_str().unwrap_or_default() {
        failure_forms::TRIAGE_CALLBACK => {
            let (id, triage) = failure_forms::read_triage(view).map_err(invalid)?;
            (id, TicketChange::Triage(triage))
        }
        failure_forms::ROOT_CAUSE_CALLBACK => {
            let (id, analysis) = failure_forms::read_root_cause(view).map_err(invalid)?;
            (id, TicketChange::RootCause(analysis))
        }
        failure_forms::CLOSE_CALLBACK => {
            let (id, lesson) = failure_forms::read_close(view).map_err(invalid)?;
            (id, TicketChange::Close { lesson })
        }
        _ => return Ok(false),
    };
    if let Err(refusal) = change(uow, id, ticket_change, user, None, now).await? {
        // The form was valid but the ticket moved on (closed meanwhile): say so in its thread.
        if let Some(ticket) = uow.ticket(id).await? {
            uow.enqueue(&thread_note(&ticket, &format!("<@{user}> {refusal}")), now)
                .await?;
        }
    }
    Ok(true)
}
