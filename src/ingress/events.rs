//! `POST /slack/events`: the Events API, including `url_verification`.
//!
//! Events are deduplicated by `event_id`: Slack retries (with
//! `X-Slack-Retry-Num`) after a slow ack, and slack-morphism does not dedupe.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{IngressError, verified_body};
use crate::startup::AppState;
use crate::store::{InboxKind, NewInboxItem};

/// Just enough of the envelope to route and dedupe; the inner event is parsed
/// by the dispatcher.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    challenge: Option<String>,
    event_id: Option<String>,
    event: Option<serde_json::Value>,
}

pub async fn handle(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, IngressError> {
    let text = verified_body(&state, &headers, &body)?;
    let retry = headers
        .get("x-slack-retry-num")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("0");
    Ok(match accept(&state, text, retry).await? {
        Some(answer) => Json(answer).into_response(),
        None => StatusCode::OK.into_response(),
    })
}

/// Accepts a verified Events API envelope; the answer to send back, if any.
pub(super) async fn accept(state: &AppState, text: &str, retry: &str) -> Result<Option<Value>, IngressError> {
    let envelope: Envelope =
        serde_json::from_str(text).map_err(|e| IngressError::Malformed(format!("event JSON: {e}")))?;
    match envelope.kind.as_str() {
        "url_verification" => {
            let challenge = envelope
                .challenge
                .ok_or_else(|| IngressError::Malformed("url_verification without challenge".into()))?;
            Ok(Some(json!({ "challenge": challenge })))
        }
        "event_callback" => {
            let event_id = envelope
                .event_id
                .ok_or_else(|| IngressError::Malformed("event_callback without event_id".into()))?;
            if envelope.event.as_ref().is_none_or(|e| e.get("type").is_none()) {
                return Err(IngressError::Malformed("event_callback without an event type".into()));
            }
            let item = NewInboxItem {
                kind: InboxKind::Event,
                dedupe_key: format!("event:{event_id}"),
                payload: text.to_string(),
            };
            let outcome = state.inbox.write(item).await?;
            tracing::debug!(%event_id, retry, ?outcome, "event stored");
            Ok(None)
        }
        "app_rate_limited" => {
            tracing::warn!("Slack is rate-limiting event deliveries to this app (over 30,000 per hour)");
            Ok(None)
        }
        other => {
            // Newer envelope types must not make Slack retry or disable the app.
            tracing::info!(kind = other, "ignored unknown Events API envelope");
            Ok(None)
        }
    }
}
