//! The Slack app manifest for a public base URL: one slash command, the bot
//! scopes and events Rebound uses, and the interactivity URL. Paste its YAML
//! into "Create New App → From an app manifest".

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

/// Events the bot subscribes to.
pub const BOT_EVENTS: [&str; 6] = [
    "app_mention",
    "message.channels",
    "message.groups",
    "reaction_added",
    "member_joined_channel",
    "pin_added",
];

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
        "oauth_config": { "scopes": { "bot": BOT_SCOPES } },
        "settings": {
            "event_subscriptions": { "request_url": format!("{base}/slack/events"), "bot_events": BOT_EVENTS },
            "interactivity": { "is_enabled": true, "request_url": format!("{base}/slack/interactions") },
            "org_deploy_enabled": false,
            "socket_mode_enabled": false,
            "token_rotation_enabled": false
        }
    })
}

/// The manifest as YAML, for `rebound manifest`.
pub fn manifest_yaml(base_url: &str) -> String {
    // Serialising a serde_json::Value to YAML cannot fail.
    serde_yaml_ng::to_string(&manifest(base_url)).unwrap_or_default()
}
