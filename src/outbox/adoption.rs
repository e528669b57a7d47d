//! Creating a channel is made idempotent: if Slack answers `name_taken` for
//! a name that a bot-created, not-yet-linked channel already has, that
//! channel is the one a previous attempt made before a crash, and it is
//! adopted instead of creating a second one; otherwise the next suffixed
//! name is tried.

use serde_json::json;

use std::time::Duration;

use super::{MAX_NAME_ATTEMPTS, OutboxWorker, Settle, backoff, followups};
use crate::domain::ChannelName;
use crate::store::{AfterSend, OutboxCall};

impl OutboxWorker {
    /// Adopts the channel if an earlier attempt of ours created it; otherwise
    /// tries the next suffixed name.
    pub(super) async fn on_name_taken(&self, call: &OutboxCall) -> Settle {
        let AfterSend::IncidentChannelCreated {
            incident_id,
            attempt,
            response_url,
        } = &call.after_send
        else {
            return Settle::Fail("name_taken for a channel not owned by an incident".into());
        };
        let name = call.args["name"].as_str().unwrap_or_default().to_string();
        match self.adoptable_channel(&name).await {
            Ok(Some(id)) => {
                tracing::info!(incident = incident_id, channel = %id, "adopting the channel an earlier attempt created");
                return Settle::Sent(
                    json!({ "ok": true, "channel": { "id": id, "name": name } }),
                    followups::Prepared::default(),
                );
            }
            Ok(None) => {}
            Err(error) => {
                return Settle::Retry {
                    after: backoff(call.attempts),
                    error: error.to_string(),
                    rewrite: None,
                };
            }
        }
        let next_attempt = attempt + 1;
        let incident = match self.store.incident(*incident_id).await {
            Ok(Some(incident)) if next_attempt <= MAX_NAME_ATTEMPTS => incident,
            Ok(_) => return Settle::Fail(format!("no free channel name after {attempt} attempts")),
            Err(error) => {
                return Settle::Retry {
                    after: backoff(call.attempts),
                    error: error.to_string(),
                    rewrite: None,
                };
            }
        };
        let prefix = &self.settings.file.slack.channel_prefix;
        let next = ChannelName::for_incident(
            prefix,
            incident.declared_at.date_naive(),
            &incident.title,
            incident.id,
            next_attempt,
        );
        let mut args = call.args.clone();
        args["name"] = json!(next.as_str());
        let after_send = AfterSend::IncidentChannelCreated {
            incident_id: *incident_id,
            attempt: next_attempt,
            response_url: response_url.clone(),
        };
        Settle::Retry {
            after: Duration::ZERO,
            error: format!("name_taken: {name}"),
            rewrite: Some((args, after_send)),
        }
    }

    async fn adoptable_channel(&self, name: &str) -> Result<Option<String>, anyhow::Error> {
        let bot_user = self.bot_user.get_or_try_init(|| self.slack.bot_user_id()).await?;
        let Some(channel) = self.slack.find_channel(name).await? else {
            return Ok(None);
        };
        let ours = channel.creator.as_deref() == Some(bot_user.as_str());
        let unclaimed = self.store.incident_by_channel(&channel.id).await?.is_none();
        Ok((ours && unclaimed).then_some(channel.id))
    }
}
