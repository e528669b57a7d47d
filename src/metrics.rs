//! Prometheus metrics, one registry per running app (no globals, so several
//! apps in one test process do not mix their numbers).

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AckLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SlackCallLabels {
    pub method: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IntakeLabels {
    /// The configured source name (unknown sources are counted as `unknown`).
    pub source: String,
    /// `accepted`, `duplicate`, `unauthenticated`, `malformed`, `unknown_source`,
    /// `too_large`, or what the dispatcher did: `incident`, `joined`, `ticket`,
    /// `dropped`, `repeat`, `cleared`.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabels {
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorkerLabels {
    /// `dispatcher`, `outbox`, `scheduler`, `housekeeping`.
    pub worker: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MonthLabels {
    /// `YYYY-MM` (UTC).
    pub month: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SeverityLabels {
    /// `sev1`…`sev4`, or `unset`; the worst severity the incident had.
    pub severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WeekLabels {
    /// ISO week in the team's time zone, `2026-W48`.
    pub week: String,
}

/// A gauge that holds a fraction.
pub type RatioGauge = Gauge<f64, std::sync::atomic::AtomicU64>;

/// Incident aggregates as `/metrics` shows them.
#[derive(Debug, Clone, Default)]
pub struct IncidentFigures {
    /// Last 30 days, by worst severity.
    pub by_severity: Vec<(String, crate::domain::incident_metrics::Aggregate)>,
    /// Last 8 weeks, by ISO week.
    pub by_week: Vec<(String, crate::domain::incident_metrics::Aggregate)>,
    /// Last 30 days.
    pub comms_adherence: Option<f64>,
}

/// Every metric Rebound exports.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RouteLabels, Counter>,
    pub ack_seconds: Family<AckLabels, Histogram>,
    pub slack_calls: Family<SlackCallLabels, Counter>,
    /// From the command or event's arrival to the call that shows it being sent, by method.
    pub time_to_slack: Family<MethodLabels, Histogram>,
    pub intake: Family<IntakeLabels, Counter>,
    pub inbox_depth: Gauge,
    pub outbox_depth: Gauge,
    pub timers_pending: Gauge,
    /// Fired minus due, per timer.
    pub timer_lateness: Histogram,
    /// Failure tickets captured per month (last 12 months), read at scrape time.
    pub failure_tickets: Family<MonthLabels, Gauge>,
    /// Share of a month's failure tickets that repeat an earlier one.
    pub failure_recurrence_rate: Family<MonthLabels, RatioGauge>,
    /// Incident aggregates over the last 30 days, by worst severity.
    pub incidents: Family<SeverityLabels, Gauge>,
    pub mttd_seconds: Family<SeverityLabels, RatioGauge>,
    pub mtta_seconds: Family<SeverityLabels, RatioGauge>,
    pub mttr_seconds: Family<SeverityLabels, RatioGauge>,
    /// Incident aggregates by week of declaration (last 8 weeks).
    pub weekly_mttd_seconds: Family<WeekLabels, RatioGauge>,
    pub weekly_mtta_seconds: Family<WeekLabels, RatioGauge>,
    pub weekly_mttr_seconds: Family<WeekLabels, RatioGauge>,
    /// On-time share of customer-update gaps over the last 30 days.
    pub comms_slo_adherence: RatioGauge,
    /// Inbox items that could never be applied and were set aside (kept, author told).
    pub inbox_set_aside: Counter,
    /// Slack calls and timers whose handling panicked and were set aside.
    pub work_set_aside: Family<WorkerLabels, Counter>,
    /// Times a background worker stopped unexpectedly and was restarted.
    pub worker_restarts: Family<WorkerLabels, Counter>,
    /// Bumped by every worker commit, so `/metrics` knows whether its
    /// aggregates can still be right.
    changes: std::sync::atomic::AtomicU64,
    /// When the aggregates were last computed, and at which change.
    aggregates_at: std::sync::Mutex<Option<(std::time::Instant, u64)>>,
}

fn time_to_slack_histogram() -> Histogram {
    // 10 ms to ~80 s.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.01, 2.0, 14,
    ))
}

fn ack_histogram() -> Histogram {
    // 100 µs to ~3.3 s: Slack's 3-second deadline must fall inside the range.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.0001, 2.0, 16,
    ))
}

