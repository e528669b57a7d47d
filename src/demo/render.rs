//! What a Web API call of Rebound's would look like in Slack, as a few
//! lines of text: who sees it, where, and the message's text and blocks
//! (headers, sections, fields, context, buttons and selects). Reads
//! (`conversations.info`, `auth.test`, …) show nothing.

use serde_json::Value;

use crate::slack_simulator::{Channel, RecordedCall};

/// The demo's people by user id.
pub fn person(user: &str) -> &str {
    match user {
        "U0DECLARER" => "@dana",
        "U0ALEX" => "@alex",
        "U0MANAGER" => "@morgan",
        "UBOT" => "@rebound",
        other => other,
    }
}

/// How `call` shows in Slack, if it shows at all.
pub fn shown(call: &RecordedCall, channels: &[Channel]) -> Option<String> {
    if !call.ok() {
        return None;
    }
    let args = &call.args;
    let channel = || channel_name(args["channel"].as_str().unwrap_or_default(), channels);
    let line = match call.method.as_str() {
        "conversations.create" => format!(
            "  Slack: #{} is created{}",
            args["name"].as_str().unwrap_or("?"),
            if args["is_private"] == true { " (private)" } else { "" }
        ),
        "conversations.invite" => format!(
            "  Slack: {} joins {}",
            args["users"]
                .as_str()
                .unwrap_or_default()
                .split(',')
                .map(person)
                .collect::<Vec<_>>()
                .join(", "),
            channel()
        ),
        "conversations.setTopic" => format!(
            "  Slack: {} topic: {}",
            channel(),
            as_displayed(args["topic"].as_str().unwrap_or(""))
        ),
        "chat.postMessage" if args["thread_ts"].is_string() => message(&format!("{} (in a thread)", channel()), args),
        "chat.postMessage" => message(&channel(), args),
        "chat.update" => message(&format!("{} (a message is edited)", channel()), args),
        "chat.postEphemeral" => message(
            &format!(
                "{} (only {} sees this)",
                channel(),
                person(args["user"].as_str().unwrap_or(""))
            ),
            args,
        ),
        "response_url" => message("(only the person who typed it sees this)", args),
        _ => return None,
    };
    // Channel links by name, as Slack shows them.
    Some(channels.iter().fold(line, |line, c| {
        line.replace(&format!("#{}", c.id), &format!("#{}", c.name))
    }))
}

fn channel_name(reference: &str, channels: &[Channel]) -> String {
    channels
        .iter()
        .find(|c| c.id == reference || c.name == reference.trim_start_matches('#'))
        .map(|c| format!("#{}", c.name))
        .unwrap_or_else(|| reference.to_string())
}

/// A message: where it is, then its blocks (or its text when it has none).
fn message(place: &str, args: &Value) -> String {
    let mut lines = vec![format!("  Slack: {place}")];
    let blocks = args["blocks"].as_array().cloned().unwrap_or_default();
    if blocks.is_empty() {
        lines.extend(quoted(args["text"].as_str().unwrap_or("")));
    }
    for block in &blocks {
        lines.extend(block_lines(block));
    }
    lines.join("\n")
}

