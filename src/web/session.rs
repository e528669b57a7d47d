//! Signing in and out: `/login` sends the browser to Slack with a fresh
//! `state` and `nonce` (remembered in the database and bound to this
//! browser by a cookie), `/auth/slack/callback` checks them and the
//! `id_token` and opens a session, `/logout` ends it. [`SignedIn`] is the
//! extractor every dashboard page takes: no live session, no page.
//!
//! Cookies are `HttpOnly; Secure; SameSite=Lax`; the session cookie holds a
//! random token whose SHA-256 is what the database keeps. Every form carries
//! the session's CSRF token.

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Router, routing::get};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::pages::{self, Message};
use crate::startup::AppState;
use crate::store::web_sessions::WebSession;

pub const SESSION_COOKIE: &str = "rebound_session";
const LOGIN_COOKIE: &str = "rebound_login";
/// How long a login may take between `/login` and Slack's callback.
const LOGIN_TTL: chrono::Duration = chrono::Duration::minutes(10);
/// How long a session lasts before signing in again.
pub const SESSION_TTL: chrono::Duration = chrono::Duration::hours(12);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login))
        .route("/auth/slack/callback", get(callback))
        .route("/logout", get(logout_form).post(logout))
}

/// A person with a live session, and the hash that names it.
pub struct SignedIn {
    pub session: WebSession,
    pub token_hash: String,
}

impl SignedIn {
    /// Whether a submitted form carries this session's CSRF token.
    pub fn csrf_ok(&self, token: &str) -> bool {
        !token.is_empty() && bool::from(token.as_bytes().ct_eq(self.session.csrf.as_bytes()))
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(Redirect::to("/login").into_response());
        };
        let token_hash = hash(token);
        match state.web_store.session(&token_hash, Utc::now()).await {
            Ok(Some(session)) => Ok(SignedIn { session, token_hash }),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(error) => {
                tracing::warn!(%error, "could not read a web session");
                Err(pages::unavailable())
            }
        }
    }
}

/// `GET /login`: off to Slack, with a state and nonce for this browser.
async fn login(State(state): State<AppState>) -> Response {
    let Some(sign_in) = state.sign_in.as_ref() else {
        return pages::message(
            StatusCode::SERVICE_UNAVAILABLE,
            Message {
                heading: "Sign in is not set up",
                message: "Set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and [web] public_url, and add the redirect URL \
                          from `rebound manifest` to the Slack app.",
                show_sign_in: false,
            },
        );
    };
    let (login_state, nonce) = (random_token(), random_token());
    if let Err(error) = state.store.begin_login(&login_state, &nonce, Utc::now()).await {
        tracing::warn!(%error, "could not start a sign-in");
        return pages::unavailable();
    }
    let cookie = set_cookie(LOGIN_COOKIE, &login_state, "/auth", LOGIN_TTL);
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to(&sign_in.authorize_redirect(&login_state, &nonce)),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/slack/callback`: checks the state, the token and the team,
/// then opens a session.
async fn callback(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<Callback>) -> Response {
    let refused = |status, message| {
        pages::message(
            status,
            Message {
                heading: "Not signed in",
                message,
                show_sign_in: true,
            },
        )
    };
    let Some(sign_in) = state.sign_in.as_ref() else {
        return refused(StatusCode::SERVICE_UNAVAILABLE, "Sign in with Slack is not set up.");
    };
    if query.error.is_some() {
        return refused(StatusCode::UNAUTHORIZED, "Slack did not sign you in.");
    }
    let (Some(code), Some(given_state)) = (query.code.as_deref(), query.state.as_deref()) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "The sign-in answer is missing its code or state.",
        );
    };
    // The state must be the one this browser was sent off with (login CSRF).
    let same_browser =
        cookie(&headers, LOGIN_COOKIE).is_some_and(|own| bool::from(own.as_bytes().ct_eq(given_state.as_bytes())));
    if !same_browser {
        return refused(StatusCode::BAD_REQUEST, "This sign-in was not started in this browser.");
    }
    let now = Utc::now();
    let nonce = match state.store.take_login(given_state, now - LOGIN_TTL).await {
        Ok(Some(nonce)) => nonce,
        Ok(None) => return refused(StatusCode::BAD_REQUEST, "This sign-in expired or was already used."),
        Err(error) => {
            tracing::warn!(%error, "could not read a sign-in");
            return pages::unavailable();
        }
    };
    let identity = match sign_in.finish(code, &nonce).await {
        Ok(identity) => identity,
        Err(error) => {
            tracing::warn!(%error, "a sign-in was refused");
            let status = match error {
                super::oidc::SignInError::Unreachable(_) => StatusCode::BAD_GATEWAY,
                super::oidc::SignInError::WrongTeam => StatusCode::FORBIDDEN,
                _ => StatusCode::UNAUTHORIZED,
            };
            return refused(status, "Slack's answer did not prove who you are in this workspace.");
        }
    };
    open_session(&state, identity, now).await
}

async fn open_session(state: &AppState, identity: super::oidc::Identity, now: DateTime<Utc>) -> Response {
    let token = random_token();
    let session = WebSession {
        user_id: identity.user_id,
        team_id: identity.team_id,
        name: identity.name,
        csrf: random_token(),
        expires_at: now + SESSION_TTL,
    };
    if let Err(error) = state.store.create_session(&hash(&token), &session, now).await {
        tracing::warn!(%error, "could not open a web session");
        return pages::unavailable();
    }
    tracing::info!(user = %session.user_id, "signed in to the dashboard");
    let mut response = Redirect::to("/").into_response();
    let cookies = response.headers_mut();
    cookies.append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token, "/", SESSION_TTL));
    cookies.append(header::SET_COOKIE, clear_cookie(LOGIN_COOKIE, "/auth"));
    response
}

#[derive(Debug, Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// `GET /logout`: a button, since signing out changes state (a link could
/// sign anyone out from another site).
async fn logout_form(signed_in: SignedIn) -> Response {
    pages::logout(&signed_in)
}

/// `POST /logout`: ends the session.
async fn logout(State(state): State<AppState>, signed_in: SignedIn, Form(form): Form<LogoutForm>) -> Response {
    if !signed_in.csrf_ok(&form.csrf) {
        return pages::forbidden_form();
    }
    if let Err(error) = state.store.revoke_session(&signed_in.token_hash, Utc::now()).await {
        tracing::warn!(%error, "could not end a web session");
        return pages::unavailable();
    }
    // A page, not a redirect to /login: that would sign straight back in.
    let mut page = pages::message(
        StatusCode::OK,
        Message {
            heading: "Signed out",
            message: "You are signed out of Rebound.",
            show_sign_in: true,
        },
    );
    page.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie(SESSION_COOKIE, "/"));
    page
}

/// The value of cookie `name` in the request, if sent.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

fn set_cookie(name: &str, value: &str, path: &str, ttl: chrono::Duration) -> HeaderValue {
    let text = format!(
        "{name}={value}; Path={path}; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
        ttl.num_seconds()
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn clear_cookie(name: &str, path: &str) -> HeaderValue {
    set_cookie(name, "", path, chrono::Duration::zero())
}

/// 32 random bytes, hex: session tokens, CSRF tokens, states, nonces.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name_only() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("x_rebound_session=evil; rebound_session=abc"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, LOGIN_COOKIE), None);
        let set = set_cookie(SESSION_COOKIE, "t", "/", SESSION_TTL);
        let set = set.to_str().unwrap();
        for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
            assert!(set.contains(attribute), "{set}");
        }
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(hash(&a), a);
    }
}
