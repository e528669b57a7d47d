//! `GET /incidents/{id}`: one incident as a page — its facts (severity,
//! status, lead, declared, impact start and detection, resolution), customer
//! updates, decisions, action items, failure tickets, the post-mortem's
//! state and the whole timeline. A private incident answers like a missing
//! one to anyone outside its channel.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::pages::{self, Message, page, reader_for};
use super::session::SignedIn;
use crate::domain::Incident;
use crate::startup::AppState;
use crate::store::incidents::TimelineEntry;
use crate::views::markdown::readable;

/// A timeline entry as the page shows it.
struct Entry {
    at: String,
    iso: String,
    actor: String,
    body: String,
}

impl Entry {
    fn of(entry: &TimelineEntry) -> Self {
        Self {
            at: when(entry.at),
            iso: entry.at.to_rfc3339(),
            actor: readable(&crate::domain::incident::actor_mention(&entry.actor))
                .trim_end_matches(':')
                .to_string(),
            body: readable(&entry.body),
        }
    }
}

struct ActionRow {
    text: String,
    owner: String,
    due: String,
    done: String,
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage<'a> {
    csrf: &'a str,
    user_name: &'a str,
    id: i64,
    reference: String,
    title: String,
    facts: Vec<(&'static str, String)>,
    postmortem_state: String,
    updates: Vec<Entry>,
    decisions: Vec<Entry>,
    actions: Vec<ActionRow>,
    tickets: Vec<(i64, String)>,
    timeline: Vec<Entry>,
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn facts(incident: &Incident) -> Vec<(&'static str, String)> {
    let impact = match (incident.impact_started_at, incident.impact_source.as_deref()) {
        (Some(at), Some(source)) => format!(
            "{} ({})",
            when(at),
            readable(&crate::domain::incident::actor_mention(source)).trim_end_matches(':')
        ),
        (Some(at), None) => when(at),
        (None, _) => "unknown".into(),
    };
    let mut facts = vec![
        (
            "Severity",
            incident
                .severity
                .map(|s| s.to_string())
                .unwrap_or_else(|| "not set".into()),
        ),
        ("Status", incident.status.to_string()),
        (
            "Lead",
            incident
                .lead
                .clone()
                .map(|u| format!("@{u}"))
                .unwrap_or_else(|| "unassigned".into()),
        ),
        (
            "Declared",
            format!("{} by {}", when(incident.declared_at), readable(&incident.declarer())),
        ),
        ("Impact started", impact),
        ("Detected", when(incident.detected_at)),
    ];
    if let Some(resolved) = incident.resolved_at.filter(|_| !incident.is_open()) {
        let summary = incident
            .summary
            .as_deref()
            .map(|s| format!(" — {s}"))
            .unwrap_or_default();
        facts.push(("Resolved", format!("{}{summary}", when(resolved))));
    }
    facts
}

fn not_found() -> Response {
    pages::message(
        StatusCode::NOT_FOUND,
        Message {
            heading: "No such incident",
            message: "There is no incident with that number that you may see.",
            show_sign_in: false,
        },
    )
}

pub async fn incident_page(State(state): State<AppState>, signed_in: SignedIn, Path(id): Path<String>) -> Response {
    let Ok(id) = id.trim_start_matches("INC-").parse::<i64>() else {
        return not_found();
    };
    match render(&state, &signed_in, id).await {
        Ok(Some(response)) => response,
        Ok(None) => not_found(),
        Err(error) => {
            tracing::warn!(%error, "could not read an incident page");
            pages::unavailable()
        }
    }
}

async fn render(state: &AppState, signed_in: &SignedIn, id: i64) -> crate::store::StoreResult<Option<Response>> {
    let store = state.web_store.as_ref();
    let member_of = store.private_channels_of(&signed_in.session.user_id).await?;
    let reader = reader_for(&member_of);
    let Some(incident) = store.incident(id).await?.filter(|i| i.visible_to(&reader)) else {
        return Ok(None);
    };
    let timeline = store.timeline(id).await?;
    let of_kind = |kind: &str| timeline.iter().filter(|e| e.kind == kind).map(Entry::of).collect();
    let actions = store
        .action_items(id)
        .await?
        .into_iter()
        .map(|item| ActionRow {
            text: item.text,
            owner: item.owner.map(|o| format!("@{o}")).unwrap_or_else(|| "—".into()),
            due: item.due_at.map(when).unwrap_or_else(|| "—".into()),
            done: item.done_at.map(when).unwrap_or_else(|| "open".into()),
        })
        .collect();
    let tickets = store
        .incident_tickets(id)
        .await?
        .into_iter()
        .filter(|t| t.visible_to(&reader))
        .map(|t| (t.id, readable(&crate::views::failures::summary(&t))))
        .collect();
    let postmortem_state = match incident.postmortem_done_at {
        Some(done) => format!("post-mortem done {}", when(done)),
        None if incident.is_open() => "post-mortem after resolution".into(),
        None => "post-mortem not done yet".into(),
    };
    let template = IncidentPage {
        csrf: &signed_in.session.csrf,
        user_name: &signed_in.session.name,
        id,
        reference: incident.reference(),
        title: incident.title.clone(),
        facts: facts(&incident),
        postmortem_state,
        updates: of_kind("customer_update"),
        decisions: of_kind("decision"),
        actions,
        tickets,
        timeline: timeline.iter().map(Entry::of).collect(),
    };
    Ok(Some(page(StatusCode::OK, &template)))
}
