//! `[integrations.*]`: the other systems Rebound tells about incidents
//! (PagerDuty, Zenduty, Statuspage.io). Credentials are secrets: never printed, never
//! logged, sent only to the URL configured beside them, and that URL must
//! be HTTPS (plain HTTP only to loopback, for tests and local fakes).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::ConfigError;
use crate::domain::Severity;
use crate::domain::paging::{AlertSystem, Wants};

/// The `[integrations]` table; each system is off until configured.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntegrationSettings {
    pub pagerduty: Option<PagerDutySettings>,
    pub zenduty: Option<ZendutySettings>,
    pub statuspage: Option<StatuspageSettings>,
    pub jira: Option<JiraSettings>,
    pub github: Option<GithubSettings>,
}

/// `[integrations.github]`: rollbacks run from the card as GitHub Actions
/// `workflow_dispatch` events.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubSettings {
    /// A fine-grained token with *Actions: read and write* on the repos.
    pub token: SecretString,
    #[serde(default = "default_github_url")]
    pub url: String,
    /// Who may run a rollback: the incident's lead (and admins), or anyone.
    #[serde(default)]
    pub run_by: RunBy,
    #[serde(default)]
    pub rollback: Vec<RollbackSettings>,
}

/// Who may press *Run rollback*.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunBy {
    #[default]
    Lead,
    Anyone,
}

/// One `[[integrations.github.rollback]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackSettings {
    pub service: String,
    /// `owner/name`.
    pub repo: String,
    /// The workflow's file name (`rollback.yml`) or id.
    pub workflow: String,
    #[serde(rename = "ref", default = "default_ref")]
    pub git_ref: String,
}

fn default_github_url() -> String {
    "https://api.github.com".into()
}

fn default_ref() -> String {
    "main".into()
}

impl GithubSettings {
    /// The rollback configured for `service`.
    pub fn rollback(&self, service: &str) -> Option<&RollbackSettings> {
        self.rollback.iter().find(|r| r.service == service)
    }

    fn check(&self) -> Result<(), ConfigError> {
        secure_url("integrations.github.url", &self.url)?;
        if self.token.expose_secret().trim().is_empty() {
            return Err(bad("integrations.github.token", "is empty".into()));
        }
        let plain = |text: &str, extra: &[char]| {
            !text.is_empty()
                && text.len() <= 100
                && text.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
        };
        let mut services = std::collections::BTreeSet::new();
        for rollback in &self.rollback {
            if !plain(&rollback.service, &['-', '_', '.']) || !services.insert(rollback.service.as_str()) {
                let message = format!(
                    "service {:?} must be unique: letters, digits, '-', '_', '.'",
                    rollback.service
                );
                return Err(bad("integrations.github.rollback.service", message));
            }
            let repo_ok = rollback
                .repo
                .split_once('/')
                .is_some_and(|(owner, name)| plain(owner, &['-']) && plain(name, &['-', '_', '.']));
            if !repo_ok {
                return Err(bad(
                    "integrations.github.rollback.repo",
                    format!("{:?} is not owner/name", rollback.repo),
                ));
            }
            if !plain(&rollback.workflow, &['-', '_', '.']) {
                let message = format!("{:?} must be a workflow file name or id", rollback.workflow);
                return Err(bad("integrations.github.rollback.workflow", message));
            }
            if rollback.git_ref.is_empty()
                || rollback.git_ref.len() > 200
                || rollback.git_ref.contains(char::is_whitespace)
            {
                return Err(bad(
                    "integrations.github.rollback.ref",
                    "must be a branch or tag name".into(),
                ));
            }
        }
        Ok(())
    }
}

/// `[integrations.jira]`: Jira Cloud (REST v3, basic auth with an API token).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraSettings {
    /// The site, e.g. `https://acme.atlassian.net`.
    pub url: String,
    /// The account the API token belongs to.
    pub email: String,
    pub api_token: SecretString,
    /// The project key issues are created in.
    pub project: String,
    #[serde(default = "default_issue_type")]
    pub issue_type: String,
    #[serde(default)]
    pub export: crate::domain::jira::Export,
    /// The secret of a Jira admin webhook (`jira:issue_updated`) pointed at
    /// `POST /integrations/jira/webhook`: an exported action item closes
    /// when its issue is done. Without it that route answers 404.
    #[serde(default)]
    pub webhook_secret: Option<SecretString>,
}

fn default_issue_type() -> String {
    "Task".into()
}

/// `[integrations.statuspage]`: an Atlassian Statuspage that mirrors what
/// Rebound publishes on its own status page.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatuspageSettings {
    /// An API key of a user with the Incident Manager role on the page.
    pub api_key: SecretString,
    pub page_id: String,
    #[serde(default = "default_statuspage_url")]
    pub url: String,
}

