//! Keeps the background workers alive and says which are.
//!
//! Each item a worker handles is already isolated (`catch_unwind` around
//! every inbox item, Slack call and timer), so a worker should never stop.
//! If one does anyway (a panic between items, a bug in a loop), the
//! supervisor marks it dead, so `/readyz` answers 503 and a load balancer or
//! Kubernetes notices, and restarts it after a back-off (1 s doubling to
//! 30 s). Work is in the database, so a restarted worker picks up where the
//! dead one stopped.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::metrics::{Metrics, WorkerLabels};

/// Which workers are running now.
#[derive(Debug, Default)]
pub struct Health {
    alive: Mutex<BTreeMap<&'static str, bool>>,
}

impl Health {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    fn set(&self, worker: &'static str, alive: bool) {
        self.alive
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(worker, alive);
    }

    /// The workers that are not running (empty when all are).
    pub fn dead(&self) -> Vec<&'static str> {
        let alive = self.alive.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        alive.iter().filter(|(_, up)| !**up).map(|(name, _)| *name).collect()
    }
}

/// First wait before a restart; doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Runs the worker made by `start` until `shutdown`, restarting it whenever
/// it ends or panics before then.
pub async fn supervise<F, W>(
    name: &'static str,
    health: Arc<Health>,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
    start: F,
) where
    F: Fn() -> W,
    W: Future<Output = ()> + Send + 'static,
{
    let mut backoff = FIRST_BACKOFF;
    loop {
        health.set(name, true);
        let ended = tokio::spawn(start()).await;
        // A dropped sender means the app is gone: that is a shutdown too.
        if *shutdown.borrow() || shutdown.has_changed().is_err() {
            return;
        }
        health.set(name, false);
        metrics
            .worker_restarts
            .get_or_create(&WorkerLabels { worker: name.into() })
            .inc();
        match ended {
            Err(error) if error.is_panic() => tracing::error!(worker = name, ?backoff, "worker panicked; restarting"),
            _ => tracing::error!(worker = name, ?backoff, "worker stopped unexpectedly; restarting"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn a_worker_that_panics_is_reported_dead_then_restarted() {
        let health = Health::new();
        let (stop, shutdown) = watch::channel(false);
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = starts.clone();
        let supervisor = tokio::spawn(supervise(
            "dispatcher",
            health.clone(),
            Metrics::new(),
            shutdown,
            move || {
                let attempt = counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    if attempt == 0 {
                        panic!("poison");
                    }
                    std::future::pending::<()>().await;
                }
            },
        ));
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(health.dead(), vec!["dispatcher"], "readiness must show the dead worker");
        tokio::time::sleep(FIRST_BACKOFF + Duration::from_millis(10)).await;
        assert!(health.dead().is_empty(), "the worker must be running again");
        assert_eq!(starts.load(Ordering::SeqCst), 2);
        stop.send(true).unwrap();
        supervisor.abort();
    }
}
