//! The incident card posted in the incident channel, and the announcement.

use serde_json::{Value, json};
use slack_morphism::prelude::*;

use super::{HEADER_MAX, clip, slack_date};
use crate::config::status::StatusSettings;
use crate::domain::status_page::ComponentState;
use crate::domain::{Incident, Severity, Status};

/// `action_id` of the card's severity select.
pub const SET_SEVERITY_ACTION: &str = "incident_set_severity";
/// `action_id` of the card's status select.
pub const SET_STATUS_ACTION: &str = "incident_set_status";
/// `action_id` of the card's lead picker.
pub const SET_LEAD_ACTION: &str = "incident_set_lead";
/// `action_id` of the card's "Post update" button (opens the EARS form).
pub const POST_UPDATE_ACTION: &str = "incident_post_update";
/// `action_id` of the card's resolve button.
pub const RESOLVE_ACTION: &str = "incident_resolve";
/// `action_id` of the card's status-page impact select; values are
/// `<state> <component>` (Statuspage's state words).
pub const SET_IMPACT_ACTION: &str = "incident_set_impact";

/// The living incident card: title, severity, status, lead, declared at,
/// the controls while open, and a status-page impact select when
/// `[[status.components]]` are configured.
pub fn incident_card(incident: &Incident, status: &StatusSettings) -> Value {
    let mut blocks: Vec<SlackBlock> = vec![
        SlackHeaderBlock::new(pt!(clip(
            &format!("{} {}", incident.reference(), crate::text::plain(&incident.title)),
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
                md!(format!("*Impact started*\n{}", impact_start(incident))),
                md!(format!("*Detected*\n{}", slack_date(incident.detected_at))),
            ])
            .into(),
    ];
    if incident.is_open() {
        blocks.push(controls(incident).into());
        if let Some(impact) = impact_select(incident, status) {
            blocks.push(impact.into());
        }
    }
    if let Some(resolved_at) = incident.resolved_at {
        let summary = incident
            .summary
            .as_deref()
            .map(|s| format!(" — {}", crate::text::mrkdwn(s)))
            .unwrap_or_default();
        let text = clip(
            &format!(":white_check_mark: *Resolved* {}{summary}", slack_date(resolved_at)),
            super::SECTION_MAX,
        );
        blocks.push(SlackSectionBlock::new().with_text(md!(text)).into());
    }
    blocks.push(
        SlackContextBlock::new(vec![md!(format!(
            "Declared by {} · `/incident help` for commands",
            incident.declarer()
        ))])
        .into(),
    );
    json!({
        "text": card_fallback(incident),
        "blocks": blocks,
        "unfurl_links": false,
    })
}

/// The card as posted and edited: [`incident_card`] with the rollback
/// buttons and what other alerting systems were told.
pub fn living_card(
    incident: &Incident,
    settings: &crate::config::FileSettings,
    paging: &[crate::store::paging::PagingAlert],
) -> Value {
    let mut card = incident_card(incident, &settings.status);
    super::rollback::add_to_card(&mut card, incident, settings.integrations.github.as_ref());
    super::paging::add_to_card(&mut card, paging, &settings.integrations);
    card
}

/// When the impact began and who says so, or how to say it.
fn impact_start(incident: &Incident) -> String {
    let Some(at) = incident.impact_started_at else {
        return "_unknown_ · `/incident started &lt;time&gt;`".into();
    };
    let by = match incident.impact_source.as_deref() {
        Some(source) if source.starts_with(crate::domain::incident::ALERT_DECLARER) => {
            format!(
                " (from {})",
                crate::domain::incident::actor_mention(source).trim_end_matches(':')
            )
        }
        Some(user) => format!(" (set by <@{user}>)"),
        None => String::new(),
    };
    format!("{}{by}", slack_date(at))
}

fn severity_label(severity: Option<Severity>) -> String {
    match severity {
        Some(severity) => format!("{} — {}", severity, severity.meaning()),
        None => ":grey_question: not set yet".into(),
    }
}

/// Severity, status and lead controls and a resolve button: the same
/// changes as the slash commands.
fn controls(incident: &Incident) -> SlackActionsBlock {
    let severity_option = |s: Severity| {
        SlackBlockChoiceItem::new(pt!(clip(&format!("{s} — {}", s.meaning()), 75)), s.as_str().to_string())
    };
    let mut severity = SlackBlockStaticSelectElement::new()
        .with_action_id(SET_SEVERITY_ACTION.into())
        .with_placeholder(pt!("Set severity"))
        .with_options(Severity::ALL.into_iter().map(severity_option).collect());
    if let Some(current) = incident.severity {
        severity = severity.with_initial_option(severity_option(current));
    }
    let status_option = |s: Status| SlackBlockChoiceItem::new(pt!(s.as_str()), s.as_str().to_string());
    let open_statuses = [Status::Investigating, Status::Identified, Status::Monitoring];
    let status = SlackBlockStaticSelectElement::new()
        .with_action_id(SET_STATUS_ACTION.into())
        .with_placeholder(pt!("Status"))
        .with_options(open_statuses.into_iter().map(status_option).collect())
        .with_initial_option(status_option(incident.status));
    let mut lead = SlackBlockUsersSelectElement::new()
        .with_action_id(SET_LEAD_ACTION.into())
        .with_placeholder(pt!("Lead"));
    if let Some(current) = &incident.lead {
        lead = lead.with_initial_user(current.clone());
    }
    let confirm = SlackBlockConfirmItem::new(
        pt!(format!("Resolve {}?", incident.reference())),
        md!("This stops update nudges and starts the post-mortem. It can be reopened with `/incident reopen`."),
        pt!("Resolve"),
        pt!("Cancel"),
    );
    let resolve = SlackBlockButtonElement::new(pt!("Resolve"))
        .with_action_id(RESOLVE_ACTION.into())
        .with_style(SlackBlockButtonStyle::Primary)
        .with_confirm(confirm);
    SlackActionsBlock::new(vec![
        SlackActionBlockElement::StaticSelect(severity),
        SlackActionBlockElement::StaticSelect(status),
        SlackActionBlockElement::UsersSelect(lead),
        SlackActionBlockElement::Button(
            SlackBlockButtonElement::new(pt!("Post update")).with_action_id(POST_UPDATE_ACTION.into()),
        ),
        SlackActionBlockElement::Button(resolve),
    ])
    .with_block_id(format!("incident:{}:controls", incident.id).into())
}

/// One option per component and state, grouped by component (Slack allows
/// 100 groups; the configuration allows no more components than that).
fn impact_select(incident: &Incident, status: &StatusSettings) -> Option<SlackActionsBlock> {
    if status.components.is_empty() {
        return None;
    }
    let groups = status
        .components
        .iter()
        .take(MAX_COMPONENTS_ON_CARD)
        .map(|component| SlackBlockOptionGroup {
            label: pt!(clip(&component.name, 75)),
            options: ComponentState::ALL
                .into_iter()
                .map(|state| {
                    SlackBlockChoiceItem::new(pt!(state.label()), format!("{} {}", state.as_str(), component.name))
                })
                .collect(),
        })
        .collect();
    let select = SlackBlockStaticSelectElement::new()
        .with_action_id(SET_IMPACT_ACTION.into())
        .with_placeholder(pt!("Status page impact"))
        .with_option_groups(groups);
    Some(
        SlackActionsBlock::new(vec![SlackActionBlockElement::StaticSelect(select)])
            .with_block_id(format!("incident:{}:impact", incident.id).into()),
    )
}

/// Slack's limit on option groups in one select.
pub const MAX_COMPONENTS_ON_CARD: usize = 100;

/// The channel topic: severity, status and lead at a glance (Slack allows
/// 250 characters and no formatting).
pub fn topic(incident: &Incident) -> String {
    let severity = incident
        .severity
        .map(|s| s.as_str().to_uppercase())
        .unwrap_or_else(|| "severity not set".into());
    let lead = incident
        .lead
        .as_deref()
        .map(|u| format!("lead <@{u}>"))
        .unwrap_or_else(|| "no lead".into());
    clip(
        &format!("{} · {severity} · {} · {lead}", incident.reference(), incident.status),
        250,
    )
}

fn card_fallback(incident: &Incident) -> String {
    format!(
        "{} {} — severity {}, {}",
        incident.reference(),
        crate::text::mrkdwn(&incident.title),
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
        ":rotating_light: *{}* declared by {}: *{}*{} — join <#{}>",
        incident.reference(),
        incident.declarer(),
        crate::text::mrkdwn(&incident.title),
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
    fn controls_show_the_current_severity_status_and_lead() {
        let unset = incident_card(&incident(None, "db down"), &StatusSettings::default());
        let controls = &unset["blocks"][2]["elements"];
        assert_eq!(controls[0]["action_id"], SET_SEVERITY_ACTION);
        assert!(controls[0].get("initial_option").is_none(), "no severity chosen yet");
        let set = incident_card(&incident(Some(Severity::Sev1), "db down"), &StatusSettings::default());
        let controls = &set["blocks"][2]["elements"];
        assert_eq!(controls[0]["initial_option"]["value"], "sev1");
        assert_eq!(controls[1]["initial_option"]["value"], "investigating");
        assert_eq!(controls[2]["initial_user"], "U1");
        assert_eq!(controls[3]["action_id"], POST_UPDATE_ACTION);
        assert_eq!(controls[4]["action_id"], RESOLVE_ACTION);
    }

    #[test]
    fn a_resolved_card_shows_when_and_why() {
        let mut resolved = incident(None, "db down");
        resolved.status = crate::domain::Status::Resolved;
        resolved.resolved_at = Some(Utc::now());
        resolved.summary = Some("rolled back <v42>".into());
        let card = incident_card(&resolved, &StatusSettings::default()).to_string();
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
    fn the_card_says_when_the_impact_began_and_who_says_so() {
        let unknown = incident_card(&incident(None, "db"), &StatusSettings::default()).to_string();
        assert!(unknown.contains("*Impact started*\\n_unknown_"), "{unknown}");
        let mut from_alert = incident(None, "db");
        from_alert.impact_started_at = Some(Utc::now());
        from_alert.impact_source = Some("alert:prod-am".into());
        assert!(
            incident_card(&from_alert, &StatusSettings::default())
                .to_string()
                .contains("(from `prod-am` alerts)")
        );
        from_alert.impact_source = Some("U9".into());
        assert!(
            incident_card(&from_alert, &StatusSettings::default())
                .to_string()
                .contains("(set by <@U9>)")
        );
    }

    #[test]
    fn topic_shows_severity_status_and_lead() {
        assert_eq!(
            topic(&incident(Some(Severity::Sev2), "db")),
            "INC-7 · SEV2 · investigating · lead <@U1>"
        );
    }

    #[test]
    fn card_header_stays_within_slack_limits() {
        let card = incident_card(&incident(None, &"x".repeat(150)), &StatusSettings::default());
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

    #[test]
    fn an_open_card_offers_each_components_states_and_a_resolved_one_does_not() {
        let status = StatusSettings {
            components: ["API", "Search"]
                .map(|name| crate::config::status::ComponentSettings {
                    name: name.into(),
                    group: None,
                    description: None,
                })
                .to_vec(),
            ..Default::default()
        };
        let open = incident(Some(Severity::Sev2), "db down");
        let card = incident_card(&open, &status);
        let impact = &card["blocks"][3];
        assert_eq!(impact["block_id"], "incident:7:impact");
        let select = &impact["elements"][0];
        assert_eq!(select["action_id"], SET_IMPACT_ACTION);
        assert_eq!(select["option_groups"][1]["label"]["text"], "Search");
        assert_eq!(select["option_groups"][1]["options"][3]["value"], "major_outage Search");
        assert_eq!(select["option_groups"][0]["options"].as_array().unwrap().len(), 5);
        let none = incident_card(&open, &StatusSettings::default());
        assert!(
            !none.to_string().contains(SET_IMPACT_ACTION),
            "no components, no select"
        );
    }
}
