//! Wiring: builds the router and the background workers for one running
//! Rebound, on a listener the caller chooses (port 0 in tests), and stops
//! them gracefully.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use secrecy::ExposeSecret;
use slack_morphism::prelude::SlackSigningSecret;
use slack_morphism::signature_verifier::SlackEventSignatureVerifier;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::background::BackgroundRuntime;
use crate::config::Settings;
use crate::dispatcher::Dispatcher;
use crate::inbox::InboxWriter;
use crate::metrics::{AckLabels, Metrics, RouteLabels};
use crate::outbox::OutboxWorker;
use crate::scheduler::Scheduler;
use crate::slack::SlackApi;
use crate::store::{self, Store};
use crate::supervisor::{self, Health};
use crate::{ingress, web};

/// What every HTTP handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    /// The web routes' own connections (`/metrics`, post-mortem pages), so a
    /// burst of page loads or scrapes never waits in line with inbox writes.
    pub web_store: Arc<Store>,
    pub settings: Arc<Settings>,
    pub inbox: InboxWriter,
    pub metrics: Arc<Metrics>,
    pub verifier: SlackEventSignatureVerifier,
    /// Amazon SNS signatures (certificates fetched and cached).
    pub sns: Arc<crate::intake::sns::SnsVerifier>,
    /// The public status page's current snapshot.
    pub status_cache: Arc<web::status::StatusCache>,
    /// The metrics page's trends, computed at most once a minute.
    pub trends_cache: Arc<web::metrics_page::TrendsCache>,
    /// Sign in with Slack, when configured.
    pub sign_in: Option<Arc<web::oidc::SignIn>>,
    /// Which background workers run; `/readyz` is 503 while one is down.
    pub health: Arc<Health>,
}

/// Which background workers to run. Tests turn them off to simulate a
/// process that stopped right after acknowledging.
#[derive(Debug, Clone, Copy)]
pub struct Workers {
    pub dispatcher: bool,
    pub outbox: bool,
}

impl Default for Workers {
    fn default() -> Self {
        Self {
            dispatcher: true,
            outbox: true,
        }
    }
}

/// A running Rebound: HTTP servers plus workers.
pub struct Application {
    addr: SocketAddr,
    internal_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
    /// Owns the workers' runtime; dropping it stops them.
    _background: BackgroundRuntime,
}

