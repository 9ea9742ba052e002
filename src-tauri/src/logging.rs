use std::io::IsTerminal;
use std::path::Path;

use perpdesk_app::logging::{LogFiles, file_layer, log_panics};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// How many daily log files are kept; older ones are deleted when the day turns.
const KEPT_LOG_FILES: usize = 7;

/// Sends `tracing` events to stderr and to the app's daily log files in `log_dir` (private to
/// the user, see `perpdesk_app::logging`), and panics to both.
///
/// A log file that cannot be opened must not stop the app, so that case falls back to stderr
/// only. `RUST_LOG` overrides the default `info` level.
pub(crate) fn init(log_dir: &Path) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter).with(stderr);
    let installed = match LogFiles::open(log_dir, KEPT_LOG_FILES) {
        Ok(files) => registry.with(file_layer(files)).try_init(),
        Err(err) => {
            eprintln!(
                "perpdesk: log file unavailable in {}: {err}",
                log_dir.display()
            );
            registry.try_init()
        }
    };
    // A subscriber is already set only when the shell is embedded in a test harness.
    if installed.is_ok() {
        log_panics();
    }
}
