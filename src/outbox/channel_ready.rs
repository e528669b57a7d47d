//! A new incident channel: the calls that follow its creation (invite the
//! declarer or the alert's responders, post the living card, set the topic,
//! announce, tell the declarer), recorded in the transaction that links the
//! channel; and what the declarer is told when it can never be created.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::config::{PrivateAnnouncement, Settings};
use crate::domain::{Incident, IncidentId};
use crate::store::{AfterSend, NewOutboxCall, RESPONSE_URL_METHOD, StoreError, TimelineEntry, UnitOfWork};
use crate::views::{self, card, replies};

/// When a declaration's channel can never be created (`restricted_action`,
/// no free name), the message that tells the declarer why.
pub fn declaration_failed(call: &crate::store::OutboxCall, error: &str) -> Option<NewOutboxCall> {
    let AfterSend::IncidentChannelCreated {
        incident_id,
        response_url: Some(url),
        ..
    } = &call.after_send
    else {
        return None;
    };
    let reply = format!(
        ":x: Rebound could not create the channel for INC-{incident_id}: {}. \
         The incident is recorded; ask a Slack admin whether the app may create channels, then declare again.",
        crate::text::mrkdwn(error)
    );
    Some(NewOutboxCall {
        ordering_key: format!("incident:{incident_id}:notice"),
        method: RESPONSE_URL_METHOD.into(),
        args: json!({ "url": url, "body": views::ephemeral(&reply) }),
        after_send: AfterSend::Nothing,
    })
}

/// `conversations.create` answered: the channel is linked to the incident
/// and everything that was waiting for it is queued.
pub async fn channel_created(
    uow: &mut UnitOfWork,
    incident_id: IncidentId,
    response_url: Option<&str>,
    response: &Value,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (Some(channel_id), Some(name)) = (response["channel"]["id"].as_str(), response["channel"]["name"].as_str())
    else {
        return Err(StoreError::Corrupt(
            "conversations.create answered without channel id and name".into(),
        ));
    };
    uow.link_incident_channel(incident_id, channel_id, name).await?;
    let incident = uow
        .incident(incident_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("incident {incident_id} vanished")))?;
    let paging = uow.paging_alerts(incident.id).await?;
    for call in channel_ready_calls(&incident, channel_id, response_url, &paging, settings) {
        uow.enqueue(&call, now).await?;
    }
    for notice in super::vendors::earlier_refusals(&paging, channel_id) {
        uow.enqueue(&notice, now).await?;
    }
    if let Some(source) = incident.alert_source() {
        // Alerts of a storm that joined before the channel existed: one post says how many.
        crate::dispatcher::announce_joined(uow, incident.id, source, channel_id, now).await?;
    }
    if incident.private {
        // Who may read it elsewhere: the members, once invited.
        super::channels::known_private(uow, channel_id, true, now).await?;
    }
    uow.append_timeline(&TimelineEntry {
        incident_id: incident.id,
        at: now,
        actor: "rebound".into(),
        kind: "channel_created".into(),
        body: format!("Channel #{name} created"),
        source: "rebound".into(),
    })
    .await
}

