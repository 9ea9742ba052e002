//! Walk-forward evaluation: rolling train / calibrate / test windows with embargo gaps.
//!
//! Windows are in candle indices. Every model kind ([`ModelKind::ALL`]) is fitted on the
//! same folds, so their records compare like for like. For each fold the model trains on `train` candles, an
//! embargo of `embargo` candles follows, Platt calibration uses the next `calibrate`
//! candles, another embargo, then the model is scored on `test` candles; the next fold
//! starts `test` candles later. Labels at `t` look `horizon` candles ahead, so an embargo
//! shorter than the horizon would let a training label see the test period: it is refused.
//! Only up/down rows are used (the dead zone's flat rows are neither trained nor scored).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::backtest::FundingRates;
use crate::features::{FEATURE_SET_VERSION, Ohlcv, compute_features_with_funding};
use crate::gbdt::GbdtConfig;
use crate::labels::{Direction, LabelSpec, forward_labels};
use crate::model::{LogisticConfig, Model, ModelKind, Row, Scorer};

/// Window sizes and model settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WalkForwardConfig {
    pub train: usize,
    pub calibrate: usize,
    pub test: usize,
    pub embargo: usize,
    pub label: LabelSpec,
    /// The logistic model's settings.
    pub model: LogisticConfig,
    /// The boosted trees' settings.
    #[serde(default)]
    pub gbdt: GbdtConfig,
}

/// Out-of-sample scores of a set of probability forecasts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub n: usize,
    /// Share of rows whose label was up.
    pub up_rate: f64,
    /// Share of rows where `p ≥ 0.5` matched the label.
    pub accuracy: f64,
    /// Mean of the per-class accuracies.
    pub balanced_accuracy: f64,
    pub log_loss: f64,
    pub brier: f64,
    /// Brier score of always forecasting the training base rate: the bar to beat.
    pub base_rate_brier: f64,
}

/// One fold's windows and scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldReport {
    pub train_start: DateTime<Utc>,
    pub test_start: DateTime<Utc>,
    pub test_end: DateTime<Utc>,
    pub metrics: Metrics,
}

/// The whole evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalkForwardReport {
    /// The model kind these forecasts come from.
    #[serde(default = "logistic")]
    pub model: ModelKind,
    pub feature_set_version: u32,
    pub config: WalkForwardConfig,
    pub folds: Vec<FoldReport>,
    /// All folds' test rows together.
    pub pooled: Metrics,
    /// Pooled reliability table: 10 equal-width probability buckets.
    pub calibration: Vec<CalibrationBucket>,
    /// Calibrated out-of-sample forecasts for every candle of every test window that has a
    /// feature row (including rows labelled flat, which are not scored): the backtest
    /// trades these, so it only ever sees forecasts from models that did not train on them.
    pub predictions: Vec<OosPrediction>,
}

/// One out-of-sample forecast.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OosPrediction {
    /// Candle index in the evaluated series.
    pub index: usize,
    pub open_time: DateTime<Utc>,
    /// Calibrated probability that the close `horizon` bars later is up.
    pub p_up: f64,
}

/// One bucket of a reliability table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBucket {
    /// The bucket is `[lower, upper)` (the last one includes 1).
    pub lower: f64,
    pub upper: f64,
    pub count: usize,
    /// Mean forecast probability in the bucket (0 when empty).
    pub mean_forecast: f64,
    /// Observed frequency of "up" in the bucket (0 when empty).
    pub observed_up: f64,
}

/// Groups forecasts into `buckets` equal-width probability buckets and compares the mean
/// forecast with the observed frequency in each: a calibrated model lies on the diagonal.
///
/// # Errors
/// [`SignalError::LengthMismatch`], or [`SignalError::BadParam`] for zero buckets or a
/// forecast outside `[0, 1]`.
pub fn calibration_table(
    p: &[f64],
    y: &[bool],
    buckets: usize,
) -> Result<Vec<CalibrationBucket>, SignalError> {
    crate::indicators::check_same_len(p.len(), y.len())?;
    if buckets == 0 {
        return Err(SignalError::BadParam("at least one bucket".into()));
    }
    let mut sum_p = vec![0.0; buckets];
    let mut ups = vec![0usize; buckets];
    let mut count = vec![0usize; buckets];
    for (&pi, &yi) in p.iter().zip(y) {
        if !(0.0..=1.0).contains(&pi) {
            return Err(SignalError::BadParam(format!(
                "forecast {pi} is not a probability"
            )));
        }
        // Truncation picks the bucket; p = 1 belongs to the last one.
        let b = ((pi * buckets as f64) as usize).min(buckets - 1);
        sum_p[b] += pi;
        ups[b] += usize::from(yi);
        count[b] += 1;
    }
    Ok((0..buckets)
        .map(|b| {
            let n = count[b];
            let per = |x: f64| if n > 0 { x / n as f64 } else { 0.0 };
            CalibrationBucket {
                lower: b as f64 / buckets as f64,
                upper: (b + 1) as f64 / buckets as f64,
                count: n,
                mean_forecast: per(sum_p[b]),
                observed_up: per(ups[b] as f64),
            }
        })
        .collect())
}

