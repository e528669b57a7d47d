//! The `/incident` slash-command grammar: text in, [`Command`] or a
//! [`CommandError`] that names the problem and carries the right usage line.
//!
//! Parsing is total: any input yields a command or an error, never a panic
//! (property-tested in `tests.rs`). Subcommand families with grammar of
//! their own have their own file: `action.rs` (action items and due dates),
//! `failures.rs` (failure tickets); `usage.rs` holds every usage line.

use std::time::Duration;

use super::failure::TicketChange;
use super::impact_start::{self, StartedAt};
use super::status_page::ComponentState;
use super::{Severity, Status};

mod action;
mod failures;
#[cfg(test)]
mod tests;
pub mod usage;

pub use action::Due;
use action::parse_action;
use failures::{parse_failure, parse_failures};

/// A parsed `/incident` invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Open {
        title: String,
        severity: Option<Severity>,
        private: bool,
    },
    /// `open` without a title: show the declare form.
    OpenForm {
        severity: Option<Severity>,
        private: bool,
    },
    Severity(Severity),
    Status(Status),
    Lead {
        user: String,
    },
    Update {
        text: String,
    },
    /// `/incident update --public <text>`: also published on the status page.
    PublicUpdate {
        text: String,
    },
    /// `/incident impact <component> <state>`: a status-page component's state.
    Impact {
        component: String,
        state: ComponentState,
    },
    Note {
        text: String,
    },
    Decision {
        text: String,
    },
    Action {
        text: String,
        owner: Option<String>,
        due: Option<Due>,
    },
    /// `/incident action <n> jira`: export action item `n` to Jira.
    ExportAction {
        id: i64,
    },
    Resolve {
        summary: Option<String>,
    },
    Reopen {
        reason: Option<String>,
    },
    /// What will fire next for the incident, and when.
    Reminders,
    /// `/incident started <time>`: when the impact began.
    Started(StartedAt),
    PostmortemDone {
        link: Option<String>,
    },
    /// `/incident postmortem publish <summary>`: the post-mortem's summary for the status page.
    PostmortemPublish {
        summary: String,
    },
    /// `/incident failures [open|mine|tag:<t>]`.
    Failures(FailureList),
    /// `/incident failure <id>`: the whole ticket, analysis and recurrences included.
    ShowFailure {
        id: i64,
    },
    /// `/incident failure <id> assign @user | tag <t> | close <lesson>`.
    Failure {
        id: i64,
        change: TicketChange,
    },
    /// `/incident stats [window]`: MTTA, MTTR and friends over the last `window`.
    Stats {
        window: Duration,
    },
    List,
    Help,
}

/// The window `/incident stats` covers when none is given.
pub const DEFAULT_STATS_WINDOW: Duration = Duration::from_secs(30 * 86_400);

/// Which failure tickets to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureList {
    Open,
    Mine,
    Tagged(String),
}

/// Why a command could not be parsed, with the usage line to show the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}")]
pub struct CommandError {
    pub problem: String,
    pub usage: &'static str,
}

impl CommandError {
    fn new(problem: impl Into<String>, usage: &'static str) -> Self {
        Self {
            problem: problem.into(),
            usage,
        }
    }

    /// `/incident impact` named a component the status page does not have.
    pub fn unknown_component(name: &str, status: &crate::config::status::StatusSettings) -> Self {
        let known: Vec<&str> = status.components.iter().map(|c| c.name.as_str()).collect();
        let problem = match known.is_empty() {
            true => "the status page has no components: add [[status.components]] to the configuration".to_string(),
            false => format!(
                "there is no component `{}`; the status page has {}",
                truncate(name, 40),
                known.join(", ")
            ),
        };
        Self::new(problem, usage::IMPACT)
    }

    /// A time `/incident started` could not use.
    pub fn started(error: impact_start::StartedError) -> Self {
        Self::new(error.0, usage::STARTED)
    }

