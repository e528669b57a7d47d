//! Command-line entry points, exactly as `../shared/INTERFACE.md` lists them.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;

use crate::config::{ProcessEnv, Settings, redact_database_url};
use crate::startup::{Application, Workers};
use crate::{manifest, reports, store, telemetry};

/// Rebound: a self-hosted Slack incident-response bot.
///
/// Configuration comes from environment variables (SLACK_BOT_TOKEN,
/// SLACK_SIGNING_SECRET, SLACK_API_URL, DATABASE_URL, REBOUND_ADDR,
/// REBOUND_CONFIG, RUST_LOG) and an optional TOML file named by REBOUND_CONFIG.
#[derive(Debug, Parser)]
#[command(name = "rebound", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: CliCommand,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Run the HTTP server (Slack Events API mode) and the background workers.
    ///
    /// Applies pending migrations first. Stops gracefully on SIGTERM/SIGINT,
    /// leaving unfinished work in the database for the next start.
    Serve {
        /// Receive Slack traffic over Socket Mode (needs SLACK_APP_TOKEN), so no public URL is needed.
        #[arg(long)]
        socket_mode: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print the Slack app manifest (YAML) for a public base URL, or for Socket Mode.
    Manifest {
        /// Public base URL Slack will call, e.g. https://rebound.example.com
        #[arg(long, required_unless_present = "socket_mode", conflicts_with = "socket_mode")]
        url: Option<url::Url>,
        /// A manifest for `serve --socket-mode`: no request URLs needed.
        #[arg(long)]
        socket_mode: bool,
    },
    /// Validate configuration and print the effective settings, secrets redacted.
    Check {
        /// Check the settings `serve --socket-mode` needs.
        #[arg(long)]
        socket_mode: bool,
    },
    /// Print the post-mortem draft (Markdown) of an incident, e.g. `rebound postmortem 42`.
    Postmortem {
        /// The incident number (`42` or `INC-42`).
        id: String,
    },
    /// Alert intake tools: `rebound intake test <source>`.
    Intake {
        #[command(subcommand)]
        command: IntakeCommand,
    },
    /// Web sign-in sessions: `rebound sessions list`, `rebound sessions revoke --user U… | --all`.
    Sessions {
        #[command(subcommand)]
        command: SessionsCommand,
    },
    /// Write incidents with their metrics (MTTA, MTTR, updates, comms SLO) to stdout.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
        /// Only incidents declared on or after this date (YYYY-MM-DD, UTC) or instant (RFC 3339).
        #[arg(long, value_parser = parse_since)]
        since: Option<chrono::DateTime<chrono::Utc>>,
    },
}

/// `rebound intake …`.
#[derive(Debug, Subcommand)]
pub enum IntakeCommand {
    /// Post a sample alert, authenticated as the source's sender, to a running Rebound.
    ///
    /// It opens (or, with --resolved, clears) a sev4 incident titled
    /// "Rebound intake test from <source>", like a real alert would.
    Test {
        /// The source's `name` in `[[intake.sources]]`.
        source: String,
        /// Where Rebound listens (default: REBOUND_ADDR on this host).
        #[arg(long)]
        url: Option<url::Url>,
        /// Send the alert's recovery instead.
        #[arg(long)]
        resolved: bool,
    },
}

/// `rebound sessions …`.
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Print the live sessions: user, name, started, expires.
    List,
    /// End sessions at once: one person's (`--user U0123`) or everyone's (`--all`).
    Revoke {
        /// The Slack user id whose sessions end.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        user: Option<String>,
        /// End every live session.
        #[arg(long)]
        all: bool,
    },
}

/// How `rebound export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// A JSON array of objects.
    Json,
    /// CSV with a header row.
    Csv,
}

fn parse_since(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|at| at.to_utc())
        .map_err(|_| format!("{text:?} is not a date: use YYYY-MM-DD or an RFC 3339 time"))
}

