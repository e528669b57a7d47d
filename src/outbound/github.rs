//! GitHub Actions `workflow_dispatch` for rollbacks:
//! `POST /repos/{repo}/actions/workflows/{workflow}/dispatches` with
//! `return_run_details: true`, which answers with the run's id and URL.
//! A dispatch has no idempotency key, so the request id goes in as an
//! input; the workflow's `run-name` puts it in the run's title, and a retry
//! after an unknown outcome first looks for a recent `workflow_dispatch`
//! run whose title carries it.
//! <https://docs.github.com/en/rest/actions/workflows#create-a-workflow-dispatch-event>
//! <https://docs.github.com/en/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow>

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::config::integrations::GithubSettings;
use crate::http_client::{self, Answer, HttpsClient, Request};
use crate::slack::SlackCallError;

/// Dispatches the rollback `args` describes once; answers `{"html_url", "workflow_run_id"}`.
pub async fn dispatch_once(
    http: &HttpsClient,
    settings: &GithubSettings,
    retry: bool,
    args: &Value,
) -> Result<Value, SlackCallError> {
    let (repo, workflow) = (
        args["repo"].as_str().unwrap_or_default(),
        args["workflow"].as_str().unwrap_or_default(),
    );
    let request_id = args["inputs"]["request_id"].as_str().unwrap_or_default();
    let workflow_path = format!("/repos/{repo}/actions/workflows/{workflow}");
    if retry && let Some(run) = find_run(http, settings, &workflow_path, request_id).await? {
        return Ok(run);
    }
    let body = json!({ "ref": args["ref"], "inputs": args["inputs"], "return_run_details": true });
    let path = format!("{workflow_path}/dispatches");
    let answer = send(http, request(settings, "POST", &path, Some(&body))?).await?;
    if answer.status.as_u16() == 204 {
        // A GitHub that does not return run details: find the run ourselves.
        return Ok(find_run(http, settings, &workflow_path, request_id)
            .await?
            .unwrap_or_else(|| json!({ "html_url": null, "workflow_run_id": null })));
    }
    let run = answer.json::<Value>().map_err(SlackCallError::Transient)?;
    Ok(json!({ "html_url": run["html_url"], "workflow_run_id": run["workflow_run_id"] }))
}

/// A recent dispatched run whose title carries `request_id`.
async fn find_run(
    http: &HttpsClient,
    settings: &GithubSettings,
    workflow_path: &str,
    request_id: &str,
) -> Result<Option<Value>, SlackCallError> {
    let path = format!("{workflow_path}/runs?event=workflow_dispatch&per_page=30");
    let answer = send(http, request(settings, "GET", &path, None)?).await?;
    let runs = answer.json::<Value>().map_err(SlackCallError::Transient)?;
    Ok(runs["workflow_runs"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|run| {
            let title = run["display_title"]
                .as_str()
                .or(run["name"].as_str())
                .unwrap_or_default();
            !request_id.is_empty() && title.contains(request_id)
        })
        .map(|run| json!({ "html_url": run["html_url"], "workflow_run_id": run["id"] })))
}

fn request(
    settings: &GithubSettings,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Request, SlackCallError> {
    axum::http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", settings.url.trim_end_matches('/')))
        .header("authorization", format!("Bearer {}", settings.token.expose_secret()))
        .header("accept", "application/vnd.github+json")
        .header("x-github-api-version", "2022-11-28")
        .header("content-type", "application/json")
        .header("user-agent", concat!("rebound/", env!("CARGO_PKG_VERSION")))
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.map(Value::to_string).unwrap_or_default(),
        )))
        .map_err(|e| SlackCallError::Api(e.to_string()))
}

/// Sends; a success comes back whole. GitHub's primary rate limit is a 403
/// (or 429) with `x-ratelimit-remaining: 0` and the reset time.
async fn send(http: &HttpsClient, request: Request) -> Result<Answer, SlackCallError> {
    let answer = http_client::send(http, request, super::TIMEOUT, super::MAX_ANSWER_BYTES)
        .await
        .map_err(SlackCallError::Transient)?;
    let exhausted = answer
        .headers
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        == Some("0");
    if answer.status.as_u16() == 403 && exhausted {
        let reset = answer
            .headers
            .get("x-ratelimit-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .map(|at| (at - chrono::Utc::now().timestamp()).clamp(1, 600) as u64)
            .unwrap_or(60);
        return Err(SlackCallError::RateLimited(Duration::from_secs(reset)));
    }
    if answer.status.is_success() {
        return Ok(answer);
    }
    // Not a success: `{"message": "…", "documentation_url": "…"}` says why.
    super::common_outcome(&answer, super::DEFAULT_RATE_LIMIT_WAIT, |body| {
        body["message"].as_str().unwrap_or_default().to_string()
    })?;
    Ok(answer)
}
