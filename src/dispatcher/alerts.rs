//! Alert deliveries from the inbox: every alert is recorded in the ledger,
//! routed (`domain::alerts::routing`), and then opens an incident, joins
//! the open incident holding its group, opens a failure ticket, or is
//! dropped; a cleared alert is told in its incident's channel and, on an
//! `auto_resolve` route, resolves the incident once all its alerts have.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Dispatcher, changes};
use crate::config::intake::SourceSettings;
use crate::domain::alerts::routing::{self, Known, Route, Routed, Step};
use crate::domain::alerts::{self, Alert};
use crate::domain::incident::{ALERT_DECLARER, AlertFacts, believable_impact_start};
use crate::domain::lifecycle::{self, Permissions};
use crate::domain::timers::{self, TimerChange, TimerKind};
use crate::domain::{Change, IncidentDraft, IncidentId, clock};
use crate::intake::StoredDelivery;
use crate::store::{AfterSend, NewOutboxCall, TimelineEntry, UnitOfWork};
use crate::views;

impl Dispatcher {
    /// Applies one stored delivery, received at `received_at`.
    pub(super) async fn alerts(
        &self,
        uow: &mut UnitOfWork,
        payload: &str,
        received_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let stored: StoredDelivery = serde_json::from_str(payload).context("stored alert delivery is not JSON")?;
        let Some(source) = self.settings.file.intake.named(&stored.source) else {
            // Removed from config since it was acknowledged: counted, not applied.
            tracing::warn!(source = %stored.source, "alert delivery from a source no longer configured");
            self.metrics.intake(&stored.source, "source_removed");
            return Ok(());
        };
        let parsed = alerts::parse(source.kind, &stored.delivery, &stored.body)
            .map_err(|e| anyhow::anyhow!("stored alert delivery no longer parses: {e}"))?;
        let routes = self.settings.file.intake.compiled_routes();
        let mut joined: Vec<(IncidentId, &Alert)> = Vec::new();
        let mut cleared: Vec<(IncidentId, &Alert)> = Vec::new();
        for alert in &parsed {
            let step = self.alert_step(uow, source, &routes, alert, now).await?;
            self.metrics.intake(&source.name, outcome(&step));
            match step {
                Step::Repeat | Step::Drop | Step::Nothing => {}
                Step::Join(id) => {
                    uow.join_alert_incident(&source.name, &alert.dedup_key, id).await?;
                    joined.push((id, alert));
                }
                Step::OpenIncident(routed) => {
                    let facts = AlertFacts {
                        title: &alert.title,
                        started_at: alert.started_at,
                        detected_at: received_at,
                    };
                    self.open_incident(uow, source, alert, facts, routed, now).await?
                }
                Step::OpenTicket => self.open_ticket(uow, source, alert, now).await?,
                Step::Cleared(Known { incident: Some(id), .. }) => cleared.push((id, alert)),
                Step::Cleared(Known {
                    ticket: Some(ticket), ..
                }) => ticket_alert_cleared(uow, ticket, alert, now).await?,
                Step::Cleared(_) => {}
            }
        }
        post_joined(uow, &source.name, &joined, self.settings.file.intake.summary_every, now).await?;
        for (id, alerts) in by_incident(&cleared) {
            self.cleared(uow, source, &routes, id, &alerts, now).await?;
        }
        Ok(())
    }

