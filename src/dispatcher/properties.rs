//! Property tests at high case counts for the path every slash command
//! takes: the grammar, the change it becomes at the time it was received
//! (however close to the end of time), and the lifecycle rules. The class of
//! bug they guard against is the poison pill: input that parses, is stored,
//! and then panics the dispatcher on every restart. Pure code only, so
//! 10,000 cases take a few seconds of every CI run.

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;

use crate::domain::lifecycle::{self, Permissions};
use crate::domain::{IncidentDraft, Severity, command};

const CASES: u32 = 10_000;

/// The grammar's words and hostile values, mixed with noise.
fn command_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("open".to_string()),
        Just("--private".to_string()),
        Just("action".to_string()),
        Just("due".to_string()),
        Just("snooze".to_string()),
        Just("remind".to_string()),
        Just("failure".to_string()),
        Just("failures".to_string()),
        Just("assign".to_string()),
        Just("tag".to_string()),
        Just("close".to_string()),
        Just("resolve".to_string()),
        Just("reopen".to_string()),
        Just("update".to_string()),
        Just("status".to_string()),
        Just("lead".to_string()),
        Just("sev".to_string()),
        Just("sev1".to_string()),
        Just("stats".to_string()),
        Just("started".to_string()),
        Just("impact".to_string()),
        Just("--public".to_string()),
        Just("partial".to_string()),
        Just("ago".to_string()),
        Just("23:59".to_string()),
        Just("02:30".to_string()),
        Just("2026-03-29".to_string()),
        Just("+262143-12-31T23:59:59Z".to_string()),
        Just("<@U1>".to_string()),
        Just("<@W2|name>".to_string()),
        Just("<!channel>".to_string()),
        Just("9999999999999d".to_string()),
        Just("99999999999d".to_string()),
        Just("1000000y".to_string()),
        Just("262000y".to_string()),
        Just("2262-04-11".to_string()),
        Just("9999-12-31".to_string()),
        Just("+262143-12-31".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        "[0-9]{1,20}[smhdwy]?",
        any::<char>().prop_map(String::from),
        "[a-z0-9 ]{0,8}",
    ];
    proptest::collection::vec(pieces, 0..10).prop_map(|parts| parts.join(" "))
}

/// When the command was received: ordinary times and the end of time.
fn received() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        (0i64..4_000_000_000).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
        (0i64..1_000_000).prop_map(|s| DateTime::<Utc>::MAX_UTC - Duration::seconds(s)),
        Just(DateTime::<Utc>::MIN_UTC),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_command_panics_on_its_way_to_the_incident(text in command_text(), at in received()) {
        let Ok(parsed) = command::parse(&text) else {
            return Ok(());
        };
        let incident = IncidentDraft::declare("api down", Some(Severity::Sev2), false, "U1", at).into_incident(1);
        if let Ok(Some(change)) = super::incident_change(parsed, at, &crate::config::FileSettings::default()) {
            let _ = lifecycle::decide(&incident, "U1", change, &Permissions::ANYONE, at);
        }
    }
}
