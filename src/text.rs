//! The one rule for people's text: unescaped once when it comes in, escaped
//! once when it goes out, per output format.
//!
//! Slack escapes `&`, `<` and `>` in slash-command and message text but sends
//! form (modal) values raw, so ingress turns both into the same plain text
//! ([`from_slack`], [`from_form`]) and strips what the databases cannot store
//! (NUL) or nobody typed on purpose (other control characters). Everything
//! stored is that plain text. When Rebound relays it into Slack, [`mrkdwn`]
//! makes sure it can never make the bot broadcast (`<!channel>`, `<!here>`,
//! `<!everyone>`, `<!subteam^…>` become plain words) or show a disguised link
//! (`<https://evil|docs>` becomes `docs (https://evil)`); user mentions
//! `<@U…>` and channel links `<#C…>` stay. [`csv_cell`] does the same job for
//! spreadsheets. The HTML rule lives with the page renderer
//! ([`crate::views::markdown::html`]).

/// Plain text from Slack-escaped text (slash-command `text`, message events).
pub fn from_slack(text: &str) -> String {
    // `&amp;` last, so `&amp;lt;` (a typed "&lt;") becomes "&lt;", not "<".
    clean(&text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
}

/// A slash command's form body as Rebound reads it: `text` unescaped to
/// plain text, every field cleaned of what the databases cannot store.
pub fn slash_command_form(raw: &str) -> Result<String, serde_urlencoded::de::Error> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)?;
    let cleaned: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(key, value)| {
            let value = if key == "text" {
                from_slack(&value)
            } else {
                clean(&value)
            };
            (key, value)
        })
        .collect();
    Ok(serde_urlencoded::to_string(cleaned).unwrap_or_default())
}

/// Cleans every string in a JSON payload (events, interactions) of what the
/// databases cannot store; the JSON escape `\u0000` decodes to a NUL.
pub fn clean_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) if needs_cleaning(text) => *text = clean(text),
        serde_json::Value::Array(items) => items.iter_mut().for_each(clean_json),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(clean_json),
        _ => {}
    }
}

/// Plain text from a form value, which Slack sends unescaped.
pub fn from_form(text: &str) -> String {
    clean(text)
}

/// Drops NUL (Postgres refuses it) and control characters other than tab
/// and newline; a carriage return before a newline goes too.
pub fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

/// True when `text` has something [`clean`] would drop.
pub fn needs_cleaning(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// Plain user text as Slack mrkdwn that cannot ping groups or disguise links.
pub fn mrkdwn(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        escape_into(&mut out, &rest[..start]);
        let after = &rest[start + 1..];
        match after.find(['>', '<']) {
            Some(end) if after.as_bytes()[end] == b'>' => {
                render_token(&mut out, &after[..end]);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("&lt;");
                rest = after;
            }
        }
    }
    escape_into(&mut out, rest);
    out
}

/// Plain user text for `plain_text` fields (headers, labels), which Slack
/// shows as typed: tokens become the same words as in [`mrkdwn`]
/// (`<!here>` → `@here`, `<@U1>` → `@U1`), and nothing is escaped.
pub fn plain(text: &str) -> String {
    mrkdwn(text)
        .replace("<@", "@")
        .replace("<#", "#")
        .replace('>', "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// One `<…>` token of user text.
fn render_token(out: &mut String, token: &str) {
    let (target, label) = match token.split_once('|') {
        Some((target, label)) => (target, Some(label)),
        None => (token, None),
    };
    if target.is_empty() || target.contains(char::is_whitespace) {
        // Not a Slack token: brackets someone typed, shown as typed.
        out.push_str("&lt;");
        escape_into(out, token);
        out.push_str("&gt;");
    } else if let Some(id) = target.strip_prefix('@').filter(|id| is_slack_id(id, &['U', 'W'])) {
        out.push_str(&format!("<@{id}>"));
    } else if let Some(id) = target.strip_prefix('#').filter(|id| is_slack_id(id, &['C', 'G'])) {
        out.push_str(&format!("<#{id}>"));
    } else if let Some(special) = target.strip_prefix('!') {
        escape_into(out, &special_as_words(special, label));
    } else if !has_scheme(target) {
        // `<v42>` is not a link anyone meant: shown as typed.
        out.push_str("&lt;");
        escape_into(out, token);
        out.push_str("&gt;");
    } else {
        match label.filter(|label| !label.trim().is_empty()) {
            Some(label) => {
                escape_into(out, label);
                out.push_str(" (");
                escape_into(out, target);
                out.push(')');
            }
            None => escape_into(out, target),
        }
    }
}

/// `<!here>` → `@here`, `<!subteam^S1|@oncall>` → `@oncall`, `<!date^…|fallback>` → `fallback`.
fn special_as_words(special: &str, label: Option<&str>) -> String {
    if let Some(label) = label.filter(|l| !l.trim().is_empty()) {
        return label.to_string();
    }
    let word = special.split('^').next().unwrap_or_default();
    match word {
        "subteam" => "@group".to_string(),
        "date" => "a date".to_string(),
        other => format!("@{other}"),
    }
}

/// `https:`, `mailto:` …: what Slack would turn into a link.
fn has_scheme(target: &str) -> bool {
    target.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    })
}