/// Invite the declarer, post the card, announce, and tell the declarer.
pub fn channel_ready_calls(
    incident: &Incident,
    channel_id: &str,
    response_url: Option<&str>,
    paging: &[crate::store::paging::PagingAlert],
    settings: &Settings,
) -> Vec<NewOutboxCall> {
    let in_channel = format!("channel:{channel_id}");
    let mut card_args = card::living_card(incident, &settings.file, paging);
    card_args["channel"] = json!(channel_id);
    // A person who declared is invited; an alert's source invites its responders.
    let invite = match incident.alert_source() {
        None => Some(NewOutboxCall {
            ordering_key: in_channel.clone(),
            method: "conversations.invite".into(),
            args: json!({ "channel": channel_id, "users": incident.declared_by }),
            after_send: AfterSend::Nothing,
        }),
        Some(source) => settings
            .file
            .intake
            .named(source)
            .and_then(|s| s.responders.as_deref())
            .map(|group| super::usergroups::responders_call(group, channel_id)),
    };
    let mut calls: Vec<NewOutboxCall> = invite.into_iter().collect();
    calls.extend([
        NewOutboxCall {
            ordering_key: in_channel,
            method: "chat.postMessage".into(),
            args: card_args,
            after_send: AfterSend::IncidentCardPosted {
                incident_id: incident.id,
            },
        },
        crate::dispatcher::set_topic(incident, channel_id),
    ]);
    let silent = incident.private && settings.file.slack.private_announcement == PrivateAnnouncement::None;
    if !silent {
        calls.push(announcement_call(
            incident,
            channel_id,
            &settings.file.slack.announce_channel,
        ));
    }
    if let Some(url) = response_url {
        calls.push(NewOutboxCall {
            ordering_key: format!("respond:incident:{}", incident.id),
            method: RESPONSE_URL_METHOD.into(),
            args: json!({ "url": url, "body": views::ephemeral(&replies::declared(incident, channel_id)) }),
            after_send: AfterSend::Nothing,
        });
    }
    calls
}

fn announcement_call(incident: &Incident, channel_id: &str, announce_channel: &str) -> NewOutboxCall {
    // A private incident's title and channel are not for everyone.
    let mut args = if incident.private {
        json!({ "text": format!(":lock: A private incident ({}) was declared.", incident.reference()) })
    } else {
        card::announcement(incident, channel_id)
    };
    args["channel"] = json!(announce_channel);
    NewOutboxCall {
        ordering_key: format!("channel:{announce_channel}"),
        method: "chat.postMessage".into(),
        args,
        after_send: AfterSend::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IncidentDraft;

    fn settings() -> Settings {
        Settings::load(&std::collections::BTreeMap::new()).unwrap()
    }

    #[test]
    fn a_new_channel_gets_invite_card_announcement_and_receipt_in_order() {
        let incident = IncidentDraft::declare("db down", None, false, "U1", Utc::now()).into_incident(4);
        let calls = channel_ready_calls(&incident, "C9", Some("http://hooks/1"), &[], &settings());
        let methods: Vec<_> = calls.iter().map(|c| c.method.as_str()).collect();
        assert_eq!(
            methods,
            [
                "conversations.invite",
                "chat.postMessage",
                "conversations.setTopic",
                "chat.postMessage",
                RESPONSE_URL_METHOD
            ]
        );
        assert_eq!(calls[0].args["users"], "U1");
        assert_eq!(calls[1].args["channel"], "C9");
        assert_eq!(
            calls[2].args[crate::dispatcher::TOPIC_OF],
            4,
            "the topic is rendered when sent, from the incident as it is then"
        );
        assert_eq!(calls[3].args["channel"], "incidents");
        assert!(calls[3].args["text"].as_str().unwrap().contains("<#C9>"));
    }

    #[test]
    fn private_incidents_can_be_kept_out_of_the_announce_channel() {
        let mut quiet = settings();
        quiet.file.slack.private_announcement = PrivateAnnouncement::None;
        let incident = IncidentDraft::declare("secret breach", None, true, "U1", Utc::now()).into_incident(5);
        let calls = channel_ready_calls(&incident, "G1", None, &[], &quiet);
        assert!(calls.iter().all(|c| c.args["channel"] != "incidents"), "{calls:?}");
    }

    #[test]
    fn private_incidents_announce_no_details() {
        let incident = IncidentDraft::declare("secret breach", None, true, "U1", Utc::now()).into_incident(5);
        let calls = channel_ready_calls(&incident, "G1", None, &[], &settings());
        let announcement = calls[3].args.to_string();
        assert!(!announcement.contains("secret breach") && !announcement.contains("G1"));
        assert_eq!(calls.len(), 4);
    }
}
