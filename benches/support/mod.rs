//! What the load benchmarks share: starting a release `rebound serve` on a
//! fresh SQLite database, an open-loop request schedule (latency counted
//! from each request's *scheduled* send time, so a server that falls behind
//! cannot hide its queue), percentiles, RSS and queue depths.

#![allow(dead_code)] // each bench uses its own part of this

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The signing secret the benchmarks' Rebound verifies requests with.
pub const SECRET: &str = "bench-signing-secret";

pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// A running `rebound serve` with its public and operators' base URLs.
pub struct Rebound {
    pub child: Child,
    pub base: String,
    pub internal: String,
}

/// Starts `rebound serve` against the Slack stand-in at `slack` (its base
/// URL): the binary this bench was built with, or `REBOUND_BIN` (to compare
/// two builds with one harness).
pub fn start_rebound(slack: &str, dir: &tempfile::TempDir) -> Rebound {
    let binary = std::env::var("REBOUND_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_rebound").to_string());
    let mut child = Command::new(binary)
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
    let internal = address_after("internal listener (metrics) on ");
    std::thread::spawn(move || {
        lines.map_while(Result::ok).for_each(|l| {
            if std::env::var("BENCH_LOGS").is_ok() {
                eprintln!("{l}")
            }
        })
    });
    Rebound {
        child,
        base: format!("http://{addr}"),
        internal: format!("http://{internal}"),
    }
}

/// Posts `body` to `url` signed as Slack signs requests (now, with
/// [`SECRET`]); true when Rebound acknowledged it.
pub async fn post_signed(client: &reqwest::Client, url: &str, content_type: &str, body: String) -> bool {
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = rebound::ingress::signature::sign(SECRET, &timestamp, &body);
    let response = client
        .post(url)
        .header("Content-Type", content_type)
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

/// Latencies of the acknowledged requests (sorted) and how many failed.
pub struct RunResult {
    pub latencies: Vec<Duration>,
    pub errors: usize,
}

/// Sends `rate` requests per second for `length` on a fixed timetable;
/// `send` makes one request and says whether it was acknowledged.
pub async fn open_loop<F, Fut>(rate: u64, length: Duration, send: F) -> RunResult
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let total = (rate as f64 * length.as_secs_f64()).round() as u64;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let scheduled = start + interval * i as u32;
        tokio::time::sleep_until(scheduled).await;
        let request = send();
        tasks.spawn(async move {
            let ok = request.await;
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

/// One row of a latency table: rate, sent, p50, p99, p99.9, max, errors.
pub fn latency_row(rate: u64, result: &RunResult, extra: &str) -> String {
    format!(
        "{:>8} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>13}",
        rate,
        result.latencies.len() + result.errors,
        percentile(&result.latencies, 50.0),
        percentile(&result.latencies, 99.0),
        percentile(&result.latencies, 99.9),
        percentile(&result.latencies, 100.0),
        result.errors,
        extra
    )
}

/// The header of [`latency_row`]'s table.
pub fn latency_header(extra: &str) -> String {
    format!(
        "{:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>13}",
        "rate/s", "sent", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors", extra
    )
}

/// A value from Rebound's `/metrics` on the operators' listener.
pub async fn metric(client: &reqwest::Client, internal: &str, name: &str) -> Option<f64> {
    let text = client
        .get(format!("{internal}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Inbox and outbox depth: whether background work kept up.
pub async fn backlog(client: &reqwest::Client, internal: &str) -> String {
    let show = |v: Option<f64>| v.map_or("?".to_string(), |v| v.to_string());
    format!(
        "{}/{}",
        show(metric(client, internal, "rebound_inbox_depth").await),
        show(metric(client, internal, "rebound_outbox_depth").await)
    )
}

pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

pub fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}
