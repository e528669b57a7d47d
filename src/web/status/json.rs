//! The status page in Atlassian Statuspage's public API v2 shapes.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Component, Published, rfc3339, slug};
use crate::domain::status_page::{self, ComponentState};

pub(super) fn components(components: &[Component], page_id: &str) -> Vec<Value> {
    let epoch = rfc3339(DateTime::<Utc>::UNIX_EPOCH);
    let mut out: Vec<Value> = components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "id": c.id, "name": c.name, "status": c.state.as_str(),
                "created_at": epoch, "updated_at": c.updated_at.map(rfc3339).unwrap_or_else(|| epoch.clone()),
                "position": i + 1, "description": c.description, "showcase": true, "start_date": null,
                "group_id": c.group.as_deref().map(|g| format!("group-{}", slug(g))),
                "page_id": page_id, "group": false, "only_show_if_degraded": false
            })
        })
        .collect();
    let mut groups: Vec<&str> = components.iter().filter_map(|c| c.group.as_deref()).collect();
    groups.dedup();
    for (i, group) in groups.into_iter().enumerate() {
        let members: Vec<&Component> = components
            .iter()
            .filter(|c| c.group.as_deref() == Some(group))
            .collect();
        let worst = members
            .iter()
            .map(|c| c.state)
            .max()
            .unwrap_or(ComponentState::Operational);
        out.push(json!({
            "id": format!("group-{}", slug(group)), "name": group, "status": worst.as_str(),
            "created_at": epoch, "updated_at": epoch, "position": components.len() + i + 1,
            "description": null, "showcase": false, "start_date": null, "group_id": null,
            "page_id": page_id, "group": true, "only_show_if_degraded": false,
            "components": members.iter().map(|c| c.id.clone()).collect::<Vec<_>>()
        }));
    }
    out
}

pub(super) fn incident(published: &Published, page_id: &str, base: &str) -> Value {
    let incident = &published.incident;
    let id = format!("inc-{}", incident.id);
    let updates: Vec<Value> = published
        .updates
        .iter()
        .map(|u| {
            json!({
                "id": format!("upd-{}", u.id), "status": u.status, "body": u.body, "incident_id": id,
                "created_at": rfc3339(u.at), "updated_at": rfc3339(u.at), "display_at": rfc3339(u.at),
                "affected_components": null, "deliver_notifications": true, "custom_tweet": null, "tweet_id": null
            })
        })
        .collect();
    let has_postmortem = published
        .updates
        .iter()
        .any(|u| u.status == status_page::POSTMORTEM_UPDATE);
    let status = match (incident.is_open(), has_postmortem) {
        (true, _) => incident.status.as_str(),
        // Statuspage's last stage: resolved, and the post-mortem is out.
        (false, true) => status_page::POSTMORTEM_UPDATE,
        (false, false) => "resolved",
    };
    json!({
        "id": id, "name": incident.title, "status": status,
        "created_at": rfc3339(incident.declared_at),
        "updated_at": rfc3339(published.updates.first().map(|u| u.at).unwrap_or(incident.declared_at)),
        "monitoring_at": incident.mitigated_at.filter(|_| incident.is_open()).map(rfc3339),
        "resolved_at": incident.resolved_at.filter(|_| !incident.is_open()).map(rfc3339),
        "impact": status_page::impact(incident.severity),
        "shortlink": format!("{base}/status#{id}"),
        "started_at": rfc3339(incident.impact_started_at.unwrap_or(incident.declared_at)),
        "page_id": page_id,
        "incident_updates": updates,
        "components": published.components,
    })
}
