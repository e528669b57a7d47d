//! Events API events: mentions get help; the failure emoji anywhere makes a
//! failure ticket; in incident channels, pinned messages and messages marked
//! with the timeline emoji join the timeline; edits and deletions of captured
//! and flagged messages are followed; members joining and leaving private
//! channels keep Rebound's view of who may read them current.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::config::Settings;
use crate::domain::capture;
use crate::outbox::followups::permalink_call;
use crate::store::{AfterSend, NewCapture, NewFailure, NewOutboxCall, TimelineEntry, UnitOfWork};
use crate::views::replies;

/// Handles one inner event.
pub async fn handle(
    uow: &mut UnitOfWork,
    settings: &Settings,
    event: &Value,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    // The bot's own posts come back as events; never answer ourselves.
    if event.get("bot_id").is_some() {
        return Ok(());
    }
    match (event["type"].as_str().unwrap_or_default(), event["subtype"].as_str()) {
        ("app_mention", _) => mention(uow, event, now).await,
        ("pin_added", _) => pin(uow, event, now).await,
        ("reaction_added", _) => reaction(uow, settings, event, now).await,
        ("member_joined_channel", _) => {
            let (channel, user) = member(event)?;
            Ok(uow.member_joined(channel, user).await?)
        }
        ("member_left_channel", _) => {
            let (channel, user) = member(event)?;
            Ok(uow.member_left(channel, user).await?)
        }
        ("message", Some("message_changed")) => edited(uow, event, now).await,
        ("message", Some("message_deleted")) => deleted(uow, event, now).await,
        _ => Ok(()),
    }
}

/// The channel and user of a member event; the user must be a user id.
fn member(event: &Value) -> anyhow::Result<(&str, &str)> {
    let (channel, user) = (text(&event["channel"], "channel")?, text(&event["user"], "user")?);
    anyhow::ensure!(
        crate::domain::command::is_user_id(user),
        "member event for {user:?}, not a user id"
    );
    Ok((channel, user))
}

fn text<'a>(value: &'a Value, what: &str) -> anyhow::Result<&'a str> {
    value.as_str().with_context(|| format!("event without {what}"))
}

async fn mention(uow: &mut UnitOfWork, event: &Value, now: DateTime<Utc>) -> anyhow::Result<()> {
    let channel = text(&event["channel"], "channel")?;
    let ts = text(&event["ts"], "ts")?;
    let thread = event["thread_ts"].as_str().unwrap_or(ts);
    let call = NewOutboxCall {
        ordering_key: format!("channel:{channel}"),
        method: "chat.postMessage".into(),
        args: json!({ "channel": channel, "thread_ts": thread, "text": replies::help() }),
        after_send: AfterSend::Nothing,
    };
    Ok(uow.enqueue(&call, now).await?)
}

/// `pin_added` carries the message, so only the permalink is fetched.
async fn pin(uow: &mut UnitOfWork, event: &Value, now: DateTime<Utc>) -> anyhow::Result<()> {
    let channel = text(&event["channel_id"], "channel_id")?;
    let message = &event["item"]["message"];
    let ts = text(&message["ts"], "item.message.ts")?;
    let Some(incident) = uow.incident_by_channel(channel).await? else {
        return Ok(());
    };
    let message_text = message["text"].as_str().map(crate::text::from_slack);
    let capture = NewCapture {
        incident_id: incident.id,
        channel_id: channel,
        ts,
        text: message_text.as_deref(),
        author: message["user"].as_str().or(event["item_user"].as_str()),
        captured_by: text(&event["user"], "user")?,
        source: "pin",
    };
    if let Some(captured_id) = uow.capture_message(&capture, now).await? {
        uow.enqueue(&permalink_call(channel, ts, captured_id), now).await?;
    }
    Ok(())
}

