//! A trading backtest of the signal rule over walk-forward out-of-sample forecasts, always
//! next to baselines traded on the same candles with the same costs.
//!
//! # The simulation
//!
//! * Equity starts at 1.0 (100%). One position at a time. A position is opened at the
//!   **close of the signal bar** `i` with notional `leverage × equity`; it can only be closed
//!   by later bars (`j > i`), so no decision uses a price it could not have seen.
//! * Fills pay `slippage` (a fraction of price) against the trader on each side, and the
//!   taker `taker_fee` (0.05% by default, Binance USDⓈ-M's base rate) on each side's
//!   notional.
//! * Funding is settled at the symbol's own funding times: when bar `j` opens at a time the
//!   series has a rate for (matched to the hour) and the position was opened before it, a
//!   long pays (a short receives) `rate × quantity × open[j]`. Symbols on 4h or 1h funding
//!   are charged every 4h or 1h that way. Before the series' first rate, after its last and
//!   without a series, Binance's default 0.01% per 8h is charged at 00:00, 08:00 and 16:00
//!   UTC ([`FundingRates::charge_at`]).
//! * Barrier exits (the model and the coin flip): take-profit and stop-loss at
//!   `tp_atr × ATR(14)` and `sl_atr × ATR(14)` from the entry, ATR taken at the signal bar;
//!   checked on each later bar's high/low. When one bar touches both, the stop is assumed
//!   hit first (the conservative reading of an OHLC bar). A bar opening beyond a barrier
//!   fills at its open. Otherwise the position closes at the close of bar
//!   `entry + horizon` (the label horizon).
//! * Rule exits (EMA crossover, RSI reversion) close at the close of the bar whose
//!   indicator says so; buy-and-hold closes at the last bar.
//! * Liquidation: the whole equity backs the one open position (cross margin), so with
//!   quantity `q`, entry `EP` and cash `C` (equity after fees and funding so far) the
//!   position is liquidated when `C + s·q·(P − EP) ≤ mmr · q · P`, i.e. at
//!   `LP = (q·EP − C) / (q·(1 − mmr))` for a long and `LP = (C + q·EP) / (q·(1 + mmr))` for
//!   a short, where `mmr` is the maintenance margin rate
//!   ([`BacktestConfig::maint_margin_rate`], by default Binance's first-tier 0.4% for
//!   BTCUSDT/ETHUSDT; tiers above 50k USDT notional ask more, which an equity-unit backtest
//!   cannot size). A bar whose low (long) or high (short) reaches `LP` closes the position
//!   at `LP` and the remaining margin is lost to the liquidation, as on Binance: equity
//!   becomes 0 and the strategy stops trading. A stop-loss that lies before `LP` fills
//!   first, unless the bar opened beyond `LP`. Binance liquidates on the mark price; the
//!   candle's traded high/low reach further, so this errs towards liquidating. With
//!   leverage 1 `LP` is within 0.1% of zero: no liquidation in practice.
//! * If equity reaches zero the strategy is ruined and stops trading.
//!
//! # The model's rule
//!
//! Long when the calibrated `P(up) ≥ threshold`; short when `P(down) ≥ threshold`. The
//! model is binary, so `P(down) = 1 − P(up)` and the short rule is `P(up) ≤ 1 − threshold`.
//!
//! # Metrics
//!
//! Per-bar returns are the relative change of marked-to-market equity from one close to
//! the next (flat bars return 0). Sharpe is `mean / std × √bars_per_year` of those returns
//! (8760 for 1h candles), with a zero risk-free rate; 0 when the std is 0.

use std::collections::BTreeMap;

use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::evaluate::OosPrediction;
use crate::features::Ohlcv;
use crate::indicators;

/// Binance USDⓈ-M's usual funding rate per 8h when no series is given.
pub const DEFAULT_FUNDING_RATE: f64 = 0.0001;

/// Trading settings shared by the model and every baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BacktestConfig {
    /// Enter when the calibrated probability of a direction is at least this (> 0.5).
    pub threshold: f64,
    /// Take-profit distance in ATRs.
    pub tp_atr: f64,
    /// Stop-loss distance in ATRs.
    pub sl_atr: f64,
    /// ATR period (Wilder).
    pub atr_period: usize,
    /// Maximum holding in bars: the label horizon.
    pub horizon: usize,
    /// Notional as a multiple of equity.
    pub leverage: f64,
    /// Taker commission per side, a fraction of notional.
    pub taker_fee: f64,
    /// Slippage per side, a fraction of price.
    pub slippage: f64,
    /// Funding rate per 8h used where the series has no value.
    pub default_funding_rate: f64,
    /// Bars in a year, to annualise Sharpe (8760 for 1h).
    pub bars_per_year: f64,
    /// Seed of the coin-flip baseline.
    pub seed: u64,
    /// Maintenance margin rate for the liquidation price (0.004: Binance's first tier).
    #[serde(default = "default_mmr")]
    pub maint_margin_rate: f64,
}

