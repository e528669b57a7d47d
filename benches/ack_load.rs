//! Open-loop load generator for Slack acknowledgement latency.
//!
//! Starts `rebound serve` (release build, fresh SQLite database, inbox durable
//! before every ack) against a minimal always-ok Slack Web API, then sends
//! distinct, correctly signed `/incident open` requests at fixed rates.
//! Requests are scheduled on a fixed timetable and latency is counted from
//! each request's *scheduled* send time, so a server that falls behind cannot
//! hide its queue (no coordinated omission).
//!
//! `cargo bench --bench ack_load` — env: `BENCH_RATES` (default
//! `200,500,1000`), `BENCH_SECONDS` per rate (default 10), `BENCH_MAX_CONCURRENCY`
//! for the closed-loop throughput run (default 64).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;

use support::{env_or, latency_header, latency_row, rss_kib};

static NEXT: AtomicU64 = AtomicU64::new(0);
/// Where slash-command receipts (`response_url`) go: the Slack stand-in.
static SLACK_URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

#[tokio::main]
async fn main() {
    let rates: Vec<u64> = env_or("BENCH_RATES", "200,500,1000")
        .split(',')
        .map(|r| r.trim().parse().unwrap())
        .collect();
    let seconds: u64 = env_or("BENCH_SECONDS", "10").parse().unwrap();
    let concurrency: usize = env_or("BENCH_MAX_CONCURRENCY", "64").parse().unwrap();

    let slack = start_ok_slack().await;
    SLACK_URL.set(slack.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let support::Rebound {
        child: mut server,
        base,
        internal,
    } = support::start_rebound(&slack, &dir);
    let pid = server.id();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss = rss_kib(pid, "VmRSS");
    let client = reqwest::Client::builder().pool_max_idle_per_host(1024).build().unwrap();
    warm_up(&client, &base).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let warm_rss = rss_kib(pid, "VmRSS");

    println!("rebound ack latency, open loop, {seconds} s per rate, SQLite (synchronous=FULL, WAL)");
    println!("{}", latency_header("inbox/outbox"));
    for rate in rates {
        let result = support::open_loop(rate, Duration::from_secs(seconds), || {
            let (client, base) = (client.clone(), base.clone());
            async move { send(&client, &base).await }
        })
        .await;
        let backlog = support::backlog(&client, &internal).await;
        println!("{}", latency_row(rate, &result, &backlog));
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let throughput = closed_loop(&client, &base, concurrency, Duration::from_secs(seconds)).await;
    println!("max throughput (closed loop, {concurrency} connections): {throughput:.0} requests/s");
    println!(
        "RSS idle after start: {:.1} MiB, idle after warm-up: {:.1} MiB, peak: {:.1} MiB",
        idle_rss as f64 / 1024.0,
        warm_rss as f64 / 1024.0,
        rss_kib(pid, "VmHWM") as f64 / 1024.0
    );
    let _ = server.kill();
}

/// A Slack stand-in that answers every method at once with a plausible `ok`.
async fn start_ok_slack() -> String {
    let app = Router::new()
        .route(
            "/api/{method}",
            post(|| async {
                let n = NEXT.fetch_add(1, Ordering::Relaxed);
                axum::Json(serde_json::json!({
                    "ok": true, "channel": { "id": format!("C{n}"), "name": format!("c{n}") }, "ts": format!("{n}.000100")
                }))
            }),
        )
        .route("/response/{id}", post(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A distinct `/incident open` form, as Slack posts it.
fn open_form() -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let slack = SLACK_URL.get().unwrap();
    serde_urlencoded::to_string([
        ("team_id", "T1"),
        ("channel_id", "CBENCH"),
        ("user_id", "UBENCH"),
        ("command", "/incident"),
        ("text", &format!("open Load test incident {n} sev3")),
        ("response_url", &format!("{slack}/response/{n}")),
        ("trigger_id", &format!("{n}.bench")),
    ])
    .unwrap()
}

async fn send(client: &reqwest::Client, base: &str) -> bool {
    let url = format!("{base}/slack/commands");
    support::post_signed(client, &url, "application/x-www-form-urlencoded", open_form()).await
}

/// Opens a pool of connections and warms caches, so the first rate does not
/// pay for TCP handshakes.
async fn warm_up(client: &reqwest::Client, base: &str) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let (client, base) = (client.clone(), base.to_string());
        tasks.spawn(async move {
            for _ in 0..10 {
                assert!(send(&client, &base).await, "warm-up request failed");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

async fn closed_loop(client: &reqwest::Client, base: &str, concurrency: usize, length: Duration) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + length;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, base, done) = (client.clone(), base.to_string(), done.clone());
        tasks.spawn(async move {
            while Instant::now() < deadline {
                if send(&client, &base).await {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    done.load(Ordering::Relaxed) as f64 / length.as_secs_f64()
}
