//! `[[intake.sources]]` and `[[intake.routes]]`: who may send alerts, how
//! each sender authenticates, and where its alerts go. Checked at load so
//! a typo is a startup error naming the key, never a silently open hook.

use std::collections::{BTreeMap, BTreeSet};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::ConfigError;
use crate::domain::Severity;
use crate::domain::alerts::SourceKind;
use crate::domain::alerts::routing::{Action, Defaults, Route};

/// The `[intake]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntakeSettings {
    pub sources: Vec<SourceSettings>,
    pub routes: Vec<RouteSettings>,
    /// At most one "alerts joined" post per incident this often (1 minute).
    #[serde(with = "humantime_serde")]
    pub summary_every: std::time::Duration,
}

impl Default for IntakeSettings {
    fn default() -> Self {
        Self {
            sources: Vec::new(),
            routes: Vec::new(),
            summary_every: std::time::Duration::from_secs(60),
        }
    }
}

/// One sender: its URL is `/hooks/{kind}/{name}` (Opsgenie: `/v2/alerts`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSettings {
    pub name: String,
    pub kind: SourceKind,
    /// Bearer token, basic-auth password, shared header or HMAC key, by kind.
    pub secret: SecretString,
    #[serde(default)]
    pub action: Action,
    /// A user group (`S…`) invited to incidents this source opens.
    #[serde(default)]
    pub responders: Option<String>,
    #[serde(default)]
    pub auto_resolve: bool,
    /// SNS only: the topics this subscription may deliver from (AWS's
    /// advice: any AWS account can sign for its own topic). Empty: any.
    #[serde(default)]
    pub topic_arns: Vec<String>,
    /// SNS only, for tests: a loopback origin (`http://127.0.0.1:PORT`)
    /// trusted like an SNS host for certificates and confirmations. Only
    /// loopback is accepted, so production cannot trust another host by it.
    #[serde(default)]
    pub insecure_test_origin: Option<String>,
}

impl SourceSettings {
    /// The loopback origin `insecure_test_origin` names (checked at load).
    pub fn test_origin(&self) -> Option<url::Origin> {
        self.insecure_test_origin
            .as_deref()
            .and_then(|origin| url::Url::parse(origin).ok())
            .filter(is_loopback)
            .map(|url| url.origin())
    }

    pub fn defaults(&self) -> Defaults {
        Defaults {
            action: self.action,
            auto_resolve: self.auto_resolve,
        }
    }
}

/// One `[[intake.routes]]` entry as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSettings {
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// A regular expression the alert's title must match.
    #[serde(default)]
    pub title: Option<String>,
    /// Matches the alert's severity word (`critical`, `P2`) or mapped severity (`sev2`).
    #[serde(default)]
    pub when_severity: Option<String>,
    pub action: Action,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub auto_resolve: Option<bool>,
}

fn is_loopback(url: &url::Url) -> bool {
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    loopback && matches!(url.scheme(), "http" | "https") && url.path() == "/"
}

/// Longest accepted source name (it is part of a URL and of metric labels).
const MAX_NAME: usize = 64;
/// Shortest secret: anything shorter can be guessed over the internet.
const MIN_SECRET: usize = 16;

impl IntakeSettings {
    /// The source `/hooks/{kind}/{name}` names, if configured with that kind.
    pub fn source(&self, kind: SourceKind, name: &str) -> Option<&SourceSettings> {
        self.sources.iter().find(|s| s.kind == kind && s.name == name)
    }

    /// The source named `name`, whatever its kind.
    pub fn named(&self, name: &str) -> Option<&SourceSettings> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// The routes, compiled (validated at load, so compiling cannot fail here).
    pub fn compiled_routes(&self) -> Vec<Route> {
        self.routes
            .iter()
            .map(|r| Route {
                source: r.source.clone(),
                labels: r.labels.clone(),
                title: r.title.as_deref().and_then(|t| regex::Regex::new(t).ok()),
                when_severity: r.when_severity.clone(),
                action: r.action,
                severity: r.severity,
                auto_resolve: r.auto_resolve,
            })
            .collect()
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let bad = |message: String| ConfigError::BadValue {
            name: "intake.sources",
            message,
        };
        if self.summary_every < std::time::Duration::from_secs(1)
            || self.summary_every > std::time::Duration::from_secs(3600)
        {
            return Err(ConfigError::BadValue {
                name: "intake.summary_every",
                message: "must be between 1s and 1h".into(),
            });
        }
        let mut names = BTreeSet::new();
        let mut genie_keys = BTreeSet::new();
        for source in &self.sources {
            let name = &source.name;
            let name_ok = !name.is_empty()
                && name.len() <= MAX_NAME
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !name_ok {
                return Err(bad(format!(
                    "name {name:?} must be 1-{MAX_NAME} letters, digits, '-' or '_' (it is part of the URL)"
                )));
            }
            if !names.insert(name.as_str()) {
                return Err(bad(format!("two sources are named {name:?}")));
            }
            if source.secret.expose_secret().chars().count() < MIN_SECRET {
                return Err(bad(format!("{name}: secret must be at least {MIN_SECRET} characters")));
            }
            if source.kind == SourceKind::Opsgenie && !genie_keys.insert(source.secret.expose_secret().to_string()) {
                return Err(bad(format!("{name}: two opsgenie sources share a GenieKey")));
            }
            if source.kind != SourceKind::Sns
                && (!source.topic_arns.is_empty() || source.insecure_test_origin.is_some())
            {
                return Err(bad(format!(
                    "{name}: topic_arns and insecure_test_origin are for sns sources"
                )));
            }
            if source.insecure_test_origin.is_some() && source.test_origin().is_none() {
                return Err(bad(format!(
                    "{name}: insecure_test_origin must be a loopback origin such as http://127.0.0.1:9000 (it exists for tests)"
                )));
            }
            if let Some(group) = &source.responders
                && !crate::domain::lifecycle::is_usergroup_id(group)
            {
                return Err(bad(format!("{name}: responders {group:?} is not a user-group id (S…)")));
            }
        }
        for (i, route) in self.routes.iter().enumerate() {
            let bad = |message: String| ConfigError::BadValue {
                name: "intake.routes",
                message: format!("route {}: {message}", i + 1),
            };
            if let Some(source) = &route.source
                && !names.contains(source.as_str())
            {
                return Err(bad(format!("source {source:?} is not configured")));
            }
            if let Some(title) = &route.title {
                regex::Regex::new(title).map_err(|e| bad(format!("title is not a regular expression: {e}")))?;
            }
        }
        Ok(())
    }
}
