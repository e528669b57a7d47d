//! Reminder messages: the severity prompt, the customer-update nudge with
//! its snooze buttons, and the `/incident reminders` listing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::card::{POST_UPDATE_ACTION, SET_SEVERITY_ACTION};
use crate::domain::timers::TimerKind;
use crate::domain::{Incident, Severity};

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
        "{who}:loudspeaker: It has been {} since the last customer update on *{}*. Post one with `/incident update <text>` or *Post update*.",
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
