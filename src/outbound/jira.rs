//! Jira Cloud REST v3 with basic auth (e-mail and API token): `POST
//! /rest/api/3/issue` creates an issue in the configured project with the
//! subject's unique label; a retry after an unknown outcome first searches
//! `GET /rest/api/3/search/jql?jql=labels = "<label>"` and adopts what it
//! finds, so a lost answer never makes a second issue.
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post>
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get>

use base64::Engine as _;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::config::integrations::JiraSettings;
use crate::http_client::{self, Answer, HttpsClient, Request};
use crate::slack::SlackCallError;

/// Creates the issue `args` describes, or finds the one an earlier attempt made.
pub async fn create_once(
    http: &HttpsClient,
    settings: &JiraSettings,
    retry: bool,
    args: &Value,
) -> Result<Value, SlackCallError> {
    let label = args["label"].as_str().unwrap_or_default();
    if retry && let Some(found) = find(http, settings, label).await? {
        return Ok(found);
    }
    let body = json!({
        "fields": {
            "project": { "key": settings.project },
            "issuetype": { "name": settings.issue_type },
            "summary": args["summary"],
            "description": args["description"],
            "labels": ["rebound", label],
        }
    });
    let created = send(http, request(settings, "POST", "/rest/api/3/issue", Some(&body))?).await?;
    issue(settings, &created)
}

/// The issue carrying `label`, if there is one.
async fn find(http: &HttpsClient, settings: &JiraSettings, label: &str) -> Result<Option<Value>, SlackCallError> {
    // Labels are Rebound's own (`rebound-action-7`): no quoting to escape.
    let jql = format!("labels = \"{label}\"");
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("jql", &jql)
        .append_pair("fields", "summary")
        .append_pair("maxResults", "1")
        .finish();
    let path = format!("/rest/api/3/search/jql?{query}");
    let found = send(http, request(settings, "GET", &path, None)?).await?;
    match found["issues"].as_array().and_then(|issues| issues.first()) {
        Some(first) => issue(settings, first).map(Some),
        None => Ok(None),
    }
}

/// `{"key", "url"}` from Jira's answer; a key that is not `PROJ-123` is refused.
fn issue(settings: &JiraSettings, answer: &Value) -> Result<Value, SlackCallError> {
    let key = answer["key"].as_str().unwrap_or_default();
    if !crate::domain::jira::is_issue_key(key) {
        return Err(SlackCallError::Api("jira answered without a valid issue key".into()));
    }
    let url = format!("{}/browse/{key}", settings.url.trim_end_matches('/'));
    Ok(json!({ "key": key, "url": url }))
}

fn request(settings: &JiraSettings, method: &str, path: &str, body: Option<&Value>) -> Result<Request, SlackCallError> {
    let credentials = format!("{}:{}", settings.email, settings.api_token.expose_secret());
    let basic = base64::engine::general_purpose::STANDARD.encode(credentials);
    axum::http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", settings.url.trim_end_matches('/')))
        .header("authorization", format!("Basic {basic}"))
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .header("user-agent", concat!("rebound/", env!("CARGO_PKG_VERSION")))
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.map(Value::to_string).unwrap_or_default(),
        )))
        .map_err(|e| SlackCallError::Api(e.to_string()))
}

async fn send(http: &HttpsClient, request: Request) -> Result<Value, SlackCallError> {
    let answer = http_client::send(http, request, super::TIMEOUT, super::MAX_ANSWER_BYTES)
        .await
        .map_err(SlackCallError::Transient)?;
    outcome(&answer)
}

/// Jira's errors: `{"errorMessages": [...], "errors": {"field": "message"}}`.
fn outcome(answer: &Answer) -> Result<Value, SlackCallError> {
    super::common_outcome(answer, super::DEFAULT_RATE_LIMIT_WAIT, |body| {
        let messages = body["errorMessages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str);
        let fields = body["errors"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(field, message)| format!("{field}: {}", message.as_str().unwrap_or_default()));
        messages
            .map(str::to_string)
            .chain(fields)
            .collect::<Vec<_>>()
            .join("; ")
    })
}
