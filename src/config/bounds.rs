//! The ranges every configured duration must fall in, checked at load so an
//! absurd value (`keep_delivered = "0s"`, `"1000000y"`) stops Rebound at
//! start with the key named, instead of wiping the inbox or overflowing a
//! timer later.

use std::time::Duration;

use super::{ConfigError, FileSettings};

/// The shortest any duration may be: zero would spin a worker (or prune
/// every delivery at once). Short values are for trials; the README gives
/// sensible ones.
const SECOND: Duration = Duration::from_secs(1);
const DAY: Duration = Duration::from_secs(86_400);

/// One duration setting and the range it must fall in.
struct Bound {
    key: &'static str,
    value: Duration,
    min: Duration,
    max: Duration,
    why: &'static str,
}

/// Every duration in the file, each with its range.
fn bounds(file: &FileSettings) -> Vec<Bound> {
    let mut bounds = vec![
        Bound {
            key: "retention.keep_delivered",
            value: file.retention.keep_delivered,
            min: SECOND,
            max: 3650 * DAY,
            why: "Slack's retries must still be recognised",
        },
        Bound {
            key: "timers.severity_prompt_every",
            value: file.timers.severity_prompt_every,
            min: SECOND,
            max: 7 * DAY,
            why: "a prompt must repeat at a useful pace",
        },
        Bound {
            key: "timers.postmortem_due_after",
            value: file.timers.postmortem_due_after,
            min: SECOND,
            max: 365 * DAY,
            why: "a post-mortem is due within a year",
        },
        Bound {
            key: "timers.postmortem_remind_every",
            value: file.timers.postmortem_remind_every,
            min: SECOND,
            max: 365 * DAY,
            why: "reminders must repeat at a useful pace",
        },
        Bound {
            key: "failures.untriaged_after",
            value: file.failures.untriaged_after,
            min: SECOND,
            max: 365 * DAY,
            why: "the backlog must be about this year",
        },
        Bound {
            key: "web.trends_every",
            value: file.web.trends_every,
            min: SECOND,
            max: DAY,
            why: "the dashboard's charts must stay current",
        },
        Bound {
            key: "intake.summary_every",
            value: file.intake.summary_every,
            min: SECOND,
            max: DAY,
            why: "joined alerts must be told within a day",
        },
    ];
    for (severity, settings) in &file.severity {
        bounds.push(Bound {
            key: severity_key(*severity),
            value: settings.update_every,
            min: SECOND,
            max: 30 * DAY,
            why: "customer updates must be nudged at a useful pace",
        });
    }
    bounds
}

fn severity_key(severity: crate::domain::Severity) -> &'static str {
    use crate::domain::Severity::*;
    match severity {
        Sev1 => "severity.sev1.update_every",
        Sev2 => "severity.sev2.update_every",
        Sev3 => "severity.sev3.update_every",
        Sev4 => "severity.sev4.update_every",
    }
}

/// Refuses the first duration outside its range, naming the key.
pub fn check(file: &FileSettings) -> Result<(), ConfigError> {
    for bound in bounds(file) {
        if bound.value < bound.min || bound.value > bound.max {
            return Err(ConfigError::BadValue {
                name: bound.key,
                message: format!(
                    "{} is outside {} to {} ({})",
                    humantime::format_duration(bound.value),
                    humantime::format_duration(bound.min),
                    humantime::format_duration(bound.max),
                    bound.why
                ),
            });
        }
    }
    if file.timers.postmortem_escalate_after == 0 {
        return Err(ConfigError::BadValue {
            name: "timers.postmortem_escalate_after",
            message: "must be 1 or more (the reminder from which the digest channel hears too)".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(toml: &str) -> Result<(), ConfigError> {
        check(&toml::from_str::<FileSettings>(toml).unwrap())
    }

    #[test]
    fn defaults_are_in_range() {
        assert!(check(&FileSettings::default()).is_ok());
    }

    #[test]
    fn absurd_durations_are_refused_with_the_key_named() {
        for (toml, key) in [
            ("[retention]\nkeep_delivered = \"0s\"", "retention.keep_delivered"),
            ("[retention]\nkeep_delivered = \"1000000y\"", "retention.keep_delivered"),
            (
                "[timers]\nseverity_prompt_every = \"0s\"",
                "timers.severity_prompt_every",
            ),
            (
                "[timers]\npostmortem_due_after = \"1000000y\"",
                "timers.postmortem_due_after",
            ),
            (
                "[severity.sev2]\nupdate_every = \"1000000y\"",
                "severity.sev2.update_every",
            ),
            ("[failures]\nuntriaged_after = \"0s\"", "failures.untriaged_after"),
            (
                "[timers]\npostmortem_escalate_after = 0",
                "timers.postmortem_escalate_after",
            ),
        ] {
            let error = with(toml).unwrap_err().to_string();
            assert!(error.starts_with(key), "{toml}: {error}");
        }
    }
}
