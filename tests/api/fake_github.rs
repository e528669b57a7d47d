//! A fake GitHub REST API (Actions) on 127.0.0.1, one per test, following
//! <https://docs.github.com/en/rest/actions/workflows#create-a-workflow-dispatch-event>
//! and <https://docs.github.com/en/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow>:
//!
//! - `Authorization: Bearer <token>`, else 401 `{"message":"Bad credentials"}`;
//! - one repo `acme/api` with one workflow `rollback.yml`, on branch `main`
//!   (else 404 `Not Found` / 422 `No ref found for: …`), declaring the
//!   inputs `incident` and `request_id` (others: 422 `Unexpected inputs
//!   provided`; missing: 422 `Required input '…' not provided`);
//! - a dispatch starts a run titled as the workflow's
//!   `run-name: Rollback ${{ inputs.request_id }}` makes it; with
//!   `return_run_details: true` it answers 200 with `workflow_run_id`,
//!   `run_url` and `html_url`, else 204;
//! - `GET …/runs?event=workflow_dispatch` lists runs, newest first.
//!
//! `lose_next_answers` starts the run but loses the answer (502).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub const TOKEN: &str = "github_pat_test_0001";

#[derive(Default)]
struct Repo {
    runs: Vec<Value>,
    dispatches: usize,
    lose_next: usize,
    /// Answers as a compromised API would: run links that are not GitHub's web URLs.
    hostile: bool,
}

#[derive(Clone)]
pub struct FakeGithub {
    pub origin: String,
    repo: Arc<Mutex<Repo>>,
}

impl FakeGithub {
    pub async fn start() -> Self {
        let repo = Arc::new(Mutex::new(Repo::default()));
        let app = Router::new()
            .route(
                "/repos/{owner}/{name}/actions/workflows/{workflow}/dispatches",
                post(dispatch),
            )
            .route("/repos/{owner}/{name}/actions/workflows/{workflow}/runs", get(runs))
            .with_state(repo.clone());
        let origin = crate::helpers::serve_on_loopback(app).await;
        Self { origin, repo }
    }

    pub fn config(&self, run_by: &str) -> String {
        format!(
            "[integrations.github]\ntoken = \"{TOKEN}\"\nurl = \"{}\"\nrun_by = \"{run_by}\"\n\n\
             [[integrations.github.rollback]]\nservice = \"api\"\nrepo = \"acme/api\"\nworkflow = \"rollback.yml\"\n",
            self.origin
        )
    }

    pub fn runs(&self) -> Vec<Value> {
        self.repo.lock().unwrap().runs.clone()
    }

    pub fn dispatches(&self) -> usize {
        self.repo.lock().unwrap().dispatches
    }

    pub fn lose_next_answers(&self, n: usize) {
        self.repo.lock().unwrap().lose_next += n;
    }

    /// From now on answers as a compromised API would (run links that are Slack markup or scripts).
    pub fn turn_hostile(&self) {
        self.repo.lock().unwrap().hostile = true;
    }
}

fn message(status: StatusCode, text: &str) -> Response {
    let body = json!({ "message": text, "documentation_url": "https://docs.github.com/rest", "status": status.as_u16().to_string() });
    (status, axum::Json(body)).into_response()
}

/// Authentication and the one repo and workflow.
fn admit(headers: &HeaderMap, owner: &str, name: &str, workflow: &str) -> Option<Response> {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {TOKEN}")) {
        return Some(message(StatusCode::UNAUTHORIZED, "Bad credentials"));
    }
    if (owner, name, workflow) != ("acme", "api", "rollback.yml") {
        return Some(message(StatusCode::NOT_FOUND, "Not Found"));
    }
    None
}

async fn dispatch(
    State(repo): State<Arc<Mutex<Repo>>>,
    Path((owner, name, workflow)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Some(refused) = admit(&headers, &owner, &name, &workflow) {
        return refused;
    }
    let Ok(request) = serde_json::from_str::<Value>(&body) else {
        return message(StatusCode::BAD_REQUEST, "Problems parsing JSON");
    };
    if request["ref"] != "main" {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("No ref found for: {}", request["ref"]),
        );
    }
    let inputs = request["inputs"].as_object().cloned().unwrap_or_default();
    let unexpected: Vec<&String> = inputs
        .keys()
        .filter(|k| !["incident", "request_id"].contains(&k.as_str()))
        .collect();
    if !unexpected.is_empty() {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("Unexpected inputs provided: {unexpected:?}"),
        );
    }
    for required in ["incident", "request_id"] {
        if inputs.get(required).and_then(Value::as_str).is_none_or(str::is_empty) {
            return message(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Required input '{required}' not provided"),
            );
        }
    }
    let mut repo = repo.lock().unwrap();
    repo.dispatches += 1;
    let id = 9_000 + repo.runs.len() as u64 + 1;
    let mut html_url = format!("https://github.com/acme/api/actions/runs/{id}");
    if repo.hostile {
        html_url = "javascript:alert(1)//|<!channel>".into();
    }
    repo.runs.insert(
        0,
        json!({
            "id": id, "name": "Rollback", "display_title": format!("Rollback {}", inputs["request_id"].as_str().unwrap()),
            "event": "workflow_dispatch", "status": "queued", "html_url": html_url, "inputs": inputs,
        }),
    );
    if repo.lose_next > 0 {
        repo.lose_next -= 1;
        return StatusCode::BAD_GATEWAY.into_response();
    }
    if request["return_run_details"] != true {
        return StatusCode::NO_CONTENT.into_response();
    }
    let details = json!({
        "workflow_run_id": id,
        "run_url": format!("https://api.github.com/repos/acme/api/actions/runs/{id}"),
        "html_url": html_url,
    });
    (StatusCode::OK, axum::Json(details)).into_response()
}

async fn runs(
    State(repo): State<Arc<Mutex<Repo>>>,
    Path((owner, name, workflow)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = admit(&headers, &owner, &name, &workflow) {
        return refused;
    }
    let repo = repo.lock().unwrap();
    let listed = json!({ "total_count": repo.runs.len(), "workflow_runs": repo.runs });
    (StatusCode::OK, axum::Json(listed)).into_response()
}
