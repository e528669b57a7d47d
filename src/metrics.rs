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
pub struct MonthLabels {
    /// `YYYY-MM` (UTC).
    pub month: String,
}

/// A gauge that holds a fraction.
pub type RatioGauge = Gauge<f64, std::sync::atomic::AtomicU64>;

/// Every metric Rebound exports.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RouteLabels, Counter>,
    pub ack_seconds: Family<AckLabels, Histogram>,
    pub slack_calls: Family<SlackCallLabels, Counter>,
    pub inbox_depth: Gauge,
    pub outbox_depth: Gauge,
    pub timers_pending: Gauge,
    /// Fired minus due, per timer.
    pub timer_lateness: Histogram,
    /// Failure tickets captured per month (last 12 months), read at scrape time.
    pub failure_tickets: Family<MonthLabels, Gauge>,
    /// Share of a month's failure tickets that repeat an earlier one.
    pub failure_recurrence_rate: Family<MonthLabels, RatioGauge>,
}

fn ack_histogram() -> Histogram {
    // 100 µs to ~3.3 s: Slack's 3-second deadline must fall inside the range.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.0001, 2.0, 16,
    ))
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("rebound");
        let requests = Family::<RouteLabels, Counter>::default();
        let ack_seconds = Family::<AckLabels, Histogram>::new_with_constructor(ack_histogram as fn() -> Histogram);
        let slack_calls = Family::<SlackCallLabels, Counter>::default();
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
        Arc::new(Self {
            registry,
            failure_tickets,
            failure_recurrence_rate,
            requests,
            ack_seconds,
            slack_calls,
            inbox_depth,
            outbox_depth,
            timers_pending,
            timer_lateness,
        })
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

    /// The registry in Prometheus/OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
