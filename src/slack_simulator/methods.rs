//! Request parsing and per-method behaviour of the fake Slack Web API.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Map, Value, json};

use super::{APP_TOKEN, BOT_TOKEN, BOT_USER, Channel, FakeSlack, Fault, blocks};

/// Slack's per-method JSON (verb, required args, JSON support), vendored
/// from ../shared/slack/spec/docs.slack.dev/methods and compiled in, so the
/// simulator in the binary (`rebound demo`) checks what the tests' fake does.
pub fn load_specs() -> BTreeMap<String, Value> {
    macro_rules! spec {
        ($method:literal) => {
            (
                $method,
                include_str!(concat!("../../tests/fixtures/slack-methods/", $method, ".json")),
            )
        };
    }
    let specs = [
        spec!("apps.connections.open"),
        spec!("auth.test"),
        spec!("chat.getPermalink"),
        spec!("chat.postEphemeral"),
        spec!("chat.postMessage"),
        spec!("chat.update"),
        spec!("conversations.create"),
        spec!("conversations.history"),
        spec!("conversations.info"),
        spec!("conversations.invite"),
        spec!("conversations.join"),
        spec!("conversations.list"),
        spec!("conversations.members"),
        spec!("conversations.replies"),
        spec!("conversations.setTopic"),
        spec!("usergroups.users.list"),
        spec!("views.open"),
    ];
    specs
        .into_iter()
        .map(|(method, text)| {
            (
                method.to_string(),
                serde_json::from_str(text).expect("vendored spec is JSON"),
            )
        })
        .collect()
}

type Rejection = (&'static str, Value);

/// Methods that take the app-level token (FACTS.md §9), in the header only.
const APP_TOKEN_METHODS: [&str; 1] = ["apps.connections.open"];

/// Merges query, form and JSON arguments and checks token and required args.
pub fn parse_request(
    method: &str,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
    spec: Option<&Value>,
) -> Result<Value, Rejection> {
    let mut args = Map::new();
    let mut token = bearer(headers);
    for source in [query.unwrap_or_default().as_bytes(), body] {
        if is_json(headers) && std::ptr::eq(source, body) {
            continue;
        }
        for (key, value) in url::form_urlencoded::parse(source) {
            args.insert(key.into_owned(), Value::String(value.into_owned()));
        }
    }
    let spec = spec.ok_or(("unknown_method", Value::Object(args.clone())))?;
    if is_json(headers) && !body.is_empty() {
        if spec["json_input_supported"] != true {
            return Err(("invalid_post_type", Value::Object(args)));
        }
        let Ok(Value::Object(json_args)) = serde_json::from_slice::<Value>(body) else {
            return Err(("invalid_json", Value::Object(args)));
        };
        args.extend(json_args);
    }
    if token.is_none() {
        token = args.remove("token").and_then(|t| t.as_str().map(str::to_string));
    }
    let args = Value::Object(args);
    // apps.connections.open takes only the app-level token, and only in the
    // Authorization header; every other method here takes the bot token.
    let wants_app_token = APP_TOKEN_METHODS.contains(&method);
    let expected = if wants_app_token { APP_TOKEN } else { BOT_TOKEN };
    match token.as_deref() {
        None => return Err(("not_authed", args)),
        Some(_) if wants_app_token && bearer(headers).is_none() => return Err(("invalid_auth", args)),
        Some(t) if t == expected => {}
        Some(t) if t == APP_TOKEN || t == BOT_TOKEN => return Err(("not_allowed_token_type", args)),
        Some(_) => return Err(("invalid_auth", args)),
    }
    let required = spec["args"]["required"].as_array().cloned().unwrap_or_default();
    for name in required.iter().filter_map(Value::as_str).filter(|n| *n != "token") {
        if args.get(name).is_none_or(|v| v.is_null() || v.as_str() == Some("")) {
            return Err(("invalid_arguments", args));
        }
    }
    Ok(args)
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_string)
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Answers one valid call, applying a scripted fault first.
pub fn answer(fake: &FakeSlack, method: &str, args: &Value, fault: Option<Fault>) -> (StatusCode, Value) {
    match fault {
        Some(Fault::Error(code)) => return (StatusCode::OK, json!({ "ok": false, "error": code })),
        Some(Fault::RateLimited { retry_after_secs }) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                json!({ "ok": false, "error": "ratelimited", "retry_after": retry_after_secs }),
            );
        }
        Some(Fault::ServerError) => return (StatusCode::INTERNAL_SERVER_ERROR, json!({})),
        Some(Fault::Slow(_)) => {}
        Some(Fault::SucceedThenServerError | Fault::SucceedThenHang) => {
            behave(fake, method, args);
            return (StatusCode::INTERNAL_SERVER_ERROR, json!({}));
        }
        None => {}
    }
    (StatusCode::OK, behave(fake, method, args))
}

