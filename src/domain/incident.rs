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
    /// When the impact began, if anyone knows: the earliest linked alert's
    /// own start, or what a responder set with `/incident started`.
    pub impact_started_at: Option<DateTime<Utc>>,
    /// Who says so: `alert:<source>` or the responder's user id.
    pub impact_source: Option<String>,
    /// When Rebound first heard of it: the first alert delivery, or the
    /// declaration of an incident declared by hand.
    pub detected_at: DateTime<Utc>,
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
    pub detected_at: DateTime<Utc>,
    pub impact_started_at: Option<DateTime<Utc>>,
}

/// How long before its detection an alert's own start is believed: older
/// than this is a stuck clock or a hostile sender, not an outage.
const MAX_DETECTION_LAG_DAYS: i64 = 30;

/// The impact start an alert that started at `started` and was first
/// delivered at `detected` gives: never after the detection, never absurdly
/// before it.
pub fn believable_impact_start(started: Option<DateTime<Utc>>, detected: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let earliest = detected - chrono::Duration::days(MAX_DETECTION_LAG_DAYS);
    started.filter(|at| *at >= earliest).map(|at| at.min(detected))
}

/// What an incident opened by an alert takes from it.
#[derive(Debug, Clone, Copy)]
pub struct AlertFacts<'a> {
    pub title: &'a str,
    /// The alert's own start (`startsAt`, `StateChangeTime`…), if it says.
    pub started_at: Option<DateTime<Utc>>,
    /// When its first delivery reached Rebound.
    pub detected_at: DateTime<Utc>,
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
            detected_at: now,
            impact_started_at: None,
        }
    }

    /// An incident an alert from the intake source `source` opens; nobody
    /// leads it until someone takes it. Detected when the alert was first
    /// delivered (`detected`); its impact began when the alert says it did.
    pub fn from_alert(source: &str, alert: AlertFacts<'_>, severity: Option<Severity>, now: DateTime<Utc>) -> Self {
        let mut draft = Self::declare(alert.title, severity, false, &format!("{ALERT_DECLARER}{source}"), now);
        draft.detected_at = alert.detected_at.min(now);
        draft.impact_started_at = believable_impact_start(alert.started_at, draft.detected_at);
        draft
    }

    /// Who leads it at first: its declarer, unless an alert declared it.
    pub fn lead(&self) -> Option<String> {
        (!self.declared_by.starts_with(ALERT_DECLARER)).then(|| self.declared_by.clone())
    }

    /// The incident as first stored under `id`.
    pub fn into_incident(self, id: IncidentId) -> Incident {
        let lead = self.lead();
        let impact_source = self.impact_started_at.map(|_| self.declared_by.clone());
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
            impact_source,
            impact_started_at: self.impact_started_at,
            detected_at: self.detected_at,
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
    fn an_alert_gives_a_believable_impact_start() {
        let detected = Utc::now();
        let minutes = chrono::Duration::minutes;
        assert_eq!(
            believable_impact_start(Some(detected - minutes(7)), detected),
            Some(detected - minutes(7))
        );
        assert_eq!(
            believable_impact_start(Some(detected + minutes(5)), detected),
            Some(detected),
            "a sender's clock ahead of ours"
        );
        assert_eq!(
            believable_impact_start(Some(detected - chrono::Duration::days(400)), detected),
            None
        );
        assert_eq!(believable_impact_start(None, detected), None);
        let facts = AlertFacts {
            title: "api 5xx",
            started_at: Some(detected - minutes(7)),
            detected_at: detected,
        };
        let incident = IncidentDraft::from_alert("prod-am", facts, None, detected + minutes(1)).into_incident(1);
        assert_eq!(incident.detected_at, detected);
        assert_eq!(incident.impact_started_at, Some(detected - minutes(7)));
        assert_eq!(incident.impact_source.as_deref(), Some("alert:prod-am"));
        let by_hand = IncidentDraft::declare("db", None, false, "U1", detected).into_incident(2);
        assert_eq!((by_hand.impact_started_at, by_hand.detected_at), (None, detected));
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
