//! Block Kit limits as Slack documents them (FACTS.md §8); a violation is
//! answered with `invalid_blocks`, as Slack does.

use serde_json::Value;

/// Checks `blocks` (an array) against Slack's per-message limits.
pub fn validate(blocks: &Value) -> Result<(), String> {
    let blocks = blocks.as_array().ok_or("blocks must be an array")?;
    if blocks.len() > 50 {
        return Err(format!("{} blocks, at most 50", blocks.len()));
    }
    blocks.iter().try_for_each(validate_block)
}

/// Checks a modal view against Slack's limits (FACTS.md §8).
pub fn validate_view(view: &Value) -> Result<(), String> {
    if view["type"] != "modal" {
        return Err("view type must be modal".into());
    }
    plain_text(&view["title"], 24, "view title")?;
    for key in ["submit", "close"] {
        if let Some(text) = view.get(key) {
            plain_text(text, 24, key)?;
        }
    }
    max_len(view.get("callback_id"), 255, "callback_id")?;
    max_len(view.get("private_metadata"), 3000, "private_metadata")?;
    let blocks = view["blocks"].as_array().ok_or("view needs blocks")?;
    if blocks.len() > 100 {
        return Err("more than 100 blocks in a view".into());
    }
    if blocks.iter().any(|b| b["type"] == "input") && view.get("submit").is_none() {
        return Err("a view with inputs needs submit".into());
    }
    blocks.iter().try_for_each(validate_block)
}

fn validate_block(block: &Value) -> Result<(), String> {
    max_len(block.get("block_id"), 255, "block_id")?;
    match block["type"].as_str().unwrap_or_default() {
        "input" => {
            plain_text(&block["label"], 2000, "input label")?;
            if let Some(hint) = block.get("hint") {
                plain_text(hint, 2000, "input hint")?;
            }
            validate_element(&block["element"])
        }
        "header" => plain_text(&block["text"], 150, "header text"),
        "section" => {
            if block.get("text").is_none() && block.get("fields").is_none() {
                return Err("section needs text or fields".into());
            }
            if let Some(text) = block.get("text") {
                any_text(text, 3000, "section text")?;
            }
            if let Some(fields) = block.get("fields") {
                let fields = fields.as_array().ok_or("fields must be an array")?;
                if fields.len() > 10 {
                    return Err("more than 10 section fields".into());
                }
                fields.iter().try_for_each(|f| any_text(f, 2000, "section field"))?;
            }
            block.get("accessory").map_or(Ok(()), validate_element)
        }
        "context" => {
            let elements = block["elements"].as_array().ok_or("context needs elements")?;
            if elements.is_empty() || elements.len() > 10 {
                return Err("context takes 1-10 elements".into());
            }
            elements
                .iter()
                .try_for_each(|e| any_text(e, 3000, "context element").or_else(|_| validate_element(e)))
        }
        "actions" => {
            let elements = block["elements"].as_array().ok_or("actions needs elements")?;
            if elements.is_empty() || elements.len() > 25 {
                return Err("actions takes 1-25 elements".into());
            }
            elements.iter().try_for_each(validate_element)
        }
        "divider" => Ok(()),
        other => Err(format!("unknown block type {other:?}")),
    }
}

fn validate_element(element: &Value) -> Result<(), String> {
    max_len(element.get("action_id"), 255, "action_id")?;
    if let Some(confirm) = element.get("confirm") {
        plain_text(&confirm["title"], 100, "confirm title")?;
        any_text(&confirm["text"], 300, "confirm text")?;
        plain_text(&confirm["confirm"], 30, "confirm button")?;
        plain_text(&confirm["deny"], 30, "deny button")?;
    }
    match element["type"].as_str().unwrap_or_default() {
        "button" => {
            plain_text(&element["text"], 75, "button text")?;
            max_len(element.get("value"), 2000, "button value")
        }
        "users_select" => element
            .get("placeholder")
            .map_or(Ok(()), |p| plain_text(p, 150, "placeholder")),
        "plain_text_input" => Ok(()),
        "checkboxes" => {
            let options = element["options"].as_array().ok_or("checkboxes need options")?;
            if options.is_empty() || options.len() > 10 {
                return Err("checkboxes take 1-10 options".into());
            }
            options
                .iter()
                .try_for_each(|option| any_text(&option["text"], 75, "checkbox text"))
        }
        "static_select" => {
            if let Some(placeholder) = element.get("placeholder") {
                plain_text(placeholder, 150, "placeholder")?;
            }
            // Either options or option_groups (each labelled, with options), never both.
            match (element["options"].as_array(), element["option_groups"].as_array()) {
                (Some(options), None) => select_options(options),
                (None, Some(groups)) => {
                    if groups.is_empty() || groups.len() > 100 {
                        return Err("static_select takes 1-100 option groups".into());
                    }
                    groups.iter().try_for_each(|group| {
                        plain_text(&group["label"], 75, "option group label")?;
                        select_options(group["options"].as_array().ok_or("an option group needs options")?)
                    })
                }
                _ => Err("static_select needs options or option_groups".into()),
            }
        }
        "image" => Ok(()),
        other => Err(format!("unknown element type {other:?}")),
    }
}

fn select_options(options: &[Value]) -> Result<(), String> {
    if options.is_empty() || options.len() > 100 {
        return Err("a select takes 1-100 options".into());
    }
    options.iter().try_for_each(|option| {
        plain_text(&option["text"], 75, "option text")?;
        max_len(option.get("value"), 150, "option value")
    })
}

fn plain_text(text: &Value, max: usize, what: &str) -> Result<(), String> {
    if text["type"] != "plain_text" {
        return Err(format!("{what} must be plain_text"));
    }
    max_len(text.get("text"), max, what)
}

fn any_text(text: &Value, max: usize, what: &str) -> Result<(), String> {
    match text["type"].as_str() {
        Some("plain_text" | "mrkdwn") => max_len(text.get("text"), max, what),
        _ => Err(format!("{what} must be a text object")),
    }
}

fn max_len(value: Option<&Value>, max: usize, what: &str) -> Result<(), String> {
    match value.and_then(Value::as_str) {
        Some("") => Err(format!("{what} is empty")),
        Some(text) if text.chars().count() > max => Err(format!("{what} longer than {max}")),
        _ => Ok(()),
    }
}
