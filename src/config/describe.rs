//! The effective settings as `rebound check` prints them: one per line,
//! secrets shown only as set or unset, database passwords redacted, intake
//! sources with their URLs but never their secrets.

use secrecy::ExposeSecret;

use super::{Settings, redact_database_url};

/// The effective settings, one per line, secrets shown only as set/unset.
pub fn describe(settings: &Settings) -> String {
    let secret = |value: &Option<secrecy::SecretString>| {
        if value.is_some() {
            "[set, redacted]"
        } else {
            "[not set]"
        }
    };
    let file = &settings.file;
    let mut lines = vec![
        format!("SLACK_BOT_TOKEN        {}", secret(&settings.bot_token)),
        format!("SLACK_SIGNING_SECRET   {}", secret(&settings.signing_secret)),
        format!("SLACK_APP_TOKEN        {}", secret(&settings.app_token)),
        format!("SLACK_API_URL          {}", settings.slack_api_url),
        format!("socket mode            {}", settings.socket_mode),
        format!(
            "DATABASE_URL           {}",
            redact_database_url(settings.database_url.expose_secret())
        ),
        format!("REBOUND_ADDR           {}", settings.addr),
        format!(
            "REBOUND_INTERNAL_ADDR  {}",
            settings
                .internal_addr
                .map(|a| a.to_string())
                .unwrap_or_else(|| "off".into())
        ),
        format!("REBOUND_REPLICA        {}", settings.replica),
        format!("slack.announce_channel {}", file.slack.announce_channel),
        format!("slack.channel_prefix   {}", file.slack.channel_prefix),
    ];
    for severity in crate::domain::Severity::ALL {
        lines.push(format!(
            "severity.{severity}.update_every {}",
            humantime::format_duration(file.update_every(severity))
        ));
    }
    lines.push(format!(
        "timers.severity_prompt_every {}",
        humantime::format_duration(file.timers.severity_prompt_every)
    ));
    lines.push(format!(
        "timers.postmortem_due_after {}",
        humantime::format_duration(file.timers.postmortem_due_after)
    ));
    lines.push(format!(
        "timers.postmortem_remind_every {}",
        humantime::format_duration(file.timers.postmortem_remind_every)
    ));
    lines.push(format!("failures.emoji {}", file.failures.emoji.join(", ")));
    lines.push(format!(
        "failures.untriaged_after {}",
        humantime::format_duration(file.failures.untriaged_after)
    ));
    lines.push(format!(
        "web.public_url {}",
        file.web.public_url.as_deref().unwrap_or("[not set]")
    ));
    let rates: Vec<String> = file
        .cost
        .per_minute
        .iter()
        .map(|(severity, rate)| format!("{severity} {rate}/min"))
        .collect();
    lines.push(format!("cost {} {}", file.cost.currency, rates.join(", ")));
    lines.push(format!(
        "digest {} ({}) → {}",
        file.digest.cron, file.digest.timezone, file.digest.channel
    ));
    lines.push(format!(
        "permissions.resolve {:?}, admins [{}]",
        file.permissions.resolve,
        file.permissions.admins.join(", ")
    ));
    lines.extend(intake_lines(settings));
    lines.extend(integration_lines(&file.integrations));
    lines.join("\n") + "\n"
}

/// One line per configured integration: where it sends and when, with its
/// credential shown only as set.
fn integration_lines(integrations: &super::integrations::IntegrationSettings) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(pd) = &integrations.pagerduty {
        let page: Vec<&str> = pd.page.iter().map(|s| s.as_str()).collect();
        lines.push(format!(
            "integrations.pagerduty {} pages [{}] (routing_key [set])",
            pd.url,
            page.join(", ")
        ));
    }
    if integrations.zenduty.is_some() {
        lines.push("integrations.zenduty every incident (integration_url [set])".into());
    }
    if let Some(jira) = &integrations.jira {
        lines.push(format!(
            "integrations.jira {} project {} as {} ({}, export {:?}, api_token [set]{})",
            jira.url,
            jira.project,
            jira.issue_type,
            jira.email,
            jira.export,
            match jira.webhook_secret {
                Some(_) => ", webhook_secret [set]: done issues close action items",
                None => "",
            }
        ));
    }
    if let Some(github) = &integrations.github {
        lines.push(format!(
            "integrations.github {} run by {:?} (token [set])",
            github.url, github.run_by
        ));
        for rollback in &github.rollback {
            lines.push(format!(
                "integrations.github.rollback {} → {} {} on {}",
                rollback.service, rollback.repo, rollback.workflow, rollback.git_ref
            ));
        }
    }
    if let Some(statuspage) = &integrations.statuspage {
        lines.push(format!(
            "integrations.statuspage {} page {} mirrors public updates and components (api_key [set])",
            statuspage.url, statuspage.page_id
        ));
    }
    lines
}

/// One line per intake source: its kind, its URL, what it does, and how it
/// authenticates (never the secret).
fn intake_lines(settings: &Settings) -> Vec<String> {
    let intake = &settings.file.intake;
    let base = settings
        .file
        .web
        .public_url
        .as_deref()
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("http://{}", settings.addr));
    let mut lines = vec![format!(
        "intake {} source(s), {} route(s), summary every {}",
        intake.sources.len(),
        intake.routes.len(),
        humantime::format_duration(intake.summary_every)
    )];
    for source in &intake.sources {
        let path = match source.kind {
            crate::domain::alerts::SourceKind::Opsgenie => "/v2/alerts".to_string(),
            kind => format!("/hooks/{}/{}", kind.as_str(), source.name),
        };
        let mut line = format!(
            "intake.{} {} {base}{path} → {}{}{}",
            source.name,
            source.kind.as_str(),
            source.action.as_str(),
            if source.auto_resolve { ", auto_resolve" } else { "" },
            source
                .responders
                .as_deref()
                .map(|g| format!(", responders {g}"))
                .unwrap_or_default()
        );
        if !source.topic_arns.is_empty() {
            line.push_str(&format!(", topics [{}]", source.topic_arns.join(", ")));
        }
        if let Some(origin) = &source.insecure_test_origin {
            line.push_str(&format!(", INSECURE test origin {origin}"));
        }
        lines.push(line);
    }
    lines
}