/// A reaction names only the message, so its text is fetched first.
async fn reaction(uow: &mut UnitOfWork, settings: &Settings, event: &Value, now: DateTime<Utc>) -> anyhow::Result<()> {
    let emoji = event["reaction"].as_str().unwrap_or_default();
    if event["item"]["type"] == "message" && settings.file.failures.emoji.iter().any(|e| e == emoji) {
        return failure(uow, event, now).await;
    }
    if event["item"]["type"] != "message" || !settings.file.timeline.emoji.iter().any(|e| e == emoji) {
        return Ok(());
    }
    let channel = text(&event["item"]["channel"], "item.channel")?;
    let ts = text(&event["item"]["ts"], "item.ts")?;
    let Some(incident) = uow.incident_by_channel(channel).await? else {
        return Ok(());
    };
    let capture = NewCapture {
        incident_id: incident.id,
        channel_id: channel,
        ts,
        text: None,
        author: event["item_user"].as_str(),
        captured_by: text(&event["user"], "user")?,
        source: "reaction",
    };
    if let Some(captured_id) = uow.capture_message(&capture, now).await? {
        let fetch = NewOutboxCall {
            ordering_key: format!("read:{channel}"),
            method: "conversations.replies".into(),
            args: json!({ "channel": channel, "ts": ts, "oldest": ts, "latest": ts, "inclusive": true, "limit": 1 }),
            after_send: AfterSend::CapturedText { captured_id },
        };
        uow.enqueue(&fetch, now).await?;
    }
    Ok(())
}

/// The failure emoji on any message the bot can see: one ticket per message.
async fn failure(uow: &mut UnitOfWork, event: &Value, now: DateTime<Utc>) -> anyhow::Result<()> {
    let channel = text(&event["item"]["channel"], "item.channel")?;
    let ts = text(&event["item"]["ts"], "item.ts")?;
    let incident = uow.incident_by_channel(channel).await?;
    let in_incident_channel = incident.is_some();
    let failure = NewFailure {
        channel_id: channel,
        ts,
        author: event["item_user"].as_str(),
        reporter: text(&event["user"], "user")?,
        incident_id: incident.map(|i| i.id),
    };
    if let Some(ticket_id) = uow.capture_failure(&failure, now).await? {
        if !in_incident_channel {
            // Outside incident channels, Slack says who may read the ticket.
            crate::outbox::channels::learn(uow, channel, now).await?;
        }
        let fetch = NewOutboxCall {
            ordering_key: format!("read:{channel}"),
            method: "conversations.replies".into(),
            args: json!({ "channel": channel, "ts": ts, "oldest": ts, "latest": ts, "inclusive": true, "limit": 1 }),
            after_send: AfterSend::FailureText {
                ticket_id,
                channel: channel.to_string(),
                ts: ts.to_string(),
            },
        };
        uow.enqueue(&fetch, now).await?;
    }
    Ok(())
}

async fn edited(uow: &mut UnitOfWork, event: &Value, now: DateTime<Utc>) -> anyhow::Result<()> {
    let channel = text(&event["channel"], "channel")?;
    let ts = text(&event["message"]["ts"], "message.ts")?;
    let after = &crate::text::from_slack(event["message"]["text"].as_str().unwrap_or_default());
    uow.ticket_source_edited(channel, ts, after, now).await?;
    let Some(captured) = uow.captured_at(channel, ts).await? else {
        return Ok(());
    };
    let previous = event["previous_message"]["text"].as_str().map(crate::text::from_slack);
    let before = previous.as_deref().or(captured.text.as_deref());
    let line = capture::edit_line(before, after);
    uow.set_captured_text(captured.id, after, None).await?;
    follow(uow, &captured, event, "message_edited", line, now).await
}

async fn deleted(uow: &mut UnitOfWork, event: &Value, now: DateTime<Utc>) -> anyhow::Result<()> {
    let channel = text(&event["channel"], "channel")?;
    let ts = text(&event["deleted_ts"], "deleted_ts")?;
    uow.ticket_source_deleted(channel, ts, now).await?;
    let Some(captured) = uow.captured_at(channel, ts).await? else {
        return Ok(());
    };
    uow.mark_captured_deleted(captured.id, now).await?;
    let line = "deleted a captured message (its text stays in the timeline)".to_string();
    follow(uow, &captured, event, "message_deleted", line, now).await
}

async fn follow(
    uow: &mut UnitOfWork,
    captured: &capture::CapturedMessage,
    event: &Value,
    kind: &str,
    line: String,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let actor = event["message"]["user"]
        .as_str()
        .or(captured.author.as_deref())
        .unwrap_or("unknown");
    let entry = TimelineEntry {
        incident_id: captured.incident_id,
        at: now,
        actor: actor.to_string(),
        kind: kind.into(),
        body: line,
        source: "slack".into(),
    };
    Ok(uow.append_timeline(&entry).await?)
}
