//! The live signal loop: one signal per closed candle of every watched symbol.
//!
//! At start, per symbol, the loop loads the closed candles the walk-forward evaluation
//! needs, evaluates the model out of sample (or reuses a cached evaluation of the same
//! configuration, because evaluation takes seconds and its verdict barely moves in a day),
//! and trains the live model on the latest data. It then signals the latest closed candle
//! unless a signal for it is already stored.
//!
//! While running it polls the exchange: the server's time first, then the klines that have
//! closed since the last one it holds. Polling rather than the kline WebSocket is deliberate:
//! the stream pushes the forming candle every 250 ms and a `x = true` event is easily missed
//! (a reconnect, a replay clock that jumps hours at once), while a REST read that starts at
//! the next expected open time returns every closed candle exactly once, gap-free, and is the
//! same code that catches up after a restart. The klines are only read once the server's
//! clock has passed a close, so a poll costs one request of weight 1 most of the time.
//!
//! Invariants:
//! - No look-ahead: a candle is used only when its close time is before the exchange time
//!   read *before* the klines were requested, and the signal of a candle is computed from
//!   that candle and earlier ones only (candles are processed one at a time, in order).
//! - One signal per candle: a candle is signalled only when it is newer than every stored
//!   signal of its symbol, and [`Store::record_signal`] refuses a second row for a candle
//!   and model version, so a restart or a concurrent poll cannot duplicate history.
//! - Pausing stops signals, not candles: the chart keeps moving, and candles that closed
//!   while paused are never signalled afterwards (a late signal would be a stale one).
//! - "Strong" means a direction was shown (the model has an out-of-sample edge) *and* its
//!   probability reaches the user's threshold: a flat signal never alerts, however lopsided
//!   its lean, because the evidence rule already refused to draw an arrow for it.
//!
//! The parts: this file (configuration, the loop's state, polling and reads), `startup`
//! (history, evaluation, training), `step` (one closed candle), `history` (exchange reads)
//! and `records` (a signal as a stored row).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use perpdesk_binance::{Client, ExchangeError};
use perpdesk_core::{Candle, Interval, Symbol};
use perpdesk_signal::backtest::{BacktestConfig, FundingRates};
use perpdesk_signal::{
    Model, ModelCard, Ohlcv, Record, Signal, SignalDirection, SignalError, WARMUP,
    WalkForwardConfig, default_walk_forward_1h, indicators,
};
use perpdesk_store::{Store, StoreError};
use serde::Serialize;

use crate::events::MAX_HOLD;
use crate::{AppError, Events, Outbox};

mod history;
mod records;
mod startup;
mod step;
mod tape;

use history::{closed_klines, fetch_funding, load_history, server_time};
use records::{restored_signal, stored_signal};
use startup::prepare;
use tape::CandleTape;

/// Candles the live features are computed from. The EMA-type indicators (RSI, ATR, ADX,
/// MACD) depend on where their series starts; after 1,000 bars that dependence is far below
/// 1e-9 relative, so a bounded window gives the full-history values at O(1) cost per candle.
const FEATURE_WINDOW: usize = 1_000;

/// Extra candles before the first one an overlay returns, so its EMAs have settled.
const OVERLAY_WARMUP: usize = 300;

/// Binance's largest page of klines.
const KLINES_PAGE: usize = perpdesk_binance::client::KLINES_PAGE as usize;

/// Signals kept in memory per symbol for the UI's list.
const KEEP_SIGNALS: usize = 500;

/// What the loop watches and how it decides.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalLoopConfig {
    /// Symbols to signal, each evaluated and trained on its own history.
    pub symbols: Vec<Symbol>,
    /// Candle interval; the walk-forward windows are counted in these candles.
    pub interval: Interval,
    /// A signal with a direction and at least this probability is "strong".
    pub strong_threshold: f64,
    /// Walk-forward windows and model settings (also used to train the live model).
    pub walk_forward: WalkForwardConfig,
    /// Backtest settings of the evaluation; its threshold and ATR multiples shape signals.
    pub backtest: BacktestConfig,
    /// Closed candles loaded at start (fewer when the exchange has fewer).
    pub history_candles: usize,
    /// Closed candles kept in memory; the oldest are dropped beyond this.
    pub keep_candles: usize,
    /// Retrain the live model after this many new candles; 0 never retrains.
    pub retrain_every: usize,
    /// A cached evaluation is reused while it is at most this many candles old.
    pub evaluation_max_age: usize,
    /// How often the running loop asks the exchange for its time.
    pub poll_every: Duration,
    /// Longest a pass holds its events while it awaits the exchange (see `Outbox`).
    pub hold_events: Duration,
}