fn default_statuspage_url() -> String {
    "https://api.statuspage.io".into()
}

/// `[integrations.pagerduty]`: the Events API v2.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutySettings {
    /// The Events API v2 integration key of the service to page.
    pub routing_key: SecretString,
    /// Severities that page (sev1 and sev2 unless set).
    #[serde(default = "default_page")]
    pub page: Vec<Severity>,
    #[serde(default = "default_pagerduty_url")]
    pub url: String,
    /// The paged service's name on the card ("PagerDuty" unless set).
    #[serde(default)]
    pub service: Option<String>,
    /// A link to the service in PagerDuty, shown on the card.
    #[serde(default)]
    pub service_url: Option<String>,
}

/// `[integrations.zenduty]`: a Generic Integration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZendutySettings {
    /// `https://www.zenduty.com/api/events/<integration key>/`: the key is
    /// part of the URL, so the whole URL is a secret.
    pub integration_url: SecretString,
}

fn default_page() -> Vec<Severity> {
    vec![Severity::Sev1, Severity::Sev2]
}

fn default_pagerduty_url() -> String {
    "https://events.pagerduty.com".into()
}

impl IntegrationSettings {
    /// Which incidents `system` hears of, if it is configured.
    pub fn wants(&self, system: AlertSystem) -> Option<Wants> {
        match system {
            AlertSystem::PagerDuty => self.pagerduty.as_ref().map(|pd| Wants::Severities(pd.page.clone())),
            AlertSystem::Zenduty => self.zenduty.as_ref().map(|_| Wants::Every),
        }
    }

    /// The name of what `system` pages, for the card.
    pub fn paged_name(&self, system: AlertSystem) -> String {
        match (system, &self.pagerduty) {
            (
                AlertSystem::PagerDuty,
                Some(PagerDutySettings {
                    service: Some(name), ..
                }),
            ) => name.clone(),
            _ => system.display_name().to_string(),
        }
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if let Some(pd) = &self.pagerduty {
            let key = pd.routing_key.expose_secret();
            if key.len() != 32 || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(bad(
                    "integrations.pagerduty.routing_key",
                    "must be the 32-character Events API v2 integration key of a service".into(),
                ));
            }
            if pd.page.is_empty() {
                return Err(bad(
                    "integrations.pagerduty.page",
                    "names no severity (e.g. [\"sev1\"])".into(),
                ));
            }
            secure_url("integrations.pagerduty.url", &pd.url)?;
            if let Some(link) = &pd.service_url {
                secure_url("integrations.pagerduty.service_url", link)?;
            }
            if pd
                .service
                .as_ref()
                .is_some_and(|s| s.trim().is_empty() || s.len() > 100)
            {
                return Err(bad("integrations.pagerduty.service", "must be 1-100 characters".into()));
            }
        }
        if let Some(statuspage) = &self.statuspage {
            if statuspage.api_key.expose_secret().trim().is_empty() {
                return Err(bad("integrations.statuspage.api_key", "is empty".into()));
            }
            // It is part of every request's path.
            let id = &statuspage.page_id;
            if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(bad(
                    "integrations.statuspage.page_id",
                    "must be the page's id (letters and digits)".into(),
                ));
            }
            secure_url("integrations.statuspage.url", &statuspage.url)?;
        }
        if let Some(jira) = &self.jira {
            secure_url("integrations.jira.url", &jira.url)?;
            if !jira.email.contains('@') {
                return Err(bad(
                    "integrations.jira.email",
                    "must be the e-mail of the API token's account".into(),
                ));
            }
            if jira.api_token.expose_secret().trim().is_empty() {
                return Err(bad("integrations.jira.api_token", "is empty".into()));
            }
            let key = &jira.project;
            let valid = key.len() <= 32
                && key.starts_with(|c: char| c.is_ascii_uppercase())
                && key
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                return Err(bad(
                    "integrations.jira.project",
                    "must be a project key such as OPS".into(),
                ));
            }
            if jira.issue_type.trim().is_empty() {
                return Err(bad("integrations.jira.issue_type", "is empty".into()));
            }
            // A short secret could be guessed; Jira generates 20+ characters.
            if jira
                .webhook_secret
                .as_ref()
                .is_some_and(|s| s.expose_secret().len() < 16)
            {
                return Err(bad(
                    "integrations.jira.webhook_secret",
                    "must be at least 16 characters (Jira's Generate secret makes one)".into(),
                ));
            }
        }
        if let Some(github) = &self.github {
            github.check()?;
        }
        if let Some(zenduty) = &self.zenduty {
            // The message names no part of the URL: it holds the key.
            secure_url(
                "integrations.zenduty.integration_url",
                zenduty.integration_url.expose_secret(),
            )
            .map_err(|_| bad("integrations.zenduty.integration_url", "must be an https:// URL".into()))?;
        }
        Ok(())
    }
}

