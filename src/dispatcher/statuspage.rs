//! Mirroring public changes on Statuspage.io: the domain says which changes
//! the mirror hears of ([`crate::domain::statuspage_mirror`]); this records
//! the call, with the incident's public name, status, update text and the
//! states of the components it set, in the transaction of the change.
//! The worker turns component names into Statuspage's ids when it sends.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::config::Settings;
use crate::domain::statuspage_mirror::mirror_update;
use crate::domain::{Happened, Incident};
use crate::store::{AfterSend, NewOutboxCall, StoreResult, UnitOfWork};

/// Outbox method of a Statuspage incident create-or-update.
pub const STATUSPAGE_METHOD: &str = "statuspage.incident";

/// Records the Statuspage call `happened` calls for, if any.
pub async fn mirror(
    uow: &mut UnitOfWork,
    settings: &Settings,
    incident: &Incident,
    happened: &Happened,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if settings.file.integrations.statuspage.is_none() {
        return Ok(());
    }
    let mirrored = uow.statuspage_mirrored(incident.id).await?;
    let Some(update) = mirror_update(incident, happened, mirrored) else {
        return Ok(());
    };
    uow.mirror_on_statuspage(incident.id, now).await?;
    let components: Map<String, Value> = uow
        .components_touched_by(incident.id)
        .await?
        .into_iter()
        .map(|(name, state)| (name, json!(state.as_str())))
        .collect();
    let call = NewOutboxCall {
        // One queue per incident: the create is answered (and its id kept)
        // before the incident's next update is sent.
        ordering_key: format!("statuspage:{}", incident.id),
        method: STATUSPAGE_METHOD.into(),
        args: json!({
            "name": crate::text::plain(&incident.title),
            "status": incident.status.as_str(),
            "body": update.body.map(|text| crate::views::markdown::unbolded_headings(&text)),
            "components": components,
            "declared_at": incident.declared_at.to_rfc3339(),
        }),
        after_send: AfterSend::StatuspageIncident {
            incident_id: incident.id,
        },
    };
    uow.enqueue(&call, now).await
}
