//! Post-mortems and metrics: an incident scripted through slash commands and
//! interactions yields a draft whose sections hold exactly what it recorded,
//! on the web, in the CLI and summarised in Slack; `/incident stats`,
//! `/metrics` gauges and `rebound export` report its numbers.

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{
    DECLARER, FORM, TestApp, block_actions, click, declared_channel, opened_view, submission, text_value,
};

const CONFIG: &str = "[web]\npublic_url = \"https://rebound.example.com/\"\n[cost]\ncurrency = \"EUR\"\n\
                      [cost.per_minute]\nsev1 = 600.0\nsev2 = 60.0\n";

async fn run(app: &TestApp, text: &str, channel: &str) {
    let reply = app.command(text, DECLARER, channel).await;
    assert!(
        reply["text"].as_str().unwrap().contains("Updating *INC-1*"),
        "/incident {text} → {reply}"
    );
    app.wait_until_inbox_empty().await;
}

async fn interact(app: &TestApp, body: &str) {
    let response = app.post_signed("/slack/interactions", FORM, body, &[]).await;
    assert_eq!(response.status(), 200);
    app.wait_until_inbox_empty().await;
}

/// The body of a `## heading` section of a Markdown document.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let start = doc
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("no section {heading} in:\n{doc}"));
    let body = &doc[start + heading.len() + 5..];
    body.find("\n## ").map_or(body, |end| &body[..end])
}

fn rows(section: &str) -> Vec<&str> {
    section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Time") && !l.starts_with("| #"))
        .collect()
}

/// The post-mortem summary posted on resolve, once it reached Slack.
async fn postmortem_summary(app: &TestApp) -> crate::fake_slack::RecordedCall {
    let is_summary = |c: &crate::fake_slack::RecordedCall| {
        c.ok()
            && c.args["text"]
                .as_str()
                .unwrap_or("")
                .contains("post-mortem draft is ready")
    };
    app.fake
        .wait_for("the post-mortem summary", |f| {
            f.calls("chat.postMessage").iter().any(is_summary)
        })
        .await;
    app.fake.calls("chat.postMessage").into_iter().find(is_summary).unwrap()
}

fn bullets(section: &str) -> Vec<&str> {
    section.lines().filter(|l| l.starts_with("- ")).collect()
}

/// Declares, then runs the incident through commands and controls to resolution.
async fn script_incident(app: &TestApp) -> String {
    let channel = declared_channel(app, "open Checkout is down sev2").await;
    let severity = json!({
        "type": "static_select", "action_id": "incident_set_severity", "block_id": "incident:1:controls",
        "selected_option": { "text": { "type": "plain_text", "text": "sev1" }, "value": "sev1" }, "action_ts": "1.2"
    });
    interact(app, &block_actions("U0CLICKER", &channel, "1.1", "11.1.sev", severity)).await;
    run(app, "note Error rate at 40% on checkout-api", &channel).await;
    run(app, "decision Roll back release 512", &channel).await;
    run(app, "update We are investigating failed checkouts", &channel).await;
    interact(
        app,
        &click(DECLARER, &channel, "1.1", "incident_post_update", "12.1.update"),
    )
    .await;
    let form = opened_view(app, "customer_update").await;
    let values = json!({
        "explain": text_value("Checkout failed for some customers"),
        "acknowledge": text_value("About 30% of payments failed"),
        "resolve": text_value("Rolled back; next update in 30 minutes")
    });
    let response = app
        .post_signed(
            "/slack/interactions",
            FORM,
            &submission(&form, values, "12.2.submit"),
            &[],
        )
        .await;
    assert_eq!(response.status(), 200);
    app.wait_until_inbox_empty().await;
    run(app, "decision Keep release 512 off until a canary exists", &channel).await;
    run(
        app,
        "action Add a canary stage <@U0OWNER|olga> due 2030-01-15",
        &channel,
    )
    .await;
    let monitoring = json!({
        "type": "static_select", "action_id": "incident_set_status", "block_id": "incident:1:controls",
        "selected_option": { "text": { "type": "plain_text", "text": "monitoring" }, "value": "monitoring" }, "action_ts": "1.3"
    });
    interact(
        app,
        &block_actions(DECLARER, &channel, "1.1", "13.1.status", monitoring),
    )
    .await;
    run(
        app,
        "resolve Rolled back release 512; error rate back to normal",
        &channel,
    )
    .await;
    channel
}