fn is_slack_id(id: &str, prefixes: &[char]) -> bool {
    id.starts_with(prefixes) && id.len() <= 32 && id.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Rebound's own words (usage lines, hints) as Slack must receive them:
/// `&`, `<` and `>` as entities, so `<text>` in a usage line shows as
/// written instead of being parsed as a link.
pub fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    escape_into(&mut out, text);
    out
}

/// The `<…>` spans of `text` that are not a token Slack knows (a mention,
/// a channel, a date, a link): what `literal` should have escaped.
pub fn stray_angle_brackets(text: &str) -> Vec<String> {
    let known = ["<@", "<#", "<!date^", "<http://", "<https://", "<mailto:"];
    text.match_indices('<')
        .filter(|(at, _)| !known.iter().any(|k| text[*at..].starts_with(k)))
        .map(|(at, _)| text[at..].chars().take(24).collect())
        .collect()
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// A CSV cell a spreadsheet will not run: cells starting with `=`, `+`, `-`,
/// `@`, tab or carriage return get a leading `'` (OWASP's advice).
pub fn csv_cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// The tokens Slack would act on in rendered mrkdwn: broadcasts (`<!…>`)
/// and links with a label (`<url|label>`). Used by tests of every view.
pub fn risky_tokens(mrkdwn: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = mrkdwn;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else { break };
        let token = &after[..end];
        let broadcast = token.starts_with('!') && !token.starts_with("!date^");
        let labelled_link = !token.starts_with(['@', '#', '!']) && token.contains('|');
        let bare_link = !token.starts_with(['@', '#', '!']) && has_scheme(token);
        if broadcast || labelled_link || bare_link {
            found.push(token.to_string());
        }
        rest = &after[end + 1..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn broadcasts_become_plain_words() {
        assert_eq!(mrkdwn("<!channel> <!here> <!everyone>"), "@channel @here @everyone");
        assert_eq!(mrkdwn("ping <!subteam^S0123|@oncall>"), "ping @oncall");
        assert_eq!(mrkdwn("ping <!subteam^S0123>"), "ping @group");
        assert_eq!(mrkdwn("<!here|here>"), "here");
    }

    #[test]
    fn labelled_links_show_where_they_go() {
        assert_eq!(
            mrkdwn("see <https://evil.example/x|the runbook>"),
            "see the runbook (https://evil.example/x)"
        );
        assert_eq!(mrkdwn("<https://ok.example>"), "https://ok.example");
    }

    #[test]
    fn user_mentions_and_channel_links_stay() {
        assert_eq!(mrkdwn("thanks <@U123|ann> in <#C9|inc-1>"), "thanks <@U123> in <#C9>");
    }

    #[test]
    fn stray_brackets_and_ampersands_are_escaped_once() {
        assert_eq!(mrkdwn("a < b & c > d"), "a &lt; b &amp; c &gt; d");
        assert_eq!(mrkdwn("<<!channel>"), "&lt;@channel");
        assert_eq!(mrkdwn("R&D"), "R&amp;D");
        assert_eq!(mrkdwn("rolled back <v42>"), "rolled back &lt;v42&gt;");
    }

    #[test]
    fn plain_text_shows_words_not_tokens() {
        assert_eq!(plain("R&D <!here> down <@U1> a<b"), "R&D @here down @U1 a<b");
    }

    #[test]
    fn slack_escaping_is_undone_once() {
        assert_eq!(from_slack("R&amp;D &lt;3"), "R&D <3");
        assert_eq!(from_slack("typed &amp;lt;"), "typed &lt;");
    }

    #[test]
    fn nul_and_control_characters_are_dropped() {
        assert_eq!(from_form("a\0b\u{7}c\r\nd\te"), "abc\nd\te");
        assert!(needs_cleaning("x\0"));
        assert!(!needs_cleaning("x\ny"));
    }

    #[test]
    fn spreadsheet_formulas_are_defused() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for risky in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_cell(risky).starts_with('\''), "{risky}");
        }
        assert_eq!(csv_cell("Checkout down"), "Checkout down");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        #[test]
        fn no_user_text_renders_a_broadcast_or_a_link(text in "(<|>|!|@|#|&|\\||channel|here|subteam\\^S1|https://x|U1|C1|[a-z ]){0,40}") {
            let rendered = mrkdwn(&from_slack(&text));
            prop_assert!(risky_tokens(&rendered).is_empty(), "{text:?} -> {rendered:?}");
            let rendered = mrkdwn(&text);
            prop_assert!(risky_tokens(&rendered).is_empty(), "{text:?} -> {rendered:?}");
        }

        #[test]
        fn arbitrary_text_is_cleaned_of_nul(text in any::<String>()) {
            prop_assert!(!from_form(&text).contains('\0'));
            prop_assert!(!from_slack(&text).contains('\0'));
        }
    }
}