/// Parses arguments and runs the chosen command.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init();
    match execute(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: CliCommand) -> anyhow::Result<()> {
    match command {
        CliCommand::Manifest { url, socket_mode } => {
            let manifest = match url {
                Some(url) if !socket_mode => manifest::manifest(url.as_str()),
                _ => manifest::socket_mode_manifest(),
            };
            print!("{}", manifest::to_yaml(&manifest));
            Ok(())
        }
        CliCommand::Check { socket_mode } => {
            let mut settings = Settings::load(&ProcessEnv)?;
            settings.socket_mode |= socket_mode;
            print!("{}", describe(&settings));
            settings.require_for_serve()?;
            Ok(())
        }
        CliCommand::Migrate => {
            let settings = Settings::load(&ProcessEnv)?;
            let store = store::connect(settings.database_url.expose_secret()).await?;
            store.migrate().await?;
            println!(
                "migrations applied to {}",
                redact_database_url(settings.database_url.expose_secret())
            );
            Ok(())
        }
        CliCommand::Postmortem { id } => {
            let (settings, store) = open_for_reading().await?;
            let number: i64 = id
                .trim_start_matches("INC-")
                .parse()
                .map_err(|_| anyhow::anyhow!("{id:?} is not an incident number (e.g. 42 or INC-42)"))?;
            let markdown = reports::postmortem_markdown(store.as_ref(), &settings.file, number, chrono::Utc::now())
                .await?
                .ok_or_else(|| anyhow::anyhow!("there is no incident {id}"))?;
            print!("{markdown}");
            Ok(())
        }
        CliCommand::Export { format, since } => {
            let (settings, store) = open_for_reading().await?;
            let since = since.unwrap_or(chrono::DateTime::UNIX_EPOCH);
            let measured = reports::measured_since(store.as_ref(), since, chrono::Utc::now()).await?;
            let rows: Vec<reports::ExportRow> = measured
                .iter()
                .map(|(incident, metrics)| reports::ExportRow::new(incident, metrics, &settings.file))
                .collect();
            let stdout = std::io::stdout().lock();
            match format {
                ExportFormat::Json => {
                    serde_json::to_writer_pretty(stdout, &rows)?;
                    println!();
                }
                ExportFormat::Csv => {
                    let mut writer = csv::Writer::from_writer(stdout);
                    for row in &rows {
                        writer.serialize(row.for_spreadsheet())?;
                    }
                    writer.flush()?;
                }
            }
            Ok(())
        }
        CliCommand::Intake {
            command: IntakeCommand::Test { source, url, resolved },
        } => intake_test(&source, url, resolved).await,
        CliCommand::Sessions { command } => sessions(command).await,
        CliCommand::Serve { socket_mode } => {
            let mut settings = Settings::load(&ProcessEnv)?;
            settings.socket_mode |= socket_mode;
            settings.require_for_serve()?;
            Application::start(settings, Workers::default())
                .await?
                .run_until_signal()
                .await
        }
    }
}

/// `rebound intake test`: prints what it sent and what Rebound answered;
/// fails unless Rebound accepted it.
async fn intake_test(name: &str, url: Option<url::Url>, resolved: bool) -> anyhow::Result<()> {
    let settings = Settings::load(&ProcessEnv)?;
    let Some(source) = settings.file.intake.named(name) else {
        let known: Vec<&str> = settings.file.intake.sources.iter().map(|s| s.name.as_str()).collect();
        anyhow::bail!("no intake source named {name:?} (configured: {})", known.join(", "));
    };
    let base = match url {
        Some(url) => url,
        None => local_url(settings.addr)?,
    };
    let request = crate::intake::sample::sample(source, resolved, chrono::Utc::now())?;
    println!(
        "POST {}{}
{}",
        base.as_str().trim_end_matches('/'),
        request.path,
        crate::intake::sample::pretty(&request.body)
    );
    let (status, answer) = crate::intake::sample::send(&base, &request).await?;
    println!("→ {status} {}", answer.trim());
    if !(200..300).contains(&status) {
        anyhow::bail!("Rebound refused the sample ({status})");
    }
    Ok(())
}

/// `rebound sessions list | revoke`.
async fn sessions(command: SessionsCommand) -> anyhow::Result<()> {
    let (_, store) = open_for_reading().await?;
    let now = chrono::Utc::now();
    match command {
        SessionsCommand::List => {
            let live = store.live_sessions(now).await?;
            println!(
                "{:<12} {:<24} {:<20} {:<20}",
                "user", "name", "started (UTC)", "expires (UTC)"
            );
            for (started, session) in &live {
                let name: String = session.name.chars().filter(|c| !c.is_control()).take(24).collect();
                println!(
                    "{:<12} {name:<24} {:<20} {:<20}",
                    session.user_id,
                    started.format("%Y-%m-%d %H:%M"),
                    session.expires_at.format("%Y-%m-%d %H:%M")
                );
            }
            println!("{} live session(s)", live.len());
        }
        SessionsCommand::Revoke { user: Some(user), .. } => {
            let ended = store.revoke_sessions_of(&user, now).await?;
            println!("ended {ended} session(s) of {user}");
        }
        SessionsCommand::Revoke { user: None, .. } => {
            let ended = store.revoke_all_sessions(now).await?;
            println!("ended {ended} session(s); everyone signs in again");
        }
    }
    Ok(())
}

/// `http://` + the listen address, with an unspecified IP as this host.
fn local_url(addr: std::net::SocketAddr) -> anyhow::Result<url::Url> {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
        ip => ip,
    };
    Ok(url::Url::parse(&format!(
        "http://{}/",
        std::net::SocketAddr::new(ip, addr.port())
    ))?)
}

