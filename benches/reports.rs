//! Reports benchmark: how long the post-mortem draft, `/incident stats` and
//! the `/metrics` incident aggregates take as the number of incidents grows.
//!
//! For each N in `BENCH_INCIDENTS` (default 100,1000,10000) it builds a fresh
//! database (SQLite, or Postgres with `BENCH_DATABASE=postgres`) holding N
//! resolved incidents declared over the last 8 weeks, each with a realistic
//! record (12 timeline entries, 2 severities, 3 customer-update gaps), then
//! times each report (median of `BENCH_REPEAT`, default 5, runs).
//!
//! `cargo bench --bench reports`

use std::time::{Duration, Instant};

use chrono::Utc;
use rebound::config::Settings;
use rebound::domain::comms::CommsGap;
use rebound::domain::{IncidentDraft, Severity, Status};
use rebound::reports;
use rebound::store::{self, Store, TimelineEntry};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = env_or("BENCH_INCIDENTS", "100,1000,10000")
        .split(',')
        .map(|n| n.trim().parse().unwrap())
        .collect();
    let repeat: usize = env_or("BENCH_REPEAT", "5").parse().unwrap();
    let backend = env_or("BENCH_DATABASE", "sqlite");
    println!("reports on {backend}: median of {repeat} runs");
    println!(
        "{:>10} {:>16} {:>16} {:>18}",
        "incidents", "post-mortem ms", "stats 30d ms", "/metrics figures ms"
    );
    for size in sizes {
        let dir = tempfile::tempdir().unwrap();
        let store = fresh_store(&backend, &dir, size).await;
        seed(store.as_ref(), size).await;
        let settings = Settings::load(&std::collections::BTreeMap::new()).unwrap().file;
        let now = Utc::now();
        let postmortem = median(repeat, || async {
            reports::postmortem_markdown(store.as_ref(), &settings, size as i64 / 2 + 1, now)
                .await
                .unwrap()
                .unwrap();
        })
        .await;
        let stats = median(repeat, || async {
            reports::stats(store.as_ref(), &settings, Duration::from_secs(30 * 86_400), now)
                .await
                .unwrap();
        })
        .await;
        let figures = median(repeat, || async {
            reports::metric_figures(store.as_ref(), &settings, now).await.unwrap();
        })
        .await;
        println!(
            "{size:>10} {:>16.2} {:>16.1} {:>18.1}",
            ms(postmortem),
            ms(stats),
            ms(figures)
        );
        drop(store);
        if backend == "postgres" {
            drop_database(&database_name(size)).await;
        }
    }
}

fn database_name(size: usize) -> String {
    format!("rebound_bench_reports_{size}_{}", std::process::id())
}

async fn drop_database(name: &str) {
    let admin = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/test")
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .unwrap();
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn median<F, Fut>(repeat: usize, run: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let started = Instant::now();
        run().await;
        times.push(started.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

async fn fresh_store(backend: &str, dir: &tempfile::TempDir, size: usize) -> std::sync::Arc<Store> {
    let url = if backend == "postgres" {
        let name = database_name(size);
        drop_database(&name).await;
        let admin = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/test")
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        format!("postgres://postgres@127.0.0.1:5432/{name}")
    } else {
        format!("sqlite://{}", dir.path().join("reports.db").display())
    };
    let store = store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

/// N resolved incidents spread over the last 8 weeks, each with a typical record.
async fn seed(store: &Store, size: usize) {
    let now = Utc::now();
    let span = chrono::Duration::weeks(8).num_seconds() / size as i64;
    let mut uow = store.begin().await.unwrap();
    for i in 0..size {
        let declared = now - chrono::Duration::weeks(8) + chrono::Duration::seconds(span * i as i64);
        let minute = |m: i64| declared + chrono::Duration::minutes(m);
        let mut incident = uow
            .insert_incident(&IncidentDraft::declare(
                &format!("Incident {i}"),
                Some(Severity::Sev3),
                false,
                "U1",
                declared,
            ))
            .await
            .unwrap();
        uow.record_severity(incident.id, Severity::Sev1, minute(5))
            .await
            .unwrap();
        for (m, kind, body) in [
            (0, "declared", "Declared"),
            (1, "lead", "made <@U2> the incident lead"),
            (5, "severity", "changed severity from sev3 to *sev1*"),
            (8, "note", "noted: error rate 30%"),
            (10, "customer_update", "sent a customer update: investigating"),
            (15, "decision", "decided: roll back"),
            (20, "note", "noted: rollback started"),
            (30, "customer_update", "sent a customer update: rolling back"),
            (40, "status", "moved status from investigating to *monitoring*"),
            (50, "action_item", "added action item: add a canary"),
            (55, "customer_update", "sent a customer update: fixed"),
            (60, "resolved", "resolved the incident: rolled back"),
        ] {
            let entry = TimelineEntry {
                incident_id: incident.id,
                at: minute(m),
                actor: "U2".into(),
                kind: kind.into(),
                body: body.into(),
                source: "slash_command".into(),
            };
            uow.append_timeline(&entry).await.unwrap();
        }
        for (actual, breached) in [(10, false), (20, false), (25, false)] {
            let gap = CommsGap {
                severity: Severity::Sev1,
                promised: Duration::from_secs(30 * 60),
                actual: Duration::from_secs(actual * 60),
                breached,
            };
            uow.insert_comms_gap(incident.id, &gap, minute(actual as i64))
                .await
                .unwrap();
        }
        incident.severity = Some(Severity::Sev1);
        incident.status = Status::Resolved;
        incident.acknowledged_at = Some(minute(1));
        incident.mitigated_at = Some(minute(40));
        incident.resolved_at = Some(minute(60));
        uow.save_incident(&incident).await.unwrap();
    }
    uow.commit().await.unwrap();
}
