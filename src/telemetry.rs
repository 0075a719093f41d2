//! Tracing setup. Logs carry request ids, routes and statuses; never a PII value.

use std::io::IsTerminal;

use tracing_subscriber::{fmt, EnvFilter};

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Colour only for a person at a terminal: never in files, pipes or journald.
        .with_ansi(colour())
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// stderr is a terminal and `NO_COLOR` (no-color.org) is unset or empty.
fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
