//! A fake Statuspage.io manage API on 127.0.0.1, one per test, following
//! <https://developer.statuspage.io/> (incidents and components):
//!
//! - every request needs `Authorization: OAuth <api key>`, else 401
//!   `{"error":"Could not authenticate"}`; another page id is 404;
//! - one request a second per key: a second request within a second of
//!   the previous is refused with 429 (counted, so tests can assert none);
//! - `GET /v1/pages/{page}/components` lists the page's components;
//! - `POST /v1/pages/{page}/incidents` with `{"incident":{name, status,
//!   body, components: {id: status}, component_ids}}` creates (201), `PATCH
//!   …/incidents/{id}` updates (200; 404 for an unknown id), a `body` adds
//!   an incident update; unknown component ids or statuses are 422
//!   `{"error":[…]}`; `GET …/incidents/unresolved` lists the open ones.
//!
//! `lose_next_answers` processes a request and loses its answer (502), as
//! a dropped connection does; `fail_next` refuses without processing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde_json::{Value, json};

pub const API_KEY: &str = "statuspage-test-key-0001";
pub const PAGE_ID: &str = "kctbh9vrtdwd";

/// The page's components: (id, name).
const COMPONENTS: [(&str, &str); 3] = [("cmp0api", "API"), ("cmp0dash", "Dashboard"), ("cmp0mail", "Email")];

#[derive(Default)]
struct Page {
    incidents: Vec<Value>,
    component_status: std::collections::HashMap<String, String>,
    requests: Vec<(String, String)>,
    last_request: Option<Instant>,
    rate_limited: usize,
    lose_next: usize,
    fail_next: Vec<StatusCode>,
}

#[derive(Clone)]
pub struct FakeStatuspage {
    pub origin: String,
    page: Arc<Mutex<Page>>,
}

impl FakeStatuspage {
    pub async fn start() -> Self {
        let page = Arc::new(Mutex::new(Page::default()));
        let app = Router::new()
            .route("/v1/pages/{page}/components", get(components))
            .route("/v1/pages/{page}/incidents/unresolved", get(unresolved))
            .route("/v1/pages/{page}/incidents", axum::routing::post(create))
            .route("/v1/pages/{page}/incidents/{id}", patch(update))
            .with_state(page.clone());
        let origin = crate::helpers::serve_on_loopback(app).await;
        Self { origin, page }
    }

    pub fn config(&self, api_key: &str) -> String {
        format!(
            "[integrations.statuspage]\napi_key = \"{api_key}\"\npage_id = \"{PAGE_ID}\"\nurl = \"{}\"\n",
            self.origin
        )
    }

    pub fn incidents(&self) -> Vec<Value> {
        self.page.lock().unwrap().incidents.clone()
    }

    /// `(method, path)` of every request, in order.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.page.lock().unwrap().requests.clone()
    }

    pub fn rate_limited(&self) -> usize {
        self.page.lock().unwrap().rate_limited
    }

    pub fn component_status(&self, name: &str) -> Option<String> {
        let id = COMPONENTS.iter().find(|(_, n)| *n == name)?.0;
        self.page.lock().unwrap().component_status.get(id).cloned()
    }

    pub fn lose_next_answers(&self, n: usize) {
        self.page.lock().unwrap().lose_next += n;
    }

    pub fn fail_next(&self, status: StatusCode) {
        self.page.lock().unwrap().fail_next.push(status);
    }
}

fn error(status: StatusCode, error: Value) -> Response {
    (status, axum::Json(json!({ "error": error }))).into_response()
}

/// Authentication, page, rate limit and scripted failures, in that order;
/// `None` when the request may be processed.
fn admit(page: &mut Page, method: &Method, path: &str, headers: &HeaderMap, page_id: &str) -> Option<Response> {
    page.requests.push((method.to_string(), path.to_string()));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("OAuth {API_KEY}")) {
        return Some(error(StatusCode::UNAUTHORIZED, json!("Could not authenticate")));
    }
    if page_id != PAGE_ID {
        return Some(error(StatusCode::NOT_FOUND, json!("Not found")));
    }
    let now = Instant::now();
    if page
        .last_request
        .is_some_and(|at| now.duration_since(at) < Duration::from_millis(950))
    {
        page.rate_limited += 1;
        return Some(error(StatusCode::TOO_MANY_REQUESTS, json!("Rate limit exceeded")));
    }
    page.last_request = Some(now);
    if !page.fail_next.is_empty() {
        let status = page.fail_next.remove(0);
        return Some(error(status, json!("scripted failure")));
    }
    None
}

fn answer(page: &mut Page, status: StatusCode, body: Value) -> Response {
    if page.lose_next > 0 {
        page.lose_next -= 1;
        return StatusCode::BAD_GATEWAY.into_response();
    }
    (status, axum::Json(body)).into_response()
}

