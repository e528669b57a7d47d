//! The Slack Web API client: slack-morphism over a hyper-rustls connector
//! that also speaks plain `http://`, so `SLACK_API_URL` can point at a local
//! fake. Results are classified for the outbox: retry, wait, or give up.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use slack_morphism::socket_mode::clients_manager::{
    SlackSocketModeClientsManager, SlackSocketModeClientsManagerFactory,
};

/// How a Web API call went wrong, from the outbox's point of view.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackCallError {
    /// Slack answered `ok: false` with this code (e.g. `name_taken`).
    #[error("slack error {0}")]
    Api(String),
    /// HTTP 429: wait `Retry-After` before trying again.
    #[error("rate limited, retry after {0:?}")]
    RateLimited(Duration),
    /// Network trouble or a 5xx: worth retrying with backoff.
    #[error("transient failure: {0}")]
    Transient(String),
    /// Not sent: what it needs is not there yet (an edit of a card still
    /// queued for posting in the message lane). Try again shortly.
    #[error("not ready: {0}")]
    NotReady(String),
}

/// `C…`, `G…` or `D…` followed by capitals and digits, as Slack's ids are.
pub fn is_channel_id(text: &str) -> bool {
    text.len() > 1
        && text.starts_with(['C', 'G', 'D'])
        && text.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// The user ids in a list Slack answered with (`members`, `users`): only
/// what looks like a user id is kept.
pub fn user_ids(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .filter(|id| crate::domain::command::is_user_id(id))
        .map(str::to_string)
        .collect()
}

/// Read methods Slack does not accept with a JSON body.
pub const QUERY_ONLY_METHODS: [&str; 8] = [
    "chat.getPermalink",
    "conversations.info",
    "conversations.members",
    "usergroups.users.list",
    "conversations.replies",
    "users.info",
    "reactions.get",
    "conversations.list",
];

/// Errors Slack documents as temporary; anything else from `ok: false` is final.
const RETRYABLE_API_ERRORS: [&str; 5] = [
    "internal_error",
    "fatal_error",
    "request_timeout",
    "service_unavailable",
    "ratelimited",
];

impl SlackCallError {
    /// True when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            SlackCallError::Api(code) => RETRYABLE_API_ERRORS.contains(&code.as_str()),
            SlackCallError::RateLimited(_) | SlackCallError::Transient(_) | SlackCallError::NotReady(_) => true,
        }
    }

    fn from_client(error: SlackClientError) -> Self {
        match error {
            SlackClientError::ApiError(api) => SlackCallError::Api(api.code),
            SlackClientError::RateLimitError(limit) => {
                SlackCallError::RateLimited(limit.retry_after.unwrap_or(Duration::from_secs(1)))
            }
            SlackClientError::HttpError(http) if http.status_code.is_client_error() => {
                SlackCallError::Api(format!("http_{}", http.status_code.as_u16()))
            }
            other => SlackCallError::Transient(other.to_string()),
        }
    }
}

/// A channel as `conversations.list` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSummary {
    pub id: String,
    pub name: String,
    pub creator: Option<String>,
}

type Connector =
    SlackClientHyperConnector<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>>;

/// A bot-token Web API client.
#[derive(Clone)]
pub struct SlackApi {
    client: Arc<SlackClient<Connector>>,
    token: SlackApiToken,
    /// Besides `https://hooks.slack.com`, the one origin `response_url`
    /// posts may go to: the overridden `SLACK_API_URL` (tests, the fake).
    response_origin: Option<url::Origin>,
}

/// Where Slack's `response_url`s point in production.
pub const RESPONSE_URL_HOST: &str = "hooks.slack.com";

/// True when a `response_url` may be posted to: `https://hooks.slack.com/…`,
/// or the origin of an overridden `SLACK_API_URL`. A request can name any
/// URL it likes, so anything else is refused rather than sent.
pub fn response_url_allowed(url: &url::Url, overridden_api: Option<&url::Origin>) -> bool {
    let slack_hooks = url.scheme() == "https" && url.host_str() == Some(RESPONSE_URL_HOST) && url.port().is_none();
    slack_hooks || overridden_api.is_some_and(|origin| &url.origin() == origin)
}

impl std::fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackApi").field("token", &"[REDACTED]").finish()
    }
}

impl SlackApi {
    /// Builds a client for `api_url` (`https://slack.com/api` in production).
    pub fn new(api_url: &str, bot_token: &SecretString) -> Self {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        // slack-morphism joins the base and the method with a '/'.
        let connector =
            SlackClientHyperConnector::with_connector(https).with_slack_api_url(api_url.trim_end_matches('/'));
        let token = SlackApiToken::new(SlackApiTokenValue(bot_token.expose_secret().to_string()));
        let response_origin = url::Url::parse(api_url)
            .ok()
            .filter(|url| url.host_str() != Some("slack.com"))
            .map(|url| url.origin());
        Self {
            client: Arc::new(SlackClient::new(connector)),
            token,
            response_origin,
        }
    }

