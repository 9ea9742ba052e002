//! What the engine tells its user interfaces without being asked.
//!
//! Long-lived tasks (signal loop, sync, execution) publish [`AppEvent`]s on one broadcast
//! channel; the desktop shell forwards each to the page and to tray notifications. A slow
//! or absent listener never blocks a task: a lagging receiver loses the oldest events, and
//! every view can re-read the current state with a command.

use serde::Serialize;
use tokio::sync::broadcast;

/// One thing that happened, tagged for the UI as `{"kind": "...", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppEvent {
    /// A new signal at a candle close.
    Signal {
        symbol: String,
        direction: String,
        probability: f64,
        /// Open time of the candle, UTC ms.
        time_ms: i64,
        /// The signal is at or above the user's "strong signal" threshold.
        strong: bool,
    },
    /// A candle of a watched symbol closed (the chart appends it).
    Candle {
        symbol: String,
        open_time_ms: i64,
        open: String,
        high: String,
        low: String,
        close: String,
        volume: String,
    },
    /// An order changed state (placed, filled, canceled, rejected, triggered).
    Order {
        account_id: i64,
        symbol: String,
        client_order_id: String,
        /// Entry, take profit, stop loss or close.
        leg: String,
        state: String,
        message: String,
    },
    /// Positions changed; views re-read them.
    Positions { account_id: i64 },
    /// A sync pass made progress (`done` of `total` steps).
    SyncProgress {
        account_id: i64,
        done: u32,
        total: u32,
        message: String,
    },
    /// A sync pass finished.
    SyncDone {
        account_id: i64,
        new_fills: u64,
        new_income: u64,
        new_ledger_rows: u64,
    },
    /// A risk rule refused an order or the kill switch acted.
    Risk { rule: String, message: String },
    /// The connection to the exchange changed.
    Connection {
        account_id: i64,
        connected: bool,
        message: String,
    },
    /// The vault locked itself or was locked.
    Locked,
    /// A position is close to liquidation.
    LiquidationWarning {
        account_id: i64,
        symbol: String,
        mark_price: String,
        liquidation_price: String,
    },
}

/// The sending side every task holds a clone of.
#[derive(Debug, Clone)]
pub struct Events(broadcast::Sender<AppEvent>);

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    /// Makes a channel that keeps the last 1024 events for slow listeners.
    pub fn new() -> Self {
        Self(broadcast::channel(1024).0)
    }

    /// Publishes an event; having no listener is normal (a headless run).
    pub fn emit(&self, event: AppEvent) {
        tracing::debug!(?event, "event");
        let _ = self.0.send(event);
    }

    /// Returns a receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<AppEvent> {
        self.0.subscribe()
    }
}