/// Binance USDⓈ-M's first-tier maintenance margin rate for BTCUSDT and ETHUSDT.
pub const DEFAULT_MAINT_MARGIN_RATE: f64 = 0.004;

fn default_mmr() -> f64 {
    DEFAULT_MAINT_MARGIN_RATE
}

impl Default for BacktestConfig {
    fn default() -> Self {
        Self {
            threshold: 0.55,
            tp_atr: 2.0,
            sl_atr: 1.0,
            atr_period: 14,
            horizon: 4,
            leverage: 1.0,
            taker_fee: 0.0005,
            slippage: 0.0001,
            default_funding_rate: DEFAULT_FUNDING_RATE,
            bars_per_year: 8760.0,
            seed: 42,
            maint_margin_rate: DEFAULT_MAINT_MARGIN_RATE,
        }
    }
}

impl BacktestConfig {
    fn check(&self) -> Result<(), SignalError> {
        let ok = self.threshold > 0.5
            && self.threshold <= 1.0
            && self.tp_atr > 0.0
            && self.sl_atr > 0.0
            && self.atr_period >= 1
            && self.horizon >= 1
            && self.leverage > 0.0
            && self.leverage.is_finite()
            && self.taker_fee >= 0.0
            && self.slippage >= 0.0
            && self.slippage < 1.0
            && self.default_funding_rate.is_finite()
            && (0.0..0.5).contains(&self.maint_margin_rate)
            && self.bars_per_year > 0.0;
        if ok {
            Ok(())
        } else {
            Err(SignalError::BadParam(format!(
                "bad backtest config {self:?}"
            )))
        }
    }
}

/// A position's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Side {
    Long,
    Short,
}

impl Side {
    fn sign(self) -> f64 {
        match self {
            Side::Long => 1.0,
            Side::Short => -1.0,
        }
    }
}

/// Why a trade closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitReason {
    TakeProfit,
    StopLoss,
    Horizon,
    Rule,
    EndOfData,
    /// The adverse move reached the liquidation price; the margin is lost.
    Liquidation,
}

/// One round trip.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    pub side: Side,
    pub entry_index: usize,
    pub exit_index: usize,
    /// Fill prices, slippage included.
    pub entry_price: f64,
    pub exit_price: f64,
    /// Net result as a fraction of the equity at entry (fees and funding included).
    pub net_return: f64,
    /// Commission paid, in equity units (equity starts at 1).
    pub fees: f64,
    /// Funding paid (negative: received), in equity units.
    pub funding: f64,
    pub exit: ExitReason,
}

/// One point of an equity curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    pub time: DateTime<Utc>,
    /// Marked-to-market equity at the bar's close; starts at 1.
    pub equity: f64,
}

/// A strategy's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestResult {
    pub name: String,
    /// Final equity − 1, in percent.
    pub net_pnl_pct: f64,
    /// Largest peak-to-trough fall of marked-to-market equity, in percent of the peak.
    pub max_drawdown_pct: f64,
    /// Annualised from per-bar returns (see the module docs).
    pub sharpe: f64,
    /// Share of trades with a positive net return (0 without trades).
    pub win_rate: f64,
    pub trades: usize,
    /// Share of bars with an open position.
    pub exposure: f64,
    pub fees_paid: f64,
    pub funding_paid: f64,
    /// One point per bar of the tested range.
    pub equity: Vec<EquityPoint>,
    pub trade_log: Vec<Trade>,
}

/// What a strategy wants at a bar's close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intent {
    Hold,
    Enter(Side),
    Exit,
}

struct Open {
    side: Side,
    entry_index: usize,
    entry_price: f64,
    qty: f64,
    tp: f64,
    sl: f64,
    fees: f64,
    funding: f64,
    equity_at_entry: f64,
}

/// Funding rates by settlement time; a lookup matches to the hour, since Binance's
/// recorded funding times carry a few milliseconds of jitter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FundingRates(BTreeMap<i64, f64>);

