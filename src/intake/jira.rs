//! `POST /integrations/jira/webhook`: Jira's `jira:issue_updated` admin
//! webhook, so an exported action item closes when its issue is done.
//!
//! As with alerts, the delivery is authenticated before it is read (401,
//! nothing stored: `X-Hub-Signature` under `[integrations.jira]
//! webhook_secret`), read enough to refuse a malformed one (400) or ignore
//! an event that changes nothing (200), and only the issue key is stored in
//! the inbox before the 202; which action item it closes is decided by the
//! dispatcher. A repeated delivery (`X-Atlassian-Webhook-Identifier`) or a
//! second "done" changes nothing.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::jira;
use crate::startup::AppState;
use crate::store::{InboxKind, InsertOutcome, NewInboxItem};

/// What the inbox keeps of a webhook from another system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "vendor", rename_all = "snake_case")]
pub enum VendorWebhook {
    /// Jira says issue `issue_key` is done.
    JiraIssueDone { issue_key: String },
}

/// The route's handler.
pub async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let secret = state
        .settings
        .file
        .integrations
        .jira
        .as_ref()
        .and_then(|jira| jira.webhook_secret.as_ref());
    let Some(secret) = secret else {
        return (StatusCode::NOT_FOUND, "no Jira webhook is configured\n").into_response();
    };
    if !super::auth::jira_signed(secret.expose_secret().as_bytes(), &headers, &body) {
        tracing::warn!("refused a Jira webhook without a valid X-Hub-Signature");
        return (StatusCode::UNAUTHORIZED, "not signed with this webhook's secret\n").into_response();
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return (StatusCode::BAD_REQUEST, "body is not UTF-8\n").into_response();
    };
    let issue_key = match jira::done_issue(text) {
        Ok(Some(key)) => key,
        Ok(None) => return (StatusCode::OK, Json(json!({ "status": "ignored" }))).into_response(),
        Err(reason) => return (StatusCode::BAD_REQUEST, format!("{reason}\n")).into_response(),
    };
    let delivery = super::header(&headers, "x-atlassian-webhook-identifier")
        .filter(|id| id.len() <= 200)
        .unwrap_or_else(|| super::request_id(&body));
    let stored = VendorWebhook::JiraIssueDone { issue_key };
    let item = serde_json::to_string(&stored).map(|payload| NewInboxItem {
        kind: InboxKind::Webhook,
        dedupe_key: format!("jira:{delivery}"),
        payload,
    });
    let written = match item {
        Ok(item) => state.inbox.write(item).await.map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    };
    match written {
        Ok(InsertOutcome::Stored) => (StatusCode::ACCEPTED, Json(json!({ "status": "accepted" }))).into_response(),
        Ok(InsertOutcome::Duplicate) => (StatusCode::ACCEPTED, Json(json!({ "status": "duplicate" }))).into_response(),
        Err(error) => {
            tracing::error!(%error, "could not store a Jira webhook");
            // Jira retries a failed delivery, so nothing is lost.
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily unavailable, please retry\n",
            )
                .into_response()
        }
    }
}
