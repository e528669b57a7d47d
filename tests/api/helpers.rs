//! Test harness: a Rebound on port 0 with a fresh SQLite or Postgres
//! database, a fake Slack, and requests signed exactly as Slack signs them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use rebound::config::Settings;
use rebound::startup::{Application, Workers};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::fake_slack::{BOT_TOKEN, FakeSlack};

pub const SIGNING_SECRET: &str = "test-signing-secret";
pub const DECLARER: &str = "U0DECLARER";
const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A unique suffix for ids and database names within this test run.
pub fn unique() -> String {
    format!("{}{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database for one test; `None` when Postgres is absent
/// outside CI (in CI a missing Postgres fails the test).
pub async fn fresh_database(backend: Backend, dir: &tempfile::TempDir) -> Option<String> {
    match backend {
        Backend::Sqlite => Some(format!("sqlite://{}", dir.path().join("rebound.db").display())),
        Backend::Postgres => {
            use sqlx::Connection;
            let mut admin = match sqlx::PgConnection::connect(POSTGRES_ADMIN_URL).await {
                Ok(connection) => connection,
                Err(error) if std::env::var("CI").is_err() => {
                    eprintln!("skipping Postgres test: {error} (set CI=true to make this a failure)");
                    return None;
                }
                Err(error) => panic!("Postgres is required in CI but unreachable at {POSTGRES_ADMIN_URL}: {error}"),
            };
            let name = format!("rebound_test_{}", unique());
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .unwrap();
            Some(format!("postgres://postgres@127.0.0.1:5432/{name}"))
        }
    }
}

/// Settings for a test app talking to `fake`.
pub fn settings(database_url: &str, fake: &FakeSlack, extra: &[(&str, &str)]) -> Settings {
    let mut env: BTreeMap<String, String> = [
        ("SLACK_BOT_TOKEN", BOT_TOKEN.to_string()),
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_string()),
        ("SLACK_API_URL", fake.api_url()),
        ("SLACK_CLIENT_ID", crate::fake_slack::oidc::CLIENT_ID.to_string()),
        (
            "SLACK_CLIENT_SECRET",
            crate::fake_slack::oidc::CLIENT_SECRET.to_string(),
        ),
        ("DATABASE_URL", database_url.to_string()),
        ("REBOUND_ADDR", "127.0.0.1:0".to_string()),
        ("REBOUND_INTERNAL_ADDR", "127.0.0.1:0".to_string()),
        ("REBOUND_REPLICA", "test-replica".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    // An empty value unsets a variable, as in the process environment.
    env.retain(|_, value| !value.is_empty());
    Settings::load(&env).unwrap()
}

/// A running Rebound with its fake Slack and database.
pub struct TestApp {
    pub app: Option<Application>,
    /// The public listener (Slack, probes).
    pub base: String,
    /// The operators' listener (metrics, post-mortem pages).
    pub internal: String,
    pub fake: FakeSlack,
    pub database_url: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// Starts Rebound with a TOML configuration file (none when `toml` is empty).
pub async fn spawn_app_with_config(backend: Backend, toml: &str) -> Option<TestApp> {
    spawn(backend, Workers::default(), (!toml.is_empty()).then_some(toml), &[]).await
}

/// Starts Rebound with a TOML configuration and extra environment variables.
pub async fn spawn_app_with_config_and_env(backend: Backend, toml: &str, env: &[(&str, &str)]) -> Option<TestApp> {
    spawn(backend, Workers::default(), Some(toml), env).await
}

pub async fn spawn_app_with(backend: Backend, workers: Workers) -> Option<TestApp> {
    spawn(backend, workers, None, &[]).await
}

/// Starts Rebound with extra environment variables (an empty value unsets one).
pub async fn spawn_app_with_env(backend: Backend, env: &[(&str, &str)]) -> Option<TestApp> {
    spawn(backend, Workers::default(), None, env).await
}

async fn spawn(backend: Backend, workers: Workers, toml: Option<&str>, env: &[(&str, &str)]) -> Option<TestApp> {
    // Logs only show with RUST_LOG set, e.g. RUST_LOG=rebound=debug.
    if std::env::var("RUST_LOG").is_ok() {
        rebound::telemetry::init();
    }
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(backend, &dir).await?;
    let config = dir.path().join("rebound.toml");
    let mut extra = env.to_vec();
    if let Some(toml) = toml {
        std::fs::write(&config, toml).unwrap();
        extra.push(("REBOUND_CONFIG", config.to_str().unwrap()));
    }
    let fake = FakeSlack::start().await;
    let app = Application::start(settings(&database_url, &fake, &extra), workers)
        .await
        .unwrap();
    let (base, internal) = bases(&app);
    Some(TestApp {
        app: Some(app),
        base,
        internal,
        fake,
        database_url,
        // Rebound closes a keep-alive connection idle for 10 s (its header
        // timeout); a client must not reuse one that long, as proxies are told.
        http: reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(5))
            .build()
            .unwrap(),
        _dir: dir,
    })
}

fn bases(app: &Application) -> (String, String) {
    let internal = app.internal_addr().expect("tests run the internal listener");
    (format!("http://{}", app.addr()), format!("http://{internal}"))
}

impl TestApp {
    /// Writes `toml` next to the database and returns its path.
    pub fn _dir_config(&self, toml: &str) -> String {
        let path = self._dir.path().join("rebound.toml");
        std::fs::write(&path, toml).unwrap();
        path.to_str().unwrap().to_string()
    }

    /// Stops the app; nothing runs until the next restart.
    pub async fn stop(&mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await;
        }
    }

    /// Restarts with every worker and a configuration file.
    pub async fn restart_with_config(&mut self, toml: &str) {
        if let Some(app) = self.app.take() {
            app.stop().await;
        }
        let config = self._dir_config(toml);
        let settings = settings(&self.database_url, &self.fake, &[("REBOUND_CONFIG", config.as_str())]);
        let app = Application::start(settings, Workers::default()).await.unwrap();
        (self.base, self.internal) = bases(&app);
        self.app = Some(app);
    }

    /// Kills the app as `kill -9` would (nothing finished, claims left in the
    /// database) and starts it again on the same database and fake Slack.
    pub async fn crash_and_restart(&mut self) {
        if let Some(app) = self.app.take() {
            app.abandon();
        }
        let app = Application::start(settings(&self.database_url, &self.fake, &[]), Workers::default())
            .await
            .unwrap();
        (self.base, self.internal) = bases(&app);
        self.app = Some(app);
    }

    /// As [`Self::crash_and_restart`], starting again with a configuration file.
    pub async fn crash_and_restart_with_config(&mut self, toml: &str) {
        if let Some(app) = self.app.take() {
            app.abandon();
        }
        let config = self._dir_config(toml);
        let settings = settings(&self.database_url, &self.fake, &[("REBOUND_CONFIG", config.as_str())]);
        let app = Application::start(settings, Workers::default()).await.unwrap();
        (self.base, self.internal) = bases(&app);
        self.app = Some(app);
    }

    /// Stops this app and starts a new one on the same database and fake Slack.
    pub async fn restart(&mut self, workers: Workers) {
        if let Some(app) = self.app.take() {
            app.stop().await;
        }
        let app = Application::start(settings(&self.database_url, &self.fake, &[]), workers)
            .await
            .unwrap();
        (self.base, self.internal) = bases(&app);
        self.app = Some(app);
    }

    /// POSTs `body` signed as Slack would, now.
    pub async fn post_signed(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", content_type)
            .header("X-Slack-Request-Timestamp", &timestamp)
            .header("X-Slack-Signature", sign(SIGNING_SECRET, &timestamp, body));
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        request.body(body.to_string()).send().await.unwrap()
    }

    /// Runs `/incident <text>` as `user` in `channel`; returns the ephemeral reply.
    pub async fn command(&self, text: &str, user: &str, channel: &str) -> Value {
        let response = self
            .post_signed(
                "/slack/commands",
                FORM,
                &command_body(&self.fake, text, user, channel),
                &[],
            )
            .await;
        assert_eq!(response.status(), 200, "slash command should be acknowledged");
        response.json().await.unwrap()
    }

    /// Sends an Events API envelope; `retry` adds `X-Slack-Retry-Num`.
    pub async fn event(&self, envelope: &Value, retry: Option<u32>) -> reqwest::Response {
        let retry = retry.map(|n| n.to_string());
        let headers: Vec<(&str, &str)> = match &retry {
            Some(n) => vec![
                ("X-Slack-Retry-Num", n.as_str()),
                ("X-Slack-Retry-Reason", "http_timeout"),
            ],
            None => vec![],
        };
        self.post_signed("/slack/events", "application/json", &envelope.to_string(), &headers)
            .await
    }

    /// GET on the public listener.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    /// GET on the operators' listener.
    /// Runs the `rebound` binary with `args` against this app's database; its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_rebound"))
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env_remove("REBOUND_CONFIG")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }

    /// GET on the public listener as `user`, signed in. The session is made
    /// in the database directly; `web.rs` tests the real Sign in with Slack.
    pub async fn get_signed_in(&self, path: &str, user: &str) -> reqwest::Response {
        let token = format!("test-session-{user}");
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()));
        let store = rebound::store::connect(&self.database_url).await.unwrap();
        let now = chrono::Utc::now();
        if store.session(&hash, now).await.unwrap().is_none() {
            let session = rebound::store::web_sessions::WebSession {
                user_id: user.into(),
                team_id: "T0TEST".into(),
                name: user.into(),
                csrf: "test-csrf".into(),
                expires_at: now + chrono::Duration::hours(1),
            };
            store.create_session(&hash, &session, now).await.unwrap();
        }
        self.http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, format!("rebound_session={token}"))
            .send()
            .await
            .unwrap()
    }

    pub async fn get_internal(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.internal)).send().await.unwrap()
    }

    /// A metric's value from `/metrics`, e.g. `rebound_inbox_depth`.
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self.get_internal("/metrics").await.text().await.unwrap();
        text.lines()
            .find(|line| line.starts_with(name) && line[name.len()..].starts_with([' ', '{']))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("metric {name} missing from:\n{text}"))
    }

    /// Waits until the inbox is drained (everything acknowledged was processed).
    pub async fn wait_until_inbox_empty(&self) {
        self.wait_until_drained("rebound_inbox_depth").await;
    }

    /// Waits until every Slack call recorded so far was sent (or given up).
    pub async fn wait_until_outbox_empty(&self) {
        self.wait_until_drained("rebound_outbox_depth").await;
    }

    async fn wait_until_drained(&self, gauge: &str) {
        for _ in 0..750 {
            if self.metric(gauge).await == 0.0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{gauge} never reached 0");
    }
}

