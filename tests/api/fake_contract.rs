//! The fake Slack behaves like Slack's documented API, seen through
//! Rebound's real client: these tests keep the fake honest.

use rebound::slack::{SlackApi, SlackCallError};
use secrecy::SecretString;
use serde_json::json;

use crate::fake_slack::{BOT_TOKEN, FakeSlack};

fn client(fake: &FakeSlack, token: &str) -> SlackApi {
    SlackApi::new(&fake.api_url(), &SecretString::from(token.to_string()))
}

fn api_error(code: &str) -> Result<serde_json::Value, SlackCallError> {
    Err(SlackCallError::Api(code.into()))
}

#[tokio::test]
async fn a_wrong_token_is_invalid_auth_and_an_unknown_method_is_refused() {
    let fake = FakeSlack::start().await;
    let wrong = client(&fake, "xoxb-wrong");
    assert_eq!(
        wrong
            .call("chat.postMessage", &json!({"channel": "incidents", "text": "x"}))
            .await,
        api_error("invalid_auth")
    );
    let right = client(&fake, BOT_TOKEN);
    assert_eq!(
        right.call("chat.explode", &json!({})).await,
        api_error("unknown_method")
    );
    assert_eq!(right.bot_user_id().await, Ok("UBOT".to_string()));
}

#[tokio::test]
async fn missing_required_arguments_are_refused() {
    let fake = FakeSlack::start().await;
    let slack = client(&fake, BOT_TOKEN);
    assert_eq!(
        slack.call("conversations.invite", &json!({"channel": "C1"})).await,
        api_error("invalid_arguments")
    );
    assert_eq!(
        slack.call("chat.update", &json!({"channel": "C1"})).await,
        api_error("invalid_arguments")
    );
}

#[tokio::test]
async fn channel_names_follow_slacks_rules() {
    let fake = FakeSlack::start().await;
    let slack = client(&fake, BOT_TOKEN);
    let create = |name: String| {
        let slack = slack.clone();
        async move {
            slack
                .call("conversations.create", &json!({ "name": name }))
                .await
                .map(|_| ())
        }
    };
    assert_eq!(
        create("Upper".into()).await,
        Err(SlackCallError::Api("invalid_name_specials".into()))
    );
    assert_eq!(
        create("a".repeat(81)).await,
        Err(SlackCallError::Api("invalid_name_maxlength".into()))
    );
    assert_eq!(
        create("---".into()).await,
        Err(SlackCallError::Api("invalid_name_punctuation".into()))
    );
    assert_eq!(
        create("incidents".into()).await,
        Err(SlackCallError::Api("name_taken".into()))
    );
    assert_eq!(create("inc-ok_1".into()).await, Ok(()));
}

#[tokio::test]
async fn block_kit_limits_are_enforced() {
    let fake = FakeSlack::start().await;
    let slack = client(&fake, BOT_TOKEN);
    let divider = json!({"type": "divider"});
    let too_many = json!({"channel": "incidents", "text": "x", "blocks": vec![divider; 51]});
    assert_eq!(
        slack.call("chat.postMessage", &too_many).await,
        api_error("invalid_blocks")
    );
    let long_header = json!({"channel": "incidents", "text": "x",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h".repeat(151)}}]});
    assert_eq!(
        slack.call("chat.postMessage", &long_header).await,
        api_error("invalid_blocks")
    );
    let mrkdwn_header = json!({"channel": "incidents", "text": "x",
        "blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}]});
    assert_eq!(
        slack.call("chat.postMessage", &mrkdwn_header).await,
        api_error("invalid_blocks")
    );
    assert_eq!(
        slack
            .call("chat.postMessage", &json!({"channel": "nowhere", "text": "x"}))
            .await,
        api_error("channel_not_found")
    );
    let ok = slack
        .call("chat.postMessage", &json!({"channel": "incidents", "text": "fine"}))
        .await
        .unwrap();
    assert!(ok["ts"].is_string());
}
