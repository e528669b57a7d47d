//! `rebound demo`: with no Slack, database or configuration variables it
//! plays a whole incident and prints what Slack would show; `--keep`
//! leaves it serving its pages until SIGTERM; nothing is left behind.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

fn demo(args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_rebound"));
    command
        .arg("demo")
        .args(args)
        .env_clear()
        .env("REBOUND_ADDR", "127.0.0.1:0")
        .kill_on_drop(true);
    command
}

fn leftovers(pid: u32) -> usize {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("rebound-demo-{pid}-"))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_plays_a_whole_incident_with_nothing_installed() {
    let child = demo(&[]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id().unwrap();
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the demo ends by itself")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected_in_order = [
        "1. Dana declares an incident",
        "@dana types: /incident open Checkout is down",
        "Slack: #inc-",
        "Slack: #incidents",
        "2. Rebound asks for a severity",
        "has no severity yet",
        "3. Dana sets the severity",
        "(a message is edited)",
        "4. Dana posts a customer update",
        "failing over the payments database",
        "5. No update for a while",
        "since the last customer update",
        "6. Alex flags a message as a failure",
        "@alex reacts with :rotating_light:",
        "failure ticket",
        "7. Dana resolves",
        "post-mortem draft is ready",
        "8. The managers' digest",
        "Slack: #incident-managers",
        "Incident digest",
        "/incidents/1/postmortem",
    ];
    let mut rest: &str = &stdout;
    for expected in expected_in_order {
        let at = rest
            .find(expected)
            .unwrap_or_else(|| panic!("{expected:?} missing (or out of order) in:\n{stdout}"));
        rest = &rest[at + expected.len()..];
    }
    assert_eq!(leftovers(pid), 0, "the temporary database is removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kept_demo_serves_its_pages_until_stopped() {
    let mut child = demo(&["--keep"]).stdout(Stdio::piped()).spawn().unwrap();
    let pid = child.id().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let status_url = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.trim().strip_prefix("status page") {
                return url.trim().to_string();
            }
        }
        panic!("the demo ended without printing its pages");
    })
    .await
    .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(&status_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Checkout") && page.contains("Card payments fail"),
        "{page}"
    );
    let base = status_url.trim_end_matches("/status");
    let postmortem = http.get(format!("{base}/incidents/1/postmortem")).send().await.unwrap();
    assert!(postmortem.status().is_redirection(), "behind sign-in");
    let login = http.get(format!("{base}/login")).send().await.unwrap();
    let to = login.headers()["location"].to_str().unwrap();
    assert!(
        to.contains("/openid/connect/authorize") && to.starts_with("http://127.0.0.1:"),
        "{to}"
    );
    // SAFETY: signalling the child this test spawned.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("stops on SIGTERM")
        .unwrap();
    assert!(status.success());
    assert_eq!(leftovers(pid), 0);
}
