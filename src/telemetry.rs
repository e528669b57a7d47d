//! Logging: `RUST_LOG` filter (default `info`), text or JSON lines
//! (`REBOUND_LOG_FORMAT=json`). Secrets are redacted by their types, never
//! formatted here.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are ignored.
pub fn init() {
    init_with_default("info");
}

/// As [`init`], with `default` as the filter when `RUST_LOG` is unset
/// (`rebound demo` keeps its transcript readable with "warn").
pub fn init_with_default(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let json = std::env::var("REBOUND_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
