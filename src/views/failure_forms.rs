//! The failure-ticket forms opened from the ticket's thread reply: *Triage*
//! (owner, tags, severity score, customer impact), *Root cause* (five whys,
//! root cause, lesson learned) and *Close* (the lesson learned), and reading
//! their submissions back with errors keyed by `block_id`.

use serde_json::{Value, json};

use super::modals::{FormErrors, input, plain, text_input, text_value};
use crate::domain::failure::{Analysis, MAX_SEVERITY_SCORE, Ticket, Triage, normalize_tag};

pub const TRIAGE_CALLBACK: &str = "failure_triage";
pub const ROOT_CAUSE_CALLBACK: &str = "failure_root_cause";
pub const CLOSE_CALLBACK: &str = "failure_close";

/// What each severity score means, shown in the select.
const SCORES: [&str; MAX_SEVERITY_SCORE as usize] = [
    "1 — cosmetic, nobody noticed",
    "2 — minor, a workaround exists",
    "3 — degraded for some customers",
    "4 — major, many customers affected",
    "5 — critical, outage or data loss",
];

/// "why1" … "why5": one input per "why?".
const WHY_BLOCKS: [&str; 5] = ["why1", "why2", "why3", "why4", "why5"];

fn with_initial(mut block: Value, value: Option<&str>) -> Value {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        block["element"]["initial_value"] = json!(value);
    }
    block
}

fn modal(callback: &str, title: &str, submit: &str, ticket: &Ticket, blocks: Vec<Value>) -> Value {
    json!({
        "type": "modal", "callback_id": callback,
        "title": plain(title), "submit": plain(submit), "close": plain("Cancel"),
        "private_metadata": ticket.id.to_string(),
        "blocks": blocks
    })
}

fn header(ticket: &Ticket) -> Value {
    let text = ticket
        .text
        .as_deref()
        .map(|t| super::clip(&crate::text::mrkdwn(t), 300))
        .unwrap_or_else(|| "(text pending)".into());
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": format!("*Failure #{}*\n>{text}", ticket.id) } })
}

/// The triage form, pre-filled from the ticket; the owner defaults to whoever opened it.
pub fn triage_form(ticket: &Ticket, opened_by: &str) -> Value {
    let score_option = |score: usize| json!({ "text": plain(SCORES[score - 1]), "value": score.to_string() });
    let mut score = json!({
        "type": "static_select", "action_id": "value", "placeholder": plain("How bad was it?"),
        "options": (1..=SCORES.len()).map(score_option).collect::<Vec<_>>()
    });
    if let Some(current) = ticket.severity_score {
        score["initial_option"] = score_option(usize::from(current));
    }
    let owner = ticket.owner.as_deref().unwrap_or(opened_by);
    let tags = ticket.tags.join(" ");
    modal(
        TRIAGE_CALLBACK,
        &format!("Triage failure #{}", ticket.id),
        "Save",
        ticket,
        vec![
            header(ticket),
            json!({ "type": "input", "block_id": "owner", "label": plain("Owner"),
                    "element": { "type": "users_select", "action_id": "value", "initial_user": owner } }),
            with_initial(
                text_input(
                    "tags",
                    "Tags",
                    "Words separated by spaces or commas, e.g. deploys payments",
                    false,
                    true,
                    200,
                ),
                Some(&tags),
            ),
            json!({ "type": "input", "block_id": "score", "label": plain("Severity score"), "element": score }),
            with_initial(
                text_input(
                    "impact",
                    "Customer impact",
                    "What customers saw, how many, for how long",
                    true,
                    true,
                    2000,
                ),
                ticket.customer_impact.as_deref(),
            ),
        ],
    )
}

