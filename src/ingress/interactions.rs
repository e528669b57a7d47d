//! `POST /slack/interactions`: buttons, selects and modal submissions, sent as
//! a form with one `payload` field holding JSON (signed over the form body).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;

use super::{IngressError, verified_body};
use crate::startup::AppState;
use crate::store::{InboxKind, NewInboxItem};
use crate::views::{failure_forms, modals};

#[derive(Deserialize)]
struct Form {
    payload: String,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "type")]
    kind: String,
    trigger_id: Option<String>,
}

pub async fn handle(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, IngressError> {
    let text = verified_body(&state, &headers, &body)?;
    let form: Form =
        serde_urlencoded::from_str(text).map_err(|e| IngressError::Malformed(format!("interaction form: {e}")))?;
    Ok(match accept(&state, form.payload).await? {
        Some(answer) => Json(answer).into_response(),
        None => StatusCode::OK.into_response(),
    })
}

/// Accepts a verified interaction payload (the JSON of the `payload` field);
/// the answer to send back, if any (form errors).
pub(super) async fn accept(state: &AppState, payload_text: String) -> Result<Option<serde_json::Value>, IngressError> {
    let payload: Payload = serde_json::from_str(&payload_text)
        .map_err(|e| IngressError::Malformed(format!("interaction payload JSON: {e}")))?;
    // A form with mistakes stays open with the problems shown; only a valid
    // submission is stored.
    if payload.kind == "view_submission"
        && let Some(errors) = form_errors(&payload_text)?
    {
        return Ok(Some(modals::errors_response(&errors)));
    }
    // Every user interaction gets a fresh trigger_id; a redelivery repeats it.
    let trigger_id = payload
        .trigger_id
        .ok_or_else(|| IngressError::Malformed(format!("{} interaction without trigger_id", payload.kind)))?;
    let item = NewInboxItem {
        kind: InboxKind::Interaction,
        dedupe_key: format!("interaction:{trigger_id}"),
        payload: payload_text,
    };
    state.inbox.write(item).await?;
    Ok(None)
}

fn form_errors(payload: &str) -> Result<Option<modals::FormErrors>, IngressError> {
    let payload: serde_json::Value =
        serde_json::from_str(payload).map_err(|e| IngressError::Malformed(format!("interaction payload JSON: {e}")))?;
    let view = &payload["view"];
    let errors = match view["callback_id"].as_str().unwrap_or_default() {
        modals::DECLARE_CALLBACK => modals::read_declare(view).err(),
        modals::UPDATE_CALLBACK => modals::read_update(view).err(),
        _ => failure_forms::errors(view),
    };
    Ok(errors)
}
