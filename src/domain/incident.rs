//! The incident aggregate and the rules of declaring one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Audience, Severity, Status};

/// The incident's number, as users see it (`INC-42`); also its database key.
pub type IncidentId = i64;

/// Everything Rebound knows about one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub title: String,
    pub severity: Option<Severity>,
    pub status: Status,
    pub private: bool,
    pub declared_by: String,
    pub lead: Option<String>,
    pub declared_at: DateTime<Utc>,
    /// Set once Slack has created the channel.
    pub channel_id: Option<String>,
    pub channel_name: Option<String>,
    /// `ts` of the incident card in the channel, for editing it in place.
    pub card_ts: Option<String>,
    /// First responder action (for time to acknowledge).
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// First move to `monitoring` (for time to mitigate).
    pub mitigated_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub reopened_at: Option<DateTime<Utc>>,
    /// The resolution summary.
    pub summary: Option<String>,
    pub postmortem_done_at: Option<DateTime<Utc>>,
    pub postmortem_link: Option<String>,
    /// Since when customers have been waiting for the next update (the
    /// cadence started or the last update was sent).
    pub cadence_anchor_at: Option<DateTime<Utc>>,
}

impl Incident {
    /// `INC-42`.
    pub fn reference(&self) -> String {
        format!("INC-{}", self.id)
    }

    pub fn is_open(&self) -> bool {
        self.status != Status::Resolved
    }

    /// May `audience` see this incident's title and details? A private
    /// incident only to its channel and the channel's members.
    pub fn visible_to(&self, audience: &Audience) -> bool {
        !self.private || self.channel_id.as_deref().is_some_and(|c| audience.may_read(c))
    }
}

/// A declaration that has not been stored yet (it has no number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentDraft {
    pub title: String,
    pub severity: Option<Severity>,
    pub private: bool,
    pub declared_by: String,
    pub declared_at: DateTime<Utc>,
}

/// Longest title kept; Slack's header block allows 150 characters.
pub const MAX_TITLE_CHARS: usize = 150;

/// `declared_by` of an incident an alert opened: `alert:<source name>`
/// (source names are letters, digits, `-` and `_`, so never a user id).
pub const ALERT_DECLARER: &str = "alert:";

/// Who did something, as Slack text: a user mention, or an alert source's alerts.
pub fn actor_mention(actor: &str) -> String {
    match actor.strip_prefix(ALERT_DECLARER) {
        Some(source) => format!("`{source}` alerts:"),
        None => format!("<@{actor}>"),
    }
}

impl Incident {
    /// The intake source whose alert opened this incident, if one did.
    pub fn alert_source(&self) -> Option<&str> {
        self.declared_by.strip_prefix(ALERT_DECLARER)
    }

    /// Who declared it, as Slack text: a mention, or the alerts of a source.
    pub fn declarer(&self) -> String {
        match self.alert_source() {
            Some(source) => format!("`{source}` alerts"),
            None => format!("<@{}>", self.declared_by),
        }
    }
}

impl IncidentDraft {
    /// Declares an incident. The declarer leads until someone else is named.
    pub fn declare(
        title: &str,
        severity: Option<Severity>,
        private: bool,
        declared_by: &str,
        now: DateTime<Utc>,
    ) -> Self {
        let title: String = title.split_whitespace().collect::<Vec<_>>().join(" ");
        Self {
            title: title.chars().take(MAX_TITLE_CHARS).collect(),
            severity,
            private,
            declared_by: declared_by.to_string(),
            declared_at: now,
        }
    }

    /// An incident an alert from the intake source `source` opens; nobody
    /// leads it until someone takes it.
    pub fn from_alert(source: &str, title: &str, severity: Option<Severity>, now: DateTime<Utc>) -> Self {
        Self::declare(title, severity, false, &format!("{ALERT_DECLARER}{source}"), now)
    }

    /// Who leads it at first: its declarer, unless an alert declared it.
    pub fn lead(&self) -> Option<String> {
        (!self.declared_by.starts_with(ALERT_DECLARER)).then(|| self.declared_by.clone())
    }

    /// The incident as first stored under `id`.
    pub fn into_incident(self, id: IncidentId) -> Incident {
        let lead = self.lead();
        Incident {
            id,
            title: self.title,
            severity: self.severity,
            status: Status::Investigating,
            private: self.private,
            lead,
            declared_by: self.declared_by,
            declared_at: self.declared_at,
            channel_id: None,
            channel_name: None,
            card_ts: None,
            acknowledged_at: None,
            mitigated_at: None,
            resolved_at: None,
            reopened_at: None,
            summary: None,
            postmortem_done_at: None,
            postmortem_link: None,
            cadence_anchor_at: self.severity.map(|_| self.declared_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declaring_normalises_whitespace_and_caps_the_title() {
        let now = Utc::now();
        let draft = IncidentDraft::declare("  a\t b  ", None, false, "U1", now);
        assert_eq!(draft.title, "a b");
        let long = IncidentDraft::declare(&"x".repeat(400), None, false, "U1", now);
        assert_eq!(long.title.chars().count(), MAX_TITLE_CHARS);
    }

    #[test]
    fn a_new_incident_is_investigating_and_led_by_its_declarer() {
        let incident =
            IncidentDraft::declare("db down", Some(Severity::Sev2), false, "U1", Utc::now()).into_incident(3);
        assert_eq!(incident.status, Status::Investigating);
        assert_eq!(incident.lead.as_deref(), Some("U1"));
        assert_eq!(incident.reference(), "INC-3");
        assert!(incident.is_open());
    }
}
