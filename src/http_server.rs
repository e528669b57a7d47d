//! The HTTP server loop, hardened against slow and hostile clients.
//!
//! `axum::serve` waits forever for a client to finish its headers and
//! accepts every connection, so a few thousand idle sockets (or one client
//! trickling a byte a minute) could keep Slack's acknowledgements waiting.
//! Here every connection must send its headers within
//! [`HEADER_READ_TIMEOUT`] (hyper starts that clock while a keep-alive
//! connection waits for its next request too, so idle connections close
//! after it: proxies must keep theirs idle for less) and its body within
//! [`BODY_READ_TIMEOUT`];
//! at most [`MAX_CONNECTIONS`] are open at once (more are closed at accept)
//! and at most [`MAX_IN_FLIGHT`] requests are handled at once (more get 503,
//! which Slack retries). Shutdown stops accepting, lets in-flight requests
//! finish and gives up on idle connections.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceBuilder;

/// A client must have sent its request headers within this time.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// …and its body within this time.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Open connections per listener; more are closed at once.
pub const MAX_CONNECTIONS: usize = 1024;
/// Requests handled at once per listener; more get 503.
pub const MAX_IN_FLIGHT: usize = 512;
/// How long shutdown waits for in-flight requests.
const DRAIN: Duration = Duration::from_secs(10);

/// The router with the request limits around it.
pub fn limited(app: Router) -> Router {
    app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(BODY_READ_TIMEOUT))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
                    (StatusCode::SERVICE_UNAVAILABLE, "busy, please retry\n").into_response()
                }))
                .load_shed()
                .concurrency_limit(MAX_IN_FLIGHT),
        )
}

/// Serves `app` on `listener` until `shutdown` turns true.
pub async fn serve(listener: TcpListener, app: Router, mut shutdown: watch::Receiver<bool>) -> std::io::Result<()> {
    let app = limited(app);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait a moment, go on.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "too many open connections; closing a new one");
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("some connections were still open at shutdown; closed");
    }
    Ok(())
}
