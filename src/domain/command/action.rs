//! Action items: `/incident action <text> [@owner] [due <date|duration>]`,
//! `/incident action <n> jira`, and when an item is due.

use std::time::Duration;

use chrono::NaiveDate;

use super::{Command, CommandError, parse_user_mention, required_text, split_last_word, truncate, usage};
use crate::domain::clock;

/// When an action item is due: a calendar date or a duration from now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    Date(NaiveDate),
    In(Duration),
}

impl Due {
    /// The moment it is due (a date means 17:00 UTC that day), or an error
    /// naming the problem when that is more than ten years after `now`.
    pub fn at(&self, now: chrono::DateTime<chrono::Utc>) -> Result<chrono::DateTime<chrono::Utc>, CommandError> {
        let at = match self {
            Due::Date(date) => date.and_hms_opt(17, 0, 0).map(|t| t.and_utc()),
            Due::In(duration) => clock::ahead(now, *duration),
        };
        at.filter(|at| clock::within_reach(now, *at))
            .ok_or_else(|| CommandError::new(TOO_FAR_AHEAD, usage::ACTION))
    }
}

const TOO_FAR_AHEAD: &str = "a due date can be at most 10 years ahead";

pub(super) fn parse_action(rest: &str) -> Result<Command, CommandError> {
    if let Some((number, "jira")) = rest.trim().split_once(char::is_whitespace).map(|(n, w)| (n, w.trim()))
        && let Ok(id) = number.trim_start_matches('#').parse::<i64>()
        && id > 0
    {
        return Ok(Command::ExportAction { id });
    }
    let (rest, due) = take_trailing_due(rest)?;
    let (head, last) = split_last_word(rest);
    let (text, owner) = match parse_user_mention(last) {
        Some(owner) => (head, Some(owner)),
        None => (rest, None),
    };
    let text = required_text(text, "an action item needs a description", usage::ACTION)?;
    Ok(Command::Action { text, owner, due })
}

fn take_trailing_due(rest: &str) -> Result<(&str, Option<Due>), CommandError> {
    let (head, value) = split_last_word(rest);
    let (before, keyword) = split_last_word(head);
    if !keyword.eq_ignore_ascii_case("due") {
        return Ok((rest, None));
    }
    parse_due(value).map(|due| (before, Some(due)))
}

fn parse_due(value: &str) -> Result<Due, CommandError> {
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(Due::Date(date));
    }
    match humantime::parse_duration(value) {
        Ok(duration) if duration > clock::MAX_AHEAD => Err(CommandError::new(TOO_FAR_AHEAD, usage::ACTION)),
        Ok(duration) if !duration.is_zero() => Ok(Due::In(duration)),
        _ => Err(CommandError::new(
            format!(
                "`{}` is not a due date; write a date like 2026-12-01 or a duration like 3d",
                truncate(value, 40)
            ),
            usage::ACTION,
        )),
    }
}
