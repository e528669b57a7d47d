//! Calls rendered when they are sent, not when they were queued: the
//! living card's edits and the channel topic carry only the incident's id
//! ([`CARD_OF`], [`TOPIC_OF`]), so a queued edit always shows the incident as
//! it is at the moment Slack gets it (and several queued ones coalesce).

use serde_json::{Value, json};

use crate::config::Settings;
use crate::dispatcher::{CARD_OF, TOPIC_OF};
use crate::domain::Incident;
use crate::slack::SlackCallError;
use crate::store::Store;
use crate::views::card;

/// The arguments of a card edit or topic change as of now; `None` for any
/// other call (sent with its queued arguments).
pub async fn at_send_time(store: &Store, settings: &Settings, args: &Value) -> Result<Option<Value>, SlackCallError> {
    if let Some(incident_id) = args[CARD_OF].as_i64() {
        return current_card(store, settings, incident_id, args).await.map(Some);
    }
    if let Some(incident_id) = args[TOPIC_OF].as_i64() {
        let incident = incident(store, incident_id).await?;
        return Ok(Some(
            json!({ "channel": args["channel"], "topic": card::topic(&incident) }),
        ));
    }
    Ok(None)
}

/// The card as the incident is now, addressed to the posted card's `ts`.
async fn current_card(
    store: &Store,
    settings: &Settings,
    incident_id: i64,
    args: &Value,
) -> Result<Value, SlackCallError> {
    let incident = incident(store, incident_id).await?;
    let Some(ts) = incident.card_ts.clone() else {
        return Err(SlackCallError::NotReady("the card is not posted yet".into()));
    };
    let paging = store.paging_alerts(incident_id).await.map_err(transient)?;
    let mut card = card::living_card(&incident, &settings.file, &paging);
    card["channel"] = args["channel"].clone();
    card["ts"] = json!(ts);
    Ok(card)
}

async fn incident(store: &Store, incident_id: i64) -> Result<Incident, SlackCallError> {
    match store.incident(incident_id).await.map_err(transient)? {
        Some(incident) => Ok(incident),
        None => Err(SlackCallError::Api("rebound_incident_missing".into())),
    }
}

fn transient(error: crate::store::StoreError) -> SlackCallError {
    SlackCallError::Transient(error.to_string())
}
