//! Fake PagerDuty Events API v2 and Zenduty Generic Integration on
//! 127.0.0.1, one per test, behaving as their documentation says:
//!
//! - PagerDuty `POST /v2/enqueue`
//!   (<https://developer.pagerduty.com/docs/events-api-v2/trigger-events/>,
//!   <https://developer.pagerduty.com/docs/events-api-v2/overview/>): the
//!   routing key in the body is the credential (32 characters, else 400
//!   "Length of 'routing_key' is incorrect"; unknown → 400 "Invalid routing
//!   key"); `event_action` trigger / acknowledge / resolve; a trigger needs
//!   `payload.summary` (≤ 1024), `payload.source` and `payload.severity`
//!   (critical, error, warning, info); `dedup_key` ≤ 255. A trigger for an
//!   open alert with the same key joins it; acknowledge / resolve of no open
//!   alert are dropped. 202 `{"status":"success","message":"Event
//!   processed","dedup_key":…}`; 400 `{"status":"invalid event","message":
//!   "Event object is invalid","errors":[…]}`; about 120 events a minute per
//!   key, then 429 (rate limits page).
//! - Zenduty `POST /api/events/{integration key}/`
//!   (<https://zenduty.com/docs/generic-integration/>): `message` and
//!   `alert_type` (critical, acknowledged, resolved, error, warning, info)
//!   required; `entity_id` ties events of one alert.
//!
//! Tests can make the next PagerDuty requests fail (`fail_next`) or be
//! processed with the answer lost (`lose_next_answers`), as a dropped
//! connection does.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

pub const ROUTING_KEY: &str = "R0123456789abcdef0123456789abcde";
pub const ZENDUTY_KEY: &str = "zenduty-integration-key-0001";

/// One alert as the vendor keeps it.
#[derive(Debug, Clone)]
pub struct VendorAlert {
    pub dedup_key: String,
    pub status: String,
    pub summary: String,
    pub events: Vec<String>,
}

#[derive(Default)]
struct Record {
    /// Every request that reached the fake, valid or not.
    pagerduty_requests: Vec<Value>,
    pagerduty_alerts: Vec<VendorAlert>,
    pagerduty_times: Vec<std::time::Instant>,
    zenduty_requests: Vec<Value>,
    zenduty_alerts: Vec<VendorAlert>,
    fail_next: Vec<(StatusCode, Option<u64>)>,
    lose_next: usize,
}

#[derive(Clone)]
pub struct FakePaging {
    pub origin: String,
    record: Arc<Mutex<Record>>,
}

impl FakePaging {
    pub async fn start() -> Self {
        let record = Arc::new(Mutex::new(Record::default()));
        let app = Router::new()
            .route("/v2/enqueue", post(pagerduty))
            .route("/api/events/{key}/", post(zenduty))
            .with_state(record.clone());
        let origin = crate::helpers::serve_on_loopback(app).await;
        Self { origin, record }
    }

    /// The `[integrations]` configuration for this fake.
    pub fn config(&self) -> String {
        format!(
            "[integrations.pagerduty]\nrouting_key = \"{ROUTING_KEY}\"\nurl = \"{}\"\nservice = \"Checkout API\"\n\
             service_url = \"https://acme.pagerduty.com/service-directory/PCHECKOUT\"\n\n\
             [integrations.zenduty]\nintegration_url = \"{}/api/events/{ZENDUTY_KEY}/\"\n",
            self.origin, self.origin
        )
    }

    /// The next `n` PagerDuty requests answer `status` (with `Retry-After` if given) and change nothing.
    pub fn fail_next(&self, n: usize, status: StatusCode, retry_after: Option<u64>) {
        let mut record = self.record.lock().unwrap();
        record.fail_next.extend(std::iter::repeat_n((status, retry_after), n));
    }

    /// The next `n` PagerDuty requests are processed, but the answer is lost (a 502 from a proxy).
    pub fn lose_next_answers(&self, n: usize) {
        self.record.lock().unwrap().lose_next += n;
    }

    pub fn pagerduty_alerts(&self) -> Vec<VendorAlert> {
        self.record.lock().unwrap().pagerduty_alerts.clone()
    }

    pub fn pagerduty_requests(&self) -> Vec<Value> {
        self.record.lock().unwrap().pagerduty_requests.clone()
    }

    pub fn zenduty_requests(&self) -> Vec<Value> {
        self.record.lock().unwrap().zenduty_requests.clone()
    }

    pub fn zenduty_alerts(&self) -> Vec<VendorAlert> {
        self.record.lock().unwrap().zenduty_alerts.clone()
    }
}

