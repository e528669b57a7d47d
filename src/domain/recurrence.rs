//! Recurrence: is a new failure one we have seen before?
//!
//! Two tickets are the same failure coming back when they share a tag, or
//! when their texts are similar: the **Jaccard similarity of their word sets**
//! is at least [`TEXT_SIMILARITY_THRESHOLD`] (0.5, i.e. at least half of all
//! distinct words in the two messages appear in both).
//!
//! Why this method: the messages people flag are mostly alerts, error lines
//! and deploy reports, generated from templates in which only numbers, ids and
//! hosts change. Words containing a digit are dropped before comparing, so two
//! firings of one alert compare as near-identical, while different alerts that
//! share a few common words stay well below half. Word sets ignore order and
//! repetition, need no index or database extension (the same code works on
//! SQLite and Postgres), and the result is easy to explain in Slack ("7 of 10
//! words in common"). Tags catch what wording cannot: people tag the same
//! failure the same way even when the messages differ.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};

use super::failure::Ticket;

/// Texts at least this similar (Jaccard on word sets) are the same failure.
pub const TEXT_SIMILARITY_THRESHOLD: f64 = 0.5;

/// Words so common in any message that sharing them says nothing.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "at", "be", "by", "for", "from", "has", "have", "http", "https", "in", "is", "it", "of",
    "on", "or", "the", "this", "that", "to", "was", "were", "with", "www",
];

/// Only the start of a message is compared: what identifies an alert or an
/// error is its first lines, and a 40 KB stack trace must not cost the
/// writer 40 KB of tokenising per earlier ticket.
pub const MAX_COMPARED_CHARS: usize = 2000;

/// The comparable words of a message: lowercase, no digits, no stop words,
/// from its first [`MAX_COMPARED_CHARS`] characters.
pub fn words(text: &str) -> BTreeSet<String> {
    let end = text
        .char_indices()
        .nth(MAX_COMPARED_CHARS)
        .map_or(text.len(), |(at, _)| at);
    text[..end]
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 2 && !w.chars().any(|c| c.is_ascii_digit()))
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

/// Jaccard similarity of two texts' word sets, 0.0 to 1.0. Texts with fewer
/// than two comparable words are too short to judge and score 0.
pub fn text_similarity(a: &str, b: &str) -> f64 {
    similarity(&words(a), &words(b))
}

fn similarity(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    if a.len() < 2 || b.len() < 2 {
        return 0.0;
    }
    let shared = a.intersection(b).count();
    let all = a.union(b).count();
    shared as f64 / all as f64
}

/// Why a ticket counts as a recurrence of an earlier one.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    SharedTags(Vec<String>),
    SimilarText(f64),
}

impl Reason {
    /// A short label for Slack and storage.
    pub fn describe(&self) -> String {
        match self {
            Reason::SharedTags(tags) => format!("tag {}", tags.join(", ")),
            Reason::SimilarText(score) => format!("{:.0}% similar text", score * 100.0),
        }
    }
}

/// An earlier ticket the new one repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct Recurrence {
    pub earlier_id: i64,
    pub reason: Reason,
}

/// The earlier tickets `ticket` repeats, oldest first. Only tickets captured
/// before it count; shared tags win over text when both apply.
pub fn recurrences(ticket: &Ticket, earlier: &[Ticket]) -> Vec<Recurrence> {
    // The new ticket is tokenised once, not once per earlier ticket.
    let own_words = ticket.text.as_deref().map(words);
    let mut found: Vec<Recurrence> = earlier
        .iter()
        .filter(|e| e.id < ticket.id)
        .filter_map(|e| {
            reason(ticket, own_words.as_ref(), e).map(|reason| Recurrence {
                earlier_id: e.id,
                reason,
            })
        })
        .collect();
    found.sort_by_key(|r| r.earlier_id);
    found
}

fn reason(ticket: &Ticket, own_words: Option<&BTreeSet<String>>, earlier: &Ticket) -> Option<Reason> {
    let shared: Vec<String> = earlier
        .tags
        .iter()
        .filter(|t| ticket.tags.contains(t))
        .cloned()
        .collect();
    if !shared.is_empty() {
        return Some(Reason::SharedTags(shared));
    }
    let score = similarity(own_words?, &words(earlier.text.as_deref()?));
    (score >= TEXT_SIMILARITY_THRESHOLD).then_some(Reason::SimilarText(score))
}

/// Tickets captured in one calendar month (UTC) and how many were recurrences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyRecurrence {
    /// `YYYY-MM`.
    pub month: String,
    pub tickets: u64,
    pub recurring: u64,
}

