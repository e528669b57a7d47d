//! Failure tickets: a flagged message becomes a ticket that is owned,
//! analysed and closed with a lesson learned. Pure rules; time passed in.

use chrono::{DateTime, Utc};

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
}

/// A change to a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketChange {
    Assign(String),
    Tag(String),
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
            let tag = tag.trim().trim_start_matches('#').to_ascii_lowercase();
            let valid = !tag.is_empty()
                && tag.len() <= 40
                && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid {
                return Err(TicketError::BadTag);
            }
            if next.tags.contains(&tag) {
                return Err(TicketError::TagExists(ticket.id, tag));
            }
            next.tags.push(tag);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> Ticket {
        Ticket {
            id: 3,
            channel_id: "C1".into(),
            ts: "1.2".into(),
            text: Some("deploy failed".into()),
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
        }
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
