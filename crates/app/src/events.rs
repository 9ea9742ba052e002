//! What the engine tells its user interfaces without being asked.
//!
//! Long-lived tasks (signal loop, sync, execution) publish [`AppEvent`]s on one broadcast
//! channel; the desktop shell forwards each to the page and to tray notifications. A slow
//! or absent listener never blocks a task: a lagging receiver loses the oldest events, and
//! every view can re-read the current state with a command.
//!
//! Auto-trading is the one listener that must not lose an event: a skipped signal is a trade
//! the user asked for and never got. It has its own lossless, ordered feed
//! ([`Events::auto_trade_feed`]): every [`AppEvent::Signal`] emitted goes to it as well as to
//! the broadcast. It is unbounded because its producer is bounded by the market (one signal
//! per watched symbol per closed candle) and its one consumer only reads settings and places
//! at most one order per signal.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use perpdesk_signal::SignalDirection;
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

/// Which way a signal points, named as the views name it (`"long"`, `"short"`, `"flat"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Up, shown only with out-of-sample evidence of an edge.
    Long,
    /// Down, likewise.
    Short,
    /// No direction shown: no edge, or too close to call.
    Flat,
}

impl From<SignalDirection> for Direction {
    fn from(d: SignalDirection) -> Self {
        match d {
            SignalDirection::Long => Self::Long,
            SignalDirection::Short => Self::Short,
            SignalDirection::Flat => Self::Flat,
        }
    }
}

/// One thing that happened, tagged for the UI as `{"kind": "...", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppEvent {
    /// A new signal at a candle close.
    Signal {
        symbol: String,
        direction: Direction,
        probability: f64,
        /// Open time of the candle, UTC ms.
        time_ms: i64,
        /// The signal is at or above the user's "strong signal" threshold.
        strong: bool,
        /// The signal's out-of-sample record, which the watchlist shows beside it: it changes
        /// when the model is evaluated or retrained, so a view that loaded before keeps up.
        /// Absent only in events made by tests.
        #[serde(skip_serializing_if = "Option::is_none")]
        record: Option<Box<perpdesk_signal::Record>>,
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
        /// Entry, take profit, stop loss or close, as the views name it (`take_profit`).
        leg: perpdesk_core::Leg,
        /// The journal's state, as Binance names order states (`FILLED`).
        state: perpdesk_core::OrderState,
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
    /// The study of the signal families made progress (`done` of `total` steps: one per
    /// symbol's history, then the study itself); `stage` names the step just done.
    StudyProgress {
        done: u32,
        total: u32,
        stage: String,
    },
    /// A study is ready (made or read from the day's cache); views re-read `signal_study`.
    StudyReady {
        /// The 00:00 UTC its data ends at, UTC ms.
        data_end_ms: i64,
        /// Families that pass the edge test (0: everything is flat).
        passing: u32,
    },
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
pub struct Events {
    bus: broadcast::Sender<AppEvent>,
    auto_trade: Arc<Mutex<Option<mpsc::UnboundedSender<String>>>>,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    /// Makes a channel that keeps the last 1024 events for slow listeners.
    pub fn new() -> Self {
        Self {
            bus: broadcast::channel(1024).0,
            auto_trade: Arc::new(Mutex::new(None)),
        }
    }

    /// Publishes an event; having no listener is normal (a headless run). A signal also goes
    /// to the auto-trade feed, if one is attached.
    pub fn emit(&self, event: AppEvent) {
        tracing::debug!(?event, "event");
        if let AppEvent::Signal { symbol, .. } = &event {
            let feed = self
                .auto_trade
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(tx) = feed.as_ref() {
                // A closed feed means auto-trading stopped (the app is quitting).
                let _ = tx.send(symbol.clone());
            }
        }
        let _ = self.bus.send(event);
    }

    /// Returns a receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<AppEvent> {
        self.bus.subscribe()
    }

    /// Attaches the auto-trade feed: the symbol of every signal emitted from now on, each
    /// once and in order, however slowly it is read. A second call replaces the first feed.
    pub fn auto_trade_feed(&self) -> mpsc::UnboundedReceiver<String> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self
            .auto_trade
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(tx);
        rx
    }
}

