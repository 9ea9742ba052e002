//! The signal families in the app: the study of the shipped strategy on the exchange's own
//! candles, kept for the day, and what the signals panel and a one-click order read from it.
//!
//! At start and after every daily close (00:00 UTC of the exchange's clock, so the paper
//! replay's day counts) the engine reads the 1h klines and the settled funding of the
//! universe through the market client, builds `perpdesk_signal::universe::Universe` from
//! them (never from files: on a user's machine this is Binance), and runs
//! `perpdesk_signal::study::study` with the shipped strategy file on a blocking thread. The
//! report is cached in the store keyed by the strategy's SHA-256 and the data's end, so a
//! restart on the same day reads it back instead of computing it again.
//!
//! Invariants:
//! - The report only ever covers whole UTC days that have closed: candles are read up to the
//!   last 00:00 UTC before the exchange's time, so a daily family never sees a forming bar.
//! - A family's signal is shown Flat exactly where the study's verdict finds no edge; the
//!   record and the reasons are shown either way. A suggested size exists only where the
//!   family's book holds a position, and the risk limits cap it before any preview.
//! - The 1h model families are not part of the app's study: the signal loop evaluates and
//!   shows the 1h models per symbol (its model card), and a walk-forward of every listed
//!   symbol's models at every start would take minutes.

use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, Duration, DurationRound, Utc};
use perpdesk_core::plan::{EntryType, Ticket};
use perpdesk_core::{MarginType, Side, Symbol};
use perpdesk_signal::SignalDirection;
use perpdesk_signal::SignalError;
use perpdesk_signal::bars::Window;
use perpdesk_signal::edge::{FlatReason, TrialLog};
use perpdesk_signal::portfolio::Curve;
use perpdesk_signal::sizing::{Limits, suggest};
use perpdesk_signal::strategy::{LoadedStrategy, Strategy};
use perpdesk_signal::study::{FamilyRecord, LatestSignal, StudyReport, study};
use perpdesk_signal::universe::{FundingSeries, Hourly, SymbolSeries, Universe};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::{Deserialize, Serialize};

use crate::trading::PreviewView;
use crate::{AppError, AppEvent, Engine};

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

/// A curve as the UI draws it: millisecond times, downsampled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurveView {
    pub t: Vec<i64>,
    pub equity: Vec<f64>,
    pub drawdown: Vec<f64>,
    pub exposure: Vec<f64>,
}

impl CurveView {
    fn of(c: &Curve) -> Self {
        let c = c.downsample(VIEW_CURVE_POINTS);
        Self {
            t: c.times.iter().map(DateTime::timestamp_millis).collect(),
            equity: c.equity,
            drawdown: c.drawdown,
            exposure: c.exposure,
        }
    }
}

/// A family's record as the table shows it (the edge test's numbers on the universe book).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordView {
    /// True only when every criterion of the edge test holds.
    pub edge: bool,
    /// Why the family is flat (stable codes the UI translates), empty with an edge.
    pub reasons: Vec<FlatReason>,
    pub sharpe: f64,
    pub sharpe_lower: f64,
    pub sharpe_upper: f64,
    pub interval_level: f64,
    pub sortino: Option<f64>,
    pub max_drawdown: f64,
    pub total_return: f64,
    /// Percentile among the random-timing nulls.
    pub percentile: f64,
    /// The deflated Sharpe ratio's p-value.
    pub dsr_p: f64,
    pub trades: usize,
    pub turnover_per_year: f64,
    pub exposure: f64,
    /// Buy-and-hold of the equal-weight basket over the same days.
    pub benchmark_sharpe: f64,
    pub benchmark_max_drawdown: f64,
    pub benchmark_total_return: f64,
}

impl RecordView {
    fn of(v: &perpdesk_signal::edge::Verdict) -> Self {
        Self {
            edge: v.edge,
            reasons: v.reasons.clone(),
            sharpe: v.strategy.sharpe,
            sharpe_lower: v.interval.lower,
            sharpe_upper: v.interval.upper,
            interval_level: v.interval.level,
            sortino: v.strategy.sortino,
            max_drawdown: v.strategy.max_drawdown,
            total_return: v.strategy.total_return,
            percentile: v.random_timing.percentile,
            dsr_p: v.deflated.p_value,
            trades: v.activity.trades,
            turnover_per_year: v.activity.turnover_per_year,
            exposure: v.activity.exposure,
            benchmark_sharpe: v.benchmark.sharpe,
            benchmark_max_drawdown: v.benchmark.max_drawdown,
            benchmark_total_return: v.benchmark.total_return,
        }
    }
}

