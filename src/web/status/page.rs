//! The status page as HTML (an askama template, everything escaped) and
//! as an Atom feed of the published updates.

use askama::Template;
use chrono::{DateTime, Utc};

use super::{Component, HISTORY_DAYS, Published, rfc3339};
use crate::config::status::StatusSettings;
use crate::domain::status_page::{ComponentState, POSTMORTEM_UPDATE};

struct DayCell {
    class: &'static str,
    label: String,
}

struct ComponentRow {
    name: String,
    description: String,
    state_label: &'static str,
    state_class: &'static str,
    days: Vec<DayCell>,
    summary: String,
}

struct IncidentRow {
    anchor: String,
    title: String,
    status: String,
    updates: Vec<(String, String, String)>,
    postmortem: Option<String>,
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage<'a> {
    title: &'a str,
    logo_url: Option<&'a str>,
    accent: &'a str,
    indicator: &'a str,
    description: &'a str,
    components: Vec<ComponentRow>,
    active: Vec<IncidentRow>,
    past: Vec<IncidentRow>,
    generated: String,
}

fn state_class(state: ComponentState) -> &'static str {
    match state {
        ComponentState::Operational => "ok",
        ComponentState::Maintenance => "maintenance",
        ComponentState::Degraded => "degraded",
        ComponentState::Partial => "partial",
        ComponentState::Major => "major",
    }
}

fn incident_row(published: &Published) -> IncidentRow {
    let incident = &published.incident;
    IncidentRow {
        anchor: format!("inc-{}", incident.id),
        title: incident.title.clone(),
        status: incident.status.to_string(),
        updates: published
            .updates
            .iter()
            .filter(|u| u.status != POSTMORTEM_UPDATE)
            .map(|u| {
                (
                    u.status.clone(),
                    u.at.format("%Y-%m-%d %H:%M UTC").to_string(),
                    u.body.clone(),
                )
            })
            .collect(),
        // Newest first: the latest summary published is the one that stands.
        postmortem: published
            .updates
            .iter()
            .find(|u| u.status == POSTMORTEM_UPDATE)
            .map(|u| u.body.clone()),
    }
}

pub(super) fn html(
    status: &StatusSettings,
    components: &[Component],
    published: &[Published],
    (indicator, description): (&str, &str),
    now: DateTime<Utc>,
) -> String {
    let start = (now - chrono::Duration::days(HISTORY_DAYS - 1)).date_naive();
    let rows = components
        .iter()
        .map(|c| {
            let bad_days = c.days.iter().filter(|d| **d != ComponentState::Operational).count();
            ComponentRow {
                name: c.name.clone(),
                description: c.description.clone().unwrap_or_default(),
                state_label: c.state.label(),
                state_class: state_class(c.state),
                days: c
                    .days
                    .iter()
                    .enumerate()
                    .map(|(i, d)| DayCell {
                        class: state_class(*d),
                        label: format!("{}: {}", start + chrono::Duration::days(i as i64), d.label()),
                    })
                    .collect(),
                summary: match bad_days {
                    0 => format!("No incidents in the last {HISTORY_DAYS} days"),
                    n => format!("{n} of the last {HISTORY_DAYS} days not fully operational"),
                },
            }
        })
        .collect();
    let page = StatusPage {
        title: &status.title,
        logo_url: status.logo_url.as_deref(),
        accent: &status.accent,
        indicator,
        description,
        components: rows,
        active: published
            .iter()
            .filter(|p| p.incident.is_open())
            .map(incident_row)
            .collect(),
        past: published
            .iter()
            .filter(|p| !p.incident.is_open())
            .map(incident_row)
            .collect(),
        generated: now.format("%Y-%m-%d %H:%M UTC").to_string(),
    };
    page.render().unwrap_or_else(|error| {
        tracing::error!(%error, "the status page template failed");
        String::from("<!doctype html><title>Status</title><p>The status page could not be rendered.</p>")
    })
}

pub(super) fn atom(status: &StatusSettings, base: &str, published: &[Published], updated: DateTime<Utc>) -> String {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut entries = String::new();
    for p in published {
        for u in &p.updates {
            entries.push_str(&format!(
                "<entry><id>{base}/status#upd-{id}</id><title>{title} — {status}</title><updated>{at}</updated>\
                 <link href=\"{base}/status#inc-{incident}\"/><content type=\"text\">{body}</content></entry>",
                id = u.id,
                title = escape(&p.incident.title),
                status = escape(&u.status),
                at = rfc3339(u.at),
                incident = p.incident.id,
                body = escape(&u.body),
            ));
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <id>{base}/status</id><title>{}</title><updated>{}</updated><link href=\"{base}/status\"/>{entries}</feed>",
        escape(&status.title),
        rfc3339(updated)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IncidentDraft;
    use crate::store::status_page::PublishedUpdate;

    fn update(id: i64, status: &str, body: &str) -> PublishedUpdate {
        PublishedUpdate {
            id,
            incident_id: 1,
            status: status.into(),
            body: body.into(),
            at: Utc::now(),
        }
    }

    #[test]
    fn the_latest_published_postmortem_summary_stands_and_is_not_listed_as_an_update() {
        let incident = IncidentDraft::declare("API down", None, false, "U1", Utc::now()).into_incident(1);
        // Newest first, as the store returns them.
        let published = Published {
            incident,
            updates: vec![
                update(3, POSTMORTEM_UPDATE, "second summary"),
                update(2, POSTMORTEM_UPDATE, "first summary"),
                update(1, "investigating", "looking into it"),
            ],
            components: Vec::new(),
        };
        let row = incident_row(&published);
        assert_eq!(row.postmortem.as_deref(), Some("second summary"));
        assert_eq!(row.updates.len(), 1, "summaries are not updates");
        assert_eq!(row.updates[0].2, "looking into it");
    }
}
