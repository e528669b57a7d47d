//! Ephemeral replies to slash commands: help, list, and declaration receipts.

use chrono::{DateTime, Utc};

use crate::domain::command::usage;
use crate::domain::{Audience, Incident};

/// `/incident help`.
pub fn help() -> String {
    let mut text = String::from("*Rebound — incident commands*\n");
    for line in usage::ALL {
        text.push_str(&format!("• `{}`\n", crate::text::literal(line)));
    }
    text.push_str("Commands other than `open`, `list` and `help` work inside an incident channel.");
    text
}

/// `/incident list`: open incidents, oldest first; private ones in full
/// only to their members.
pub fn list(incidents: &[Incident], audience: &Audience, now: DateTime<Utc>) -> String {
    if incidents.is_empty() {
        return ":white_check_mark: No open incidents.".into();
    }
    let mut text = format!(
        "*{} open incident{}*\n",
        incidents.len(),
        if incidents.len() == 1 { "" } else { "s" }
    );
    for incident in incidents {
        let visible = incident.visible_to(audience);
        let place = match (&incident.channel_id, visible) {
            (_, false) => "private".to_string(),
            (Some(channel), true) => format!("<#{channel}>"),
            (None, true) => "channel pending".to_string(),
        };
        let title = if visible {
            crate::text::mrkdwn(&incident.title)
        } else {
            "(private)".to_string()
        };
        text.push_str(&format!(
            "• *{}* {} — {}, {}, open {} — {}\n",
            incident.reference(),
            title,
            incident
                .severity
                .map(|s| s.to_string())
                .unwrap_or_else(|| "no severity".into()),
            incident.status,
            age(now - incident.declared_at),
            place
        ));
    }
    text
}

fn age(elapsed: chrono::Duration) -> String {
    let minutes = elapsed.num_minutes().max(0);
    match minutes {
        0..=59 => format!("{minutes}m"),
        60..=1439 => format!("{}h{:02}m", minutes / 60, minutes % 60),
        _ => format!("{}d{}h", minutes / 1440, (minutes % 1440) / 60),
    }
}

/// Shown at once while the channel is being created.
pub fn declaring(title: &str) -> String {
    format!(
        ":hourglass_flowing_sand: Declaring *{}*… I'll reply here with the channel in a moment.",
        crate::text::mrkdwn(title)
    )
}

/// Sent to the declarer once the channel exists.
pub fn declared(incident: &Incident, channel_id: &str) -> String {
    let next = if incident.severity.is_none() {
        " Set a severity on the card or with `/incident sev &lt;1-4&gt;`."
    } else {
        ""
    };
    format!(
        ":white_check_mark: *{}* declared: <#{}>. You lead it until someone else is named with `/incident lead @user`.{}",
        incident.reference(),
        channel_id,
        next
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IncidentDraft;

    #[test]
    fn help_lists_every_usage_line() {
        let text = crate::text::from_slack(&help());
        for line in usage::ALL {
            assert!(text.contains(line), "{line}");
        }
    }

    #[test]
    fn list_shows_age_and_hides_private_titles() {
        let now = Utc::now();
        let mut public =
            IncidentDraft::declare("api slow", None, false, "U1", now - chrono::Duration::minutes(95)).into_incident(1);
        public.channel_id = Some("C1".into());
        let mut private = IncidentDraft::declare("secret breach", None, true, "U1", now).into_incident(2);
        private.channel_id = Some("CSECRET".into());
        let incidents = [public, private];
        let nobody = std::collections::BTreeSet::new();
        let outsider = Audience::Person {
            channel: "C9",
            member_of: &nobody,
        };
        let text = list(&incidents, &outsider, now);
        assert!(
            text.contains("*INC-1* api slow — no severity, investigating, open 1h35m — <#C1>"),
            "{text}"
        );
        assert!(!text.contains("secret breach") && text.contains("(private)"), "{text}");
        let members = ["CSECRET".to_string()].into();
        let member = Audience::Person {
            channel: "C9",
            member_of: &members,
        };
        assert!(list(&incidents, &member, now).contains("*INC-2* secret breach"));
        assert_eq!(list(&[], &outsider, now), ":white_check_mark: No open incidents.");
    }
}
