//! Incident channel names, `<prefix>-<yyyymmdd>-<slug>`, valid by Slack's rules:
//! lowercase letters, digits, `-` and `_`, at most 80 characters.

use std::fmt;

use chrono::NaiveDate;

/// Slack's limit on conversation names.
pub const MAX_LEN: usize = 80;

/// A channel name that Slack's `conversations.create` accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelName(String);

impl ChannelName {
    /// Builds the name for an incident. `attempt` is 1 for the first try and
    /// grows after each `name_taken`, adding a `-<attempt>` suffix.
    pub fn for_incident(prefix: &str, date: NaiveDate, title: &str, number: i64, attempt: u32) -> Self {
        let suffix = if attempt > 1 {
            format!("-{attempt}")
        } else {
            String::new()
        };
        let stem = format!("{}-{}-", slugify(prefix), date.format("%Y%m%d"));
        let room = MAX_LEN.saturating_sub(stem.len() + suffix.len());
        let slug = match truncate_slug(&slugify(title), room) {
            slug if slug.is_empty() => format!("incident-{number}"),
            slug => slug,
        };
        Self(format!("{stem}{slug}{suffix}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// True when `name` obeys Slack's channel-name rules.
pub fn is_valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.chars().any(|c| c.is_ascii_alphanumeric())
}

/// Lowercases ASCII letters and digits and joins every other run of characters
/// with a single `-`. Letters outside ASCII are dropped because Slack rejects
/// them; the caller falls back to the incident number when nothing is left.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_matches(|c| c == '-' || c == '_').to_string()
}

fn truncate_slug(slug: &str, room: usize) -> String {
    // The slug is ASCII, so byte and char positions agree.
    slug[..slug.len().min(room)].trim_end_matches(['-', '_']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    #[test]
    fn name_has_prefix_date_and_slug() {
        let name = ChannelName::for_incident("inc", day(), "Checkout is DOWN!", 7, 1);
        assert_eq!(name.as_str(), "inc-20261124-checkout-is-down");
    }

    #[test]
    fn name_taken_retries_add_a_suffix() {
        let name = ChannelName::for_incident("inc", day(), "db", 7, 3);
        assert_eq!(name.as_str(), "inc-20261124-db-3");
    }

    #[test]
    fn titles_without_ascii_fall_back_to_the_number() {
        for title in ["支払いが失敗", "🔥🔥🔥", "---", "Ошибка"] {
            let name = ChannelName::for_incident("inc", day(), title, 42, 1);
            assert_eq!(name.as_str(), "inc-20261124-incident-42", "{title}");
        }
    }

    #[test]
    fn mixed_titles_keep_their_ascii_words() {
        let name = ChannelName::for_incident("inc", day(), "Zahlung größer 500 🔥 fehlgeschlagen", 1, 1);
        assert_eq!(name.as_str(), "inc-20261124-zahlung-gr-er-500-fehlgeschlagen");
    }

    #[test]
    fn long_titles_are_cut_to_eighty_including_the_suffix() {
        let title = "a".repeat(200);
        let name = ChannelName::for_incident("inc", day(), &title, 1, 12);
        assert_eq!(name.as_str().len(), MAX_LEN);
        assert!(name.as_str().ends_with("-12"));
        assert!(is_valid(name.as_str()));
    }

    proptest! {
        #[test]
        fn every_title_gives_a_valid_name(title in "\\PC{0,300}", number in 1i64..1_000_000, attempt in 1u32..50) {
            let name = ChannelName::for_incident("inc", day(), &title, number, attempt);
            prop_assert!(is_valid(name.as_str()), "{}", name);
        }
    }
}
