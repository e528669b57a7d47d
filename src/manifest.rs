//! The Slack app manifest: one slash command, the bot scopes and events
//! Rebound uses, and either the request URLs on a public base URL or Socket
//! Mode (no URLs). Paste its YAML into "Create New App → From an app manifest".

use serde_json::{Value, json};

/// Bot scopes, each needed by a feature (see `../shared/slack/FACTS.md` §10).
pub const BOT_SCOPES: [&str; 18] = [
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:manage",
    "channels:join",
    "channels:read",
    "channels:history",
    "groups:write",
    "groups:read",
    "groups:history",
    "pins:write",
    "pins:read",
    "reactions:read",
    "users:read",
    "users:read.email",
    "usergroups:read",
    "bookmarks:write",
    "app_mentions:read",
];

/// User scopes of Sign in with Slack (the dashboard's login).
pub const USER_SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// Events the bot subscribes to.
pub const BOT_EVENTS: [&str; 7] = [
    "app_mention",
    "message.channels",
    "message.groups",
    "reaction_added",
    "member_joined_channel",
    "member_left_channel",
    "pin_added",
];

/// The manifest for Socket Mode: no request URLs; Slack's traffic comes over
/// the WebSocket that `rebound serve --socket-mode` opens.
pub fn socket_mode_manifest() -> Value {
    let mut manifest = manifest("https://unused.invalid");
    manifest["settings"]["socket_mode_enabled"] = json!(true);
    for url in [
        "/features/slash_commands/0/url",
        "/settings/event_subscriptions/request_url",
        "/settings/interactivity/request_url",
        "/oauth_config/redirect_urls",
    ] {
        let (parent, key) = url.rsplit_once('/').unwrap_or_default();
        if let Some(object) = manifest.pointer_mut(parent).and_then(Value::as_object_mut) {
            object.remove(key);
        }
    }
    manifest
}

/// The manifest as JSON (validated against Slack's schema in tests).
pub fn manifest(base_url: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    json!({
        "_metadata": { "major_version": 1, "minor_version": 1 },
        "display_information": {
            "name": "Rebound",
            "description": "Declares and runs incidents, captures failures, drafts post-mortems.",
            "background_color": "#2c2d30"
        },
        "features": {
            "bot_user": { "display_name": "rebound", "always_online": true },
            "slash_commands": [{
                "command": "/incident",
                "url": format!("{base}/slack/commands"),
                "description": "Declare, update and resolve incidents",
                "usage_hint": "open <title> [sev1-4] | sev | status | update | resolve | help",
                "should_escape": true
            }]
        },
        "oauth_config": {
            // Sign in with Slack for the dashboard (OpenID Connect).
            "redirect_urls": [format!("{base}/auth/slack/callback")],
            "scopes": { "bot": BOT_SCOPES, "user": USER_SCOPES }
        },
        "settings": {
            "event_subscriptions": { "request_url": format!("{base}/slack/events"), "bot_events": BOT_EVENTS },
            "interactivity": { "is_enabled": true, "request_url": format!("{base}/slack/interactions") },
            "org_deploy_enabled": false,
            "socket_mode_enabled": false,
            "token_rotation_enabled": false
        }
    })
}

/// A manifest as YAML, for `rebound manifest`.
pub fn to_yaml(manifest: &Value) -> String {
    // Serialising a serde_json::Value to YAML cannot fail.
    serde_yaml_ng::to_string(manifest).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The URL the checked-in manifest is generated for.
    const PLACEHOLDER_URL: &str = "https://rebound.example.com";

    /// A checked-in manifest without its header comment.
    fn checked_in(file: &str) -> String {
        let path = format!("{}/manifests/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        text.lines()
            .skip_while(|line| line.starts_with('#'))
            .map(|line| format!("{line}\n"))
            .collect()
    }

    #[test]
    fn the_checked_in_manifests_are_what_rebound_manifest_prints() {
        assert_eq!(
            checked_in("slack-app.yaml"),
            to_yaml(&manifest(PLACEHOLDER_URL)),
            "regenerate: rebound manifest --url {PLACEHOLDER_URL} (keep the header comment)"
        );
        assert_eq!(
            checked_in("slack-app-socket-mode.yaml"),
            to_yaml(&socket_mode_manifest()),
            "regenerate: rebound manifest --socket-mode (keep the header comment)"
        );
    }
}
