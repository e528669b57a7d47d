//! PagerDuty Events API v2: `POST {url}/v2/enqueue` with the routing key in
//! the body (the key is the credential; there is no auth header). 202 is
//! accepted, 400 an invalid event (final), 429 too many events for the key,
//! 5xx worth retrying.
//! <https://developer.pagerduty.com/docs/events-api-v2/overview/>

use secrecy::ExposeSecret;
use serde_json::Value;

use crate::config::integrations::PagerDutySettings;
use crate::http_client::{Answer, Request};
use crate::slack::SlackCallError;

pub fn request(settings: &PagerDutySettings, event: &Value) -> Result<Request, String> {
    let mut body = event.clone();
    body["routing_key"] = Value::String(settings.routing_key.expose_secret().to_string());
    let url = format!("{}/v2/enqueue", settings.url.trim_end_matches('/'));
    super::post_json(&url, &body)
}

/// `{"status":"invalid event","message":"Event object is invalid","errors":[…]}` names what was wrong.
pub fn outcome(answer: &Answer) -> Result<Value, SlackCallError> {
    super::common_outcome(answer, super::DEFAULT_RATE_LIMIT_WAIT, |body| {
        let errors: Vec<&str> = body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let message = body["message"].as_str().unwrap_or_default();
        [message.to_string(), errors.join("; ")]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(": ")
    })
}
