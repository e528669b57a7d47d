//! The incident lifecycle: what a responder's change does to an incident,
//! and which changes are allowed. Pure: state and time in, new state and
//! what happened out.

use chrono::{DateTime, Utc};

use super::status_page::ComponentState;
use super::{Incident, Severity, Status};

/// A change a responder asks for, by slash command or card control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Severity(Severity),
    Status(Status),
    Lead(String),
    Note(String),
    Decision(String),
    CustomerUpdate(String),
    ActionItem(ActionItem),
    Resolve(Option<String>),
    Reopen(Option<String>),
    /// The post-mortem is written (with a link to it, if given).
    PostmortemDone(Option<String>),
    /// The impact began at this instant (`/incident started`).
    ImpactStarted(DateTime<Utc>),
    /// The post-mortem's summary for the status page (after it is done).
    PublishPostmortem(String),
    /// A customer update that is also published on the status page.
    PublicUpdate(String),
    /// A status-page component is in this state because of the incident.
    ComponentImpact {
        component: String,
        state: ComponentState,
    },
}

/// A follow-up agreed during the incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionItem {
    pub text: String,
    pub owner: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
}

/// What a change did; each becomes a timeline entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happened {
    SeverityChanged {
        from: Option<Severity>,
        to: Severity,
    },
    StatusChanged {
        from: Status,
        to: Status,
    },
    LeadChanged {
        from: Option<String>,
        to: String,
    },
    Noted(String),
    Decided(String),
    CustomerUpdate(String),
    ActionAdded(ActionItem),
    Resolved {
        summary: Option<String>,
    },
    Reopened {
        reason: Option<String>,
    },
    PostmortemDone {
        link: Option<String>,
    },
    ImpactStartSet {
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
    },
    PublicUpdate(String),
    ComponentImpact {
        component: String,
        state: ComponentState,
    },
    PostmortemPublished(String),
}

