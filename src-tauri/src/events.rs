//! Events the shell emits to the UI. Names are kebab-case and mirrored in `ui/js/api.js`.

use serde::Serialize;

/// Emitted when signal generation is paused or resumed from outside the UI (the tray).
pub const SIGNALS_PAUSED: &str = "signals-paused";

/// The payload of [`SIGNALS_PAUSED`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SignalsPaused {
    /// The new state.
    pub paused: bool,
}