both_backends!(
    a_scripted_incident_gives_a_postmortem_with_exactly_its_record,
    config = CONFIG,
    |app: TestApp| async move {
        let channel = script_incident(&app).await;
        let summary = postmortem_summary(&app).await;
        assert_eq!(
            summary.args["channel"],
            channel.as_str(),
            "posted in the incident channel"
        );
        let summary = summary.args["text"].as_str().unwrap();
        assert!(
            summary.contains("<https://rebound.example.com/incidents/1/postmortem|Read the draft>")
                && summary.contains("`rebound postmortem 1`")
                && summary.contains("*INC-1* resolved after"),
            "{summary}"
        );

        let response = app.get_signed_in("/incidents/1/postmortem.md", DECLARER).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/markdown")
        );
        let doc = response.text().await.unwrap();
        assert!(doc.starts_with("# Post-mortem: INC-1 Checkout is down\n"), "{doc}");

        let store = rebound::store::connect(&app.database_url).await.unwrap();
        let timeline = store.timeline(1).await.unwrap();
        let timeline_rows = rows(section(&doc, "Timeline"));
        assert_eq!(
            timeline_rows.len(),
            timeline.len(),
            "one row per timeline entry:\n{doc}"
        );
        for (row, entry) in timeline_rows.iter().zip(&timeline) {
            assert!(row.contains(&format!("@{}", entry.actor)), "{row} / {entry:?}");
        }
        assert_eq!(
            bullets(section(&doc, "Decisions"))
                .iter()
                .map(|b| b.split_once(": ").unwrap().1)
                .collect::<Vec<_>>(),
            ["Roll back release 512", "Keep release 512 off until a canary exists"]
        );
        let updates = bullets(section(&doc, "Customer updates"));
        assert_eq!(updates.len(), 2, "{updates:?}");
        assert!(
            updates[0].ends_with("We are investigating failed checkouts"),
            "{updates:?}"
        );
        assert!(updates[1].contains("About 30% of payments failed"), "{updates:?}");
        let actions = rows(section(&doc, "Action items"));
        assert_eq!(actions, ["| 1 | Add a canary stage | @U0OWNER | 2030-01-15 | no |"]);
        assert!(section(&doc, "Summary").contains("Rolled back release 512; error rate back to normal"));
        let impact = section(&doc, "Impact");
        assert!(
            impact.contains("sev2 from") && impact.contains("→ sev1 from"),
            "{impact}"
        );
        assert!(
            impact.contains("**Estimated downtime cost:**") && impact.contains("EUR"),
            "{impact}"
        );
        let audit = section(&doc, "One-page audit");
        assert!(
            audit.contains("| **Customer updates** | An update every 30m |"),
            "{audit}"
        );
        assert!(audit.contains("_To write:"), "marks what people must write: {audit}");
        let metrics = section(&doc, "Metrics");
        assert!(metrics.contains("| Customer updates | 2 |"), "{metrics}");
        assert!(section(&doc, "Root cause (five whys)").contains("1. Why? _To write: why?_"));

        let page = app.get_signed_in("/incidents/1/postmortem", DECLARER).await;
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(page.contains("<h2>Timeline</h2>") && page.contains("<table>"), "{page}");
        assert_eq!(
            app.get_signed_in("/incidents/99/postmortem.md", DECLARER)
                .await
                .status(),
            404
        );
        assert_eq!(
            app.get_signed_in("/incidents/nope/postmortem", DECLARER).await.status(),
            404
        );

        let printed = app.cli(&["postmortem", "INC-1"]);
        assert_eq!(
            section(&printed, "Timeline"),
            section(&doc, "Timeline"),
            "the CLI prints the same draft"
        );

        // Marked done, the draft stops following the incident.
        run(&app, "postmortem done https://wiki.example/pm-1", &channel).await;
        run(&app, "reopen errors are back", &channel).await;
        let done = app
            .get_signed_in("/incidents/1/postmortem.md", DECLARER)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            done.contains("the final version lives at https://wiki.example/pm-1"),
            "{done}"
        );
        assert!(!section(&done, "Timeline").contains("reopened"), "{done}");
    }
);

