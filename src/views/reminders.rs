//! Reminder messages: the severity prompt, the customer-update nudge with
//! its snooze buttons, and the `/incident reminders` listing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::card::{POST_UPDATE_ACTION, SET_SEVERITY_ACTION};
use crate::domain::timers::TimerKind;
use crate::domain::{Incident, Severity};
use crate::store::StoredActionItem;

/// `action_id` of the nudge's snooze buttons; the value is a humantime duration.
pub const SNOOZE_NUDGE_ACTION: &str = "incident_snooze_nudge";
/// Snooze choices offered on a nudge.
pub const SNOOZE_CHOICES: [&str; 3] = ["30m", "1h", "2h"];

fn plain(text: &str) -> Value {
    json!({ "type": "plain_text", "text": text })
}

/// Asks the channel for a severity, with the select.
pub fn severity_prompt(incident: &Incident) -> Value {
    let text = format!(
        ":hourglass: *{}* has no severity yet. Choose one so the right cadence and people follow.",
        incident.reference()
    );
    let options: Vec<Value> = Severity::ALL
        .into_iter()
        .map(|s| json!({ "text": plain(&format!("{s} — {}", s.meaning())), "value": s.as_str() }))
        .collect();
    json!({
        "text": text,
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": text } },
            { "type": "actions", "block_id": format!("incident:{}:prompt", incident.id), "elements": [
                { "type": "static_select", "action_id": SET_SEVERITY_ACTION, "placeholder": plain("Set severity"), "options": options }
            ] }
        ]
    })
}

/// Asks the lead (or the channel) for a customer update.
pub fn update_nudge(incident: &Incident, every: Duration) -> Value {
    let who = incident.lead.as_deref().map(|u| format!("<@{u}> ")).unwrap_or_default();
    let text = format!(
        "{who}:loudspeaker: It has been {} since the last customer update on *{}*. Post one with `/incident update &lt;text&gt;` or *Post update*.",
        humantime::format_duration(every),
        incident.reference()
    );
    let mut elements = vec![
        json!({ "type": "button", "action_id": POST_UPDATE_ACTION, "text": plain("Post update"), "style": "primary" }),
    ];
    for choice in SNOOZE_CHOICES {
        elements.push(json!({
            "type": "button", "action_id": format!("{SNOOZE_NUDGE_ACTION}:{choice}"), "value": choice, "text": plain(&format!("Snooze {choice}"))
        }));
    }
    json!({
        "text": text,
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": text } },
            { "type": "actions", "block_id": format!("incident:{}:nudge", incident.id), "elements": elements }
        ]
    })
}

/// `action_id` of the post-mortem reminder's button.
pub const POSTMORTEM_DONE_ACTION: &str = "incident_postmortem_done";
/// `action_id` prefixes of an action-item reminder's controls; the item id follows a `:`.
pub const ACTION_DONE: &str = "action_item_done";
pub const ACTION_SNOOZE: &str = "action_item_snooze";
pub const ACTION_REASSIGN: &str = "action_item_reassign";

/// Reminds the lead that the post-mortem is due.
pub fn postmortem_reminder(incident: &Incident) -> Value {
    let who = incident.lead.as_deref().map(|u| format!("<@{u}> ")).unwrap_or_default();
    let text = format!(
        "{who}:memo: The post-mortem for *{}* is due. Mark it done with `/incident postmortem done [link]` or the button.",
        incident.reference()
    );
    json!({
        "text": text,
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": text } },
            { "type": "actions", "block_id": format!("incident:{}:postmortem", incident.id), "elements": [
                { "type": "button", "action_id": POSTMORTEM_DONE_ACTION, "text": plain("Post-mortem done"), "style": "primary" }
            ] }
        ]
    })
}

/// Tells the managers' digest channel that a post-mortem is overdue.
pub fn postmortem_escalation(incident: &Incident, reminders_sent: u32) -> Value {
    let lead = incident
        .lead
        .as_deref()
        .map(|u| format!(" to <@{u}>"))
        .unwrap_or_default();
    let text = format!(
        ":warning: The post-mortem for *{}* {} is overdue: {reminders_sent} reminders{lead} so far.",
        incident.reference(),
        super::public_title(incident)
    );
    json!({ "text": text })
}

/// Reminds an action item's owner (or the channel) that it is due.
pub fn action_reminder(incident: &Incident, item: &StoredActionItem) -> Value {
    let who = item.owner.as_deref().map(|u| format!("<@{u}> ")).unwrap_or_default();
    let text = format!(
        "{who}:white_check_mark: Action item #{} from *{}* is due: {}",
        item.id,
        incident.reference(),
        crate::text::mrkdwn(&item.text)
    );
    json!({
        "text": text,
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": text } },
            { "type": "actions", "block_id": format!("action_item:{}", item.id), "elements": [
                { "type": "button", "action_id": format!("{ACTION_DONE}:{}", item.id), "text": plain("Done"), "style": "primary" },
                { "type": "button", "action_id": format!("{ACTION_SNOOZE}:{}", item.id), "value": "1d", "text": plain("Snooze 1 day") },
                { "type": "users_select", "action_id": format!("{ACTION_REASSIGN}:{}", item.id), "placeholder": plain("Reassign") }
            ] }
        ]
    })
}

/// What `/incident reminders` shows for an incident.
pub fn listing(reference: &str, timers: &[(TimerKind, DateTime<Utc>, Option<Duration>)], now: DateTime<Utc>) -> String {
    if timers.is_empty() {
        return format!(":zzz: Nothing is scheduled for *{reference}*.");
    }
    let mut text = format!("*Reminders for {reference}*\n");
    for (kind, due_at, every) in timers {
        let wait = (*due_at - now).to_std().unwrap_or_default();
        let wait = humantime::format_duration(Duration::from_secs(wait.as_secs()));
        let repeat = every
            .map(|e| format!(", then every {}", humantime::format_duration(e)))
            .unwrap_or_default();
        text.push_str(&format!(
            "• {} in {wait} ({} UTC){repeat}\n",
            kind.label(),
            due_at.format("%H:%M:%S")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IncidentDraft;

    #[test]
    fn a_nudge_addresses_the_lead_and_offers_snoozes() {
        let incident = IncidentDraft::declare("db", Some(Severity::Sev1), false, "U1", Utc::now()).into_incident(3);
        let nudge = update_nudge(&incident, Duration::from_secs(1800));
        assert!(
            nudge["text"]
                .as_str()
                .unwrap()
                .starts_with("<@U1> :loudspeaker: It has been 30m since")
        );
        let actions: Vec<_> = nudge["blocks"][1]["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action_id"].clone())
            .collect();
        assert_eq!(
            actions,
            [
                json!("incident_post_update"),
                json!("incident_snooze_nudge:30m"),
                json!("incident_snooze_nudge:1h"),
                json!("incident_snooze_nudge:2h")
            ]
        );
    }

    #[test]
    fn the_listing_says_when_and_how_often() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let due = now + chrono::Duration::seconds(90);
        let text = listing(
            "INC-1",
            &[(TimerKind::UpdateNudge, due, Some(Duration::from_secs(1800)))],
            now,
        );
        assert!(
            text.contains("• Customer-update nudge in 1m 30s (") && text.contains("then every 30m"),
            "{text}"
        );
        assert_eq!(listing("INC-1", &[], now), ":zzz: Nothing is scheduled for *INC-1*.");
    }
}
