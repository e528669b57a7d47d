//! One usage line per subcommand, shown with every error.

pub const OPEN: &str = "/incident open [--private] [<title>] [sev1|sev2|sev3|sev4]";
pub const SEV: &str = "/incident sev <1-4>";
pub const STATUS: &str = "/incident status <investigating|identified|monitoring|resolved>";
pub const LEAD: &str = "/incident lead @user";
pub const UPDATE: &str = "/incident update [--public] <text>";
pub const IMPACT: &str = "/incident impact <component> <operational|degraded|partial|major|maintenance>";
pub const NOTE: &str = "/incident note <text>";
pub const DECISION: &str = "/incident decision <text>";
pub const ACTION: &str =
    "/incident action <text> [@owner] [due <YYYY-MM-DD|duration like 3d>] | action <n> jira (export item n)";
pub const RESOLVE: &str = "/incident resolve [summary]";
pub const REOPEN: &str = "/incident reopen [reason]";
pub const LIST: &str = "/incident list";
pub const REMINDERS: &str = "/incident reminders";
pub const POSTMORTEM: &str = "/incident postmortem done [link] | publish <summary for the status page>";
pub const FAILURES: &str = "/incident failures [open|mine|tag:<tag>]";
pub const FAILURE: &str = "/incident failure <id> [assign @user | tag <tag> | close <lesson learned>]";
pub const STATS: &str = "/incident stats [period like 30d]";
pub const STARTED: &str = crate::domain::impact_start::USAGE;
pub const HELP: &str = "/incident help";
pub const ANY: &str = "/incident <open|sev|status|lead|update|impact|note|decision|action|started|resolve|reopen|postmortem|reminders|failures|failure|stats|list|help> …";

/// Every usage line, in the order `/incident help` shows them.
pub const ALL: [&str; 19] = [
    OPEN, SEV, STATUS, LEAD, UPDATE, IMPACT, NOTE, DECISION, ACTION, STARTED, RESOLVE, REOPEN, POSTMORTEM, REMINDERS,
    FAILURES, FAILURE, STATS, LIST, HELP,
];
