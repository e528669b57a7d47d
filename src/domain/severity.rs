//! Severity levels and lifecycle statuses, with their Slack-facing spellings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How bad an incident is: `Sev1` is the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Sev1,
    Sev2,
    Sev3,
    Sev4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Sev1, Severity::Sev2, Severity::Sev3, Severity::Sev4];

    /// The lowercase spelling used in commands, config keys and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "sev1",
            Severity::Sev2 => "sev2",
            Severity::Sev3 => "sev3",
            Severity::Sev4 => "sev4",
        }
    }

    /// A short human description shown next to the level on cards and selects.
    pub fn meaning(self) -> &'static str {
        match self {
            Severity::Sev1 => "critical, customers broadly affected",
            Severity::Sev2 => "major, a key feature degraded",
            Severity::Sev3 => "minor, limited impact",
            Severity::Sev4 => "low, no customer impact yet",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = ();

    /// Accepts `sev2`, `SEV2`, `Sev2` and the bare digit `2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let digit = lower.strip_prefix("sev").unwrap_or(&lower);
        match digit {
            "1" => Ok(Severity::Sev1),
            "2" => Ok(Severity::Sev2),
            "3" => Ok(Severity::Sev3),
            "4" => Ok(Severity::Sev4),
            _ => Err(()),
        }
    }
}

/// Where an incident is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Investigating,
        Status::Identified,
        Status::Monitoring,
        Status::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Investigating => "investigating",
            Status::Identified => "identified",
            Status::Monitoring => "monitoring",
            Status::Resolved => "resolved",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == lower)
            .ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_accepts_every_documented_spelling() {
        for (text, expected) in [
            ("sev1", Severity::Sev1),
            ("SEV2", Severity::Sev2),
            ("3", Severity::Sev3),
            (" Sev4 ", Severity::Sev4),
        ] {
            assert_eq!(text.parse::<Severity>(), Ok(expected), "{text}");
        }
        for bad in ["sev0", "sev5", "", "severe", "sev", "11"] {
            assert!(bad.parse::<Severity>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn status_round_trips_through_its_spelling() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        }
        assert!("fixed".parse::<Status>().is_err());
    }
}
