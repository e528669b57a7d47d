//! The failure-ticket subcommands: `/incident failures [open|mine|tag:<tag>]`
//! and `/incident failure <id> [assign @user | tag <tag> | close <lesson>]`.

use super::{Command, CommandError, FailureList, parse_user_mention, split_first_word, truncate, usage};
use crate::domain::failure::TicketChange;

pub(super) fn parse_failures(rest: &str) -> Result<Command, CommandError> {
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

pub(super) fn parse_failure(rest: &str) -> Result<Command, CommandError> {
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
