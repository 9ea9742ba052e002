//! The evaluation pipeline in one call and the model card the UI renders from it.
//!
//! Whether a model may show a direction is decided by the edge test ([`crate::edge`]): its
//! out-of-sample trades, as a 1h book of the symbol with the backtest's costs and the real
//! funding at the symbol's own times, must beat random timing of the same positions, stay
//! significant after every configuration in the trial log (both model kinds evaluated here
//! count as two more), keep a positive bootstrap interval, beat buy-and-hold of the symbol
//! on Sharpe over the same bars, make at least 30 independent trades, and beat climatology
//! on the Brier score. (It used to be "more net profit than buy-and-hold and one seeded coin
//! flip", which rewarded market direction and passed skill-less forecasts.)

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::backtest::{
    BacktestConfig, BacktestReport, BacktestResult, DEFAULT_FUNDING_RATE, EquityPoint, FundingRates,
};
use crate::edge::{Book, Costs, EdgeTest, TrialLog, Verdict, daily, simulate, stats};
use crate::evaluate::{
    BrierSkill, CalibrationBucket, FoldReport, Metrics, WalkForwardConfig, WalkForwardReport,
    walk_forward_models,
};
use crate::features::Ohlcv;
use crate::model::ModelKind;

/// Most points an equity curve keeps in a model card: enough for a chart, small as JSON.
pub const MAX_CURVE_POINTS: usize = 500;

/// One model kind's out-of-sample record on a symbol: its walk-forward forecasts, the
/// backtest of them next to the baselines, and the edge test's verdict on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub walk_forward: WalkForwardReport,
    pub backtest: BacktestReport,
    pub verdict: Verdict,
}

impl Candidate {
    /// The model kind.
    pub fn kind(&self) -> ModelKind {
        self.walk_forward.model
    }

    /// The "no claim without evidence" rule: the model may show a direction only when the
    /// edge test finds an edge in its out-of-sample record (module docs).
    pub fn has_edge(&self) -> bool {
        self.verdict.edge
    }
}

/// The backtest's positions as a 1h book of the symbol over the tested bars: each trade's
/// side × leverage from the bar after its entry close through its exit bar, close to close
/// (a barrier fill inside a bar counts at that bar's close), with the backtest's costs and
/// the funding settled inside each bar (at the series' own times, the default outside it).
///
/// # Errors
/// [`SignalError::BadParam`] when the report's span does not index the candles.
pub fn trade_book(
    x: &Ohlcv,
    report: &BacktestReport,
    funding: &FundingRates,
) -> Result<Book, SignalError> {
    let from = x.open_time.partition_point(|&t| t < report.start);
    let to = x.open_time.partition_point(|&t| t <= report.end);
    if from >= to || from == 0 {
        return Err(SignalError::BadParam(
            "the backtest's span does not index the candles after the first".into(),
        ));
    }
    let cfg = report.config;
    let mut weights = vec![0.0; to - from];
    for t in &report.model.trade_log {
        let s = match t.side {
            crate::backtest::Side::Long => cfg.leverage,
            crate::backtest::Side::Short => -cfg.leverage,
        };
        for w in weights
            .iter_mut()
            .take(t.exit_index + 1 - from)
            .skip(t.entry_index + 1 - from)
        {
            *w = s;
        }
    }
    let hour = Duration::hours(1);
    Ok(Book {
        bar: hour,
        times: x.open_time[from..to].to_vec(),
        assets: vec!["symbol".into()],
        weights: vec![weights],
        returns: vec![
            (from..to)
                .map(|i| x.close[i] / x.close[i - 1] - 1.0)
                .collect(),
        ],
        funding: vec![
            (from..to)
                .map(|i| {
                    funding
                        .charge_at(x.open_time[i] + hour, DEFAULT_FUNDING_RATE)
                        .unwrap_or(0.0)
                })
                .collect(),
        ],
        costs: Costs {
            taker_fee: cfg.taker_fee,
            slippage: cfg.slippage,
        },
    })
}

/// The Brier skill behind a walk-forward's pooled metrics.
pub fn pooled_brier(m: &Metrics) -> BrierSkill {
    BrierSkill {
        n: m.n,
        base_rate: m.up_rate,
        brier: m.brier,
        climatology_brier: m.base_rate_brier,
        skill: m.brier_skill,
    }
}

/// The annualised Sharpe of a book's daily net returns.
fn book_sharpe(book: &Book) -> Result<f64, SignalError> {
    let sim = simulate(book)?;
    let (_, net) = daily(&book.times, &sim.net);
    Ok(stats(&net)?.sharpe)
}

/// Every model kind's record on one symbol and the one the live signal uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// One per kind, in [`ModelKind::ALL`] order.
    pub candidates: Vec<Candidate>,
    /// Index of the chosen candidate (see [`choose`]).
    pub chosen: usize,
}

/// Picks the model with the better out-of-sample record: one that has the edge over one
/// that has not; then the higher Sharpe of its daily net returns; then the lower Brier
/// score; a full tie keeps the earlier (simpler) kind. Choosing between two records on the
/// same test windows is a selection: the edge test counts both kinds as trials, so the
/// choice is paid for in the deflated Sharpe.
pub fn choose(candidates: &[Candidate]) -> usize {
    let mut best = 0;
    for (i, c) in candidates.iter().enumerate().skip(1) {
        let b = &candidates[best];
        let key = |c: &Candidate| (c.has_edge(), c.verdict.strategy.sharpe);
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
    let tested = reports
        .into_iter()
        .map(|walk| {
            let backtest = crate::backtest::backtest(x, &walk.predictions, bt, funding)?;
            let book = trade_book(x, &backtest, funding)?;
            let sharpe = book_sharpe(&book)?;
            Ok((walk, backtest, book, sharpe))
        })
        .collect::<Result<Vec<_>, SignalError>>()?;
    // Every kind evaluated here is one more trial on top of the log.
    let sharpes: Vec<f64> = tested.iter().map(|t| t.3).collect();
    let trials = TrialLog::shipped()?.summary_with(&sharpes);
    let candidates = tested
        .into_iter()
        .map(|(walk, backtest, book, _)| {
            let brier = pooled_brier(&walk.pooled);
            let verdict =
                EdgeTest::STANDARD.judge(&book, &book.buy_and_hold(), &trials, Some(brier))?;
            Ok(Candidate {
                walk_forward: walk,
                backtest,
                verdict,
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
    /// The edge test's verdict (its numbers and every reason it is flat).
    #[serde(default)]
    pub verdict: Option<Verdict>,
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
    /// Whether the edge test lets the model show a direction.
    pub has_edge: bool,
    /// The chosen model's verdict.
    #[serde(default)]
    pub verdict: Option<Verdict>,
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
                    verdict: Some(k.verdict.clone()),
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
            verdict: Some(c.verdict.clone()),
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
