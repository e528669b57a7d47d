//! Clients for the systems other than Slack that the outbox calls:
//! PagerDuty's Events API v2, Zenduty's Generic Integration and
//! Statuspage.io's manage API. Each takes
//! the recorded event, adds the credential from the configuration (so no
//! credential is ever stored in the database), sends it only to the URL
//! configured beside that credential, and sorts the answer into sent,
//! rate limited (with the vendor's wait), worth retrying, or refused for
//! good — the same outcomes the outbox worker handles for Slack.

mod github;
mod jira;
mod pagerduty;
pub(crate) mod statuspage;
mod zenduty;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::config::Settings;
use crate::dispatcher::jira::JIRA_METHOD;
use crate::dispatcher::paging::{PAGERDUTY_METHOD, ZENDUTY_METHOD};
use crate::dispatcher::rollback::GITHUB_METHOD;
use crate::dispatcher::statuspage::STATUSPAGE_METHOD;
use crate::http_client::{self, Answer, HttpsClient};
use crate::slack::SlackCallError;

/// A vendor answer is never longer than this.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// A vendor that has not answered by then is tried again later.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The wait after a 429 without `Retry-After` (PagerDuty suggests tens of seconds).
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(30);
/// The same for Statuspage, whose limit is one request a second.
const STATUSPAGE_RATE_LIMIT_WAIT: Duration = Duration::from_secs(2);

/// The vendor clients, sharing one connection pool.
#[derive(Clone)]
pub struct Vendors {
    http: HttpsClient,
    settings: Arc<Settings>,
    statuspage: Option<Arc<statuspage::Statuspage>>,
}

impl Vendors {
    pub fn new(settings: Arc<Settings>) -> Self {
        let statuspage = settings.file.integrations.statuspage.clone();
        Self {
            http: http_client::https_client(),
            statuspage: statuspage.map(|s| Arc::new(statuspage::Statuspage::new(s))),
            settings,
        }
    }

    /// Whether `method` is a vendor's rather than Slack's.
    pub fn handles(method: &str) -> bool {
        matches!(
            method,
            PAGERDUTY_METHOD | ZENDUTY_METHOD | STATUSPAGE_METHOD | JIRA_METHOD
        )
    }

    /// Starts a rollback workflow run once (see [`github`]).
    pub async fn github(&self, retry: bool, args: &Value) -> Result<Value, SlackCallError> {
        match &self.settings.file.integrations.github {
            Some(settings) => github::dispatch_once(&self.http, settings, retry, args).await,
            None => Err(SlackCallError::Api(format!("{GITHUB_METHOD} is not configured"))),
        }
    }

    /// Creates a Jira issue once (see [`jira`]).
    pub async fn jira(&self, retry: bool, args: &Value) -> Result<Value, SlackCallError> {
        match &self.settings.file.integrations.jira {
            Some(settings) => jira::create_once(&self.http, settings, retry, args).await,
            None => Err(SlackCallError::Api(format!("{JIRA_METHOD} is not configured"))),
        }
    }

    /// Creates or updates a mirrored Statuspage incident (see [`statuspage`]).
    pub async fn statuspage(&self, known_id: Option<&str>, retry: bool, args: &Value) -> Result<Value, SlackCallError> {
        match &self.statuspage {
            Some(client) => client.upsert(&self.http, known_id, retry, args).await,
            None => Err(SlackCallError::Api(format!("{STATUSPAGE_METHOD} is not configured"))),
        }
    }

    /// Sends a recorded vendor call. A call whose system is no longer
    /// configured is refused for good (and told), not sent anywhere.
    pub async fn send(&self, method: &str, args: &Value) -> Result<Value, SlackCallError> {
        let integrations = &self.settings.file.integrations;
        let request = match method {
            PAGERDUTY_METHOD => integrations.pagerduty.as_ref().map(|pd| pagerduty::request(pd, args)),
            ZENDUTY_METHOD => integrations.zenduty.as_ref().map(|z| zenduty::request(z, args)),
            _ => None,
        };
        let Some(request) = request else {
            return Err(SlackCallError::Api(format!("{method} is not configured")));
        };
        let request = request.map_err(SlackCallError::Api)?;
        let answer = http_client::send(&self.http, request, TIMEOUT, MAX_ANSWER_BYTES)
            .await
            .map_err(SlackCallError::Transient)?;
        match method {
            PAGERDUTY_METHOD => pagerduty::outcome(&answer),
            _ => zenduty::outcome(&answer),
        }
    }
}

/// A JSON POST request.
fn post_json(url: &str, body: &Value) -> Result<http_client::Request, String> {
    axum::http::Request::post(url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("rebound/", env!("CARGO_PKG_VERSION")))
        .body(http_body_util::Full::new(bytes::Bytes::from(body.to_string())))
        .map_err(|e| e.to_string())
}

/// The common part of every vendor's answer: 429 waits for `Retry-After`
/// (or `default_wait`),
/// 5xx is worth retrying, other errors are final with `detail`.
fn common_outcome(
    answer: &Answer,
    default_wait: Duration,
    detail: impl FnOnce(&Value) -> String,
) -> Result<Value, SlackCallError> {
    let status = answer.status;
    if status.is_success() {
        return Ok(answer.json().unwrap_or(Value::Null));
    }
    if status.as_u16() == 429 {
        let wait = answer
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
            .unwrap_or(default_wait);
        return Err(SlackCallError::RateLimited(wait.min(Duration::from_secs(600))));
    }
    if status.is_server_error() {
        return Err(SlackCallError::Transient(format!("HTTP {status}")));
    }
    let body: Value = answer.json().unwrap_or(Value::Null);
    let detail = detail(&body);
    let detail: String = detail.chars().take(300).collect();
    Err(SlackCallError::Api(match detail.is_empty() {
        true => format!("http_{}", status.as_u16()),
        false => format!("http_{}: {detail}", status.as_u16()),
    }))
}