/// Longest an [`Outbox`] holds an event while its pass awaits something slow, unless told
/// otherwise ([`Outbox::holding_for`]).
///
/// Against the paper exchange a pass over 30 symbols takes tens of milliseconds and goes out
/// whole; against Binance each symbol's klines are a round trip of 50–300 ms, and a pass over
/// 30 symbols takes seconds, which must not delay the first symbol's signal (on the page and
/// to auto-trading) until the last one's arrives. A tenth of a second is below what a person
/// notices on a watchlist and nothing next to an hourly candle.
pub const MAX_HOLD: Duration = Duration::from_millis(100);

/// Events one pass of a task makes, held back and published together, in order, when the
/// outbox is flushed or dropped (an early return or an aborted task still publishes them),
/// or when they have waited the outbox's hold ([`MAX_HOLD`] unless told otherwise) across an
/// await given to [`Outbox::hold_during`].
///
/// A listener that forwards what is waiting on the broadcast (the desktop shell sends the
/// page one batch per wake-up) then gets a pass's events at once: the signal loop's close of
/// every watched symbol awaits the exchange and the store between symbols, which spread its
/// events a millisecond or so apart, one batch each. Await the exchange through
/// [`Outbox::hold_during`], and flush before a slow step of the pass's own (a retraining),
/// so that no event waits on it.
#[derive(Debug)]
pub struct Outbox<'a> {
    events: &'a Events,
    held: Vec<AppEvent>,
    /// When the oldest held event was pushed.
    since: Option<Instant>,
    hold: Duration,
}

impl<'a> Outbox<'a> {
    /// An empty outbox publishing to `events`, holding them at most [`MAX_HOLD`].
    pub fn new(events: &'a Events) -> Self {
        Self::holding_for(events, MAX_HOLD)
    }

    /// An empty outbox publishing to `events`, holding them at most `hold` across an await.
    pub fn holding_for(events: &'a Events, hold: Duration) -> Self {
        Self {
            events,
            held: Vec::new(),
            since: None,
            hold,
        }
    }

    /// Holds `event` until the next flush.
    pub fn push(&mut self, event: AppEvent) {
        self.since.get_or_insert_with(Instant::now);
        self.held.push(event);
    }

    /// Publishes every held event, in the order pushed ([`Events::emit`] each).
    pub fn flush(&mut self) {
        self.since = None;
        for event in self.held.drain(..) {
            self.events.emit(event);
        }
    }

    /// Awaits `work` (a call to the exchange), publishing what is held once it has waited
    /// the outbox's hold if `work` takes longer: a quick call keeps the pass's events
    /// together, a slow one does not delay them by more than that.
    pub async fn hold_during<F: Future>(&mut self, work: F) -> F::Output {
        let Some(since) = self.since else {
            return work.await;
        };
        let mut work = std::pin::pin!(work);
        tokio::select! {
            biased;
            done = &mut work => done,
            () = tokio::time::sleep_until(since + self.hold) => {
                self.flush();
                work.await
            }
        }
    }
}

