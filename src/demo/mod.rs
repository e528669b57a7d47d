//! `rebound demo`: Rebound at work with nothing else installed. It starts
//! Rebound on a temporary SQLite database against the Slack simulator (the
//! tests' fake Slack, compiled in), plays one scripted incident through
//! Rebound's real HTTP routes with requests signed as Slack signs them —
//! declare, severity prompt, severity, customer update, update nudge, a
//! captured failure ticket, resolve with the post-mortem draft, the manager
//! digest — and prints what Slack would have shown after each step. With
//! `--keep` it keeps running and prints the pages to open (the simulator
//! signs the browser in as the demo's responder).
//!
//! Nothing leaves 127.0.0.1 unless `REBOUND_ADDR` says so; the temporary
//! directory is removed at the end.

mod render;
mod script;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::Context;

use crate::config::Settings;
use crate::slack_simulator::{self as simulator, FakeSlack};
use crate::startup::{Application, Workers};

/// The signing secret the demo's "Slack" signs with (the simulator's own).
const SIGNING_SECRET: &str = "rebound-demo-signing-secret";

/// Fast timers so the whole story fits in under a minute.
const CONFIG: &str = r#"
[timers]
severity_prompt_every = "2s"

[severity.sev2]
update_every = "4s"

[digest]
cron = "*/5 * * * * *"
timezone = "UTC"
channel = "incident-managers"

[[status.components]]
name = "Checkout"
group = "Shop"
description = "Cart and payment"
"#;

/// Runs the demo; with `keep`, until SIGINT or SIGTERM.
pub async fn run(keep: bool) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("rebound-demo-{}-{}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&dir).context("creating the demo's temporary directory")?;
    let outcome = play(&dir, keep).await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn play(dir: &std::path::Path, keep: bool) -> anyhow::Result<()> {
    let slack = FakeSlack::try_start_on("127.0.0.1:0")
        .await
        .context("starting the Slack simulator on 127.0.0.1")?;
    slack.add_channel("incident-managers", "U0MANAGER", false);
    let addr = free_addr(std::env::var("REBOUND_ADDR").ok().as_deref().unwrap_or("127.0.0.1:0"))?;
    let internal = std::env::var("REBOUND_INTERNAL_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
    let internal = match internal.as_str() {
        "off" => "off".to_string(),
        other => free_addr(other)?.to_string(),
    };
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: the demo listens on {addr}, beyond this machine, with a signing secret anyone can read in \
             Rebound's source: use it on a trusted network only"
        );
    }
    let base = format!("http://{}", display_addr(addr));
    let config = dir.join("rebound.toml");
    let toml = format!("{CONFIG}\n[web]\npublic_url = \"{base}\"\n");
    std::fs::write(&config, toml).context("writing the demo configuration")?;
    let env: BTreeMap<String, String> = [
        ("SLACK_BOT_TOKEN", simulator::BOT_TOKEN.to_string()),
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_string()),
        ("SLACK_API_URL", slack.api_url()),
        ("SLACK_CLIENT_ID", simulator::oidc::CLIENT_ID.to_string()),
        ("SLACK_CLIENT_SECRET", simulator::oidc::CLIENT_SECRET.to_string()),
        ("DATABASE_URL", format!("sqlite://{}", dir.join("demo.db").display())),
        ("REBOUND_ADDR", addr.to_string()),
        ("REBOUND_INTERNAL_ADDR", internal),
        ("REBOUND_CONFIG", config.display().to_string()),
        ("REBOUND_REPLICA", "demo".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let settings = Settings::load(&env)?;
    let app = Application::start(settings, Workers::default()).await?;
    println!(
        "Rebound {} on {base}, Slack simulated on {}",
        env!("CARGO_PKG_VERSION"),
        slack.api_url()
    );
    println!("(a temporary SQLite database; nothing here reaches Slack)\n");
    let played = script::play(&slack, &base, SIGNING_SECRET).await;
    if let Err(error) = played {
        app.stop().await;
        return Err(error);
    }
    println!("\nOpen in a browser (the simulator signs you in as Dana, the responder):");
    println!("  incident       {base}/incidents/1");
    println!("  post-mortem    {base}/incidents/1/postmortem");
    println!("  metrics        {base}/metrics-dashboard");
    println!("  status page    {base}/status");
    if keep {
        println!("\nRebound keeps running (--keep); Ctrl-C stops it and deletes the demo database.");
        app.run_until_signal().await
    } else {
        println!("\nRun `rebound demo --keep` to keep it running and open those pages.");
        app.stop().await;
        Ok(())
    }
}

/// `addr` with a port chosen now when it asks for any (`:0`), so the
/// public URL in links and sign-in redirects is known before Rebound binds.
fn free_addr(addr: &str) -> anyhow::Result<SocketAddr> {
    let addr: SocketAddr = addr.parse().with_context(|| format!("{addr:?} is not HOST:PORT"))?;
    if addr.port() != 0 {
        return Ok(addr);
    }
    let probe = std::net::TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
    Ok(probe.local_addr()?)
}

/// Where a browser on this machine reaches `addr`.
fn display_addr(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        ip if ip.is_unspecified() => SocketAddr::from(([127, 0, 0, 1], addr.port())),
        _ => addr,
    }
}
