//! Settings: built-in defaults, then the optional TOML file named by
//! `REBOUND_CONFIG`, then environment variables.
//!
//! Secrets are [`SecretString`]s: they print as `[REDACTED]` in `Debug` and
//! are only exposed at the single place that sends them to Slack.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use secrecy::SecretString;

mod bounds;
mod describe;
mod file;
pub mod intake;
pub mod integrations;
mod redact;
pub mod status;
pub mod web;

pub use web::WebSettings;

pub use file::{
    CostSettings, DigestSettings, FailureSettings, FileSettings, PermissionSettings, PrivateAnnouncement,
    RetentionSettings, SeveritySettings, SlackSettings, TimelineSettings, TimerSettings,
};

pub use describe::describe;
pub use redact::redact_database_url;

use crate::domain::channel_name;

/// Every setting Rebound runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bot_token: Option<SecretString>,
    pub signing_secret: Option<SecretString>,
    pub app_token: Option<SecretString>,
    /// Sign in with Slack (`SLACK_CLIENT_ID`, `SLACK_CLIENT_SECRET`): the web
    /// dashboard is there only when both are set.
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// Receive Slack traffic over Socket Mode (`serve --socket-mode` or `REBOUND_SOCKET_MODE=true`).
    pub socket_mode: bool,
    /// Apply pending migrations at start (`serve --no-migrate` turns it off
    /// for rolling deploys that run `rebound migrate` as their own step).
    pub migrate_on_start: bool,
    pub slack_api_url: String,
    pub database_url: SecretString,
    pub addr: SocketAddr,
    /// The operators' listener (`/metrics`, post-mortem pages); `None` when `off`.
    pub internal_addr: Option<SocketAddr>,
    /// This process's name among the replicas (`REBOUND_REPLICA`, else the
    /// host name): its outbox claims carry it, so a restarted replica takes
    /// its own unfinished claims back at once.
    pub replica: String,
    pub file: FileSettings,
}

/// A configuration problem, worded for the person running Rebound.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    ReadFile { path: String, source: std::io::Error },
    #[error("config file {path} is not valid: {message}")]
    ParseFile { path: String, message: String },
    #[error("{name} is not valid: {message}")]
    BadValue { name: &'static str, message: String },
    #[error("missing required settings:\n{}", .0.join("\n"))]
    Missing(Vec<String>),
}