    /// The full ephemeral reply: the problem, then how to write it.
    pub fn reply(&self) -> String {
        // The problem may quote what was typed; neither it nor the usage
        // line's `<…>` placeholders may be parsed by Slack.
        format!(
            ":warning: {}\nUsage: `{}`",
            crate::text::literal(&self.problem),
            crate::text::literal(self.usage)
        )
    }
}

impl Command {
    /// True for commands that only make sense inside an incident channel.
    pub fn needs_incident_channel(&self) -> bool {
        !matches!(
            self,
            Command::Open { .. }
                | Command::OpenForm { .. }
                | Command::List
                | Command::Help
                | Command::Stats { .. }
                | Command::Failures(_)
                | Command::ShowFailure { .. }
                | Command::Failure { .. }
        )
    }

    /// True for commands answered straight from the request, with nothing to store.
    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            Command::List
                | Command::Help
                | Command::Reminders
                | Command::Failures(_)
                | Command::ShowFailure { .. }
                | Command::Stats { .. }
        )
    }
}

/// Parses the `text` of an `/incident` slash command.
pub fn parse(text: &str) -> Result<Command, CommandError> {
    let text = text.trim();
    let (verb, rest) = split_first_word(text);
    match verb.to_ascii_lowercase().as_str() {
        "" | "help" => Ok(Command::Help),
        "list" => no_arguments(rest, Command::List, usage::LIST),
        "reminders" => no_arguments(rest, Command::Reminders, usage::REMINDERS),
        "stats" => parse_stats(rest),
        "postmortem" => parse_postmortem(rest),
        "failures" => parse_failures(rest),
        "failure" => parse_failure(rest),
        "open" | "declare" => parse_open(rest),
        "sev" | "severity" => parse_severity(rest),
        "status" => parse_status(rest),
        "lead" => parse_lead(rest),
        "update" => parse_update(rest),
        "impact" => parse_impact(rest),
        "note" => required_text(rest, "a note needs text", usage::NOTE).map(|text| Command::Note { text }),
        "decision" => {
            required_text(rest, "a decision needs text", usage::DECISION).map(|text| Command::Decision { text })
        }
        "action" => parse_action(rest),
        "started" => StartedAt::parse(rest)
            .map(Command::Started)
            .map_err(|e| CommandError::new(e.0, usage::STARTED)),
        "resolve" => Ok(Command::Resolve {
            summary: optional_text(rest),
        }),
        "reopen" => Ok(Command::Reopen {
            reason: optional_text(rest),
        }),
        other => Err(CommandError::new(
            format!("`{}` is not an /incident subcommand", truncate(other, 40)),
            usage::ANY,
        )),
    }
}

fn split_first_word(text: &str) -> (&str, &str) {
    match text.split_once(char::is_whitespace) {
        Some((first, rest)) => (first, rest.trim()),
        None => (text, ""),
    }
}

