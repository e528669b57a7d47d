//! Alert intake's HTTP entry points: `POST /hooks/{kind}/{name}` for each
//! monitoring sender and the Opsgenie-compatible `POST /v2/alerts` and
//! `POST /v2/alerts/{alias}/close`. Like Slack's, each delivery is
//! authenticated before it is read (401, nothing stored), parsed enough to
//! refuse a malformed one with a reason (400), stored in the durable inbox
//! and only then acknowledged (202); routing happens in the dispatcher.
//! `jira.rs` takes Jira's issue updates the same way.

pub mod auth;
pub mod jira;
pub mod sample;
pub mod sns;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::config::intake::SourceSettings;
use crate::domain::alerts::{self, Delivery, SourceKind};
use crate::ingress::MAX_BODY_BYTES;
use crate::startup::AppState;
use crate::store::{InboxKind, InsertOutcome, NewInboxItem};

/// The intake routes (on the public listener).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hooks/{kind}/{name}", post(hook))
        .route("/v2/alerts", post(opsgenie_create))
        .route("/v2/alerts/{alias}/close", post(opsgenie_close))
        .route("/integrations/jira/webhook", post(jira::webhook))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// What the inbox keeps of a delivery: enough to parse it again, exactly.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredDelivery {
    /// The source's configured name.
    pub source: String,
    pub delivery: Delivery,
    /// The raw body as the sender sent it.
    pub body: String,
}

/// Why a delivery was refused, answered with its status and a reason.
#[derive(Debug)]
enum Refusal {
    UnknownSource,
    Unauthenticated,
    Malformed(String),
    Unavailable,
}

impl Refusal {
    fn outcome(&self) -> &'static str {
        match self {
            Refusal::UnknownSource => "unknown_source",
            Refusal::Unauthenticated => "unauthenticated",
            Refusal::Malformed(_) => "malformed",
            Refusal::Unavailable => "unavailable",
        }
    }

    fn into_response(self) -> Response {
        match self {
            Refusal::UnknownSource => (StatusCode::NOT_FOUND, "no such intake source\n").into_response(),
            // SNS sends its basic-auth credentials only after this challenge.
            Refusal::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", r#"Basic realm="rebound""#)],
                "not authenticated as this source\n",
            )
                .into_response(),
            Refusal::Malformed(reason) => (StatusCode::BAD_REQUEST, format!("{reason}\n")).into_response(),
            // Senders retry on 5xx, so nothing is lost.
            Refusal::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily unavailable, please retry\n",
            )
                .into_response(),
        }
    }
}

async fn hook(
    State(state): State<AppState>,
    Path((kind, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let source = SourceKind::parse(&kind).and_then(|kind| state.settings.file.intake.source(kind, &name));
    let Some(source) = source else {
        state.metrics.intake("unknown", Refusal::UnknownSource.outcome());
        return Refusal::UnknownSource.into_response();
    };
    let delivery = Delivery {
        resource: header(&headers, "sentry-hook-resource"),
        close_alias: None,
    };
    match accept(&state, source, &headers, delivery, &body).await {
        Ok(outcome) => (StatusCode::ACCEPTED, Json(json!({ "status": outcome }))).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// `POST /v2/alerts` as Opsgenie's Alert API takes it: the `GenieKey`
/// says which source it is.
async fn opsgenie_create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    opsgenie(&state, &headers, Delivery::default(), &body).await
}

#[derive(Debug, Deserialize)]
struct CloseQuery {
    #[serde(rename = "identifierType")]
    identifier_type: Option<String>,
}

/// `POST /v2/alerts/{alias}/close?identifierType=alias`.
async fn opsgenie_close(
    State(state): State<AppState>,
    Path(alias): Path<String>,
    Query(query): Query<CloseQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if query.identifier_type.as_deref() != Some("alias") {
        return opsgenie_error(
            StatusCode::BAD_REQUEST,
            "Rebound closes alerts by alias: add ?identifierType=alias",
        );
    }
    let delivery = Delivery {
        resource: None,
        close_alias: Some(alias),
    };
    // The close call's body is optional in Opsgenie's API.
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        Bytes::from_static(b"{}")
    } else {
        body
    };
    opsgenie(&state, &headers, delivery, &body).await
}

async fn opsgenie(state: &AppState, headers: &HeaderMap, delivery: Delivery, body: &[u8]) -> Response {
    let by_key = state
        .settings
        .file
        .intake
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Opsgenie)
        .find(|s| auth::authenticated(s, headers, body));
    let Some(source) = by_key else {
        state.metrics.intake("unknown", Refusal::Unauthenticated.outcome());
        return opsgenie_error(StatusCode::UNAUTHORIZED, "Could not authenticate");
    };
    match accept(state, source, headers, delivery, body).await {
        Ok(_) => {
            let answer = json!({ "result": "Request will be processed", "took": 0.0, "requestId": request_id(body) });
            (StatusCode::ACCEPTED, Json(answer)).into_response()
        }
        Err(Refusal::Malformed(reason)) => opsgenie_error(StatusCode::BAD_REQUEST, &reason),
        Err(refusal) => refusal.into_response(),
    }
}

/// Opsgenie's error shape: `{"message", "took", "requestId"}`.
fn opsgenie_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "message": message, "took": 0.0, "requestId": "" })),
    )
        .into_response()
}

