//! The signed-in dashboard's pages, rendered on the server from `askama`
//! templates (`templates/`, escaped by default) with one embedded
//! stylesheet; no script. Every page sends a strict content policy and is
//! not cached. Private incidents are listed only to members of their channel.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::session::SignedIn;
use crate::domain::{Audience, Incident, Severity, Status};
use crate::startup::AppState;

/// Pages run no script, load only this origin's stylesheet, post forms only
/// here and cannot be framed.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                           form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const STYLESHEET: &str = include_str!("../../assets/rebound.css");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(open_incidents))
        .route("/incidents", get(all_incidents))
        .route("/incidents/{id}", get(super::incident_page::incident_page))
        .route("/failures", get(super::failures_page::failures))
        .route("/metrics-dashboard", get(super::metrics_page::metrics_dashboard))
        .route("/assets/rebound.css", get(stylesheet))
}

/// A rendered page with the headers every page carries.
pub(super) fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (
            status,
            [
                (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::REFERRER_POLICY, "same-origin"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            Html(html),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "a page template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "The page could not be rendered.\n").into_response()
        }
    }
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// A page that only says something.
#[derive(Template)]
#[template(path = "message.html")]
pub struct Message {
    pub heading: &'static str,
    pub message: &'static str,
    pub show_sign_in: bool,
}

pub fn message(status: StatusCode, message: Message) -> Response {
    page(status, &message)
}

pub fn unavailable() -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        Message {
            heading: "Unavailable",
            message: "The database is unavailable; try again in a moment.",
            show_sign_in: false,
        },
    )
}

pub fn forbidden_form() -> Response {
    message(
        StatusCode::FORBIDDEN,
        Message {
            heading: "Form expired",
            message: "This form did not come from your session; go back, reload and try again.",
            show_sign_in: false,
        },
    )
}

#[derive(Template)]
#[template(path = "logout.html")]
struct Logout<'a> {
    csrf: &'a str,
}

pub fn logout(signed_in: &SignedIn) -> Response {
    page(
        StatusCode::OK,
        &Logout {
            csrf: &signed_in.session.csrf,
        },
    )
}

/// One incident as a table row shows it.
struct Row {
    id: i64,
    reference: String,
    title: String,
    severity: String,
    severity_class: String,
    status: String,
    declared: String,
    declared_iso: String,
    lead: String,
}

impl Row {
    fn of(incident: &Incident) -> Self {
        let severity = incident.severity.map(|s| s.as_str().to_string());
        Self {
            id: incident.id,
            reference: incident.reference(),
            title: incident.title.clone(),
            severity_class: severity.clone().unwrap_or_else(|| "unset".into()),
            severity: severity.map(|s| s.to_uppercase()).unwrap_or_else(|| "not set".into()),
            status: incident.status.to_string(),
            declared: incident.declared_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            declared_iso: incident.declared_at.to_rfc3339(),
            lead: incident
                .lead
                .clone()
                .or_else(|| incident.alert_source().map(|s| format!("{s} alerts")))
                .unwrap_or_else(|| "unassigned".into()),
        }
    }
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct Incidents<'a> {
    heading: &'static str,
    empty: &'static str,
    csrf: &'a str,
    user_name: &'a str,
    rows: Vec<Row>,
    show_filters: bool,
    statuses: Vec<String>,
    severities: Vec<String>,
    filter_status: String,
    filter_severity: String,
    filter_since: String,
}

impl<'a> Incidents<'a> {
    fn new(signed_in: &'a SignedIn, heading: &'static str, empty: &'static str, rows: Vec<Row>) -> Self {
        Self {
            heading,
            empty,
            csrf: &signed_in.session.csrf,
            user_name: &signed_in.session.name,
            rows,
            show_filters: false,
            statuses: Status::ALL.iter().map(|s| s.as_str().to_string()).collect(),
            severities: Severity::ALL.iter().map(|s| s.as_str().to_string()).collect(),
            filter_status: String::new(),
            filter_severity: String::new(),
            filter_since: String::new(),
        }
    }
}

/// The incidents `signed_in` may see: public ones, and private ones whose
/// channel they are a member of.
async fn visible(state: &AppState, signed_in: &SignedIn, incidents: Vec<Incident>) -> Result<Vec<Incident>, Response> {
    let member_of = state
        .web_store
        .private_channels_of(&signed_in.session.user_id)
        .await
        .map_err(|error| {
            tracing::warn!(%error, "could not read channel memberships");
            unavailable()
        })?;
    let reader = reader_for(&member_of);
    Ok(incidents.into_iter().filter(|i| i.visible_to(&reader)).collect())
}

/// A signed-in person as a reader: in no channel, a member of `member_of`.
pub(super) fn reader_for(member_of: &std::collections::BTreeSet<String>) -> Audience<'_> {
    Audience::Person { channel: "", member_of }
}

/// `GET /`: the open incidents, oldest first.
async fn open_incidents(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    let incidents = match state.web_store.oldest_open_incidents(LISTED as i64).await {
        Ok(incidents) => incidents,
        Err(_) => return unavailable(),
    };
    match visible(&state, &signed_in, incidents).await {
        Ok(incidents) => {
            let rows = incidents.iter().map(Row::of).collect();
            page(
                StatusCode::OK,
                &Incidents::new(&signed_in, "Open incidents", "No open incidents. Quiet day.", rows),
            )
        }
        Err(response) => response,
    }
}

#[derive(Debug, Default, Deserialize)]
struct Filter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    since: String,
}

/// How many incidents `/incidents` lists at most (newest first).
const LISTED: usize = 500;

/// `GET /incidents?status=&severity=&since=`: every incident, open first, newest first.
async fn all_incidents(State(state): State<AppState>, signed_in: SignedIn, Query(filter): Query<Filter>) -> Response {
    let status: Option<Status> = filter.status.parse().ok();
    let severity: Option<Severity> = filter.severity.parse().ok();
    let since: Option<DateTime<Utc>> = NaiveDate::parse_from_str(&filter.since, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc());
    // Nothing predates 1970 or follows now; keep hostile dates inside what both engines store.
    let from = since
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
        .clamp(DateTime::<Utc>::UNIX_EPOCH, Utc::now());
    let listed = state
        .web_store
        .incident_list(
            status.map(Status::as_str),
            severity.map(Severity::as_str),
            from,
            LISTED as i64,
        )
        .await;
    let Ok(incidents) = listed else {
        return unavailable();
    };
    let incidents = match visible(&state, &signed_in, incidents).await {
        Ok(incidents) => incidents,
        Err(response) => return response,
    };
    let rows = incidents.iter().map(Row::of).collect();
    let mut template = Incidents::new(&signed_in, "All incidents", "No incidents match.", rows);
    template.show_filters = true;
    template.filter_status = status.map(|s| s.as_str().to_string()).unwrap_or_default();
    template.filter_severity = severity.map(|s| s.as_str().to_string()).unwrap_or_default();
    template.filter_since = since.map(|s| s.format("%Y-%m-%d").to_string()).unwrap_or_default();
    page(StatusCode::OK, &template)
}
