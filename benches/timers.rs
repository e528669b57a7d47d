//! Timer benchmark: how fast due timers fire, and whether the per-fire cost
//! stays flat as the number of pending (not yet due) timers grows.
//!
//! For each size N in `BENCH_PENDING` (default 1000,100000,1000000) it builds
//! a fresh SQLite database with N pending timers due in a day and M
//! (`BENCH_DUE`, default 5000) severity-prompt timers due now, then runs the
//! real scheduler until every due timer has fired. Printed: fires per second,
//! the per-fire cost, how long the burst took to drain (the worst lateness),
//! and the p99 bucket of the scheduler's own lateness histogram.
//!
//! `cargo bench --bench timers`

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use rebound::config::Settings;
use rebound::domain::IncidentDraft;
use rebound::domain::timers::{TimerChange, TimerKind};
use rebound::metrics::Metrics;
use rebound::scheduler::Scheduler;
use rebound::store::{self, Store};
use tokio::sync::{Notify, watch};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = env_or("BENCH_PENDING", "1000,100000,1000000")
        .split(',')
        .map(|n| n.trim().parse().unwrap())
        .collect();
    let due: usize = env_or("BENCH_DUE", "5000").parse().unwrap();
    println!("timer firing on SQLite: {due} timers due at once, with N more pending");
    println!(
        "{:>10} {:>10} {:>12} {:>14} {:>20}",
        "pending N", "fires/s", "µs per fire", "burst drained", "lateness p99 bucket"
    );
    for pending in sizes {
        let (rate, per_fire, drained, p99) = run(pending, due).await;
        println!(
            "{pending:>10} {rate:>10.0} {per_fire:>12.0} {:>12.0}ms {:>17}ms",
            drained * 1000.0,
            format!("≤{:.0}", p99 * 1000.0)
        );
    }
}

async fn run(pending: usize, due: usize) -> (f64, f64, f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("timers.db").display());
    let store = store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let now = Utc::now();
    let mut uow = store.begin().await.unwrap();
    let mut incidents = Vec::with_capacity(due);
    for i in 0..due {
        let incident = uow
            .insert_incident(&IncidentDraft::declare(&format!("bench {i}"), None, false, "U1", now))
            .await
            .unwrap();
        incidents.push(incident.id);
    }
    let later = now + chrono::Duration::days(1);
    for subject in 0..pending {
        let reminder = TimerChange::Schedule {
            kind: TimerKind::ActionReminder,
            subject: subject as i64 + 1,
            due_at: later,
            every: Duration::from_secs(86400),
        };
        uow.apply_timer(incidents[0], &reminder, now).await.unwrap();
    }
    uow.commit().await.unwrap();
    // The burst is due the moment the scheduler starts, so lateness is firing time only.
    let due_at = Utc::now();
    let mut uow = store.begin().await.unwrap();
    for id in &incidents {
        let prompt = TimerChange::Schedule {
            kind: TimerKind::SeverityPrompt,
            subject: 0,
            due_at,
            every: Duration::from_secs(3600),
        };
        uow.apply_timer(*id, &prompt, due_at).await.unwrap();
    }
    uow.commit().await.unwrap();

    let metrics = Metrics::new();
    let settings = Arc::new(Settings::load(&std::collections::BTreeMap::new()).unwrap());
    let scheduler = Scheduler {
        store: store.clone(),
        settings: settings.clone(),
        digest: settings.file.digest_schedule().unwrap(),
        metrics: metrics.clone(),
        timers_changed: Arc::new(Notify::new()),
        outbox_ready: Arc::new(Notify::new()),
    };
    let (stop, stopped) = watch::channel(false);
    let started = Instant::now();
    let task = tokio::spawn(std::sync::Arc::new(scheduler).run(stopped));
    while !all_fired(store.as_ref(), due).await {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = stop.send(true);
    let _ = task.await;
    let (_, p99) = lateness_percentiles(&metrics.render());
    (due as f64 / elapsed, elapsed * 1e6 / due as f64, elapsed, p99)
}

async fn all_fired(store: &Store, due: usize) -> bool {
    // Fired prompts move an hour ahead; none is due any more.
    matches!(store.next_timer_due().await, Ok(Some(next)) if next > Utc::now() + chrono::Duration::minutes(30))
        || due == 0
}

/// Percentiles from the Prometheus histogram buckets (upper bounds).
fn lateness_percentiles(text: &str) -> (f64, f64) {
    let buckets: Vec<(f64, f64)> = text
        .lines()
        .filter(|l| l.starts_with("rebound_timer_lateness_seconds_bucket"))
        .filter_map(|l| {
            let le = l.split("le=\"").nth(1)?.split('"').next()?;
            let count = l.rsplit(' ').next()?.parse().ok()?;
            Some((if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? }, count))
        })
        .collect();
    let total = buckets.last().map(|b| b.1).unwrap_or(0.0);
    let at = |q: f64| {
        buckets
            .iter()
            .find(|(_, c)| *c >= q * total)
            .map(|(le, _)| *le)
            .unwrap_or(f64::NAN)
    };
    (at(0.5), at(0.99))
}
