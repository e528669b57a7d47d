//! Event acknowledgement latency with a large failure-ticket backlog.
//!
//! Every captured failure is compared with up to 2,000 earlier tickets for
//! recurrence. Before word keys were stored and matching moved out of the
//! write transaction, 2,000 tickets of ~40 KB made each capture tokenise
//! ~80 MB while holding the SQLite writer, and event acks took ~5 s.
//!
//! Starts `rebound serve` (release build, fresh SQLite database) against a
//! Slack stand-in whose messages are ~40 KB each, captures `BENCH_TICKETS`
//! failures (default 2,000) with signed `reaction_added` events at
//! `BENCH_SEED_RATE`/s (default 50), waits for every follow-up to finish, then
//! sends more failure events at each of `BENCH_RATES` (default `10,50`) for
//! `BENCH_SECONDS` (default 10), measuring open-loop ack latency throughout.
//!
//! `cargo bench --bench failure_backlog`

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::routing::any;
use serde_json::{Value, json};

use support::{SECRET, env_or, latency_header, latency_row};

static NEXT: AtomicU64 = AtomicU64::new(1);
/// Each flagged message's size.
const MESSAGE_BYTES: usize = 40 * 1024;

#[tokio::main]
async fn main() {
    let tickets: u64 = env_or("BENCH_TICKETS", "2000").parse().unwrap();
    let seed_rate: u64 = env_or("BENCH_SEED_RATE", "50").parse().unwrap();
    let seconds: u64 = env_or("BENCH_SECONDS", "10").parse().unwrap();
    let rates: Vec<u64> = env_or("BENCH_RATES", "10,50")
        .split(',')
        .map(|r| r.trim().parse().unwrap())
        .collect();

    let slack = start_slack_with_big_messages().await;
    let dir = tempfile::tempdir().unwrap();
    let rebound = support::start_rebound(&slack, &dir);
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;

    println!(
        "rebound event ack latency with a failure backlog ({} KB messages), open loop, SQLite",
        MESSAGE_BYTES / 1024
    );
    println!("{}", latency_header("inbox/outbox"));
    let length = Duration::from_secs_f64(tickets as f64 / seed_rate as f64);
    let seeding = support::open_loop(seed_rate, length, || flag_one(client.clone(), rebound.base.clone())).await;
    let backlog = support::backlog(&client, &rebound.internal).await;
    println!(
        "{}  (capturing the first {tickets})",
        latency_row(seed_rate, &seeding, &backlog)
    );
    let drained = drain(&client, &rebound.internal).await;
    println!("follow-ups of {tickets} captures finished {drained:.1} s after the last one");

    for rate in rates {
        let run = support::open_loop(rate, Duration::from_secs(seconds), || {
            flag_one(client.clone(), rebound.base.clone())
        })
        .await;
        let backlog = support::backlog(&client, &rebound.internal).await;
        println!("{}", latency_row(rate, &run, &backlog));
        let drained = drain(&client, &rebound.internal).await;
        println!("         follow-ups finished {drained:.1} s after the last capture");
    }
    let (tickets, recurrences) = counts(&dir).await;
    println!("{tickets} tickets stored, {recurrences} recurrences found");
    let mut child = rebound.child;
    let _ = child.kill();
}

/// Tickets and recurrences in the benchmark's database.
async fn counts(dir: &tempfile::TempDir) -> (i64, i64) {
    use sqlx::Connection;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let mut count = async |sql: &'static str| sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut db).await.unwrap();
    let tickets = count("SELECT count(*) FROM failure_tickets").await;
    (tickets, count("SELECT count(*) FROM failure_recurrences").await)
}

/// Seconds until the inbox and outbox are empty (every capture followed up).
async fn drain(client: &reqwest::Client, internal: &str) -> f64 {
    let started = Instant::now();
    loop {
        let inbox = support::metric(client, internal, "rebound_inbox_depth").await;
        let outbox = support::metric(client, internal, "rebound_outbox_depth").await;
        if inbox == Some(0.0) && outbox == Some(0.0) {
            return started.elapsed().as_secs_f64();
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "background work never finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Flags one new message with the failure emoji, signed as Slack signs events.
async fn flag_one(client: reqwest::Client, base: String) -> bool {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let body = json!({
        "token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": format!("EvBench{n}"), "event_time": 1_700_000_000,
        "event": { "type": "reaction_added", "user": "UREACTOR", "reaction": "rotating_light", "item_user": "UAUTHOR",
                   "item": { "type": "message", "channel": "CALERTS", "ts": format!("{n}.000100") },
                   "event_ts": format!("{n}.000200") }
    })
    .to_string();
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = rebound::ingress::signature::sign(SECRET, &timestamp, &body);
    let response = client
        .post(format!("{base}/slack/events"))
        .header("Content-Type", "application/json")
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

/// A Slack stand-in: every flagged message is ~40 KB of alert-like text.
async fn start_slack_with_big_messages() -> String {
    let app = Router::new()
        .route("/api/{method}", any(method))
        .route("/response/{id}", any(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn method(Path(method): Path<String>, RawQuery(query): RawQuery, body: String) -> axum::Json<Value> {
    let args: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .chain(url::form_urlencoded::parse(body.as_bytes()).into_owned())
            .collect();
    let arg = |name: &str| args.get(name).cloned().unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    axum::Json(match method.as_str() {
        "conversations.replies" => {
            json!({ "ok": true, "messages": [{ "type": "message", "ts": arg("ts"), "user": "UAUTHOR", "text": message(&arg("ts")) }] })
        }
        "chat.getPermalink" => {
            json!({ "ok": true, "permalink": format!("https://bench.slack.com/archives/{}/p{n}", arg("channel")) })
        }
        "conversations.info" => json!({ "ok": true, "channel": { "id": arg("channel"), "is_private": false } }),
        _ => json!({ "ok": true, "channel": "CALERTS", "ts": format!("{n}.000300") }),
    })
}

/// ~40 KB of words from a 3,000-word vocabulary, different per message (a
/// linear congruential sequence seeded by its `ts`): texts share many words
/// but few are similar enough to count as recurrences.
fn message(ts: &str) -> String {
    let mut state: u64 = ts.bytes().fold(1469598103934665603, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1099511628211)
    });
    let mut text = String::with_capacity(MESSAGE_BYTES + 16);
    while text.len() < MESSAGE_BYTES {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let word = (state >> 33) % 3000;
        text.push_str(&letters(word));
        text.push(' ');
    }
    text
}

/// A word of letters only (words with digits are not compared).
fn letters(mut n: u64) -> String {
    let mut word = String::from("x");
    loop {
        word.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            return word;
        }
    }
}
