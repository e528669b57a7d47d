//! The `/incident` slash-command grammar: text in, [`Command`] or a
//! [`CommandError`] that names the problem and carries the right usage line.
//!
//! Parsing is total: any input yields a command or an error, never a panic
//! (property-tested below).

use std::time::Duration;

use chrono::NaiveDate;

use super::clock;
use super::failure::TicketChange;
use super::impact_start::{self, StartedAt};
use super::status_page::ComponentState;
use super::{Severity, Status};

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

/// When an action item is due: a calendar date or a duration from now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    Date(NaiveDate),
    In(Duration),
}

impl Due {
    /// The moment it is due (a date means 17:00 UTC that day), or an error
    /// naming the problem when that is more than ten years after `now`.
    pub fn at(&self, now: chrono::DateTime<chrono::Utc>) -> Result<chrono::DateTime<chrono::Utc>, CommandError> {
        let at = match self {
            Due::Date(date) => date.and_hms_opt(17, 0, 0).map(|t| t.and_utc()),
            Due::In(duration) => clock::ahead(now, *duration),
        };
        at.filter(|at| clock::within_reach(now, *at))
            .ok_or_else(|| CommandError::new(TOO_FAR_AHEAD, usage::ACTION))
    }
}

const TOO_FAR_AHEAD: &str = "a due date can be at most 10 years ahead";

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

pub mod usage {
    //! One usage line per subcommand, shown with every error.
    pub const OPEN: &str = "/incident open [--private] [<title>] [sev1|sev2|sev3|sev4]";
    pub const SEV: &str = "/incident sev <1-4>";
    pub const STATUS: &str = "/incident status <investigating|identified|monitoring|resolved>";
    pub const LEAD: &str = "/incident lead @user";
    pub const UPDATE: &str = "/incident update [--public] <text>";
    pub const IMPACT: &str = "/incident impact <component> <operational|degraded|partial|major|maintenance>";
    pub const NOTE: &str = "/incident note <text>";
    pub const DECISION: &str = "/incident decision <text>";
    pub const ACTION: &str =
        "/incident action <text> [@owner] [due <YYYY-MM-DD|duration like 3d>] | action <n> jira (export item n)";
    pub const RESOLVE: &str = "/incident resolve [summary]";
    pub const REOPEN: &str = "/incident reopen [reason]";
    pub const LIST: &str = "/incident list";
    pub const REMINDERS: &str = "/incident reminders";
    pub const POSTMORTEM: &str = "/incident postmortem done [link] | publish <summary for the status page>";
    pub const FAILURES: &str = "/incident failures [open|mine|tag:<tag>]";
    pub const FAILURE: &str = "/incident failure <id> [assign @user | tag <tag> | close <lesson learned>]";
    pub const STATS: &str = "/incident stats [period like 30d]";
    pub const STARTED: &str = super::impact_start::USAGE;
    pub const HELP: &str = "/incident help";
    pub const ANY: &str = "/incident <open|sev|status|lead|update|impact|note|decision|action|started|resolve|reopen|postmortem|reminders|failures|failure|stats|list|help> …";

