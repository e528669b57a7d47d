//! Slack's HTTP entry points: `/slack/commands`, `/slack/events`,
//! `/slack/interactions`.
//!
//! Each handler verifies the signature, rejects bad input with a clear status,
//! writes what must not be lost to the durable inbox, and only then answers
//! 200. Slow work (Slack calls) happens later, in the dispatcher and outbox.
//! [`socket_mode`] feeds the same acceptance from Socket Mode envelopes.

pub(crate) mod commands;
mod events;
mod interactions;
pub mod signature;
pub mod socket_mode;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::inbox::InboxError;
use crate::startup::AppState;
use crate::store::StoreError;

/// Slack bodies are small; anything over 1 MiB is refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The `/slack/*` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/slack/commands", post(commands::handle))
        .route("/slack/events", post(events::handle))
        .route("/slack/interactions", post(interactions::handle))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// Why a Slack request was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IngressError {
    #[error("unauthorized: {0}")]
    Unauthorized(#[from] signature::SignatureError),
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("could not store the request: {0}")]
    Inbox(#[from] InboxError),
    #[error("database error: {0}")]
    Store(#[from] StoreError),
}

impl IntoResponse for IngressError {
    fn into_response(self) -> Response {
        match self {
            IngressError::Unauthorized(reason) => {
                tracing::warn!(%reason, "refused unsigned or badly signed Slack request");
                (StatusCode::UNAUTHORIZED, "invalid Slack signature\n").into_response()
            }
            IngressError::Malformed(reason) => (StatusCode::BAD_REQUEST, format!("{reason}\n")).into_response(),
            // Slack retries events on non-2xx, so a 503 here loses nothing.
            other => {
                tracing::error!(error = %other, "could not accept Slack request");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily unavailable, please retry\n",
                )
                    .into_response()
            }
        }
    }
}

/// Verifies the signature of a raw body and returns it as text.
///
/// The signature is checked before anything is parsed: a forged body is a
/// 401 whatever it holds. Slack only sends UTF-8, so a body that is not is
/// checked as lossy text (and cannot match a real signature).
fn verified_body<'a>(state: &AppState, headers: &HeaderMap, body: &'a [u8]) -> Result<&'a str, IngressError> {
    let now = chrono::Utc::now().timestamp();
    let Ok(text) = std::str::from_utf8(body) else {
        signature::verify(&state.verifier, headers, &String::from_utf8_lossy(body), now)?;
        return Err(IngressError::Malformed("body is not UTF-8".into()));
    };
    signature::verify(&state.verifier, headers, text, now)?;
    // No valid form or JSON body holds a raw NUL, and no database stores one.
    if text.contains('\0') {
        return Err(IngressError::Malformed("body contains a NUL byte".into()));
    }
    Ok(text)
}
