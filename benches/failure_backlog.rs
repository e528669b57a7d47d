//! Event acknowledgement latency with a large failure-ticket backlog.
//!
//! Every captured failure is compared with up to 2,000 earlier tickets for
//! recurrence. Before word keys were stored and matching moved out of the
//! write transaction, 2,000 tickets of ~40 KB made each capture tokenise
//! ~80 MB while holding the SQLite writer, and event acks took ~5 s.
//!
//! Starts `rebound serve` (release build, fresh SQLite database) against a
//! Slack stand-in whose messages are ~40 KB each, stores `BENCH_TICKETS`
//! earlier tickets of ~40 KB (default 2,000) straight into its database, then
//! flags new messages with signed `reaction_added` events at each of
//! `BENCH_RATES`/s (default `10,20`) for `BENCH_SECONDS` (default 30),
//! measuring open-loop ack latency while the captures are followed up and
//! compared with the backlog. Follow-ups run at Slack's pace
//! (`conversations.replies` is Tier 3, 50 a minute), so about one capture a
//! second is compared; the table says how many were.
//!
//! `cargo bench --bench failure_backlog` (`REBOUND_BIN` runs another build
//! with the same harness).

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::routing::any;
use serde_json::{Value, json};

use support::{env_or, latency_header, latency_row};

static NEXT: AtomicU64 = AtomicU64::new(1);
/// Each flagged message's size.
const MESSAGE_BYTES: usize = 40 * 1024;

#[tokio::main]
async fn main() {
    let tickets: u64 = env_or("BENCH_TICKETS", "2000").parse().unwrap();
    let seconds: u64 = env_or("BENCH_SECONDS", "30").parse().unwrap();
    let rates: Vec<u64> = env_or("BENCH_RATES", "10,20")
        .split(',')
        .map(|r| r.trim().parse().unwrap())
        .collect();

    let slack = start_slack_with_big_messages().await;
    let dir = tempfile::tempdir().unwrap();
    let rebound = support::start_rebound(&slack, &dir);
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    let seeded = Instant::now();
    seed_backlog(&dir, tickets).await;
    println!(
        "{tickets} earlier tickets of {} KB stored in {:.1} s",
        MESSAGE_BYTES / 1024,
        seeded.elapsed().as_secs_f64()
    );
    println!("rebound event ack latency with that backlog, open loop, {seconds} s per rate, SQLite");
    println!("{}  compared", latency_header("inbox/outbox"));
    for rate in rates {
        let before = counts(&dir).await;
        let run = support::open_loop(rate, Duration::from_secs(seconds), || {
            flag_one(client.clone(), rebound.base.clone())
        })
        .await;
        let backlog = support::backlog(&client, &rebound.internal).await;
        let compared = counts(&dir).await.compared - before.compared;
        println!("{}  {compared:>8}", latency_row(rate, &run, &backlog));
    }
    let counts = counts(&dir).await;
    println!(
        "{} tickets stored, {} compared with the backlog, {} recurrences found",
        counts.tickets, counts.compared, counts.recurrences
    );
    let mut child = rebound.child;
    let _ = child.kill();
}

/// Earlier tickets, written as captures leave them (text, permalink, and
/// the word key where this build's schema stores one).
async fn seed_backlog(dir: &tempfile::TempDir, tickets: u64) {
    let mut db = database(dir).await;
    let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info('failure_tickets')")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let with_words = columns.iter().any(|c| c == "words");
    let mut tx = sqlx::Connection::begin(&mut db).await.unwrap();
    for n in 0..tickets {
        let ts = format!("1600000000.{n:06}");
        let text = message(&ts);
        let words = with_words.then(|| rebound::domain::recurrence::word_key(&text));
        let sql = if with_words {
            "INSERT INTO failure_tickets (channel_id, ts, body, reporter, captured_at, permalink, words) \
             VALUES ('CALERTS', ?, ?, 'UREACTOR', 0, 'https://bench.slack.com/x', ?)"
        } else {
            "INSERT INTO failure_tickets (channel_id, ts, body, reporter, captured_at, permalink) \
             VALUES ('CALERTS', ?, ?, 'UREACTOR', 0, 'https://bench.slack.com/x')"
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&ts).bind(&text);
        if let Some(words) = words {
            query = query.bind(words);
        }
        query.execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn database(dir: &tempfile::TempDir) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    sqlx::SqliteConnection::connect(&url).await.unwrap()
}

struct Counts {
    tickets: i64,
    /// New captures followed up to the end (compared with the backlog, card posted).
    compared: i64,
    recurrences: i64,
}

/// What the benchmark's database holds.
async fn counts(dir: &tempfile::TempDir) -> Counts {
    let mut db = database(dir).await;
    let mut count = async |sql: &'static str| sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut db).await.unwrap();
    Counts {
        tickets: count("SELECT count(*) FROM failure_tickets").await,
        compared: count("SELECT count(*) FROM failure_tickets WHERE reply_ts IS NOT NULL").await,
        recurrences: count("SELECT count(*) FROM failure_recurrences").await,
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
    support::post_signed(&client, &format!("{base}/slack/events"), "application/json", body).await
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