/// Where an environment variable's value comes from; tests pass a map.
pub trait EnvSource {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl EnvSource for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl Settings {
    /// Loads defaults, then `REBOUND_CONFIG`, then the environment.
    pub fn load(env: &dyn EnvSource) -> Result<Self, ConfigError> {
        let file = match env.var("REBOUND_CONFIG") {
            Some(path) => read_file(Path::new(&path))?,
            None => FileSettings::default(),
        };
        let addr = env.var("REBOUND_ADDR").unwrap_or_else(|| "0.0.0.0:3000".into());
        let settings = Settings {
            bot_token: env.var("SLACK_BOT_TOKEN").map(SecretString::from),
            signing_secret: env.var("SLACK_SIGNING_SECRET").map(SecretString::from),
            app_token: env.var("SLACK_APP_TOKEN").map(SecretString::from),
            client_id: env.var("SLACK_CLIENT_ID").filter(|id| !id.trim().is_empty()),
            client_secret: env.var("SLACK_CLIENT_SECRET").map(SecretString::from),
            socket_mode: match env.var("REBOUND_SOCKET_MODE").as_deref() {
                None | Some("false" | "0") => false,
                Some("true" | "1") => true,
                Some(other) => {
                    return Err(ConfigError::BadValue {
                        name: "REBOUND_SOCKET_MODE",
                        message: format!("{other:?} (expected true or false)"),
                    });
                }
            },
            migrate_on_start: true,
            slack_api_url: env
                .var("SLACK_API_URL")
                .unwrap_or_else(|| "https://slack.com/api".into()),
            database_url: env
                .var("DATABASE_URL")
                .unwrap_or_else(|| "sqlite://rebound.db".into())
                .into(),
            addr: addr.parse().map_err(|e| ConfigError::BadValue {
                name: "REBOUND_ADDR",
                message: format!("{e} (expected HOST:PORT)"),
            })?,
            internal_addr: match env.var("REBOUND_INTERNAL_ADDR").as_deref().unwrap_or("127.0.0.1:3001") {
                "off" => None,
                other => Some(other.parse().map_err(|e| ConfigError::BadValue {
                    name: "REBOUND_INTERNAL_ADDR",
                    message: format!("{e} (expected HOST:PORT or off)"),
                })?),
            },
            replica: env
                .var("REBOUND_REPLICA")
                .or_else(|| env.var("HOSTNAME"))
                .or_else(host_name)
                .unwrap_or_else(|| "rebound".into()),
            file,
        };
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.replica.is_empty() || self.replica.len() > 200 {
            return Err(ConfigError::BadValue {
                name: "REBOUND_REPLICA",
                message: "must be 1-200 characters".into(),
            });
        }
        url::Url::parse(&self.slack_api_url).map_err(|e| ConfigError::BadValue {
            name: "SLACK_API_URL",
            message: e.to_string(),
        })?;
        self.file.digest_schedule()?;
        bounds::check(&self.file)?;
        self.file.intake.check()?;
        self.file.status.check()?;
        self.file.integrations.check()?;
        if let Some(admin) = self
            .file
            .permissions
            .admins
            .iter()
            .find(|id| !crate::domain::command::is_user_id(id) && !crate::domain::lifecycle::is_usergroup_id(id))
        {
            return Err(ConfigError::BadValue {
                name: "permissions.admins",
                message: format!("{admin:?} is not a Slack user id (U… or W…) or user-group id (S…)"),
            });
        }
        let prefix = &self.file.slack.channel_prefix;
        if !channel_name::is_valid(prefix) || prefix.len() > 20 {
            return Err(ConfigError::BadValue {
                name: "slack.channel_prefix",
                message: format!("{prefix:?} must be 1-20 lowercase letters, digits, '-' or '_'"),
            });
        }
        Ok(())
    }

    /// Fails with every missing setting `serve` needs, each with how to get it.
    pub fn require_for_serve(&self) -> Result<(), ConfigError> {
        let mut missing = Vec::new();
        if self.bot_token.is_none() {
            missing.push(
                "  SLACK_BOT_TOKEN: the Bot User OAuth Token (xoxb-…), from your Slack app's \
                 \"OAuth & Permissions\" page after installing it to the workspace"
                    .to_string(),
            );
        }
        if self.socket_mode {
            if self.app_token.is_none() {
                missing.push(
                    "  SLACK_APP_TOKEN: an App-Level Token (xapp-…) with the connections:write scope, from your \
                     Slack app's \"Basic Information\" page, under \"App-Level Tokens\" (Socket Mode must be on)"
                        .to_string(),
                );
            }
        } else if self.signing_secret.is_none() {
            missing.push(
                "  SLACK_SIGNING_SECRET: the Signing Secret from your Slack app's \
                 \"Basic Information\" page, under \"App Credentials\" (or run with --socket-mode)"
                    .to_string(),
            );
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Missing(missing))
        }
    }
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        path: display.clone(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::ParseFile {
        path: display,
        message: e.to_string(),
    })
}

