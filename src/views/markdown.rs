//! Text conversions for documents outside Slack: durations as people say
//! them, Slack mrkdwn to Markdown, and Markdown to a safe HTML page.

use std::time::Duration;

/// A duration as people say it: `1h 30m`, `4m`, `45s`.
pub fn human(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (days, hours, minutes) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// Slack mrkdwn to Markdown: `<@U1>` → `@U1`, `<#C1|name>` → `#name`,
/// `<url|text>` → `[text](url)`; table pipes and newlines made safe.
pub fn markdown(text: &str) -> String {
    untokened(text, |target, label| match label.is_empty() {
        true => format!("<{target}>"),
        false => format!("[{label}]({target})"),
    })
    .replace('|', "\\|")
    .replace('\n', " ")
}

/// Slack mrkdwn as plain words for a web page (which escapes them):
/// `<@U1>` → `@U1`, `<#C1|name>` → `#name`, `<url|text>` → `text (url)`.
pub fn readable(text: &str) -> String {
    untokened(text, |target, label| match label.is_empty() {
        true => target.to_string(),
        false => format!("{label} ({target})"),
    })
}

/// Slack mrkdwn with its `<…>` tokens as words: mentions and channels by
/// name, specials by their label, links as `link(target, label)` says; the
/// entities Slack escapes unescaped.
fn untokened(text: &str, link: impl Fn(&str, &str) -> String) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let token = &rest[start + 1..start + end];
        let (target, label) = token.split_once('|').unwrap_or((token, ""));
        match target.chars().next() {
            Some('#') if !label.is_empty() => out.push_str(&format!("#{label}")),
            Some('@' | '#') => out.push_str(target),
            Some('!') => out.push_str(if label.is_empty() { target } else { label }),
            _ => out.push_str(&link(target, label)),
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// The update form's `*Heading:* text` lines as `Heading: text`, for the
/// status page, which shows text as typed.
pub fn unbolded_headings(text: &str) -> String {
    text.lines()
        .map(
            |line| match line.strip_prefix('*').and_then(|rest| rest.split_once(":* ")) {
                Some((heading, rest)) => format!("{heading}: {rest}"),
                None => line.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
}

/// Link targets a page may carry: `http`, `https` and `mailto` only, so no
/// `javascript:` or `data:` URL from someone's text can run.
fn safe_target(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
}

/// The draft as a standalone HTML page. Raw HTML in the Markdown (which can
/// only come from people's text) is shown as text, never run.
pub fn html(title: &str, markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    // Links keep only http, https and mailto targets; images become links
    // (nothing remote loads when the page is opened).
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        })
        | Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: if safe_target(&dest_url) { dest_url } else { "".into() },
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, parser);
    let title = title.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1c1d}}\
         table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}}\
         blockquote{{color:#555;border-left:4px solid #ddd;margin:0;padding-left:1rem}}em{{color:#b35900}}</style></head>\n<body>\n{body}</body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_markup_becomes_markdown_and_table_safe() {
        assert_eq!(
            markdown("<@U1> made <#C9|inc-x> see <https://x.io/a|the graph> a|b &lt;3"),
            "@U1 made #inc-x see [the graph](https://x.io/a) a\\|b <3"
        );
        assert_eq!(markdown("two\nlines <unclosed"), "two lines <unclosed");
    }

    #[test]
    fn durations_read_like_people_say_them() {
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_secs(4 * 60)), "4m");
        assert_eq!(human(Duration::from_secs(5400)), "1h 30m");
        assert_eq!(human(Duration::from_secs(2 * 3600)), "2h");
        assert_eq!(human(Duration::from_secs(26 * 3600)), "1d 2h");
        assert_eq!(human(Duration::from_secs(7 * 86_400)), "7d");
    }

    #[test]
    fn html_never_runs_raw_html_from_peoples_text() {
        let page = html(
            "INC-1 <b>",
            "# Title\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
        let links = html(
            "x",
            "[a](javascript:alert(1)) [b](JaVaScRiPt:x) [c](data:text/html,x) ![d](https://img.example/t.png) [e](https://ok.example)",
        );
        assert!(
            !links.to_lowercase().contains("javascript:") && !links.contains("data:"),
            "{links}"
        );
        assert!(!links.contains("<img"), "no remote image loads: {links}");
        assert!(links.contains("href=\"https://ok.example\""), "{links}");
        assert!(
            page.contains("<table>") && page.contains("<title>INC-1 &lt;b&gt;</title>"),
            "{page}"
        );
    }
}