impl Metrics {
    /// Counts one alert delivery (or alert) from `source` with `outcome`.
    pub fn intake(&self, source: &str, outcome: &str) {
        let labels = IntakeLabels {
            source: source.to_string(),
            outcome: outcome.to_string(),
        };
        self.intake.get_or_create(&labels).inc();
    }

    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("rebound");
        let requests = Family::<RouteLabels, Counter>::default();
        let ack_seconds = Family::<AckLabels, Histogram>::new_with_constructor(ack_histogram as fn() -> Histogram);
        let slack_calls = Family::<SlackCallLabels, Counter>::default();
        let time_to_slack =
            Family::<MethodLabels, Histogram>::new_with_constructor(time_to_slack_histogram as fn() -> Histogram);
        registry.register(
            "time_to_slack_seconds",
            "From the arrival of what caused a call (command, event) to the call being sent, by method",
            time_to_slack.clone(),
        );
        let intake = Family::<IntakeLabels, Counter>::default();
        registry.register(
            "intake_deliveries",
            "Alert deliveries by source and outcome (at the hook), and alerts by what they did (dispatcher)",
            intake.clone(),
        );
        let inbox_depth = Gauge::default();
        let outbox_depth = Gauge::default();
        let timers_pending = Gauge::default();
        // 1 ms to ~65 s.
        let timer_lateness = Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
            0.001, 2.0, 17,
        ));
        registry.register("http_requests", "HTTP requests by route and status", requests.clone());
        registry.register(
            "ack_latency_seconds",
            "Time from request arrival to Slack acknowledgement",
            ack_seconds.clone(),
        );
        registry.register(
            "slack_calls",
            "Slack Web API calls by method and result",
            slack_calls.clone(),
        );
        registry.register("inbox_depth", "Inbox items not yet processed", inbox_depth.clone());
        registry.register("outbox_depth", "Slack calls not yet sent", outbox_depth.clone());
        registry.register("timers_pending", "Timers waiting to fire", timers_pending.clone());
        registry.register(
            "timer_lateness_seconds",
            "How late timers fire (fired - due)",
            timer_lateness.clone(),
        );
        let failure_tickets = Family::<MonthLabels, Gauge>::default();
        let failure_recurrence_rate = Family::<MonthLabels, RatioGauge>::default();
        registry.register(
            "failure_tickets",
            "Failure tickets captured per month (UTC)",
            failure_tickets.clone(),
        );
        registry.register(
            "failure_recurrence_rate",
            "Share of a month's failure tickets that repeat an earlier failure",
            failure_recurrence_rate.clone(),
        );
        let incidents = Family::<SeverityLabels, Gauge>::default();
        let mttd_seconds = Family::<SeverityLabels, RatioGauge>::default();
        let mtta_seconds = Family::<SeverityLabels, RatioGauge>::default();
        let mttr_seconds = Family::<SeverityLabels, RatioGauge>::default();
        let weekly_mttd_seconds = Family::<WeekLabels, RatioGauge>::default();
        let weekly_mtta_seconds = Family::<WeekLabels, RatioGauge>::default();
        let weekly_mttr_seconds = Family::<WeekLabels, RatioGauge>::default();
        let comms_slo_adherence = RatioGauge::default();
        registry.register(
            "incidents_30d",
            "Incidents declared in the last 30 days, by worst severity",
            incidents.clone(),
        );
        registry.register(
            "mttd_seconds",
            "Mean time to detect (impact start to detection) over the last 30 days, by worst severity",
            mttd_seconds.clone(),
        );
        registry.register(
            "weekly_mttd_seconds",
            "Mean time to detect by ISO week of declaration (team time zone)",
            weekly_mttd_seconds.clone(),
        );
        registry.register(
            "mtta_seconds",
            "Mean time to acknowledge over the last 30 days, by worst severity",
            mtta_seconds.clone(),
        );
        registry.register(
            "mttr_seconds",
            "Mean time to resolve over the last 30 days, by worst severity",
            mttr_seconds.clone(),
        );
        registry.register(
            "weekly_mtta_seconds",
            "Mean time to acknowledge by ISO week of declaration (team time zone)",
            weekly_mtta_seconds.clone(),
        );
        registry.register(
            "weekly_mttr_seconds",
            "Mean time to resolve by ISO week of declaration (team time zone)",
            weekly_mttr_seconds.clone(),
        );
        registry.register(
            "comms_slo_adherence",
            "Share of customer-update gaps within the promised cadence, last 30 days",
            comms_slo_adherence.clone(),
        );
        let inbox_set_aside = Counter::default();
        let work_set_aside = Family::<WorkerLabels, Counter>::default();
        let worker_restarts = Family::<WorkerLabels, Counter>::default();
        registry.register(
            "inbox_set_aside",
            "Inbox items that could not be applied and were set aside with their error",
            inbox_set_aside.clone(),
        );
        registry.register(
            "work_set_aside",
            "Slack calls and timers whose handling panicked and were set aside",
            work_set_aside.clone(),
        );
        registry.register(
            "worker_restarts",
            "Background workers that stopped unexpectedly and were restarted",
            worker_restarts.clone(),
        );
        Arc::new(Self {
            registry,
            inbox_set_aside,
            work_set_aside,
            worker_restarts,
            changes: std::sync::atomic::AtomicU64::new(0),
            aggregates_at: std::sync::Mutex::new(None),
            failure_tickets,
            failure_recurrence_rate,
            incidents,
            mttd_seconds,
            mtta_seconds,
            mttr_seconds,
            weekly_mttd_seconds,
            weekly_mtta_seconds,
            weekly_mttr_seconds,
            comms_slo_adherence,
            requests,
            ack_seconds,
            slack_calls,
            time_to_slack,
            intake,
            inbox_depth,
            outbox_depth,
            timers_pending,
            timer_lateness,
        })
    }

    /// Records that the database changed (a worker committed).
    pub fn changed(&self) {
        self.changes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// True (and marked as refreshed) when the aggregates must be computed
    /// again: something changed since, or they are older than `max_age`
    /// (the windows move). Scrapes of an unchanged database cost nothing.
    pub fn aggregates_stale(&self, max_age: std::time::Duration) -> bool {
        let now = self.changes.load(std::sync::atomic::Ordering::Relaxed);
        let mut at = self
            .aggregates_at
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let stale = at.is_none_or(|(when, seen)| seen != now || when.elapsed() >= max_age);
        if stale {
            *at = Some((std::time::Instant::now(), now));
        }
        stale
    }

    /// A call went out `seconds` after what caused it arrived.
    pub fn record_time_to_slack(&self, method: &str, seconds: f64) {
        let labels = MethodLabels { method: method.into() };
        self.time_to_slack.get_or_create(&labels).observe(seconds.max(0.0));
    }

    pub fn record_slack_call(&self, method: &str, result: &str) {
        self.slack_calls
            .get_or_create(&SlackCallLabels {
                method: method.into(),
                result: result.into(),
            })
            .inc();
    }

    /// Replaces the per-month failure figures (months that left the window disappear).
    pub fn set_failure_months(&self, months: &[crate::domain::recurrence::MonthlyRecurrence]) {
        self.failure_tickets.clear();
        self.failure_recurrence_rate.clear();
        for month in months {
            let labels = MonthLabels {
                month: month.month.clone(),
            };
            self.failure_tickets
                .get_or_create(&labels)
                .set(i64::try_from(month.tickets).unwrap_or(i64::MAX));
            self.failure_recurrence_rate.get_or_create(&labels).set(month.rate());
        }
    }

    /// Replaces the incident aggregates (groups without data disappear).
    pub fn set_incident_aggregates(&self, figures: &IncidentFigures) {
        self.incidents.clear();
        self.mttd_seconds.clear();
        self.mtta_seconds.clear();
        self.mttr_seconds.clear();
        self.weekly_mttd_seconds.clear();
        self.weekly_mtta_seconds.clear();
        self.weekly_mttr_seconds.clear();
        for (severity, aggregate) in &figures.by_severity {
            let labels = SeverityLabels {
                severity: severity.clone(),
            };
            self.incidents
                .get_or_create(&labels)
                .set(i64::try_from(aggregate.incidents).unwrap_or(i64::MAX));
            if let Some(mttd) = aggregate.mttd {
                self.mttd_seconds.get_or_create(&labels).set(mttd.as_secs_f64());
            }
            if let Some(mtta) = aggregate.mtta {
                self.mtta_seconds.get_or_create(&labels).set(mtta.as_secs_f64());
            }
            if let Some(mttr) = aggregate.mttr {
                self.mttr_seconds.get_or_create(&labels).set(mttr.as_secs_f64());
            }
        }
        for (week, aggregate) in &figures.by_week {
            let labels = WeekLabels { week: week.clone() };
            if let Some(mttd) = aggregate.mttd {
                self.weekly_mttd_seconds.get_or_create(&labels).set(mttd.as_secs_f64());
            }
            if let Some(mtta) = aggregate.mtta {
                self.weekly_mtta_seconds.get_or_create(&labels).set(mtta.as_secs_f64());
            }
            if let Some(mttr) = aggregate.mttr {
                self.weekly_mttr_seconds.get_or_create(&labels).set(mttr.as_secs_f64());
            }
        }
        self.comms_slo_adherence.set(figures.comms_adherence.unwrap_or(1.0));
    }

    /// The registry in Prometheus/OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