impl Application {
    /// Connects to the database, migrates it, binds `settings.addr` and starts everything.
    pub async fn start(settings: Settings, workers: Workers) -> anyhow::Result<Self> {
        settings.require_for_serve()?;
        for source in settings.file.intake.sources.iter() {
            if let Some(origin) = &source.insecure_test_origin {
                tracing::warn!(source = %source.name, %origin, "SNS certificates are trusted from a test origin: for tests only");
            }
        }
        let store = store::connect(settings.database_url.expose_secret())
            .await
            .context("opening the database")?;
        if settings.migrate_on_start {
            store.migrate().await.context("applying migrations")?;
        } else {
            store.require_current_schema().await?;
        }
        let released = store
            .release_claims(&settings.replica)
            .await
            .context("releasing earlier claims")?;
        if released > 0 {
            tracing::info!(calls = released, replica = %settings.replica, "took back the Slack calls a previous run left claimed");
        }
        crate::outbox::channels::learn_unknown(store.as_ref())
            .await
            .context("asking Slack about channels captured in before privacy was recorded")?;
        let web_store = store::connect(settings.database_url.expose_secret())
            .await
            .context("opening the database for the web routes")?;
        let listener = bind(settings.addr).await?;
        let internal = match settings.internal_addr {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        Self::start_on(settings, [store, web_store], listener, internal, workers)
    }

    fn start_on(
        settings: Settings,
        [store, web_store]: [Arc<Store>; 2],
        listener: TcpListener,
        internal: Option<TcpListener>,
        workers: Workers,
    ) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        let internal_addr = internal.as_ref().map(TcpListener::local_addr).transpose()?;
        let settings = Arc::new(settings);
        let metrics = Metrics::new();
        let (shutdown, shutdown_rx) = watch::channel(false);
        let inbox_stored = Arc::new(Notify::new());
        let outbox_ready = Arc::new(Notify::new());
        let timers_changed = Arc::new(Notify::new());
        let (inbox, inbox_task) = InboxWriter::start(store.clone(), inbox_stored.clone());
        let verifier = match settings.signing_secret.as_ref() {
            Some(secret) => SlackEventSignatureVerifier::new(&SlackSigningSecret::new(secret.expose_secret().into())),
            // Socket Mode without a signing secret: the HTTP Slack routes
            // refuse everything, since no request can carry a valid signature.
            None if settings.socket_mode => {
                let unguessable: [u8; 32] = rand::random();
                SlackEventSignatureVerifier::new(&SlackSigningSecret::new(hex::encode(unguessable)))
            }
            None => anyhow::bail!("SLACK_SIGNING_SECRET is required"),
        };
        let health = Health::new();
        let state = AppState {
            store: store.clone(),
            web_store,
            settings: settings.clone(),
            inbox,
            metrics: metrics.clone(),
            verifier,
            sns: Arc::default(),
            status_cache: Arc::default(),
            trends_cache: Arc::default(),
            sign_in: web::oidc::SignIn::from_settings(&settings).map(Arc::new),
            health: health.clone(),
        };

        let background = BackgroundRuntime::new().context("starting the background runtime")?;
        let mut tasks = vec![inbox_task];
        // Every worker runs under the supervisor: restarted if it ever stops.
        let watch = Supervision {
            health: health.clone(),
            metrics: metrics.clone(),
            shutdown: shutdown_rx.clone(),
        };
        if workers.dispatcher {
            let dispatcher = Arc::new(Dispatcher {
                store: store.clone(),
                settings: settings.clone(),
                metrics: metrics.clone(),
                inbox_stored,
                outbox_ready: outbox_ready.clone(),
                timers_changed: timers_changed.clone(),
            });
            let stop = shutdown_rx.clone();
            tasks.push(background.spawn(watch.run("dispatcher", move || dispatcher.clone().run(stop.clone()))));
        }
        if workers.outbox {
            let token = settings.bot_token.as_ref().context("SLACK_BOT_TOKEN is required")?;
            let slack = SlackApi::new(&settings.slack_api_url, token);
            let worker = OutboxWorker::new(
                store.clone(),
                slack,
                settings.clone(),
                metrics.clone(),
                outbox_ready.clone(),
            );
            let stop = shutdown_rx.clone();
            tasks.push(background.spawn(watch.run("outbox", move || worker.clone().run(stop.clone()))));
        }
        let (groups_store, permissions, ready, stop) = (
            store.clone(),
            settings.file.permissions.clone(),
            outbox_ready.clone(),
            shutdown_rx.clone(),
        );
        tasks.push(background.spawn(watch.run("admin_groups", move || {
            crate::outbox::usergroups::run(groups_store.clone(), permissions.clone(), ready.clone(), stop.clone())
        })));
        let digest = settings.file.digest_schedule()?;
        let scheduler = Arc::new(Scheduler {
            store: store.clone(),
            settings: settings.clone(),
            digest,
            metrics: metrics.clone(),
            timers_changed: timers_changed.clone(),
            outbox_ready: outbox_ready.clone(),
        });
        let stop = shutdown_rx.clone();
        tasks.push(background.spawn(watch.run("scheduler", move || scheduler.clone().run(stop.clone()))));
        let (housekeeping_store, keep_delivered, stop) = (
            store.clone(),
            settings.file.retention.keep_delivered,
            shutdown_rx.clone(),
        );
        tasks.push(background.spawn(watch.run("housekeeping", move || {
            crate::housekeeping::run_housekeeping(housekeeping_store.clone(), keep_delivered, stop.clone())
        })));
        if state.sign_in.is_some() {
            // Only a signed-in dashboard shows the trends, so only then are they kept.
            let (cache, store, settings, stop) = (
                state.trends_cache.clone(),
                state.web_store.clone(),
                settings.clone(),
                shutdown_rx.clone(),
            );
            tasks.push(background.spawn(watch.run("dashboard_trends", move || {
                web::metrics_page::keep_trends_fresh(cache.clone(), store.clone(), settings.clone(), stop.clone())
            })));
        }

        if settings.socket_mode {
            let (token, app_token) = (
                settings.bot_token.as_ref().context("SLACK_BOT_TOKEN is required")?,
                settings.app_token.clone().context("SLACK_APP_TOKEN is required")?,
            );
            let slack = SlackApi::new(&settings.slack_api_url, token);
            let (state, shutdown) = (state.clone(), shutdown_rx.clone());
            // Acknowledging is ingress work: it runs with the HTTP server, not the workers.
            tasks.push(tokio::spawn(async move {
                crate::ingress::socket_mode::run(state, slack, &app_token, shutdown).await;
            }));
        }
        let mut servers = vec![serve(listener, public_router(state.clone()), shutdown_rx.clone())];
        tracing::info!("listening on {addr}");
        if let Some(internal) = internal {
            servers.push(serve(internal, internal_router(state), shutdown_rx));
            tracing::info!("internal listener (metrics) on {}", internal_addr.unwrap_or(addr));
        }
        Ok(Self {
            addr,
            internal_addr,
            shutdown,
            tasks,
            servers,
            _background: background,
        })
    }

