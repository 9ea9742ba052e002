//! The evaluation pipeline in one call and the model card the UI renders from it.

use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::backtest::{BacktestConfig, BacktestReport, BacktestResult, EquityPoint, FundingRates};
use crate::evaluate::{
    CalibrationBucket, FoldReport, Metrics, WalkForwardConfig, WalkForwardReport,
    walk_forward_models,
};
use crate::features::Ohlcv;
use crate::model::ModelKind;

/// Most points an equity curve keeps in a model card: enough for a chart, small as JSON.
pub const MAX_CURVE_POINTS: usize = 500;

/// One model kind's out-of-sample record on a symbol: its walk-forward forecasts and the
/// backtest of them next to the baselines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub walk_forward: WalkForwardReport,
    pub backtest: BacktestReport,
}

impl Candidate {
    /// The model kind.
    pub fn kind(&self) -> ModelKind {
        self.walk_forward.model
    }

    /// The "no claim without evidence" rule: the model may show a direction only when its
    /// out-of-sample backtest beats every baseline's net PnL **and** its pooled Brier score
    /// beats the base-rate forecast's.
    pub fn has_edge(&self) -> bool {
        let m = &self.walk_forward.pooled;
        self.backtest.model_beats_baselines() && m.brier < m.base_rate_brier
    }
}

/// Every model kind's record on one symbol and the one the live signal uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// One per kind, in [`ModelKind::ALL`] order.
    pub candidates: Vec<Candidate>,
    /// Index of the chosen candidate (see [`choose`]).
    pub chosen: usize,
}

/// Picks the model with the better out-of-sample record: one that has the edge (beat
/// every baseline and the base rate) over one that has not; then the higher backtest net
/// PnL; then the lower Brier score; a full tie keeps the earlier (simpler) kind. Choosing
/// between two records on the same test windows is itself a mild selection, so the
/// chosen record is a little optimistic; with two candidates that bias is small, and the
/// rule never turns a record without edge into one with it.
pub fn choose(candidates: &[Candidate]) -> usize {
    let mut best = 0;
    for (i, c) in candidates.iter().enumerate().skip(1) {
        let b = &candidates[best];
        let key = |c: &Candidate| (c.has_edge(), c.backtest.model.net_pnl_pct);
        let (ck, bk) = (key(c), key(b));
        let better = match (ck.0, bk.0) {
            (true, false) => true,
            (false, true) => false,
            _ => {
                ck.1 > bk.1
                    || (ck.1 == bk.1 && c.walk_forward.pooled.brier < b.walk_forward.pooled.brier)
            }
        };
        if better {
            best = i;
        }
    }
    best
}

/// Runs walk-forward evaluation of every model kind, then backtests each one's
/// out-of-sample forecasts next to the baselines, and picks the one the signal uses. The
/// funding series feeds the `funding_bp` feature and the backtest's funding payments. The
/// backtest's horizon is forced to the label horizon, the promise the labels make.
///
/// # Errors
/// Whatever [`walk_forward_models`] or [`crate::backtest::backtest`] reject.
pub fn evaluate(
    x: &Ohlcv,
    wf: WalkForwardConfig,
    bt: BacktestConfig,
    funding: &FundingRates,
) -> Result<Evaluation, SignalError> {
    evaluate_with_progress(x, wf, bt, funding, &mut |_, _| {})
}

