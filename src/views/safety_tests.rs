//! The property behind the mention rule: whatever people type, no view
//! Rebound posts to Slack carries a broadcast (`<!channel>`, `<!here>`,
//! `<!everyone>`, `<!subteam^…>`) or a link whose label hides its target.

use chrono::Utc;
use proptest::prelude::*;
use serde_json::Value;

use crate::domain::lifecycle::ActionItem;
use crate::domain::{Happened, IncidentDraft, Severity, failure::Ticket};
use crate::store::StoredActionItem;
use crate::text::{from_slack, risky_tokens};

use super::{card, digest, failures, postmortem, reminders, replies};

/// Every string in a rendered message that Slack parses for tokens
/// (`plain_text` objects are shown exactly as written, so they cannot ping).
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(fields) if fields.get("type").and_then(Value::as_str) == Some("plain_text") => {}
        Value::String(text) => out.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Object(fields) => fields.values().for_each(|field| strings(field, out)),
        _ => {}
    }
}

/// Everything Rebound can say about an incident whose every text is `text`.
fn rendered(text: &str) -> Vec<String> {
    let now = Utc::now();
    let mut incident = IncidentDraft::declare(text, Some(Severity::Sev1), false, "U1", now).into_incident(7);
    incident.summary = Some(text.to_string());
    let item = StoredActionItem {
        id: 1,
        incident_id: 7,
        text: text.to_string(),
        owner: Some("U2".into()),
        due_at: Some(now),
        created_by: "U1".into(),
        created_at: now,
        done_at: None,
        jira: None,
    };
    let mut ticket = Ticket::example(3, text);
    ticket.tags = vec![text.to_string()];
    ticket.lesson = Some(text.to_string());
    ticket.root_cause = Some(text.to_string());
    ticket.customer_impact = Some(text.to_string());
    let mut messages = vec![
        card::incident_card(&incident, &with_a_component()),
        card::announcement(&incident, "C1"),
        reminders::severity_prompt(&incident),
        reminders::update_nudge(&incident, std::time::Duration::from_secs(60)),
        reminders::postmortem_reminder(&incident),
        reminders::postmortem_escalation(&incident, 3),
        reminders::action_reminder(&incident, &item),
        failures::ticket_card(&ticket),
        digest::digest(
            &digest::DigestContent {
                open: vec![incident.clone()],
                postmortems: vec![incident.clone()],
                actions: vec![item.clone()],
                breaches: vec![],
                failures: digest::FailureBacklog {
                    open: 1,
                    untriaged: vec![ticket.clone()],
                    ..Default::default()
                },
                private_incidents: Default::default(),
            },
            now,
        ),
    ];
    let lines = [
        replies::declaring(text),
        replies::declared(&incident, "C1"),
        replies::list(
            std::slice::from_ref(&incident),
            &crate::domain::Audience::Channel("C1"),
            now,
        ),
        failures::summary(&ticket),
        failures::detail(&ticket, &[text.to_string()], std::slice::from_ref(&ticket)),
        // The caller renders the title (ingress does, for a tag someone typed).
        failures::list(&crate::text::mrkdwn(text), std::slice::from_ref(&ticket)),
        postmortem::resolved_summary(&incident, None),
    ];
    let happenings = [
        Happened::Noted(text.into()),
        Happened::Decided(text.into()),
        Happened::CustomerUpdate(text.into()),
        Happened::ActionAdded(ActionItem {
            text: text.into(),
            owner: None,
            due_at: None,
        }),
        Happened::Resolved {
            summary: Some(text.into()),
        },
        Happened::Reopened {
            reason: Some(text.into()),
        },
        Happened::PostmortemDone {
            link: Some(text.into()),
        },
        Happened::PublicUpdate(text.into()),
        Happened::PostmortemPublished(text.into()),
    ];
    messages.extend(
        lines
            .iter()
            .chain(&happenings.map(|h| h.describe()))
            .map(|l| Value::String(l.clone())),
    );
    let mut out = Vec::new();
    messages.iter().for_each(|message| strings(message, &mut out));
    out
}

/// Rebound's own words — usage lines, hints, help — reach Slack with their
/// `<…>` placeholders escaped, or Slack would parse them as links.
#[test]
fn rebounds_own_words_carry_no_stray_angle_brackets() {
    let mut texts = rendered("checkout");
    texts.push(replies::help());
    for typed in [
        "sev 7",
        "status fixed",
        "frobnicate",
        "update",
        "impact",
        "started soonish",
        "lead bob",
    ] {
        let error = crate::domain::command::parse(typed).expect_err(typed);
        texts.push(error.reply());
    }
    for text in texts {
        let stray = crate::text::stray_angle_brackets(&text);
        assert!(stray.is_empty(), "{text:?}: {stray:?}");
    }
}

/// A usage error quotes what was typed: it must not ping, link or break
/// Slack's parsing however hostile the typing.
#[test]
fn usage_errors_quote_hostile_typing_as_plain_text() {
    for typed in [
        "<!channel>",
        "sev <!here>",
        "status <https://evil.example|fixed>",
        "impact <!subteam^S1> major",
        "lead <@U1|boss> now",
        "frobnicate &lt;!everyone&gt;",
    ] {
        let Err(error) = crate::domain::command::parse(typed) else {
            continue;
        };
        let reply = error.reply();
        assert!(risky_tokens(&reply).is_empty(), "{typed:?} → {reply:?}");
        assert!(
            crate::text::stray_angle_brackets(&reply).is_empty(),
            "{typed:?} → {reply:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn no_user_text_through_any_view_broadcasts_or_disguises_a_link(
        text in "(<|>|!|@|#|&|\\||\\^|channel|here|everyone|subteam|https://evil\\.example|mailto:x|javascript:x|U1|C1|amp;|lt;|gt;|[a-z ]){1,30}"
    ) {
        for raw in [text.clone(), from_slack(&text)] {
            for rendered in rendered(&raw) {
                // Rebound's own links (none here: no permalinks) would be fine;
                // every token Slack acts on must come from Rebound, not the text.
                let risky = risky_tokens(&rendered);
                prop_assert!(risky.is_empty(), "{raw:?} rendered as {rendered:?}: {risky:?}");
            }
        }
    }
}

/// A status configuration with one component, so the card's impact select is
/// rendered too. Component names come from the operator's configuration
/// (checked: no spaces, at most 64 characters), not from users.
fn with_a_component() -> crate::config::status::StatusSettings {
    crate::config::status::StatusSettings {
        components: vec![crate::config::status::ComponentSettings {
            name: "API".into(),
            group: None,
            description: None,
        }],
        ..Default::default()
    }
}