/// The machine's host name, from `/etc/hostname` (Linux).
fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/etc/hostname").ok()?;
    Some(name.trim().to_string()).filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Severity;
    use secrecy::ExposeSecret;
    use std::time::Duration;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_match_the_interface() {
        let settings = Settings::load(&env(&[])).unwrap();
        assert_eq!(settings.slack_api_url, "https://slack.com/api");
        assert_eq!(settings.database_url.expose_secret(), "sqlite://rebound.db");
        assert_eq!(settings.addr.to_string(), "0.0.0.0:3000");
        assert_eq!(settings.file.slack.channel_prefix, "inc");
        assert_eq!(settings.file.update_every(Severity::Sev1), Duration::from_secs(1800));
    }

    #[test]
    fn the_replica_name_comes_from_the_environment_and_is_bounded() {
        let named = Settings::load(&env(&[("REBOUND_REPLICA", "rebound-1"), ("HOSTNAME", "pod-7")])).unwrap();
        assert_eq!(named.replica, "rebound-1");
        assert_eq!(Settings::load(&env(&[("HOSTNAME", "pod-7")])).unwrap().replica, "pod-7");
        assert!(
            !Settings::load(&env(&[])).unwrap().replica.is_empty(),
            "falls back to the host name"
        );
        let huge = "r".repeat(201);
        let refused = Settings::load(&env(&[("REBOUND_REPLICA", huge.as_str())])).unwrap_err();
        assert!(refused.to_string().contains("REBOUND_REPLICA"), "{refused}");
    }

    #[test]
    fn serve_names_every_missing_secret() {
        let settings = Settings::load(&env(&[])).unwrap();
        let message = settings.require_for_serve().unwrap_err().to_string();
        assert!(
            message.contains("SLACK_BOT_TOKEN") && message.contains("OAuth & Permissions"),
            "{message}"
        );
        assert!(
            message.contains("SLACK_SIGNING_SECRET") && message.contains("Basic Information"),
            "{message}"
        );
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let settings = Settings::load(&env(&[
            ("SLACK_BOT_TOKEN", "xoxb-very-secret"),
            ("SLACK_SIGNING_SECRET", "signing-very-secret"),
            ("DATABASE_URL", "postgres://u:hunter2@db/x"),
        ]))
        .unwrap();
        let debug = format!("{settings:?}");
        for secret in ["xoxb-very-secret", "signing-very-secret", "hunter2"] {
            assert!(!debug.contains(secret), "{secret} leaked in {debug}");
        }
    }

    #[test]
    fn toml_file_overrides_defaults_with_humantime_durations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rebound.toml");
        std::fs::write(
            &path,
            "[permissions]\nresolve = \"lead\"\n[slack]\nannounce_channel = \"ops\"\nchannel_prefix = \"sev\"\n[severity.sev2]\nupdate_every = \"90s\"\n[timers]\nseverity_prompt_every = \"2m\"\n",
        )
        .unwrap();
        let settings = Settings::load(&env(&[("REBOUND_CONFIG", path.to_str().unwrap())])).unwrap();
        assert_eq!(settings.file.slack.announce_channel, "ops");
        assert_eq!(
            settings.file.permissions.resolve,
            crate::domain::lifecycle::ResolvePolicy::Lead
        );
        assert_eq!(settings.file.update_every(Severity::Sev2), Duration::from_secs(90));
        assert_eq!(settings.file.timers.severity_prompt_every, Duration::from_secs(120));
    }

    #[test]
    fn bad_values_are_named() {
        let message = Settings::load(&env(&[("REBOUND_ADDR", "nope")]))
            .unwrap_err()
            .to_string();
        assert!(message.contains("REBOUND_ADDR"), "{message}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[slack]\nchannel_prefix = \"Bad Prefix\"\n").unwrap();
        let message = Settings::load(&env(&[("REBOUND_CONFIG", path.to_str().unwrap())]))
            .unwrap_err()
            .to_string();
        assert!(message.contains("channel_prefix"), "{message}");
    }

    #[test]
    fn a_bad_digest_schedule_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("digest.toml");
        std::fs::write(&path, "[digest]\ncron = \"0 0 9 * * 1\"\n").unwrap();
        let message = Settings::load(&env(&[("REBOUND_CONFIG", path.to_str().unwrap())]))
            .unwrap_err()
            .to_string();
        assert!(message.contains("digest") && message.contains("names"), "{message}");
    }
}