pub const FORM: &str = "application/x-www-form-urlencoded";

/// Declares an incident with `/incident <text>` and returns its channel id
/// once the declarer has their receipt.
pub async fn declared_channel(app: &TestApp, text: &str) -> String {
    app.command(text, DECLARER, "CGENERAL").await;
    app.fake
        .wait_for("declaration receipt", |f| !f.calls("response_url").is_empty())
        .await;
    let name = app.fake.calls("conversations.create")[0].args["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.fake.channels().into_iter().find(|c| c.name == name).unwrap().id
}

/// A slash-command form body with every field Slack sends.
pub fn command_body(fake: &FakeSlack, text: &str, user: &str, channel: &str) -> String {
    let id = unique();
    let response_url = fake.response_url(&id);
    let trigger_id = format!("{id}.1.abc");
    serde_urlencoded::to_string([
        ("token", "deprecated-verification-token"),
        ("team_id", "T1"),
        ("team_domain", "test"),
        ("channel_id", channel),
        ("channel_name", "general"),
        ("user_id", user),
        ("user_name", "someone"),
        ("command", "/incident"),
        ("text", text),
        ("api_app_id", "A1"),
        ("is_enterprise_install", "false"),
        ("response_url", response_url.as_str()),
        ("trigger_id", trigger_id.as_str()),
    ])
    .unwrap()
}

/// `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`, as Slack computes it.
pub fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// Runs `/incident <text>` as the declarer in `channel`, checks it was taken
/// (the reply names the incident) and waits until it is applied, so the
/// next command is checked against the state this one leaves.
pub async fn say(app: &TestApp, text: &str, channel: &str) {
    let reply = app.command(text, DECLARER, channel).await;
    assert!(
        reply["text"].as_str().unwrap_or_default().contains("INC-"),
        "/incident {text} → {reply}"
    );
    app.wait_until_inbox_empty().await;
}

/// Serves a vendor fake's `app` on a free loopback port; its origin (`http://127.0.0.1:<port>`).
pub async fn serve_on_loopback(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    origin
}

/// Waits for the first incident card (the post that opens with a header) and returns it.
pub async fn the_card(app: &TestApp) -> crate::fake_slack::RecordedCall {
    let is_card = |c: &crate::fake_slack::RecordedCall| c.args["blocks"][0]["type"] == "header";
    app.fake
        .wait_for("the incident card", |f| f.calls("chat.postMessage").iter().any(is_card))
        .await;
    app.fake.calls("chat.postMessage").into_iter().find(is_card).unwrap()
}

/// A `view_submission` by the declarer of `view` with `values` as its state, form-encoded as Slack sends it.
pub fn submission(view: &Value, values: Value, trigger: &str) -> String {
    let mut view = view.clone();
    view["id"] = json!("V1");
    view["state"] = json!({ "values": values });
    let payload = json!({
        "type": "view_submission", "team": { "id": "T1", "domain": "test" },
        "user": { "id": DECLARER, "username": "decl", "name": "decl", "team_id": "T1" },
        "api_app_id": "A1", "token": "x", "trigger_id": trigger, "view": view
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap()
}

/// A `plain_text_input` value in a view's state.
pub fn text_value(value: &str) -> Value {
    json!({ "value": { "type": "plain_text_input", "value": value } })
}

/// The view of the first successful `views.open` with this `callback_id`.
pub async fn opened_view(app: &TestApp, callback_id: &str) -> Value {
    app.fake
        .wait_for("views.open", |f| {
            f.calls("views.open")
                .iter()
                .any(|c| c.ok() && c.args["view"]["callback_id"] == callback_id)
        })
        .await;
    let call = app
        .fake
        .calls("views.open")
        .into_iter()
        .find(|c| c.args["view"]["callback_id"] == callback_id)
        .unwrap();
    call.args["view"].clone()
}

/// A `block_actions` payload for one control on a message, form-encoded as Slack sends it.
pub fn block_actions(user: &str, channel: &str, message_ts: &str, trigger: &str, action: Value) -> String {
    let payload = json!({
        "type": "block_actions", "trigger_id": trigger, "api_app_id": "A1", "token": "x",
        "team": { "id": "T1", "domain": "test" }, "user": { "id": user, "username": "someone", "name": "someone", "team_id": "T1" },
        "channel": { "id": channel, "name": "somewhere" },
        "container": { "type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": false },
        "message": { "type": "message", "ts": message_ts, "text": "" },
        "response_url": "http://127.0.0.1:9/unused",
        "state": { "values": {} },
        "actions": [action]
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap()
}

/// A button click on a message.
pub fn click(user: &str, channel: &str, message_ts: &str, action_id: &str, trigger: &str) -> String {
    let action = json!({
        "type": "button", "action_id": action_id, "block_id": "b", "action_ts": "1.1", "text": { "type": "plain_text", "text": "x" }
    });
    block_actions(user, channel, message_ts, trigger, action)
}

/// One value from the app's database, for checks the store has no method for.
pub async fn scalar<T>(app: &TestApp, sql: &str) -> T
where
    T: Send + Unpin,
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    scalar_at(&app.database_url, sql).await
}

/// One value from the database at `url`.
pub async fn scalar_at<T>(url: &str, sql: &str) -> T
where
    T: Send + Unpin,
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    if url.starts_with("postgres") {
        let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut connection).await.unwrap()
    } else {
        let mut connection = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut connection).await.unwrap()
    }
}

/// Runs one statement on the database at `url`.
pub async fn execute_at(url: &str, sql: &str) {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    if url.starts_with("postgres") {
        let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut connection).await.unwrap();
    } else {
        let mut connection = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut connection).await.unwrap();
    }
}

/// The texts of the successful `chat.postMessage` calls to `channel`.
pub fn posts_to(app: &TestApp, channel: &str) -> Vec<String> {
    app.fake
        .calls("chat.postMessage")
        .into_iter()
        .filter(|c| c.ok() && c.args["channel"] == channel)
        .map(|c| c.args["text"].as_str().unwrap_or_default().to_string())
        .collect()
}
