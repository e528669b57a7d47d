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

/// A message's comparable words as stored with its ticket at capture:
/// sorted, distinct, space-separated (words never hold a space). Stored so
/// that matching a new ticket tokenises nothing but the new ticket.
pub fn word_key(text: &str) -> String {
    words(text).into_iter().collect::<Vec<_>>().join(" ")
}

/// Jaccard similarity of two texts' word sets, 0.0 to 1.0. Texts with fewer
/// than two comparable words are too short to judge and score 0.
pub fn text_similarity(a: &str, b: &str) -> f64 {
    similarity(&word_key(a), &word_key(b))
}

/// Jaccard similarity of two [`word_key`]s, by one merge of the sorted words
/// (no allocation: thousands of earlier tickets are compared per capture).
fn similarity(a: &str, b: &str) -> f64 {
    let (a_len, b_len) = (count_words(a), count_words(b));
    if a_len < 2 || b_len < 2 {
        return 0.0;
    }
    let shared = shared_words(a, b);
    shared as f64 / (a_len + b_len - shared) as f64
}

fn key_words(key: &str) -> impl Iterator<Item = &str> {
    key.split(' ').filter(|w| !w.is_empty())
}

fn count_words(key: &str) -> usize {
    key_words(key).count()
}

/// Words two sorted keys have in common, by one merge.
fn shared_words(a: &str, b: &str) -> usize {
    let (mut left, mut right) = (key_words(a), key_words(b));
    let (mut x, mut y) = (left.next(), right.next());
    let mut shared = 0;
    while let (Some(l), Some(r)) = (x, y) {
        match l.cmp(r) {
            std::cmp::Ordering::Less => x = left.next(),
            std::cmp::Ordering::Greater => y = right.next(),
            std::cmp::Ordering::Equal => {
                shared += 1;
                x = left.next();
                y = right.next();
            }
        }
    }
    shared
}

/// What recurrence matching needs of a ticket: no text, only its word key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Candidate {
    pub id: i64,
    pub tags: Vec<String>,
    /// [`word_key`] of its text; empty while the text is unknown.
    pub words: String,
}

impl Candidate {
    /// A ticket as matching sees it (tests and tickets read whole).
    pub fn of(ticket: &Ticket) -> Self {
        Candidate {
            id: ticket.id,
            tags: ticket.tags.clone(),
            words: ticket.text.as_deref().map(word_key).unwrap_or_default(),
        }
    }
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
/// before it count; shared tags win over text when both apply. Pure CPU:
/// callers run it outside any write transaction.
pub fn recurrences(ticket: &Candidate, earlier: &[Candidate]) -> Vec<Recurrence> {
    let mut found: Vec<Recurrence> = earlier
        .iter()
        .filter(|e| e.id < ticket.id)
        .filter_map(|e| {
            reason(ticket, e).map(|reason| Recurrence {
                earlier_id: e.id,
                reason,
            })
        })
        .collect();
    found.sort_by_key(|r| r.earlier_id);
    found
}

fn reason(ticket: &Candidate, earlier: &Candidate) -> Option<Reason> {
    let shared: Vec<String> = earlier
        .tags
        .iter()
        .filter(|t| ticket.tags.contains(t))
        .cloned()
        .collect();
    if !shared.is_empty() {
        return Some(Reason::SharedTags(shared));
    }
    let score = similarity(&ticket.words, &earlier.words);
    (score >= TEXT_SIMILARITY_THRESHOLD).then_some(Reason::SimilarText(score))
}

/// Recurrences by shared tags alone, from `(earlier ticket, shared tag)`
/// pairs: what a re-tagged ticket adds (its text was matched at capture).
pub fn by_shared_tags(ticket_id: i64, pairs: &[(i64, String)]) -> Vec<Recurrence> {
    let mut tags: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (earlier_id, tag) in pairs.iter().filter(|(id, _)| *id < ticket_id) {
        tags.entry(*earlier_id).or_default().push(tag.clone());
    }
    tags.into_iter()
        .map(|(earlier_id, mut shared)| {
            shared.sort();
            shared.dedup();
            Recurrence {
                earlier_id,
                reason: Reason::SharedTags(shared),
            }
        })
        .collect()
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
        let earlier: Vec<Candidate> = earlier.iter().map(Candidate::of).collect();
        let found = recurrences(&Candidate::of(&new), &earlier);
        assert_eq!(found.iter().map(|r| r.earlier_id).collect::<Vec<_>>(), [1, 2]);
        assert!(matches!(found[0].reason, Reason::SimilarText(score) if score >= TEXT_SIMILARITY_THRESHOLD));
        assert_eq!(found[1].reason, Reason::SharedTags(vec!["latency".into()]));
        assert_eq!(found[1].reason.describe(), "tag latency");
    }

    #[test]
    fn stored_word_keys_are_sorted_distinct_words() {
        assert_eq!(word_key("Disk full on db-3: disk FULL again"), "again db disk full");
        assert_eq!(word_key(""), "");
    }

    #[test]
    fn re_tagging_repeats_the_earlier_tickets_sharing_a_tag() {
        let pairs = [
            (3, "db".to_string()),
            (1, "latency".into()),
            (3, "api".into()),
            (9, "db".into()),
        ];
        let found = by_shared_tags(5, &pairs);
        assert_eq!(
            found,
            [
                Recurrence {
                    earlier_id: 1,
                    reason: Reason::SharedTags(vec!["latency".into()])
                },
                Recurrence {
                    earlier_id: 3,
                    reason: Reason::SharedTags(vec!["api".into(), "db".into()])
                },
            ]
        );
    }

    proptest::proptest! {
        /// The merge over stored keys is exactly Jaccard over word sets.
        #[test]
        fn similarity_of_stored_keys_is_jaccard_of_word_sets(
            a in proptest::collection::vec("(alpha|beta|gamma|delta|eps|zeta|eta|theta|[a-z]{2,5})", 0..30),
            b in proptest::collection::vec("(alpha|beta|gamma|delta|eps|zeta|eta|theta|[a-z]{2,5})", 0..30),
        ) {
            let (a, b) = (a.join(" "), b.join(" "));
            let (x, y) = (words(&a), words(&b));
            let expected = if x.len() < 2 || y.len() < 2 {
                0.0
            } else {
                x.intersection(&y).count() as f64 / x.union(&y).count() as f64
            };
            proptest::prop_assert!((text_similarity(&a, &b) - expected).abs() < 1e-12);
        }
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
