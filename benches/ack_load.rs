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

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;

const SECRET: &str = "bench-signing-secret";
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
    let (mut server, base, internal) = start_rebound(&slack, &dir);
    let pid = server.id();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss = rss_kib(pid, "VmRSS");
    let client = reqwest::Client::builder().pool_max_idle_per_host(1024).build().unwrap();
    warm_up(&client, &base).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let warm_rss = rss_kib(pid, "VmRSS");

    println!("rebound ack latency, open loop, {seconds} s per rate, SQLite (synchronous=FULL, WAL)");
    println!(
        "{:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>13}",
        "rate/s", "sent", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors", "inbox/outbox"
    );
    for rate in rates {
        let result = open_loop(&client, &base, rate, Duration::from_secs(seconds)).await;
        let backlog = backlog(&client, &internal).await;
        println!(
            "{:>8} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>13}",
            rate,
            result.latencies.len() + result.errors,
            percentile(&result.latencies, 50.0),
            percentile(&result.latencies, 99.0),
            percentile(&result.latencies, 99.9),
            percentile(&result.latencies, 100.0),
            result.errors,
            backlog
        );
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

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
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

/// Starts `rebound serve`; returns it with its public and operators' base URLs.
fn start_rebound(slack: &str, dir: &tempfile::TempDir) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rebound"))
        .arg("serve")
        .env("SLACK_BOT_TOKEN", "xoxb-bench")
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_API_URL", format!("{slack}/api"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("bench.db").display()),
        )
        .env("REBOUND_ADDR", "127.0.0.1:0")
        .env("REBOUND_INTERNAL_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn,rebound::startup=info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("build rebound first");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut address_after = |marker: &str| loop {
        let line = lines.next().expect("rebound exited").unwrap();
        if let Some(at) = line.find(marker) {
            break line[at + marker.len()..].trim().to_string();
        }
    };
    let addr = address_after("listening on ");
    let internal = address_after("post-mortems) on ");
    std::thread::spawn(move || {
        lines.map_while(Result::ok).for_each(|l| {
            if std::env::var("BENCH_LOGS").is_ok() {
                eprintln!("{l}")
            }
        })
    });
    (child, format!("http://{addr}"), format!("http://{internal}"))
}

fn signed_open() -> (String, String, String) {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let slack = SLACK_URL.get().unwrap();
    let body = serde_urlencoded::to_string([
        ("team_id", "T1"),
        ("channel_id", "CBENCH"),
        ("user_id", "UBENCH"),
        ("command", "/incident"),
        ("text", &format!("open Load test incident {n} sev3")),
        ("response_url", &format!("{slack}/response/{n}")),
        ("trigger_id", &format!("{n}.bench")),
    ])
    .unwrap();
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = rebound::ingress::signature::sign(SECRET, &timestamp, &body);
    (body, timestamp, signature)
}

async fn send(client: &reqwest::Client, base: &str) -> bool {
    let (body, timestamp, signature) = signed_open();
    let response = client
        .post(format!("{base}/slack/commands"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Slack-Request-Timestamp", timestamp)
        .header("X-Slack-Signature", signature)
        .body(body)
        .send()
        .await;
    match response {
        Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
        Err(_) => false,
    }
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

struct RunResult {
    latencies: Vec<Duration>,
    errors: usize,
}

async fn open_loop(client: &reqwest::Client, base: &str, rate: u64, length: Duration) -> RunResult {
    let total = rate * length.as_secs();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let scheduled = start + interval * i as u32;
        tokio::time::sleep_until(scheduled).await;
        let (client, base) = (client.clone(), base.to_string());
        tasks.spawn(async move {
            let ok = send(&client, &base).await;
            (ok, scheduled.elapsed())
        });
    }
    let mut result = RunResult {
        latencies: Vec::with_capacity(total as usize),
        errors: 0,
    };
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((true, latency)) => result.latencies.push(latency),
            _ => result.errors += 1,
        }
    }
    result.latencies.sort();
    result
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

/// Inbox and outbox depth right after a run: whether background work kept up.
async fn backlog(client: &reqwest::Client, base: &str) -> String {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .unwrap_or("?")
            .to_string()
    };
    format!("{}/{}", value("rebound_inbox_depth"), value("rebound_outbox_depth"))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}