impl FundingRates {
    /// Builds the table from `(funding time, rate per 8h)` pairs.
    ///
    /// # Errors
    /// [`SignalError::NotFinite`] for a non-finite rate.
    pub fn new(rates: &[(DateTime<Utc>, f64)]) -> Result<Self, SignalError> {
        let mut map = BTreeMap::new();
        for (index, &(t, r)) in rates.iter().enumerate() {
            if !r.is_finite() {
                return Err(SignalError::NotFinite {
                    series: "funding rate",
                    index,
                });
            }
            map.insert(t.timestamp().div_euclid(3600), r);
        }
        Ok(Self(map))
    }

    /// The newest rate settled at or before `t` (matched to the hour, like every lookup).
    pub fn settled_at_or_before(&self, t: DateTime<Utc>) -> Option<f64> {
        self.0
            .range(..=t.timestamp().div_euclid(3600))
            .next_back()
            .map(|(_, &r)| r)
    }

    /// A reader of [`FundingRates::settled_at_or_before`] for times that never go back, in
    /// amortised O(1) per lookup (a batch over every candle would otherwise pay a tree
    /// search per row).
    pub(crate) fn cursor(&self) -> SettledCursor<'_> {
        SettledCursor {
            rates: self.0.iter().peekable(),
            current: None,
        }
    }

    /// Adds newly settled rates (a rate for an hour already in the table replaces it).
    ///
    /// # Errors
    /// [`SignalError::NotFinite`] for a non-finite rate (the table is unchanged).
    pub fn extend(&mut self, rates: &[(DateTime<Utc>, f64)]) -> Result<(), SignalError> {
        let more = Self::new(rates)?;
        self.0.extend(more.0);
        Ok(())
    }

    /// The hour of the newest settled rate in the table.
    pub fn newest(&self) -> Option<DateTime<Utc>> {
        let (&hour, _) = self.0.last_key_value()?;
        DateTime::from_timestamp(hour.checked_mul(3600)?, 0)
    }

    /// Whether the table holds no rate.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The rate settled at the hour of `t`, if any: inside the span of the series, at the
    /// series' own settlement times (8h, 4h or 1h apart, whatever the symbol uses); before its
    /// first and after its last rate (or without a series), `default` at Binance's default
    /// times 00:00, 08:00 and 16:00 UTC.
    pub fn charge_at(&self, t: DateTime<Utc>, default: f64) -> Option<f64> {
        let hour = t.timestamp().div_euclid(3600);
        match (self.0.first_key_value(), self.0.last_key_value()) {
            (Some((&first, _)), Some((&last, _))) if (first..=last).contains(&hour) => {
                self.0.get(&hour).copied()
            }
            _ => is_funding_time(t).then_some(default),
        }
    }
}

/// See [`FundingRates::cursor`].
pub(crate) struct SettledCursor<'a> {
    rates: std::iter::Peekable<std::collections::btree_map::Iter<'a, i64, f64>>,
    current: Option<f64>,
}

impl SettledCursor<'_> {
    /// The newest rate settled at or before `t`; `t` must not be earlier than the last call's.
    pub(crate) fn at(&mut self, t: DateTime<Utc>) -> Option<f64> {
        let hour = t.timestamp().div_euclid(3600);
        while let Some((_, &rate)) = self.rates.next_if(|&(&h, _)| h <= hour) {
            self.current = Some(rate);
        }
        self.current
    }
}

fn is_funding_time(t: DateTime<Utc>) -> bool {
    t.minute() == 0 && t.second() == 0 && t.hour().is_multiple_of(8)
}

struct Engine<'a> {
    x: &'a Ohlcv,
    atr: &'a [Option<f64>],
    cfg: BacktestConfig,
    funding: &'a FundingRates,
    barriers: bool,
}