fn bad(name: &'static str, message: String) -> ConfigError {
    ConfigError::BadValue { name, message }
}

/// An `https://` URL, or `http://` to loopback (tests, local fakes): a
/// credential must not cross a network in the clear.
pub fn secure_url(name: &'static str, text: &str) -> Result<url::Url, ConfigError> {
    let url = url::Url::parse(text).map_err(|e| bad(name, format!("{e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(bad(name, "must be an https:// URL".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml: &str) -> Result<IntegrationSettings, String> {
        let settings: IntegrationSettings = toml::from_str(toml).map_err(|e| e.to_string())?;
        settings.check().map_err(|e| e.to_string())?;
        Ok(settings)
    }

    #[test]
    fn pagerduty_defaults_page_sev1_and_sev2_at_pagerduty() {
        let settings = parse("[pagerduty]\nrouting_key = \"R0123456789abcdef0123456789abcde\"\n").unwrap();
        let pd = settings.pagerduty.as_ref().unwrap();
        assert_eq!(pd.url, "https://events.pagerduty.com");
        assert_eq!(
            settings.wants(AlertSystem::PagerDuty),
            Some(Wants::Severities(vec![Severity::Sev1, Severity::Sev2]))
        );
        assert_eq!(settings.wants(AlertSystem::Zenduty), None);
        assert_eq!(settings.paged_name(AlertSystem::PagerDuty), "PagerDuty");
    }

    #[test]
    fn bad_keys_and_cleartext_urls_are_refused_without_echoing_secrets() {
        let short = parse("[pagerduty]\nrouting_key = \"abc\"\n").unwrap_err();
        assert!(short.contains("routing_key") && !short.contains("abc"), "{short}");
        let cleartext =
            parse("[pagerduty]\nrouting_key = \"R0123456789abcdef0123456789abcde\"\nurl = \"http://pd.example\"\n")
                .unwrap_err();
        assert!(cleartext.contains("https"), "{cleartext}");
        let zenduty =
            parse("[zenduty]\nintegration_url = \"http://zenduty.example/api/events/SECRETKEY/\"\n").unwrap_err();
        assert!(
            zenduty.contains("integration_url") && !zenduty.contains("SECRETKEY"),
            "{zenduty}"
        );
        assert!(parse("[zenduty]\nintegration_url = \"http://127.0.0.1:9/api/events/k/\"\n").is_ok());
        assert!(
            parse("[servicenow]\nurl = \"https://x\"\n").is_err(),
            "unknown systems are refused by name"
        );
    }

    #[test]
    fn github_rollbacks_are_checked_because_they_go_into_paths() {
        let github = "[github]\ntoken = \"t\"\n[[github.rollback]]\nservice = \"api\"\nworkflow = \"rollback.yml\"\n";
        let settings = parse(&format!("{github}repo = \"acme/api\"\n")).unwrap();
        let configured = settings.github.unwrap();
        assert_eq!(configured.run_by, RunBy::Lead);
        assert_eq!(configured.rollback("api").unwrap().git_ref, "main");
        assert!(parse(&format!("{github}repo = \"acme/../../admin\"\n")).is_err());
        assert!(parse(&format!("{github}repo = \"acme\"\n")).is_err());
        let twice = format!(
            "{github}repo = \"acme/api\"\n[[github.rollback]]\nservice = \"api\"\nworkflow = \"x.yml\"\nrepo = \"a/b\"\n"
        );
        assert!(parse(&twice).is_err(), "one rollback per service");
    }

    #[test]
    fn jira_needs_a_project_key_and_a_known_export_mode() {
        let jira = "[jira]\nurl = \"https://acme.atlassian.net\"\nemail = \"ops@acme.example\"\napi_token = \"t\"\n";
        let settings = parse(&format!("{jira}project = \"OPS\"\n")).unwrap();
        let configured = settings.jira.unwrap();
        assert_eq!(configured.issue_type, "Task");
        assert_eq!(configured.export, crate::domain::jira::Export::Manual);
        assert!(parse(&format!("{jira}project = \"ops OR x\"\n")).is_err());
        assert!(parse(&format!("{jira}project = \"OPS\"\nexport = \"everything\"\n")).is_err());
        assert!(parse(&format!("{jira}project = \"OPS\"\nexport = \"action_items\"\n")).is_ok());
        assert!(configured.webhook_secret.is_none());
        let guessable = parse(&format!("{jira}project = \"OPS\"\nwebhook_secret = \"short\"\n"));
        assert!(guessable.unwrap_err().to_string().contains("webhook_secret"));
        let generated = format!("{jira}project = \"OPS\"\nwebhook_secret = \"x7Hq2mVpL9sT4wRz8kYb\"\n");
        assert!(parse(&generated).unwrap().jira.unwrap().webhook_secret.is_some());
    }
}
