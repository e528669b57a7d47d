//! Statuspage.io's manage API: `POST /v1/pages/{page}/incidents` to create,
//! `PATCH /v1/pages/{page}/incidents/{id}` to update, with
//! `Authorization: OAuth <api key>`. Components are named in Rebound and
//! identified by id on Statuspage, so names are looked up in
//! `GET /v1/pages/{page}/components` (cached, read again on an unknown
//! name). Each key may make one request a second: requests are spaced so
//! Rebound never exceeds it (420 / 429 remain the backstop).
//!
//! Statuspage has no idempotency key, so a create whose answer was lost
//! must not create a second incident: a retried create first looks among
//! the page's unresolved incidents for one of the same name opened since
//! the Rebound incident was declared, and updates it instead.
//! <https://developer.statuspage.io/#tag/incidents>

use std::collections::HashMap;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use crate::config::integrations::StatuspageSettings;
use crate::http_client::{self, Answer, HttpsClient};
use crate::slack::SlackCallError;

/// Statuspage's limit per API key.
const SPACING: Duration = Duration::from_secs(1);

/// A client for one page and key.
pub struct Statuspage {
    settings: StatuspageSettings,
    /// When the last request went out: the next waits a second after it.
    last_request: Mutex<Option<Instant>>,
    /// Component name → id, as Statuspage last listed them.
    components: Mutex<HashMap<String, String>>,
}

impl Statuspage {
    pub fn new(settings: StatuspageSettings) -> Self {
        Self {
            settings,
            last_request: Mutex::new(None),
            components: Mutex::new(HashMap::new()),
        }
    }

    /// Creates or updates the mirrored incident; `known_id` is the id kept
    /// from an earlier answer, `retry` whether an earlier attempt may have
    /// created it. Answers with Statuspage's incident (its `id` is kept).
    pub async fn upsert(
        &self,
        http: &HttpsClient,
        known_id: Option<&str>,
        retry: bool,
        args: &Value,
    ) -> Result<Value, SlackCallError> {
        let body = json!({ "incident": self.incident_body(http, args).await? });
        let found = match (known_id, retry) {
            (Some(id), _) => Some(id.to_string()),
            (None, true) => self.find_unresolved(http, args).await?,
            (None, false) => None,
        };
        match found {
            Some(id) => {
                self.request(http, "PATCH", &format!("incidents/{id}"), Some(&body))
                    .await
            }
            None => self.request(http, "POST", "incidents", Some(&body)).await,
        }
    }

    /// The `incident` object: name, status, the update's body, and the
    /// components Statuspage knows by the names Rebound uses.
    async fn incident_body(&self, http: &HttpsClient, args: &Value) -> Result<Value, SlackCallError> {
        let wanted: Vec<(&String, &Value)> = args["components"].as_object().into_iter().flatten().collect();
        let mut ids = self.components.lock().await.clone();
        if wanted.iter().any(|(name, _)| !ids.contains_key(name.as_str())) {
            ids = self.list_components(http).await?;
            *self.components.lock().await = ids.clone();
        }
        let mut components = Map::new();
        for (name, state) in wanted {
            match ids.get(name.as_str()) {
                Some(id) => {
                    components.insert(id.clone(), state.clone());
                }
                None => tracing::warn!(component = %name, "no Statuspage component of this name; not mirrored"),
            }
        }
        let mut incident = json!({
            "name": args["name"],
            "status": args["status"],
            "component_ids": components.keys().collect::<Vec<_>>(),
            "components": components,
            "deliver_notifications": true,
        });
        if let Some(body) = args["body"].as_str() {
            incident["body"] = json!(body);
        }
        Ok(incident)
    }

    async fn list_components(&self, http: &HttpsClient) -> Result<HashMap<String, String>, SlackCallError> {
        let listed = self.request(http, "GET", "components", None).await?;
        Ok(listed
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c["name"].as_str()?.to_string(), c["id"].as_str()?.to_string())))
            .collect())
    }

    /// An unresolved incident this call's earlier attempt may have created.
    async fn find_unresolved(&self, http: &HttpsClient, args: &Value) -> Result<Option<String>, SlackCallError> {
        let unresolved = self.request(http, "GET", "incidents/unresolved", None).await?;
        let declared = args["declared_at"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        let opened_since = |incident: &Value| {
            let created = incident["created_at"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
            matches!((created, declared), (Some(created), Some(declared)) if created >= declared)
        };
        Ok(unresolved
            .as_array()
            .into_iter()
            .flatten()
            .find(|incident| incident["name"] == args["name"] && opened_since(incident))
            .and_then(|incident| {
                incident["id"]
                    .as_str()
                    .filter(|id| is_incident_id(id))
                    .map(str::to_string)
            }))
    }

    /// One request, a second after the previous one.
    async fn request(
        &self,
        http: &HttpsClient,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, SlackCallError> {
        let url = format!(
            "{}/v1/pages/{}/{path}",
            self.settings.url.trim_end_matches('/'),
            self.settings.page_id
        );
        let request = axum::http::Request::builder()
            .method(method)
            .uri(url)
            .header(
                "authorization",
                format!("OAuth {}", self.settings.api_key.expose_secret()),
            )
            .header("content-type", "application/json")
            .header("user-agent", concat!("rebound/", env!("CARGO_PKG_VERSION")))
            .body(http_body_util::Full::new(bytes::Bytes::from(
                body.map(Value::to_string).unwrap_or_default(),
            )))
            .map_err(|e| SlackCallError::Api(e.to_string()))?;
        let mut last = self.last_request.lock().await;
        if let Some(previous) = *last {
            tokio::time::sleep_until((previous + SPACING).into()).await;
        }
        *last = Some(Instant::now());
        let answer = http_client::send(http, request, super::TIMEOUT, super::MAX_ANSWER_BYTES).await;
        drop(last);
        outcome(&answer.map_err(SlackCallError::Transient)?)
    }
}

/// Statuspage's incident ids are short alphanumerics (`p31zjtct2jer`). An id
/// goes into a request path, so anything else an answer calls an id (`../`,
/// `?`, `#`) is refused rather than sent with the key.
pub fn is_incident_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Statuspage says 420 or 429 when over the limit; errors come as
/// `{"error": "…"}` or `{"error": ["…", …]}`.
fn outcome(answer: &Answer) -> Result<Value, SlackCallError> {
    if answer.status.as_u16() == 420 {
        return Err(SlackCallError::RateLimited(super::STATUSPAGE_RATE_LIMIT_WAIT));
    }
    super::common_outcome(answer, super::STATUSPAGE_RATE_LIMIT_WAIT, |body| match &body["error"] {
        Value::String(error) => error.clone(),
        Value::Array(errors) => errors.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "),
        _ => String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_statuspage_shaped_ids_go_into_a_path() {
        assert!(is_incident_id("p31zjtct2jer"));
        for hostile in ["", "../components", "abc?x=1", "abc#x", "a/b", "a b", &"a".repeat(65)] {
            assert!(!is_incident_id(hostile), "{hostile:?}");
        }
    }
}
