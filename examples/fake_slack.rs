//! Runs the tests' fake Slack Web API on `FAKE_SLACK_ADDR` (default
//! 127.0.0.1:3001) and prints every call Rebound makes, so you can try
//! Rebound without a Slack workspace. Point Rebound at it with
//! `SLACK_API_URL=http://127.0.0.1:3001/api SLACK_BOT_TOKEN=xoxb-test-token`.

use rebound::slack_simulator as fake_slack;

#[tokio::main]
async fn main() {
    let addr = std::env::var("FAKE_SLACK_ADDR").unwrap_or_else(|_| "127.0.0.1:3001".into());
    let fake = fake_slack::FakeSlack::start_on(&addr).await;
    println!(
        "fake Slack on {}; bot token {}; #incidents exists",
        fake.api_url(),
        fake_slack::BOT_TOKEN
    );
    let mut shown = 0;
    loop {
        let calls = fake.all_calls();
        for call in &calls[shown..] {
            let outcome = call.error.clone().unwrap_or_else(|| "ok".into());
            println!("{} [{}] {}", call.method, outcome, call.args);
        }
        shown = calls.len();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
