//! Socket Mode: the same Slack traffic over WebSockets that Rebound opens
//! itself (`rebound serve --socket-mode`), so no public URL is needed.
//!
//! slack-morphism keeps the connections (`apps.connections.open` with the
//! app-level token, reconnects, pings). Each envelope's raw payload goes
//! through the same acceptance as the HTTP routes (inbox first, then the
//! acknowledgement), so both modes behave identically. Envelopes are
//! authenticated by the connection itself, so there is no signature to check.
//! No acknowledgement is sent when the inbox could not store an envelope:
//! Slack then delivers it again.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Instant;

use async_trait::async_trait;
use serde_json::{Value, json};
use slack_morphism::prelude::*;
use tokio::sync::watch;

use super::{IngressError, commands, events, interactions};
use crate::metrics::{AckLabels, RouteLabels};
use crate::slack::SlackApi;
use crate::startup::AppState;

/// Connections kept open at once; Slack spreads envelopes over them, so one
/// can be replaced without a gap.
const CONNECTIONS: u32 = 2;

type Manager = dyn slack_morphism::socket_mode::clients_manager::SlackSocketModeClientsManager + Send + Sync;

/// Receives envelopes from slack-morphism's connections.
struct EnvelopeListener {
    state: AppState,
    manager: OnceLock<Weak<Manager>>,
}

/// Runs Socket Mode until `shutdown`.
pub async fn run(
    state: AppState,
    slack: SlackApi,
    app_token: &secrecy::SecretString,
    mut shutdown: watch::Receiver<bool>,
) {
    let manager = slack.socket_mode_manager();
    let listener = Arc::new(EnvelopeListener {
        state,
        manager: OnceLock::new(),
    });
    let _ = listener.manager.set(Arc::downgrade(&manager));
    let config = SlackClientSocketModeConfig::new().with_max_connections_count(CONNECTIONS);
    let token = SlackApiToken::new(SlackApiTokenValue(
        secrecy::ExposeSecret::expose_secret(app_token).to_string(),
    ));
    if let Err(error) = manager.register_new_token(&config, token, listener).await {
        tracing::error!(%error, "could not start Socket Mode");
        return;
    }
    manager.start().await;
    tracing::info!("Socket Mode connections started");
    let _ = shutdown.wait_for(|stop| *stop).await;
    manager.shutdown().await;
}

impl EnvelopeListener {
    /// Accepts one envelope's payload; the answer to put in the acknowledgement.
    async fn accept(&self, kind: &str, envelope: &Value) -> Result<Option<Value>, IngressError> {
        let payload = &envelope["payload"];
        match kind {
            "events_api" => {
                let retry = envelope["retry_attempt"].as_u64().unwrap_or(0).to_string();
                events::accept(&self.state, &payload.to_string(), &retry).await
            }
            "slash_commands" => {
                let form = command_form(payload)?;
                Ok(Some(commands::accept(&self.state, &form).await?.0))
            }
            _ => interactions::accept(&self.state, payload.to_string()).await,
        }
    }

    /// Replaces a connection (a no-op once shutting down: the manager has let go of it).
    async fn reconnect(&self, client_id: &SlackSocketModeWssClientId) {
        if let Some(manager) = self.manager.get().and_then(Weak::upgrade) {
            manager.restart_client(client_id).await;
        }
    }

    fn record(&self, kind: &str, started: Instant, status: u16) {
        let route = format!("socket:{kind}");
        let metrics = &self.state.metrics;
        metrics
            .ack_seconds
            .get_or_create(&AckLabels { route: route.clone() })
            .observe(started.elapsed().as_secs_f64());
        metrics.requests.get_or_create(&RouteLabels { route, status }).inc();
    }
}

/// A slash command arrives as a JSON object; the command handler reads the
/// form Slack posts over HTTP, with the same fields.
fn command_form(payload: &Value) -> Result<String, IngressError> {
    let fields = payload
        .as_object()
        .ok_or_else(|| IngressError::Malformed("slash command payload is not an object".into()))?;
    let pairs: Vec<(&str, String)> = fields
        .iter()
        .map(|(key, value)| {
            (
                key.as_str(),
                value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string()),
            )
        })
        .collect();
    serde_urlencoded::to_string(pairs).map_err(|e| IngressError::Malformed(format!("slash command payload: {e}")))
}

/// The acknowledgement frame for an envelope.
fn ack(envelope_id: &str, answer: Option<Value>) -> String {
    let mut frame = json!({ "envelope_id": envelope_id });
    if let Some(answer) = answer {
        frame["payload"] = answer;
    }
    frame.to_string()
}

#[async_trait]
impl SlackSocketModeClientListener for EnvelopeListener {
    async fn on_message(&self, client_id: &SlackSocketModeWssClientId, message: String) -> Option<String> {
        let started = Instant::now();
        let Ok(envelope) = serde_json::from_str::<Value>(&message) else {
            tracing::warn!("Socket Mode message is not JSON");
            return None;
        };
        let kind = envelope["type"].as_str().unwrap_or_default().to_string();
        match kind.as_str() {
            "hello" => {
                tracing::debug!(client = %client_id.to_string(), "Socket Mode connection ready");
                return None;
            }
            "disconnect" => {
                // Slack asks for a fresh connection (refresh or maintenance).
                self.reconnect(client_id).await;
                return None;
            }
            "events_api" | "slash_commands" | "interactive" => {}
            other => {
                tracing::info!(kind = other, "ignored Socket Mode envelope");
                return None;
            }
        }
        let envelope_id = envelope["envelope_id"].as_str()?.to_string();
        match self.accept(&kind, &envelope).await {
            Ok(answer) => {
                self.record(&kind, started, 200);
                let answer = answer.filter(|_| kind != "interactive" || envelope["accepts_response_payload"] == true);
                Some(ack(&envelope_id, answer))
            }
            Err(IngressError::Malformed(reason)) => {
                // Delivering it again would not make it readable.
                tracing::warn!(%reason, kind, "malformed Socket Mode envelope acknowledged and dropped");
                self.record(&kind, started, 400);
                Some(ack(&envelope_id, None))
            }
            Err(error) => {
                tracing::error!(%error, kind, "could not store a Socket Mode envelope; Slack will redeliver it");
                self.record(&kind, started, 503);
                None
            }
        }
    }

    async fn on_error(&self, error: Box<dyn std::error::Error + Send + Sync>) {
        tracing::warn!(%error, "Socket Mode connection error");
    }

    async fn on_disconnect(&self, client_id: &SlackSocketModeWssClientId) {
        tracing::info!(client = %client_id.to_string(), "Socket Mode connection closed; reconnecting");
        self.reconnect(client_id).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_payload_becomes_the_form_slack_would_post() {
        let payload = json!({ "command": "/incident", "text": "open DB down sev1", "user_id": "U1", "is_enterprise_install": false });
        let form = command_form(&payload).unwrap();
        let parsed: Vec<(String, String)> = serde_urlencoded::from_str(&form).unwrap();
        assert!(parsed.contains(&("text".into(), "open DB down sev1".into())));
        assert!(parsed.contains(&("is_enterprise_install".into(), "false".into())));
        assert!(command_form(&json!("nope")).is_err());
    }

    #[test]
    fn acks_carry_the_envelope_id_and_any_answer() {
        assert_eq!(ack("e1", None), r#"{"envelope_id":"e1"}"#);
        let frame: Value = serde_json::from_str(&ack("e2", Some(json!({ "text": "hi" })))).unwrap();
        assert_eq!(frame, json!({ "envelope_id": "e2", "payload": { "text": "hi" } }));
    }
}