/// One family in the study table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyView {
    pub id: String,
    /// The rule's name (`trend_momentum`, ...).
    pub rule: Option<String>,
    pub horizon_days: f64,
    pub record: RecordView,
    /// When the family decides again, UTC ms.
    pub next_decision_ms: Option<i64>,
    /// Symbols the book holds at the last close (long or short), whatever the verdict.
    pub holding: usize,
    pub curve: CurveView,
}

/// The equal-risk portfolio of the families that pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortfolioView {
    /// Families in it; empty when nothing passes, and the portfolio is then flat.
    pub members: Vec<String>,
    pub flat: bool,
    pub aim_met: bool,
    pub record: Option<RecordView>,
    pub curve: Option<CurveView>,
}

/// The equal-weight basket, every family's benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BasketView {
    pub sharpe: f64,
    pub max_drawdown: f64,
    pub total_return: f64,
    pub curve: CurveView,
}

/// A symbol of the universe and its funding carry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UniverseSymbolView {
    pub symbol: String,
    pub first_ms: i64,
    pub last_ms: i64,
    pub candles: usize,
    pub missing_hours: i64,
    /// What a long pays per year at the last 7 days' funding pace (negative: receives).
    pub carry_annualised: Option<f64>,
    /// The carry is the real series (not Binance's default rate).
    pub carry_real: Option<bool>,
}

/// The `signal_study` reply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudyView {
    /// `ready`, `computing` (with `progress`) or `failed` (with `error`).
    pub state: &'static str,
    /// Steps done and total while computing.
    pub progress: Option<(u32, u32)>,
    pub error: Option<String>,
    pub strategy: Option<String>,
    pub strategy_sha256: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub trials: Option<usize>,
    pub families: Vec<FamilyView>,
    pub portfolio: Option<PortfolioView>,
    pub basket: Option<BasketView>,
    pub symbols: Vec<UniverseSymbolView>,
}

/// A family's signal for one symbol, with its size and stop at the account's equity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilySignalView {
    pub family: String,
    pub symbol: String,
    pub horizon_days: f64,
    /// `long`/`short` only where the family has an edge, else `flat`.
    pub direction: &'static str,
    /// The book's side whatever the verdict (`flat` without a position): shown as unproven.
    pub lean: &'static str,
    /// The book's signed weight (fraction of equity).
    pub weight: f64,
    pub annual_vol: Option<f64>,
    /// `|weight| × equity`, before the risk limits; `None` without an account.
    pub suggested_notional: Option<Decimal>,
    /// The equity the notional is computed at: the account's margin balance (wallet plus
    /// unrealised PnL, Binance's `totalMarginBalance`).
    pub equity: Option<Decimal>,
    /// The volatility stop from the last daily close, on the symbol's tick.
    pub stop_price: Option<Decimal>,
    pub stop_distance: Option<f64>,
    pub stop_capped: Option<bool>,
    /// The close the signal is for and the next decision, UTC ms.
    pub time_ms: i64,
    pub next_decision_ms: i64,
    /// The family's record on the universe book (the verdict behind `direction`).
    pub record: RecordView,
    /// This symbol's share of the book (shown, never used to choose).
    pub symbol_sharpe: Option<f64>,
    pub symbol_max_drawdown: Option<f64>,
    pub symbol_trades: Option<usize>,
    pub symbol_buy_and_hold_sharpe: Option<f64>,
}

/// A one-click ticket made from a family's signal, with the preview of exactly that ticket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuggestedTicket {
    /// The ticket the preview was made of; the UI may change size and stop and preview again.
    pub ticket: Ticket,
    pub family: String,
    pub weight: f64,
    /// The equity the size targets: the margin balance (wallet plus unrealised PnL), not the
    /// available balance, which open positions' margin would shrink.
    pub equity: Decimal,
    /// `|weight| × equity` before the risk limits.
    pub target_notional: Decimal,
    /// The risk limits that made the ticket smaller or its stop closer (`max_position_notional`,
    /// `max_total_notional`, `max_stop_distance_pct`).
    pub capped_by: Vec<&'static str>,
    pub stop_distance: f64,
    /// True when the family has no edge: the size follows an unproven lean.
    pub unproven: bool,
    pub preview: PreviewView,
}

