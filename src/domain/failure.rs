//! Failure tickets: a flagged message becomes a ticket that is owned,
//! analysed and closed with a lesson learned. Pure rules; time passed in.
//!
//! The life of a ticket: **open** (captured) → **triaged** (it has an owner)
//! → **actioned** (its root cause is written down) → **closed** (with the
//! lesson learned). Steps may be skipped (a ticket can be closed straight from
//! open), but closing always needs a lesson.

use chrono::{DateTime, Utc};

use super::Audience;

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    Open,
    Triaged,
    Actioned,
    Closed,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "open",
            TicketStatus::Triaged => "triaged",
            TicketStatus::Actioned => "actioned",
            TicketStatus::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            TicketStatus::Open,
            TicketStatus::Triaged,
            TicketStatus::Actioned,
            TicketStatus::Closed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A failure ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: i64,
    pub channel_id: String,
    pub ts: String,
    pub text: Option<String>,
    pub author: Option<String>,
    pub permalink: Option<String>,
    pub reporter: String,
    pub captured_at: DateTime<Utc>,
    pub incident_id: Option<i64>,
    pub status: TicketStatus,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub lesson: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The flagged message was deleted in Slack; the ticket stays.
    pub source_deleted_at: Option<DateTime<Utc>>,
    /// The thread the flagged message is in (its own `ts` when it starts none).
    pub thread_ts: Option<String>,
    /// How bad it was, 1 (cosmetic) to 5 (critical), set at triage.
    pub severity_score: Option<u8>,
    /// What customers felt, set at triage.
    pub customer_impact: Option<String>,
    /// The chain of "why?" answers, first to last.
    pub five_whys: Vec<String>,
    pub root_cause: Option<String>,
    /// `ts` of Rebound's own message about the ticket, in the thread.
    pub reply_ts: Option<String>,
    /// Captured in a private channel (a private incident's, one Slack says
    /// is private, or one whose privacy is not known yet): only its members
    /// may see or change what it says.
    pub private: bool,
}

/// What a private ticket shows outside its channel.
pub const PRIVATE_TICKET: &str = "a ticket in a private channel";

impl Ticket {
    /// True when `audience` may see and change this ticket.
    pub fn visible_to(&self, audience: &Audience) -> bool {
        !self.private || audience.may_read(&self.channel_id)
    }

    /// True when everyone in `channel_id` may see this ticket.
    pub fn visible_in(&self, channel_id: &str) -> bool {
        self.visible_to(&Audience::Channel(channel_id))
    }

    /// The ticket as `audience` may see it: a private one seen from outside
    /// keeps its number, status and owner, and nothing it says.
    pub fn seen_by(&self, audience: &Audience) -> Ticket {
        if self.visible_to(audience) {
            return self.clone();
        }
        Ticket {
            text: Some(PRIVATE_TICKET.into()),
            permalink: None,
            tags: vec![],
            lesson: None,
            customer_impact: None,
            five_whys: vec![],
            root_cause: None,
            ..self.clone()
        }
    }

    /// The ticket as posted in `channel_id`.
    pub fn seen_from(&self, channel_id: &str) -> Ticket {
        self.seen_by(&Audience::Channel(channel_id))
    }
}

#[cfg(test)]
impl Ticket {
    /// An open, untriaged ticket for tests: message `1.<id>` in `C1`, by `U2`, reported by `U1`.
    pub fn example(id: i64, text: &str) -> Self {
        Ticket {
            id,
            channel_id: "C1".into(),
            ts: format!("1.{id}"),
            text: Some(text.into()),
            author: Some("U2".into()),
            permalink: None,
            reporter: "U1".into(),
            captured_at: Utc::now(),
            incident_id: None,
            status: TicketStatus::Open,
            owner: None,
            tags: vec![],
            lesson: None,
            closed_at: None,
            source_deleted_at: None,
            thread_ts: None,
            severity_score: None,
            customer_impact: None,
            five_whys: vec![],
            root_cause: None,
            reply_ts: None,
            private: false,
        }
    }
}

impl Ticket {
    /// The thread replies about this ticket go to.
    pub fn reply_thread(&self) -> &str {
        self.thread_ts.as_deref().unwrap_or(&self.ts)
    }
}