    /// Records the alert and decides its step from what was known before.
    async fn alert_step(
        &self,
        uow: &mut UnitOfWork,
        source: &SourceSettings,
        routes: &[Route],
        alert: &Alert,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Step> {
        let known = uow.known_alert(&source.name, &alert.dedup_key).await?;
        let group_incident = uow.incident_of_group(&source.name, &alert.group_key).await?;
        let routed = routing::route(&source.name, source.defaults(), routes, alert);
        uow.record_alert(&source.name, alert, routed.action, now).await?;
        Ok(routing::step(alert, known, group_incident, routed))
    }

    async fn open_incident(
        &self,
        uow: &mut UnitOfWork,
        source: &SourceSettings,
        alert: &Alert,
        facts: AlertFacts<'_>,
        routed: Routed,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let draft = IncidentDraft::from_alert(&source.name, facts, routed.severity, now);
        let id = self.declare(uow, draft, None, "alert", now).await?;
        uow.link_alert_incident(&source.name, &alert.dedup_key, id).await?;
        let link = alert.link.as_deref().map(|l| format!(" ({l})")).unwrap_or_default();
        uow.append_timeline(&TimelineEntry {
            incident_id: id,
            at: now,
            actor: format!("alert:{}", source.name),
            kind: "alert".into(),
            body: format!("Alert from {}: {}{link}", source.name, alert.title),
            source: "alert".into(),
        })
        .await?;
        Ok(())
    }

    /// A threshold breach to learn from rather than an outage: the alert is
    /// posted to the announce channel and that post becomes a failure
    /// ticket, with the same thread reply and triage as a flagged message.
    async fn open_ticket(
        &self,
        uow: &mut UnitOfWork,
        source: &SourceSettings,
        alert: &Alert,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let channel = &self.settings.file.slack.announce_channel;
        let link = alert
            .link
            .as_deref()
            .map(|l| format!("\n<{}|Open in {}>", l.replace(['<', '>', '|'], ""), source.name))
            .unwrap_or_default();
        let text = format!(
            ":chart_with_downwards_trend: *Threshold breached* (`{}`): {}{link}",
            source.name,
            crate::text::mrkdwn(&alert.title)
        );
        let call = NewOutboxCall {
            ordering_key: format!("channel:{channel}"),
            method: "chat.postMessage".into(),
            args: json!({ "channel": channel, "text": text, "unfurl_links": false }),
            after_send: AfterSend::AlertTicketPosted {
                source: source.name.clone(),
                dedup_key: alert.dedup_key.clone(),
            },
        };
        uow.enqueue(&call, now).await?;
        Ok(())
    }

    /// Alerts of this delivery cleared in incident `id`: one post, and the
    /// incident resolves when the last cleared on an `auto_resolve` route.
    async fn cleared(
        &self,
        uow: &mut UnitOfWork,
        source: &SourceSettings,
        routes: &[Route],
        id: IncidentId,
        alerts: &[&Alert],
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let Some(incident) = uow.incident(id).await? else {
            return Ok(());
        };
        let (Some(channel), true) = (incident.channel_id.clone(), incident.is_open()) else {
            return Ok(());
        };
        let tally = uow.alert_tally(id).await?;
        let auto_resolve = alerts
            .iter()
            .any(|alert| routing::route(&source.name, source.defaults(), routes, alert).auto_resolve);
        let mut post = views::alerts::cleared(alerts, tally, auto_resolve);
        post["channel"] = json!(channel);
        let call = NewOutboxCall {
            ordering_key: format!("channel:{channel}"),
            method: "chat.postMessage".into(),
            args: post,
            after_send: AfterSend::Nothing,
        };
        uow.enqueue(&call, now).await?;
        if auto_resolve && tally.firing == 0 {
            self.auto_resolve(uow, &source.name, &incident, &channel, now).await?;
        }
        Ok(())
    }

    /// Every alert of the incident cleared on an `auto_resolve` route: the
    /// operator chose this in config, so the resolve policy does not apply.
    async fn auto_resolve(
        &self,
        uow: &mut UnitOfWork,
        source: &str,
        incident: &crate::domain::Incident,
        channel: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let actor = format!("alert:{source}");
        let change = Change::Resolve(Some("All alerts resolved".into()));
        if let Ok((next, happened)) = lifecycle::decide(incident, &actor, change, &Permissions::ANYONE, now) {
            let request = changes::Request {
                channel_id: channel,
                actor: &actor,
                change: Change::Resolve(None),
                source: "alert",
                response_url: None,
                quiet_when_unchanged: true,
            };
            changes::record(uow, &self.settings, &request, &next, &happened, now).await?;
        }
        Ok(())
    }
}

/// The alerts of each incident, in order of first appearance.
fn by_incident<'a>(pairs: &[(IncidentId, &'a Alert)]) -> Vec<(IncidentId, Vec<&'a Alert>)> {
    let mut grouped: Vec<(IncidentId, Vec<&Alert>)> = Vec::new();
    for (id, alert) in pairs {
        match grouped.iter_mut().find(|(i, _)| i == id) {
            Some((_, alerts)) => alerts.push(alert),
            None => grouped.push((*id, vec![alert])),
        }
    }
    grouped
}

