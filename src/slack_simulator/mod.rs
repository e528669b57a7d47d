//! A simulated Slack on 127.0.0.1 that behaves like Slack's documented
//! API (../shared/slack/FACTS.md): the tests' fake and `rebound demo`'s
//! workspace, the same code. It checks the bearer token, rejects
//! unknown methods and missing required arguments (read from Slack's
//! per-method JSON in tests/fixtures/slack-methods), enforces channel-name
//! rules and Block Kit limits, answers with Slack-shaped errors, can be told
//! to fail the next call of a method, and records every call.

mod blocks;
mod limits;
mod methods;
pub mod oidc;
mod socket;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::{Value, json};

pub const BOT_TOKEN: &str = "xoxb-test-token";
/// The app-level token Socket Mode connects with.
pub const APP_TOKEN: &str = "xapp-test-token";
pub const BOT_USER: &str = "UBOT";

/// A scripted failure for the next call of a method.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// `{"ok":false,"error":CODE}`.
    Error(&'static str),
    /// HTTP 429 with `Retry-After`.
    RateLimited { retry_after_secs: u64 },
    /// HTTP 500 without doing anything.
    ServerError,
    /// Does the work, then answers HTTP 500: the caller cannot know it succeeded.
    SucceedThenServerError,
    /// Does the work, then does not answer for five minutes: the caller is
    /// still waiting when it is killed.
    SucceedThenHang,
    /// Answers normally, but only after this many seconds.
    Slow(u64),
}

/// One call as the fake saw it.
#[derive(Debug, Clone)]
pub struct RecordedCall {
    pub method: String,
    pub args: Value,
    pub at: Instant,
    pub status: u16,
    pub error: Option<String>,
}

impl RecordedCall {
    pub fn ok(&self) -> bool {
        self.status == 200 && self.error.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub is_private: bool,
    pub creator: String,
    pub members: Vec<String>,
    pub messages: Vec<Value>,
}

#[derive(Default)]
pub struct FakeState {
    pub channels: Vec<Channel>,
    /// User groups (`S…`) and their members.
    pub usergroups: HashMap<String, Vec<String>>,
    /// A `trigger_id` works once.
    used_triggers: Vec<String>,
    pub calls: Vec<RecordedCall>,
    faults: HashMap<String, VecDeque<Fault>>,
    next_id: u64,
    /// Open Socket Mode connections, newest last, and every frame the app sent on them.
    pub sockets: socket::Sockets,
    /// Sign in with Slack: who signs in next, codes not yet traded.
    pub oidc: oidc::OidcState,
    /// The bot token's scopes, as `x-oauth-scopes` lists them; `None`
    /// means every scope the manifest asks for.
    pub granted_scopes: Option<Vec<String>>,
    /// Slack's rate limits, when enforced.
    pub limits: limits::Limits,
}

impl FakeState {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn channel_by_ref(&mut self, reference: &str) -> Option<&mut Channel> {
        let name = reference.trim_start_matches('#');
        self.channels.iter_mut().find(|c| c.id == reference || c.name == name)
    }
}

/// A running fake.
#[derive(Clone)]
pub struct FakeSlack {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<FakeState>>,
    specs: Arc<BTreeMap<String, Value>>,
}

impl FakeSlack {
    /// Starts on a free port with an `#incidents` channel the bot is in.
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// Starts on `addr` (e.g. `127.0.0.1:3001`); panics if it cannot bind
    /// (for tests and examples; `rebound demo` uses [`Self::try_start_on`]).
    pub async fn start_on(addr: &str) -> Self {
        Self::try_start_on(addr)
            .await
            .unwrap_or_else(|e| panic!("the fake Slack cannot listen on {addr}: {e}"))
    }

