//! Modals: the declare form (`/incident open` without a title) and the
//! customer-update form (EARS: Explain, Acknowledge, Resolve, Study), and
//! reading their submissions back, with errors keyed by `block_id` as Slack
//! expects.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::clip;
use crate::domain::Severity;
use crate::domain::incident::MAX_TITLE_CHARS;

pub const DECLARE_CALLBACK: &str = "declare_incident";
pub const UPDATE_CALLBACK: &str = "customer_update";

/// What a form remembers between opening and submission (`private_metadata`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormContext {
    /// Where the form was opened from.
    pub channel_id: String,
    /// The slash command's `response_url`, for the declaration receipt.
    pub response_url: Option<String>,
}

pub(super) fn plain(text: &str) -> Value {
    json!({ "type": "plain_text", "text": text })
}

pub(super) fn text_input(
    block_id: &str,
    label: &str,
    hint: &str,
    multiline: bool,
    optional: bool,
    max: usize,
) -> Value {
    json!({
        "type": "input", "block_id": block_id, "optional": optional, "label": plain(label), "hint": plain(hint),
        "element": { "type": "plain_text_input", "action_id": "value", "multiline": multiline, "max_length": max }
    })
}

/// The declare form, pre-set with what the command already said.
pub fn declare_form(severity: Option<Severity>, private: bool, context: &FormContext) -> Value {
    let option =
        |s: Severity| json!({ "text": plain(&clip(&format!("{s} — {}", s.meaning()), 75)), "value": s.as_str() });
    let mut severity_select = json!({
        "type": "static_select", "action_id": "value", "placeholder": plain("Not sure yet"),
        "options": Severity::ALL.into_iter().map(option).collect::<Vec<_>>()
    });
    if let Some(severity) = severity {
        severity_select["initial_option"] = option(severity);
    }
    let private_option =
        json!({ "text": plain("Private incident (private channel, no details announced)"), "value": "private" });
    let mut checkbox = json!({ "type": "checkboxes", "action_id": "value", "options": [private_option.clone()] });
    if private {
        checkbox["initial_options"] = json!([private_option]);
    }
    json!({
        "type": "modal", "callback_id": DECLARE_CALLBACK,
        "title": plain("Declare an incident"), "submit": plain("Declare"), "close": plain("Cancel"),
        "private_metadata": serde_json::to_string(context).unwrap_or_default(),
        "blocks": [
            text_input("title", "What is broken?", "A short title, e.g. Checkout is down", false, false, MAX_TITLE_CHARS),
            { "type": "input", "block_id": "severity", "optional": true, "label": plain("Severity"), "element": severity_select },
            { "type": "input", "block_id": "private", "optional": true, "label": plain("Visibility"), "element": checkbox }
        ]
    })
}

/// The customer-update form for an incident channel.
pub fn update_form(reference: &str, context: &FormContext) -> Value {
    json!({
        "type": "modal", "callback_id": UPDATE_CALLBACK,
        "title": plain("Customer update"), "submit": plain("Send update"), "close": plain("Cancel"),
        "private_metadata": serde_json::to_string(context).unwrap_or_default(),
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": format!("Update for *{reference}*, in the EARS shape customers trust.") } },
            text_input("explain", "Explain: what is happening?", "Plain words, no internal jargon", true, false, 1000),
            text_input("acknowledge", "Acknowledge: who is affected, and how?", "The impact as customers feel it", true, false, 1000),
            text_input("resolve", "Resolve: what are we doing, and when is the next update?", "e.g. Rolling back; next update by 14:30 UTC", true, false, 1000),
            text_input("study", "Study: what will we learn? (optional)", "Often added in the final update", true, true, 1000),
            { "type": "input", "block_id": "publish", "optional": true, "label": plain("Status page"),
              "element": { "type": "checkboxes", "action_id": "value", "options": [publish_option()] } }
        ]
    })
}

/// The update form's "publish it" box.
fn publish_option() -> Value {
    json!({ "text": plain("Publish on the public status page"), "value": "public" })
}

/// A submitted customer-update form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateSubmission {
    /// The EARS parts under their headings (mrkdwn).
    pub text: String,
    /// Also on the public status page.
    pub public: bool,
    pub context: FormContext,
}

/// A submitted declare form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclareSubmission {
    pub title: String,
    pub severity: Option<Severity>,
    pub private: bool,
    pub context: FormContext,
}

/// Problems to show in the form, by `block_id`.
pub type FormErrors = BTreeMap<String, String>;

pub(super) fn input<'a>(view: &'a Value, block_id: &str) -> &'a Value {
    &view["state"]["values"][block_id]["value"]
}

