//! Sign in with Slack (OpenID Connect): where to send a browser, how to
//! trade the code Slack sends back for an `id_token`, and what the token
//! must prove — signed by a key of Slack's JWKS, issued by
//! `https://slack.com` for this app, carrying the login's nonce, for the
//! workspace Rebound is installed in (`auth.test`).
//!
//! slack-morphism has no OpenID methods, so the token exchange is a plain
//! form POST to `openid.connect.token`; JWTs are checked by `jsonwebtoken`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use tokio::sync::OnceCell;

use crate::config::Settings;
use crate::http_client::{self, HttpsClient};
use crate::slack::SlackApi;

/// Who Slack says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub team_id: String,
    pub name: String,
}

/// Why a sign-in failed; shown to the person, logged without secrets.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("Slack refused the sign-in: {0}")]
    Refused(String),
    #[error("the sign-in token is not valid: {0}")]
    BadToken(String),
    #[error("this Rebound serves another Slack workspace")]
    WrongTeam,
    #[error("Slack could not be reached: {0}")]
    Unreachable(String),
}

/// The `id_token` claims Rebound reads.
#[derive(Debug, Deserialize)]
struct Claims {
    nonce: Option<String>,
    #[serde(rename = "https://slack.com/user_id")]
    user_id: String,
    #[serde(rename = "https://slack.com/team_id")]
    team_id: String,
    #[serde(default)]
    name: Option<String>,
}

/// How long Slack's keys are trusted before they are fetched again; an
/// unknown `kid` refetches sooner, but not more than once a minute.
const KEYS_FRESH_FOR: Duration = Duration::from_secs(3600);
const KEYS_REFETCH_AFTER: Duration = Duration::from_secs(60);
const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_RESPONSE_BYTES: usize = 256 * 1024;
const ISSUER: &str = "https://slack.com";

/// The Sign in with Slack client of this Rebound.
pub struct SignIn {
    client_id: String,
    client_secret: SecretString,
    authorize_url: url::Url,
    keys_url: url::Url,
    token_url: url::Url,
    redirect_uri: String,
    slack: SlackApi,
    http: HttpsClient,
    keys: Mutex<Option<(Instant, JwkSet)>>,
    team: OnceCell<String>,
}

impl SignIn {
    /// The client, when `SLACK_CLIENT_ID`, `SLACK_CLIENT_SECRET`,
    /// `SLACK_BOT_TOKEN` and `[web] public_url` are all set.
    pub fn from_settings(settings: &Settings) -> Option<Self> {
        let client_id = settings.client_id.clone()?;
        let client_secret = settings.client_secret.clone()?;
        let bot_token = settings.bot_token.as_ref()?;
        let public = url::Url::parse(settings.file.web.public_url.as_deref()?).ok()?;
        // Slack's OpenID pages live at the API's origin (a fake's, in tests).
        let api = url::Url::parse(&settings.slack_api_url).ok()?;
        let origin = api.origin().ascii_serialization();
        Some(Self {
            client_id,
            client_secret,
            authorize_url: url::Url::parse(&format!("{origin}/openid/connect/authorize")).ok()?,
            keys_url: url::Url::parse(&format!("{origin}/openid/connect/keys")).ok()?,
            token_url: url::Url::parse(&format!(
                "{}/openid.connect.token",
                settings.slack_api_url.trim_end_matches('/')
            ))
            .ok()?,
            redirect_uri: public.join("auth/slack/callback").ok()?.to_string(),
            slack: SlackApi::new(&settings.slack_api_url, bot_token),
            http: http_client::https_client(),
            keys: Mutex::new(None),
            team: OnceCell::new(),
        })
    }

    /// Where to send the browser to sign in (the team pinned when known).
    pub fn authorize_redirect(&self, state: &str, nonce: &str) -> String {
        let mut url = self.authorize_url.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("scope", "openid profile email")
            .append_pair("client_id", &self.client_id)
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("redirect_uri", &self.redirect_uri);
        if let Some(team) = self.team.get() {
            url.query_pairs_mut().append_pair("team", team);
        }
        url.to_string()
    }

