//! `GET /failures?status=&tag=&owner=`: the failure-ticket backlog, newest
//! first, with how long each untriaged ticket has waited. A ticket captured
//! in a private channel shows only to that channel's members; others see
//! that it exists, not what it says.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::pages::{self, page, reader_for};
use super::session::SignedIn;
use crate::domain::failure::{Ticket, TicketStatus};
use crate::startup::AppState;
use crate::views::markdown::{human, readable};

/// How many tickets the page lists at most.
const LISTED: i64 = 500;

struct Row {
    id: i64,
    text: String,
    incident: Option<i64>,
    status: String,
    owner: String,
    tags: String,
    captured: String,
    captured_iso: String,
    untriaged: String,
}

impl Row {
    fn of(ticket: &Ticket, visible: bool, now: DateTime<Utc>) -> Self {
        let text = match (visible, ticket.text.as_deref()) {
            (false, _) => "(a ticket in a private channel)".to_string(),
            (true, Some(text)) => crate::views::clip(&readable(&crate::text::mrkdwn(text)), 120),
            (true, None) => "(text pending)".to_string(),
        };
        Self {
            id: ticket.id,
            text,
            incident: ticket.incident_id.filter(|_| visible),
            status: ticket.status.as_str().to_string(),
            owner: ticket
                .owner
                .as_deref()
                .map(|o| format!("@{o}"))
                .unwrap_or_else(|| "—".into()),
            tags: if visible { ticket.tags.join(", ") } else { String::new() },
            captured: ticket.captured_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            captured_iso: ticket.captured_at.to_rfc3339(),
            untriaged: match ticket.status {
                TicketStatus::Open => human((now - ticket.captured_at).to_std().unwrap_or_default()),
                _ => "—".into(),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "failures.html")]
struct FailuresPage<'a> {
    csrf: &'a str,
    user_name: &'a str,
    rows: Vec<Row>,
    statuses: Vec<String>,
    filter_status: String,
    filter_tag: String,
    filter_owner: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    owner: String,
}

/// Filters as typed, kept only when they are what a filter can be.
fn bounded(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return String::new();
    }
    text.to_string()
}

pub async fn failures(State(state): State<AppState>, signed_in: SignedIn, Query(filter): Query<Filter>) -> Response {
    const STATUSES: [TicketStatus; 4] = [
        TicketStatus::Open,
        TicketStatus::Triaged,
        TicketStatus::Actioned,
        TicketStatus::Closed,
    ];
    let status = STATUSES.into_iter().find(|s| s.as_str() == filter.status);
    let tag = bounded(&filter.tag, 64).to_lowercase();
    let owner = bounded(&filter.owner, 32).trim_start_matches('@').to_string();
    let store = state.web_store.as_ref();
    let listed = store
        .ticket_backlog(
            status.map(TicketStatus::as_str),
            Some(tag.as_str()),
            Some(owner.as_str()),
            LISTED,
        )
        .await;
    let member_of = store.private_channels_of(&signed_in.session.user_id).await;
    let (Ok(tickets), Ok(member_of)) = (listed, member_of) else {
        return pages::unavailable();
    };
    let reader = reader_for(&member_of);
    let now = Utc::now();
    let rows = tickets.iter().map(|t| Row::of(t, t.visible_to(&reader), now)).collect();
    let template = FailuresPage {
        csrf: &signed_in.session.csrf,
        user_name: &signed_in.session.name,
        rows,
        statuses: STATUSES.iter().map(|s| s.as_str().to_string()).collect(),
        filter_status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        filter_tag: tag,
        filter_owner: owner,
    };
    page(StatusCode::OK, &template)
}