fn error(code: &str) -> Value {
    json!({ "ok": false, "error": code })
}

fn behave(fake: &FakeSlack, method: &str, args: &Value) -> Value {
    let mut state = fake.state.lock().unwrap();
    let text = |name: &str| {
        args[name]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| args[name].to_string())
    };
    match method {
        "apps.connections.open" => {
            json!({ "ok": true, "url": format!("ws://{}/link/?ticket={}", fake.addr, state.next_id()) })
        }
        "auth.test" => {
            json!({ "ok": true, "user_id": BOT_USER, "bot_id": "BBOT", "team_id": "T1", "team": "Test", "user": "rebound", "url": "https://test.slack.com/" })
        }
        "conversations.create" => {
            let name = text("name");
            if let Err(code) = check_channel_name(&name) {
                return error(code);
            }
            if state.channels.iter().any(|c| c.name == name) {
                return error("name_taken");
            }
            let id = format!("C{:08}", state.next_id());
            let is_private = matches!(args["is_private"].as_str(), Some("true")) || args["is_private"] == true;
            let channel = Channel {
                id,
                name,
                is_private,
                creator: BOT_USER.into(),
                members: vec![BOT_USER.into()],
                messages: vec![],
            };
            let body = channel_json(&channel);
            state.channels.push(channel);
            json!({ "ok": true, "channel": body })
        }
        "conversations.list" => {
            let channels: Vec<Value> = state.channels.iter().map(channel_json).collect();
            json!({ "ok": true, "channels": channels, "response_metadata": { "next_cursor": "" } })
        }
        "conversations.invite" => {
            let Some(channel) = state.channel_by_ref(&text("channel")) else {
                return error("channel_not_found");
            };
            if !channel.members.iter().any(|m| m == BOT_USER) {
                return error("not_in_channel");
            }
            for user in text("users").split(',') {
                if user == BOT_USER {
                    return error("cant_invite_self");
                }
                if !(user.starts_with('U') || user.starts_with('W')) || !user.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    return error("user_not_found");
                }
                if channel.members.iter().any(|m| m == user) {
                    return error("already_in_channel");
                }
                channel.members.push(user.into());
            }
            json!({ "ok": true, "channel": channel_json(channel) })
        }
        "usergroups.users.list" => match state.usergroups.get(&text("usergroup")) {
            Some(users) => json!({ "ok": true, "users": users }),
            None => error("no_such_subteam"),
        },
        "conversations.info" => match state.channel_by_ref(&text("channel")) {
            Some(channel) if !channel.is_private || channel.members.iter().any(|m| m == BOT_USER) => {
                json!({ "ok": true, "channel": channel_json(channel) })
            }
            _ => error("channel_not_found"),
        },
        "conversations.members" => {
            let Some(channel) = state.channel_by_ref(&text("channel")) else {
                return error("channel_not_found");
            };
            if channel.is_private && !channel.members.iter().any(|m| m == BOT_USER) {
                return error("channel_not_found");
            }
            members_page(channel, args)
        }
        "chat.postMessage" | "chat.update" => post_or_update(&mut state, method, args),
        "chat.getPermalink" => {
            let ts = text("message_ts");
            let Some(channel) = state.channel_by_ref(&text("channel")) else {
                return error("channel_not_found");
            };
            if !channel.messages.iter().any(|m| m["ts"] == ts.as_str()) {
                return error("message_not_found");
            }
            let permalink = format!(
                "https://test.slack.com/archives/{}/p{}",
                channel.id,
                ts.replace('.', "")
            );
            json!({ "ok": true, "channel": channel.id, "permalink": permalink })
        }
        "conversations.history" => {
            let Some(channel) = state.channel_by_ref(&text("channel")) else {
                return error("channel_not_found");
            };
            // Newest first, top-level messages only, metadata on request.
            let with_metadata = text("include_all_metadata") == "true";
            let messages: Vec<Value> = channel
                .messages
                .iter()
                .rev()
                .filter(|m| m["thread_ts"].is_null() || m["thread_ts"] == m["ts"])
                .map(|m| shown(m, with_metadata))
                .collect();
            json!({ "ok": true, "messages": messages, "has_more": false })
        }
        "conversations.replies" => {
            let ts = text("ts");
            let Some(channel) = state.channel_by_ref(&text("channel")) else {
                return error("channel_not_found");
            };
            let with_metadata = text("include_all_metadata") == "true";
            let thread: Vec<Value> = channel
                .messages
                .iter()
                .filter(|m| m["ts"] == ts.as_str() || m["thread_ts"] == ts.as_str())
                .map(|m| shown(m, with_metadata))
                .collect();
            if thread.is_empty() {
                return error("thread_not_found");
            }
            json!({ "ok": true, "messages": thread, "has_more": false })
        }
        "views.open" => {
            let trigger = text("trigger_id");
            if state.used_triggers.contains(&trigger) {
                return error("exchanged_trigger_id");
            }
            let view = match &args["view"] {
                Value::String(text) => serde_json::from_str(text).unwrap_or(Value::Null),
                other => other.clone(),
            };
            if let Err(reason) = blocks::validate_view(&view) {
                return json!({ "ok": false, "error": "invalid_arguments", "response_metadata": { "messages": [reason] } });
            }
            state.used_triggers.push(trigger);
            let id = format!("V{:08}", state.next_id());
            json!({ "ok": true, "view": { "id": id, "callback_id": view["callback_id"], "private_metadata": view["private_metadata"] } })
        }
        _ => json!({ "ok": true }),
    }
}