impl Happened {
    /// The timeline `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Happened::SeverityChanged { .. } => "severity",
            Happened::StatusChanged { .. } => "status",
            Happened::LeadChanged { .. } => "lead",
            Happened::Noted(_) => "note",
            Happened::Decided(_) => "decision",
            Happened::CustomerUpdate(_) => "customer_update",
            Happened::ActionAdded(_) => "action_item",
            Happened::Resolved { .. } => "resolved",
            Happened::Reopened { .. } => "reopened",
            Happened::PostmortemDone { .. } => "postmortem_done",
            Happened::ImpactStartSet { .. } => "impact_started",
            // A public update is a customer update (cadence, metrics) that is also published.
            Happened::PublicUpdate(_) => "customer_update",
            Happened::ComponentImpact { .. } => "component_impact",
            Happened::PostmortemPublished(_) => "postmortem_published",
        }
    }

    /// One line of Slack mrkdwn; people's text in it goes through
    /// [`crate::text::mrkdwn`], so it can neither ping a group nor disguise a link.
    pub fn describe(&self) -> String {
        use crate::text::mrkdwn;
        match self {
            Happened::SeverityChanged { from: None, to } => format!("set severity to *{to}*"),
            Happened::SeverityChanged { from: Some(from), to } => format!("changed severity from {from} to *{to}*"),
            Happened::StatusChanged { from, to } => format!("moved status from {from} to *{to}*"),
            Happened::LeadChanged { to, .. } => format!("made <@{to}> the incident lead"),
            Happened::Noted(text) => format!("noted: {}", mrkdwn(text)),
            Happened::Decided(text) => format!("decided: {}", mrkdwn(text)),
            Happened::CustomerUpdate(text) => format!("sent a customer update: {}", mrkdwn(text)),
            Happened::ActionAdded(item) => {
                let owner = item
                    .owner
                    .as_deref()
                    .map(|o| format!(", owner <@{o}>"))
                    .unwrap_or_default();
                let due = item
                    .due_at
                    .map(|d| format!(", due {}", d.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default();
                format!("added action item: {}{owner}{due}", mrkdwn(&item.text))
            }
            Happened::Resolved { summary: Some(summary) } => format!("resolved the incident: {}", mrkdwn(summary)),
            Happened::Resolved { summary: None } => "resolved the incident".into(),
            Happened::Reopened { reason: Some(reason) } => format!("reopened the incident: {}", mrkdwn(reason)),
            Happened::Reopened { reason: None } => "reopened the incident".into(),
            Happened::PostmortemDone { link: Some(link) } => format!("marked the post-mortem done: {}", mrkdwn(link)),
            Happened::PostmortemDone { link: None } => "marked the post-mortem done".into(),
            Happened::PublicUpdate(text) => format!("published an update on the status page: {}", mrkdwn(text)),
            Happened::PostmortemPublished(text) => {
                format!("published the post-mortem summary on the status page: {}", mrkdwn(text))
            }
            Happened::ComponentImpact { component, state } => {
                format!(
                    "set *{}* to *{}* on the status page",
                    mrkdwn(component),
                    state.label().to_lowercase()
                )
            }
            Happened::ImpactStartSet { from, to } => {
                let was = from
                    .map(|from| format!(" (was {})", from.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default();
                format!("set the impact start to *{}*{was}", to.format("%Y-%m-%d %H:%M UTC"))
            }
        }
    }

    /// Changes what the channel topic shows (severity, status, lead).
    pub fn changes_topic(&self) -> bool {
        !matches!(
            self,
            Happened::Noted(_)
                | Happened::Decided(_)
                | Happened::CustomerUpdate(_)
                | Happened::ImpactStartSet { .. }
                | Happened::PublicUpdate(_)
                | Happened::ComponentImpact { .. }
                | Happened::PostmortemPublished(_)
        )
    }

    /// Worth telling the announce channel: escalations, customer updates, resolution.
    pub fn is_announced(&self) -> bool {
        match self {
            Happened::SeverityChanged { from, to } => from.is_none_or(|from| *to < from),
            Happened::CustomerUpdate(_)
            | Happened::PublicUpdate(_)
            | Happened::Resolved { .. }
            | Happened::Reopened { .. } => true,
            _ => false,
        }
    }
}

/// Who may resolve and reopen (`[permissions] resolve` in the config).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResolvePolicy {
    /// Anyone in the incident channel.
    #[default]
    Anyone,
    /// Only the incident lead or the declarer.
    Lead,
}

/// Who may steer an incident (`[permissions]` in the config). With
/// `resolve = "lead"`, resolving, reopening and changing the lead are for
/// the lead, the declarer and the `admins`; everything else is for anyone
/// in the incident channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Permissions {
    pub resolve: ResolvePolicy,
    /// User ids (`U…`/`W…`) and user-group ids (`S…`) who may always steer.
    pub admins: Vec<String>,
}

impl Permissions {
    /// Anyone may do anything (the default).
    pub const ANYONE: Permissions = Permissions {
        resolve: ResolvePolicy::Anyone,
        admins: Vec::new(),
    };

    /// The user groups among the admins: their members, as Slack reports
    /// them, are admins too.
    pub fn admin_groups(&self) -> impl Iterator<Item = &str> {
        self.admins.iter().map(String::as_str).filter(|id| is_usergroup_id(id))
    }

    /// Whether deciding needs the actor's user groups.
    pub fn has_admin_groups(&self) -> bool {
        self.admin_groups().next().is_some()
    }

    /// The policy as it applies to `actor`, who is in `actor_groups`: a
    /// member of an admin group counts as an admin.
    pub fn applied_to(&self, actor: &str, actor_groups: &std::collections::BTreeSet<String>) -> Permissions {
        let mut applied = self.clone();
        if self.admin_groups().any(|group| actor_groups.contains(group)) {
            applied.admins.push(actor.to_string());
        }
        applied
    }

    /// True when `actor` may make `change` to `incident`.
    pub fn allow(&self, incident: &Incident, actor: &str, change: &Change) -> bool {
        let steering = matches!(
            change,
            Change::Resolve(_)
                | Change::Reopen(_)
                | Change::Status(Status::Resolved)
                | Change::Lead(_)
                | Change::ImpactStarted(_)
        );
        let steers = incident.lead.as_deref() == Some(actor)
            || incident.declared_by == actor
            || self
                .admins
                .iter()
                .any(|admin| admin == actor && !is_usergroup_id(admin));
        !steering || self.resolve == ResolvePolicy::Anyone || steers
    }
}

/// A Slack user-group id (`S…`, letters and digits).
pub fn is_usergroup_id(id: &str) -> bool {
    id.len() > 1 && id.len() <= 32 && id.starts_with('S') && id.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Why a change was refused, worded for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("{0} is resolved; `/incident reopen [reason]` first")]
    Resolved(String),
    #[error("{0} is not resolved, so there is nothing to reopen")]
    NotResolved(String),
    #[error("{0} is not resolved yet; the post-mortem comes after `/incident resolve`")]
    PostmortemTooEarly(String),
    #[error("nothing to change: {0}")]
    Unchanged(String),
    #[error(
        "only the incident lead, the person who declared {0} or an admin can resolve, reopen, hand over the lead or set the impact start"
    )]
    NotAllowed(String),
    #[error("{0} is private, so nothing of it goes on the public status page; use `/incident update <text>`")]
    PrivateNotPublished(String),
    #[error(
        "the post-mortem of {0} is not done yet; `/incident postmortem done [link]` first, then publish its summary"
    )]
    PostmortemNotDone(String),
    #[error("the impact cannot start after {0} was detected ({1})")]
    StartAfterDetection(String, String),
}

