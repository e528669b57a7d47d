//! The browser suite (`tests/browser/suite.mjs`): Debian's chromium, driven
//! by playwright-core, signs in through the fake Slack's OpenID endpoints
//! and checks every page against a scripted set of incidents, a private
//! incident's invisibility to a non-member, the status page before, during
//! and after the incidents, and axe-core.
//! Screenshots go to `tests/browser/screenshots/`. Outside CI the suite is
//! skipped when chromium or `npm ci` is missing; in CI that is a failure.

use std::path::Path;

use crate::helpers::{Backend, DECLARER, spawn_app_with_config_and_env};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ready(suite: &Path) -> bool {
    let have = Path::new("/usr/bin/chromium").exists() && suite.join("node_modules/playwright-core").exists();
    if !have && std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI must run the browser suite: install chromium and run `npm ci` in tests/browser (.ci/run does)");
    }
    have
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_pages_work_in_a_real_browser() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !ready(&suite) {
        eprintln!("skipping the browser suite: no /usr/bin/chromium or tests/browser/node_modules");
        return;
    }
    // The browser follows Slack's redirect to the public URL, so it must be this Rebound.
    let port = free_port();
    let config = format!(
        "[web]\npublic_url = \"http://127.0.0.1:{port}/\"\ntrends_every = \"1s\"\n[status]\ntitle = \"Acme status\"\n\
         [[status.components]]\nname = \"API\"\ngroup = \"Core\"\ndescription = \"Public REST API\"\n\
         [[status.components]]\nname = \"Search\"\n"
    );
    let addr = format!("127.0.0.1:{port}");
    let Some(app) = spawn_app_with_config_and_env(Backend::Sqlite, &config, &[("REBOUND_ADDR", &addr)]).await else {
        return;
    };
    let run = |text: &'static str, channel: String| {
        let app = &app;
        async move {
            app.command(text, DECLARER, &channel).await;
            app.wait_until_inbox_empty().await;
            app.wait_until_outbox_empty().await;
        }
    };
    let week = rebound::domain::incident_metrics::iso_week(chrono::Utc::now(), chrono_tz::UTC);
    let phase = |name: &'static str| suite_phase(&suite, &app, name, &week);

    phase("before").await;
    run("open Checkout errors sev2", "CGENERAL".into()).await;
    let checkout = incident_channel(&app, 1).await;
    run("impact API partial", checkout.clone()).await;
    run("update internal only: the payment provider pages us", checkout.clone()).await;
    run("update --public We are looking into failed checkouts", checkout.clone()).await;
    run("open --private Secret rotation sev1", "CGENERAL".into()).await;
    run("open Search slow sev3", "CGENERAL".into()).await;
    let search = incident_channel(&app, 3).await;
    run("resolve reindexed", search).await;
    // Let the status page's snapshot (5 s) include all of it.
    tokio::time::sleep(std::time::Duration::from_millis(5200)).await;
    phase("during").await;

    run("resolve provider fixed", checkout.clone()).await;
    run("postmortem done", checkout.clone()).await;
    run(
        "postmortem publish A provider outage; we now fail over to a second one",
        checkout,
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(5200)).await;
    phase("after").await;
}

/// Runs one phase of the browser suite (`before`, `during`, `after` the incidents).
async fn suite_phase(suite: &Path, app: &crate::helpers::TestApp, phase: &str, week: &str) {
    let output = tokio::process::Command::new("node")
        .arg(suite.join("suite.mjs"))
        .env("PHASE", phase)
        .env("BASE", &app.base)
        .env("FAKE", format!("http://{}", app.fake.addr))
        .env("WEEK", week)
        .env("OUT", suite.join("screenshots"))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{phase}:\n{stdout}");
    assert!(
        output.status.success(),
        "the browser suite failed {phase} the incidents:\n{stdout}\n{stderr}"
    );
}

async fn incident_channel(app: &crate::helpers::TestApp, id: i64) -> String {
    let store = rebound::store::connect(&app.database_url).await.unwrap();
    store.incident(id).await.unwrap().unwrap().channel_id.unwrap()
}
