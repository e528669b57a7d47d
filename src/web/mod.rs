//! The web: operational routes (`/healthz`, `/readyz`, `/metrics`), the
//! signed-in dashboard (`session.rs`: Sign in with Slack and sessions,
//! `oidc.rs`: the OpenID Connect client, `pages.rs`: the pages), the
//! post-mortem drafts (`/incidents/{id}/postmortem` as HTML, `…/postmortem.md`
//! as Markdown, both signed in) and the public status page (`status/`).
//!
//! Two listeners: [`public_routes`] is what the internet reaches: the probes,
//! the status page and the dashboard, where nothing else is readable without
//! a session; [`internal_routes`] (`REBOUND_INTERNAL_ADDR`, loopback by
//! default) has `/metrics` for the operators' scraper.

mod failures_page;
mod incident_page;
pub mod metrics_page;
pub mod oidc;
pub mod pages;
pub mod session;
pub mod status;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::domain::recurrence;
use crate::startup::AppState;
use crate::{reports, views};

/// What the internet reaches: the probes, sign-in, the pages and the status page.
pub fn public_routes() -> Router<AppState> {
    probes()
        .merge(session::routes())
        .merge(pages::routes())
        .merge(status::routes())
        .route("/incidents/{id}/postmortem", get(signed_in_postmortem_html))
        .route("/incidents/{id}/postmortem.md", get(signed_in_postmortem_markdown))
}

fn probes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// What only operators may read: the probes and `/metrics`.
pub fn internal_routes() -> Router<AppState> {
    probes().route("/metrics", get(metrics))
}

/// The page runs no script and loads nothing but its own inline style and
/// the images its links allow; browsers must not guess another content type.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; \
                           base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The draft of an incident `visible` allows, or the reason there is none.
async fn postmortem(
    state: &AppState,
    id: &str,
    visible: impl Fn(&crate::domain::Incident) -> bool,
) -> Result<(String, String), (StatusCode, String)> {
    // Private incidents answer exactly like missing ones, so nobody can
    // learn which ids exist.
    let not_found = || (StatusCode::NOT_FOUND, "There is no such incident.\n".to_string());
    let id: i64 = id.trim_start_matches("INC-").parse().map_err(|_| not_found())?;
    let store = state.web_store.as_ref();
    let unavailable = |error: crate::store::StoreError| {
        tracing::warn!(%error, "could not read a post-mortem");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "The database is unavailable; try again.\n".to_string(),
        )
    };
    let incident = store.incident(id).await.map_err(unavailable)?.ok_or_else(not_found)?;
    if !visible(&incident) {
        return Err(not_found());
    }
    let markdown = reports::postmortem_markdown(store, &state.settings.file, id, chrono::Utc::now())
        .await
        .map_err(unavailable)?
        .ok_or_else(not_found)?;
    Ok((
        format!("Post-mortem: {} {}", incident.reference(), incident.title),
        markdown,
    ))
}

/// A draft for the signed-in: private incidents only for their channel's members.
async fn signed_in_postmortem(
    state: &AppState,
    signed_in: &session::SignedIn,
    id: &str,
) -> Result<(String, String), (StatusCode, String)> {
    let member_of = state
        .web_store
        .private_channels_of(&signed_in.session.user_id)
        .await
        .map_err(|_| {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The database is unavailable; try again.\n".to_string(),
            )
        })?;
    let reader = pages::reader_for(&member_of);
    postmortem(state, id, |incident| incident.visible_to(&reader)).await
}

async fn signed_in_postmortem_html(
    State(state): State<AppState>,
    signed_in: session::SignedIn,
    Path(id): Path<String>,
) -> Response {
    html_response(signed_in_postmortem(&state, &signed_in, &id).await)
}

async fn signed_in_postmortem_markdown(
    State(state): State<AppState>,
    signed_in: session::SignedIn,
    Path(id): Path<String>,
) -> Response {
    markdown_response(signed_in_postmortem(&state, &signed_in, &id).await)
}

fn markdown_response(draft: Result<(String, String), (StatusCode, String)>) -> Response {
    match draft {
        Ok((_, markdown)) => (
            [
                (header::CONTENT_TYPE, "text/markdown; charset=utf-8"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            markdown,
        )
            .into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

fn html_response(draft: Result<(String, String), (StatusCode, String)>) -> Response {
    match draft {
        Ok((title, markdown)) => (
            [
                (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            Html(views::markdown::html(&title, &markdown)),
        )
            .into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// 200 while the process is up.
async fn healthz() -> &'static str {
    "ok\n"
}

/// 200 when the database answers and is fully migrated and every worker
/// runs, else 503.
async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    let dead = state.health.dead();
    if !dead.is_empty() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("worker not running: {}\n", dead.join(", ")),
        );
    }
    match state.web_store.check_ready().await {
        Ok(true) => (StatusCode::OK, "ready\n".into()),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "database not migrated\n".into()),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n".into())
        }
    }
}

/// Longest the incident and failure aggregates on `/metrics` are reused
/// while nothing changes.
const AGGREGATES_FOR: std::time::Duration = std::time::Duration::from_secs(30);

async fn refresh_aggregates(state: &AppState) {
    let year_ago = crate::domain::clock::earlier(chrono::Utc::now(), std::time::Duration::from_secs(366 * 86_400));
    match state.web_store.ticket_recurrence_since(year_ago).await {
        Ok(captures) => state.metrics.set_failure_months(&recurrence::by_month(&captures)),
        Err(error) => tracing::warn!(%error, "could not read failure recurrence for /metrics"),
    }
    match reports::metric_figures(state.web_store.as_ref(), &state.settings.file, chrono::Utc::now()).await {
        Ok(figures) => state.metrics.set_incident_aggregates(&figures),
        Err(error) => tracing::warn!(%error, "could not read incident aggregates for /metrics"),
    }
}

/// Prometheus text format; queue depths are read from the database at scrape time.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    match state.web_store.depths().await {
        Ok(depths) => {
            state.metrics.inbox_depth.set(depths.inbox_pending);
            state.metrics.outbox_depth.set(depths.outbox_pending);
            state.metrics.timers_pending.set(depths.timers_pending);
        }
        Err(error) => tracing::warn!(%error, "could not read queue depths for /metrics"),
    }
    // The aggregates read whole histories: recomputed only after a change
    // (or every 30 s), so a scraper hammering the port cannot keep the
    // database busy. Queue depths above stay live.
    if state.metrics.aggregates_stale(AGGREGATES_FOR) {
        refresh_aggregates(&state).await;
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
