//! `/incident started <time>`: when the impact began, as a responder says
//! it — `14:05`, `2026-12-01 14:05` (both in the team's time zone),
//! RFC 3339, or `20m ago`. Pure: the instant is resolved against the time
//! the command was received and the team's zone, passed in.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::clock;

/// The usage line shown with every error.
pub const USAGE: &str = "/incident started <14:05 | 2026-12-01 14:05 | 2026-12-01T14:05:00Z | 20m ago>";

/// How far back an impact start may be set.
const MAX_AGO: Duration = Duration::from_secs(365 * 86_400);
/// Clocks differ; a minute "in the future" is someone typing the time now.
const SKEW: chrono::Duration = chrono::Duration::minutes(1);

/// A time as typed, before it is placed in a day and a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartedAt {
    /// `14:05`: today (or yesterday, if that is still to come) in the team's zone.
    Clock(NaiveTime),
    /// `2026-12-01 14:05` in the team's zone.
    Local(NaiveDateTime),
    /// RFC 3339, with its own offset.
    Instant(DateTime<Utc>),
    /// `20m ago`.
    Ago(Duration),
}

/// Why a time could not be used, worded for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StartedError(pub String);

impl StartedAt {
    /// Reads the argument of `/incident started`.
    pub fn parse(text: &str) -> Result<Self, StartedError> {
        let text = text.trim();
        if let Some(amount) = text.strip_suffix("ago") {
            return humantime::parse_duration(amount.trim())
                .map(StartedAt::Ago)
                .map_err(|_| StartedError(format!("`{}` is not a duration like 20m or 1h30m", short(amount))));
        }
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Ok(StartedAt::Instant(at.with_timezone(&Utc)));
        }
        for format in ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"] {
            if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
                return Ok(StartedAt::Local(at));
            }
        }
        for format in ["%H:%M", "%H:%M:%S"] {
            if let Ok(at) = NaiveTime::parse_from_str(text, format) {
                return Ok(StartedAt::Clock(at));
            }
        }
        Err(StartedError(if text.is_empty() {
            "say when the impact started".into()
        } else {
            format!("`{}` is not a time Rebound reads", short(text))
        }))
    }

    /// The instant meant, said at `now` by a team in `zone`: never in the
    /// future, at most a year back.
    pub fn at(self, now: DateTime<Utc>, zone: Tz) -> Result<DateTime<Utc>, StartedError> {
        let soon = now.checked_add_signed(SKEW).unwrap_or(now);
        let at = match self {
            StartedAt::Instant(at) => Some(at),
            StartedAt::Ago(ago) => Some(clock::earlier(now, ago)),
            StartedAt::Local(local) => Some(in_zone(local, zone)?),
            StartedAt::Clock(time) => {
                let today = now.with_timezone(&zone).date_naive();
                let at = in_zone(today.and_time(time), zone)?;
                match at > soon {
                    true => today.pred_opt().map(|d| in_zone(d.and_time(time), zone)).transpose()?,
                    false => Some(at),
                }
            }
        };
        let at = at.ok_or_else(|| StartedError("that is too long ago".into()))?;
        if at > soon {
            return Err(StartedError(format!(
                "{} is in the future",
                at.with_timezone(&zone).format("%Y-%m-%d %H:%M %Z")
            )));
        }
        if at < clock::earlier(now, MAX_AGO) {
            return Err(StartedError("an impact start can be at most a year ago".into()));
        }
        Ok(at.min(now))
    }
}

/// A wall-clock time in `zone`; the earlier one when a clock change repeats it.
fn in_zone(local: NaiveDateTime, zone: Tz) -> Result<DateTime<Utc>, StartedError> {
    zone.from_local_datetime(&local)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| {
            StartedError(format!(
                "{} does not exist in {zone} (the clocks skip it)",
                local.format("%Y-%m-%d %H:%M")
            ))
        })
}

fn short(text: &str) -> String {
    text.trim().chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    const NOW: &str = "2026-12-01T15:00:00Z";

    fn resolve(text: &str, zone: Tz) -> Result<DateTime<Utc>, StartedError> {
        StartedAt::parse(text)?.at(utc(NOW), zone)
    }

    #[test]
    fn the_four_spellings_of_the_interface() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(resolve("14:05", chrono_tz::UTC), Ok(utc("2026-12-01T14:05:00Z")));
        assert_eq!(
            resolve("14:05", berlin),
            Ok(utc("2026-12-01T13:05:00Z")),
            "the team's zone"
        );
        assert_eq!(
            resolve("2026-12-01 14:05", chrono_tz::UTC),
            Ok(utc("2026-12-01T14:05:00Z"))
        );
        assert_eq!(
            resolve("2026-12-01T14:05:00+01:00", chrono_tz::UTC),
            Ok(utc("2026-12-01T13:05:00Z"))
        );
        assert_eq!(resolve("20m ago", berlin), Ok(utc("2026-12-01T14:40:00Z")));
        assert_eq!(resolve("1h30m ago", berlin), Ok(utc("2026-12-01T13:30:00Z")));
    }

    #[test]
    fn a_clock_time_still_to_come_means_yesterday() {
        assert_eq!(resolve("23:50", chrono_tz::UTC), Ok(utc("2026-11-30T23:50:00Z")));
    }

    #[test]
    fn the_future_the_distant_past_and_nonsense_are_refused() {
        assert!(resolve("2026-12-02 09:00", chrono_tz::UTC).is_err());
        assert!(resolve("2020-01-01T00:00:00Z", chrono_tz::UTC).is_err());
        assert!(resolve("400d ago", chrono_tz::UTC).is_err());
        assert!(resolve("99999999999999y ago", chrono_tz::UTC).is_err());
        for nonsense in ["", "lunchtime", "25:99", "ago", "-5m ago", "2026-13-01 10:00"] {
            assert!(resolve(nonsense, chrono_tz::UTC).is_err(), "{nonsense:?}");
        }
    }

    #[test]
    fn a_time_the_clocks_skip_is_named() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let error = StartedAt::parse("2026-03-29 02:30")
            .unwrap()
            .at(utc("2026-03-29T12:00:00Z"), berlin)
            .unwrap_err();
        assert!(error.0.contains("does not exist"), "{error}");
    }
}
