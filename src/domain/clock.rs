//! Checked time arithmetic: the only place Rebound adds a duration to an
//! instant.
//!
//! `DateTime + Duration` panics on overflow, and the durations come from
//! people (`due 1000000y`, a snooze button's value) and from configuration.
//! Anything a person asks for is bounded by [`MAX_AHEAD`] and refused beyond
//! it; internal waits (leases, back-offs, cadences already validated at load)
//! saturate instead of panicking.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The furthest ahead anything a person asks for may be scheduled: ten years.
pub const MAX_AHEAD: Duration = Duration::from_secs(3653 * 86_400);

/// `now + wait`, or `None` when it would overflow or lies beyond [`MAX_AHEAD`].
pub fn ahead(now: DateTime<Utc>, wait: Duration) -> Option<DateTime<Utc>> {
    if wait > MAX_AHEAD {
        return None;
    }
    now.checked_add_signed(chrono::Duration::from_std(wait).ok()?)
}

/// `now + wait` for internal waits: past [`MAX_AHEAD`] it stops there, so a
/// bad value delays work instead of crashing the worker.
pub fn later(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    ahead(now, wait.min(MAX_AHEAD))
        .or_else(|| now.checked_add_signed(chrono::Duration::days(1)))
        .unwrap_or(now)
}

/// `now - wait`, stopping at the earliest instant chrono can represent.
pub fn earlier(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(wait)
        .ok()
        .and_then(|wait| now.checked_sub_signed(wait))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// True when `at` is no further than [`MAX_AHEAD`] from `now`.
pub fn within_reach(now: DateTime<Utc>, at: DateTime<Utc>) -> bool {
    ahead(now, MAX_AHEAD).is_some_and(|limit| at <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_wait_beyond_ten_years_is_refused_not_added() {
        let now = Utc::now();
        assert!(ahead(now, Duration::from_secs(u64::MAX)).is_none());
        assert!(ahead(now, MAX_AHEAD + Duration::from_secs(1)).is_none());
        assert!(ahead(now, Duration::from_secs(60)).is_some());
    }

    #[test]
    fn arithmetic_near_the_end_of_time_does_not_panic() {
        let end = DateTime::<Utc>::MAX_UTC;
        assert!(ahead(end, Duration::from_secs(1)).is_none());
        assert_eq!(later(end, Duration::from_secs(1)), end);
        assert_eq!(
            earlier(DateTime::<Utc>::MIN_UTC, Duration::from_secs(1)),
            DateTime::<Utc>::MIN_UTC
        );
    }

    proptest! {
        #[test]
        fn no_wait_and_no_instant_panics(secs in any::<u64>(), nanos in 0u32..1_000_000_000, base in any::<i64>()) {
            let now = DateTime::<Utc>::from_timestamp_millis(base % 8_000_000_000_000_000).unwrap_or_default();
            let wait = Duration::new(secs, nanos);
            let _ = ahead(now, wait);
            let _ = later(now, wait);
            let _ = earlier(now, wait);
        }
    }
}