impl Engine<'_> {
    /// The price at which the position's margin falls to the maintenance margin (module docs).
    fn liquidation_price(&self, p: &Open, cash: f64) -> f64 {
        let mmr = self.cfg.maint_margin_rate;
        match p.side {
            Side::Long => (p.qty * p.entry_price - cash) / (p.qty * (1.0 - mmr)),
            Side::Short => (cash + p.qty * p.entry_price) / (p.qty * (1.0 + mmr)),
        }
    }

    /// Whether bar `j` liquidates the position (a stop before the liquidation price fills
    /// first, unless the bar opened beyond it).
    fn liquidated(&self, p: &Open, cash: f64, j: usize) -> Option<f64> {
        let x = self.x;
        let lp = self.liquidation_price(p, cash);
        let s = p.side.sign();
        let extreme = if s > 0.0 { x.low[j] } else { x.high[j] };
        if (extreme - lp) * s > 0.0 {
            return None;
        }
        let opened_beyond = (x.open[j] - lp) * s <= 0.0;
        let stop_first = self.barriers && (p.sl - lp) * s > 0.0;
        (opened_beyond || !stop_first).then_some(lp)
    }

    fn close_position(
        &self,
        pos: Open,
        j: usize,
        raw_price: f64,
        exit: ExitReason,
        cash: &mut f64,
    ) -> Trade {
        let price = raw_price * (1.0 - pos.side.sign() * self.cfg.slippage);
        let fee = self.cfg.taker_fee * pos.qty * price;
        let gross = pos.side.sign() * pos.qty * (price - pos.entry_price);
        *cash += gross - fee;
        let fees = pos.fees + fee;
        let net = gross - fees - pos.funding;
        Trade {
            side: pos.side,
            entry_index: pos.entry_index,
            exit_index: j,
            entry_price: pos.entry_price,
            exit_price: price,
            net_return: net / pos.equity_at_entry,
            fees,
            funding: pos.funding,
            exit,
        }
    }

    /// Runs a strategy over bars `from..to`; `intent(i, current side)` sees bar `i` and
    /// nothing later.
    fn run(
        &self,
        name: &str,
        from: usize,
        to: usize,
        mut intent: impl FnMut(usize, Option<Side>) -> Intent,
    ) -> BacktestResult {
        let (x, cfg) = (self.x, self.cfg);
        // Cash holds realised equity: entry fees and funding are paid from it at once.
        let mut cash = 1.0;
        let mut pos: Option<Open> = None;
        let mut trades = Vec::new();
        let mut equity = Vec::with_capacity(to.saturating_sub(from));
        let (mut exposed, mut fees_paid, mut funding_paid) = (0usize, 0.0, 0.0);
        for j in from..to {
            // 1. Funding and barriers of a position opened at an earlier close.
            if let Some(p) = pos.as_mut() {
                exposed += 1;
                if let Some(rate) = self
                    .funding
                    .charge_at(x.open_time[j], cfg.default_funding_rate)
                {
                    let pay = p.side.sign() * rate * p.qty * x.open[j];
                    p.funding += pay;
                    cash -= pay;
                    funding_paid += pay;
                }
            }
            let liquidation = pos.as_ref().and_then(|p| self.liquidated(p, cash, j));
            if let (Some(lp), Some(p)) = (liquidation, pos.take_if(|_| liquidation.is_some())) {
                // The margin left at the liquidation price is taken by the liquidation:
                // everything the position was backed by is gone.
                cash = 0.0;
                fees_paid += p.fees;
                trades.push(Trade {
                    side: p.side,
                    entry_index: p.entry_index,
                    exit_index: j,
                    entry_price: p.entry_price,
                    exit_price: lp,
                    net_return: -1.0,
                    fees: p.fees,
                    funding: p.funding,
                    exit: ExitReason::Liquidation,
                });
            }
            if self.barriers
                && let Some(p) = pos.take()
            {
                let s = p.side.sign();
                let sl_hit = (x.low[j] - p.sl) * s <= 0.0 || (x.high[j] - p.sl) * s <= 0.0;
                let tp_hit = (x.high[j] - p.tp) * s >= 0.0 || (x.low[j] - p.tp) * s >= 0.0;
                let opened_beyond =
                    |level: f64, worse: bool| ((x.open[j] - level) * s <= 0.0) == worse;
                let exit = if sl_hit {
                    let px = if opened_beyond(p.sl, true) {
                        x.open[j]
                    } else {
                        p.sl
                    };
                    Some((px, ExitReason::StopLoss))
                } else if tp_hit {
                    let px = if opened_beyond(p.tp, false) {
                        x.open[j]
                    } else {
                        p.tp
                    };
                    Some((px, ExitReason::TakeProfit))
                } else if j >= p.entry_index + cfg.horizon {
                    Some((x.close[j], ExitReason::Horizon))
                } else {
                    None
                };
                match exit {
                    Some((px, why)) => {
                        let t = self.close_position(p, j, px, why, &mut cash);
                        fees_paid += t.fees;
                        trades.push(t);
                    }
                    None => pos = Some(p),
                }
            }
            // 2. The strategy's decision at this bar's close.
            if cash > 0.0 && j + 1 < to {
                match intent(j, pos.as_ref().map(|p| p.side)) {
                    Intent::Hold => {}
                    Intent::Exit => {
                        if let Some(p) = pos.take() {
                            let t =
                                self.close_position(p, j, x.close[j], ExitReason::Rule, &mut cash);
                            fees_paid += t.fees;
                            trades.push(t);
                        }
                    }
                    Intent::Enter(side) => {
                        if let Some(p) = pos.take_if(|p| p.side != side) {
                            let t =
                                self.close_position(p, j, x.close[j], ExitReason::Rule, &mut cash);
                            fees_paid += t.fees;
                            trades.push(t);
                        }
                        if pos.is_none() && cash > 0.0 {
                            let atr = self.atr[j].unwrap_or(0.0);
                            // Without ATR the barriers are undefined: no barrier trade.
                            if !self.barriers || atr > 0.0 {
                                let s = side.sign();
                                let price = x.close[j] * (1.0 + s * cfg.slippage);
                                let qty = cfg.leverage * cash / price;
                                let fee = cfg.taker_fee * qty * price;
                                let equity_at_entry = cash;
                                cash -= fee;
                                pos = Some(Open {
                                    side,
                                    entry_index: j,
                                    entry_price: price,
                                    qty,
                                    tp: price + s * cfg.tp_atr * atr,
                                    sl: price - s * cfg.sl_atr * atr,
                                    fees: fee,
                                    funding: 0.0,
                                    equity_at_entry,
                                });
                            }
                        }
                    }
                }
            }
            // 3. The last bar closes whatever is open.
            if j + 1 == to
                && let Some(p) = pos.take()
            {
                let t = self.close_position(p, j, x.close[j], ExitReason::EndOfData, &mut cash);
                fees_paid += t.fees;
                trades.push(t);
            }
            if cash <= 0.0 {
                cash = 0.0;
            }
            let mtm = cash
                + pos.as_ref().map_or(0.0, |p| {
                    p.side.sign() * p.qty * (x.close[j] - p.entry_price)
                });
            equity.push(EquityPoint {
                time: x.open_time[j],
                equity: mtm.max(0.0),
            });
        }
        summarise(name, equity, trades, exposed, fees_paid, funding_paid, cfg)
    }
}

