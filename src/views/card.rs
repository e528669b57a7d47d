//! The incident card posted in the incident channel, and the announcement.

use serde_json::{Value, json};
use slack_morphism::prelude::*;

use super::{HEADER_MAX, clip, escape, slack_date};
use crate::domain::{Incident, Severity};

/// `action_id` of the card's severity select.
pub const SET_SEVERITY_ACTION: &str = "incident_set_severity";

/// The living incident card: title, severity, status, lead, declared at, and
/// a severity select while no severity is set.
pub fn incident_card(incident: &Incident) -> Value {
    let mut blocks: Vec<SlackBlock> = vec![
        SlackHeaderBlock::new(pt!(clip(
            &format!("{} {}", incident.reference(), incident.title),
            HEADER_MAX
        )))
        .into(),
        SlackSectionBlock::new()
            .with_fields(vec![
                md!(format!("*Severity*\n{}", severity_label(incident.severity))),
                md!(format!("*Status*\n{}", incident.status)),
                md!(format!(
                    "*Lead*\n{}",
                    incident
                        .lead
                        .as_deref()
                        .map(|u| format!("<@{u}>"))
                        .unwrap_or("_unassigned_".into())
                )),
                md!(format!("*Declared*\n{}", slack_date(incident.declared_at))),
            ])
            .into(),
    ];
    if incident.severity.is_none() && incident.is_open() {
        blocks.push(severity_select(incident).into());
    }
    if let Some(resolved_at) = incident.resolved_at {
        let summary = incident
            .summary
            .as_deref()
            .map(|s| format!(" — {}", escape(s)))
            .unwrap_or_default();
        let text = clip(
            &format!(":white_check_mark: *Resolved* {}{summary}", slack_date(resolved_at)),
            super::SECTION_MAX,
        );
        blocks.push(SlackSectionBlock::new().with_text(md!(text)).into());
    }
    blocks.push(
        SlackContextBlock::new(vec![md!(format!(
            "Declared by <@{}> · `/incident help` for commands",
            incident.declared_by
        ))])
        .into(),
    );
    json!({
        "text": card_fallback(incident),
        "blocks": blocks,
        "unfurl_links": false,
    })
}

fn severity_label(severity: Option<Severity>) -> String {
    match severity {
        Some(severity) => format!("{} — {}", severity, severity.meaning()),
        None => ":grey_question: not set yet".into(),
    }
}

fn severity_select(incident: &Incident) -> SlackActionsBlock {
    let options = Severity::ALL
        .into_iter()
        .map(|s| SlackBlockChoiceItem::new(pt!(clip(&format!("{s} — {}", s.meaning()), 75)), s.as_str().to_string()))
        .collect();
    let select = SlackBlockStaticSelectElement::new()
        .with_action_id(SET_SEVERITY_ACTION.into())
        .with_placeholder(pt!("Set severity"))
        .with_options(options);
    SlackActionsBlock::new(vec![SlackActionBlockElement::StaticSelect(select)])
        .with_block_id(format!("incident:{}:severity", incident.id).into())
}

fn card_fallback(incident: &Incident) -> String {
    format!(
        "{} {} — severity {}, {}",
        incident.reference(),
        incident.title,
        incident
            .severity
            .map(|s| s.to_string())
            .unwrap_or_else(|| "not set".into()),
        incident.status
    )
}

/// The announcement for the announce channel, linking the incident channel.
pub fn announcement(incident: &Incident, channel_id: &str) -> Value {
    let severity = incident.severity.map(|s| format!(" ({s})")).unwrap_or_default();
    let text = format!(
        ":rotating_light: *{}* declared by <@{}>: *{}*{} — join <#{}>",
        incident.reference(),
        incident.declared_by,
        escape(&incident.title),
        severity,
        channel_id
    );
    json!({
        "text": text,
        "blocks": [SlackBlock::from(SlackSectionBlock::new().with_text(md!(clip(&text, super::SECTION_MAX))))],
        "unfurl_links": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IncidentDraft;
    use chrono::Utc;

    fn incident(severity: Option<Severity>, title: &str) -> Incident {
        IncidentDraft::declare(title, severity, false, "U1", Utc::now()).into_incident(7)
    }

    #[test]
    fn card_offers_a_severity_select_only_while_unset() {
        let unset = incident_card(&incident(None, "db down")).to_string();
        assert!(unset.contains(SET_SEVERITY_ACTION));
        let set = incident_card(&incident(Some(Severity::Sev1), "db down")).to_string();
        assert!(!set.contains(SET_SEVERITY_ACTION));
        assert!(set.contains("sev1"));
    }

    #[test]
    fn a_resolved_card_shows_when_and_why() {
        let mut resolved = incident(None, "db down");
        resolved.status = crate::domain::Status::Resolved;
        resolved.resolved_at = Some(Utc::now());
        resolved.summary = Some("rolled back <v42>".into());
        let card = incident_card(&resolved).to_string();
        assert!(
            card.contains("*Resolved*") && card.contains("rolled back &lt;v42&gt;"),
            "{card}"
        );
        assert!(
            !card.contains(SET_SEVERITY_ACTION),
            "no controls on a resolved incident"
        );
    }

    #[test]
    fn card_header_stays_within_slack_limits() {
        let card = incident_card(&incident(None, &"x".repeat(150)));
        let header = card["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(header.chars().count() <= HEADER_MAX);
        assert_eq!(card["blocks"][0]["type"], "header");
        assert!(card["text"].as_str().unwrap().starts_with("INC-7"));
    }

    #[test]
    fn announcement_links_the_channel_and_escapes_the_title() {
        let message = announcement(&incident(Some(Severity::Sev2), "<script> & co"), "C42");
        let text = message["text"].as_str().unwrap();
        assert!(text.contains("<#C42>"));
        assert!(text.contains("&lt;script&gt; &amp; co"));
    }
}