/// Applies `change` by `actor` at `now`, under `policy`.
pub fn decide(
    incident: &Incident,
    actor: &str,
    change: Change,
    policy: &Permissions,
    now: DateTime<Utc>,
) -> Result<(Incident, Happened), LifecycleError> {
    let reference = incident.reference();
    if !policy.allow(incident, actor, &change) {
        return Err(LifecycleError::NotAllowed(reference));
    }
    // Post-mortems correct the impact start after the fact, so it stays editable.
    let after_resolve = matches!(
        change,
        Change::Reopen(_) | Change::PostmortemDone(_) | Change::ImpactStarted(_) | Change::PublishPostmortem(_)
    );
    if !incident.is_open() && !after_resolve {
        return Err(LifecycleError::Resolved(reference));
    }
    let mut next = incident.clone();
    let happened = match change {
        Change::Severity(to) if incident.severity == Some(to) => {
            return Err(LifecycleError::Unchanged(format!("severity is already {to}")));
        }
        Change::Severity(to) => {
            next.severity = Some(to);
            Happened::SeverityChanged {
                from: incident.severity,
                to,
            }
        }
        Change::Status(Status::Resolved) => return decide(incident, actor, Change::Resolve(None), policy, now),
        Change::Status(to) if incident.status == to => {
            return Err(LifecycleError::Unchanged(format!("status is already {to}")));
        }
        Change::Status(to) => {
            next.status = to;
            if to == Status::Monitoring && next.mitigated_at.is_none() {
                next.mitigated_at = Some(now);
            }
            Happened::StatusChanged {
                from: incident.status,
                to,
            }
        }
        Change::Lead(to) if incident.lead.as_deref() == Some(to.as_str()) => {
            return Err(LifecycleError::Unchanged(format!("<@{to}> already leads {reference}")));
        }
        Change::Lead(to) => {
            next.lead = Some(to.clone());
            Happened::LeadChanged {
                from: incident.lead.clone(),
                to,
            }
        }
        Change::Note(text) => Happened::Noted(text),
        Change::Decision(text) => Happened::Decided(text),
        Change::CustomerUpdate(text) => Happened::CustomerUpdate(text),
        Change::PublicUpdate(_) if incident.private => return Err(LifecycleError::PrivateNotPublished(reference)),
        Change::PublicUpdate(text) => Happened::PublicUpdate(text),
        Change::ComponentImpact { component, state } => Happened::ComponentImpact { component, state },
        Change::ActionItem(item) => Happened::ActionAdded(item),
        Change::Resolve(summary) => {
            next.status = Status::Resolved;
            next.resolved_at = Some(now);
            next.mitigated_at.get_or_insert(now);
            next.summary = summary.clone();
            Happened::Resolved { summary }
        }
        Change::PostmortemDone(_) if incident.is_open() => return Err(LifecycleError::PostmortemTooEarly(reference)),
        Change::PostmortemDone(_) if incident.postmortem_done_at.is_some() => {
            return Err(LifecycleError::Unchanged(format!(
                "the post-mortem of {reference} is already done"
            )));
        }
        Change::PostmortemDone(link) => {
            next.postmortem_done_at = Some(now);
            next.postmortem_link = link.clone();
            Happened::PostmortemDone { link }
        }
        Change::PublishPostmortem(_) if incident.private => return Err(LifecycleError::PrivateNotPublished(reference)),
        Change::PublishPostmortem(_) if incident.is_open() => {
            return Err(LifecycleError::PostmortemTooEarly(reference));
        }
        Change::PublishPostmortem(_) if incident.postmortem_done_at.is_none() => {
            return Err(LifecycleError::PostmortemNotDone(reference));
        }
        Change::PublishPostmortem(text) => Happened::PostmortemPublished(text),
        Change::ImpactStarted(to) if to > incident.detected_at => {
            let detected = incident.detected_at.format("%Y-%m-%d %H:%M UTC").to_string();
            return Err(LifecycleError::StartAfterDetection(reference, detected));
        }
        Change::ImpactStarted(to) if incident.impact_started_at == Some(to) => {
            return Err(LifecycleError::Unchanged(format!("the impact start is already {to}")));
        }
        Change::ImpactStarted(to) => {
            next.impact_started_at = Some(to);
            next.impact_source = Some(actor.to_string());
            Happened::ImpactStartSet {
                from: incident.impact_started_at,
                to,
            }
        }
        Change::Reopen(_) if incident.is_open() => return Err(LifecycleError::NotResolved(reference)),
        Change::Reopen(reason) => {
            next.status = Status::Investigating;
            next.reopened_at = Some(now);
            next.resolved_at = None;
            Happened::Reopened { reason }
        }
    };
    next.acknowledged_at.get_or_insert(now);
    let cadence_restarts = match &happened {
        Happened::SeverityChanged { from: None, .. } | Happened::CustomerUpdate(_) | Happened::PublicUpdate(_) => true,
        Happened::Reopened { .. } => next.severity.is_some(),
        _ => false,
    };
    if cadence_restarts {
        next.cadence_anchor_at = Some(now);
    }
    Ok((next, happened))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEAD_ONLY: Permissions = Permissions {
        resolve: ResolvePolicy::Lead,
        admins: Vec::new(),
    };
    use crate::domain::IncidentDraft;
    use chrono::Duration;

    fn incident() -> Incident {
        IncidentDraft::declare("db down", None, false, "U1", Utc::now() - Duration::minutes(10)).into_incident(1)
    }

    #[test]
    fn the_first_change_acknowledges_the_incident() {
        let now = Utc::now();
        let (next, happened) = decide(
            &incident(),
            "U2",
            Change::Severity(Severity::Sev2),
            &Permissions::ANYONE,
            now,
        )
        .unwrap();
        assert_eq!(next.acknowledged_at, Some(now));
        assert_eq!(
            happened,
            Happened::SeverityChanged {
                from: None,
                to: Severity::Sev2
            }
        );
        let (again, _) = decide(
            &next,
            "U3",
            Change::Note("x".into()),
            &Permissions::ANYONE,
            now + Duration::minutes(1),
        )
        .unwrap();
        assert_eq!(again.acknowledged_at, Some(now), "only the first action counts");
    }

    #[test]
    fn the_impact_start_is_set_before_detection_even_after_resolve() {
        let detected = incident().detected_at;
        let start = detected - Duration::minutes(12);
        let (next, happened) = decide(
            &incident(),
            "U2",
            Change::ImpactStarted(start),
            &Permissions::ANYONE,
            detected,
        )
        .unwrap();
        assert_eq!(next.impact_started_at, Some(start));
        assert_eq!(next.impact_source.as_deref(), Some("U2"));
        assert_eq!(happened, Happened::ImpactStartSet { from: None, to: start });
        assert!(
            matches!(
                decide(
                    &next,
                    "U2",
                    Change::ImpactStarted(detected + Duration::minutes(1)),
                    &Permissions::ANYONE,
                    detected
                ),
                Err(LifecycleError::StartAfterDetection(..))
            ),
            "after detection makes no sense"
        );
        let (resolved, _) = decide(&next, "U1", Change::Resolve(None), &Permissions::ANYONE, detected).unwrap();
        let earlier = start - Duration::minutes(3);
        let (corrected, _) = decide(
            &resolved,
            "U1",
            Change::ImpactStarted(earlier),
            &Permissions::ANYONE,
            detected,
        )
        .unwrap();
        assert_eq!(
            corrected.impact_started_at,
            Some(earlier),
            "a post-mortem may correct it"
        );
        assert_eq!(
            decide(&resolved, "U9", Change::ImpactStarted(earlier), &LEAD_ONLY, detected),
            Err(LifecycleError::NotAllowed("INC-1".into())),
            "under resolve = \"lead\" it is the lead's"
        );
    }

    #[test]
    fn monitoring_records_mitigation_once() {
        let now = Utc::now();
        let (monitoring, _) = decide(
            &incident(),
            "U1",
            Change::Status(Status::Monitoring),
            &Permissions::ANYONE,
            now,
        )
        .unwrap();
        assert_eq!(monitoring.mitigated_at, Some(now));
        let (back, _) = decide(
            &monitoring,
            "U1",
            Change::Status(Status::Identified),
            &Permissions::ANYONE,
            now + Duration::minutes(1),
        )
        .unwrap();
        let (again, _) = decide(
            &back,
            "U1",
            Change::Status(Status::Monitoring),
            &Permissions::ANYONE,
            now + Duration::minutes(2),
        )
        .unwrap();
        assert_eq!(again.mitigated_at, Some(now));
    }

    #[test]
    fn a_resolved_incident_accepts_only_reopen() {
        let now = Utc::now();
        let (resolved, happened) = decide(
            &incident(),
            "U1",
            Change::Status(Status::Resolved),
            &Permissions::ANYONE,
            now,
        )
        .unwrap();
        assert_eq!(happened, Happened::Resolved { summary: None });
        assert_eq!((resolved.status, resolved.resolved_at), (Status::Resolved, Some(now)));
        for change in [
            Change::Severity(Severity::Sev1),
            Change::Note("n".into()),
            Change::Resolve(None),
        ] {
            assert_eq!(
                decide(&resolved, "U1", change, &Permissions::ANYONE, now),
                Err(LifecycleError::Resolved("INC-1".into()))
            );
        }
        let (reopened, _) = decide(
            &resolved,
            "U1",
            Change::Reopen(Some("errors back".into())),
            &Permissions::ANYONE,
            now,
        )
        .unwrap();
        assert_eq!(
            (reopened.status, reopened.reopened_at, reopened.resolved_at),
            (Status::Investigating, Some(now), None)
        );
        assert_eq!(
            decide(&reopened, "U1", Change::Reopen(None), &Permissions::ANYONE, now),
            Err(LifecycleError::NotResolved("INC-1".into()))
        );
    }

    #[test]
    fn the_post_mortem_is_done_after_resolution_once() {
        let now = Utc::now();
        let open = incident();
        let early = decide(&open, "U1", Change::PostmortemDone(None), &Permissions::ANYONE, now);
        assert_eq!(early, Err(LifecycleError::PostmortemTooEarly("INC-1".into())));
        let (resolved, _) = decide(&open, "U1", Change::Resolve(None), &Permissions::ANYONE, now).unwrap();
        let link = Some("https://docs/pm-1".to_string());
        let (done, happened) = decide(
            &resolved,
            "U2",
            Change::PostmortemDone(link.clone()),
            &Permissions::ANYONE,
            now,
        )
        .unwrap();
        assert_eq!(
            (done.postmortem_done_at, done.postmortem_link.clone()),
            (Some(now), link.clone())
        );
        assert_eq!(happened, Happened::PostmortemDone { link });
        assert!(matches!(
            decide(&done, "U2", Change::PostmortemDone(None), &Permissions::ANYONE, now),
            Err(LifecycleError::Unchanged(_))
        ));
    }

    #[test]
    fn a_postmortem_summary_is_published_only_when_done_and_never_for_a_private_incident() {
        let now = Utc::now();
        let publish = || Change::PublishPostmortem("we now canary".into());
        let open = incident();
        let decide_on = |incident: &Incident| decide(incident, "U1", publish(), &Permissions::ANYONE, now);
        assert_eq!(
            decide_on(&open),
            Err(LifecycleError::PostmortemTooEarly("INC-1".into()))
        );
        let (resolved, _) = decide(&open, "U1", Change::Resolve(None), &Permissions::ANYONE, now).unwrap();
        assert_eq!(
            decide_on(&resolved),
            Err(LifecycleError::PostmortemNotDone("INC-1".into()))
        );
        let (done, _) = decide(&resolved, "U1", Change::PostmortemDone(None), &Permissions::ANYONE, now).unwrap();
        let (_, happened) = decide_on(&done).unwrap();
        assert_eq!(happened, Happened::PostmortemPublished("we now canary".into()));
        let private = Incident { private: true, ..done };
        assert_eq!(
            decide_on(&private),
            Err(LifecycleError::PrivateNotPublished("INC-1".into()))
        );
    }

    #[test]
    fn repeating_a_change_changes_nothing() {
        let now = Utc::now();
        let (sev1, _) = decide(
            &incident(),
            "U1",
            Change::Severity(Severity::Sev1),
            &Permissions::ANYONE,
            now,
        )
        .unwrap();
        assert!(matches!(
            decide(&sev1, "U1", Change::Severity(Severity::Sev1), &Permissions::ANYONE, now),
            Err(LifecycleError::Unchanged(_))
        ));
        assert!(matches!(
            decide(&sev1, "U1", Change::Lead("U1".into()), &Permissions::ANYONE, now),
            Err(LifecycleError::Unchanged(_))
        ));
        assert!(matches!(
            decide(
                &sev1,
                "U1",
                Change::Status(Status::Investigating),
                &Permissions::ANYONE,
                now
            ),
            Err(LifecycleError::Unchanged(_))
        ));
    }

    #[test]
    fn with_the_lead_policy_only_the_lead_or_declarer_resolves() {
        let now = Utc::now();
        let mut led = incident();
        led.lead = Some("ULEAD".into());
        let refused = decide(&led, "UOTHER", Change::Resolve(None), &LEAD_ONLY, now);
        assert_eq!(refused, Err(LifecycleError::NotAllowed("INC-1".into())));
        assert!(decide(&led, "UOTHER", Change::Note("ok".into()), &LEAD_ONLY, now).is_ok());
        assert!(decide(&led, "ULEAD", Change::Resolve(None), &LEAD_ONLY, now).is_ok());
        assert!(
            decide(&led, "U1", Change::Status(Status::Resolved), &LEAD_ONLY, now).is_ok(),
            "the declarer may"
        );
        assert!(decide(&led, "UOTHER", Change::Resolve(None), &Permissions::ANYONE, now).is_ok());
    }

    #[test]
    fn with_the_lead_policy_nobody_else_takes_the_lead_to_resolve() {
        let now = Utc::now();
        let mut led = incident();
        led.lead = Some("ULEAD".into());
        let grab = decide(&led, "UOTHER", Change::Lead("UOTHER".into()), &LEAD_ONLY, now);
        assert_eq!(grab, Err(LifecycleError::NotAllowed("INC-1".into())));
        assert!(decide(&led, "ULEAD", Change::Lead("UNEXT".into()), &LEAD_ONLY, now).is_ok());
        let admins = Permissions {
            resolve: ResolvePolicy::Lead,
            admins: vec!["UADMIN".into()],
        };
        assert!(decide(&led, "UADMIN", Change::Lead("UADMIN".into()), &admins, now).is_ok());
        assert!(decide(&led, "UADMIN", Change::Resolve(None), &admins, now).is_ok());
    }

    #[test]
    fn members_of_an_admin_user_group_steer_like_admins() {
        let now = Utc::now();
        let mut led = incident();
        led.lead = Some("ULEAD".into());
        let policy = Permissions {
            resolve: ResolvePolicy::Lead,
            admins: vec!["UADMIN".into(), "S0ONCALL".into()],
        };
        assert_eq!(policy.admin_groups().collect::<Vec<_>>(), ["S0ONCALL"]);
        let on_call: std::collections::BTreeSet<String> = ["S0ONCALL".to_string()].into();
        let elsewhere: std::collections::BTreeSet<String> = ["S0DESIGN".to_string()].into();
        let member = policy.applied_to("UMEMBER", &on_call);
        assert!(decide(&led, "UMEMBER", Change::Resolve(None), &member, now).is_ok());
        let group_as_actor = policy.applied_to("S0ONCALL", &elsewhere);
        assert!(decide(&led, "S0ONCALL", Change::Resolve(None), &group_as_actor, now).is_err());
        let outsider = policy.applied_to("UOTHER", &elsewhere);
        assert_eq!(
            decide(&led, "UOTHER", Change::Resolve(None), &outsider, now),
            Err(LifecycleError::NotAllowed("INC-1".into()))
        );
        assert!(is_usergroup_id("S0ONCALL") && !is_usergroup_id("S") && !is_usergroup_id("U1"));
    }

    #[test]
    fn escalations_updates_and_resolution_are_announced() {
        let up = Happened::SeverityChanged {
            from: Some(Severity::Sev3),
            to: Severity::Sev1,
        };
        let down = Happened::SeverityChanged {
            from: Some(Severity::Sev1),
            to: Severity::Sev3,
        };
        assert!(up.is_announced() && !down.is_announced());
        assert!(Happened::CustomerUpdate("x".into()).is_announced());
        assert!(!Happened::Noted("x".into()).is_announced());
    }
}