    /// Trades `code` for an `id_token` and checks it; the person it names.
    pub async fn finish(&self, code: &str, nonce: &str) -> Result<Identity, SignInError> {
        let id_token = self.exchange(code).await?;
        let claims = self.verify(&id_token).await?;
        let nonce_ok = claims
            .nonce
            .as_deref()
            .is_some_and(|given| bool::from(given.as_bytes().ct_eq(nonce.as_bytes())));
        if !nonce_ok {
            return Err(SignInError::BadToken("its nonce is not this login's".into()));
        }
        if claims.team_id != self.installed_team().await? {
            return Err(SignInError::WrongTeam);
        }
        Ok(Identity {
            name: claims.name.unwrap_or_else(|| claims.user_id.clone()),
            user_id: claims.user_id,
            team_id: claims.team_id,
        })
    }

    /// The workspace the bot token belongs to.
    async fn installed_team(&self) -> Result<String, SignInError> {
        self.team
            .get_or_try_init(|| async {
                let answer = self
                    .slack
                    .call("auth.test", &serde_json::json!({}))
                    .await
                    .map_err(|e| SignInError::Unreachable(e.to_string()))?;
                answer["team_id"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| SignInError::Unreachable("auth.test named no team".into()))
            })
            .await
            .cloned()
    }

    async fn exchange(&self, code: &str) -> Result<String, SignInError> {
        let form = serde_urlencoded::to_string([
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("grant_type", "authorization_code"),
        ])
        .map_err(|e| SignInError::Refused(e.to_string()))?;
        let request = axum::http::Request::post(self.token_url.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| SignInError::Unreachable(e.to_string()))?;
        let answer: serde_json::Value = self.fetch(request).await?;
        if answer["ok"] != true {
            let error = answer["error"].as_str().unwrap_or("unknown_error");
            return Err(SignInError::Refused(error.to_string()));
        }
        answer["id_token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| SignInError::Refused("no id_token in Slack's answer".into()))
    }

    async fn verify(&self, token: &str) -> Result<Claims, SignInError> {
        let bad = |e: jsonwebtoken::errors::Error| SignInError::BadToken(e.to_string());
        let header = jsonwebtoken::decode_header(token).map_err(bad)?;
        if header.alg != Algorithm::RS256 {
            return Err(SignInError::BadToken(format!(
                "{:?} is not Slack's algorithm",
                header.alg
            )));
        }
        let kid = header.kid.unwrap_or_default();
        let keys = self.keys(&kid).await?;
        let jwk = keys
            .find(&kid)
            .ok_or_else(|| SignInError::BadToken("signed by a key Slack does not publish".into()))?;
        let key = DecodingKey::from_jwk(jwk).map_err(bad)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[&self.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Ok(jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(bad)?
            .claims)
    }

    /// Slack's published keys, fresh enough to hold `kid` if Slack has it.
    async fn keys(&self, kid: &str) -> Result<JwkSet, SignInError> {
        let cached = self.keys.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some((fetched, set)) = &cached {
            let fresh = fetched.elapsed() < KEYS_FRESH_FOR;
            if fresh && (set.find(kid).is_some() || fetched.elapsed() < KEYS_REFETCH_AFTER) {
                return Ok(set.clone());
            }
        }
        let request = axum::http::Request::get(self.keys_url.as_str())
            .body(Full::new(Bytes::new()))
            .map_err(|e| SignInError::Unreachable(e.to_string()))?;
        let set: JwkSet = self.fetch(request).await?;
        *self.keys.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), set.clone()));
        Ok(set)
    }

    async fn fetch<T: serde::de::DeserializeOwned>(&self, request: http_client::Request) -> Result<T, SignInError> {
        let answer = http_client::send(&self.http, request, TIMEOUT, MAX_RESPONSE_BYTES)
            .await
            .map_err(SignInError::Unreachable)?;
        if !answer.status.is_success() {
            return Err(SignInError::Unreachable(format!("Slack answered {}", answer.status)));
        }
        answer.json().map_err(SignInError::Unreachable)
    }
}
