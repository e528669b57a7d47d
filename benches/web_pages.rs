//! Web benchmark: server time of every dashboard page and the status page
//! with 10,000 incidents and 20,000 failure tickets (the Web issue's bound:
//! 50 ms a page), and the status page's throughput under 32 concurrent
//! clients (its bound: 2,000 req/s, served from the cached snapshot, never
//! the writer).
//!
//! It starts Rebound in-process on a fresh SQLite database (Postgres with
//! `BENCH_DATABASE=postgres` is not wired here), seeds it directly through
//! the store, signs a session in by writing its hash, and times each page
//! (median and worst of `BENCH_REPEAT`, default 20, sequential requests over
//! loopback, so the time is the server's plus a loopback round trip).
//!
//! `cargo bench --bench web_pages` (`BENCH_INCIDENTS`, `BENCH_TICKETS` to resize)

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use rebound::config::Settings;
use rebound::domain::{IncidentDraft, Severity, Status};
use rebound::startup::{Application, Workers};
use rebound::store::web_sessions::WebSession;
use rebound::store::{NewFailure, TimelineEntry};
use sha2::{Digest, Sha256};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

#[tokio::main]
async fn main() {
    let incidents: usize = env_or("BENCH_INCIDENTS", "10000").parse().unwrap();
    let tickets: usize = env_or("BENCH_TICKETS", "20000").parse().unwrap();
    let repeat: usize = env_or("BENCH_REPEAT", "20").parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("web.db").display());
    let config = dir.path().join("rebound.toml");
    std::fs::write(
        &config,
        "[web]\npublic_url = \"https://rebound.example.com/\"\n[cost.per_minute]\nsev1 = 100.0\n\
         [status]\ntitle = \"Bench status\"\n[[status.components]]\nname = \"API\"\n[[status.components]]\nname = \"Search\"\n",
    )
    .unwrap();
    let env: BTreeMap<String, String> = [
        ("SLACK_BOT_TOKEN", "xoxb-bench"),
        ("SLACK_SIGNING_SECRET", "bench-secret"),
        ("SLACK_CLIENT_ID", "bench.client"),
        ("SLACK_CLIENT_SECRET", "bench-client-secret"),
        // Nothing in this benchmark calls Slack.
        ("SLACK_API_URL", "http://127.0.0.1:9/api"),
        ("DATABASE_URL", database.as_str()),
        ("REBOUND_ADDR", "127.0.0.1:0"),
        ("REBOUND_INTERNAL_ADDR", "off"),
        ("REBOUND_CONFIG", config.to_str().unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let settings = Settings::load(&env).unwrap();
    let store = rebound::store::connect(&database).await.unwrap();
    store.migrate().await.unwrap();
    let seeded = Instant::now();
    seed(&store, incidents, tickets).await;
    println!(
        "seeded {incidents} incidents and {tickets} failure tickets in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    let token = "bench-session-token";
    let session = WebSession {
        user_id: "U0BENCH".into(),
        team_id: "T1".into(),
        name: "Bench".into(),
        csrf: "bench-csrf".into(),
        expires_at: Utc::now() + chrono::Duration::hours(1),
    };
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    store.create_session(&hash, &session, Utc::now()).await.unwrap();
    // The metrics page's trends are computed in the background, not per visit: time that apart.
    let cache = rebound::web::metrics_page::TrendsCache::default();
    let mut computations = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        cache.refresh(&store, &settings.file, Utc::now()).await.unwrap();
        computations.push(started.elapsed());
    }
    computations.sort();
    println!(
        "dashboard trends, computed in the background every [web] trends_every: median {:.1} ms",
        ms(computations[2])
    );
    let app = Application::start(settings, Workers::default()).await.unwrap();
    let base = format!("http://{}", app.addr());
    let client = reqwest::Client::new();
    let cookie = format!("rebound_session={token}");
    let middle = incidents / 2;
    wait_for_trends(&client, &base, &cookie).await;
    println!("{:<34} {:>10} {:>10} {:>8}", "page", "median ms", "max ms", "bytes");
    for path in [
        "/".to_string(),
        "/incidents".to_string(),
        "/incidents?severity=sev1&since=2026-01-01".to_string(),
        format!("/incidents/{middle}"),
        format!("/incidents/{middle}/postmortem"),
        "/failures".to_string(),
        "/failures?status=open&tag=payments".to_string(),
        "/metrics-dashboard".to_string(),
        "/status".to_string(),
        "/status/api/v2/summary.json".to_string(),
    ] {
        let mut times = Vec::with_capacity(repeat);
        let mut bytes = 0;
        for _ in 0..repeat {
            let started = Instant::now();
            let response = client
                .get(format!("{base}{path}"))
                .header("Cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            bytes = response.bytes().await.unwrap().len();
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "{path:<34} {:>10.1} {:>10.1} {bytes:>8}",
            ms(times[times.len() / 2]),
            ms(*times.last().unwrap())
        );
    }
    let (served, elapsed) = throughput(&client, &format!("{base}/status"), 32, Duration::from_secs(3)).await;
    println!(
        "/status under 32 concurrent clients: {:.0} req/s ({served} in {:.1} s)",
        served as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    drop(app);
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn throughput(client: &reqwest::Client, url: &str, clients: usize, for_how_long: Duration) -> (u64, Duration) {
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let client = client.clone();
            let url = url.to_string();
            tokio::spawn(async move {
                let mut served = 0u64;
                while started.elapsed() < for_how_long {
                    let response = client.get(&url).send().await.unwrap();
                    assert_eq!(response.status(), 200);
                    response.bytes().await.unwrap();
                    served += 1;
                }
                served
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.await.unwrap();
    }
    (total, started.elapsed())
}

/// Incidents over the last year (every 20th private, half resolved, each
/// with 8 timeline entries and a severity), and tickets spread over them.
async fn seed(store: &rebound::store::Store, incidents: usize, tickets: usize) {
    let now = Utc::now();
    let span = chrono::Duration::days(365).num_seconds() / incidents.max(1) as i64;
    let mut uow = store.begin().await.unwrap();
    for i in 0..incidents {
        let declared = now - chrono::Duration::days(365) + chrono::Duration::seconds(span * i as i64);
        let severity = [Severity::Sev1, Severity::Sev2, Severity::Sev3, Severity::Sev4][i % 4];
        let mut incident = uow
            .insert_incident(&IncidentDraft::declare(
                &format!("Incident {i}: checkout errors"),
                Some(severity),
                i % 20 == 0,
                "U1",
                declared,
            ))
            .await
            .unwrap();
        for (m, kind, body) in [
            (1, "lead", "made <@U2> the incident lead"),
            (8, "note", "noted: error rate 30%"),
            (10, "customer_update", "sent a customer update: investigating"),
            (15, "decision", "decided: roll back"),
            (30, "customer_update", "sent a customer update: rolling back"),
            (40, "status", "moved status from investigating to *monitoring*"),
            (50, "action_item", "added action item: add a canary"),
            (60, "resolved", "resolved the incident: rolled back"),
        ] {
            let entry = TimelineEntry {
                incident_id: incident.id,
                at: declared + chrono::Duration::minutes(m),
                actor: "U2".into(),
                kind: kind.into(),
                body: body.into(),
                source: "slash_command".into(),
            };
            uow.append_timeline(&entry).await.unwrap();
        }
        if i % 2 == 0 && i + 50 < incidents {
            incident.status = Status::Resolved;
            incident.acknowledged_at = Some(declared + chrono::Duration::minutes(1));
            incident.mitigated_at = Some(declared + chrono::Duration::minutes(40));
            incident.resolved_at = Some(declared + chrono::Duration::minutes(60));
            uow.save_incident(&incident).await.unwrap();
        }
    }
    for t in 0..tickets {
        let ts = format!("1700000000.{t:06}");
        let failure = NewFailure {
            channel_id: "CBENCH",
            ts: &ts,
            author: Some("U3"),
            reporter: "U4",
            incident_id: Some((t % incidents.max(1)) as i64 + 1),
        };
        if let Some(id) = uow.capture_failure(&failure, now).await.unwrap() {
            let text = format!("Payment provider timed out for order {t}; retries exhausted after 3 attempts");
            uow.set_ticket_source(id, &text, Some("U3"), None).await.unwrap();
        }
    }
    uow.commit().await.unwrap();
}

/// The app computes the trends once at start; page times are measured after.
async fn wait_for_trends(client: &reqwest::Client, base: &str, cookie: &str) {
    loop {
        let page = client
            .get(format!("{base}/metrics-dashboard"))
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap();
        if !page.text().await.unwrap().contains("being computed") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
