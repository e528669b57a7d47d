//! Rebound: a self-hosted Slack incident-response bot.
//!
//! Module map (see `../shared/DESIGN.md` for the architecture):
//!
//! | module | owns | must not |
//! |---|---|---|
//! | [`cli`] | command-line entry points (`serve`, `migrate`, `check`, `manifest`) | hold business rules |
//! | [`config`] | settings from defaults → TOML file (`config/file.rs`, a struct per section) → environment; secrets | log secrets |
//! | [`domain`] | incident rules, `/incident` grammar, channel names (pure, time passed in) | do I/O |
//! | [`ingress`] | Slack HTTP routes: signature check, inbox write, fast ack | do slow work before the ack |
//! | [`http_server`] | the accept loop: header/body timeouts, connection and in-flight caps | let slow clients starve acks |
//! | [`inbox`] | group-committed durable inbox writes | lose an acknowledged request |
//! | [`dispatcher`] | turns inbox items into domain decisions and one store transaction | call Slack directly |
//! | [`outbox`] | sends recorded Slack Web API and vendor calls: retries, 429, per-channel order | decide anything |
//! | [`outbound`] | vendor clients (PagerDuty, Zenduty, Statuspage, Jira, GitHub): credential added at send time, answers checked and sorted | store or log a credential |
//! | [`scheduler`] | durable timers, the manager digest | keep timers in memory only |
//! | [`reports`] | post-mortem drafts, stats and exports read from the store | write anything |
//! | [`store`] | one query layer for SQLite and Postgres, a module per aggregate; engines keep only connecting and migrating | contain rules |
//! | [`text`] | the one rule for people's text: unescape at ingress, escape per output (mrkdwn, CSV) | let user text ping groups or disguise links |
//! | [`supervisor`] | restarts background workers that stop; which are alive, for `/readyz` | hide a dead worker |
//! | [`views`] | Block Kit rendering, pure functions from state to blocks | exceed Slack's limits |
//! | [`intake`] | alert routes: each sender's authentication (SNS certificates), inbox write, fast ack | trust a sender it has not authenticated |
//! | [`web`] | probes, `/metrics`, Sign in with Slack, the dashboard pages, the public status page | expose secrets, private incidents or anything unpublished |
//! | [`manifest`] | the Slack app manifest for a public URL | drift from the routes |
//! | [`background`] | the lower-priority runtime the workers run on | run request handlers |
//! | [`startup`] | wiring: router, workers, graceful shutdown | contain logic |

pub mod background;
pub mod cli;
pub mod config;
pub mod demo;
pub mod dispatcher;
pub mod domain;
pub mod housekeeping;
pub mod http_client;
pub mod http_server;
pub mod inbox;
pub mod ingress;
pub mod intake;
pub mod manifest;
pub mod metrics;
pub mod outbound;
pub mod outbox;
pub mod preflight;
pub mod reports;
pub mod scheduler;
pub mod slack;
pub mod slack_simulator;
pub mod startup;
pub mod store;
pub mod supervisor;
pub mod telemetry;
pub mod text;
pub mod views;
pub mod web;
