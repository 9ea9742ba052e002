use std::io::IsTerminal;
use std::path::Path;

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// How many daily log files are kept; older ones are deleted by the appender.
const KEPT_LOG_FILES: usize = 7;

/// Sends `tracing` events to stderr and to a daily-rotated file in `log_dir`.
///
/// A log file that cannot be opened must not stop the app, so that case falls back to stderr
/// only. `RUST_LOG` overrides the default `info` level.
pub(crate) fn init(log_dir: &Path) {
    // The appender lists the folder to prune old files, so it must exist first; if it cannot
    // be made, building the appender fails below and we fall back to stderr.
    let _ = std::fs::create_dir_all(log_dir);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let file = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("perpdesk")
        .filename_suffix("log")
        .max_log_files(KEPT_LOG_FILES)
        .build(log_dir);
    let stderr = fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter).with(stderr);
    let installed = match file {
        Ok(file) => registry
            .with(fmt::layer().with_ansi(false).with_writer(file))
            .try_init(),
        Err(err) => {
            eprintln!(
                "perpdesk: log file unavailable in {}: {err}",
                log_dir.display()
            );
            registry.try_init()
        }
    };
    // A subscriber is already set only when the shell is embedded in a test harness.
    let _ = installed;
}
