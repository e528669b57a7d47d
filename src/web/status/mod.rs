//! The public status page, no sign-in: `/status` (HTML), `/status/feed.atom`
//! and `/status/api/v2/{summary,status,components,incidents,incidents/unresolved}.json`
//! in the shape of Atlassian Statuspage's public API, so widgets and
//! monitors written for Statuspage work unchanged.
//!
//! Only what was published shows: configured components and the states
//! responders set (`/incident impact`), and incidents with at least one
//! update published with `/incident update --public` (never a private one),
//! with those updates only. Answers are built from a snapshot refreshed at
//! most every few seconds from the read pool (never the writer), and carry
//! an `ETag` and `Cache-Control`, so a burst of visitors costs nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::domain::Incident;
use crate::domain::status_page::{self, ComponentState};
use crate::startup::AppState;
use crate::store::status_page::{ComponentChange, PublishedUpdate};
use crate::store::{Store, StoreResult};

mod json;
mod page;

/// How long one snapshot serves every visitor.
const FRESH_FOR: Duration = Duration::from_secs(5);
/// How far back the page and the API look.
const HISTORY_DAYS: i64 = 90;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/status", get(html))
        .route("/status/feed.atom", get(atom))
        .route("/status/api/v2/summary.json", get(summary))
        .route("/status/api/v2/status.json", get(status))
        .route("/status/api/v2/components.json", get(components))
        .route("/status/api/v2/incidents.json", get(incidents))
        .route("/status/api/v2/incidents/unresolved.json", get(unresolved))
}

/// Every answer of the status page, rendered once per snapshot.
pub struct Rendered {
    html: String,
    atom: String,
    summary: String,
    status: String,
    components: String,
    incidents: String,
    unresolved: String,
}

/// The last snapshot and when it was made.
#[derive(Default)]
pub struct StatusCache {
    snapshot: Mutex<Option<(Instant, Arc<Rendered>)>>,
    /// One rebuild at a time; the others serve the previous snapshot.
    building: tokio::sync::Mutex<()>,
}

impl StatusCache {
    async fn current(&self, state: &AppState) -> Result<Arc<Rendered>, Response> {
        if let Some(fresh) = self.fresh(FRESH_FOR) {
            return Ok(fresh);
        }
        let _building = self.building.lock().await;
        if let Some(fresh) = self.fresh(FRESH_FOR) {
            return Ok(fresh);
        }
        match build(&state.web_store, &state.settings.file, Utc::now()).await {
            Ok(rendered) => {
                let rendered = Arc::new(rendered);
                *self.snapshot.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), rendered.clone()));
                Ok(rendered)
            }
            Err(error) => {
                tracing::warn!(%error, "could not build the status page");
                // A stale page beats none while the database is away.
                self.fresh(Duration::MAX).ok_or_else(super::pages::unavailable)
            }
        }
    }

    fn fresh(&self, within: Duration) -> Option<Arc<Rendered>> {
        let snapshot = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
        snapshot
            .as_ref()
            .filter(|(at, _)| at.elapsed() < within)
            .map(|(_, rendered)| rendered.clone())
    }
}

/// A component as the page shows it.
struct Component {
    id: String,
    name: String,
    group: Option<String>,
    description: Option<String>,
    state: ComponentState,
    updated_at: Option<DateTime<Utc>>,
    /// The worst state of each of the last 90 days, oldest first.
    days: Vec<ComponentState>,
}

/// A published incident with its published updates, newest first.
struct Published {
    incident: Incident,
    updates: Vec<PublishedUpdate>,
    components: Vec<String>,
}

