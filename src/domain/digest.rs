//! When the manager digest fires: a six-field cron expression (seconds
//! first) in a named time zone.
//!
//! Two traps from the `cron` crate are handled here: numeric day-of-week
//! fields count Sunday as 1 (so they are refused in favour of names), and a
//! wall-clock time that happens twice when clocks go back yields two fire
//! times (only the first is used). A wall-clock time that does not exist when
//! clocks go forward is skipped that day. A digest missed while Rebound was down is
//! sent once, because the next fire time is always computed after "now".

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cron::Schedule;

/// A validated digest schedule.
#[derive(Debug, Clone)]
pub struct DigestSchedule {
    schedule: Schedule,
    timezone: Tz,
    expression: String,
}

/// Why a digest schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("digest.cron {0:?} needs six fields, seconds first, e.g. \"0 0 9 * * Mon\"")]
    FieldCount(String),
    #[error("digest.cron {0:?}: write days of the week as names (Mon, Tue, …); the cron library counts Sunday as 1")]
    NumericWeekday(String),
    #[error("digest.cron {0:?} is not a cron expression: {1}")]
    Invalid(String, String),
    #[error("digest.timezone {0:?} is not an IANA time zone such as Europe/Berlin")]
    Timezone(String),
}

impl DigestSchedule {
    pub fn parse(expression: &str, timezone: &str) -> Result<Self, ScheduleError> {
        let fields: Vec<&str> = expression.split_whitespace().collect();
        if fields.len() != 6 {
            return Err(ScheduleError::FieldCount(expression.into()));
        }
        if fields[5].chars().any(|c| c.is_ascii_digit()) {
            return Err(ScheduleError::NumericWeekday(expression.into()));
        }
        let schedule =
            Schedule::from_str(expression).map_err(|e| ScheduleError::Invalid(expression.into(), e.to_string()))?;
        let timezone = Tz::from_str(timezone).map_err(|_| ScheduleError::Timezone(timezone.into()))?;
        Ok(Self {
            schedule,
            timezone,
            expression: expression.into(),
        })
    }

    /// The expression and zone, to notice a changed configuration.
    pub fn fingerprint(&self) -> String {
        format!("{} {}", self.expression, self.timezone)
    }

    /// The first fire time after `after` whose local wall-clock time differs
    /// from `last_fired`'s (so a repeated hour when clocks go back fires once).
    pub fn next_after(&self, after: DateTime<Utc>, last_fired: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        let last_local = last_fired.map(|last| last.with_timezone(&self.timezone).naive_local());
        self.schedule
            .after(&after.with_timezone(&self.timezone))
            .take(8)
            .find(|candidate| Some(candidate.naive_local()) != last_local)
            .map(|candidate| candidate.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn weekday_names_are_required_and_errors_are_named() {
        assert!(matches!(
            DigestSchedule::parse("0 0 9 * * 1", "UTC"),
            Err(ScheduleError::NumericWeekday(_))
        ));
        assert!(matches!(
            DigestSchedule::parse("0 9 * * Mon", "UTC"),
            Err(ScheduleError::FieldCount(_))
        ));
        assert!(matches!(
            DigestSchedule::parse("0 0 9 * * Mon", "Mars/Olympus"),
            Err(ScheduleError::Timezone(_))
        ));
        assert!(matches!(
            DigestSchedule::parse("0 0 99 * * Mon", "UTC"),
            Err(ScheduleError::Invalid(..))
        ));
    }

    #[test]
    fn mondays_at_nine_in_berlin() {
        let schedule = DigestSchedule::parse("0 0 9 * * Mon", "Europe/Berlin").unwrap();
        // Tuesday 2026-11-24 → Monday 2026-11-30 09:00 CET = 08:00 UTC.
        assert_eq!(
            schedule.next_after(utc(2026, 11, 24, 12, 0), None),
            Some(utc(2026, 11, 30, 8, 0))
        );
    }

    #[test]
    fn berlin_spring_forward_skips_the_missing_time() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that
        // day, so that day's digest is skipped (documented), never doubled.
        let schedule = DigestSchedule::parse("0 30 2 * * *", "Europe/Berlin").unwrap();
        let next = schedule.next_after(utc(2026, 3, 28, 12, 0), None).unwrap();
        assert_eq!(next, utc(2026, 3, 30, 0, 30), "02:30 CEST on the 30th");
        assert_eq!(schedule.next_after(next, Some(next)).unwrap(), utc(2026, 3, 31, 0, 30));
    }

    #[test]
    fn berlin_fall_back_fires_once_in_the_repeated_hour() {
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
        let schedule = DigestSchedule::parse("0 30 2 * * *", "Europe/Berlin").unwrap();
        let first = schedule.next_after(utc(2026, 10, 24, 12, 0), None).unwrap();
        assert_eq!(first, utc(2026, 10, 25, 0, 30), "the first 02:30 (CEST)");
        let next = schedule.next_after(first, Some(first)).unwrap();
        assert_eq!(
            next,
            utc(2026, 10, 26, 1, 30),
            "not the second 02:30 an hour later, but tomorrow's"
        );
    }

    #[test]
    fn new_york_spring_forward_and_fall_back() {
        let schedule = DigestSchedule::parse("0 30 1 * * *", "America/New_York").unwrap();
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
        let first = schedule.next_after(utc(2026, 10, 31, 12, 0), None).unwrap();
        assert_eq!(first, utc(2026, 11, 1, 5, 30), "01:30 EDT");
        assert_eq!(
            schedule.next_after(first, Some(first)).unwrap(),
            utc(2026, 11, 2, 6, 30),
            "then 01:30 EST next day"
        );
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist.
        let daily = DigestSchedule::parse("0 30 2 * * *", "America/New_York").unwrap();
        assert_eq!(
            daily.next_after(utc(2026, 3, 7, 12, 0), None).unwrap(),
            utc(2026, 3, 9, 6, 30),
            "the 8th is skipped"
        );
    }

    #[test]
    fn a_long_outage_yields_one_catch_up() {
        let schedule = DigestSchedule::parse("0 0 9 * * *", "UTC").unwrap();
        let last = utc(2026, 11, 1, 9, 0);
        // Down until the 24th: the stored fire time (2 Nov) is in the past, so
        // the digest fires once now and the next one is tomorrow, not 22 more.
        let now = utc(2026, 11, 24, 12, 0);
        assert_eq!(schedule.next_after(now, Some(last)), Some(utc(2026, 11, 25, 9, 0)));
    }
}