/// The root-cause form: five whys, the root cause and the lesson learned.
pub fn root_cause_form(ticket: &Ticket) -> Value {
    let mut blocks = vec![header(ticket)];
    for (n, block_id) in WHY_BLOCKS.into_iter().enumerate() {
        let label = format!("Why? ({})", n + 1);
        let hint = if n == 0 {
            "Why did this failure happen?"
        } else {
            "And why did that happen?"
        };
        blocks.push(with_initial(
            text_input(block_id, &label, hint, false, n > 0, 500),
            ticket.five_whys.get(n).map(String::as_str),
        ));
    }
    blocks.push(with_initial(
        text_input(
            "root_cause",
            "Root cause",
            "The cause that, fixed, stops this failure coming back",
            true,
            false,
            2000,
        ),
        ticket.root_cause.as_deref(),
    ));
    blocks.push(with_initial(
        text_input(
            "lesson",
            "Lesson learned",
            "What we now know or do differently",
            true,
            true,
            2000,
        ),
        ticket.lesson.as_deref(),
    ));
    modal(
        ROOT_CAUSE_CALLBACK,
        &format!("Root cause of #{}", ticket.id),
        "Save",
        ticket,
        blocks,
    )
}

/// The close form: the lesson learned is required.
pub fn close_form(ticket: &Ticket) -> Value {
    modal(
        CLOSE_CALLBACK,
        &format!("Close failure #{}", ticket.id),
        "Close ticket",
        ticket,
        vec![
            header(ticket),
            with_initial(
                text_input(
                    "lesson",
                    "Lesson learned",
                    "Closing needs the lesson: what we now know or do differently",
                    true,
                    false,
                    2000,
                ),
                ticket.lesson.as_deref(),
            ),
        ],
    )
}

/// The ticket a failure form is about.
pub fn ticket_id(view: &Value) -> Option<i64> {
    view["private_metadata"].as_str()?.parse().ok()
}

/// The form's ticket, or an error shown at `block_id` when the form lost it.
fn ticket_id_or_error(view: &Value, block_id: &str, errors: &mut FormErrors) -> i64 {
    ticket_id(view).unwrap_or_else(|| {
        errors.insert(
            block_id.into(),
            "This form lost track of its ticket; open it again.".into(),
        );
        0
    })
}

