//! Sign in with Slack as the fake serves it: `GET /openid/connect/authorize`
//! sends the browser straight back with a code for the identity the test
//! chose (Slack would ask the person first), `POST /api/openid.connect.token`
//! trades the code for an `id_token` signed RS256 with the test key (client
//! credentials, code and redirect URI checked, each code used once; Slack's
//! error codes from `openid.connect.token.json`), and `GET
//! /openid/connect/keys` publishes the key as a JWKS.
//! <https://docs.slack.dev/authentication/sign-in-with-slack/>

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::{FakeSlack, slack_json};

pub const CLIENT_ID: &str = "2141029472.691202649728";
pub const CLIENT_SECRET: &str = "e1b9e11dfcd19c1982d5de12921e17e8c";
pub const KEY_ID: &str = "rebound-test-key";
/// The simulator's signing key (a test key, never a real one): PKCS#1 DER
/// of `tests/fixtures/slack-oidc-test-key.pem`, and its public half as a JWKS.
const KEY_DER: &[u8] = include_bytes!("../../tests/fixtures/slack-oidc-test-key.pkcs1.der");
const JWKS: &str = include_str!("../../tests/fixtures/slack-oidc-test-jwks.json");

/// Who signs in next, and what the fake does to the token (for hostile tests).
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: String,
    pub team: String,
    pub name: String,
    /// Replaces the login's nonce in the token.
    pub nonce: Option<String>,
    /// Replaces the audience (another app's token).
    pub audience: Option<String>,
    /// Seconds from now until the token expires (negative: already expired).
    pub expires_in: i64,
}

impl Default for Identity {
    fn default() -> Self {
        Self {
            user: "U0DECLARER".into(),
            team: "T1".into(),
            name: "Dana Declarer".into(),
            nonce: None,
            audience: None,
            expires_in: 300,
        }
    }
}

#[derive(Debug, Clone)]
struct Grant {
    identity: Identity,
    nonce: String,
    redirect_uri: String,
}

#[derive(Default)]
pub struct OidcState {
    pub next: Identity,
    codes: HashMap<String, Grant>,
}

impl FakeSlack {
    /// The person (and token quirks) the next sign-in gets.
    pub fn sign_in_as(&self, identity: Identity) {
        self.state.lock().unwrap().oidc.next = identity;
    }
}

/// `POST /test/sign-in-as?user=U…&name=…`: the browser suite's knob.
pub async fn choose_identity(State(fake): State<FakeSlack>, Query(query): Query<HashMap<String, String>>) -> Response {
    let mut identity = Identity::default();
    if let Some(user) = query.get("user") {
        identity.user = user.clone();
    }
    if let Some(name) = query.get("name") {
        identity.name = name.clone();
    }
    fake.sign_in_as(identity);
    StatusCode::NO_CONTENT.into_response()
}

pub async fn authorize(State(fake): State<FakeSlack>, Query(query): Query<HashMap<String, String>>) -> Response {
    let get = |key: &str| query.get(key).cloned().unwrap_or_default();
    if get("client_id") != CLIENT_ID
        || get("response_type") != "code"
        || !get("scope").split(' ').any(|s| s == "openid")
    {
        return (StatusCode::BAD_REQUEST, "invalid authorize request").into_response();
    }
    let Ok(mut back) = url::Url::parse(&get("redirect_uri")) else {
        return (StatusCode::BAD_REQUEST, "bad redirect_uri").into_response();
    };
    let mut state = fake.state.lock().unwrap();
    let code = format!("code-{}", state.next_id());
    let grant = Grant {
        identity: state.oidc.next.clone(),
        nonce: get("nonce"),
        redirect_uri: get("redirect_uri"),
    };
    state.oidc.codes.insert(code.clone(), grant);
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &get("state"));
    Redirect::to(back.as_str()).into_response()
}

pub async fn token(State(fake): State<FakeSlack>, Form(form): Form<HashMap<String, String>>) -> Response {
    let get = |key: &str| form.get(key).cloned().unwrap_or_default();
    let error = |code: &str| slack_json(StatusCode::OK, json!({ "ok": false, "error": code }));
    fake.state.lock().unwrap().calls.push(super::RecordedCall {
        method: "openid.connect.token".into(),
        args: json!({ "client_id": get("client_id"), "code": get("code"), "redirect_uri": get("redirect_uri") }),
        at: std::time::Instant::now(),
        status: 200,
        error: None,
    });
    if get("client_id") != CLIENT_ID || get("client_secret") != CLIENT_SECRET {
        return error("invalid_client");
    }
    if get("grant_type") != "authorization_code" {
        return error("invalid_grant_type");
    }
    let Some(grant) = fake.state.lock().unwrap().oidc.codes.remove(&get("code")) else {
        return error("invalid_code");
    };
    if grant.redirect_uri != get("redirect_uri") {
        return error("bad_redirect_uri");
    }
    let identity = &grant.identity;
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "iss": "https://slack.com",
        "sub": identity.user,
        "aud": identity.audience.clone().unwrap_or_else(|| CLIENT_ID.into()),
        "exp": now + identity.expires_in,
        "iat": now,
        "auth_time": now,
        "nonce": identity.nonce.clone().unwrap_or(grant.nonce),
        "at_hash": "uDWdJgyfH8mEh1UF0Ib-cw",
        "https://slack.com/team_id": identity.team,
        "https://slack.com/user_id": identity.user,
        "email": "dana@example.com",
        "email_verified": true,
        "date_email_verified": now,
        "locale": "en-US",
        "name": identity.name,
        "given_name": identity.name,
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KEY_ID.into());
    let key = EncodingKey::from_rsa_der(KEY_DER);
    let id_token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    slack_json(
        StatusCode::OK,
        json!({ "ok": true, "access_token": "xoxp-1234", "token_type": "Bearer", "id_token": id_token }),
    )
}

pub async fn keys() -> Response {
    let jwks: Value = serde_json::from_str(JWKS).expect("vendored JWKS is JSON");
    ([(header::CACHE_CONTROL, "max-age=3600")], Json(jwks)).into_response()
}