fn direction_name(d: SignalDirection) -> &'static str {
    match d {
        SignalDirection::Long => "long",
        SignalDirection::Short => "short",
        SignalDirection::Flat => "flat",
    }
}

fn lean_name(weight: f64) -> &'static str {
    if weight > 0.0 {
        "long"
    } else if weight < 0.0 {
        "short"
    } else {
        "flat"
    }
}

fn rule_name(f: &FamilyRecord) -> Option<String> {
    let v = serde_json::to_value(f.rule.as_ref()?).ok()?;
    v.get("rule")?.as_str().map(str::to_owned)
}

/// The study view of a report (or of a study still running).
fn view(state: &StudyState) -> StudyView {
    let Some(r) = &state.report else {
        return StudyView {
            state: if state.error.is_some() {
                "failed"
            } else {
                "computing"
            },
            progress: state.progress,
            error: state.error.clone(),
            strategy: None,
            strategy_sha256: None,
            from_ms: None,
            to_ms: None,
            trials: None,
            families: vec![],
            portfolio: None,
            basket: None,
            symbols: vec![],
        };
    };
    let families = r
        .families
        .iter()
        .map(|f| FamilyView {
            id: f.id.clone(),
            rule: rule_name(f),
            horizon_days: f.horizon_days,
            record: RecordView::of(&f.verdict),
            next_decision_ms: f.latest.first().map(|l| l.next_decision.timestamp_millis()),
            holding: f.latest.iter().filter(|l| l.weight != 0.0).count(),
            curve: CurveView::of(&f.curve),
        })
        .collect();
    let p = &r.portfolio;
    let symbols = r
        .symbols
        .iter()
        .map(|s| {
            let carry = r.carry.iter().find(|c| c.symbol == s.symbol);
            UniverseSymbolView {
                symbol: s.symbol.clone(),
                first_ms: s.first_candle.timestamp_millis(),
                last_ms: s.last_candle.timestamp_millis(),
                candles: s.candles,
                missing_hours: s.missing_hours,
                carry_annualised: carry.map(|c| c.carry.annualised),
                carry_real: carry.map(|c| c.carry.real),
            }
        })
        .collect();
    StudyView {
        state: "ready",
        progress: state.progress,
        error: state.error.clone(),
        strategy: Some(format!("{}-v{}", r.strategy.name, r.strategy.version)),
        strategy_sha256: Some(r.strategy.sha256.clone()),
        from_ms: Some(r.from.timestamp_millis()),
        to_ms: Some(r.to.timestamp_millis()),
        trials: Some(r.trials.n),
        families,
        portfolio: Some(PortfolioView {
            members: p.members.clone(),
            flat: p.members.is_empty(),
            aim_met: p.aim_met,
            record: p.verdict.as_ref().map(RecordView::of),
            curve: p.curve.as_ref().map(CurveView::of),
        }),
        basket: Some(BasketView {
            sharpe: r.basket.stats.sharpe,
            max_drawdown: r.basket.stats.max_drawdown,
            total_return: r.basket.stats.total_return,
            curve: CurveView::of(&r.basket.curve),
        }),
        symbols,
    }
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
        let hourly = Hourly::from_candles(symbol.as_str(), candles)?;
        if hourly.is_empty() {
            continue;
        }
        symbols.push(SymbolSeries {
            symbol: symbol.to_string(),
            hourly,
            funding: FundingSeries::new(symbol.as_str(), &funding)?,
        });
    }
    symbols.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    Ok(Universe {
        symbols,
        funding_without_candles: vec![],
    })
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