/// Tells each incident's channel about the alerts that joined it — at
/// once if it was not told in the last `summary_every`, else in one summary
/// when that has passed (an incident whose channel is not made yet says so
/// when it is); an alert that began earlier moves the impact start back.
async fn post_joined(
    uow: &mut UnitOfWork,
    source: &str,
    joined: &[(IncidentId, &Alert)],
    summary_every: std::time::Duration,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    for (id, alerts) in by_incident(joined) {
        let Some(incident) = uow.incident(id).await? else {
            continue;
        };
        let earliest = alerts.iter().filter_map(|a| a.started_at).min();
        let set_by_alert = incident
            .impact_source
            .as_deref()
            .is_none_or(|s| s.starts_with(ALERT_DECLARER));
        let earlier = believable_impact_start(earliest, incident.detected_at)
            .filter(|at| set_by_alert && incident.impact_started_at.is_none_or(|known| *at < known));
        if let Some(at) = earlier {
            uow.move_impact_start_back(id, at, &format!("{ALERT_DECLARER}{source}"))
                .await?;
        }
        let Some(channel) = incident.channel_id.clone() else {
            continue;
        };
        if earlier.is_some() {
            let card = changes::refresh_card(&incident, &channel, &format!("channel:{channel}"));
            uow.enqueue(&card, now).await?;
        }
        if uow.has_pending_timer(id, TimerKind::AlertSummary).await? {
            continue;
        }
        announce_joined(uow, id, source, &channel, now).await?;
        let window = TimerChange::Schedule {
            kind: TimerKind::AlertSummary,
            subject: timers::INCIDENT,
            due_at: clock::later(now, summary_every),
            every: summary_every,
        };
        uow.apply_timer(id, &window, now).await?;
    }
    Ok(())
}

/// One post about the alerts that joined incident `id` since its channel
/// was last told; none when nothing did. True when it posted.
pub async fn announce_joined(
    uow: &mut UnitOfWork,
    id: IncidentId,
    source: &str,
    channel: &str,
    now: DateTime<Utc>,
) -> crate::store::StoreResult<bool> {
    let (count, titles) = uow.take_unannounced(id, views::alerts::LISTED).await?;
    if count == 0 {
        return Ok(false);
    }
    let text = views::alerts::joined(source, count, &titles);
    let call = NewOutboxCall {
        ordering_key: format!("channel:{channel}"),
        method: "chat.postMessage".into(),
        args: json!({ "channel": channel, "text": text, "unfurl_links": false }),
        after_send: AfterSend::Nothing,
    };
    uow.enqueue(&call, now).await?;
    Ok(true)
}

/// The alert behind failure ticket `id` cleared: said in the ticket's
/// thread, so whoever triages it knows how long the breach lasted.
async fn ticket_alert_cleared(uow: &mut UnitOfWork, id: i64, alert: &Alert, now: DateTime<Utc>) -> anyhow::Result<()> {
    let Some(ticket) = uow.ticket(id).await? else {
        return Ok(());
    };
    let thread = ticket.thread_ts.clone().unwrap_or_else(|| ticket.ts.clone());
    let text = views::alerts::ticket_alert_cleared(id, alert, ticket.captured_at, now);
    let call = NewOutboxCall {
        ordering_key: format!("channel:{}", ticket.channel_id),
        method: "chat.postMessage".into(),
        args: json!({ "channel": ticket.channel_id, "thread_ts": thread, "text": text, "unfurl_links": false }),
        after_send: AfterSend::Nothing,
    };
    uow.enqueue(&call, now).await?;
    Ok(())
}

/// The `rebound_intake_deliveries_total` outcome an alert's step counts as.
fn outcome(step: &Step) -> &'static str {
    match step {
        Step::Repeat => "repeat",
        Step::Join(_) => "joined",
        Step::OpenIncident(_) => "incident",
        Step::OpenTicket => "ticket",
        Step::Drop => "dropped",
        Step::Cleared(_) => "cleared",
        Step::Nothing => "recorded",
    }
}