/// What the triage form records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triage {
    pub owner: String,
    /// The ticket's tags after triage (replacing the earlier ones).
    pub tags: Vec<String>,
    pub severity_score: u8,
    pub customer_impact: Option<String>,
}

/// What the root-cause form records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub five_whys: Vec<String>,
    pub root_cause: String,
    pub lesson: Option<String>,
}

/// The highest severity score.
pub const MAX_SEVERITY_SCORE: u8 = 5;

/// Normalises a tag (`#Deploys` → `deploys`), or `None` when it is not one
/// word of letters, digits, `-` or `_` of at most 40 characters.
pub fn normalize_tag(tag: &str) -> Option<String> {
    let tag = tag.trim().trim_start_matches('#').to_ascii_lowercase();
    let valid =
        !tag.is_empty() && tag.len() <= 40 && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid.then_some(tag)
}

/// A change to a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketChange {
    Assign(String),
    Tag(String),
    Triage(Triage),
    RootCause(Analysis),
    Close { lesson: String },
}

/// Why a ticket change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("failure #{0} is closed")]
    Closed(i64),
    #[error("a tag is one word of letters, digits, '-' or '_' (at most 40)")]
    BadTag,
    #[error("closing failure #{0} needs the lesson learned: `/incident failure {0} close <lesson>`")]
    NoLesson(i64),
    #[error("failure #{0} already has tag `{1}`")]
    TagExists(i64, String),
    #[error("a severity score is 1 (cosmetic) to 5 (critical)")]
    BadScore,
    #[error("the root cause of failure #{0} is needed")]
    NoRootCause(i64),
}

