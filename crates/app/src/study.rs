//! The signal families in the app: the study of the shipped strategy on the exchange's own
//! candles, kept for the day, and what the signals panel and a one-click order read from it.
//!
//! At start and after every daily close (00:00 UTC of the exchange's clock, so the paper
//! replay's day counts) the engine reads the 1h klines and the settled funding of the
//! universe through the market client, builds `perpdesk_signal::universe::Universe` from
//! them (never from files: on a user's machine this is Binance), walks each symbol's 1h
//! models forward, and runs `perpdesk_signal::study::study` with the shipped strategy file
//! and those model books on a blocking thread. The report is cached in the store keyed by
//! the strategy's SHA-256 and the data's end, so a restart on the same day reads it back
//! instead of computing it again. This file fetches,
//! computes and caches; `view` turns the report into what `signal_study` shows and `tickets`
//! into each family's signal at the account's equity and its one-click ticket.
//!
//! Invariants:
//! - The report only ever covers whole UTC days that have closed: candles are read up to the
//!   last 00:00 UTC before the exchange's time, so a daily family never sees a forming bar.
//! - A family's signal is shown Flat exactly where the study's verdict finds no edge; the
//!   record and the reasons are shown either way. A suggested size exists only where the
//!   family's book holds a position, and the risk limits cap it before any preview.
//! - Every family of the shipped strategy is in the study, the 1h model families included:
//!   each symbol's 1h walk-forward (the CLI's `model_family::walk_forward_books`, the same
//!   windows as the signal loop's model card) becomes one book across the universe, judged
//!   like the rules. It runs once a day with the study and is cached with it; measured at
//!   21 s for 26 symbols × 730 days in a debug build (perpdesk-signal at opt-level 2, load 8
//!   on 2 cores), plus 4 s for the two 1h books' edge test. The signal loop's own per-symbol
//!   evaluations cover two test folds, not the study's days, so they are not reused.
//! - A cached report is used only when its strategy, its day and its [`CACHE_FORMAT`] match;
//!   an unreadable cache is computed again, never an error.

use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, Duration, DurationRound, Utc};
use perpdesk_core::Symbol;
use perpdesk_signal::backtest::BacktestConfig;
use perpdesk_signal::bars::Window;
use perpdesk_signal::edge::TrialLog;
use perpdesk_signal::model_family::{hourly_panel, walk_forward_books};
use perpdesk_signal::strategy::{LoadedStrategy, Strategy};
use perpdesk_signal::study::{StudyReport, study};
use perpdesk_signal::universe::{FundingSeries, Hourly, SymbolSeries, Universe};
use perpdesk_signal::{SignalError, default_walk_forward_1h};
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::{AppError, AppEvent, Engine};

mod tickets;
mod view;

pub use tickets::{FamilySignalView, SuggestedTicket};
pub use view::{
    BasketView, CurveView, FamilyView, PortfolioView, RecordView, StudyView, UniverseSymbolView,
};

/// The strategy file the app ships, compiled in.
pub const SHIPPED_STRATEGY: &str = include_str!("../../signal/strategies/perpdesk-v2.json");

/// Days of 1h candles read per symbol: the longest rule looks back 120 days, and the edge
/// test needs well over a year of daily returns to say anything.
pub const HISTORY_DAYS: i64 = 730;

/// Days at the start of the history the record leaves out: the 120-day horizon and the 20
/// returns that seed the volatility estimate, so no family is scored on days it could not
/// have held a position.
pub const WARMUP_DAYS: i64 = 150;

/// Most symbols the study reads. Binance lists hundreds; the universe is the watchlist first,
/// then the exchange's list in its order, up to this many (the universe is ~30).
pub const MAX_UNIVERSE: usize = 40;

/// Points a curve keeps on its way to the UI (a sparkline, not the record).
pub const VIEW_CURVE_POINTS: usize = 120;

const CACHE: &str = "signal.study";

/// The cached report's form: 2 since the study holds the 1h model families, so a report
/// cached before them is computed again rather than shown without them; 3 since the 1h GBDT
/// cuts its features into 63 bins (`docs/signals.md` Part 4), whose record differs from the
/// 255-bin model's under the same strategy file.
pub const CACHE_FORMAT: u32 = 3;

/// Why the study could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// The exchange did not give the candles or funding.
    #[error("{what} of {symbol}: {source}")]
    Exchange {
        symbol: String,
        what: &'static str,
        #[source]
        source: perpdesk_binance::ExchangeError,
    },
    /// The data or the strategy was refused by the signal crate.
    #[error("study: {0}")]
    Signal(#[from] SignalError),
    /// Too little history to judge anything.
    #[error("the exchange has {days} days of history; the study needs at least {needed}")]
    TooLittleHistory { days: i64, needed: i64 },
    /// The blocking task died.
    #[error("study task: {0}")]
    Task(String),
}