impl Drop for Outbox<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(i: usize) -> AppEvent {
        AppEvent::Signal {
            symbol: format!("S{i}USDT"),
            direction: Direction::Long,
            probability: 0.7,
            time_ms: i64::try_from(i).expect("small"),
            strong: true,
            record: None,
        }
    }

    #[tokio::test]
    async fn an_outbox_publishes_its_events_together_in_order_when_flushed_or_dropped() {
        let events = Events::new();
        let mut bus = events.subscribe();
        let mut feed = events.auto_trade_feed();
        let mut out = Outbox::new(&events);
        out.push(signal(1));
        out.push(signal(2));
        assert!(bus.try_recv().is_err(), "nothing is published while held");
        assert!(feed.try_recv().is_err(), "nor fed to auto-trading");
        out.flush();
        for i in [1, 2] {
            assert_eq!(bus.try_recv().ok(), Some(signal(i)));
            assert_eq!(feed.try_recv().ok(), Some(format!("S{i}USDT")));
        }
        out.push(signal(3));
        // A pass that ends early (an error's `?`, a task aborted at an await) drops its
        // outbox, which publishes what the pass made.
        let pass = async move {
            let _kept = out;
            std::future::pending::<()>().await;
        };
        assert!(bus.try_recv().is_err());
        drop(pass);
        assert_eq!(bus.try_recv().ok(), Some(signal(3)));
        assert!(bus.try_recv().is_err());
    }

    /// An await that outlasts [`MAX_HOLD`] does not hold the pass's events: they go out
    /// while it is still pending (here it cannot end before the test has seen them), and a
    /// quick await keeps them held.
    #[tokio::test]
    async fn an_outbox_publishes_what_it_holds_when_an_await_outlasts_the_hold() {
        let events = Events::new();
        let mut bus = events.subscribe();
        let mut feed = events.auto_trade_feed();
        let mut out = Outbox::new(&events);
        assert_eq!(
            out.hold_during(async { 7 }).await,
            7,
            "nothing held: just awaits"
        );
        out.push(signal(1));
        assert_eq!(out.hold_during(async { 8 }).await, 8);
        assert!(
            bus.try_recv().is_err(),
            "a quick await keeps the events held"
        );
        let (answer, answered) = tokio::sync::oneshot::channel();
        let slow = out.hold_during(async { answered.await.expect("answered") });
        let watcher = async {
            let seen = bus.recv().await.expect("published during the await");
            let fed = feed.recv().await;
            answer.send(9).expect("the await is pending");
            (seen, fed)
        };
        // Without the flush both sides would wait for each other: fail instead of hanging.
        let (got, (seen, fed)) = tokio::time::timeout(Duration::from_secs(60), async {
            tokio::join!(slow, watcher)
        })
        .await
        .expect("the held events went out while the await was pending");
        assert_eq!(got, 9);
        assert_eq!(seen, signal(1));
        assert_eq!(
            fed.as_deref(),
            Some("S1USDT"),
            "auto-trading is not held either"
        );
        out.push(signal(2));
        out.flush();
        assert_eq!(
            bus.try_recv().ok(),
            Some(signal(2)),
            "the hold restarts after a flush"
        );
    }

    /// An event pushed after the hold expired is published at the next await that is not
    /// ready at once, however short.
    #[tokio::test]
    async fn an_expired_hold_publishes_at_the_next_await() {
        let events = Events::new();
        let mut bus = events.subscribe();
        let mut out = Outbox::new(&events);
        out.push(signal(1));
        // As if the first event had been pushed longer ago than the hold.
        out.since = Instant::now().checked_sub(2 * MAX_HOLD);
        assert!(out.since.is_some(), "the clock has run longer than that");
        out.push(signal(2));
        out.hold_during(tokio::task::yield_now()).await;
        assert_eq!(bus.try_recv().ok(), Some(signal(1)));
        assert_eq!(bus.try_recv().ok(), Some(signal(2)));
        assert!(bus.try_recv().is_err());
    }

    /// A burst larger than the broadcast's capacity, emitted while nobody reads: the
    /// broadcast (which auto-trading used to read, ignoring `Lagged`) loses the oldest
    /// signals, and the auto-trade feed still delivers every one, in order.
    #[tokio::test]
    async fn a_signal_burst_larger_than_the_broadcast_reaches_auto_trade_in_order() {
        let events = Events::new();
        let mut bus = events.subscribe();
        let mut feed = events.auto_trade_feed();
        let burst = 3 * 1024;
        for i in 0..burst {
            events.emit(signal(i));
        }
        assert!(
            matches!(
                bus.recv().await,
                Err(broadcast::error::RecvError::Lagged(n)) if n > 0
            ),
            "the broadcast drops what it cannot hold"
        );
        for i in 0..burst {
            assert_eq!(feed.recv().await, Some(format!("S{i}USDT")));
        }
        assert!(feed.try_recv().is_err(), "each signal arrives once");
    }

    /// The views read the event's `direction` as these three words.
    #[test]
    fn a_signal_event_names_its_direction_as_the_views_do() {
        let json = |d: SignalDirection| {
            let event = AppEvent::Signal {
                symbol: "BTCUSDT".into(),
                direction: d.into(),
                probability: 0.7,
                time_ms: 0,
                strong: false,
                record: None,
            };
            serde_json::to_value(event).expect("serialisable")["direction"].clone()
        };
        assert_eq!(json(SignalDirection::Long), "long");
        assert_eq!(json(SignalDirection::Short), "short");
        assert_eq!(json(SignalDirection::Flat), "flat");
    }

    #[tokio::test]
    async fn only_signals_go_to_the_auto_trade_feed() {
        let events = Events::new();
        let mut feed = events.auto_trade_feed();
        events.emit(AppEvent::Locked);
        events.emit(signal(1));
        assert_eq!(feed.recv().await, Some("S1USDT".to_owned()));
        assert!(feed.try_recv().is_err());
    }
}