/// Applies a change; returns the new ticket.
pub fn apply(ticket: &Ticket, change: TicketChange, now: DateTime<Utc>) -> Result<Ticket, TicketError> {
    if ticket.status == TicketStatus::Closed {
        return Err(TicketError::Closed(ticket.id));
    }
    let mut next = ticket.clone();
    match change {
        TicketChange::Assign(owner) => {
            next.owner = Some(owner);
            if next.status == TicketStatus::Open {
                next.status = TicketStatus::Triaged;
            }
        }
        TicketChange::Tag(tag) => {
            let tag = normalize_tag(&tag).ok_or(TicketError::BadTag)?;
            if next.tags.contains(&tag) {
                return Err(TicketError::TagExists(ticket.id, tag));
            }
            next.tags.push(tag);
        }
        TicketChange::Triage(triage) => {
            if !(1..=MAX_SEVERITY_SCORE).contains(&triage.severity_score) {
                return Err(TicketError::BadScore);
            }
            let mut tags = Vec::new();
            for tag in &triage.tags {
                let tag = normalize_tag(tag).ok_or(TicketError::BadTag)?;
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            next.owner = Some(triage.owner);
            next.tags = tags;
            next.severity_score = Some(triage.severity_score);
            next.customer_impact = non_empty(triage.customer_impact);
            if next.status == TicketStatus::Open {
                next.status = TicketStatus::Triaged;
            }
        }
        TicketChange::RootCause(analysis) => {
            let root_cause = analysis.root_cause.trim();
            if root_cause.is_empty() {
                return Err(TicketError::NoRootCause(ticket.id));
            }
            next.root_cause = Some(root_cause.to_string());
            next.five_whys = analysis
                .five_whys
                .iter()
                .map(|why| why.trim().to_string())
                .filter(|why| !why.is_empty())
                .collect();
            if let Some(lesson) = non_empty(analysis.lesson) {
                next.lesson = Some(lesson);
            }
            next.status = TicketStatus::Actioned;
        }
        TicketChange::Close { lesson } if lesson.trim().is_empty() => return Err(TicketError::NoLesson(ticket.id)),
        TicketChange::Close { lesson } => {
            next.status = TicketStatus::Closed;
            next.lesson = Some(lesson.trim().to_string());
            next.closed_at = Some(now);
        }
    }
    Ok(next)
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> Ticket {
        Ticket::example(3, "deploy failed")
    }

    fn triage(owner: &str, tags: &[&str], score: u8) -> TicketChange {
        TicketChange::Triage(Triage {
            owner: owner.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            severity_score: score,
            customer_impact: Some(" Checkout failed for 4% ".into()),
        })
    }

    #[test]
    fn triage_sets_owner_tags_score_and_impact() {
        let mut tagged = ticket();
        tagged.tags = vec!["old".into()];
        let triaged = apply(&tagged, triage("U9", &["#DB", "db", "deploys"], 4), Utc::now()).unwrap();
        assert_eq!(triaged.status, TicketStatus::Triaged);
        assert_eq!(triaged.owner.as_deref(), Some("U9"));
        assert_eq!(
            triaged.tags,
            ["db", "deploys"],
            "triage replaces the tags, without duplicates"
        );
        assert_eq!(triaged.severity_score, Some(4));
        assert_eq!(triaged.customer_impact.as_deref(), Some("Checkout failed for 4%"));
        assert_eq!(
            apply(&ticket(), triage("U9", &[], 0), Utc::now()),
            Err(TicketError::BadScore)
        );
        assert_eq!(
            apply(&ticket(), triage("U9", &[], 6), Utc::now()),
            Err(TicketError::BadScore)
        );
        assert_eq!(
            apply(&ticket(), triage("U9", &["two words"], 3), Utc::now()),
            Err(TicketError::BadTag)
        );
    }

    #[test]
    fn a_root_cause_makes_a_ticket_actioned_and_keeps_the_lesson_for_closing() {
        let analysis = Analysis {
            five_whys: vec!["deploy failed".into(), " ".into(), "no canary".into()],
            root_cause: "unreviewed config change".into(),
            lesson: Some("canary every config change".into()),
        };
        let actioned = apply(&ticket(), TicketChange::RootCause(analysis.clone()), Utc::now()).unwrap();
        assert_eq!(actioned.status, TicketStatus::Actioned);
        assert_eq!(actioned.five_whys, ["deploy failed", "no canary"]);
        assert_eq!(actioned.root_cause.as_deref(), Some("unreviewed config change"));
        assert_eq!(actioned.lesson.as_deref(), Some("canary every config change"));
        let triaged_again = apply(&actioned, triage("U9", &[], 2), Utc::now()).unwrap();
        assert_eq!(
            triaged_again.status,
            TicketStatus::Actioned,
            "triage never moves a ticket back"
        );
        let blank = Analysis {
            root_cause: "  ".into(),
            ..analysis
        };
        assert_eq!(
            apply(&ticket(), TicketChange::RootCause(blank), Utc::now()),
            Err(TicketError::NoRootCause(3))
        );
    }

    #[test]
    fn assigning_an_owner_triages_an_open_ticket() {
        let triaged = apply(&ticket(), TicketChange::Assign("U9".into()), Utc::now()).unwrap();
        assert_eq!(
            (triaged.status, triaged.owner.as_deref()),
            (TicketStatus::Triaged, Some("U9"))
        );
    }

    #[test]
    fn tags_are_normalised_and_unique() {
        let tagged = apply(&ticket(), TicketChange::Tag("#Deploys".into()), Utc::now()).unwrap();
        assert_eq!(tagged.tags, ["deploys"]);
        assert_eq!(
            apply(&tagged, TicketChange::Tag("deploys".into()), Utc::now()),
            Err(TicketError::TagExists(3, "deploys".into()))
        );
        assert_eq!(
            apply(&tagged, TicketChange::Tag("two words".into()), Utc::now()),
            Err(TicketError::BadTag)
        );
    }

    #[test]
    fn closing_needs_a_lesson_and_is_final() {
        let now = Utc::now();
        assert_eq!(
            apply(&ticket(), TicketChange::Close { lesson: " ".into() }, now),
            Err(TicketError::NoLesson(3))
        );
        let closed = apply(
            &ticket(),
            TicketChange::Close {
                lesson: "canary deploys first".into(),
            },
            now,
        )
        .unwrap();
        assert_eq!(
            (closed.status, closed.lesson.as_deref(), closed.closed_at),
            (TicketStatus::Closed, Some("canary deploys first"), Some(now))
        );
        assert_eq!(
            apply(&closed, TicketChange::Tag("x".into()), now),
            Err(TicketError::Closed(3))
        );
    }
}
