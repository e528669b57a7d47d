//! `rebound check` beyond parsing the settings: does what they name work?
//! The database answers and its schema fits this binary; the bot token is
//! valid, for which team and bot user, and holds every scope the manifest
//! asks for (Slack lists the granted ones in `auth.test`'s `x-oauth-scopes`
//! header); the announce and digest channels exist and the bot is in them
//! (`conversations.info`); Socket Mode can open a connection
//! (`apps.connections.open`). Each finding is one line; a problem names what
//! is wrong and how to fix it. `--offline` skips everything that needs the
//! network (Slack, a Postgres server), keeping the local SQLite check.
//!
//! Tokens are sent only to `SLACK_API_URL`, the host they belong to.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::config::{Settings, redact_database_url};
use crate::http_client::{self, HttpsClient};
use crate::slack::{SlackApi, SlackCallError};
use crate::{manifest, store};

const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was checked: `config`, `database`, `token`, `scope`, `channel`, `socket mode`.
    pub area: &'static str,
    /// `None` when fine; otherwise how to fix it.
    pub fix: Option<String>,
    pub message: String,
}

impl Finding {
    fn ok(area: &'static str, message: impl Into<String>) -> Self {
        Self {
            area,
            fix: None,
            message: message.into(),
        }
    }

    fn problem(area: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            area,
            fix: Some(fix.into()),
            message: message.into(),
        }
    }

    pub fn is_problem(&self) -> bool {
        self.fix.is_some()
    }

    /// `ok      database: …` or `problem token: … Fix: …`.
    pub fn line(&self) -> String {
        match &self.fix {
            None => format!("ok      {}: {}", self.area, self.message),
            Some(fix) => format!("problem {}: {}. Fix: {fix}", self.area, self.message),
        }
    }
}

/// Runs every check the settings allow, in a fixed order.
pub async fn check(settings: &Settings, offline: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Err(missing) = settings.require_for_serve() {
        findings.push(Finding::problem(
            "config",
            missing.to_string().replace('\n', " "),
            "set the variables named",
        ));
    }
    findings.push(database(settings, offline).await);
    if offline {
        findings.push(Finding::ok("slack", "not checked (--offline)"));
        return findings;
    }
    let slack = SlackProbe::new(&settings.slack_api_url);
    if let Some(token) = &settings.bot_token {
        let token_findings = slack.token(token).await;
        let token_works = token_findings.first().is_some_and(|f| !f.is_problem());
        findings.extend(token_findings);
        if token_works {
            let mut names = vec![settings.file.slack.announce_channel.as_str()];
            names.push(settings.file.digest.channel.as_str());
            names.dedup();
            for name in names {
                findings.push(slack.channel(token, name).await);
            }
        }
    }
    if settings.socket_mode
        && let Some(app_token) = &settings.app_token
    {
        findings.push(slack.socket_mode(app_token).await);
    }
    findings
}

async fn database(settings: &Settings, offline: bool) -> Finding {
    let url = settings.database_url.expose_secret();
    let shown = redact_database_url(url);
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        let file = path.split('?').next().unwrap_or_default();
        if !std::path::Path::new(file).exists() {
            return Finding::ok(
                "database",
                format!("{shown} does not exist yet; `rebound serve` creates it"),
            );
        }
    } else if offline {
        return Finding::ok("database", format!("{shown} not checked (--offline)"));
    }
    let connected = tokio::time::timeout(TIMEOUT, store::connect(url)).await;
    let store = match connected {
        Ok(Ok(store)) => store,
        Ok(Err(error)) => return unreachable_database(&shown, &error.to_string()),
        Err(_) => return unreachable_database(&shown, "timed out"),
    };
    match store.schema().await {
        Err(error) => unreachable_database(&shown, &error.to_string()),
        Ok(schema) => match schema.newer_than_binary() {
            Some(why) => Finding::problem("database", why, "run the Rebound release that migrated it"),
            None => Finding::ok("database", format!("{shown}: {}", schema.summary())),
        },
    }
}

fn unreachable_database(shown: &str, why: &str) -> Finding {
    Finding::problem(
        "database",
        format!("cannot use {shown}: {why}"),
        "check DATABASE_URL (host, port, user, database name) and that the server is running and reachable from here",
    )
}

/// Calls Slack with one token at a time; never follows a redirect elsewhere.
struct SlackProbe {
    api: String,
    http: HttpsClient,
}

/// What Slack answered: its JSON and the scopes header, if any.
struct SlackAnswer {
    body: Value,
    scopes: Option<Vec<String>>,
}

impl SlackProbe {
    fn new(api_url: &str) -> Self {
        Self {
            api: api_url.trim_end_matches('/').to_string(),
            http: http_client::https_client(),
        }
    }