fn post_or_update(state: &mut super::FakeState, method: &str, args: &Value) -> Value {
    let channel_ref = args["channel"].as_str().unwrap_or_default().to_string();
    let ts = format!("{}.{:06}", 1_700_000_000 + state.next_id(), state.next_id());
    let Some(channel) = state.channel_by_ref(&channel_ref) else {
        return error("channel_not_found");
    };
    if channel.is_private && !channel.members.iter().any(|m| m == BOT_USER) {
        return error("not_in_channel");
    }
    if args.get("text").is_none() && args.get("blocks").is_none() {
        return error("no_text");
    }
    if let Some(blocks) = args.get("blocks") {
        let parsed = match blocks {
            Value::String(text) => serde_json::from_str(text).unwrap_or(Value::Null),
            other => other.clone(),
        };
        if let Err(reason) = blocks::validate(&parsed) {
            return json!({ "ok": false, "error": "invalid_blocks", "errors": [reason] });
        }
    }
    let id = channel.id.clone();
    if method == "chat.update" {
        let wanted = args["ts"].as_str().unwrap_or_default();
        let Some(message) = channel.messages.iter_mut().find(|m| m["ts"] == wanted) else {
            return error("message_not_found");
        };
        // An edit keeps the message's author, thread and metadata.
        message["text"] = args["text"].clone();
        message["blocks"] = args["blocks"].clone();
        return json!({ "ok": true, "channel": id, "ts": wanted });
    }
    // `metadata` arrives as a JSON object (JSON body) or its text (form).
    let metadata = match &args["metadata"] {
        Value::String(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        other => other.clone(),
    };
    // Posted with the bot token: Slack names the bot user as its author.
    let message = json!({ "ts": ts, "user": BOT_USER, "text": args["text"], "blocks": args["blocks"], "thread_ts": args["thread_ts"], "metadata": metadata });
    channel.messages.push(message.clone());
    json!({ "ok": true, "channel": id, "ts": ts, "message": message })
}

/// A page of `conversations.members`: `limit` (1–1000, default 100) from
/// the opaque `cursor`; `next_cursor` is empty on the last page.
fn members_page(channel: &Channel, args: &Value) -> Value {
    let limit = match args
        .get("limit")
        .map(|l| l.as_str().map(str::to_string).unwrap_or(l.to_string()))
    {
        None => 100,
        Some(text) => match text.parse::<usize>() {
            Ok(limit @ 1..=1000) => limit,
            _ => return error("invalid_limit"),
        },
    };
    let start = match args.get("cursor").and_then(Value::as_str).filter(|c| !c.is_empty()) {
        None => 0,
        Some(cursor) => match cursor.strip_prefix("dXNlcjo").and_then(|n| n.parse::<usize>().ok()) {
            Some(start) if start <= channel.members.len() => start,
            _ => return error("invalid_cursor"),
        },
    };
    let end = (start + limit).min(channel.members.len());
    let next = if end < channel.members.len() {
        format!("dXNlcjo{end}")
    } else {
        String::new()
    };
    json!({ "ok": true, "members": channel.members[start..end], "response_metadata": { "next_cursor": next } })
}

/// A stored message as Slack returns it: `metadata` only when asked for.
fn shown(message: &Value, with_metadata: bool) -> Value {
    let mut message = message.clone();
    if !with_metadata && let Some(fields) = message.as_object_mut() {
        fields.remove("metadata");
    }
    message
}

fn channel_json(channel: &Channel) -> Value {
    json!({
        "id": channel.id, "name": channel.name, "is_channel": true, "is_private": channel.is_private,
        "created": 1_700_000_000, "creator": channel.creator, "is_archived": false,
        "is_member": channel.members.iter().any(|m| m == BOT_USER),
    })
}

/// Slack's naming rules for conversations.create (FACTS.md §11).
fn check_channel_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("invalid_name_required");
    }
    if name.chars().count() > 80 {
        return Err("invalid_name_maxlength");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err("invalid_name_specials");
    }
    if !name.chars().any(|c| c.is_ascii_alphanumeric()) {
        return Err("invalid_name_punctuation");
    }
    Ok(())
}