fn block_lines(block: &Value) -> Vec<String> {
    let text = |value: &Value| value["text"].as_str().unwrap_or("").to_string();
    match block["type"].as_str().unwrap_or("") {
        "header" => quoted(&format!("*{}*", text(&block["text"]))),
        "section" => {
            let mut lines = quoted(&text(&block["text"]));
            // A field is a label and its value on two lines: one line here.
            for field in block["fields"].as_array().into_iter().flatten() {
                lines.extend(quoted(&text(field).replace('\n', ": ")));
            }
            if let Some(control) = control(&block["accessory"]) {
                lines.extend(quoted(&control));
            }
            lines
        }
        "context" => {
            let parts: Vec<String> = block["elements"].as_array().into_iter().flatten().map(text).collect();
            quoted(&parts.join(" · "))
        }
        "actions" => {
            let controls: Vec<String> = block["elements"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(control)
                .collect();
            quoted(&controls.join(" "))
        }
        "divider" => quoted("────"),
        _ => Vec::new(),
    }
}

/// A button as `[Label]`, a select as `[Placeholder ▾]`.
fn control(element: &Value) -> Option<String> {
    let label = element["text"]["text"]
        .as_str()
        .or_else(|| element["placeholder"]["text"].as_str())?;
    Some(match element["type"].as_str() {
        Some("button") => format!("[{label}]"),
        _ => format!("[{label} ▾]"),
    })
}

/// `text` as quoted lines, as Slack renders its mrkdwn tokens.
fn quoted(text: &str) -> Vec<String> {
    let shown = as_displayed(text);
    shown
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| format!("    │ {line}"))
        .collect()
}

/// Slack's `<…>` tokens as a reader sees them: people by name, dates by
/// their fallback, links by their label, channels by name.
fn as_displayed(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        out.push_str(&rest[..start]);
        let token = &rest[start + 1..start + end];
        let (target, label) = token.split_once('|').unwrap_or((token, ""));
        if !(target.starts_with(['@', '#', '!']) || target.contains("://") || target.starts_with("mailto:")) {
            // Not a token Slack parses: shown as typed.
            out.push_str(&rest[start..start + end + 1]);
            rest = &rest[start + end + 1..];
            continue;
        }
        out.push_str(&match target.chars().next() {
            Some('@') => person(&target[1..]).to_string(),
            Some('#') => format!("#{}", if label.is_empty() { &target[1..] } else { label }),
            Some('!') if !label.is_empty() => label.to_string(),
            _ if !label.is_empty() => format!("{label} ({target})"),
            _ => target.to_string(),
        });
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    // Entities last, so an escaped `&lt;text&gt;` is never read as a token.
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(method: &str, args: Value) -> RecordedCall {
        RecordedCall {
            method: method.into(),
            args,
            at: std::time::Instant::now(),
            status: 200,
            error: None,
        }
    }

    #[test]
    fn a_card_shows_its_header_fields_and_controls() {
        let channels = [Channel {
            id: "C1".into(),
            name: "inc-1".into(),
            is_private: false,
            creator: "UBOT".into(),
            members: vec![],
            messages: vec![],
        }];
        let blocks = json!([
            { "type": "header", "text": { "type": "plain_text", "text": "Checkout is down" } },
            { "type": "section", "fields": [ { "type": "mrkdwn", "text": "*Lead*\n<@U0DECLARER>" }, { "type": "mrkdwn", "text": "*Severity*\nsev2" } ] },
            { "type": "actions", "elements": [
                { "type": "button", "text": { "type": "plain_text", "text": "Resolve" } },
                { "type": "static_select", "placeholder": { "type": "plain_text", "text": "Severity" } } ] }
        ]);
        let shown = shown(
            &call("chat.postMessage", json!({ "channel": "C1", "blocks": blocks })),
            &channels,
        )
        .unwrap();
        assert_eq!(
            shown,
            "  Slack: #inc-1\n    │ *Checkout is down*\n    │ *Lead*: @dana\n    │ *Severity*: sev2\n    │ [Resolve] [Severity ▾]"
        );
        assert!(super::shown(&call("auth.test", json!({})), &channels).is_none());
    }

    #[test]
    fn slack_tokens_read_as_slack_shows_them() {
        assert_eq!(
            as_displayed(
                "<@U0ALEX> in <#C1> at <!date^1^{time}|19:50 UTC>: <https://x.example/1|Read> <https://y.example> <#C2|inc-2>"
            ),
            "@alex in #C1 at 19:50 UTC: Read (https://x.example/1) https://y.example #inc-2"
        );
        assert_eq!(as_displayed("a < b"), "a < b");
        assert_eq!(as_displayed("`/incident sev <1-4>`"), "`/incident sev <1-4>`");
    }
}
