//! What the public status page says, in Atlassian Statuspage's words so
//! widgets written for it work: each component's state, the page's overall
//! indicator, and an incident's impact. Pure.

use serde::{Deserialize, Serialize};

use super::Severity;

/// The status of a published update that is the post-mortem's summary
/// (Statuspage's own word, so its widgets show it as a post-mortem).
pub const POSTMORTEM_UPDATE: &str = "postmortem";

/// A component's state, as `/incident impact` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ComponentState {
    Operational,
    Maintenance,
    Degraded,
    Partial,
    Major,
}

impl ComponentState {
    pub const ALL: [ComponentState; 5] = [
        ComponentState::Operational,
        ComponentState::Degraded,
        ComponentState::Partial,
        ComponentState::Major,
        ComponentState::Maintenance,
    ];

    /// The word typed in Slack (Statuspage's own words are accepted too).
    pub fn parse(word: &str) -> Option<Self> {
        match word.trim().to_ascii_lowercase().as_str() {
            "operational" | "ok" => Some(ComponentState::Operational),
            "degraded" | "degraded_performance" => Some(ComponentState::Degraded),
            "partial" | "partial_outage" => Some(ComponentState::Partial),
            "major" | "major_outage" => Some(ComponentState::Major),
            "maintenance" | "under_maintenance" => Some(ComponentState::Maintenance),
            _ => None,
        }
    }

    /// Statuspage's `status` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentState::Operational => "operational",
            ComponentState::Degraded => "degraded_performance",
            ComponentState::Partial => "partial_outage",
            ComponentState::Major => "major_outage",
            ComponentState::Maintenance => "under_maintenance",
        }
    }

    /// Reads [`Self::as_str`] back (the database keeps that).
    pub fn from_stored(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// How the page says it.
    pub fn label(self) -> &'static str {
        match self {
            ComponentState::Operational => "Operational",
            ComponentState::Degraded => "Degraded performance",
            ComponentState::Partial => "Partial outage",
            ComponentState::Major => "Major outage",
            ComponentState::Maintenance => "Under maintenance",
        }
    }
}

/// Statuspage's page-wide indicator and its description.
pub fn indicator(
    states: impl IntoIterator<Item = ComponentState>,
    unresolved: impl IntoIterator<Item = Option<Severity>>,
) -> (&'static str, &'static str) {
    let worst_state = states.into_iter().max().unwrap_or(ComponentState::Operational);
    let from_state = match worst_state {
        ComponentState::Operational => 0,
        ComponentState::Maintenance => 0,
        ComponentState::Degraded => 1,
        ComponentState::Partial => 2,
        ComponentState::Major => 3,
    };
    let from_incidents = unresolved.into_iter().map(impact_rank).max().unwrap_or(0);
    match from_state.max(from_incidents) {
        0 if worst_state == ComponentState::Maintenance => ("maintenance", "Service Under Maintenance"),
        0 => ("none", "All Systems Operational"),
        1 => ("minor", "Minor Service Outage"),
        2 => ("major", "Partial System Outage"),
        _ => ("critical", "Major Service Outage"),
    }
}

fn impact_rank(severity: Option<Severity>) -> u8 {
    match severity {
        Some(Severity::Sev1) => 3,
        Some(Severity::Sev2) => 2,
        Some(Severity::Sev3) => 1,
        Some(Severity::Sev4) | None => 0,
    }
}

/// Statuspage's incident `impact` for a severity.
pub fn impact(severity: Option<Severity>) -> &'static str {
    ["none", "minor", "major", "critical"][impact_rank(severity) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_both_spellings_and_round_trip() {
        for state in ComponentState::ALL {
            assert_eq!(ComponentState::parse(state.as_str()), Some(state));
            assert_eq!(ComponentState::from_stored(state.as_str()), Some(state));
        }
        assert_eq!(ComponentState::parse("partial"), Some(ComponentState::Partial));
        assert_eq!(ComponentState::parse("on fire"), None);
    }

    #[test]
    fn the_indicator_is_the_worst_of_components_and_open_incidents() {
        use ComponentState::*;
        assert_eq!(indicator([Operational, Operational], []).0, "none");
        assert_eq!(indicator([Operational, Degraded], []).0, "minor");
        assert_eq!(indicator([Partial, Degraded], []), ("major", "Partial System Outage"));
        assert_eq!(indicator([Major], []).0, "critical");
        assert_eq!(indicator([Maintenance], []).0, "maintenance");
        assert_eq!(indicator([Operational], [Some(Severity::Sev1)]).0, "critical");
        assert_eq!(impact(Some(Severity::Sev2)), "major");
        assert_eq!(impact(None), "none");
    }
}