/// Rounds a stop to the tick towards the entry, so rounding never widens it past a limit.
fn stop_on_tick(stop: f64, long: bool, tick: Decimal) -> Option<Decimal> {
    let p = Decimal::from_f64(stop)?;
    if tick.is_zero() {
        return Some(p.round_dp(8));
    }
    let units = p / tick;
    let units = if long { units.ceil() } else { units.floor() };
    Some((units * tick).normalize())
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
        if let Some(c) = self.store.setting::<Cached>(CACHE).await?
            && c.sha256 == strategy.sha256
            && c.data_end_ms == end.timestamp_millis()
        {
            return Ok(self.publish(c.report, end));
        }
        match self.compute_study(&client, strategy.clone(), end).await {
            Ok(report) => {
                let cached = Cached {
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
        let total = u32::try_from(symbols.len() + 1).unwrap_or(u32::MAX);
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
            let funding = client
                .funding_since(&symbol, start, end - Duration::milliseconds(1))
                .await
                .map_err(exchange("funding rates"))?
                .iter()
                .filter_map(|r| r.rate.to_f64().map(|rate| (r.time, rate)))
                .collect();
            progress(u32::try_from(i + 1).unwrap_or(u32::MAX), symbol.to_string());
            series.push((symbol, candles, funding));
        }
        let report = tokio::task::spawn_blocking(move || -> Result<StudyReport, StudyError> {
            let universe = universe_of(series)?;
            let window = window_of(&universe, end)?;
            let log = TrialLog::shipped()?;
            Ok(study(&universe, &strategy, window, &log, vec![])?)
        })
        .await
        .map_err(|e| StudyError::Task(e.to_string()))??;
        progress(total, "study".into());
        Ok(report)
    }

    /// The families table, the portfolio, the basket and the universe for the UI. While the
    /// first study runs it says `computing` with its progress.
    ///
    /// # Errors
    /// None today; the signature leaves room for the store.
    pub async fn study_view(&self) -> Result<StudyView, AppError> {
        Ok(view(&self.study.read()))
    }

    /// Every family's signal for `symbol` with its size at the account's equity, stop and
    /// record.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for a bad symbol; `NotFound` while the study is computing
    /// or when the study's universe does not hold the symbol.
    pub async fn family_signals(&self, symbol: &str) -> Result<Vec<FamilySignalView>, AppError> {
        let symbol =
            Symbol::new(symbol.trim()).map_err(|e| AppError::invalid("symbol", e.to_string()))?;
        let report = self.study_report()?;
        let session = self.active_session().await.ok();
        let equity = match &session {
            Some(s) => s.client.margin_balance().await.ok(),
            None => None,
        };
        let tick = match &session {
            Some(s) => s.rules(&symbol).await.ok().map(|r| r.filters.tick_size),
            None => None,
        };
        let mut out = Vec::new();
        for f in &report.families {
            let Some(l) = f.latest.iter().find(|l| l.symbol == symbol.as_str()) else {
                continue;
            };
            let per = f.per_symbol.iter().find(|p| p.symbol == symbol.as_str());
            let notional =
                equity.and_then(|e| Decimal::from_f64(l.weight.abs()).map(|w| (e * w).round_dp(2)));
            out.push(FamilySignalView {
                family: f.id.clone(),
                symbol: l.symbol.clone(),
                horizon_days: f.horizon_days,
                direction: direction_name(l.direction),
                lean: lean_name(l.weight),
                weight: l.weight,
                annual_vol: l.annual_vol,
                suggested_notional: notional.filter(|n| !n.is_zero()),
                equity,
                stop_price: l.stop.and_then(|s| {
                    stop_on_tick(s.price, l.weight > 0.0, tick.unwrap_or(Decimal::ZERO))
                }),
                stop_distance: l.stop.map(|s| s.distance),
                stop_capped: l.stop.map(|s| s.capped),
                time_ms: l.time.timestamp_millis(),
                next_decision_ms: l.next_decision.timestamp_millis(),
                record: RecordView::of(&f.verdict),
                symbol_sharpe: per.map(|p| p.stats.sharpe),
                symbol_max_drawdown: per.map(|p| p.stats.max_drawdown),
                symbol_trades: per.map(|p| p.trades),
                symbol_buy_and_hold_sharpe: per.map(|p| p.buy_and_hold.sharpe),
            });
        }
        if out.is_empty() {
            return Err(AppError::NotFound(format!(
                "family signals of {symbol} (not in the study's universe)"
            )));
        }
        Ok(out)
    }

    fn study_report(&self) -> Result<Arc<StudyReport>, AppError> {
        self.study.read().report.ok_or_else(|| {
            AppError::NotFound("the family study (it is still computing; try again shortly)".into())
        })
    }

    /// The one-click ticket of `family`'s signal on `symbol`: the side of the book's weight,
    /// the notional that targets the strategy's volatility at the account's margin balance
    /// (wallet plus unrealised PnL) and the volatility stop from the current mark
    /// (`sizing::suggest`), both capped by the risk limits, and the preview of exactly that
    /// ticket with the risk verdict. Nothing is sent.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for a bad symbol, an unknown family, or a book that holds no
    /// position in the symbol; `NotFound` while the study computes; exchange, vault errors.
    pub async fn suggest_ticket(
        &self,
        symbol: &str,
        family: &str,
    ) -> Result<SuggestedTicket, AppError> {
        let sym =
            Symbol::new(symbol.trim()).map_err(|e| AppError::invalid("symbol", e.to_string()))?;
        let report = self.study_report()?;
        let f = report
            .families
            .iter()
            .find(|f| f.id == family)
            .ok_or_else(|| AppError::invalid("family", format!("no family {family}")))?;
        let l: &LatestSignal = f
            .latest
            .iter()
            .find(|l| l.symbol == sym.as_str())
            .ok_or_else(|| {
                AppError::invalid("symbol", format!("{sym} is not in the study's universe"))
            })?;
        if l.weight == 0.0 {
            return Err(AppError::invalid(
                "family",
                format!("{family} holds no position in {sym}: nothing to size"),
            ));
        }
        let sigma_annual = l.annual_vol.ok_or_else(|| {
            AppError::invalid(
                "family",
                format!(
                    "{family} has no volatility estimate of {sym} on its bars: nothing to size"
                ),
            )
        })?;
        let strategy = shipped_strategy().map_err(StudyError::from)?.strategy;
        let session = self.active_session().await?;
        let rules = session.rules(&sym).await?;
        let (account, equity) = tokio::try_join!(
            session.client.account_snapshot(&sym),
            session.client.margin_balance()
        )?;
        let risk = self.risk_limits().await?;
        let mark = account
            .mark_price
            .to_f64()
            .ok_or_else(|| AppError::Internal(format!("mark price {}", account.mark_price)))?;
        let limits = Limits {
            max_stop_distance: (risk.max_stop_distance_pct / Decimal::ONE_HUNDRED)
                .to_f64()
                .filter(|d| *d > 0.0 && *d < 1.0),
            ..strategy.limits
        };
        let s = suggest(
            l.weight,
            equity,
            mark,
            sigma_annual / strategy.vol_target.bars_per_year.sqrt(),
            strategy.stop_sigma_multiple,
            f.horizon_days,
            &limits,
        )
        .map_err(|e| AppError::invalid("family", e.to_string()))?;
        let mut capped_by = Vec::new();
        let open: Decimal = account.positions.iter().map(|p| p.notional.abs()).sum();
        let mut notional = s.notional;
        if notional > risk.max_position_notional {
            notional = risk.max_position_notional;
            capped_by.push("max_position_notional");
        }
        let room = (risk.max_total_notional - open).max(Decimal::ZERO);
        if notional > room {
            notional = room;
            capped_by.push("max_total_notional");
        }
        if s.stop.capped {
            capped_by.push("max_stop_distance_pct");
        }
        let long = l.weight > 0.0;
        let stop = stop_on_tick(s.stop.price, long, rules.filters.tick_size)
            .ok_or_else(|| AppError::Internal(format!("stop price {}", s.stop.price)))?;
        // The least leverage that lets the available balance carry the notional, within the
        // limit: a volatility-sized position is not meant to be levered further.
        let leverage = if account.available > Decimal::ZERO {
            (notional / account.available)
                .ceil()
                .to_u32()
                .unwrap_or(u32::MAX)
                .clamp(1, risk.max_leverage.max(1))
        } else {
            1
        };
        let ticket = Ticket {
            symbol: sym.to_string(),
            side: if long { Side::Buy } else { Side::Sell },
            sizing: perpdesk_core::Sizing::FixedNotional {
                usdt: notional.round_dp(2),
            },
            leverage,
            margin_type: MarginType::Isolated,
            order_type: EntryType::default(),
            price: None,
            take_profit: None,
            stop_loss: Some(stop),
            signal_id: Some(l.time.timestamp_millis()),
        };
        let preview = self.preview_order(&ticket).await?;
        Ok(SuggestedTicket {
            ticket,
            family: f.id.clone(),
            weight: l.weight,
            equity,
            target_notional: s.notional,
            capped_by,
            stop_distance: s.stop.distance,
            unproven: !f.verdict.edge,
            preview,
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
    fn a_stop_is_rounded_towards_the_entry() {
        let tick = Decimal::new(1, 1);
        assert_eq!(stop_on_tick(95.04, true, tick), Some(Decimal::new(951, 1)));
        assert_eq!(
            stop_on_tick(105.06, false, tick),
            Some(Decimal::new(1050, 1))
        );
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