fn summarise(
    name: &str,
    equity: Vec<EquityPoint>,
    trade_log: Vec<Trade>,
    exposed: usize,
    fees_paid: f64,
    funding_paid: f64,
    cfg: BacktestConfig,
) -> BacktestResult {
    let (mut peak, mut max_dd) = (1.0f64, 0.0f64);
    let mut prev = 1.0;
    let mut returns = Vec::with_capacity(equity.len());
    for p in &equity {
        peak = peak.max(p.equity);
        if peak > 0.0 {
            max_dd = max_dd.max(1.0 - p.equity / peak);
        }
        returns.push(if prev > 0.0 {
            p.equity / prev - 1.0
        } else {
            0.0
        });
        prev = p.equity;
    }
    let n = returns.len().max(1) as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n;
    let sharpe = if var > 0.0 {
        mean / var.sqrt() * cfg.bars_per_year.sqrt()
    } else {
        0.0
    };
    let wins = trade_log.iter().filter(|t| t.net_return > 0.0).count();
    let last = equity.last().map_or(1.0, |p| p.equity);
    BacktestResult {
        name: name.to_string(),
        net_pnl_pct: (last - 1.0) * 100.0,
        max_drawdown_pct: max_dd * 100.0,
        sharpe,
        win_rate: if trade_log.is_empty() {
            0.0
        } else {
            wins as f64 / trade_log.len() as f64
        },
        trades: trade_log.len(),
        exposure: exposed as f64 / n,
        fees_paid,
        funding_paid,
        equity,
        trade_log,
    }
}

/// The model and its baselines on the same bars with the same costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    pub config: BacktestConfig,
    /// First and last tested bar (the span of the out-of-sample forecasts).
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub model: BacktestResult,
    /// Buy-and-hold, EMA(20/50) crossover, RSI(14) reversion, coin flip: in that order.
    pub baselines: Vec<BacktestResult>,
}

impl BacktestReport {
    /// Whether the model's net PnL beats every baseline's.
    pub fn model_beats_baselines(&self) -> bool {
        self.baselines
            .iter()
            .all(|b| self.model.net_pnl_pct > b.net_pnl_pct)
    }
}

