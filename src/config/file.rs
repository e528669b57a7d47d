//! The TOML file's settings (`REBOUND_CONFIG`): one struct per section,
//! each with the defaults Rebound runs with when the section or a key is
//! left out. Unknown keys are refused (`deny_unknown_fields`), so a typo is
//! an error at start rather than a default silently kept.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, WebSettings, intake, integrations, status};
use crate::domain::Severity;
use crate::domain::digest::DigestSchedule;

/// The part of the settings that can come from the TOML file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileSettings {
    pub slack: SlackSettings,
    pub severity: BTreeMap<Severity, SeveritySettings>,
    pub timers: TimerSettings,
    pub failures: FailureSettings,
    pub digest: DigestSettings,
    pub permissions: PermissionSettings,
    pub timeline: TimelineSettings,
    pub cost: CostSettings,
    pub web: WebSettings,
    pub retention: RetentionSettings,
    pub intake: intake::IntakeSettings,
    pub status: status::StatusSettings,
    pub integrations: integrations::IntegrationSettings,
}

/// How long finished work is kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Processed inbox items and sent Slack calls are deleted after this long
    /// (items and calls that ended in an error are kept). Slack retries a
    /// delivery within minutes, so a few days keeps every retry recognised.
    #[serde(with = "humantime_serde")]
    pub keep_delivered: Duration,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            keep_delivered: Duration::from_secs(7 * 86_400),
        }
    }
}

/// Estimated downtime cost, shown in post-mortems.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CostSettings {
    /// Shown next to amounts, e.g. `USD` or `€`.
    pub currency: String,
    /// Cost of one minute open at each severity; severities left out cost nothing.
    pub per_minute: BTreeMap<Severity, f64>,
}

impl Default for CostSettings {
    fn default() -> Self {
        Self {
            currency: "USD".into(),
            per_minute: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimelineSettings {
    /// Reacting with one of these in an incident channel adds the message to the timeline.
    pub emoji: Vec<String>,
}

impl Default for TimelineSettings {
    fn default() -> Self {
        Self {
            emoji: vec!["pushpin".into()],
        }
    }
}

/// `[permissions]`: `resolve = "anyone" | "lead"` and `admins = ["U…", "S…"]`.
pub type PermissionSettings = crate::domain::lifecycle::Permissions;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackSettings {
    /// Channel name or id where declarations and customer updates go.
    pub announce_channel: String,
    /// Incident channels are `<prefix>-<yyyymmdd>-<slug>`.
    pub channel_prefix: String,
    /// What the announce channel hears of a private incident.
    pub private_announcement: PrivateAnnouncement,
}

/// `bare` (default): "a private incident was declared", nothing more; `none`: silence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrivateAnnouncement {
    #[default]
    Bare,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeveritySettings {
    #[serde(with = "humantime_serde")]
    pub update_every: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimerSettings {
    #[serde(with = "humantime_serde")]
    pub severity_prompt_every: Duration,
    #[serde(with = "humantime_serde")]
    pub postmortem_due_after: Duration,
    #[serde(with = "humantime_serde")]
    pub postmortem_remind_every: Duration,
    /// After this many post-mortem reminders, the digest channel hears of it too.
    pub postmortem_escalate_after: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FailureSettings {
    /// Reacting with one of these on any message makes it a failure ticket.
    pub emoji: Vec<String>,
    /// Open tickets nobody triaged for this long are listed in the digest.
    #[serde(with = "humantime_serde")]
    pub untriaged_after: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestSettings {
    pub cron: String,
    pub timezone: String,
    pub channel: String,
}

impl Default for SlackSettings {
    fn default() -> Self {
        Self {
            announce_channel: "incidents".into(),
            channel_prefix: "inc".into(),
            private_announcement: PrivateAnnouncement::Bare,
        }
    }
}

impl Default for TimerSettings {
    fn default() -> Self {
        Self {
            severity_prompt_every: Duration::from_secs(5 * 60),
            postmortem_due_after: Duration::from_secs(48 * 3600),
            postmortem_remind_every: Duration::from_secs(24 * 3600),
            postmortem_escalate_after: 3,
        }
    }
}

impl Default for FailureSettings {
    fn default() -> Self {
        Self {
            emoji: vec!["rotating_light".into()],
            untriaged_after: Duration::from_secs(2 * 86_400),
        }
    }
}

impl Default for DigestSettings {
    fn default() -> Self {
        Self {
            cron: "0 0 9 * * Mon".into(),
            timezone: "UTC".into(),
            channel: "incident-managers".into(),
        }
    }
}

impl FileSettings {
    /// The customer-update cadence for a severity (configured or default).
    pub fn update_every(&self, severity: Severity) -> Duration {
        self.severity
            .get(&severity)
            .map(|s| s.update_every)
            .unwrap_or(match severity {
                Severity::Sev1 => Duration::from_secs(30 * 60),
                Severity::Sev2 => Duration::from_secs(60 * 60),
                Severity::Sev3 => Duration::from_secs(4 * 3600),
                Severity::Sev4 => Duration::from_secs(24 * 3600),
            })
    }
}

impl FileSettings {
    /// The parsed `[digest]` schedule.
    pub fn digest_schedule(&self) -> Result<DigestSchedule, ConfigError> {
        DigestSchedule::parse(&self.digest.cron, &self.digest.timezone).map_err(|e| ConfigError::BadValue {
            name: "digest",
            message: e.to_string(),
        })
    }
}

impl crate::domain::timers::Cadence for FileSettings {
    fn severity_prompt_every(&self) -> Duration {
        self.timers.severity_prompt_every
    }

    fn update_every(&self, severity: Severity) -> Duration {
        FileSettings::update_every(self, severity)
    }

    fn postmortem_due_after(&self) -> Duration {
        self.timers.postmortem_due_after
    }

    fn postmortem_remind_every(&self) -> Duration {
        self.timers.postmortem_remind_every
    }
}
