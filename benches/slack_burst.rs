//! The start of a SEV1, as five responders make it: three flurries of ten
//! commands within five seconds each in one incident channel, while three
//! other incidents post customer updates to the announce channel — against
//! the Slack simulator enforcing Slack's published limits (one message a
//! second per channel, method tiers per minute; 429 beyond them).
//!
//! Every command in the main channel names a new lead, so each has a line
//! in the channel and changes the card. Measured per command, from when it
//! was sent: until the card shows it (or a later command's lead —
//! edits are coalesced, the card always shows the latest state), and until
//! its line is in the channel (alone or sharing one message). Also counted:
//! HTTP 429s Rebound received.
//!
//! `cargo bench --bench slack_burst` — env: `BENCH_FLURRIES` (3),
//! `BENCH_FLURRY_COMMANDS` (10), `BENCH_RUNS` (3).

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rebound::config::Settings;
use rebound::slack_simulator::FakeSlack;
use rebound::startup::{Application, Workers};
use support::SECRET;

fn env_or(name: &str, default: &str) -> usize {
    support::env_or(name, default).parse().expect("a number")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let flurries = env_or("BENCH_FLURRIES", "3");
    let per_flurry = env_or("BENCH_FLURRY_COMMANDS", "10");
    let runs = env_or("BENCH_RUNS", "3");
    println!(
        "SEV1 burst: {flurries} flurries of {per_flurry} commands within 5 s, 3 other incidents posting updates, \
         Slack's limits enforced (SQLite)"
    );
    println!("run | command → card p50 / p99 | command → its line p50 / p99 | messages in the channel | 429s");
    for run in 1..=runs {
        let result = one_run(flurries, per_flurry).await;
        println!(
            "{run} | {:.2} s / {:.2} s | {:.2} s / {:.2} s | {} for {} lines | {}",
            support::percentile(&result.card, 50.0) / 1000.0,
            support::percentile(&result.card, 99.0) / 1000.0,
            support::percentile(&result.line, 50.0) / 1000.0,
            support::percentile(&result.line, 99.0) / 1000.0,
            result.messages,
            result.line.len(),
            result.rate_limited
        );
    }
}

struct RunResult {
    card: Vec<Duration>,
    line: Vec<Duration>,
    messages: usize,
    rate_limited: usize,
}

