//! The demo's incident, step by step: what a person does in Slack (sent to
//! Rebound exactly as Slack sends it: form or JSON, signed with the signing
//! secret), what Rebound should do in answer (waited for in the simulator's
//! record of calls), and what Slack then shows.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use serde_json::json;

use super::render;
use crate::http_client::{self, HttpsClient};
use crate::slack_simulator::{FakeSlack, RecordedCall};

/// The responder who declares and leads; the simulator signs the browser in as her.
const DANA: &str = "U0DECLARER";
/// A teammate who flags a message as a failure.
const ALEX: &str = "U0ALEX";
/// How long one step may take before the demo gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends what Slack would send, signed.
struct Slack<'a> {
    simulator: &'a FakeSlack,
    base: &'a str,
    secret: &'a str,
    http: HttpsClient,
    sent: u32,
}

impl Slack<'_> {
    async fn post(&mut self, path: &str, content_type: &str, body: String) -> anyhow::Result<()> {
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let request = axum::http::Request::post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", &timestamp)
            .header(
                "x-slack-signature",
                crate::ingress::signature::sign(self.secret, &timestamp, &body),
            )
            .body(Full::new(Bytes::from(body)))?;
        let answer = http_client::send(&self.http, request, Duration::from_secs(10), 1 << 20)
            .await
            .map_err(|e| anyhow::anyhow!("Rebound did not answer {path}: {e}"))?;
        anyhow::ensure!(
            answer.status.is_success(),
            "Rebound answered {path} with {}",
            answer.status
        );
        Ok(())
    }

    /// `/incident <text>` typed by `user` in `channel`.
    async fn command(&mut self, text: &str, user: &str, channel: &str) -> anyhow::Result<()> {
        println!("  {} types: /incident {text}", render::person(user));
        self.sent += 1;
        let response_url = self.simulator.response_url(&format!("demo-{}", self.sent));
        let trigger = format!("demo.{}.trigger", self.sent);
        let body = serde_urlencoded::to_string([
            ("team_id", "T1"),
            ("team_domain", "demo"),
            ("channel_id", channel),
            ("channel_name", "general"),
            ("user_id", user),
            ("user_name", render::person(user).trim_start_matches('@')),
            ("command", "/incident"),
            ("text", text),
            ("api_app_id", "A1"),
            ("response_url", response_url.as_str()),
            ("trigger_id", trigger.as_str()),
        ])?;
        self.post("/slack/commands", "application/x-www-form-urlencoded", body)
            .await
    }

    /// `user` reacts with `emoji` to the message `ts` in `channel`.
    async fn react(&mut self, user: &str, emoji: &str, channel: &str, ts: &str) -> anyhow::Result<()> {
        println!("  {} reacts with :{emoji}:", render::person(user));
        self.sent += 1;
        let envelope = json!({
            "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
            "event_id": format!("EvDEMO{}", self.sent), "event_time": chrono::Utc::now().timestamp(),
            "event": { "type": "reaction_added", "user": user, "reaction": emoji, "item_user": ALEX,
                       "item": { "type": "message", "channel": channel, "ts": ts }, "event_ts": ts }
        });
        self.post("/slack/events", "application/json", envelope.to_string())
            .await
    }
}

/// What has been printed of the simulator's record.
struct Transcript<'a> {
    simulator: &'a FakeSlack,
    printed: usize,
}

impl Transcript<'_> {
    /// Waits until a call after the printed ones satisfies `done`, lets the
    /// calls that follow it arrive, then prints what Slack shows.
    async fn until(&mut self, what: &str, done: impl Fn(&RecordedCall) -> bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        while !self.simulator.all_calls()[self.printed..]
            .iter()
            .any(|c| c.ok() && done(c))
        {
            anyhow::ensure!(Instant::now() < deadline, "the demo waited {STEP_TIMEOUT:?} for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        let calls = self.simulator.all_calls();
        let channels = self.simulator.channels();
        for call in &calls[self.printed..] {
            if let Some(shown) = render::shown(call, &channels) {
                println!("{shown}");
            }
        }
        self.printed = calls.len();
        Ok(())
    }
}

fn text_has(call: &RecordedCall, needle: &str) -> bool {
    call.args["text"].as_str().is_some_and(|t| t.contains(needle))
}

fn heading(text: &str) {
    println!("\n── {text}");
}

/// Plays the incident against Rebound at `base`.
pub async fn play(simulator: &FakeSlack, base: &str, secret: &str) -> anyhow::Result<()> {
    let mut slack = Slack {
        simulator,
        base,
        secret,
        http: http_client::https_client(),
        sent: 0,
    };
    let mut transcript = Transcript { simulator, printed: 0 };

    heading("1. Dana declares an incident, without a severity yet");
    slack.command("open Checkout is down", DANA, "CGENERAL").await?;
    transcript
        .until("the announcement", |c| {
            c.method == "chat.postMessage" && c.args["channel"] == "incidents"
        })
        .await?;
    let channel = incident_channel(simulator)?;

    heading("2. Rebound asks for a severity until someone sets one");
    transcript
        .until("a severity prompt", |c| text_has(c, "has no severity yet"))
        .await?;

    heading("3. Dana sets the severity; the card and the announcement follow");
    slack.command("sev sev2", DANA, &channel).await?;
    transcript
        .until("the card's update", |c| c.method == "chat.update")
        .await?;

    heading("4. Dana posts a customer update, also on the public status page");
    slack.command("impact Checkout partial_outage", DANA, &channel).await?;
    slack
        .command(
            "update --public Card payments fail for some customers. We are failing over the payments database; next update in 30 minutes.",
            DANA,
            &channel,
        )
        .await?;
    transcript
        .until("the customer update", |c| text_has(c, "failing over"))
        .await?;

    heading("5. No update for a while: Rebound nudges (every 4 s in this demo)");
    transcript
        .until("an update nudge", |c| text_has(c, "since the last customer update"))
        .await?;

    heading("6. Alex flags a message as a failure; it becomes a ticket to learn from");
    let ts = simulator.add_message(
        &channel,
        ALEX,
        "The failover runbook still points at the old primary: we lost 10 minutes finding the new one.",
    );
    println!(
        "  {} writes in the channel: The failover runbook still points at the old primary…",
        render::person(ALEX)
    );
    slack.react(ALEX, "rotating_light", &channel, &ts).await?;
    transcript
        .until("the failure ticket's thread reply", |c| text_has(c, "failure ticket"))
        .await?;

    heading("7. Dana resolves; Rebound drafts the post-mortem");
    slack
        .command(
            "resolve Failed over to the replica; error rate back to normal.",
            DANA,
            &channel,
        )
        .await?;
    transcript
        .until("the post-mortem draft", |c| text_has(c, "post-mortem draft is ready"))
        .await?;

    heading("8. The managers' digest arrives on its schedule (every 5 s in this demo)");
    transcript
        .until("the digest", |c| text_has(c, "Incident digest"))
        .await?;
    Ok(())
}

/// The channel Rebound created for the incident.
fn incident_channel(simulator: &FakeSlack) -> anyhow::Result<String> {
    simulator
        .channels()
        .into_iter()
        .find(|c| c.name.starts_with("inc-"))
        .map(|c| c.id)
        .ok_or_else(|| anyhow::anyhow!("Rebound created no incident channel"))
}
