//! A fake Jira Cloud (REST v3) on 127.0.0.1, one per test, following
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post>
//! and <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get>:
//!
//! - basic auth with the account's e-mail and API token, else 401
//!   `{"errorMessages":["You are not authenticated. …"],"errors":{}}`;
//! - `POST /rest/api/3/issue` needs an existing project key, issue type,
//!   a summary (≤ 255), an ADF `description` (`type: doc, version: 1`) and
//!   labels without spaces; errors are 400 `{"errorMessages":[],"errors":
//!   {field: message}}`; success 201 `{"id","key","self"}`;
//! - `GET /rest/api/3/search/jql?jql=labels = "…"` finds issues by label.
//!
//! `lose_next_answers` processes a request and loses its answer (502).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

pub const EMAIL: &str = "ops@acme.example";
pub const TOKEN: &str = "jira-api-token-0001";
/// The secret of the Jira admin webhook pointed at Rebound.
pub const WEBHOOK_SECRET: &str = "jira-webhook-secret-0001";

#[derive(Default)]
struct Site {
    issues: Vec<Value>,
    creates: usize,
    searches: usize,
    lose_next: usize,
    hang_next: usize,
    /// Answers as a compromised site would: keys that are Slack markup.
    hostile: bool,
}

#[derive(Clone)]
pub struct FakeJira {
    pub origin: String,
    site: Arc<Mutex<Site>>,
}

impl FakeJira {
    pub async fn start() -> Self {
        let site = Arc::new(Mutex::new(Site::default()));
        let app = Router::new()
            .route("/rest/api/3/issue", post(create))
            .route("/rest/api/3/search/jql", get(search))
            .with_state(site.clone());
        let origin = crate::helpers::serve_on_loopback(app).await;
        Self { origin, site }
    }

    pub fn config(&self, project: &str, export: &str) -> String {
        format!(
            "[integrations.jira]\nurl = \"{}\"\nemail = \"{EMAIL}\"\napi_token = \"{TOKEN}\"\nproject = \"{project}\"\n\
             export = \"{export}\"\nwebhook_secret = \"{WEBHOOK_SECRET}\"\n",
            self.origin
        )
    }

    pub fn issues(&self) -> Vec<Value> {
        self.site.lock().unwrap().issues.clone()
    }

    /// (creation requests, searches) received.
    pub fn counts(&self) -> (usize, usize) {
        let site = self.site.lock().unwrap();
        (site.creates, site.searches)
    }

    /// The next `n` creations are made, but answered only after a minute
    /// (a process killed meanwhile never hears).
    pub fn hang_next_answers(&self, n: usize) {
        self.site.lock().unwrap().hang_next += n;
    }

    pub fn lose_next_answers(&self, n: usize) {
        self.site.lock().unwrap().lose_next += n;
    }

    /// From now on answers as a compromised Jira would (a key carrying Slack markup).
    pub fn turn_hostile(&self) {
        self.site.lock().unwrap().hostile = true;
    }
}

fn authenticated(headers: &HeaderMap) -> bool {
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{TOKEN}"));
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Basic {expected}"))
}

fn unauthenticated() -> Response {
    let body = json!({ "errorMessages": ["You are not authenticated. Authentication required to perform this operation."], "errors": {} });
    (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
}

fn field_errors(errors: Value) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "errorMessages": [], "errors": errors })),
    )
        .into_response()
}

async fn create(State(site): State<Arc<Mutex<Site>>>, headers: HeaderMap, body: String) -> Response {
    let (answer, hang) = create_now(&site, &headers, &body);
    if hang {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
    answer
}

/// Creates the issue; the answer, and whether to hold it back.
fn create_now(site: &Mutex<Site>, headers: &HeaderMap, body: &str) -> (Response, bool) {
    if !authenticated(headers) {
        return (unauthenticated(), false);
    }
    let mut site = site.lock().unwrap();
    site.creates += 1;
    let Ok(request) = serde_json::from_str::<Value>(body) else {
        let body = json!({ "errorMessages": ["Unexpected character in the request body."], "errors": {} });
        return ((StatusCode::BAD_REQUEST, axum::Json(body)).into_response(), false);
    };
    let fields = &request["fields"];
    let mut errors = serde_json::Map::new();
    if fields["project"]["key"] != "OPS" {
        errors.insert("project".into(), json!("Specify a valid project ID or key"));
    }
    if !["Task", "Bug"].contains(&fields["issuetype"]["name"].as_str().unwrap_or_default()) {
        errors.insert("issuetype".into(), json!("Specify a valid issue type"));
    }
    let summary = fields["summary"].as_str().unwrap_or_default();
    if summary.trim().is_empty() || summary.chars().count() > 255 {
        errors.insert("summary".into(), json!("You must specify a summary of the issue."));
    }
    if fields["description"]["type"] != "doc" || fields["description"]["version"] != 1 {
        errors.insert(
            "description".into(),
            json!("Operation value must be an Atlassian Document (see the Atlassian Document Format)"),
        );
    }
    let labels: Vec<String> = fields["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str().map(str::to_string))
        .collect();
    if let Some(bad) = labels.iter().find(|l| l.contains(' ')) {
        errors.insert(
            "labels".into(),
            json!(format!("The label '{bad}' contains spaces which is invalid.")),
        );
    }
    if !errors.is_empty() {
        return (field_errors(Value::Object(errors)), false);
    }
    let id = 10_000 + site.issues.len() + 1;
    let mut key = format!("OPS-{}", site.issues.len() + 1);
    if site.hostile {
        key = format!("{key}|<!channel> <https://evil.example|click>");
    }
    site.issues.push(json!({ "id": id.to_string(), "key": key, "fields": { "summary": summary, "labels": labels, "description": fields["description"] } }));
    if site.lose_next > 0 {
        site.lose_next -= 1;
        return (StatusCode::BAD_GATEWAY.into_response(), false);
    }
    let hang = site.hang_next > 0;
    site.hang_next = site.hang_next.saturating_sub(1);
    let created = json!({ "id": id.to_string(), "key": key, "self": format!("https://acme.atlassian.net/rest/api/3/issue/{id}") });
    ((StatusCode::CREATED, axum::Json(created)).into_response(), hang)
}

async fn search(
    State(site): State<Arc<Mutex<Site>>>,
    headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if !authenticated(&headers) {
        return unauthenticated();
    }
    let mut site = site.lock().unwrap();
    site.searches += 1;
    let jql = query.get("jql").cloned().unwrap_or_default();
    let Some(label) = jql.strip_prefix("labels = \"").and_then(|rest| rest.strip_suffix('"')) else {
        let body = json!({ "errorMessages": [format!("Error in the JQL Query: {jql}")], "errors": {} });
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    };
    let found: Vec<Value> = site
        .issues
        .iter()
        .filter(|issue| issue["fields"]["labels"].as_array().is_some_and(|l| l.iter().any(|x| x == label)))
        .map(|issue| json!({ "id": issue["id"], "key": issue["key"], "fields": { "summary": issue["fields"]["summary"] } }))
        .collect();
    (StatusCode::OK, axum::Json(json!({ "issues": found, "isLast": true }))).into_response()
}
