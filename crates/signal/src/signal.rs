//! The live signal: a direction for a symbol at a candle close, with its evidence.
//!
//! # No claim without evidence
//!
//! The live signal uses the model kind with the better out-of-sample record on the symbol
//! ([`crate::card::choose`]). Its direction is [`SignalDirection::Flat`] unless the edge test
//! ([`crate::edge::Verdict`]) finds an edge in that model's out-of-sample record on the
//! symbol: better than random timing of the same positions, significant after every
//! configuration tried, a bootstrap interval above 0, above buy-and-hold's Sharpe, enough
//! independent trades, and Brier skill against climatology. Without that, the probability is
//! still reported with the verdict's reasons, but no arrow is drawn: a confident arrow
//! without evidence is worse than none.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::backtest::{BacktestConfig, FundingRates};
use crate::card::Evaluation;
use crate::edge::{FlatReason, Verdict};
use crate::evaluate::WalkForwardConfig;
use crate::features::{Features, Ohlcv, compute_features_with_funding};
use crate::labels::{Direction, forward_labels};
use crate::model::{LogisticModel, Model, ModelKind, Row, Scorer};

/// What the signal suggests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SignalDirection {
    Long,
    Short,
    Flat,
}

/// The model's out-of-sample record on the symbol, shown with every signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub brier: f64,
    pub base_rate_brier: f64,
    pub accuracy: f64,
    pub model_net_pnl_pct: f64,
    pub model_sharpe: f64,
    pub model_max_drawdown_pct: f64,
    pub model_trades: usize,
    pub model_win_rate: f64,
    /// The strongest baseline by net PnL and its PnL.
    pub best_baseline: String,
    pub best_baseline_net_pnl_pct: f64,
    /// The edge test holds on every criterion but the Brier score (random timing, trials,
    /// interval, buy-and-hold, trade count).
    pub beats_baselines: bool,
    /// Brier skill against climatology of the test windows is above 0.
    pub beats_base_rate: bool,
    /// The edge test's verdict; a record without one (made before the test existed) has no
    /// edge.
    #[serde(default)]
    pub verdict: Option<Verdict>,
}

impl Record {
    /// Whether the signal may show a direction: the verdict found an edge.
    pub fn has_edge(&self) -> bool {
        self.verdict.as_ref().is_some_and(|v| v.edge)
    }
}

impl Record {
    /// Summarises the chosen model's record in an evaluation.
    pub fn new(e: &Evaluation) -> Self {
        let c = e.chosen();
        let m = &c.walk_forward.pooled;
        let model = &c.backtest.model;
        let best = c
            .backtest
            .baselines
            .iter()
            .max_by(|a, b| a.net_pnl_pct.total_cmp(&b.net_pnl_pct));
        Self {
            brier: m.brier,
            base_rate_brier: m.base_rate_brier,
            accuracy: m.accuracy,
            model_net_pnl_pct: model.net_pnl_pct,
            model_sharpe: model.sharpe,
            model_max_drawdown_pct: model.max_drawdown_pct,
            model_trades: model.trades,
            model_win_rate: model.win_rate,
            best_baseline: best.map_or_else(String::new, |b| b.name.clone()),
            best_baseline_net_pnl_pct: best.map_or(f64::NEG_INFINITY, |b| b.net_pnl_pct),
            beats_baselines: c
                .verdict
                .reasons
                .iter()
                .all(|r| *r == FlatReason::NoBrierSkill),
            beats_base_rate: !c.verdict.reasons.contains(&FlatReason::NoBrierSkill),
            verdict: Some(c.verdict.clone()),
        }
    }
}

/// A signal at a candle close.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub symbol: String,
    /// Open time of the candle whose close the signal is for.
    pub time: DateTime<Utc>,
    pub direction: SignalDirection,
    /// Calibrated probability of the more likely direction (`max(P(up), 1 − P(up))`).
    pub probability: f64,
    /// Calibrated probability of up.
    pub p_up: f64,
    /// Suggested entry: the candle's close.
    pub entry: f64,
    /// ATR-based levels for the more likely direction (shown even when flat, for context).
    pub take_profit: f64,
    pub stop_loss: f64,
    pub horizon_bars: usize,
    pub model_version: String,
    pub record: Record,
}

/// A version string naming the model kind, feature set and last training candle.
pub fn model_version<M: Scorer + ?Sized>(model: &M, trained_until: DateTime<Utc>) -> String {
    format!(
        "{}-fs{}-{}",
        model.kind().name(),
        model.feature_set_version(),
        trained_until.format("%Y%m%dT%H%MZ")
    )
}

/// The candles a live model learnt from: the first training candle and the last
/// calibration candle (whose label was known when the model was fitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingWindow {
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// Trains the live logistic model on the latest data without a funding series (see
/// [`train_model`]). Returns the model and the open time of its last calibration candle.
///
/// # Errors
/// As [`train_model`].
pub fn train_latest(
    x: &Ohlcv,
    c: WalkForwardConfig,
) -> Result<(LogisticModel, DateTime<Utc>), SignalError> {
    match train_model(x, c, &FundingRates::default(), ModelKind::Logistic)? {
        (Model::Logistic(m), w) => Ok((m, w.last)),
        (Model::Gbdt(_), _) => Err(SignalError::Fit(
            "asked for a logistic model, got trees".into(),
        )),
    }
}