impl From<StudyError> for AppError {
    fn from(e: StudyError) -> Self {
        match e {
            StudyError::Exchange { source, .. } => AppError::Exchange(source),
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// The report in memory and how far a running study is.
#[derive(Debug, Default)]
pub(crate) struct StudyCell {
    state: RwLock<StudyState>,
    /// One study at a time: a second caller waits and then finds the report made.
    running: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default, Clone)]
struct StudyState {
    report: Option<Arc<StudyReport>>,
    /// Steps done and total of a running study.
    progress: Option<(u32, u32)>,
    error: Option<String>,
}

impl StudyCell {
    fn read(&self) -> StudyState {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn update(&self, f: impl FnOnce(&mut StudyState)) {
        f(&mut self.state.write().unwrap_or_else(PoisonError::into_inner));
    }
}

/// What the store keeps between runs.
#[derive(Debug, Serialize, Deserialize)]
struct Cached {
    /// [`CACHE_FORMAT`] of the report (absent, so 0, before the 1h model families).
    #[serde(default)]
    format: u32,
    sha256: String,
    data_end_ms: i64,
    report: StudyReport,
}

/// The shipped strategy, parsed.
///
/// # Errors
/// What [`Strategy::from_json`] refuses (a broken build).
pub fn shipped_strategy() -> Result<LoadedStrategy, SignalError> {
    Strategy::from_json(SHIPPED_STRATEGY)
}

/// The end of the data a study at `now` covers: the last 00:00 UTC at or before it.
pub fn data_end(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(Duration::days(1)).unwrap_or(now)
}

/// One symbol as the exchange gave it: 1h candles and settled funding rates.
pub type SymbolHistory = (
    Symbol,
    Vec<perpdesk_core::Candle>,
    Vec<(DateTime<Utc>, f64)>,
);

/// Builds the universe from what the exchange gave: each symbol's 1h candles and its settled
/// funding rates (an empty series reads as Binance's default rate, as the crate documents).
///
/// # Errors
/// What the signal crate refuses in the candles or rates.
pub fn universe_of(series: Vec<SymbolHistory>) -> Result<Universe, SignalError> {
    let mut symbols = Vec::with_capacity(series.len());
    for (symbol, candles, funding) in series {
        symbols.extend(symbol_series(&symbol, candles, &funding)?);
    }
    Ok(universe_from(symbols))
}

/// One symbol's part of the universe, or `None` without candles. The study converts each
/// symbol as it arrives: 28 symbols' two years as `Decimal` candles would be ~47 MB at once,
/// and the heap they leave behind stays with the process.
fn symbol_series(
    symbol: &Symbol,
    candles: Vec<perpdesk_core::Candle>,
    funding: &[(DateTime<Utc>, f64)],
) -> Result<Option<SymbolSeries>, SignalError> {
    let hourly = Hourly::from_candles(symbol.as_str(), candles)?;
    if hourly.is_empty() {
        return Ok(None);
    }
    Ok(Some(SymbolSeries {
        symbol: symbol.to_string(),
        hourly,
        funding: FundingSeries::new(symbol.as_str(), funding)?,
    }))
}

fn universe_from(mut symbols: Vec<SymbolSeries>) -> Universe {
    symbols.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    Universe {
        symbols,
        funding_without_candles: vec![],
    }
}

/// The window a study of `universe` ending at `end` scores: whole days after the warm-up.
///
/// # Errors
/// [`StudyError::TooLittleHistory`] when fewer than 60 days would be scored.
pub fn window_of(universe: &Universe, end: DateTime<Utc>) -> Result<Window, StudyError> {
    let needed = WARMUP_DAYS + 60;
    let Some((first, _)) = universe.span() else {
        return Err(StudyError::TooLittleHistory { days: 0, needed });
    };
    let from = data_end(first) + Duration::days(WARMUP_DAYS);
    let days = (end - data_end(first)).num_days();
    if days < needed {
        return Err(StudyError::TooLittleHistory { days, needed });
    }
    Ok(Window {
        from,
        to: end - Duration::milliseconds(1),
    })
}

/// The study's symbols: the watched ones the exchange lists, then the rest of its list in
/// its order, at most [`MAX_UNIVERSE`]. A watched symbol the exchange no longer (or not yet)
/// lists has no candles to read; it is left out rather than failing the whole study.
fn universe_order(watched: Vec<Symbol>, listed: Vec<Symbol>) -> Vec<Symbol> {
    let mut list: Vec<Symbol> = watched
        .into_iter()
        .filter(|s| listed.contains(s))
        .take(MAX_UNIVERSE)
        .collect();
    for s in listed {
        if list.len() >= MAX_UNIVERSE {
            break;
        }
        if !list.contains(&s) {
            list.push(s);
        }
    }
    list
}

impl Engine {
    /// The report of today's study, computing it (or reading it from the store's cache) when
    /// the one in memory is not for the strategy and day the exchange's clock says.
    /// Progress goes out as [`AppEvent::StudyProgress`], the end as [`AppEvent::StudyReady`].
    ///
    /// # Errors
    /// Exchange, store and signal failures; the previous report stays in use.
    pub async fn ensure_study(&self) -> Result<Arc<StudyReport>, AppError> {
        let _one = self.study.running.lock().await;
        let strategy = shipped_strategy().map_err(StudyError::from)?;
        let client = self.market_client().await?;
        let now = client.server_time().await?;
        let end = data_end(now);
        let current = self.study.read().report;
        if let Some(r) = current.filter(|r| {
            r.strategy.sha256 == strategy.sha256 && r.to == end - Duration::milliseconds(1)
        }) {
            return Ok(r);
        }
        let cached = self
            .store
            .setting::<Cached>(CACHE)
            .await
            .unwrap_or_else(|error| {
                // A cache that no longer parses is only a cache: the study is made again.
                tracing::warn!(%error, "ignoring an unreadable cached family study");
                None
            });
        if let Some(c) = cached
            && c.format == CACHE_FORMAT
            && c.sha256 == strategy.sha256
            && c.data_end_ms == end.timestamp_millis()
        {
            return Ok(self.publish(c.report, end));
        }
        match self.compute_study(&client, strategy.clone(), end).await {
            Ok(report) => {
                let cached = Cached {
                    format: CACHE_FORMAT,
                    sha256: strategy.sha256.clone(),
                    data_end_ms: end.timestamp_millis(),
                    report,
                };
                self.store.put_setting(CACHE, &cached, now).await?;
                Ok(self.publish(cached.report, end))
            }
            Err(e) => {
                self.study.update(|s| {
                    s.progress = None;
                    s.error = Some(e.to_string());
                });
                Err(e)
            }
        }
    }

    fn publish(&self, report: StudyReport, end: DateTime<Utc>) -> Arc<StudyReport> {
        let report = Arc::new(report);
        self.study.update(|s| {
            s.report = Some(report.clone());
            s.progress = None;
            s.error = None;
        });
        self.events.emit(AppEvent::StudyReady {
            data_end_ms: end.timestamp_millis(),
            passing: u32::try_from(report.portfolio.members.len()).unwrap_or(u32::MAX),
        });
        report
    }

    async fn study_universe(
        &self,
        client: &perpdesk_binance::Client,
    ) -> Result<Vec<Symbol>, AppError> {
        let listed = client.listed_symbols().await?;
        Ok(universe_order(self.watchlist_symbols().await?, listed))
    }

    async fn compute_study(
        &self,
        client: &perpdesk_binance::Client,
        strategy: LoadedStrategy,
        end: DateTime<Utc>,
    ) -> Result<StudyReport, AppError> {
        let symbols = self.study_universe(client).await?;
        let fetched = symbols.len();
        // A step per symbol's history, one per symbol's 1h model walk-forward, one for the
        // families and the edge test.
        let total = u32::try_from(2 * fetched + 1).unwrap_or(u32::MAX);
        let progress = |done: u32, stage: String| {
            self.study.update(|s| s.progress = Some((done, total)));
            self.events
                .emit(AppEvent::StudyProgress { done, total, stage });
        };
        progress(0, "klines".into());
        let start = end - Duration::days(HISTORY_DAYS);
        let mut series = Vec::with_capacity(symbols.len());
        for (i, symbol) in symbols.into_iter().enumerate() {
            let exchange = |what| {
                let symbol = symbol.to_string();
                move |source| StudyError::Exchange {
                    symbol,
                    what,
                    source,
                }
            };
            let candles = client
                .closed_candles_since(&symbol, perpdesk_core::Interval::H1, start, end)
                .await
                .map_err(exchange("klines"))?;
            let funding: Vec<(DateTime<Utc>, f64)> = client
                .funding_since(&symbol, start, end - Duration::milliseconds(1))
                .await
                .map_err(exchange("funding rates"))?
                .iter()
                .filter_map(|r| r.rate.to_f64().map(|rate| (r.time, rate)))
                .collect();
            progress(u32::try_from(i + 1).unwrap_or(u32::MAX), symbol.to_string());
            series.extend(symbol_series(&symbol, candles, &funding).map_err(StudyError::from)?);
        }
        let (models_done, mut models_progress) = tokio::sync::mpsc::unbounded_channel();
        let task = crate::background::run(
            "perpdesk-study",
            move || -> Result<StudyReport, StudyError> {
                let universe = universe_from(series);
                let window = window_of(&universe, end)?;
                let log = TrialLog::shipped()?;
                let panel = hourly_panel(&universe)?;
                let models = walk_forward_books(
                    &universe,
                    &panel,
                    &strategy.strategy.model_1h.kinds,
                    default_walk_forward_1h(),
                    BacktestConfig::default(),
                    &mut |done, _| {
                        // The receiver lives until this task ends; a closed one only means
                        // nobody watches the progress.
                        let _ = models_done.send(done);
                    },
                )?;
                Ok(study(&universe, &strategy, window, &log, models)?)
            },
        );
        // The sender is dropped with the task's closure, which ends this loop.
        while let Some(done) = models_progress.recv().await {
            progress(
                u32::try_from(fetched + done).unwrap_or(u32::MAX),
                "1h models".into(),
            );
        }
        let report = task.await.map_err(|e| StudyError::Task(e.to_string()))??;
        progress(total, "study".into());
        Ok(report)
    }

    /// The families table, the portfolio, the basket and the universe for the UI. While the
    /// first study runs it says `computing` with its progress.
    ///
    /// # Errors
    /// None today; the signature leaves room for the store.
    pub async fn study_view(&self) -> Result<StudyView, AppError> {
        Ok(view::view(&self.study.read()))
    }

    fn study_report(&self) -> Result<Arc<StudyReport>, AppError> {
        self.study.read().report.ok_or_else(|| {
            AppError::NotFound("the family study (it is still computing; try again shortly)".into())
        })
    }

    /// Keeps the study current: at once, then whenever the exchange's clock has passed
    /// another 00:00 UTC (checked every `every`). Failures are logged and tried again.
    pub fn spawn_study(
        self: &Arc<Self>,
        every: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(error) = me.ensure_study().await {
                    tracing::warn!(%error, "family study failed; trying again");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn the_data_ends_at_the_last_utc_midnight() {
        assert_eq!(
            data_end(t("2023-05-02T13:45:00Z")),
            t("2023-05-02T00:00:00Z")
        );
        assert_eq!(
            data_end(t("2023-05-02T00:00:00Z")),
            t("2023-05-02T00:00:00Z")
        );
    }

    #[test]
    fn the_universe_is_the_listed_watchlist_then_the_exchanges_list() {
        let syms = |v: &[&str]| -> Vec<Symbol> {
            v.iter().map(|s| Symbol::new(s).expect("symbol")).collect()
        };
        let got = universe_order(
            syms(&["SOLUSDT", "GONEUSDT", "BTCUSDT"]),
            syms(&["BTCUSDT", "ETHUSDT", "SOLUSDT"]),
        );
        assert_eq!(got, syms(&["SOLUSDT", "BTCUSDT", "ETHUSDT"]));
        let many: Vec<String> = (0..MAX_UNIVERSE + 5).map(|i| format!("S{i}USDT")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(universe_order(vec![], syms(&many)).len(), MAX_UNIVERSE);
    }

    #[test]
    fn the_shipped_strategy_parses() {
        let s = shipped_strategy().expect("shipped strategy");
        assert_eq!(s.strategy.name, "perpdesk");
        assert!(!s.strategy.families.is_empty());
    }

    #[test]
    fn refuses_a_study_of_too_little_history() {
        let candles = (0..24 * 30)
            .map(|h| perpdesk_core::Candle {
                open_time: t("2023-01-01T00:00:00Z") + Duration::hours(h),
                open: Decimal::ONE_HUNDRED,
                high: Decimal::ONE_HUNDRED,
                low: Decimal::ONE_HUNDRED,
                close: Decimal::ONE_HUNDRED,
                volume: Decimal::ONE,
            })
            .collect();
        let u = universe_of(vec![(
            Symbol::new("BTCUSDT").expect("sym"),
            candles,
            vec![],
        )])
        .expect("universe");
        let err = window_of(&u, t("2023-01-31T00:00:00Z")).expect_err("30 days is too little");
        assert!(matches!(err, StudyError::TooLittleHistory { days: 30, .. }));
    }
}