impl SignalLoopConfig {
    /// The app's configuration: 1h candles, the default walk-forward windows with two test
    /// folds of history where the exchange has it, a 0.6 strong threshold, retraining daily
    /// and re-evaluating weekly.
    pub fn new(symbols: Vec<Symbol>) -> Self {
        let walk_forward = default_walk_forward_1h();
        let history_candles = min_history(&walk_forward) + walk_forward.test;
        Self {
            symbols,
            interval: Interval::H1,
            strong_threshold: 0.6,
            walk_forward,
            backtest: BacktestConfig::default(),
            history_candles,
            keep_candles: history_candles + 24 * 30,
            retrain_every: 24,
            evaluation_max_age: 24 * 7,
            poll_every: Duration::from_secs(1),
            hold_events: MAX_HOLD,
        }
    }

    fn check(&self) -> Result<(), SignalLoopError> {
        let bad = |reason: String| Err(SignalLoopError::Config(reason));
        if self.symbols.is_empty() {
            return bad("no symbol to watch".into());
        }
        if !(self.strong_threshold > 0.5 && self.strong_threshold <= 1.0) {
            return bad(format!(
                "strong threshold {} is not in (0.5, 1]",
                self.strong_threshold
            ));
        }
        if self.history_candles < min_history(&self.walk_forward) {
            return bad(format!(
                "history of {} candles is shorter than one walk-forward fold ({})",
                self.history_candles,
                min_history(&self.walk_forward)
            ));
        }
        if self.keep_candles < self.history_candles {
            return bad("keep_candles is below history_candles".into());
        }
        if self.poll_every.is_zero() {
            return bad("poll interval is zero".into());
        }
        Ok(())
    }
}

/// Candles one walk-forward fold needs: the feature warm-up, then train, embargo,
/// calibrate, embargo and test windows.
pub fn min_history(wf: &WalkForwardConfig) -> usize {
    WARMUP + wf.train + wf.embargo + wf.calibrate + wf.embargo + wf.test
}

/// Why the loop could not start or poll.
#[derive(Debug, thiserror::Error)]
pub enum SignalLoopError {
    /// The configuration cannot work.
    #[error("signal loop configuration: {0}")]
    Config(String),
    /// The exchange failed or refused a market-data read.
    #[error("{symbol}: {what}: {source}")]
    Exchange {
        /// The symbol being read ("" for the server time).
        symbol: String,
        /// What was read.
        what: &'static str,
        /// The exchange's error.
        #[source]
        source: ExchangeError,
    },
    /// The exchange returned a row that is not a candle.
    #[error("{symbol}: bad kline at {open_time_ms}: {reason}")]
    BadKline {
        /// The symbol read.
        symbol: String,
        /// The row's open time, UTC ms.
        open_time_ms: i64,
        /// What is wrong with it.
        reason: String,
    },
    /// Features, evaluation, training or scoring failed.
    #[error("{symbol}: {what}: {source}")]
    Model {
        /// The symbol concerned.
        symbol: String,
        /// The step that failed.
        what: &'static str,
        /// The signal crate's error.
        #[source]
        source: SignalError,
    },
    /// The database failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A symbol the loop does not watch was asked for.
    #[error("{0} is not a watched symbol")]
    NotWatched(String),
    /// A background computation panicked or was cancelled.
    #[error("{symbol}: {what} did not finish: {reason}")]
    Task {
        /// The symbol concerned.
        symbol: String,
        /// The computation.
        what: &'static str,
        /// The runtime's message.
        reason: String,
    },
}