fn invalid(errors: &[&str]) -> Response {
    let body = json!({ "status": "invalid event", "message": "Event object is invalid", "errors": errors });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// A scripted failure for this request, if one is due.
fn scripted(record: &mut Record) -> Option<Response> {
    if record.fail_next.is_empty() {
        return None;
    }
    let (status, retry_after) = record.fail_next.remove(0);
    let mut response = (status, axum::Json(json!({ "status": "error" }))).into_response();
    if let Some(seconds) = retry_after {
        response.headers_mut().insert("retry-after", seconds.into());
    }
    Some(response)
}

/// What a processed request answers: its answer, or a lost one.
fn answered(record: &mut Record, answer: Response) -> Response {
    if record.lose_next > 0 {
        record.lose_next -= 1;
        return StatusCode::BAD_GATEWAY.into_response();
    }
    answer
}

/// Applies an event to the vendor's alerts: triggers open or join, the rest
/// change the open alert with that key (or are dropped).
fn apply(alerts: &mut Vec<VendorAlert>, key: &str, action: &str, summary: &str) {
    let open = alerts.iter_mut().find(|a| a.dedup_key == key && a.status != "resolved");
    match (action, open) {
        ("trigger", Some(alert)) => alert.events.push("trigger".into()),
        ("trigger", None) => alerts.push(VendorAlert {
            dedup_key: key.to_string(),
            status: "triggered".into(),
            summary: summary.to_string(),
            events: vec!["trigger".into()],
        }),
        (other, Some(alert)) => {
            alert.status = other.to_string();
            alert.events.push(other.to_string());
        }
        (_, None) => {}
    }
}

async fn pagerduty(State(record): State<Arc<Mutex<Record>>>, body: String) -> Response {
    let mut record = record.lock().unwrap();
    let Ok(event) = serde_json::from_str::<Value>(&body) else {
        return invalid(&["Event object is not valid JSON"]);
    };
    record.pagerduty_requests.push(event.clone());
    if let Some(failure) = scripted(&mut record) {
        return failure;
    }
    let key = event["routing_key"].as_str().unwrap_or_default();
    if key.len() != 32 {
        return invalid(&["Length of 'routing_key' is incorrect (should be 32 characters)"]);
    }
    if key != ROUTING_KEY {
        return invalid(&["Invalid routing key"]);
    }
    let now = std::time::Instant::now();
    record
        .pagerduty_times
        .retain(|at| now.duration_since(*at) < std::time::Duration::from_secs(60));
    if record.pagerduty_times.len() >= 120 {
        return (StatusCode::TOO_MANY_REQUESTS, "Request Limit Exceeded").into_response();
    }
    let action = event["event_action"].as_str().unwrap_or_default();
    if !["trigger", "acknowledge", "resolve"].contains(&action) {
        return invalid(&["'event_action' is invalid (must be one of: trigger, acknowledge, resolve)"]);
    }
    let Some(dedup_key) = event["dedup_key"].as_str().filter(|k| !k.is_empty() && k.len() <= 255) else {
        return invalid(&["'dedup_key' is missing, blank or longer than 255 characters"]);
    };
    let payload = &event["payload"];
    let summary = payload["summary"].as_str().unwrap_or_default();
    if action == "trigger" {
        if summary.is_empty() || summary.chars().count() > 1024 {
            return invalid(&["'payload.summary' is missing or blank"]);
        }
        if payload["source"].as_str().is_none_or(str::is_empty) {
            return invalid(&["'payload.source' is missing or blank"]);
        }
        if !["critical", "error", "warning", "info"].contains(&payload["severity"].as_str().unwrap_or_default()) {
            return invalid(&["'payload.severity' is invalid (must be one of: critical, error, warning, info)"]);
        }
    }
    record.pagerduty_times.push(now);
    apply(&mut record.pagerduty_alerts, dedup_key, action, summary);
    let accepted = json!({ "status": "success", "message": "Event processed", "dedup_key": dedup_key });
    answered(
        &mut record,
        (StatusCode::ACCEPTED, axum::Json(accepted)).into_response(),
    )
}

async fn zenduty(State(record): State<Arc<Mutex<Record>>>, Path(key): Path<String>, body: String) -> Response {
    let mut record = record.lock().unwrap();
    if key != ZENDUTY_KEY {
        return (StatusCode::NOT_FOUND, axum::Json(json!({ "detail": "Not found." }))).into_response();
    }
    let Ok(event) = serde_json::from_str::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "detail": "JSON parse error" })),
        )
            .into_response();
    };
    record.zenduty_requests.push(event.clone());
    let alert_type = event["alert_type"].as_str().unwrap_or_default();
    let kinds = ["critical", "acknowledged", "resolved", "error", "warning", "info"];
    if event["message"].as_str().is_none_or(str::is_empty) || !kinds.contains(&alert_type) {
        let errors = json!({ "message": ["This field is required."], "alert_type": ["Not a valid choice."] });
        return (StatusCode::BAD_REQUEST, axum::Json(errors)).into_response();
    }
    let entity = event["entity_id"].as_str().unwrap_or_default().to_string();
    let action = match alert_type {
        "acknowledged" => "acknowledge",
        "resolved" => "resolve",
        _ => "trigger",
    };
    let message = event["message"].as_str().unwrap_or_default().to_string();
    apply(&mut record.zenduty_alerts, &entity, action, &message);
    let created = json!({ "message": message, "alert_type": alert_type, "entity_id": entity });
    (StatusCode::CREATED, axum::Json(created)).into_response()
}