    /// A Socket Mode connections manager on this client's connector (and base URL).
    pub fn socket_mode_manager(&self) -> Arc<dyn SlackSocketModeClientsManager + Send + Sync> {
        let environment = Arc::new(SlackClientEventsListenerEnvironment::new(self.client.clone()));
        self.client.http_api.connector.new_clients_manager(environment)
    }

    /// Calls a JSON-capable Web API method with `args` as the JSON body.
    pub async fn call(&self, method: &str, args: &serde_json::Value) -> Result<serde_json::Value, SlackCallError> {
        let session = self.client.open_session(&self.token);
        session
            .http_session_api
            .http_post::<serde_json::Value, serde_json::Value>(method, args, None)
            .await
            .map_err(SlackCallError::from_client)
    }

    /// Calls a read method that Slack only accepts as a query string
    /// (FACTS.md §5: `chat.getPermalink`, `conversations.replies`, …).
    pub async fn call_get(&self, method: &str, args: &serde_json::Value) -> Result<serde_json::Value, SlackCallError> {
        let params: Vec<(&str, Option<String>)> = args
            .as_object()
            .map(|object| {
                object
                    .iter()
                    .map(|(key, value)| {
                        (
                            key.as_str(),
                            Some(value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string())),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let session = self.client.open_session(&self.token);
        session
            .http_session_api
            .http_get::<serde_json::Value, _, String>(method, &params, None)
            .await
            .map_err(SlackCallError::from_client)
    }

    /// Posts a message to a slash command's `response_url`, without the bot
    /// token (the URL is its own credential) and only to Slack's host.
    pub async fn respond(&self, response_url: &str, body: &serde_json::Value) -> Result<(), SlackCallError> {
        let url: url::Url = response_url
            .parse()
            .map_err(|_| SlackCallError::Api("invalid_response_url".into()))?;
        if !response_url_allowed(&url, self.response_origin.as_ref()) {
            tracing::warn!(
                host = url.host_str().unwrap_or_default(),
                "refused a response_url outside Slack"
            );
            return Err(SlackCallError::Api("response_url_not_slack".into()));
        }
        let span = tracing::debug_span!("Slack response_url");
        let context = SlackClientApiCallContext {
            rate_control_params: None,
            token: None,
            tracing_span: &span,
            is_sensitive_url: true,
        };
        self.client
            .http_api
            .connector
            .http_post_uri::<serde_json::Value, serde_json::Value>(url, body, context)
            .await
            .map(|_| ())
            .map_err(SlackCallError::from_client)
    }

    /// The bot's own user id (`auth.test`).
    pub async fn bot_user_id(&self) -> Result<String, SlackCallError> {
        let session = self.client.open_session(&self.token);
        let response = session.auth_test().await.map_err(SlackCallError::from_client)?;
        Ok(response.user_id.to_string())
    }

    /// Finds a non-archived channel by exact name, paging through `conversations.list`.
    pub async fn find_channel(&self, name: &str) -> Result<Option<ChannelSummary>, SlackCallError> {
        let session = self.client.open_session(&self.token);
        let mut cursor = None;
        loop {
            let request = SlackApiConversationsListRequest::new()
                .with_limit(1000)
                .with_exclude_archived(true)
                .with_types(vec![SlackConversationType::Public, SlackConversationType::Private])
                .opt_cursor(cursor);
            let page = session
                .conversations_list(&request)
                .await
                .map_err(SlackCallError::from_client)?;
            if let Some(found) = page.channels.iter().find(|c| c.name.as_deref() == Some(name)) {
                return Ok(Some(ChannelSummary {
                    id: found.id.to_string(),
                    name: name.to_string(),
                    creator: found.creator.as_ref().map(|c| c.to_string()),
                }));
            }
            cursor = page
                .response_metadata
                .and_then(|m| m.next_cursor)
                .filter(|c| !c.0.is_empty());
            if cursor.is_none() {
                return Ok(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_ids_are_told_from_names() {
        assert!(is_channel_id("C00000002") && is_channel_id("G1AB"));
        assert!(!is_channel_id("incidents") && !is_channel_id("#incidents") && !is_channel_id("C"));
    }

    fn allowed(url: &str, api: Option<&str>) -> bool {
        let origin = api.map(|api| url::Url::parse(api).unwrap().origin());
        response_url_allowed(&url::Url::parse(url).unwrap(), origin.as_ref())
    }

    #[test]
    fn response_urls_go_to_slack_only() {
        assert!(allowed("https://hooks.slack.com/commands/T1/2/abc", None));
        assert!(!allowed("http://hooks.slack.com/commands/T1/2/abc", None));
        assert!(!allowed("https://hooks.slack.com.evil.example/x", None));
        assert!(!allowed("https://evil.example/hooks.slack.com", None));
        assert!(!allowed("https://hooks.slack.com:8443/x", None));
        assert!(allowed("http://127.0.0.1:9/respond/1", Some("http://127.0.0.1:9/api")));
        assert!(!allowed(
            "http://127.0.0.1:10/respond/1",
            Some("http://127.0.0.1:9/api")
        ));
    }
}