/// Scores forecasts `p` of "up" against `y`; `base` is the base-rate forecast.
///
/// # Errors
/// [`SignalError::LengthMismatch`] or [`SignalError::BadParam`] for no rows.
pub fn score(p: &[f64], y: &[bool], base: &[f64]) -> Result<Metrics, SignalError> {
    crate::indicators::check_same_len(p.len(), y.len())?;
    crate::indicators::check_same_len(p.len(), base.len())?;
    if p.is_empty() {
        return Err(SignalError::BadParam("no rows to score".into()));
    }
    let n = p.len() as f64;
    let eps = 1e-15;
    let (mut hit, mut ll, mut brier, mut base_brier) = (0.0, 0.0, 0.0, 0.0);
    let (mut ups, mut up_hits, mut down_hits) = (0.0, 0.0, 0.0);
    for ((&pi, &yi), &bi) in p.iter().zip(y).zip(base) {
        let t = if yi { 1.0 } else { 0.0 };
        let correct = (pi >= 0.5) == yi;
        hit += f64::from(u8::from(correct));
        if yi {
            ups += 1.0;
            up_hits += f64::from(u8::from(correct));
        } else {
            down_hits += f64::from(u8::from(correct));
        }
        let q = pi.clamp(eps, 1.0 - eps);
        ll -= t * q.ln() + (1.0 - t) * (1.0 - q).ln();
        brier += (pi - t).powi(2);
        base_brier += (bi - t).powi(2);
    }
    let downs = n - ups;
    let per_class = |hits: f64, total: f64| if total > 0.0 { hits / total } else { 0.0 };
    Ok(Metrics {
        n: p.len(),
        up_rate: ups / n,
        accuracy: hit / n,
        balanced_accuracy: 0.5 * (per_class(up_hits, ups) + per_class(down_hits, downs)),
        log_loss: ll / n,
        brier: brier / n,
        base_rate_brier: base_brier / n,
    })
}

fn logistic() -> ModelKind {
    ModelKind::Logistic
}

struct Sample {
    index: usize,
    row: Row,
    up: bool,
}

fn split(samples: &[Sample], from: usize, to: usize) -> (Vec<Row>, Vec<bool>) {
    samples
        .iter()
        .filter(|s| s.index >= from && s.index < to)
        .map(|s| (s.row, s.up))
        .unzip()
}

/// Runs the walk-forward evaluation of the logistic model over one symbol's candles,
/// without a funding series (see [`walk_forward_models`]).
///
/// # Errors
/// As [`walk_forward_models`].
pub fn walk_forward(
    x: &Ohlcv,
    config: WalkForwardConfig,
) -> Result<WalkForwardReport, SignalError> {
    let mut reports = walk_forward_models(
        x,
        config,
        &FundingRates::default(),
        &[ModelKind::Logistic],
        &mut |_, _| {},
    )?;
    Ok(reports.remove(0))
}

/// Number of folds the walk-forward evaluation of `n` candles makes (0 when none fits),
/// for a caller's progress display.
pub fn fold_count(n: usize, config: &WalkForwardConfig) -> usize {
    let c = config;
    let span = c.train + c.embargo + c.calibrate + c.embargo + c.test;
    let first = crate::features::WARMUP;
    if c.test == 0 || n < first + span {
        0
    } else {
        (n - first - span) / c.test + 1
    }
}