pub(super) fn text_value(view: &Value, block_id: &str) -> String {
    input(view, block_id)["value"]
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn context(view: &Value) -> FormContext {
    serde_json::from_str(view["private_metadata"].as_str().unwrap_or_default()).unwrap_or_default()
}

/// Reads and checks a declare form's `view`.
pub fn read_declare(view: &Value) -> Result<DeclareSubmission, FormErrors> {
    let title = text_value(view, "title");
    let mut errors = FormErrors::new();
    if title.is_empty() {
        errors.insert("title".into(), "Give the incident a title.".into());
    } else if title.chars().count() > MAX_TITLE_CHARS {
        errors.insert(
            "title".into(),
            format!("Keep the title under {MAX_TITLE_CHARS} characters."),
        );
    }
    let severity = match input(view, "severity")["selected_option"]["value"].as_str() {
        None => None,
        Some(value) => match value.parse() {
            Ok(severity) => Some(severity),
            Err(()) => {
                errors.insert("severity".into(), "Pick sev1 to sev4.".into());
                None
            }
        },
    };
    let private = input(view, "private")["selected_options"]
        .as_array()
        .is_some_and(|o| !o.is_empty());
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(DeclareSubmission {
        title,
        severity,
        private,
        context: context(view),
    })
}

/// Reads and checks a customer-update form; returns the update text.
pub fn read_update(view: &Value) -> Result<UpdateSubmission, FormErrors> {
    let parts = [
        ("explain", "What is happening", true),
        ("acknowledge", "Impact", true),
        ("resolve", "What we are doing", true),
        ("study", "What we will learn", false),
    ];
    let mut errors = FormErrors::new();
    let mut lines = Vec::new();
    for (block_id, heading, required) in parts {
        let value = text_value(view, block_id);
        if value.is_empty() {
            if required {
                errors.insert(block_id.into(), "This part of the update is needed.".into());
            }
            continue;
        }
        lines.push(format!("*{heading}:* {value}"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let public = input(view, "publish")["selected_options"]
        .as_array()
        .is_some_and(|chosen| chosen.iter().any(|o| o["value"] == "public"));
    Ok(UpdateSubmission {
        text: lines.join("\n"),
        public,
        context: context(view),
    })
}

/// The HTTP answer that shows `errors` in the open form.
pub fn errors_response(errors: &FormErrors) -> Value {
    json!({ "response_action": "errors", "errors": errors })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submitted(form: &Value, values: Value) -> Value {
        let mut view = form.clone();
        view["state"] = json!({ "values": values });
        view
    }

    #[test]
    fn a_declare_form_round_trips() {
        let context = FormContext {
            channel_id: "C1".into(),
            response_url: Some("http://r".into()),
        };
        let form = declare_form(Some(Severity::Sev2), true, &context);
        let view = submitted(
            &form,
            json!({
                "title": { "value": { "type": "plain_text_input", "value": "  DB down " } },
                "severity": { "value": { "type": "static_select", "selected_option": { "value": "sev2" } } },
                "private": { "value": { "type": "checkboxes", "selected_options": [{ "value": "private" }] } }
            }),
        );
        let submission = read_declare(&view).unwrap();
        assert_eq!(
            submission,
            DeclareSubmission {
                title: "DB down".into(),
                severity: Some(Severity::Sev2),
                private: true,
                context
            }
        );
    }

    #[test]
    fn a_declare_form_without_title_is_refused_at_the_title_block() {
        let form = declare_form(None, false, &FormContext::default());
        let view = submitted(
            &form,
            json!({ "title": { "value": { "type": "plain_text_input", "value": "   " } } }),
        );
        let errors = read_declare(&view).unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["title"]);
        assert_eq!(errors_response(&errors)["response_action"], "errors");
    }

    #[test]
    fn an_update_form_needs_explain_acknowledge_and_resolve() {
        let form = update_form("INC-1", &FormContext::default());
        let view = submitted(&form, json!({ "explain": { "value": { "value": "API errors" } } }));
        let errors = read_update(&view).unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["acknowledge", "resolve"]);
        let view = submitted(
            &form,
            json!({
                "explain": { "value": { "value": "API errors" } },
                "acknowledge": { "value": { "value": "Some checkouts fail" } },
                "resolve": { "value": { "value": "Rolling back; next update 14:30 UTC" } }
            }),
        );
        let update = read_update(&view).unwrap();
        assert_eq!(
            update.text,
            "*What is happening:* API errors\n*Impact:* Some checkouts fail\n*What we are doing:* Rolling back; next update 14:30 UTC"
        );
        assert!(!update.public, "published only when the box is ticked");
        let mut ticked = view.clone();
        ticked["state"]["values"]["publish"] = json!({ "value": { "selected_options": [publish_option()] } });
        assert!(read_update(&ticked).unwrap().public);
    }

    #[test]
    fn titles_and_labels_fit_slacks_limits() {
        for form in [
            declare_form(None, false, &FormContext::default()),
            update_form("INC-1", &FormContext::default()),
        ] {
            for key in ["title", "submit", "close"] {
                assert!(form[key]["text"].as_str().unwrap().chars().count() <= 24, "{key}");
            }
        }
    }
}