impl From<SignalLoopError> for AppError {
    fn from(err: SignalLoopError) -> Self {
        match err {
            SignalLoopError::NotWatched(symbol) => AppError::InvalidInput {
                field: "symbol",
                reason: format!("{symbol} is not a watched symbol"),
            },
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// How long one symbol's start took, step by step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StartupTiming {
    pub symbol: String,
    /// Closed candles loaded.
    pub candles: usize,
    pub history: Duration,
    pub funding: Duration,
    /// Zero-ish when the cached evaluation was reused.
    pub evaluation: Duration,
    pub evaluation_cached: bool,
    pub training: Duration,
    /// From the first request to a trained model.
    pub total: Duration,
}

/// Chart overlays: `(open time ms, value)` per candle, `None` during warm-up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlays {
    pub ema20: Vec<(i64, Option<f64>)>,
    pub ema50: Vec<(i64, Option<f64>)>,
    pub bollinger_upper: Vec<(i64, Option<f64>)>,
    pub bollinger_lower: Vec<(i64, Option<f64>)>,
    pub rsi14: Vec<(i64, Option<f64>)>,
}

/// One symbol's live state.
struct Watched {
    /// Closed candles, contiguous, oldest first.
    candles: CandleTape,
    /// The kind the evaluation chose (the better out-of-sample record).
    model: Model,
    model_version: String,
    candles_since_training: usize,
    card: ModelCard,
    record: Record,
    /// Newest last.
    signals: VecDeque<Signal>,
    /// Open time of the newest signalled candle (stored by this or an earlier run).
    last_signalled: Option<DateTime<Utc>>,
    /// Settled funding rates, the `funding_bp` feature's source in evaluation, training and
    /// live scoring alike.
    funding: FundingRates,
    /// Exchange time of the last successful funding refresh, UTC ms.
    funding_checked_ms: i64,
}

struct Inner {
    config: SignalLoopConfig,
    client: Client,
    store: Store,
    events: Events,
    paused: Arc<AtomicBool>,
    watched: RwLock<HashMap<Symbol, Watched>>,
    timings: Vec<StartupTiming>,
    /// One poll at a time, so the task and a caller's `poll_once` never process the same
    /// candle twice.
    polling: tokio::sync::Mutex<()>,
}

/// The running loop; cheap to clone, every clone is the same loop.
#[derive(Clone)]
pub struct SignalLoop(Arc<Inner>);

impl std::fmt::Debug for SignalLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalLoop")
            .field("symbols", &self.0.config.symbols)
            .field("interval", &self.0.config.interval)
            .finish_non_exhaustive()
    }
}

impl SignalLoop {
    /// Loads history, evaluates (or reuses the cached evaluation), trains every symbol's
    /// model, signals each symbol's latest closed candle if it has no stored signal yet,
    /// and returns the loop ready to [`spawn`](Self::spawn) or [`poll_once`](Self::poll_once).
    ///
    /// `paused` is the app's switch, read at every candle.
    ///
    /// # Errors
    /// [`SignalLoopError::Config`] for an unworkable configuration; exchange, model and
    /// store failures of any symbol (the loop does not start half-blind).
    pub async fn start(
        config: SignalLoopConfig,
        client: Client,
        store: Store,
        events: Events,
        paused: Arc<AtomicBool>,
    ) -> Result<Self, SignalLoopError> {
        config.check()?;
        let now_ms = server_time(&client).await?;
        let mut set = tokio::task::JoinSet::new();
        for (i, symbol) in config.symbols.iter().enumerate() {
            let (config, client, store, symbol) = (
                config.clone(),
                client.clone(),
                store.clone(),
                symbol.clone(),
            );
            set.spawn(async move {
                let prepared = prepare(&config, &client, &store, &symbol, now_ms).await;
                (i, symbol, prepared)
            });
        }
        let mut prepared = Vec::new();
        while let Some(done) = set.join_next().await {
            let (i, symbol, result) = done.map_err(|e| SignalLoopError::Task {
                symbol: String::new(),
                what: "start",
                reason: e.to_string(),
            })?;
            let (watched, timing) = result?;
            prepared.push((i, symbol, watched, timing));
        }
        prepared.sort_by_key(|p| p.0);
        let mut watched = HashMap::new();
        let mut timings = Vec::new();
        for (_, symbol, w, timing) in prepared {
            tracing::info!(?timing, "signal loop: symbol ready");
            watched.insert(symbol, w);
            timings.push(timing);
        }
        let me = Self(Arc::new(Inner {
            config,
            client,
            store,
            events,
            paused,
            watched: RwLock::new(watched),
            timings,
            polling: tokio::sync::Mutex::new(()),
        }));
        {
            let _one = me.0.polling.lock().await;
            let mut out = Outbox::holding_for(&me.0.events, me.0.config.hold_events);
            for symbol in &me.0.config.symbols {
                me.signal_latest(symbol, now_ms, &mut out).await?;
            }
        }
        Ok(me)
    }

