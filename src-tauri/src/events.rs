//! Events the shell emits to the UI. Names are kebab-case and mirrored in `ui/js/api.js`.

use serde::Serialize;

/// The engine's events (`perpdesk_app::AppEvent`): the payload is an array of them in the
/// order they happened, each tagged by `kind`. A burst (a candle close: a candle and a signal
/// per watched symbol) goes as one, so the page evaluates one script for it rather than one
/// per event (`notify::next_batch`).
pub const APP_EVENTS: &str = "app-events";

/// Opens a panel: the payload is its `data-panel` name (a click on a notification).
pub const NAVIGATE: &str = "navigate";

/// Emitted when signal generation is paused or resumed from outside the UI (the tray).
pub const SIGNALS_PAUSED: &str = "signals-paused";

/// A newer release was found at start; the payload is an `update::UpdateOffer` and the
/// page asks the user whether to install it.
pub const UPDATE_AVAILABLE: &str = "update-available";

/// The payload of [`SIGNALS_PAUSED`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SignalsPaused {
    /// The new state.
    pub paused: bool,
}
