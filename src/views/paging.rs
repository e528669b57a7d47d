//! What the incident card says about the alerts Rebound raised elsewhere:
//! one line per system — paging, paged (with the service's link),
//! acknowledged, resolved, or why the system refused.

use serde_json::{Value, json};

use crate::config::integrations::IntegrationSettings;
use crate::domain::paging::AlertSystem;
use crate::store::paging::PagingAlert;

/// The line for a system's latest alert.
pub fn line(alert: &PagingAlert, integrations: &IntegrationSettings) -> String {
    let name = crate::text::mrkdwn(&integrations.paged_name(alert.system));
    let linked = match (
        alert.system,
        integrations.pagerduty.as_ref().and_then(|pd| pd.service_url.as_deref()),
    ) {
        (AlertSystem::PagerDuty, Some(url)) => format!("<{url}|{name}>"),
        _ => format!("*{name}*"),
    };
    if let Some(error) = &alert.last_error {
        return format!(
            ":warning: Could not page {linked}: {}",
            crate::text::mrkdwn(&super::clip(error, 200))
        );
    }
    match (alert.delivered_at, alert.acknowledged_at, alert.resolved_at) {
        (_, _, Some(_)) => format!(":pager: Paged {linked} · resolved"),
        (Some(_), Some(_), None) => format!(":pager: Paged {linked} · acknowledged"),
        (Some(_), None, None) => format!(":pager: Paged {linked}"),
        (None, _, None) => format!(":hourglass_flowing_sand: Paging {linked}…"),
    }
}

/// Adds a context block with the latest alert of each system to `card`,
/// just above its footer. Nothing when nothing was raised.
pub fn add_to_card(card: &mut Value, alerts: &[PagingAlert], integrations: &IntegrationSettings) {
    let lines: Vec<Value> = AlertSystem::ALL
        .into_iter()
        .filter_map(|system| alerts.iter().rfind(|a| a.system == system))
        .map(|alert| json!({ "type": "mrkdwn", "text": line(alert, integrations) }))
        .collect();
    let Some(blocks) = card["blocks"].as_array_mut() else {
        return;
    };
    if lines.is_empty() {
        return;
    }
    let footer = blocks.len().saturating_sub(1);
    blocks.insert(footer, json!({ "type": "context", "elements": lines }));
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn settings(toml: &str) -> IntegrationSettings {
        toml::from_str(toml).unwrap()
    }

    fn alert(system: AlertSystem) -> PagingAlert {
        PagingAlert {
            system,
            dedup_key: "rebound-inc-1-1".into(),
            triggered_at: Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap(),
            delivered_at: None,
            acknowledged_at: None,
            resolved_at: None,
            last_error: None,
        }
    }

    #[test]
    fn the_card_says_paging_then_paged_with_the_service_link() {
        let pd = settings(
            "[pagerduty]\nrouting_key = \"R0123456789abcdef0123456789abcde\"\nservice = \"Checkout API\"\n\
             service_url = \"https://acme.pagerduty.com/service-directory/P1\"\n",
        );
        let mut paged = alert(AlertSystem::PagerDuty);
        assert_eq!(
            line(&paged, &pd),
            ":hourglass_flowing_sand: Paging <https://acme.pagerduty.com/service-directory/P1|Checkout API>…"
        );
        paged.delivered_at = Some(paged.triggered_at);
        assert_eq!(
            line(&paged, &pd),
            ":pager: Paged <https://acme.pagerduty.com/service-directory/P1|Checkout API>"
        );
        paged.acknowledged_at = Some(paged.triggered_at);
        assert!(line(&paged, &pd).ends_with("· acknowledged"));
        paged.last_error = Some("invalid event: <!channel>".into());
        let refused = line(&paged, &pd);
        assert!(
            refused.starts_with(":warning: Could not page") && !refused.contains("<!channel>"),
            "{refused}"
        );
    }

    #[test]
    fn the_latest_alert_of_each_system_goes_above_the_footer() {
        let settings = IntegrationSettings::default();
        let mut card = json!({ "blocks": [{ "type": "header" }, { "type": "context", "elements": [] }] });
        add_to_card(&mut card, &[], &settings);
        assert_eq!(
            card["blocks"].as_array().unwrap().len(),
            2,
            "nothing raised, nothing shown"
        );
        let mut older = alert(AlertSystem::PagerDuty);
        older.resolved_at = Some(older.triggered_at);
        let newer = alert(AlertSystem::PagerDuty);
        add_to_card(&mut card, &[older, newer, alert(AlertSystem::Zenduty)], &settings);
        let paging = &card["blocks"][1]["elements"];
        assert_eq!(paging.as_array().unwrap().len(), 2);
        assert!(paging[0]["text"].as_str().unwrap().contains("Paging *PagerDuty*"));
        assert!(paging[1]["text"].as_str().unwrap().contains("Zenduty"));
    }
}
