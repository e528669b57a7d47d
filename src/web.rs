//! Operational routes: `/healthz`, `/readyz`, `/metrics`.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::domain::recurrence;
use crate::startup::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// 200 while the process is up.
async fn healthz() -> &'static str {
    "ok\n"
}

/// 200 when the database answers and is fully migrated, else 503.
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store.check_ready().await {
        Ok(true) => (StatusCode::OK, "ready\n"),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "database not migrated\n"),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n")
        }
    }
}

/// Prometheus text format; queue depths are read from the database at scrape time.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.depths().await {
        Ok(depths) => {
            state.metrics.inbox_depth.set(depths.inbox_pending);
            state.metrics.outbox_depth.set(depths.outbox_pending);
            state.metrics.timers_pending.set(depths.timers_pending);
        }
        Err(error) => tracing::warn!(%error, "could not read queue depths for /metrics"),
    }
    let year_ago = chrono::Utc::now() - chrono::Duration::days(366);
    match state.store.ticket_recurrence_since(year_ago).await {
        Ok(captures) => state.metrics.set_failure_months(&recurrence::by_month(&captures)),
        Err(error) => tracing::warn!(%error, "could not read failure recurrence for /metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