both_backends!(
    private_incidents_have_no_postmortem_page,
    config = CONFIG,
    |app: TestApp| async move {
        let channel = declared_channel(&app, "open --private Credential leak sev1").await;
        run(&app, "resolve rotated the keys", &channel).await;
        let page = app.get_signed_in("/incidents/1/postmortem.md", "U0OUTSIDER").await;
        assert_eq!(
            page.status(),
            404,
            "a private id answers like a missing one to a non-member"
        );
        assert_eq!(page.text().await.unwrap(), "There is no such incident.\n");
        let summary = postmortem_summary(&app).await;
        assert!(
            !summary.args["text"].as_str().unwrap().contains("https://"),
            "no link for a private incident"
        );
    }
);

/// `rebound export` against the app's database, its stdout.
pub(crate) fn export(app: &TestApp, args: &[&str]) -> String {
    app.cli(&[&["export"], args].concat())
}

both_backends!(
    stats_gauges_and_exports_report_the_incident_numbers,
    config = CONFIG,
    |app: TestApp| async move {
        let channel = script_incident(&app).await;
        let store = rebound::store::connect(&app.database_url).await.unwrap();
        let incident = store.incident(1).await.unwrap().unwrap();
        let seconds = |at: Option<chrono::DateTime<chrono::Utc>>| (at.unwrap() - incident.declared_at).num_seconds();

        let rows: Value = serde_json::from_str(&export(&app, &["--format", "json"])).unwrap();
        let row = &rows[0];
        assert_eq!(rows.as_array().unwrap().len(), 1);
        assert_eq!(row["id"], 1);
        assert_eq!(row["worst_severity"], "sev1");
        assert_eq!(row["time_to_resolve_s"], seconds(incident.resolved_at));
        assert_eq!(row["time_to_acknowledge_s"], seconds(incident.acknowledged_at));
        assert_eq!(row["time_to_mitigate_s"], seconds(incident.mitigated_at));
        assert_eq!(row["customer_updates"], 2);
        let csv = export(&app, &["--format", "csv", "--since", "2020-01-01"]);
        let mut lines = csv.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("id,title,private,severity,worst_severity,status,declared_at")
        );
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("1,Checkout is down,false,sev1,sev1,resolved,")
        );
        let none: Value = serde_json::from_str(&export(&app, &["--since", "2999-01-01"])).unwrap();
        assert_eq!(none, json!([]));

        // Reopened and resolved again: resolve time runs to the final resolution,
        // time open leaves out the gap while it was resolved.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        run(&app, "reopen errors are back", &channel).await;
        run(&app, "resolve fixed for good", &channel).await;
        let rows: Value = serde_json::from_str(&export(&app, &[])).unwrap();
        let row = &rows[0];
        assert_eq!(row["reopened"], 1, "{row}");
        let incident = store.incident(1).await.unwrap().unwrap();
        assert_eq!(row["time_to_resolve_s"], seconds(incident.resolved_at));
        let (open, resolve) = (
            row["time_open_s"].as_u64().unwrap(),
            row["time_to_resolve_s"].as_u64().unwrap(),
        );
        assert!(open < resolve, "the second resolved period is not open time: {row}");

        let stats = app.command("stats 7d", "U0MANAGER", "CANYWHERE").await;
        let stats = stats["text"].as_str().unwrap();
        assert!(stats.contains("*Incident stats, last 7d*"), "{stats}");
        assert!(stats.contains("*1 incident — MTTD —, MTTA"), "{stats}");
        assert!(stats.contains("• sev1: 1 incident"), "{stats}");
        let refused = app.command("stats soon", "U0MANAGER", "CANYWHERE").await;
        assert!(
            refused["text"]
                .as_str()
                .unwrap()
                .contains("Usage: `/incident stats [period like 30d]`")
        );

        let mttr = app.metric("rebound_mttr_seconds{severity=\"sev1\"}").await;
        assert!((mttr - seconds(incident.resolved_at) as f64).abs() <= 1.0, "{mttr}");
        assert_eq!(app.metric("rebound_incidents_30d{severity=\"sev1\"}").await, 1.0);
    }
);
