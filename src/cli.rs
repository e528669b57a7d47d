//! Command-line entry points, exactly as `../shared/INTERFACE.md` lists them.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;

use crate::config::{ProcessEnv, Settings, redact_database_url};
use crate::startup::{Application, Workers};
use crate::{manifest, preflight, reports, store, telemetry};

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
        /// Do not apply migrations (run `rebound migrate` as its own deploy step); refuse to start
        /// unless the schema is exactly this release's.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Apply database migrations and exit (under a lock: concurrent runs apply each once).
    Migrate {
        /// Apply pending migrations where nothing is kept (a copy of a SQLite database, a
        /// rolled-back Postgres transaction) and report each one.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the Slack app manifest (YAML) for a public base URL, or for Socket Mode.
    Manifest {
        /// Public base URL Slack will call, e.g. https://rebound.example.com
        #[arg(long, required_unless_present = "socket_mode", conflicts_with = "socket_mode")]
        url: Option<url::Url>,
        /// A manifest for `serve --socket-mode`: no request URLs needed.
        #[arg(long)]
        socket_mode: bool,
    },
    /// Validate configuration, print the effective settings (secrets redacted), then check that
    /// the database, the bot token and its scopes, the channels and Socket Mode work.
    ///
    /// Exits non-zero with each problem and its fix on its own line.
    Check {
        /// Check the settings `serve --socket-mode` needs.
        #[arg(long)]
        socket_mode: bool,
        /// Skip the checks that need the network (Slack, a Postgres server).
        #[arg(long)]
        offline: bool,
    },
    /// See Rebound work without Slack: a scripted incident against a built-in Slack simulator.
    ///
    /// Starts Rebound on a temporary SQLite database (honours REBOUND_ADDR and
    /// REBOUND_INTERNAL_ADDR; 127.0.0.1 with free ports by default), plays an incident
    /// from declaration to post-mortem and digest, and prints what Slack would show.
    Demo {
        /// Keep running afterwards, to open the incident, post-mortem and status pages.
        #[arg(long)]
        keep: bool,
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
    match cli.command {
        CliCommand::Demo { .. } => telemetry::init_with_default("warn"),
        _ => telemetry::init(),
    }
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
        CliCommand::Check { socket_mode, offline } => {
            let mut settings = Settings::load(&ProcessEnv)?;
            settings.socket_mode |= socket_mode;
            print!("{}", crate::config::describe(&settings));
            println!();
            // Findings in order; problems on stderr, so a script sees them alone.
            let findings = preflight::check(&settings, offline).await;
            for finding in &findings {
                match finding.is_problem() {
                    false => println!("{}", finding.line()),
                    true => eprintln!("{}", finding.line()),
                }
            }
            match findings.iter().filter(|f| f.is_problem()).count() {
                0 => Ok(()),
                problems => anyhow::bail!("{problems} problem(s) found"),
            }
        }
        CliCommand::Migrate { dry_run } => migrate(dry_run).await,
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
        CliCommand::Demo { keep } => crate::demo::run(keep).await,
        CliCommand::Serve {
            socket_mode,
            no_migrate,
        } => {
            let mut settings = Settings::load(&ProcessEnv)?;
            settings.socket_mode |= socket_mode;
            settings.migrate_on_start = !no_migrate;
            settings.require_for_serve()?;
            Application::start(settings, Workers::default())
                .await?
                .run_until_signal()
                .await
        }
    }
}

/// `rebound migrate [--dry-run]`: what was (or would be) applied.
async fn migrate(dry_run: bool) -> anyhow::Result<()> {
    let settings = Settings::load(&ProcessEnv)?;
    let shown = redact_database_url(settings.database_url.expose_secret());
    let store = store::connect(settings.database_url.expose_secret()).await?;
    let before = store.schema().await?;
    if !dry_run {
        store.migrate().await?;
        let after = store.schema().await?;
        let applied = after.applied.len().saturating_sub(before.applied.len());
        println!("migrations applied to {shown}: {applied} new; {}", after.summary());
        return Ok(());
    }
    println!("dry run on {shown}: {}", before.summary());
    let trials = store.dry_run_migrations().await?;
    for trial in &trials {
        let took = humantime::format_duration(std::time::Duration::from_millis(trial.took.as_millis() as u64));
        match &trial.outcome {
            Ok(()) => println!("ok      {} ({took})", trial.migration.label()),
            Err(why) => println!("failed  {} ({took}): {why}", trial.migration.label()),
        }
    }
    if let Some(failed) = trials.iter().find(|t| t.outcome.is_err()) {
        anyhow::bail!(
            "{} would fail; nothing was changed. Fix the data it names, or report it with this output",
            failed.migration.label()
        );
    }
    println!("{} migration(s) would apply; nothing was changed", trials.len());
    Ok(())
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
