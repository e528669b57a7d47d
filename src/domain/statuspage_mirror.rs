//! Mirroring Rebound's public status page on an Atlassian Statuspage: which
//! changes of an incident the mirror hears of. Pure. Only what Rebound
//! itself publishes goes out — public updates, component impact and the
//! resolution of a mirrored incident — and never anything of a private one.

use super::{Happened, Incident};

/// What the mirrored Statuspage incident gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorUpdate {
    /// A new incident update's text, if the change published one.
    pub body: Option<String>,
}

/// The update `happened` calls for; `mirrored` when the incident already
/// has (or is getting) a Statuspage incident.
pub fn mirror_update(incident: &Incident, happened: &Happened, mirrored: bool) -> Option<MirrorUpdate> {
    if incident.private {
        return None;
    }
    match happened {
        Happened::PublicUpdate(text) => Some(MirrorUpdate {
            body: Some(text.clone()),
        }),
        Happened::ComponentImpact { .. } => Some(MirrorUpdate { body: None }),
        Happened::Resolved { .. } if mirrored => Some(MirrorUpdate { body: None }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::IncidentDraft;
    use crate::domain::status_page::ComponentState;

    #[test]
    fn only_published_changes_of_public_incidents_are_mirrored() {
        let public = IncidentDraft::declare("API down", None, false, "U1", Utc::now()).into_incident(1);
        let update = Happened::PublicUpdate("We are on it".into());
        assert_eq!(
            mirror_update(&public, &update, false),
            Some(MirrorUpdate {
                body: Some("We are on it".into())
            })
        );
        let impact = Happened::ComponentImpact {
            component: "API".into(),
            state: ComponentState::Major,
        };
        assert_eq!(
            mirror_update(&public, &impact, false),
            Some(MirrorUpdate { body: None })
        );
        let resolved = Happened::Resolved { summary: None };
        assert_eq!(
            mirror_update(&public, &resolved, false),
            None,
            "never mirrored: nothing to resolve"
        );
        assert!(mirror_update(&public, &resolved, true).is_some());
        for private_change in [&update, &impact, &resolved] {
            let private = IncidentDraft::declare("Breach", None, true, "U1", Utc::now()).into_incident(2);
            assert_eq!(mirror_update(&private, private_change, true), None);
        }
        let note = Happened::Noted("internal".into());
        assert_eq!(
            mirror_update(&public, &note, true),
            None,
            "internal notes stay internal"
        );
    }
}