    /// Runs [`poll_once`](Self::poll_once) every `poll_every` on a task of its own, logging
    /// failures and trying again at the next tick. Abort the handle to stop it; an abort
    /// between storing a signal and emitting it loses only the event, never the row.
    pub fn spawn(&self) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(me.0.config.poll_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(error) = me.poll_once().await {
                    tracing::warn!(%error, "signal loop poll failed; retrying at the next tick");
                }
            }
        })
    }

    /// Reads the exchange's time and processes every candle that has closed since the last
    /// one held, in order: appends it, emits [`AppEvent::Candle`], and unless paused, makes,
    /// stores and emits its signal; the events of one pass are published together when it
    /// ends (before a retraining, what came before it). Returns how many candles closed.
    ///
    /// # Errors
    /// Exchange, model or store failures; candles processed before the failure stay done.
    pub async fn poll_once(&self) -> Result<usize, SignalLoopError> {
        let _one = self.0.polling.lock().await;
        let now_ms = server_time(&self.0.client).await?;
        let iv = interval_ms(self.0.config.interval);
        let mut processed = 0;
        // The pass's candles and signals go out together when it ends, or once they have
        // waited `hold_events` on the exchange (see `Outbox`).
        let mut out = Outbox::holding_for(&self.0.events, self.0.config.hold_events);
        for symbol in &self.0.config.symbols {
            let next_open = {
                let watched = self.read();
                let w = watched
                    .get(symbol)
                    .expect("every configured symbol is watched");
                w.candles.last_open().map(|t| t.timestamp_millis() + iv)
            };
            let Some(next_open) = next_open else { continue };
            // The next candle closes at next_open + iv - 1; nothing to read before that.
            if next_open + iv > now_ms {
                continue;
            }
            let missed = usize::try_from((now_ms - next_open) / iv).unwrap_or(KLINES_PAGE);
            let candles = out
                .hold_during(closed_klines(
                    &self.0.client,
                    symbol,
                    self.0.config.interval,
                    next_open,
                    missed.clamp(1, KLINES_PAGE),
                    now_ms,
                ))
                .await?;
            for candle in candles {
                self.on_close(symbol, candle, now_ms, &mut out).await?;
                processed += 1;
            }
        }
        Ok(processed)
    }

    /// Returns the watched symbols, in configuration order.
    pub fn symbols(&self) -> Vec<Symbol> {
        self.0.config.symbols.clone()
    }

    /// Returns the candle interval.
    pub fn interval(&self) -> Interval {
        self.0.config.interval
    }

    /// Returns how long each symbol's start took.
    pub fn startup_timings(&self) -> Vec<StartupTiming> {
        self.0.timings.clone()
    }

    /// Reports whether `signal` is strong: it shows a direction and its probability reaches
    /// the threshold (see the module docs for why a flat signal never is).
    pub fn is_strong(&self, signal: &Signal) -> bool {
        strong(signal, self.0.config.strong_threshold)
    }

    /// Returns the newest signal of `symbol`, if any.
    ///
    /// # Errors
    /// [`SignalLoopError::NotWatched`].
    pub fn latest_signal(&self, symbol: &Symbol) -> Result<Option<Signal>, SignalLoopError> {
        self.with(symbol, |w| w.signals.back().cloned())
    }

    /// Returns up to `limit` recent signals of `symbol`, oldest first.
    ///
    /// # Errors
    /// [`SignalLoopError::NotWatched`].
    pub fn recent_signals(
        &self,
        symbol: &Symbol,
        limit: usize,
    ) -> Result<Vec<Signal>, SignalLoopError> {
        self.with(symbol, |w| {
            let skip = w.signals.len().saturating_sub(limit);
            w.signals.iter().skip(skip).cloned().collect()
        })
    }

    /// Returns the model card of `symbol`'s evaluation.
    ///
    /// # Errors
    /// [`SignalLoopError::NotWatched`].
    pub fn model_card(&self, symbol: &Symbol) -> Result<ModelCard, SignalLoopError> {
        self.with(symbol, |w| w.card.clone())
    }

    /// Returns the model card of `symbol` as the JSON the UI renders.
    ///
    /// # Errors
    /// [`SignalLoopError::NotWatched`].
    pub fn model_card_json(&self, symbol: &Symbol) -> Result<serde_json::Value, SignalLoopError> {
        self.with(symbol, |w| {
            serde_json::to_value(&w.card).unwrap_or_else(|error| {
                // A card is plain numbers and strings; failing here means a non-finite
                // float slipped in, which the UI can live without.
                tracing::error!(%error, "model card is not serialisable");
                serde_json::Value::Null
            })
        })
    }

    /// Returns the version string of `symbol`'s live model.
    ///
    /// # Errors
    /// [`SignalLoopError::NotWatched`].
    pub fn model_version(&self, symbol: &Symbol) -> Result<String, SignalLoopError> {
        self.with(symbol, |w| w.model_version.clone())
    }

    /// Returns up to `limit` of the newest closed candles of `symbol`, oldest first.
    ///
    /// # Errors
    /// [`SignalLoopError::NotWatched`].
    pub fn candles(&self, symbol: &Symbol, limit: usize) -> Result<Vec<Candle>, SignalLoopError> {
        self.with(symbol, |w| w.candles.newest(limit))
    }

    /// Returns EMA20, EMA50, Bollinger(20, 2) bands and RSI14 for the newest `limit`
    /// candles of `symbol`, computed with earlier candles as warm-up.
    ///
    /// # Errors
    /// [`SignalLoopError::NotWatched`], or [`SignalLoopError::Model`] when the candles do
    /// not convert.
    pub fn overlays(&self, symbol: &Symbol, limit: usize) -> Result<Overlays, SignalLoopError> {
        let window = self.candles(symbol, limit.saturating_add(OVERLAY_WARMUP))?;
        let model_err = |source| SignalLoopError::Model {
            symbol: symbol.to_string(),
            what: "overlays",
            source,
        };
        let x = Ohlcv::from_candles(&window, self.0.config.interval).map_err(model_err)?;
        let skip = x.len().saturating_sub(limit);
        let times: Vec<i64> = x.open_time.iter().map(DateTime::timestamp_millis).collect();
        let pair = |series: Vec<Option<f64>>| -> Vec<(i64, Option<f64>)> {
            times.iter().copied().zip(series).skip(skip).collect()
        };
        let bands = indicators::bollinger(&x.close, 20, 2.0).map_err(model_err)?;
        Ok(Overlays {
            ema20: pair(indicators::ema(&x.close, 20).map_err(model_err)?),
            ema50: pair(indicators::ema(&x.close, 50).map_err(model_err)?),
            bollinger_upper: pair(bands.upper),
            bollinger_lower: pair(bands.lower),
            rsi14: pair(indicators::rsi(&x.close, 14).map_err(model_err)?),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<Symbol, Watched>> {
        // A panic while holding the lock leaves plain data behind, still worth serving.
        self.0
            .watched
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<Symbol, Watched>> {
        self.0
            .watched
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn with<T>(
        &self,
        symbol: &Symbol,
        f: impl FnOnce(&Watched) -> T,
    ) -> Result<T, SignalLoopError> {
        self.read()
            .get(symbol)
            .map(f)
            .ok_or_else(|| SignalLoopError::NotWatched(symbol.to_string()))
    }
}

fn strong(signal: &Signal, threshold: f64) -> bool {
    signal.direction != SignalDirection::Flat && signal.probability >= threshold
}

fn utc(ms: i64, symbol: &Symbol) -> Result<DateTime<Utc>, SignalLoopError> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| SignalLoopError::BadKline {
            symbol: symbol.to_string(),
            open_time_ms: ms,
            reason: "time out of range".into(),
        })
}

fn interval_ms(interval: Interval) -> i64 {
    interval.minutes() * 60_000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols() -> Vec<Symbol> {
        vec![Symbol::new("BTCUSDT").expect("symbol")]
    }

    #[test]
    fn default_config_loads_two_test_folds_of_history_and_is_valid() {
        let c = SignalLoopConfig::new(symbols());
        assert_eq!(c.interval, Interval::H1);
        assert!((c.strong_threshold - 0.6).abs() < f64::EPSILON);
        assert_eq!(
            c.history_candles,
            WARMUP + 4_380 + 4 + 1_460 + 4 + 2_190 + 2_190
        );
        assert!(c.check().is_ok());
    }

    #[test]
    fn refuses_unworkable_configs() {
        let ok = SignalLoopConfig::new(symbols());
        let cases = [
            SignalLoopConfig {
                symbols: Vec::new(),
                ..ok.clone()
            },
            SignalLoopConfig {
                strong_threshold: 0.5,
                ..ok.clone()
            },
            SignalLoopConfig {
                history_candles: 100,
                ..ok.clone()
            },
            SignalLoopConfig {
                keep_candles: ok.history_candles - 1,
                ..ok.clone()
            },
            SignalLoopConfig {
                poll_every: Duration::ZERO,
                ..ok.clone()
            },
        ];
        for c in cases {
            assert!(
                matches!(c.check(), Err(SignalLoopError::Config(_))),
                "{c:?}"
            );
        }
    }

    fn signal(direction: SignalDirection, probability: f64) -> Signal {
        Signal {
            symbol: "BTCUSDT".into(),
            time: Utc.timestamp_millis_opt(0).single().expect("time"),
            direction,
            probability,
            p_up: probability,
            entry: 1.0,
            take_profit: 2.0,
            stop_loss: 0.5,
            horizon_bars: 4,
            model_version: "v".into(),
            record: Record {
                brier: 0.2,
                base_rate_brier: 0.25,
                accuracy: 0.55,
                model_net_pnl_pct: 1.0,
                model_sharpe: 1.0,
                model_max_drawdown_pct: 1.0,
                model_trades: 3,
                model_win_rate: 0.5,
                best_baseline: "buy_and_hold".into(),
                best_baseline_net_pnl_pct: 0.5,
                beats_baselines: true,
                beats_base_rate: true,
                verdict: None,
            },
        }
    }

    #[test]
    fn strong_needs_a_direction_and_the_threshold() {
        assert!(strong(&signal(SignalDirection::Long, 0.6), 0.6));
        assert!(strong(&signal(SignalDirection::Short, 0.7), 0.6));
        assert!(!strong(&signal(SignalDirection::Long, 0.59), 0.6));
        assert!(!strong(&signal(SignalDirection::Flat, 0.9), 0.6));
    }

    #[test]
    fn a_stored_signal_round_trips_in_full() {
        let s = signal(SignalDirection::Short, 0.64);
        let symbol = Symbol::new("BTCUSDT").expect("symbol");
        let row = stored_signal(
            &symbol,
            Interval::H1,
            &s,
            &[0.5; perpdesk_signal::N_FEATURES],
            3_600_000,
        )
        .expect("row");
        assert_eq!(row.direction, perpdesk_store::Direction::Short);
        assert_eq!(row.candle_open_time, s.time);
        assert_eq!(
            row.features
                .as_ref()
                .and_then(|f| f["features"]["rsi14"].as_f64()),
            Some(0.5)
        );
        assert_eq!(restored_signal(&row), Some(s));
    }

    #[test]
    fn not_watched_is_the_callers_mistake() {
        let err: AppError = SignalLoopError::NotWatched("DOGEUSDT".into()).into();
        assert_eq!(err.code(), crate::ErrorCode::InvalidInput);
        let err: AppError = SignalLoopError::Config("x".into()).into();
        assert_eq!(err.code(), crate::ErrorCode::Internal);
    }
}