impl MonthlyRecurrence {
    /// Recurring tickets as a share of all tickets, 0.0 to 1.0.
    pub fn rate(&self) -> f64 {
        if self.tickets == 0 {
            0.0
        } else {
            self.recurring as f64 / self.tickets as f64
        }
    }
}

/// Groups captures (when, was it a recurrence) by month, oldest month first.
pub fn by_month(captures: &[(DateTime<Utc>, bool)]) -> Vec<MonthlyRecurrence> {
    let mut months: BTreeMap<(i32, u32), (u64, u64)> = BTreeMap::new();
    for (at, recurring) in captures {
        let entry = months.entry((at.year(), at.month())).or_default();
        entry.0 += 1;
        entry.1 += u64::from(*recurring);
    }
    months
        .into_iter()
        .map(|((year, month), (tickets, recurring))| MonthlyRecurrence {
            month: format!("{year:04}-{month:02}"),
            tickets,
            recurring,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn ticket(id: i64, text: &str, tags: &[&str]) -> Ticket {
        Ticket {
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Ticket::example(id, text)
        }
    }

    #[test]
    fn two_firings_of_one_alert_are_similar_and_different_alerts_are_not() {
        let first = "[FIRING:1] HighErrorRate checkout-api 5xx rate 7.2% on pod checkout-7f9c (threshold 5%)";
        let again = "[FIRING:1] HighErrorRate checkout-api 5xx rate 12.9% on pod checkout-2b1d (threshold 5%)";
        let other = "[FIRING:1] DiskAlmostFull postgres-primary disk usage 91% on node db-3";
        assert!(
            text_similarity(first, again) >= 0.9,
            "{}",
            text_similarity(first, again)
        );
        assert!(text_similarity(first, other) < 0.2, "{}", text_similarity(first, other));
        assert!(
            text_similarity("Deploy of payments failed", "payments deploy failed again") >= TEXT_SIMILARITY_THRESHOLD
        );
        assert!(text_similarity("Deploy of payments failed", "Deploy of search succeeded") < TEXT_SIMILARITY_THRESHOLD);
    }

    #[test]
    fn too_short_texts_are_never_similar() {
        assert_eq!(text_similarity("down", "down"), 0.0);
        assert_eq!(text_similarity("", "anything at all"), 0.0);
    }

    #[test]
    fn only_the_start_of_a_huge_message_is_compared() {
        let head = "payment gateway timeout upstream checkout service degraded";
        let huge = format!("{head} {}", "unrelated filler words ".repeat(10_000));
        assert!(huge.len() > 200_000);
        let compared = words(&huge);
        assert!(compared.contains("gateway") && compared.len() < 20, "{compared:?}");
    }

    #[test]
    fn shared_tags_or_similar_text_make_a_recurrence_of_earlier_tickets_only() {
        let new = ticket(5, "Checkout latency above SLO in eu-west", &["latency"]);
        let earlier = [
            ticket(1, "Checkout latency above SLO in us-east", &[]),
            ticket(2, "Search index rebuild failed", &["latency", "search"]),
            ticket(3, "Marketing email typo", &[]),
            ticket(7, "Checkout latency above SLO in eu-west", &[]),
        ];
        let found = recurrences(&new, &earlier);
        assert_eq!(found.iter().map(|r| r.earlier_id).collect::<Vec<_>>(), [1, 2]);
        assert!(matches!(found[0].reason, Reason::SimilarText(score) if score >= TEXT_SIMILARITY_THRESHOLD));
        assert_eq!(found[1].reason, Reason::SharedTags(vec!["latency".into()]));
        assert_eq!(found[1].reason.describe(), "tag latency");
    }

    #[test]
    fn recurrence_rate_is_counted_per_calendar_month() {
        let at = |m: u32, d: u32| Utc.with_ymd_and_hms(2026, m, d, 12, 0, 0).unwrap();
        let months = by_month(&[
            (at(10, 3), false),
            (at(11, 1), true),
            (at(11, 30), false),
            (at(11, 2), true),
        ]);
        assert_eq!(
            months,
            [
                MonthlyRecurrence {
                    month: "2026-10".into(),
                    tickets: 1,
                    recurring: 0
                },
                MonthlyRecurrence {
                    month: "2026-11".into(),
                    tickets: 3,
                    recurring: 2
                },
            ]
        );
        assert!((months[1].rate() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(by_month(&[]), []);
    }
}