    async fn call(&self, method: &str, token: &SecretString, form: &[(&str, &str)]) -> Result<SlackAnswer, String> {
        let body = serde_urlencoded::to_string(form).map_err(|e| e.to_string())?;
        let request = axum::http::Request::post(format!("{}/{method}", self.api))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", format!("Bearer {}", token.expose_secret()))
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let answer = http_client::send(&self.http, request, TIMEOUT, MAX_ANSWER_BYTES).await?;
        if !answer.status.is_success() {
            return Err(format!("Slack answered HTTP {}", answer.status));
        }
        let scopes = answer
            .headers
            .get("x-oauth-scopes")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            });
        Ok(SlackAnswer {
            body: answer.json()?,
            scopes,
        })
    }

    fn unreachable(&self, why: &str) -> Finding {
        Finding::problem(
            "slack",
            format!("cannot reach {}: {why}", self.api),
            "check SLACK_API_URL and that this host can reach Slack over HTTPS (proxy, firewall, DNS)",
        )
    }

    /// The token's team and bot user, then one finding per missing scope.
    async fn token(&self, token: &SecretString) -> Vec<Finding> {
        let answer = match self.call("auth.test", token, &[]).await {
            Ok(answer) => answer,
            Err(why) => return vec![self.unreachable(&why)],
        };
        if answer.body["ok"] != true {
            let code = answer.body["error"].as_str().unwrap_or("unknown_error");
            return vec![Finding::problem(
                "token",
                format!("Slack refused SLACK_BOT_TOKEN ({code})"),
                "copy the Bot User OAuth Token (xoxb-…) from your Slack app's \"OAuth & Permissions\" page; \
                 reinstall the app if it was revoked",
            )];
        }
        let text = |key: &str| answer.body[key].as_str().unwrap_or("?").to_string();
        let mut findings = vec![Finding::ok(
            "token",
            format!(
                "team {} ({}), bot user {} ({})",
                text("team"),
                text("team_id"),
                text("user"),
                text("user_id")
            ),
        )];
        findings.extend(scope_findings(answer.scopes.as_deref()));
        findings
    }

    /// The channel exists and the bot is a member.
    async fn channel(&self, token: &SecretString, name: &str) -> Finding {
        let shown = format!("#{}", name.trim_start_matches('#'));
        let slack = SlackApi::new(&self.api, token);
        let id = if crate::slack::is_channel_id(name) {
            Ok(Some(name.to_string()))
        } else {
            slack
                .find_channel(name.trim_start_matches('#'))
                .await
                .map(|found| found.map(|c| c.id))
        };
        let id = match id {
            Ok(Some(id)) => id,
            Ok(None) => {
                return Finding::problem(
                    "channel",
                    format!("{shown} does not exist, or is private and the bot is not in it"),
                    format!(
                        "create {shown} in Slack and /invite the bot, or name another channel in the configuration"
                    ),
                );
            }
            Err(error) => return self.refused(&shown, &error),
        };
        let channel = match slack
            .call_get("conversations.info", &serde_json::json!({ "channel": id }))
            .await
        {
            Ok(answer) => answer["channel"].clone(),
            Err(error) => return self.refused(&shown, &error),
        };
        if channel["is_archived"] == true {
            return Finding::problem(
                "channel",
                format!("{shown} is archived"),
                "unarchive it or name another channel",
            );
        }
        if channel["is_member"] != true {
            return Finding::problem(
                "channel",
                format!("the bot is not a member of {shown}"),
                format!("type /invite @Rebound in {shown}"),
            );
        }
        Finding::ok("channel", format!("{shown} ({id}) exists and the bot is in it"))
    }

    fn refused(&self, shown: &str, error: &SlackCallError) -> Finding {
        match error {
            SlackCallError::Api(code) => Finding::problem(
                "channel",
                format!("Slack cannot describe {shown} ({code})"),
                "reinstall the app with the manifest's scopes (channels:read, groups:read)",
            ),
            other => self.unreachable(&other.to_string()),
        }
    }

    async fn socket_mode(&self, app_token: &SecretString) -> Finding {
        let answer = match self.call("apps.connections.open", app_token, &[]).await {
            Ok(answer) => answer,
            Err(why) => return self.unreachable(&why),
        };
        if answer.body["ok"] == true && answer.body["url"].is_string() {
            return Finding::ok("socket mode", "apps.connections.open gave a WebSocket URL");
        }
        let code = answer.body["error"].as_str().unwrap_or("unknown_error");
        Finding::problem(
            "socket mode",
            format!("Slack refused SLACK_APP_TOKEN ({code})"),
            "turn on Socket Mode and create an App-Level Token (xapp-…) with connections:write on your Slack \
             app's \"Basic Information\" page",
        )
    }
}

/// One problem per scope of the manifest the token lacks.
fn scope_findings(granted: Option<&[String]>) -> Vec<Finding> {
    let Some(granted) = granted else {
        return vec![Finding::ok(
            "scope",
            "Slack did not list the granted scopes; not checked",
        )];
    };
    let missing: Vec<Finding> = manifest::BOT_SCOPES
        .iter()
        .filter(|scope| !granted.iter().any(|g| g == *scope))
        .map(|scope| {
            Finding::problem(
                "scope",
                format!("the bot token lacks {scope}"),
                "add it under \"OAuth & Permissions\" → Bot Token Scopes (or update the app from \
                 manifests/slack-app.yaml) and reinstall the app",
            )
        })
        .collect();
    if missing.is_empty() {
        vec![Finding::ok(
            "scope",
            format!("all {} bot scopes granted", manifest::BOT_SCOPES.len()),
        )]
    } else {
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_missing_scope_is_its_own_problem() {
        let granted: Vec<String> = manifest::BOT_SCOPES
            .iter()
            .filter(|s| !["chat:write.public", "usergroups:read"].contains(s))
            .map(|s| s.to_string())
            .collect();
        let findings = scope_findings(Some(&granted));
        let lines: Vec<String> = findings.iter().map(Finding::line).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("problem scope: the bot token lacks chat:write.public. Fix: "));
        assert!(lines[1].contains("usergroups:read"));
        let all: Vec<String> = manifest::BOT_SCOPES.iter().map(|s| s.to_string()).collect();
        assert!(!scope_findings(Some(&all))[0].is_problem());
    }
}