/// [`evaluate`], calling `progress(folds done, folds in all)` after each walk-forward fold.
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_with_progress(
    x: &Ohlcv,
    wf: WalkForwardConfig,
    bt: BacktestConfig,
    funding: &FundingRates,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Evaluation, SignalError> {
    evaluate_split_funding(x, wf, bt, funding, funding, progress)
}

/// [`evaluate_with_progress`] with one funding series for the `funding_bp` feature and
/// another for the backtest's payments: a caller whose live features cannot see a funding
/// series yet evaluates with the same (empty) series for the features, so the record it
/// shows is that of the model it runs, while trades still pay the real funding.
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_split_funding(
    x: &Ohlcv,
    wf: WalkForwardConfig,
    bt: BacktestConfig,
    features_funding: &FundingRates,
    funding: &FundingRates,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Evaluation, SignalError> {
    let reports = walk_forward_models(x, wf, features_funding, &ModelKind::ALL, progress)?;
    let bt = BacktestConfig {
        horizon: wf.label.horizon,
        ..bt
    };
    let candidates = reports
        .into_iter()
        .map(|walk| {
            let backtest = crate::backtest::backtest(x, &walk.predictions, bt, funding)?;
            Ok(Candidate {
                walk_forward: walk,
                backtest,
            })
        })
        .collect::<Result<Vec<_>, SignalError>>()?;
    let chosen = choose(&candidates);
    Ok(Evaluation { candidates, chosen })
}

impl Evaluation {
    /// The chosen model's record.
    pub fn chosen(&self) -> &Candidate {
        &self.candidates[self.chosen]
    }

    /// The chosen model's record, to edit (tests force both branches of the rule).
    pub fn chosen_mut(&mut self) -> &mut Candidate {
        &mut self.candidates[self.chosen]
    }

    /// The chosen model's kind.
    pub fn model_kind(&self) -> ModelKind {
        self.chosen().kind()
    }

    /// Whether the chosen model may show a direction ([`Candidate::has_edge`]).
    pub fn has_edge(&self) -> bool {
        self.chosen().has_edge()
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

/// One model kind's summary in a model card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateCard {
    pub kind: ModelKind,
    /// Whether the live signal uses this model.
    pub chosen: bool,
    pub metrics: Metrics,
    pub calibration: Vec<CalibrationBucket>,
    /// The backtest of its forecasts, named after the kind.
    pub strategy: StrategyCard,
    /// The coin flip with this model's trade count (the other baselines are the card's).
    pub coin_flip: StrategyCard,
    pub has_edge: bool,
}

/// The model card: what the UI shows next to every signal, as JSON. The top-level fields
/// describe the chosen model; `candidates` lists every kind side by side.
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
    /// The kind of the chosen model.
    #[serde(default = "logistic")]
    pub model_kind: ModelKind,
    /// Every model kind evaluated, the chosen one included.
    #[serde(default)]
    pub candidates: Vec<CandidateCard>,
}

fn logistic() -> ModelKind {
    ModelKind::Logistic
}

impl ModelCard {
    /// Builds the card of one symbol's evaluation.
    pub fn new(symbol: &str, e: &Evaluation) -> Self {
        let c = e.chosen();
        let candidates = e
            .candidates
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let mut strategy = StrategyCard::from(&k.backtest.model);
                strategy.name = k.kind().name().to_string();
                let coin = k
                    .backtest
                    .baselines
                    .iter()
                    .find(|b| b.name == "coin_flip")
                    .map_or_else(|| strategy.clone(), StrategyCard::from);
                CandidateCard {
                    kind: k.kind(),
                    chosen: i == e.chosen,
                    metrics: k.walk_forward.pooled,
                    calibration: k.walk_forward.calibration.clone(),
                    strategy,
                    coin_flip: coin,
                    has_edge: k.has_edge(),
                }
            })
            .collect();
        Self {
            symbol: symbol.to_string(),
            feature_set_version: c.walk_forward.feature_set_version,
            walk_forward_config: c.walk_forward.config,
            backtest_config: c.backtest.config,
            folds: c.walk_forward.folds.clone(),
            metrics: c.walk_forward.pooled,
            calibration: c.walk_forward.calibration.clone(),
            model: (&c.backtest.model).into(),
            baselines: c.backtest.baselines.iter().map(Into::into).collect(),
            has_edge: c.has_edge(),
            model_kind: c.kind(),
            candidates,
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
        gbdt: crate::gbdt::GbdtConfig::default(),
    }
}