    /// Every usage line, in the order `/incident help` shows them.
    pub const ALL: [&str; 19] = [
        OPEN, SEV, STATUS, LEAD, UPDATE, IMPACT, NOTE, DECISION, ACTION, STARTED, RESOLVE, REOPEN, POSTMORTEM,
        REMINDERS, FAILURES, FAILURE, STATS, LIST, HELP,
    ];
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

fn parse_failures(rest: &str) -> Result<Command, CommandError> {
    let lower = rest.to_ascii_lowercase();
    match lower.as_str() {
        "" | "open" => Ok(Command::Failures(FailureList::Open)),
        "mine" => Ok(Command::Failures(FailureList::Mine)),
        tag if tag.starts_with("tag:") && tag.len() > 4 => {
            Ok(Command::Failures(FailureList::Tagged(tag[4..].to_string())))
        }
        _ => Err(CommandError::new(
            format!("`{}` is not a failure list", truncate(rest, 40)),
            usage::FAILURES,
        )),
    }
}

fn parse_failure(rest: &str) -> Result<Command, CommandError> {
    let (id, rest) = split_first_word(rest);
    let Ok(id) = id.trim_start_matches('#').parse::<i64>() else {
        return Err(CommandError::new(
            format!("`{}` is not a failure number", truncate(id, 40)),
            usage::FAILURE,
        ));
    };
    let (verb, argument) = split_first_word(rest);
    if verb.is_empty() {
        return Ok(Command::ShowFailure { id });
    }
    let change = match verb.to_ascii_lowercase().as_str() {
        "assign" => match parse_user_mention(argument) {
            Some(user) => TicketChange::Assign(user),
            None => return Err(CommandError::new("name the owner with an @mention", usage::FAILURE)),
        },
        "tag" if !argument.is_empty() => TicketChange::Tag(argument.to_string()),
        "close" => TicketChange::Close {
            lesson: argument.to_string(),
        },
        _ => {
            return Err(CommandError::new(
                "say what to do: assign, tag or close",
                usage::FAILURE,
            ));
        }
    };
    Ok(Command::Failure { id, change })
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

fn parse_action(rest: &str) -> Result<Command, CommandError> {
    if let Some((number, "jira")) = rest.trim().split_once(char::is_whitespace).map(|(n, w)| (n, w.trim()))
        && let Ok(id) = number.trim_start_matches('#').parse::<i64>()
        && id > 0
    {
        return Ok(Command::ExportAction { id });
    }
    let (rest, due) = take_trailing_due(rest)?;
    let (head, last) = split_last_word(rest);
    let (text, owner) = match parse_user_mention(last) {
        Some(owner) => (head, Some(owner)),
        None => (rest, None),
    };
    let text = required_text(text, "an action item needs a description", usage::ACTION)?;
    Ok(Command::Action { text, owner, due })
}

fn take_trailing_due(rest: &str) -> Result<(&str, Option<Due>), CommandError> {
    let (head, value) = split_last_word(rest);
    let (before, keyword) = split_last_word(head);
    if !keyword.eq_ignore_ascii_case("due") {
        return Ok((rest, None));
    }
    parse_due(value).map(|due| (before, Some(due)))
}

fn parse_due(value: &str) -> Result<Due, CommandError> {
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(Due::Date(date));
    }
    match humantime::parse_duration(value) {
        Ok(duration) if duration > clock::MAX_AHEAD => Err(CommandError::new(TOO_FAR_AHEAD, usage::ACTION)),
        Ok(duration) if !duration.is_zero() => Ok(Due::In(duration)),
        _ => Err(CommandError::new(
            format!(
                "`{}` is not a due date; write a date like 2026-12-01 or a duration like 3d",
                truncate(value, 40)
            ),
            usage::ACTION,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn open_takes_a_trailing_severity() {
        assert_eq!(
            parse("open Checkout is down sev1"),
            Ok(Command::Open {
                title: "Checkout is down".into(),
                severity: Some(Severity::Sev1),
                private: false
            })
        );
    }

    #[test]
    fn open_without_severity_keeps_the_whole_title() {
        assert_eq!(
            parse("open  Payments 3 slow "),
            Ok(Command::Open {
                title: "Payments 3 slow".into(),
                severity: None,
                private: false
            })
        );
    }

    #[test]
    fn open_private_is_flagged() {
        assert_eq!(
            parse("open --private Leaked key SEV2"),
            Ok(Command::Open {
                title: "Leaked key".into(),
                severity: Some(Severity::Sev2),
                private: true
            })
        );
    }

    #[test]
    fn open_without_title_asks_with_the_declare_form() {
        assert_eq!(
            parse("open"),
            Ok(Command::OpenForm {
                severity: None,
                private: false
            })
        );
        assert_eq!(
            parse("open sev1"),
            Ok(Command::OpenForm {
                severity: Some(Severity::Sev1),
                private: false
            })
        );
        assert_eq!(
            parse("open --private"),
            Ok(Command::OpenForm {
                severity: None,
                private: true
            })
        );
    }

    #[test]
    fn empty_text_and_help_give_help() {
        assert_eq!(parse(""), Ok(Command::Help));
        assert_eq!(parse("  HELP "), Ok(Command::Help));
    }

    #[test]
    fn list_rejects_arguments() {
        assert_eq!(parse("list"), Ok(Command::List));
        assert_eq!(parse("list all").unwrap_err().usage, usage::LIST);
    }

    #[test]
    fn unknown_subcommand_names_itself() {
        let error = parse("explode now").unwrap_err();
        assert!(error.problem.contains("`explode`"));
        assert_eq!(error.usage, usage::ANY);
    }

    #[test]
    fn severity_and_status_validate_their_argument() {
        assert_eq!(parse("sev 2"), Ok(Command::Severity(Severity::Sev2)));
        assert_eq!(parse("sev sev3"), Ok(Command::Severity(Severity::Sev3)));
        assert_eq!(parse("sev 9").unwrap_err().usage, usage::SEV);
        assert_eq!(parse("status monitoring"), Ok(Command::Status(Status::Monitoring)));
        assert_eq!(parse("status done").unwrap_err().usage, usage::STATUS);
    }

    #[test]
    fn lead_needs_an_escaped_mention() {
        assert_eq!(
            parse("lead <@U024BE7LH|ana>"),
            Ok(Command::Lead {
                user: "U024BE7LH".into()
            })
        );
        assert_eq!(parse("lead <@W01>"), Ok(Command::Lead { user: "W01".into() }));
        assert_eq!(parse("lead @ana").unwrap_err().usage, usage::LEAD);
        assert_eq!(parse("lead").unwrap_err().usage, usage::LEAD);
    }

    #[test]
    fn text_commands_need_text() {
        assert_eq!(
            parse("note db failover started"),
            Ok(Command::Note {
                text: "db failover started".into()
            })
        );
        assert_eq!(
            parse("decision roll back"),
            Ok(Command::Decision {
                text: "roll back".into()
            })
        );
        assert_eq!(
            parse("update We are investigating"),
            Ok(Command::Update {
                text: "We are investigating".into()
            })
        );
        for (text, expected) in [
            ("note", usage::NOTE),
            ("decision  ", usage::DECISION),
            ("update", usage::UPDATE),
        ] {
            assert_eq!(parse(text).unwrap_err().usage, expected);
        }
    }

    #[test]
    fn action_reads_owner_and_due_from_the_end() {
        assert_eq!(
            parse("action add a retry budget <@U1|bo> due 2026-12-01"),
            Ok(Command::Action {
                text: "add a retry budget".into(),
                owner: Some("U1".into()),
                due: Some(Due::Date(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())),
            })
        );
        assert_eq!(
            parse("action write runbook due 3d"),
            Ok(Command::Action {
                text: "write runbook".into(),
                owner: None,
                due: Some(Due::In(Duration::from_secs(3 * 86400)))
            })
        );
        assert_eq!(
            parse("action fix alerts <@U2>"),
            Ok(Command::Action {
                text: "fix alerts".into(),
                owner: Some("U2".into()),
                due: None
            })
        );
    }

    #[test]
    fn action_rejects_bad_due_and_missing_text() {
        assert!(
            parse("action fix it due someday")
                .unwrap_err()
                .problem
                .contains("`someday`")
        );
        assert_eq!(parse("action <@U1> due 2d").unwrap_err().usage, usage::ACTION);
    }

    #[test]
    fn resolve_and_reopen_take_optional_text() {
        assert_eq!(parse("resolve"), Ok(Command::Resolve { summary: None }));
        assert_eq!(
            parse("resolve rolled back v42"),
            Ok(Command::Resolve {
                summary: Some("rolled back v42".into())
            })
        );
        assert_eq!(
            parse("reopen errors are back"),
            Ok(Command::Reopen {
                reason: Some("errors are back".into())
            })
        );
    }

    #[test]
    fn postmortem_done_takes_an_optional_link() {
        assert_eq!(parse("postmortem done"), Ok(Command::PostmortemDone { link: None }));
        assert_eq!(
            parse("postmortem done https://x/pm"),
            Ok(Command::PostmortemDone {
                link: Some("https://x/pm".into())
            })
        );
        assert_eq!(parse("postmortem later").unwrap_err().usage, usage::POSTMORTEM);
        assert_eq!(
            parse("postmortem publish  A bad deploy; we now canary. "),
            Ok(Command::PostmortemPublish {
                summary: "A bad deploy; we now canary.".into()
            })
        );
        assert_eq!(parse("postmortem publish").unwrap_err().usage, usage::POSTMORTEM);
    }

    #[test]
    fn failure_commands_parse_lists_and_changes() {
        assert_eq!(parse("failures"), Ok(Command::Failures(FailureList::Open)));
        assert_eq!(parse("failures mine"), Ok(Command::Failures(FailureList::Mine)));
        assert_eq!(
            parse("failures tag:Deploys"),
            Ok(Command::Failures(FailureList::Tagged("deploys".into())))
        );
        assert_eq!(
            parse("failure 3 assign <@U9|ana>"),
            Ok(Command::Failure {
                id: 3,
                change: TicketChange::Assign("U9".into())
            })
        );
        assert_eq!(
            parse("failure #3 tag deploys"),
            Ok(Command::Failure {
                id: 3,
                change: TicketChange::Tag("deploys".into())
            })
        );
        assert_eq!(
            parse("failure 3 close canary first"),
            Ok(Command::Failure {
                id: 3,
                change: TicketChange::Close {
                    lesson: "canary first".into()
                }
            })
        );
        assert_eq!(parse("failure x close y").unwrap_err().usage, usage::FAILURE);
        assert_eq!(parse("failure 3 explode").unwrap_err().usage, usage::FAILURE);
        assert_eq!(parse("failures everything").unwrap_err().usage, usage::FAILURES);
    }

    #[test]
    fn a_failure_number_alone_shows_the_ticket() {
        assert_eq!(parse("failure #12"), Ok(Command::ShowFailure { id: 12 }));
        assert!(parse("failure 12").unwrap().is_read_only());
        assert_eq!(parse("failure 12 explode").unwrap_err().usage, usage::FAILURE);
    }

    #[test]
    fn stats_takes_an_optional_period() {
        assert_eq!(
            parse("stats"),
            Ok(Command::Stats {
                window: DEFAULT_STATS_WINDOW
            })
        );
        assert_eq!(
            parse("stats 7d"),
            Ok(Command::Stats {
                window: Duration::from_secs(7 * 86_400)
            })
        );
        assert_eq!(parse("stats 5m").unwrap_err().usage, usage::STATS);
        assert_eq!(parse("stats forever").unwrap_err().usage, usage::STATS);
        assert!(!parse("stats").unwrap().needs_incident_channel());
        assert!(parse("stats 90d").unwrap().is_read_only());
    }

    #[test]
    fn where_commands_may_run() {
        assert!(!parse("open x").unwrap().needs_incident_channel());
        assert!(!parse("list").unwrap().needs_incident_channel());
        assert!(parse("sev 1").unwrap().needs_incident_channel());
    }

    proptest! {
        #[test]
        fn any_input_parses_or_explains(text in "\\PC{0,200}") {
            match parse(&text) {
                Ok(_) => {}
                Err(error) => {
                    prop_assert!(!error.problem.is_empty());
                    prop_assert!(error.usage.starts_with("/incident"));
                }
            }
        }

        #[test]
        fn any_words_after_open_give_a_title_or_an_error(words in proptest::collection::vec("[a-zA-Z0-9ü🔥<@>|-]{0,12}", 0..8)) {
            let text = format!("open {}", words.join(" "));
            if let Ok(Command::Open { title, .. }) = parse(&text) {
                prop_assert!(!title.trim().is_empty());
            }
        }
    }
}
