//! Zenduty Generic Integration: `POST` the event to the integration URL
//! (the integration key is part of it). `entity_id` ties the trigger,
//! acknowledgement and resolution of one alert together.
//! <https://zenduty.com/docs/generic-integration/>

use secrecy::ExposeSecret;
use serde_json::Value;

use crate::config::integrations::ZendutySettings;
use crate::http_client::{Answer, Request};
use crate::slack::SlackCallError;

pub fn request(settings: &ZendutySettings, event: &Value) -> Result<Request, String> {
    super::post_json(settings.integration_url.expose_secret(), event)
}

/// Zenduty's errors carry a `detail` or per-field messages.
pub fn outcome(answer: &Answer) -> Result<Value, SlackCallError> {
    super::common_outcome(answer, super::DEFAULT_RATE_LIMIT_WAIT, |body| {
        match body["detail"].as_str() {
            Some(detail) => detail.to_string(),
            None => body
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
        }
    })
}