/// Trains a live model of `kind` on the latest data: fit on the `train` candles before the
/// last `calibrate` labelled candles (with the embargo between), Platt-calibrated on those.
///
/// # Errors
/// [`SignalError::TooFewCandles`] when the windows do not fit, and fitting errors.
pub fn train_model(
    x: &Ohlcv,
    c: WalkForwardConfig,
    funding: &FundingRates,
    kind: ModelKind,
) -> Result<(Model, TrainingWindow), SignalError> {
    let features = compute_features_with_funding(x, funding)?;
    let labels = forward_labels(&x.close, c.label)?;
    // The last candle with a known label.
    let labelled_end = x.len().saturating_sub(c.label.horizon);
    let needed = c.train + c.embargo + c.calibrate;
    let first = features.rows.first().map_or(0, |r| r.index);
    if labelled_end < first + needed {
        return Err(SignalError::TooFewCandles {
            needed: first + needed + c.label.horizon,
            got: x.len(),
        });
    }
    let cal_start = labelled_end - c.calibrate;
    let train_start = cal_start - c.embargo - c.train;
    let rows = |from: usize, to: usize| -> (Vec<Row>, Vec<bool>) {
        features
            .rows
            .iter()
            .filter(|r| r.index >= from && r.index < to)
            .filter_map(|r| match labels.get(r.index).copied().flatten()? {
                Direction::Up => Some((r.values, true)),
                Direction::Down => Some((r.values, false)),
                Direction::Flat => None,
            })
            .unzip()
    };
    let (tx, ty) = rows(train_start, train_start + c.train);
    let (cx, cy) = rows(cal_start, labelled_end);
    let model = Model::fit_calibrated(kind, (&tx, &ty), (&cx, &cy), c.model, c.gbdt)?;
    let window = TrainingWindow {
        first: x.open_time[train_start],
        last: x.open_time[labelled_end - 1],
    };
    Ok((model, window))
}

/// Scores the latest candle: the signal at its close.
///
/// `evaluation` is the model's walk-forward/backtest record on this symbol; its
/// backtest config supplies the threshold, the ATR multiples and the horizon. The rule is
/// in the module docs.
///
/// # Errors
/// [`SignalError::TooFewCandles`] when the last candle has no feature row, and model or
/// indicator errors.
pub fn make_signal<M: Scorer + ?Sized>(
    symbol: &str,
    x: &Ohlcv,
    features: &Features,
    model: &M,
    model_version: &str,
    evaluation: &Evaluation,
) -> Result<Signal, SignalError> {
    make_signal_with_record(
        symbol,
        x,
        features,
        model,
        model_version,
        &Record::new(evaluation),
        evaluation.chosen().backtest.config,
    )
}

/// Scores the latest candle like [`make_signal`], from the evaluation's summary instead of
/// the whole evaluation: a live loop keeps (and caches) the small [`Record`] and the
/// backtest config, not thousands of out-of-sample forecasts. The horizon comes from
/// `cfg`, which [`crate::card::evaluate`] forces to the label horizon.
///
/// # Errors
/// As [`make_signal`].
pub fn make_signal_with_record<M: Scorer + ?Sized>(
    symbol: &str,
    x: &Ohlcv,
    features: &Features,
    model: &M,
    model_version: &str,
    record: &Record,
    cfg: BacktestConfig,
) -> Result<Signal, SignalError> {
    let last = x.len().checked_sub(1);
    let row = features
        .rows
        .last()
        .filter(|r| Some(r.index) == last)
        .ok_or(SignalError::TooFewCandles {
            needed: crate::features::WARMUP + 1,
            got: x.len(),
        })?;
    let p_up = model.predict_proba(features.version, &row.values)?;
    let atr = crate::indicators::atr(&x.high, &x.low, &x.close, cfg.atr_period)?
        .get(row.index)
        .copied()
        .flatten()
        .unwrap_or(0.0);
    let entry = x.close[row.index];
    let sign = if p_up >= 0.5 { 1.0 } else { -1.0 };
    let record = record.clone();
    let raw = if p_up >= cfg.threshold {
        SignalDirection::Long
    } else if p_up <= 1.0 - cfg.threshold {
        SignalDirection::Short
    } else {
        SignalDirection::Flat
    };
    let direction = if record.has_edge() {
        raw
    } else {
        SignalDirection::Flat
    };
    Ok(Signal {
        symbol: symbol.to_string(),
        time: row.open_time,
        direction,
        probability: p_up.max(1.0 - p_up),
        p_up,
        entry,
        take_profit: entry + sign * cfg.tp_atr * atr,
        stop_loss: entry - sign * cfg.sl_atr * atr,
        horizon_bars: cfg.horizon,
        model_version: model_version.to_string(),
        record,
    })
}
