//! Sends `/incident <args>` to a running Rebound, signed with
//! `SLACK_SIGNING_SECRET` exactly as Slack signs it, and prints the reply.
//!
//! `REBOUND_URL` (default http://127.0.0.1:3000), `SLACK_USER` (default
//! U0DEMO), `SLACK_CHANNEL` (default C0GENERAL) and `FAKE_SLACK_URL` (default
//! http://127.0.0.1:3001, where the receipt is posted) can be set.

#[tokio::main]
async fn main() {
    let text = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let secret = std::env::var("SLACK_SIGNING_SECRET").expect("set SLACK_SIGNING_SECRET to Rebound's signing secret");
    let base = std::env::var("REBOUND_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let fake = std::env::var("FAKE_SLACK_URL").unwrap_or_else(|_| "http://127.0.0.1:3001".into());
    let user = std::env::var("SLACK_USER").unwrap_or_else(|_| "U0DEMO".into());
    let channel = std::env::var("SLACK_CHANNEL").unwrap_or_else(|_| "C0GENERAL".into());
    let id = format!("{}", chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default());
    let body = serde_urlencoded::to_string([
        ("team_id", "T1"),
        ("channel_id", channel.as_str()),
        ("user_id", user.as_str()),
        ("command", "/incident"),
        ("text", text.as_str()),
        ("response_url", format!("{fake}/response/{id}").as_str()),
        ("trigger_id", format!("{id}.1.demo").as_str()),
    ])
    .unwrap();
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = rebound::ingress::signature::sign(&secret, &timestamp, &body);
    let response = reqwest::Client::new()
        .post(format!("{base}/slack/commands"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Slack-Request-Timestamp", timestamp)
        .header("X-Slack-Signature", signature)
        .body(body)
        .send()
        .await
        .expect("Rebound is not reachable; is `rebound serve` running?");
    println!("HTTP {}", response.status());
    println!("{}", response.text().await.unwrap_or_default());
}
