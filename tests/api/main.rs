//! End-to-end tests: the real router and workers, a real SQLite or Postgres
//! database, a fake Slack Web API, and requests signed as Slack signs them.

pub use rebound::slack_simulator as fake_slack;
mod engines;
mod fake_github;
mod fake_jira;
mod fake_paging;
mod fake_sns;
mod fake_statuspage;
mod helpers;

mod browser;
mod capture;
mod chaos;
mod declare;
mod delivery;
mod demo;
mod detection;
mod failures;
mod fake_contract;
mod forms;
mod fuzz;
mod hostile;
mod ingress;
mod intake;
mod intake_sns;
mod jira;
mod jira_webhook;
mod keeping_up;
mod lifecycle;
mod manifests;
mod migrations;
mod operations;
mod paging;
mod postmortems;
mod preflight;
mod privacy;
mod rollback;
mod socket_mode;
mod status_page;
mod statuspage;
mod store_layout;
mod timers;
mod upgrade;
mod web;