/// Runs the walk-forward evaluation of each of `kinds` over one symbol's candles, on the
/// same folds; returns one report per kind, in the order given. `progress(done, total)`
/// is called after each fold (the crate does no I/O; a CLI draws a bar from it).
///
/// # Errors
/// [`SignalError::BadParam`] for zero-sized windows, no kinds, or an embargo shorter than
/// the label horizon, [`SignalError::TooFewCandles`] when not even one fold fits, and
/// anything the features, labels or model fitting reject.
pub fn walk_forward_models(
    x: &Ohlcv,
    config: WalkForwardConfig,
    funding: &FundingRates,
    kinds: &[ModelKind],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<WalkForwardReport>, SignalError> {
    let c = config;
    if c.train == 0 || c.calibrate == 0 || c.test == 0 {
        return Err(SignalError::BadParam(
            "window sizes must be positive".into(),
        ));
    }
    if kinds.is_empty() {
        return Err(SignalError::BadParam("no model kinds to evaluate".into()));
    }
    if c.embargo < c.label.horizon {
        return Err(SignalError::BadParam(format!(
            "embargo {} is shorter than the label horizon {}",
            c.embargo, c.label.horizon
        )));
    }
    let features = compute_features_with_funding(x, funding)?;
    let labels = forward_labels(&x.close, c.label)?;
    let samples: Vec<Sample> = features
        .rows
        .iter()
        .filter_map(|r| {
            let up = match labels.get(r.index).copied().flatten()? {
                Direction::Up => true,
                Direction::Down => false,
                Direction::Flat => return None,
            };
            Some(Sample {
                index: r.index,
                row: r.values,
                up,
            })
        })
        .collect();
    let span = c.train + c.embargo + c.calibrate + c.embargo + c.test;
    let first = features.rows.first().map_or(0, |r| r.index);
    if x.len() < first + span {
        return Err(SignalError::TooFewCandles {
            needed: first + span,
            got: x.len(),
        });
    }
    let total = (x.len() - first - span) / c.test + 1;
    struct Acc {
        folds: Vec<FoldReport>,
        p: Vec<f64>,
        y: Vec<bool>,
        base: Vec<f64>,
        predictions: Vec<OosPrediction>,
    }
    let mut acc: Vec<Acc> = kinds
        .iter()
        .map(|_| Acc {
            folds: Vec::new(),
            p: Vec::new(),
            y: Vec::new(),
            base: Vec::new(),
            predictions: Vec::new(),
        })
        .collect();
    let mut start = first;
    let mut done = 0;
    while start + span <= x.len() {
        let cal_start = start + c.train + c.embargo;
        let test_start = cal_start + c.calibrate + c.embargo;
        let test_end = test_start + c.test;
        let (tr_x, tr_y) = split(&samples, start, start + c.train);
        let (ca_x, ca_y) = split(&samples, cal_start, cal_start + c.calibrate);
        let (te_x, te_y) = split(&samples, test_start, test_end);
        let te_rows: Vec<&crate::features::FeatureRow> = features
            .rows
            .iter()
            .filter(|r| r.index >= test_start && r.index < test_end)
            .collect();
        let train_start = x.open_time[start];
        start += c.test;
        done += 1;
        if te_x.is_empty() {
            progress(done, total);
            continue;
        }
        let rate = tr_y.iter().filter(|&&u| u).count() as f64 / tr_y.len().max(1) as f64;
        for (&kind, a) in kinds.iter().zip(&mut acc) {
            let model =
                Model::fit_calibrated(kind, (&tr_x, &tr_y), (&ca_x, &ca_y), c.model, c.gbdt)?;
            let p = te_x
                .iter()
                .map(|r| model.predict_proba(FEATURE_SET_VERSION, r))
                .collect::<Result<Vec<_>, _>>()?;
            for r in &te_rows {
                a.predictions.push(OosPrediction {
                    index: r.index,
                    open_time: r.open_time,
                    p_up: model.predict_proba(FEATURE_SET_VERSION, &r.values)?,
                });
            }
            let base = vec![rate; p.len()];
            a.folds.push(FoldReport {
                train_start,
                test_start: x.open_time[test_start],
                test_end: x.open_time[test_end - 1],
                metrics: score(&p, &te_y, &base)?,
            });
            a.p.extend(p);
            a.y.extend(te_y.iter().copied());
            a.base.extend(base);
        }
        progress(done, total);
    }
    kinds
        .iter()
        .zip(acc)
        .map(|(&kind, a)| {
            Ok(WalkForwardReport {
                model: kind,
                feature_set_version: FEATURE_SET_VERSION,
                config: c,
                folds: a.folds,
                pooled: score(&a.p, &a.y, &a.base)?,
                calibration: calibration_table(&a.p, &a.y, 10)?,
                predictions: a.predictions,
            })
        })
        .collect()
}