/// SplitMix64: a tiny, seeded, portable generator for the coin flip.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Trades the model's out-of-sample forecasts and the baselines over the forecasts' span.
///
/// `predictions` must be sorted by index (as [`crate::walk_forward`] returns them); bars
/// in the span without a forecast are not traded by the model.
///
/// # Errors
/// [`SignalError::BadParam`] for a bad config or no forecasts, and whatever the indicators
/// reject.
pub fn backtest(
    x: &Ohlcv,
    predictions: &[OosPrediction],
    cfg: BacktestConfig,
    funding: &FundingRates,
) -> Result<BacktestReport, SignalError> {
    cfg.check()?;
    let (Some(first), Some(last)) = (predictions.first(), predictions.last()) else {
        return Err(SignalError::BadParam("no out-of-sample forecasts".into()));
    };
    let (from, to) = (first.index, last.index + 1);
    if to > x.len() || from >= to {
        return Err(SignalError::BadParam(
            "forecasts do not index the candles".into(),
        ));
    }
    let atr = indicators::atr(&x.high, &x.low, &x.close, cfg.atr_period)?;
    let mut p_up: Vec<Option<f64>> = vec![None; x.len()];
    for p in predictions {
        if let Some(slot) = p_up.get_mut(p.index) {
            *slot = Some(p.p_up);
        }
    }
    let with_barriers = Engine {
        x,
        atr: &atr,
        cfg,
        funding,
        barriers: true,
    };
    let rules = Engine {
        barriers: false,
        ..with_barriers
    };
    let thr = cfg.threshold;
    let model = with_barriers.run("model", from, to, |i, pos| match (pos, p_up[i]) {
        (None, Some(p)) if p >= thr => Intent::Enter(Side::Long),
        (None, Some(p)) if p <= 1.0 - thr => Intent::Enter(Side::Short),
        _ => Intent::Hold,
    });
    let hold = rules.run("buy_and_hold", from, to, |_, pos| match pos {
        None => Intent::Enter(Side::Long),
        Some(_) => Intent::Hold,
    });
    let fast = indicators::ema(&x.close, 20)?;
    let slow = indicators::ema(&x.close, 50)?;
    let ema = rules.run("ema_20_50_cross", from, to, |i, _| {
        match (fast[i], slow[i]) {
            (Some(f), Some(s)) if f > s => Intent::Enter(Side::Long),
            (Some(f), Some(s)) if f < s => Intent::Enter(Side::Short),
            _ => Intent::Hold,
        }
    });
    let rsi = indicators::rsi(&x.close, 14)?;
    let reversion = rules.run("rsi14_reversion", from, to, |i, pos| match (pos, rsi[i]) {
        (None, Some(r)) if r < 30.0 => Intent::Enter(Side::Long),
        (None, Some(r)) if r > 70.0 => Intent::Enter(Side::Short),
        (Some(Side::Long), Some(r)) if r >= 50.0 => Intent::Exit,
        (Some(Side::Short), Some(r)) if r <= 50.0 => Intent::Exit,
        _ => Intent::Hold,
    });
    let coin = coin_flip(&with_barriers, from, to, model.trades, cfg.seed);
    Ok(BacktestReport {
        config: cfg,
        start: x.open_time[from],
        end: x.open_time[to - 1],
        model,
        baselines: vec![hold, ema, reversion, coin],
    })
}

/// A coin flip with the model's trade count: `n` entry bars drawn uniformly (seeded)
/// from the span, each with a random side; a drawn bar that falls inside an open trade
/// enters at the next flat bar instead, so the count can fall short only at the very end.
fn coin_flip(engine: &Engine<'_>, from: usize, to: usize, n: usize, seed: u64) -> BacktestResult {
    let mut rng = SplitMix(seed);
    let span = (to - from) as u64;
    let mut draws: Vec<(usize, Side)> = (0..n)
        .map(|_| {
            let i = from + (rng.next() % span.max(1)) as usize;
            let side = if rng.next() & 1 == 0 {
                Side::Long
            } else {
                Side::Short
            };
            (i, side)
        })
        .collect();
    draws.sort_by_key(|d| d.0);
    let mut next = 0usize;
    engine.run("coin_flip", from, to, |i, pos| match draws.get(next) {
        Some(&(at, side)) if at <= i && pos.is_none() => {
            next += 1;
            Intent::Enter(side)
        }
        _ => Intent::Hold,
    })
}
