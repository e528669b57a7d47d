//! The pure core: incident rules, the `/incident` grammar and channel naming.
//!
//! Nothing in here performs I/O or reads a clock; time is always an argument.
//! Adapters (ingress, dispatcher, store, outbox) call into this module, never
//! the other way round.

pub mod alerts;
pub mod audience;
pub mod capture;
pub mod channel_name;
pub mod clock;
pub mod command;
pub mod comms;
pub mod digest;
pub mod failure;
pub mod impact_start;
pub mod incident;
pub mod incident_metrics;
pub mod jira;
pub mod lifecycle;
pub mod paging;
pub mod recurrence;
pub mod rollback;
pub mod severity;
pub mod status_page;
pub mod statuspage_mirror;
pub mod timers;
pub mod trends;

pub use audience::Audience;
pub use channel_name::ChannelName;
pub use command::{Command, CommandError, Due};
pub use incident::{Incident, IncidentDraft, IncidentId};
pub use lifecycle::{Change, Happened, LifecycleError};
pub use severity::{Severity, Status};