/// Settings and a store for the read-only commands; refuses an unmigrated database.
async fn open_for_reading() -> anyhow::Result<(Settings, std::sync::Arc<store::Store>)> {
    let settings = Settings::load(&ProcessEnv)?;
    let store = store::connect(settings.database_url.expose_secret()).await?;
    if !store.check_ready().await? {
        anyhow::bail!("the database is not migrated: run `rebound migrate` first");
    }
    Ok((settings, store))
}

/// The effective settings, one per line, secrets shown only as set/unset.
fn describe(settings: &Settings) -> String {
    let secret = |value: &Option<secrecy::SecretString>| {
        if value.is_some() {
            "[set, redacted]"
        } else {
            "[not set]"
        }
    };
    let file = &settings.file;
    let mut lines = vec![
        format!("SLACK_BOT_TOKEN        {}", secret(&settings.bot_token)),
        format!("SLACK_SIGNING_SECRET   {}", secret(&settings.signing_secret)),
        format!("SLACK_APP_TOKEN        {}", secret(&settings.app_token)),
        format!("SLACK_API_URL          {}", settings.slack_api_url),
        format!("socket mode            {}", settings.socket_mode),
        format!(
            "DATABASE_URL           {}",
            redact_database_url(settings.database_url.expose_secret())
        ),
        format!("REBOUND_ADDR           {}", settings.addr),
        format!(
            "REBOUND_INTERNAL_ADDR  {}",
            settings
                .internal_addr
                .map(|a| a.to_string())
                .unwrap_or_else(|| "off".into())
        ),
        format!("REBOUND_REPLICA        {}", settings.replica),
        format!("slack.announce_channel {}", file.slack.announce_channel),
        format!("slack.channel_prefix   {}", file.slack.channel_prefix),
    ];
    for severity in crate::domain::Severity::ALL {
        lines.push(format!(
            "severity.{severity}.update_every {}",
            humantime::format_duration(file.update_every(severity))
        ));
    }
    lines.push(format!(
        "timers.severity_prompt_every {}",
        humantime::format_duration(file.timers.severity_prompt_every)
    ));
    lines.push(format!(
        "timers.postmortem_due_after {}",
        humantime::format_duration(file.timers.postmortem_due_after)
    ));
    lines.push(format!(
        "timers.postmortem_remind_every {}",
        humantime::format_duration(file.timers.postmortem_remind_every)
    ));
    lines.push(format!("failures.emoji {}", file.failures.emoji.join(", ")));
    lines.push(format!(
        "failures.untriaged_after {}",
        humantime::format_duration(file.failures.untriaged_after)
    ));
    lines.push(format!(
        "web.public_url {}",
        file.web.public_url.as_deref().unwrap_or("[not set]")
    ));
    let rates: Vec<String> = file
        .cost
        .per_minute
        .iter()
        .map(|(severity, rate)| format!("{severity} {rate}/min"))
        .collect();
    lines.push(format!("cost {} {}", file.cost.currency, rates.join(", ")));
    lines.push(format!(
        "digest {} ({}) → {}",
        file.digest.cron, file.digest.timezone, file.digest.channel
    ));
    lines.push(format!(
        "permissions.resolve {:?}, admins [{}]",
        file.permissions.resolve,
        file.permissions.admins.join(", ")
    ));
    lines.extend(intake_lines(settings));
    lines.join("\n") + "\n"
}

/// One line per intake source: its kind, its URL, what it does, and how it
/// authenticates (never the secret).
fn intake_lines(settings: &Settings) -> Vec<String> {
    let intake = &settings.file.intake;
    let base = settings
        .file
        .web
        .public_url
        .as_deref()
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("http://{}", settings.addr));
    let mut lines = vec![format!(
        "intake {} source(s), {} route(s), summary every {}",
        intake.sources.len(),
        intake.routes.len(),
        humantime::format_duration(intake.summary_every)
    )];
    for source in &intake.sources {
        let path = match source.kind {
            crate::domain::alerts::SourceKind::Opsgenie => "/v2/alerts".to_string(),
            kind => format!("/hooks/{}/{}", kind.as_str(), source.name),
        };
        let mut line = format!(
            "intake.{} {} {base}{path} → {}{}{}",
            source.name,
            source.kind.as_str(),
            source.action.as_str(),
            if source.auto_resolve { ", auto_resolve" } else { "" },
            source
                .responders
                .as_deref()
                .map(|g| format!(", responders {g}"))
                .unwrap_or_default()
        );
        if !source.topic_arns.is_empty() {
            line.push_str(&format!(", topics [{}]", source.topic_arns.join(", ")));
        }
        if let Some(origin) = &source.insecure_test_origin {
            line.push_str(&format!(", INSECURE test origin {origin}"));
        }
        lines.push(line);
    }
    lines
}