/// Authenticates, checks and stores one delivery; `accepted` or `duplicate`.
async fn accept(
    state: &AppState,
    source: &SourceSettings,
    headers: &HeaderMap,
    delivery: Delivery,
    body: &[u8],
) -> Result<&'static str, Refusal> {
    let counted = |outcome: &str| state.metrics.intake(&source.name, outcome);
    let result = check_and_store(state, source, headers, delivery, body).await;
    match &result {
        Ok(outcome) => counted(outcome),
        Err(refusal) => {
            if let Refusal::Unauthenticated = refusal {
                tracing::warn!(source = %source.name, "refused an unauthenticated alert delivery");
            }
            counted(refusal.outcome());
        }
    }
    result
}

async fn check_and_store(
    state: &AppState,
    source: &SourceSettings,
    headers: &HeaderMap,
    delivery: Delivery,
    body: &[u8],
) -> Result<&'static str, Refusal> {
    if !auth::authenticated(source, headers, body) {
        return Err(Refusal::Unauthenticated);
    }
    let text = std::str::from_utf8(body).map_err(|_| Refusal::Malformed("body is not UTF-8".into()))?;
    if text.contains('\0') {
        return Err(Refusal::Malformed("body contains a NUL byte".into()));
    }
    let mut delivery_id = delivery_id(headers, body);
    if source.kind == SourceKind::Sns {
        match admit_sns(state, source, text).await? {
            SnsAdmission::Store { message_id } => delivery_id = message_id,
            SnsAdmission::Done(outcome) => return Ok(outcome),
        }
    }
    let parsed = alerts::parse(source.kind, &delivery, text).map_err(|e| Refusal::Malformed(e.0))?;
    if parsed.is_empty() {
        // A Sentry installation hook, a PagerDuty annotation…: nothing to keep.
        return Ok("ignored");
    }
    let stored = StoredDelivery {
        source: source.name.clone(),
        delivery,
        body: text.to_string(),
    };
    let item = NewInboxItem {
        kind: InboxKind::Alert,
        dedupe_key: format!("alert:{}:{delivery_id}", source.name),
        payload: serde_json::to_string(&stored).map_err(|e| Refusal::Malformed(e.to_string()))?,
    };
    match state.inbox.write(item).await {
        Ok(InsertOutcome::Stored) => Ok("accepted"),
        Ok(InsertOutcome::Duplicate) => Ok("duplicate"),
        Err(error) => {
            tracing::error!(%error, source = %source.name, "could not store an alert delivery");
            Err(Refusal::Unavailable)
        }
    }
}

/// What a verified SNS message asks for.
enum SnsAdmission {
    /// A notification: stored, deduplicated by its (signed) `MessageId`.
    Store { message_id: String },
    /// A subscription confirmed, or a message with nothing to keep.
    Done(&'static str),
}

/// Checks an SNS message's topic and signature, and confirms subscriptions.
async fn admit_sns(state: &AppState, source: &SourceSettings, text: &str) -> Result<SnsAdmission, Refusal> {
    let envelope = alerts::sns::Envelope::parse(text).map_err(|e| Refusal::Malformed(e.0))?;
    if !source.topic_arns.is_empty() && !source.topic_arns.contains(&envelope.topic_arn) {
        tracing::warn!(source = %source.name, topic = %envelope.topic_arn, "refused an SNS message from an unexpected topic");
        return Err(Refusal::Unauthenticated);
    }
    let test_origin = source.test_origin();
    let verified = state.sns.verify(&envelope, test_origin.as_ref()).await;
    sns_refusal(source, verified)?;
    if envelope.is_subscription_confirmation() {
        let confirmed = state.sns.confirm(&envelope, test_origin.as_ref()).await;
        sns_refusal(source, confirmed)?;
        tracing::info!(source = %source.name, topic = %envelope.topic_arn, "confirmed an SNS subscription");
        return Ok(SnsAdmission::Done("subscription_confirmed"));
    }
    if !envelope.is_notification() {
        return Ok(SnsAdmission::Done("ignored"));
    }
    Ok(SnsAdmission::Store {
        message_id: envelope.message_id.chars().take(200).collect(),
    })
}

fn sns_refusal(source: &SourceSettings, result: Result<(), sns::SnsError>) -> Result<(), Refusal> {
    result.map_err(|error| match error {
        sns::SnsError::Forged(why) => {
            tracing::warn!(source = %source.name, %why, "refused an SNS message");
            Refusal::Unauthenticated
        }
        sns::SnsError::Unreachable(why) => {
            tracing::warn!(source = %source.name, %why, "could not reach SNS to verify a message");
            Refusal::Unavailable
        }
    })
}

/// The id the sender gives a delivery (retries keep it), else the body's hash.
fn delivery_id(headers: &HeaderMap, body: &[u8]) -> String {
    ["x-webhook-id", "request-id"]
        .into_iter()
        .find_map(|name| header(headers, name))
        .filter(|id| id.len() <= 200)
        .unwrap_or_else(|| request_id(body))
}

fn request_id(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .filter(|v| !v.is_empty())
}
