//! The card's *Run rollback* buttons: one per configured GitHub Actions
//! rollback, each asking for confirmation first (Slack's confirm dialog),
//! shown while the incident is open.

use serde_json::Value;
use slack_morphism::prelude::*;

use super::clip;
use crate::config::integrations::GithubSettings;
use crate::domain::Incident;

/// `action_id` of a rollback button; its value is the service.
pub const RUN_ROLLBACK_ACTION: &str = "incident_run_rollback";

/// Slack's limit on elements in one actions block.
const MAX_BUTTONS: usize = 25;

/// Adds the rollback buttons above the card's footer.
pub fn add_to_card(card: &mut Value, incident: &Incident, github: Option<&GithubSettings>) {
    let Some(github) = github.filter(|g| !g.rollback.is_empty() && incident.is_open()) else {
        return;
    };
    let who = match github.run_by {
        crate::config::integrations::RunBy::Lead => "Only the incident lead (or an admin) may run it.",
        crate::config::integrations::RunBy::Anyone => "Anyone in the channel may run it.",
    };
    let buttons = github
        .rollback
        .iter()
        .take(MAX_BUTTONS)
        .map(|rollback| {
            let confirm = SlackBlockConfirmItem::new(
                pt!(clip(&format!("Roll back {}?", rollback.service), 100)),
                md!(format!(
                    "Runs `{}` in `{}` on `{}` for {}. {who}",
                    rollback.workflow,
                    rollback.repo,
                    rollback.git_ref,
                    incident.reference()
                )),
                pt!("Run rollback"),
                pt!("Cancel"),
            );
            SlackActionBlockElement::Button(
                SlackBlockButtonElement::new(pt!(clip(&format!("Run rollback: {}", rollback.service), 75)))
                    .with_action_id(RUN_ROLLBACK_ACTION.into())
                    .with_value(rollback.service.clone())
                    .with_style(SlackBlockButtonStyle::Danger)
                    .with_confirm(confirm),
            )
        })
        .collect();
    let block: SlackBlock = SlackActionsBlock::new(buttons)
        .with_block_id(format!("incident:{}:rollback", incident.id).into())
        .into();
    let (Ok(block), Some(blocks)) = (serde_json::to_value(block), card["blocks"].as_array_mut()) else {
        return;
    };
    let footer = blocks.len().saturating_sub(1);
    blocks.insert(footer, block);
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::IncidentDraft;

    fn github() -> GithubSettings {
        toml::from_str(
            "token = \"t\"\n[[rollback]]\nservice = \"api\"\nrepo = \"acme/api\"\nworkflow = \"rollback.yml\"\n",
        )
        .unwrap()
    }

    #[test]
    fn open_incidents_get_a_confirmed_button_per_rollback() {
        let incident = IncidentDraft::declare("API down", None, false, "U1", Utc::now()).into_incident(4);
        let mut card = serde_json::json!({ "blocks": [{ "type": "header" }, { "type": "context" }] });
        add_to_card(&mut card, &incident, Some(&github()));
        let button = &card["blocks"][1]["elements"][0];
        assert_eq!(button["action_id"], RUN_ROLLBACK_ACTION);
        assert_eq!(button["value"], "api");
        assert_eq!(button["style"], "danger");
        assert_eq!(button["confirm"]["confirm"]["text"], "Run rollback");
        assert!(
            button["confirm"]["text"]["text"]
                .as_str()
                .unwrap()
                .contains("Only the incident lead")
        );
        assert_eq!(card["blocks"][2]["type"], "context", "the footer stays last");

        let mut resolved = incident.clone();
        resolved.status = crate::domain::Status::Resolved;
        let mut card = serde_json::json!({ "blocks": [{ "type": "header" }] });
        add_to_card(&mut card, &resolved, Some(&github()));
        assert_eq!(
            card["blocks"].as_array().unwrap().len(),
            1,
            "nothing to roll back once resolved"
        );
    }
}
