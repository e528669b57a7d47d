//! Running a rollback from the card: who may, and when a second press is
//! the same request pressed twice. Pure.

use chrono::{DateTime, Duration, Utc};

use super::Incident;
use super::lifecycle::{Permissions, is_usergroup_id};

/// A press within this long of the last request for the same service is a
/// repeat (a double click, two people at once), not a second rollback.
pub const REPEAT_WINDOW: Duration = Duration::minutes(2);

/// Why a press does not run the rollback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotOpen,
    NotLead { lead: Option<String> },
    AlreadyRequested { at: DateTime<Utc> },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotOpen => write!(f, "the incident is resolved; there is nothing to roll back"),
            Refusal::NotLead { lead: Some(lead) } => {
                write!(f, "only the incident lead (<@{lead}>) or an admin may run a rollback")
            }
            Refusal::NotLead { lead: None } => {
                write!(
                    f,
                    "only the incident lead or an admin may run a rollback, and nobody leads yet"
                )
            }
            Refusal::AlreadyRequested { .. } => write!(f, "this rollback was requested moments ago; see its run above"),
        }
    }
}

/// Whether `actor` may run a rollback of `incident` now. `lead_only` is the
/// configured rule; `permissions` is `[permissions]` as it applies to the
/// actor (admins, members of admin groups); `last` is when the same
/// service's rollback was last requested for this incident.
pub fn decide(
    incident: &Incident,
    actor: &str,
    lead_only: bool,
    permissions: &Permissions,
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    if !incident.is_open() {
        return Err(Refusal::NotOpen);
    }
    let admin = permissions.admins.iter().any(|a| a == actor && !is_usergroup_id(a));
    if lead_only && incident.lead.as_deref() != Some(actor) && !admin {
        return Err(Refusal::NotLead {
            lead: incident.lead.clone(),
        });
    }
    match last {
        Some(at) if now - at < REPEAT_WINDOW => Err(Refusal::AlreadyRequested { at }),
        _ => Ok(()),
    }
}

/// The request id a workflow run carries: the incident and a random part.
pub fn request_id(incident: &Incident, random: u64) -> String {
    format!("rebound-{}-{random:016x}", incident.reference().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IncidentDraft;

    fn incident() -> Incident {
        let mut incident = IncidentDraft::declare("API down", None, false, "U1", Utc::now()).into_incident(4);
        incident.lead = Some("ULEAD".into());
        incident
    }

    #[test]
    fn only_the_lead_or_an_admin_may_when_lead_only() {
        let now = Utc::now();
        let admins = Permissions {
            admins: vec!["UADMIN".into(), "SGROUP".into()],
            ..Permissions::default()
        };
        assert_eq!(decide(&incident(), "ULEAD", true, &admins, None, now), Ok(()));
        assert_eq!(decide(&incident(), "UADMIN", true, &admins, None, now), Ok(()));
        assert!(matches!(
            decide(&incident(), "UOTHER", true, &admins, None, now),
            Err(Refusal::NotLead { .. })
        ));
        assert!(
            decide(&incident(), "SGROUP", true, &admins, None, now).is_err(),
            "a group id is nobody"
        );
        assert_eq!(decide(&incident(), "UOTHER", false, &admins, None, now), Ok(()));
    }

    #[test]
    fn a_second_press_within_two_minutes_is_a_repeat() {
        let now = Utc::now();
        let none = Permissions::default();
        let just_now = now - Duration::seconds(30);
        assert!(matches!(
            decide(&incident(), "ULEAD", true, &none, Some(just_now), now),
            Err(Refusal::AlreadyRequested { .. })
        ));
        let earlier = now - Duration::minutes(10);
        assert_eq!(decide(&incident(), "ULEAD", true, &none, Some(earlier), now), Ok(()));
    }

    #[test]
    fn resolved_incidents_roll_nothing_back() {
        let mut resolved = incident();
        resolved.status = crate::domain::Status::Resolved;
        assert_eq!(
            decide(&resolved, "ULEAD", true, &Permissions::default(), None, Utc::now()),
            Err(Refusal::NotOpen)
        );
    }

    #[test]
    fn request_ids_name_the_incident() {
        assert_eq!(request_id(&incident(), 0xabc), "rebound-inc-4-0000000000000abc");
    }
}