    /// Starts on `addr`, or says why it cannot listen there.
    pub async fn try_start_on(addr: &str) -> std::io::Result<Self> {
        let specs = Arc::new(methods::load_specs());
        let state = Arc::new(Mutex::new(FakeState::default()));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let fake = Self { addr, state, specs };
        fake.add_channel("incidents", "UADMIN", false);
        let app = Router::new()
            .route("/api/openid.connect.token", post(oidc::token))
            .route("/api/{method}", any(api))
            .route("/openid/connect/authorize", axum::routing::get(oidc::authorize))
            .route("/openid/connect/keys", axum::routing::get(oidc::keys))
            // Not Slack's: lets the browser suite choose who signs in next.
            .route("/test/sign-in-as", post(oidc::choose_identity))
            .route("/response/{id}", post(response_url))
            .route("/link/", axum::routing::get(socket::connect))
            .with_state(fake.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the Slack simulator stopped");
            }
        });
        Ok(fake)
    }

    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    pub fn response_url(&self, id: &str) -> String {
        format!("http://{}/response/{id}", self.addr)
    }

    /// Adds a channel (the bot is a member) and returns its id.
    pub fn add_channel(&self, name: &str, creator: &str, is_private: bool) -> String {
        let mut state = self.state.lock().unwrap();
        let id = format!("C{:08}", state.next_id());
        state.channels.push(Channel {
            id: id.clone(),
            name: name.into(),
            is_private,
            creator: creator.into(),
            members: vec![BOT_USER.into()],
            messages: vec![],
        });
        id
    }

    /// A user group with these members.
    pub fn add_usergroup(&self, id: &str, members: &[&str]) {
        let members = members.iter().map(|m| m.to_string()).collect();
        self.state.lock().unwrap().usergroups.insert(id.into(), members);
    }

    /// `user` joins a channel (Slack itself would send `member_joined_channel`).
    pub fn add_member(&self, channel_id: &str, user: &str) {
        let mut state = self.state.lock().unwrap();
        let channel = state.channel_by_ref(channel_id).expect("channel exists");
        channel.members.push(user.into());
    }

    /// A person's message in a channel, as if posted in Slack; returns its `ts`.
    pub fn add_message(&self, channel_id: &str, user: &str, text: &str) -> String {
        let mut state = self.state.lock().unwrap();
        let ts = format!("{}.{:06}", 1_700_000_000 + state.next_id(), state.next_id());
        let channel = state.channel_by_ref(channel_id).expect("channel exists");
        channel
            .messages
            .push(serde_json::json!({ "type": "message", "ts": ts, "user": user, "text": text }));
        ts
    }

    /// From now on, calls beyond Slack's published rate limits get 429.
    pub fn enforce_rate_limits(&self) {
        self.state.lock().unwrap().limits.enforced = true;
    }

    /// The next call of `method` fails this way.
    pub fn fail_next(&self, method: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .entry(method.into())
            .or_default()
            .push_back(fault);
    }

    pub fn calls(&self, method: &str) -> Vec<RecordedCall> {
        self.state
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    pub fn all_calls(&self) -> Vec<RecordedCall> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn channels(&self) -> Vec<Channel> {
        self.state.lock().unwrap().channels.clone()
    }

    /// Polls until `condition` holds, failing the test after 15 s.
    pub async fn wait_for(&self, what: &str, condition: impl Fn(&FakeSlack) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !condition(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for: {what}\ncalls so far: {:#?}",
                self.all_calls()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn slack_json(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

async fn api(
    State(fake): State<FakeSlack>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = methods::parse_request(&method, &headers, query.as_deref(), &body, fake.specs.get(&method));
    let reports_scopes = method != "apps.connections.open"
        && !matches!(&parsed, Err((code, _)) if ["not_authed", "invalid_auth", "not_allowed_token_type"].contains(code));
    let (status, response, args) = match parsed {
        Err((error, args)) => (StatusCode::OK, json!({ "ok": false, "error": error }), args),
        Ok(args) => {
            let fault = fake
                .state
                .lock()
                .unwrap()
                .faults
                .get_mut(&method)
                .and_then(VecDeque::pop_front);
            if matches!(fault, Some(Fault::SucceedThenHang)) {
                methods::answer(&fake, &method, &args, None);
                tokio::time::sleep(Duration::from_secs(300)).await;
            }
            let limited = fake.state.lock().unwrap().limits.over(&method, &args, Instant::now());
            let fault = fault.or(limited.map(|retry_after_secs| Fault::RateLimited { retry_after_secs }));
            let fault = match fault {
                Some(Fault::Slow(seconds)) => {
                    tokio::time::sleep(Duration::from_secs(seconds)).await;
                    None
                }
                other => other,
            };
            let (status, response) = methods::answer(&fake, &method, &args, fault);
            (status, response, args)
        }
    };
    let error = response["error"]
        .as_str()
        .map(str::to_string)
        .or((status != StatusCode::OK).then(|| status.to_string()));
    fake.state.lock().unwrap().calls.push(RecordedCall {
        method,
        args,
        at: Instant::now(),
        status: status.as_u16(),
        error,
    });
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = response["retry_after"].as_u64().unwrap_or(1).to_string();
        return (
            status,
            [
                (header::CONTENT_TYPE, "application/json; charset=utf-8".to_string()),
                (header::RETRY_AFTER, retry_after),
            ],
            json!({ "ok": false, "error": "ratelimited" }).to_string(),
        )
            .into_response();
    }
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        return (status, "internal server error").into_response();
    }
    let mut answer = slack_json(status, response);
    // Slack names the calling token's scopes on every answer to a bot token.
    if reports_scopes {
        let scopes = fake.state.lock().unwrap().granted_scopes.clone();
        let scopes = scopes.unwrap_or_else(|| crate::manifest::BOT_SCOPES.map(String::from).to_vec());
        answer
            .headers_mut()
            .insert("x-oauth-scopes", scopes.join(",").parse().unwrap());
    }
    answer
}

async fn response_url(
    State(fake): State<FakeSlack>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let args: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let error = (!args.is_object()).then(|| "invalid_payload".to_string());
    let mut record = args.clone();
    record["response_url_id"] = json!(id);
    // Slack needs no token here; the tests check that none is sent.
    if let Some(authorization) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        record["authorization"] = json!(authorization);
    }
    fake.state.lock().unwrap().calls.push(RecordedCall {
        method: "response_url".into(),
        args: record,
        at: Instant::now(),
        status: 200,
        error,
    });
    (StatusCode::OK, "ok").into_response()
}
