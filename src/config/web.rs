//! `[web]`: how Rebound's own pages are reached, and how fresh the
//! dashboard's charts are kept.

use std::time::Duration;

use serde::Deserialize;

/// The `[web]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSettings {
    /// The public base URL of this Rebound (as given to `rebound manifest --url`),
    /// for links to post-mortem drafts. Without it, Slack messages name the CLI command instead.
    pub public_url: Option<String>,
    /// How often the metrics page's trends are recomputed in the background
    /// (1 minute), so no visitor waits for a year of incidents to be measured.
    #[serde(with = "humantime_serde")]
    pub trends_every: Duration,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            public_url: None,
            trends_every: Duration::from_secs(60),
        }
    }
}
