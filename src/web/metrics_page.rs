//! `GET /metrics-dashboard`: the charts — MTTD / MTTA / MTTR by week,
//! incidents per week by worst severity, comms-SLO adherence by week,
//! failure recurrence rate and downtime cost by month — each an SVG drawn on
//! the server (`views::charts`) with its numbers in a table beside it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::pages::page;
use super::session::SignedIn;
use crate::domain::trends::Trends;
use crate::startup::AppState;
use crate::views::charts::{self, Series};

/// The trends the page shows, recomputed in the background by
/// [`keep_trends_fresh`] every `[web] trends_every`: measuring a year of
/// incidents takes a while (0.2–0.5 s at 10,000 here), and no visitor should
/// wait for it.
pub struct TrendsCache {
    latest: tokio::sync::watch::Sender<Option<std::sync::Arc<Computed>>>,
}

/// Trends and when they were computed.
pub struct Computed {
    pub trends: Trends,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Default for TrendsCache {
    fn default() -> Self {
        Self {
            latest: tokio::sync::watch::channel(None).0,
        }
    }
}

impl TrendsCache {
    /// The last trends computed, if any yet.
    pub fn latest(&self) -> Option<std::sync::Arc<Computed>> {
        self.latest.borrow().clone()
    }

    /// Measures the trends as of `now` and serves them from here on.
    pub async fn refresh(
        &self,
        store: &crate::store::Store,
        settings: &crate::config::FileSettings,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::store::StoreResult<()> {
        let trends = crate::reports::trends(store, settings, (WEEKS, MONTHS), now).await?;
        self.latest
            .send_replace(Some(std::sync::Arc::new(Computed { trends, at: now })));
        Ok(())
    }
}

/// The worker behind [`TrendsCache`]: computes at once, then every
/// `[web] trends_every`, from the read pool (never the writer). A failed
/// computation keeps the last trends and is retried at the next tick.
pub async fn keep_trends_fresh(
    cache: std::sync::Arc<TrendsCache>,
    store: std::sync::Arc<crate::store::Store>,
    settings: std::sync::Arc<crate::config::Settings>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(settings.file.web.trends_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(error) = cache.refresh(&store, &settings.file, chrono::Utc::now()).await {
            tracing::warn!(%error, "could not compute the dashboard's trends; keeping the last ones");
        }
    }
}

/// How far back the charts look.
const WEEKS: usize = 12;
const MONTHS: u32 = 12;

struct Chart {
    title: String,
    svg: Option<String>,
    note: &'static str,
    head: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

#[derive(Template)]
#[template(path = "metrics_dashboard.html")]
struct MetricsPage<'a> {
    csrf: &'a str,
    user_name: &'a str,
    weeks: usize,
    months: u32,
    zone: String,
    /// Nothing computed yet (just started): say so and reload.
    pending: bool,
    computed_at: String,
    computed_iso: String,
    charts: Vec<Chart>,
}

fn minutes(duration: Option<std::time::Duration>) -> Option<f64> {
    duration.map(|d| (d.as_secs_f64() / 60.0 * 10.0).round() / 10.0)
}

fn cell(value: Option<f64>, unit: &str) -> String {
    value.map(|v| format!("{v:.1}{unit}")).unwrap_or_else(|| "—".into())
}

fn mean_times(trends: &Trends, labels: &[String]) -> Chart {
    let of = |pick: fn(&crate::domain::incident_metrics::Aggregate) -> Option<std::time::Duration>| {
        trends
            .weeks
            .iter()
            .map(|w| minutes(pick(&w.aggregate)))
            .collect::<Vec<_>>()
    };
    let (mttd, mtta, mttr) = (of(|a| a.mttd), of(|a| a.mtta), of(|a| a.mttr));
    let rows = trends
        .weeks
        .iter()
        .enumerate()
        .map(|(i, w)| {
            vec![
                w.label.clone(),
                w.aggregate.incidents.to_string(),
                cell(mttd[i], " min"),
                cell(mtta[i], " min"),
                cell(mttr[i], " min"),
            ]
        })
        .collect();
    let series = [
        Series {
            name: "MTTD",
            values: mttd,
        },
        Series {
            name: "MTTA",
            values: mtta,
        },
        Series {
            name: "MTTR",
            values: mttr,
        },
    ];
    Chart {
        title: "Mean time to detect, acknowledge and resolve, by week".into(),
        svg: Some(charts::lines(labels, &series, "minutes")),
        note: "",
        head: vec!["Week", "Incidents", "MTTD", "MTTA", "MTTR"],
        rows,
    }
}

fn by_severity(trends: &Trends, labels: &[String]) -> Chart {
    const NAMES: [&str; 5] = ["sev1", "sev2", "sev3", "sev4", "unset"];
    let series: Vec<Series> = NAMES
        .iter()
        .enumerate()
        .map(|(slot, name)| Series {
            name,
            values: trends
                .weeks
                .iter()
                .map(|w| Some(f64::from(w.by_severity[slot])))
                .collect(),
        })
        .collect();
    let rows = trends
        .weeks
        .iter()
        .map(|w| {
            let mut row = vec![w.label.clone()];
            row.extend(w.by_severity.iter().map(u32::to_string));
            row
        })
        .collect();
    Chart {
        title: "Incidents per week by worst severity".into(),
        svg: Some(charts::stacked_bars(labels, &series, "incidents")),
        note: "",
        head: vec!["Week", "SEV1", "SEV2", "SEV3", "SEV4", "Unset"],
        rows,
    }
}

fn comms(trends: &Trends, labels: &[String]) -> Chart {
    let values: Vec<Option<f64>> = trends
        .weeks
        .iter()
        .map(|w| w.aggregate.comms_adherence.map(|a| (a * 1000.0).round() / 10.0))
        .collect();
    let rows = trends
        .weeks
        .iter()
        .zip(&values)
        .map(|(w, v)| vec![w.label.clone(), cell(*v, " %")])
        .collect();
    Chart {
        title: "Customer updates on time (comms-SLO adherence), by week".into(),
        svg: Some(charts::lines(
            labels,
            &[Series {
                name: "on time",
                values,
            }],
            "%",
        )),
        note: "",
        head: vec!["Week", "On time"],
        rows,
    }
}

fn recurrence(trends: &Trends, labels: &[String]) -> Chart {
    let values: Vec<Option<f64>> = trends
        .months
        .iter()
        .map(|m| Some((m.recurrence.rate() * 1000.0).round() / 10.0))
        .collect();
    let rows = trends
        .months
        .iter()
        .zip(&values)
        .map(|(m, v)| {
            vec![
                m.label.clone(),
                m.recurrence.tickets.to_string(),
                m.recurrence.recurring.to_string(),
                cell(*v, " %"),
            ]
        })
        .collect();
    Chart {
        title: "Failure recurrence rate by month".into(),
        svg: Some(charts::stacked_bars(
            labels,
            &[Series {
                name: "recurring",
                values,
            }],
            "%",
        )),
        note: "",
        head: vec!["Month", "Tickets", "Recurring", "Rate"],
        rows,
    }
}

fn cost(trends: &Trends, labels: &[String], currency: &str) -> Chart {
    let values: Vec<Option<f64>> = trends.months.iter().map(|m| m.cost.map(f64::round)).collect();
    let configured = values.iter().any(Option::is_some);
    let rows = trends
        .months
        .iter()
        .zip(&values)
        .map(|(m, v)| {
            vec![
                m.label.clone(),
                v.map(|v| format!("{v:.0} {currency}")).unwrap_or_else(|| "—".into()),
            ]
        })
        .collect();
    Chart {
        title: format!("Downtime cost by month ({currency})"),
        svg: configured.then(|| charts::stacked_bars(labels, &[Series { name: "cost", values }], currency)),
        note: "Set [cost.per_minute] rates in the configuration to chart the cost of downtime.",
        head: vec!["Month", "Cost"],
        rows,
    }
}

pub async fn metrics_dashboard(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    let settings = &state.settings.file;
    let zone = crate::reports::team_zone(settings);
    let Some(computed) = state.trends_cache.latest() else {
        return page(StatusCode::OK, &metrics_page(&signed_in, zone, None, Vec::new()));
    };
    let trends = &computed.trends;
    // Short axis labels (`W49`, `Dec`); the tables give them in full.
    let weeks: Vec<String> = trends
        .weeks
        .iter()
        .map(|w| {
            w.label
                .split_once('-')
                .map_or(w.label.clone(), |(_, week)| week.to_string())
        })
        .collect();
    let months: Vec<String> = trends
        .months
        .iter()
        .map(|m| {
            chrono::NaiveDate::parse_from_str(&format!("{}-01", m.label), "%Y-%m-%d")
                .map(|d| d.format("%b").to_string())
                .unwrap_or_else(|_| m.label.clone())
        })
        .collect();
    let charts = vec![
        mean_times(trends, &weeks),
        by_severity(trends, &weeks),
        comms(trends, &weeks),
        recurrence(trends, &months),
        cost(trends, &months, &settings.cost.currency),
    ];
    page(StatusCode::OK, &metrics_page(&signed_in, zone, Some(&computed), charts))
}

/// The page around `charts`; without `computed` trends, the "being computed" page.
fn metrics_page<'a>(
    signed_in: &'a SignedIn,
    zone: chrono_tz::Tz,
    computed: Option<&Computed>,
    charts: Vec<Chart>,
) -> MetricsPage<'a> {
    let at = |format: &dyn Fn(&Computed) -> String| computed.map(format).unwrap_or_default();
    MetricsPage {
        csrf: &signed_in.session.csrf,
        user_name: &signed_in.session.name,
        weeks: WEEKS,
        months: MONTHS,
        zone: zone.name().to_string(),
        pending: computed.is_none(),
        computed_at: at(&|c| c.at.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S %Z").to_string()),
        computed_iso: at(&|c| c.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        charts,
    }
}