fn slug(text: &str) -> String {
    let slug: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    slug.trim_matches('-').to_string()
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The worst state each day of the last `days`, from the changes (the
/// first one being the state before the window, if any).
fn daily(changes: &[&ComponentChange], now: DateTime<Utc>, days: i64) -> Vec<ComponentState> {
    let start = (now - chrono::Duration::days(days - 1)).date_naive();
    (0..days)
        .map(|offset| {
            let day = start + chrono::Duration::days(offset);
            let begins = day.and_time(chrono::NaiveTime::MIN).and_utc();
            let ends = begins + chrono::Duration::days(1);
            let at_start = changes
                .iter()
                .take_while(|c| c.at < begins)
                .last()
                .map(|c| c.state)
                .unwrap_or(ComponentState::Operational);
            changes
                .iter()
                .filter(|c| c.at >= begins && c.at < ends)
                .map(|c| c.state)
                .chain(std::iter::once(at_start))
                .max()
                .unwrap_or(ComponentState::Operational)
        })
        .collect()
}

async fn build(store: &Store, settings: &crate::config::FileSettings, now: DateTime<Utc>) -> StoreResult<Rendered> {
    let since = now - chrono::Duration::days(HISTORY_DAYS);
    let current: BTreeMap<String, _> = store
        .component_statuses()
        .await?
        .into_iter()
        .map(|c| (c.name.clone(), c))
        .collect();
    let changes = store.component_changes_since(since).await?;
    let status = &settings.status;
    let components: Vec<Component> = status
        .components
        .iter()
        .map(|c| {
            let known = current.get(&c.name);
            let own: Vec<&ComponentChange> = changes.iter().filter(|ch| ch.name == c.name).collect();
            Component {
                id: slug(&c.name),
                name: c.name.clone(),
                group: c.group.clone(),
                description: c.description.clone(),
                state: known.map(|k| k.state).unwrap_or(ComponentState::Operational),
                updated_at: known.map(|k| k.updated_at),
                days: daily(&own, now, HISTORY_DAYS),
            }
        })
        .collect();
    let mut by_incident: BTreeMap<i64, Vec<PublishedUpdate>> = BTreeMap::new();
    for update in store.published_updates_since(since).await? {
        by_incident.entry(update.incident_id).or_default().push(update);
    }
    let mut published = Vec::new();
    for (id, updates) in by_incident.into_iter().rev() {
        if let Some(incident) = store.incident(id).await?.filter(|i| !i.private) {
            let impacted = current
                .values()
                .filter(|k| k.incident_id == Some(id))
                .map(|k| slug(&k.name))
                .collect();
            published.push(Published {
                incident,
                updates,
                components: impacted,
            });
        }
    }
    Ok(render(
        status,
        settings.web.public_url.as_deref(),
        &components,
        &published,
        now,
    ))
}

fn render(
    status: &crate::config::status::StatusSettings,
    public_url: Option<&str>,
    components: &[Component],
    published: &[Published],
    now: DateTime<Utc>,
) -> Rendered {
    let base = public_url.unwrap_or("").trim_end_matches('/').to_string();
    let page_id = slug(&status.title);
    let updated = published
        .iter()
        .flat_map(|p| p.updates.first().map(|u| u.at))
        .chain(components.iter().filter_map(|c| c.updated_at))
        .max()
        .unwrap_or(now);
    let page = json!({ "id": page_id, "name": status.title, "url": format!("{base}/status"), "time_zone": "Etc/UTC", "updated_at": rfc3339(updated) });
    let unresolved: Vec<&Published> = published.iter().filter(|p| p.incident.is_open()).collect();
    let (indicator, description) = status_page::indicator(
        components.iter().map(|c| c.state),
        unresolved.iter().map(|p| p.incident.severity),
    );
    let status_json = json!({ "indicator": indicator, "description": description });
    let components_json = json::components(components, &page_id);
    let incident_json = |p: &Published| json::incident(p, &page_id, &base);
    let all: Vec<Value> = published.iter().map(incident_json).collect();
    let open: Vec<Value> = unresolved.iter().map(|p| incident_json(p)).collect();
    let summary = json!({ "page": page, "components": components_json, "incidents": open, "scheduled_maintenances": [], "status": status_json });
    Rendered {
        html: page::html(status, components, published, (indicator, description), now),
        atom: page::atom(status, &base, published, updated),
        status: json!({ "page": page, "status": status_json }).to_string(),
        components: json!({ "page": page, "components": components_json }).to_string(),
        incidents: json!({ "page": page, "incidents": all }).to_string(),
        unresolved: json!({ "page": page, "incidents": open }).to_string(),
        summary: summary.to_string(),
    }
}

/// A cacheable answer: `ETag` from the body; 304 when the client has it.
fn cacheable(request: &HeaderMap, content_type: &'static str, body: &str) -> Response {
    let tag = format!("\"{}\"", &hex::encode(Sha256::digest(body.as_bytes()))[..32]);
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=30")),
        (
            header::ETAG,
            HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"\"")),
        ),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; img-src https:; frame-ancestors 'none'",
            ),
        ),
    ];
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| given.split(',').any(|t| t.trim() == tag));
    if matches {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (StatusCode::OK, headers, body.to_string()).into_response()
}

async fn answer(state: &AppState, request: &HeaderMap, pick: fn(&Rendered) -> (&'static str, &str)) -> Response {
    match state.status_cache.current(state).await {
        Ok(rendered) => {
            let (content_type, body) = pick(&rendered);
            cacheable(request, content_type, body)
        }
        Err(response) => response,
    }
}

const JSON: &str = "application/json";

async fn html(State(state): State<AppState>, headers: HeaderMap) -> Response {
    answer(&state, &headers, |r| ("text/html; charset=utf-8", &r.html)).await
}
async fn atom(State(state): State<AppState>, headers: HeaderMap) -> Response {
    answer(&state, &headers, |r| ("application/atom+xml", &r.atom)).await
}
async fn summary(State(state): State<AppState>, headers: HeaderMap) -> Response {
    answer(&state, &headers, |r| (JSON, &r.summary)).await
}
async fn status(State(state): State<AppState>, headers: HeaderMap) -> Response {
    answer(&state, &headers, |r| (JSON, &r.status)).await
}
async fn components(State(state): State<AppState>, headers: HeaderMap) -> Response {
    answer(&state, &headers, |r| (JSON, &r.components)).await
}
async fn incidents(State(state): State<AppState>, headers: HeaderMap) -> Response {
    answer(&state, &headers, |r| (JSON, &r.incidents)).await
}
async fn unresolved(State(state): State<AppState>, headers: HeaderMap) -> Response {
    answer(&state, &headers, |r| (JSON, &r.unresolved)).await
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn each_day_shows_its_worst_state() {
        let at = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap();
        let changes = [
            ComponentChange {
                name: "API".into(),
                state: ComponentState::Major,
                at: at(1, 10),
            },
            ComponentChange {
                name: "API".into(),
                state: ComponentState::Degraded,
                at: at(1, 11),
            },
            ComponentChange {
                name: "API".into(),
                state: ComponentState::Operational,
                at: at(2, 9),
            },
        ];
        let refs: Vec<&ComponentChange> = changes.iter().collect();
        let days = daily(&refs, at(3, 12), 4);
        use ComponentState::*;
        assert_eq!(days, [Operational, Major, Degraded, Operational], "Nov 30, Dec 1, 2, 3");
    }

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(slug("Acme status"), "acme-status");
        assert_eq!(slug("<API>/v2"), "api--v2");
    }
}