async fn one_run(flurries: usize, per_flurry: usize) -> RunResult {
    if std::env::var("BENCH_VERBOSE").is_ok() {
        rebound::telemetry::init();
    }
    let fake = FakeSlack::start().await;
    fake.enforce_rate_limits();
    let dir = tempfile::tempdir().unwrap();
    let env: BTreeMap<String, String> = [
        ("SLACK_BOT_TOKEN", rebound::slack_simulator::BOT_TOKEN.to_string()),
        ("SLACK_SIGNING_SECRET", SECRET.to_string()),
        ("SLACK_API_URL", fake.api_url()),
        (
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("bench.db").display()),
        ),
        ("REBOUND_ADDR", "127.0.0.1:0".to_string()),
        ("REBOUND_INTERNAL_ADDR", "off".to_string()),
        ("REBOUND_REPLICA", "bench".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let app = Application::start(Settings::load(&env).unwrap(), Workers::default())
        .await
        .unwrap();
    let base = format!("http://{}", app.addr());
    let client = reqwest::Client::new();

    // Four incidents: the SEV1 and three others.
    for title in [
        "Checkout is down sev1",
        "Search is slow sev3",
        "Emails delayed sev3",
        "Reports stale sev4",
    ] {
        command(
            &client,
            &base,
            &fake,
            &format!("open {title}"),
            "U0DECLARER",
            "CGENERAL",
        )
        .await;
    }
    let channels = wait_for("the four incident cards", Duration::from_secs(60), || {
        let cards: Vec<String> = fake
            .calls("chat.postMessage")
            .into_iter()
            .filter(|c| c.ok() && c.args["blocks"][0]["type"] == "header")
            .map(|c| c.args["channel"].as_str().unwrap().to_string())
            .collect();
        (cards.len() == 4).then_some(cards)
    })
    .await
    .unwrap_or_else(|| {
        let calls: Vec<String> = fake
            .all_calls()
            .iter()
            .map(|c| format!("{} {} {:?}", c.method, c.status, c.error))
            .collect();
        panic!("the four incident cards never came: {calls:#?}")
    });
    let main = incident_channel(&fake, 1, &channels);
    let others: Vec<String> = (2..=4).map(|n| incident_channel(&fake, n, &channels)).collect();
    tokio::time::sleep(Duration::from_secs(2)).await;

    let responders = ["U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN"];
    let mut sent: Vec<(String, Instant)> = Vec::new();
    for flurry in 0..flurries {
        let spacing = Duration::from_millis(5_000 / per_flurry as u64);
        for i in 0..per_flurry {
            let lead = format!("U0LEAD{flurry}{i:02}");
            let responder = responders[(flurry * per_flurry + i) % responders.len()];
            let at = Instant::now();
            command(&client, &base, &fake, &format!("lead <@{lead}>"), responder, &main).await;
            sent.push((lead, at));
            if i % 3 == 0 {
                let other = &others[(i / 3) % others.len()];
                let update = format!("update Still investigating ({flurry}-{i})");
                command(&client, &base, &fake, &update, responder, other).await;
            }
            tokio::time::sleep(spacing).await;
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    // Everything out.
    wait_for("the last command's line", Duration::from_secs(120), || {
        let last = &sent.last().unwrap().0;
        let posted = fake
            .calls("chat.postMessage")
            .iter()
            .any(|c| c.ok() && c.args["text"].as_str().unwrap_or_default().contains(last.as_str()));
        posted.then_some(())
    })
    .await
    .expect("the burst drained");
    tokio::time::sleep(Duration::from_secs(2)).await;

    let calls = fake.all_calls();
    let edits: Vec<(Instant, String)> = calls
        .iter()
        .filter(|c| c.ok() && c.method == "chat.update" && c.args["channel"] == main.as_str())
        .map(|c| (c.at, c.args["blocks"].to_string()))
        .collect();
    let posts: Vec<(Instant, String)> = calls
        .iter()
        .filter(|c| c.ok() && c.method == "chat.postMessage" && c.args["channel"] == main.as_str())
        .map(|c| (c.at, c.args["text"].as_str().unwrap_or_default().to_string()))
        .collect();
    let mut card = Vec::new();
    let mut line = Vec::new();
    for (index, (lead, at)) in sent.iter().enumerate() {
        let later_leads: Vec<&String> = sent[index..].iter().map(|(l, _)| l).collect();
        if let Some((shown, _)) = edits
            .iter()
            .find(|(t, blocks)| *t >= *at && later_leads.iter().any(|l| blocks.contains(&format!("<@{l}>"))))
        {
            card.push(shown.duration_since(*at));
        }
        if let Some((posted, _)) = posts.iter().find(|(t, text)| *t >= *at && text.contains(lead.as_str())) {
            line.push(posted.duration_since(*at));
        }
    }
    let messages = posts.iter().filter(|(_, text)| text.contains("U0LEAD")).count();
    let rate_limited = calls.iter().filter(|c| c.status == 429).count();
    if std::env::var("BENCH_VERBOSE").is_ok() {
        let mut by_method = std::collections::BTreeMap::<String, usize>::new();
        for call in &calls {
            *by_method.entry(format!("{} {}", call.method, call.status)).or_default() += 1;
        }
        eprintln!("calls: {by_method:?}");
    }
    app.stop().await;
    card.sort();
    line.sort();
    RunResult {
        card,
        line,
        messages,
        rate_limited,
    }
}

/// The channel of incident `number` (`INC-n` in its card's header).
fn incident_channel(fake: &FakeSlack, number: usize, channels: &[String]) -> String {
    let reference = format!("INC-{number} ");
    fake.calls("chat.postMessage")
        .into_iter()
        .find(|c| {
            c.args["blocks"][0]["text"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with(&reference))
        })
        .map(|c| c.args["channel"].as_str().unwrap().to_string())
        .filter(|c| channels.contains(c))
        .expect("incident card")
}

async fn wait_for<T>(what: &str, limit: Duration, mut ready: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = ready() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            eprintln!("timed out waiting for {what}");
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn command(client: &reqwest::Client, base: &str, fake: &FakeSlack, text: &str, user: &str, channel: &str) {
    let id = format!("{}{}", std::process::id(), rand::random::<u32>());
    let body = serde_urlencoded::to_string([
        ("token", "x"),
        ("team_id", "T1"),
        ("team_domain", "bench"),
        ("channel_id", channel),
        ("channel_name", "general"),
        ("user_id", user),
        ("user_name", "someone"),
        ("command", "/incident"),
        ("text", text),
        ("api_app_id", "A1"),
        ("response_url", fake.response_url(&id).as_str()),
        ("trigger_id", format!("{id}.1.abc").as_str()),
    ])
    .unwrap();
    let url = format!("{base}/slack/commands");
    let acknowledged = support::post_signed(client, &url, "application/x-www-form-urlencoded", body).await;
    assert!(acknowledged, "/incident {text} was not acknowledged");
}