async fn components(State(page): State<Arc<Mutex<Page>>>, Path(page_id): Path<String>, headers: HeaderMap) -> Response {
    let mut page = page.lock().unwrap();
    if let Some(refused) = admit(&mut page, &Method::GET, "components", &headers, &page_id) {
        return refused;
    }
    let listed: Vec<Value> = COMPONENTS
        .iter()
        .map(|(id, name)| {
            let status = page.component_status.get(*id).cloned().unwrap_or("operational".into());
            json!({ "id": id, "page_id": PAGE_ID, "name": name, "status": status, "group": false })
        })
        .collect();
    answer(&mut page, StatusCode::OK, json!(listed))
}

async fn unresolved(State(page): State<Arc<Mutex<Page>>>, Path(page_id): Path<String>, headers: HeaderMap) -> Response {
    let mut page = page.lock().unwrap();
    if let Some(refused) = admit(&mut page, &Method::GET, "incidents/unresolved", &headers, &page_id) {
        return refused;
    }
    let open: Vec<Value> = page
        .incidents
        .iter()
        .rev()
        .filter(|i| i["status"] != "resolved")
        .cloned()
        .collect();
    answer(&mut page, StatusCode::OK, json!(open))
}

/// Applies `fields` (an `incident` object) to `incident`; the errors Statuspage gives if invalid.
fn apply(page: &mut Page, incident: &mut Value, fields: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if let Some(name) = fields.get("name") {
        match name.as_str() {
            Some(name) if !name.trim().is_empty() => incident["name"] = json!(name),
            _ => errors.push("Name can't be blank".to_string()),
        }
    }
    let status = fields["status"].as_str().unwrap_or("investigating");
    if !["investigating", "identified", "monitoring", "resolved"].contains(&status) {
        errors.push(format!("Status {status} is not a valid incident status"));
    }
    let states = [
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
        "under_maintenance",
    ];
    let components = fields["components"].as_object().cloned().unwrap_or_default();
    for (id, state) in &components {
        if !COMPONENTS.iter().any(|(known, _)| known == id) {
            errors.push(format!("Component {id} could not be found"));
        }
        if !states.contains(&state.as_str().unwrap_or_default()) {
            errors.push(format!("Component status {state} is invalid"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let now = chrono::Utc::now().to_rfc3339();
    incident["status"] = json!(status);
    incident["updated_at"] = json!(now);
    if status == "resolved" {
        incident["resolved_at"] = json!(now);
    }
    for (id, state) in components {
        page.component_status
            .insert(id, state.as_str().unwrap_or_default().to_string());
    }
    if let Some(body) = fields["body"].as_str() {
        let updates = incident["incident_updates"].as_array_mut().unwrap();
        updates.insert(0, json!({ "status": status, "body": body, "created_at": now }));
    }
    Ok(())
}

async fn create(
    State(page): State<Arc<Mutex<Page>>>,
    Path(page_id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let mut page = page.lock().unwrap();
    if let Some(refused) = admit(&mut page, &Method::POST, "incidents", &headers, &page_id) {
        return refused;
    }
    let Some(fields) = serde_json::from_str::<Value>(&body).ok().map(|b| b["incident"].clone()) else {
        return error(StatusCode::BAD_REQUEST, json!("Body is not JSON"));
    };
    if fields.get("name").is_none() {
        return error(StatusCode::UNPROCESSABLE_ENTITY, json!(["Name can't be blank"]));
    }
    let id = format!("inc{:09}", page.incidents.len() + 1);
    let now = chrono::Utc::now().to_rfc3339();
    let mut incident = json!({
        "id": id, "page_id": PAGE_ID, "name": "", "status": "investigating", "impact": "none",
        "created_at": now, "updated_at": now, "resolved_at": null,
        "shortlink": format!("https://stspg.io/{id}"), "incident_updates": [],
    });
    if let Err(errors) = apply(&mut page, &mut incident, &fields) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, json!(errors));
    }
    page.incidents.push(incident.clone());
    answer(&mut page, StatusCode::CREATED, incident)
}

async fn update(
    State(page): State<Arc<Mutex<Page>>>,
    Path((page_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let mut page = page.lock().unwrap();
    if let Some(refused) = admit(
        &mut page,
        &Method::PATCH,
        &format!("incidents/{id}"),
        &headers,
        &page_id,
    ) {
        return refused;
    }
    let Some(fields) = serde_json::from_str::<Value>(&body).ok().map(|b| b["incident"].clone()) else {
        return error(StatusCode::BAD_REQUEST, json!("Body is not JSON"));
    };
    let Some(index) = page.incidents.iter().position(|i| i["id"] == id) else {
        return error(StatusCode::NOT_FOUND, json!("Not found"));
    };
    let mut incident = page.incidents[index].clone();
    if let Err(errors) = apply(&mut page, &mut incident, &fields) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, json!(errors));
    }
    page.incidents[index] = incident.clone();
    answer(&mut page, StatusCode::OK, incident)
}