    /// The public listener's address (Slack, probes).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The operators' listener's address, unless it is `off`.
    pub fn internal_addr(&self) -> Option<SocketAddr> {
        self.internal_addr
    }

    /// Stops accepting requests, finishes in-flight ones, and stops workers.
    /// Unfinished work stays in the database for the next start.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for server in self.servers {
            if let Err(error) = server
                .await
                .map_err(anyhow::Error::from)
                .and_then(|r| r.map_err(anyhow::Error::from))
            {
                tracing::error!(%error, "HTTP server stopped with an error");
            }
        }
        for task in self.tasks {
            // The inbox writer ends once the router (holding its sender) is gone.
            let _ = task.await;
        }
    }

    /// Stops at once, finishing nothing, as a killed process would: what
    /// was claimed stays claimed in the database (for crash tests and chaos
    /// runs; [`Application::stop`] is the graceful way).
    pub fn abandon(self) {
        let _ = self.shutdown.send(true);
        for server in &self.servers {
            server.abort();
        }
        for task in &self.tasks {
            task.abort();
        }
        // Dropping the background runtime cancels every worker at its next await.
    }

    /// Runs until SIGINT or SIGTERM, then stops gracefully.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.stop().await;
        Ok(())
    }
}

/// What the supervisor of every worker shares.
struct Supervision {
    health: Arc<Health>,
    metrics: Arc<Metrics>,
    shutdown: watch::Receiver<bool>,
}

impl Supervision {
    fn run<F, W>(&self, name: &'static str, start: F) -> impl std::future::Future<Output = ()> + Send + 'static
    where
        F: Fn() -> W + Send + 'static,
        W: std::future::Future<Output = ()> + Send + 'static,
    {
        supervisor::supervise(
            name,
            self.health.clone(),
            self.metrics.clone(),
            self.shutdown.clone(),
            start,
        )
    }
}

async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))
}

fn serve(listener: TcpListener, app: Router, shutdown: watch::Receiver<bool>) -> JoinHandle<std::io::Result<()>> {
    tokio::spawn(crate::http_server::serve(listener, app, shutdown))
}

/// What the internet reaches: Slack's routes and the probes.
pub fn public_router(state: AppState) -> Router {
    Router::new()
        .merge(ingress::router())
        .merge(crate::intake::router())
        .merge(web::public_routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), track_requests))
        .with_state(state)
}

/// What operators reach: metrics and the post-mortem pages.
pub fn internal_router(state: AppState) -> Router {
    Router::new()
        .merge(web::internal_routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), track_requests))
        .with_state(state)
}

/// Counts requests by route and status and records Slack ack latency.
async fn track_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    if route.starts_with("/slack/") {
        state
            .metrics
            .ack_seconds
            .get_or_create(&AckLabels { route: route.clone() })
            .observe(started.elapsed().as_secs_f64());
    }
    state
        .metrics
        .requests
        .get_or_create(&RouteLabels { route, status })
        .inc();
    response
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