fn split_last_word(text: &str) -> (&str, &str) {
    match text.rsplit_once(char::is_whitespace) {
        Some((rest, last)) => (rest.trim_end(), last),
        None => ("", text),
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

fn no_arguments(rest: &str, command: Command, usage: &'static str) -> Result<Command, CommandError> {
    if rest.is_empty() {
        Ok(command)
    } else {
        Err(CommandError::new("this subcommand takes no arguments", usage))
    }
}

fn required_text(rest: &str, problem: &str, usage: &'static str) -> Result<String, CommandError> {
    optional_text(rest).ok_or_else(|| CommandError::new(problem, usage))
}

fn optional_text(rest: &str) -> Option<String> {
    let trimmed = rest.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

fn parse_open(rest: &str) -> Result<Command, CommandError> {
    let (private, rest) = match split_first_word(rest) {
        ("--private", tail) => (true, tail),
        _ => (false, rest),
    };
    let (head, last) = split_last_word(rest);
    let (title, severity) = match last.parse::<Severity>() {
        Ok(severity) if last.to_ascii_lowercase().starts_with("sev") => (head, Some(severity)),
        _ => (rest, None),
    };
    let title = title.trim();
    if title.is_empty() {
        // No title: the declare form asks for one.
        return Ok(Command::OpenForm { severity, private });
    }
    Ok(Command::Open {
        title: title.to_string(),
        severity,
        private,
    })
}

fn parse_update(rest: &str) -> Result<Command, CommandError> {
    let (public, text) = match split_first_word(rest) {
        ("--public", text) => (true, text),
        _ => (false, rest),
    };
    let text = required_text(text, "an update needs text for customers", usage::UPDATE)?;
    Ok(match public {
        true => Command::PublicUpdate { text },
        false => Command::Update { text },
    })
}

fn parse_impact(rest: &str) -> Result<Command, CommandError> {
    let (component, state_word) = split_last_word(rest);
    if component.is_empty() {
        return Err(CommandError::new("name a component and its state", usage::IMPACT));
    }
    let state = ComponentState::parse(state_word).ok_or_else(|| {
        CommandError::new(
            format!("`{}` is not a component state", truncate(state_word, 40)),
            usage::IMPACT,
        )
    })?;
    Ok(Command::Impact {
        component: component.to_string(),
        state,
    })
}

fn parse_stats(rest: &str) -> Result<Command, CommandError> {
    if rest.is_empty() {
        return Ok(Command::Stats {
            window: DEFAULT_STATS_WINDOW,
        });
    }
    match humantime::parse_duration(rest) {
        Ok(window) if window >= Duration::from_secs(3600) && window <= Duration::from_secs(3650 * 86_400) => {
            Ok(Command::Stats { window })
        }
        _ => Err(CommandError::new(
            format!("`{}` is not a period from 1h to 3650d", truncate(rest, 40)),
            usage::STATS,
        )),
    }
}

fn parse_postmortem(rest: &str) -> Result<Command, CommandError> {
    match split_first_word(rest) {
        (done, link) if done.eq_ignore_ascii_case("done") => Ok(Command::PostmortemDone {
            link: optional_text(link),
        }),
        (publish, summary) if publish.eq_ignore_ascii_case("publish") => Ok(Command::PostmortemPublish {
            summary: required_text(
                summary,
                "publishing needs the summary customers will read",
                usage::POSTMORTEM,
            )?,
        }),
        _ => Err(CommandError::new(
            "say `done` once the post-mortem is written, or `publish <summary>` to put its summary on the status page",
            usage::POSTMORTEM,
        )),
    }
}

fn parse_severity(rest: &str) -> Result<Command, CommandError> {
    rest.parse::<Severity>().map(Command::Severity).map_err(|()| {
        CommandError::new(
            format!("`{}` is not a severity; use 1 (worst) to 4", truncate(rest, 40)),
            usage::SEV,
        )
    })
}

fn parse_status(rest: &str) -> Result<Command, CommandError> {
    rest.parse::<Status>()
        .map(Command::Status)
        .map_err(|()| CommandError::new(format!("`{}` is not a status", truncate(rest, 40)), usage::STATUS))
}

fn parse_lead(rest: &str) -> Result<Command, CommandError> {
    match parse_user_mention(rest) {
        Some(user) => Ok(Command::Lead { user }),
        None => Err(CommandError::new(
            "name the lead with an @mention so Slack sends their user id",
            usage::LEAD,
        )),
    }
}

/// Reads an escaped Slack mention: `<@U123>` or `<@U123|name>`.
pub fn parse_user_mention(token: &str) -> Option<String> {
    let inner = token.trim().strip_prefix("<@")?.strip_suffix('>')?;
    let id = inner.split('|').next()?;
    is_user_id(id).then(|| id.to_string())
}

/// A Slack user id (`U…` or `W…`, letters and digits), as every user id
/// that comes back from a select or a mention must be.
pub fn is_user_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.chars().all(|c| c.is_ascii_alphanumeric()) && id.starts_with(['U', 'W'])
}
