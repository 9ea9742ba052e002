//! The evaluation pipeline in one call and the model card the UI renders from it.

use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::backtest::{BacktestConfig, BacktestReport, BacktestResult, EquityPoint, FundingRates};
use crate::evaluate::{
    CalibrationBucket, FoldReport, Metrics, WalkForwardConfig, WalkForwardReport, walk_forward,
};
use crate::features::Ohlcv;

/// Most points an equity curve keeps in a model card: enough for a chart, small as JSON.
pub const MAX_CURVE_POINTS: usize = 500;

/// Walk-forward forecasts and the backtest of them, for one symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub walk_forward: WalkForwardReport,
    pub backtest: BacktestReport,
}

/// Runs walk-forward evaluation, then backtests its out-of-sample forecasts next to the
/// baselines. The backtest's horizon is forced to the label horizon, the promise the
/// labels make.
///
/// # Errors
/// Whatever [`walk_forward`] or [`crate::backtest::backtest`] reject.
pub fn evaluate(
    x: &Ohlcv,
    wf: WalkForwardConfig,
    bt: BacktestConfig,
    funding: &FundingRates,
) -> Result<Evaluation, SignalError> {
    let walk = walk_forward(x, wf)?;
    let bt = BacktestConfig {
        horizon: wf.label.horizon,
        ..bt
    };
    let backtest = crate::backtest::backtest(x, &walk.predictions, bt, funding)?;
    Ok(Evaluation {
        walk_forward: walk,
        backtest,
    })
}

impl Evaluation {
    /// The "no claim without evidence" rule: the model may show a direction only when its
    /// out-of-sample backtest beats every baseline's net PnL **and** its pooled Brier score
    /// beats the base-rate forecast's.
    pub fn has_edge(&self) -> bool {
        let m = &self.walk_forward.pooled;
        self.backtest.model_beats_baselines() && m.brier < m.base_rate_brier
    }
}

/// A strategy's numbers with a downsampled equity curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyCard {
    pub name: String,
    pub net_pnl_pct: f64,
    pub max_drawdown_pct: f64,
    pub sharpe: f64,
    pub win_rate: f64,
    pub trades: usize,
    pub exposure: f64,
    pub fees_paid: f64,
    pub funding_paid: f64,
    /// At most [`MAX_CURVE_POINTS`] points, the first and last included.
    pub equity: Vec<EquityPoint>,
}

impl From<&BacktestResult> for StrategyCard {
    fn from(r: &BacktestResult) -> Self {
        Self {
            name: r.name.clone(),
            net_pnl_pct: r.net_pnl_pct,
            max_drawdown_pct: r.max_drawdown_pct,
            sharpe: r.sharpe,
            win_rate: r.win_rate,
            trades: r.trades,
            exposure: r.exposure,
            fees_paid: r.fees_paid,
            funding_paid: r.funding_paid,
            equity: downsample(&r.equity, MAX_CURVE_POINTS),
        }
    }
}

/// Keeps every `ceil(n / max)`-th point and the last one, so a chart still ends at the
/// final equity.
pub fn downsample(points: &[EquityPoint], max: usize) -> Vec<EquityPoint> {
    if max == 0 {
        return Vec::new();
    }
    if points.len() <= max {
        return points.to_vec();
    }
    let stride = points.len().div_ceil(max);
    let mut out: Vec<EquityPoint> = points.iter().step_by(stride).copied().collect();
    if let (Some(last), Some(slot)) = (points.last(), out.last_mut()) {
        *slot = *last;
    }
    out
}

/// The model card: what the UI shows next to every signal, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub symbol: String,
    pub feature_set_version: u32,
    pub walk_forward_config: WalkForwardConfig,
    pub backtest_config: BacktestConfig,
    pub folds: Vec<FoldReport>,
    /// Pooled out-of-sample metrics.
    pub metrics: Metrics,
    /// Calibration plot data: 10 buckets.
    pub calibration: Vec<CalibrationBucket>,
    pub model: StrategyCard,
    pub baselines: Vec<StrategyCard>,
    /// Whether the "no claim without evidence" rule lets the model show a direction.
    pub has_edge: bool,
}

impl ModelCard {
    /// Builds the card of one symbol's evaluation.
    pub fn new(symbol: &str, e: &Evaluation) -> Self {
        Self {
            symbol: symbol.to_string(),
            feature_set_version: e.walk_forward.feature_set_version,
            walk_forward_config: e.walk_forward.config,
            backtest_config: e.backtest.config,
            folds: e.walk_forward.folds.clone(),
            metrics: e.walk_forward.pooled,
            calibration: e.walk_forward.calibration.clone(),
            model: (&e.backtest.model).into(),
            baselines: e.backtest.baselines.iter().map(Into::into).collect(),
            has_edge: e.has_edge(),
        }
    }
}

/// The walk-forward windows used for 1h candles: train 6 months, calibrate 2 months,
/// test 3 months, a 4-bar embargo; labels 4 bars ahead with the fee-aware dead zone of a
/// 0.05% taker fee and 0.01% slippage per side.
pub fn default_walk_forward_1h() -> WalkForwardConfig {
    WalkForwardConfig {
        train: 4_380,
        calibrate: 1_460,
        test: 2_190,
        embargo: 4,
        label: crate::labels::LabelSpec {
            horizon: 4,
            dead_zone: 2.0 * (0.0005 + 0.0001),
        },
        model: crate::model::LogisticConfig::default(),
    }
}