/// Reads and checks a submitted triage form.
pub fn read_triage(view: &Value) -> Result<(i64, Triage), FormErrors> {
    let mut errors = FormErrors::new();
    let id = ticket_id_or_error(view, "owner", &mut errors);
    let owner = input(view, "owner")["selected_user"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if owner.is_empty() {
        errors
            .entry("owner".into())
            .or_insert_with(|| "Choose who owns this failure.".into());
    }
    let tags: Vec<String> = text_value(view, "tags")
        .split([' ', ','])
        .filter(|t| !t.trim().is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = tags.iter().find(|t| normalize_tag(t).is_none()) {
        errors.insert(
            "tags".into(),
            format!("`{bad}` is not a tag: use letters, digits, '-' or '_' (at most 40)."),
        );
    }
    let score = input(view, "score")["selected_option"]["value"]
        .as_str()
        .and_then(|v| v.parse::<u8>().ok())
        .filter(|s| (1..=MAX_SEVERITY_SCORE).contains(s));
    if score.is_none() {
        errors.insert("score".into(), "Choose a severity score from 1 to 5.".into());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let impact = text_value(view, "impact");
    Ok((
        id,
        Triage {
            owner,
            tags,
            severity_score: score.unwrap_or_default(),
            customer_impact: (!impact.is_empty()).then_some(impact),
        },
    ))
}

/// Reads and checks a submitted root-cause form.
pub fn read_root_cause(view: &Value) -> Result<(i64, Analysis), FormErrors> {
    let mut errors = FormErrors::new();
    let id = ticket_id_or_error(view, "root_cause", &mut errors);
    let five_whys: Vec<String> = WHY_BLOCKS
        .into_iter()
        .map(|b| text_value(view, b))
        .filter(|w| !w.is_empty())
        .collect();
    if five_whys.is_empty() {
        errors.insert("why1".into(), "Start with the first why.".into());
    }
    let root_cause = text_value(view, "root_cause");
    if root_cause.is_empty() {
        errors
            .entry("root_cause".into())
            .or_insert_with(|| "Name the root cause.".into());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let lesson = text_value(view, "lesson");
    Ok((
        id,
        Analysis {
            five_whys,
            root_cause,
            lesson: (!lesson.is_empty()).then_some(lesson),
        },
    ))
}

/// Reads and checks a submitted close form; returns the lesson.
pub fn read_close(view: &Value) -> Result<(i64, String), FormErrors> {
    let mut errors = FormErrors::new();
    let id = ticket_id_or_error(view, "lesson", &mut errors);
    let lesson = text_value(view, "lesson");
    if lesson.is_empty() {
        errors
            .entry("lesson".into())
            .or_insert_with(|| "Closing needs the lesson learned.".into());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((id, lesson))
}

/// Problems in a submitted failure form, or `None` when it is not one.
pub fn errors(view: &Value) -> Option<FormErrors> {
    match view["callback_id"].as_str().unwrap_or_default() {
        TRIAGE_CALLBACK => read_triage(view).err(),
        ROOT_CAUSE_CALLBACK => read_root_cause(view).err(),
        CLOSE_CALLBACK => read_close(view).err(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn ticket() -> Ticket {
        Ticket {
            tags: vec!["deploys".into()],
            ..Ticket::example(9, "Deploy of payments failed")
        }
    }

    fn submitted(form: &Value, values: Value) -> Value {
        let mut view = form.clone();
        view["state"] = json!({ "values": values });
        view
    }

    #[test]
    fn a_triage_form_round_trips_and_checks_its_fields() {
        let form = triage_form(&ticket(), "U7");
        assert_eq!(form["blocks"][1]["element"]["initial_user"], "U7");
        assert_eq!(form["blocks"][2]["element"]["initial_value"], "deploys");
        let view = submitted(
            &form,
            json!({
                "owner": { "value": { "type": "users_select", "selected_user": "U8" } },
                "tags": { "value": { "type": "plain_text_input", "value": "deploys, payments" } },
                "score": { "value": { "type": "static_select", "selected_option": { "value": "4" } } },
                "impact": { "value": { "type": "plain_text_input", "value": "Payments failed for 10 min" } }
            }),
        );
        let (id, triage) = read_triage(&view).unwrap();
        assert_eq!(id, 9);
        assert_eq!(triage.owner, "U8");
        assert_eq!(triage.tags, ["deploys", "payments"]);
        assert_eq!(triage.severity_score, 4);
        assert_eq!(triage.customer_impact.as_deref(), Some("Payments failed for 10 min"));
        let bad = submitted(
            &form,
            json!({ "tags": { "value": { "type": "plain_text_input", "value": "ok no/slashes" } } }),
        );
        let errors = read_triage(&bad).unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["owner", "score", "tags"]);
    }

    #[test]
    fn root_cause_and_close_forms_need_their_answers() {
        let view = submitted(&root_cause_form(&ticket()), json!({}));
        assert_eq!(
            read_root_cause(&view).unwrap_err().keys().collect::<Vec<_>>(),
            ["root_cause", "why1"]
        );
        let view = submitted(
            &root_cause_form(&ticket()),
            json!({
                "why1": { "value": { "value": "config was wrong" } },
                "why3": { "value": { "value": "no review" } },
                "root_cause": { "value": { "value": "no config review" } }
            }),
        );
        let (id, analysis) = read_root_cause(&view).unwrap();
        assert_eq!((id, analysis.five_whys.len(), analysis.lesson), (9, 2, None));
        let view = submitted(
            &close_form(&ticket()),
            json!({ "lesson": { "value": { "value": " " } } }),
        );
        assert!(read_close(&view).unwrap_err().contains_key("lesson"));
    }

    #[test]
    fn a_form_that_lost_its_ticket_says_so_at_a_block_it_has() {
        let mut view = submitted(
            &close_form(&ticket()),
            json!({ "lesson": { "value": { "value": "x" } } }),
        );
        view["private_metadata"] = json!("");
        let errors = read_close(&view).unwrap_err();
        assert!(errors["lesson"].contains("lost track"), "{errors:?}");
        let mut triage = submitted(&triage_form(&ticket(), "U1"), json!({}));
        triage["private_metadata"] = json!("");
        assert!(read_triage(&triage).unwrap_err()["owner"].contains("lost track"));
    }

    #[test]
    fn titles_fit_slacks_limits_for_large_ticket_ids() {
        let mut big = ticket();
        big.id = 9_999_999;
        for form in [triage_form(&big, "U1"), root_cause_form(&big), close_form(&big)] {
            for key in ["title", "submit", "close"] {
                assert!(
                    form[key]["text"].as_str().unwrap().chars().count() <= 24,
                    "{key}: {}",
                    form[key]
                );
            }
        }
    }
}
