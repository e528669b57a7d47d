//! The grammar's tests: examples of each subcommand, its errors, and a
//! property test that any input parses or fails without a panic.

use chrono::NaiveDate;

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
