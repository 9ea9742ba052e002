//! Walk-forward evaluation: rolling train / calibrate / test windows with embargo gaps.
//!
//! Windows are in candle indices. Every model kind ([`ModelKind::ALL`]) is fitted on the
//! same folds, so their records compare like for like. For each fold the model trains on `train` candles, an
//! embargo of `embargo` candles follows, Platt calibration uses the next `calibrate`
//! candles, another embargo, then the model is scored on `test` candles; the next fold
//! starts `test` candles later. Labels at `t` look `horizon` candles ahead, so an embargo
//! shorter than the horizon would let a training label see the test period: it is refused.
//!
//! The model trains and calibrates on up/down rows only (a move inside the fee-aware dead zone
//! teaches nothing about direction). It is **scored on every test bar** whose outcome is in the
//! data, dead-zone bars included, against the sign of the realised move (`close[t + h] >
//! close[t]`): scoring only bars whose move left the dead zone would select bars by their
//! outcome. The Brier score's bar to beat is climatology **of the scored rows themselves**
//! (their own up-rate, which the model never saw), not the training fold's up-rate: a short
//! test window whose up-rate drifted from the training fold's made a skill-less forecast look
//! skilful against the stale rate.

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

/// Out-of-sample scores of a set of probability forecasts, over every scored bar.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Scored bars (every test bar with a known outcome, dead-zone bars included).
    pub n: usize,
    /// Share of scored bars whose close `horizon` bars later was above.
    pub up_rate: f64,
    /// Share of scored bars where `p ≥ 0.5` matched the realised direction.
    pub accuracy: f64,
    /// Mean of the per-class accuracies.
    pub balanced_accuracy: f64,
    pub log_loss: f64,
    pub brier: f64,
    /// Brier score of climatology: always forecasting the scored bars' own up-rate,
    /// `up_rate · (1 − up_rate)`. The bar to beat.
    pub base_rate_brier: f64,
    /// `1 − brier / base_rate_brier`: above 0 only when the forecasts beat climatology.
    #[serde(default)]
    pub brier_skill: f64,
}

/// Brier skill of probability forecasts against climatology on the same rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BrierSkill {
    /// Rows scored.
    pub n: usize,
    /// The rows' own share of "up": climatology's forecast.
    pub base_rate: f64,
    pub brier: f64,
    /// `base_rate · (1 − base_rate)`.
    pub climatology_brier: f64,
    /// `1 − brier / climatology_brier` (0 when climatology is perfect, i.e. one class only).
    pub skill: f64,
}

/// Scores probability forecasts `p` of "up" against outcomes `y` by the Brier score and
/// its skill against climatology of the same rows. Give it rows the model never saw.
///
/// # Errors
/// [`SignalError::LengthMismatch`], or [`SignalError::BadParam`] for no rows or a forecast
/// that is not a probability.
pub fn brier_skill(p: &[f64], y: &[bool]) -> Result<BrierSkill, SignalError> {
    crate::indicators::check_same_len(p.len(), y.len())?;
    if p.is_empty() {
        return Err(SignalError::BadParam("no rows to score".into()));
    }
    if let Some(bad) = p.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        return Err(SignalError::BadParam(format!(
            "forecast {bad} is not a probability"
        )));
    }
    let n = p.len() as f64;
    let base_rate = y.iter().filter(|&&u| u).count() as f64 / n;
    let brier = p
        .iter()
        .zip(y)
        .map(|(&pi, &yi)| (pi - f64::from(u8::from(yi))).powi(2))
        .sum::<f64>()
        / n;
    let climatology_brier = base_rate * (1.0 - base_rate);
    Ok(BrierSkill {
        n: p.len(),
        base_rate,
        brier,
        climatology_brier,
        skill: skill(brier, climatology_brier),
    })
}

fn skill(brier: f64, climatology: f64) -> f64 {
    if climatology > 0.0 {
        1.0 - brier / climatology
    } else {
        0.0
    }
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
    /// feature row (rows labelled flat included; the last `horizon` bars of the data, whose
    /// outcome is unknown, are forecast but not scored): the backtest
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

/// Scores forecasts `p` of "up" against outcomes `y`, with climatology (the rows' own
/// up-rate) as the Brier score's bar.
///
/// # Errors
/// [`SignalError::LengthMismatch`] or [`SignalError::BadParam`] for no rows.
pub fn score(p: &[f64], y: &[bool]) -> Result<Metrics, SignalError> {
    crate::indicators::check_same_len(p.len(), y.len())?;
    if p.is_empty() {
        return Err(SignalError::BadParam("no rows to score".into()));
    }
    let n = p.len() as f64;
    let eps = 1e-15;
    let (mut hit, mut ll, mut brier) = (0.0, 0.0, 0.0);
    let (mut ups, mut up_hits, mut down_hits) = (0.0, 0.0, 0.0);
    for (&pi, &yi) in p.iter().zip(y) {
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
    }
    let downs = n - ups;
    let per_class = |hits: f64, total: f64| if total > 0.0 { hits / total } else { 0.0 };
    let up_rate = ups / n;
    let base_rate_brier = up_rate * (1.0 - up_rate);
    Ok(Metrics {
        n: p.len(),
        up_rate,
        accuracy: hit / n,
        balanced_accuracy: 0.5 * (per_class(up_hits, ups) + per_class(down_hits, downs)),
        log_loss: ll / n,
        brier: brier / n,
        base_rate_brier,
        brier_skill: skill(brier / n, base_rate_brier),
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
    let h = c.label.horizon;
    // The realised direction of every bar whose outcome is in the data, for scoring.
    let outcome = |i: usize| (i + h < x.len()).then(|| x.close[i + h] > x.close[i]);
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
        predictions: Vec<OosPrediction>,
    }
    let mut acc: Vec<Acc> = kinds
        .iter()
        .map(|_| Acc {
            folds: Vec::new(),
            p: Vec::new(),
            y: Vec::new(),
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
        let te_rows: Vec<&crate::features::FeatureRow> = features
            .rows
            .iter()
            .filter(|r| r.index >= test_start && r.index < test_end)
            .collect();
        let te_outcome: Vec<Option<bool>> = te_rows.iter().map(|r| outcome(r.index)).collect();
        let te_y: Vec<bool> = te_outcome.iter().flatten().copied().collect();
        let train_start = x.open_time[start];
        start += c.test;
        done += 1;
        if te_y.is_empty() {
            progress(done, total);
            continue;
        }
        for (&kind, a) in kinds.iter().zip(&mut acc) {
            let model =
                Model::fit_calibrated(kind, (&tr_x, &tr_y), (&ca_x, &ca_y), c.model, c.gbdt)?;
            let mut p = Vec::with_capacity(te_y.len());
            for (r, y) in te_rows.iter().zip(&te_outcome) {
                let p_up = model.predict_proba(FEATURE_SET_VERSION, &r.values)?;
                a.predictions.push(OosPrediction {
                    index: r.index,
                    open_time: r.open_time,
                    p_up,
                });
                if y.is_some() {
                    p.push(p_up);
                }
            }
            a.folds.push(FoldReport {
                train_start,
                test_start: x.open_time[test_start],
                test_end: x.open_time[test_end - 1],
                metrics: score(&p, &te_y)?,
            });
            a.p.extend(p);
            a.y.extend(te_y.iter().copied());
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
                pooled: score(&a.p, &a.y)?,
                calibration: calibration_table(&a.p, &a.y, 10)?,
                predictions: a.predictions,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::edge::SplitMix64;

    #[test]
    fn climatology_is_the_scored_rows_own_base_rate() {
        let y = [true, true, true, false];
        // Forecasting the rows' own rate is climatology: no skill, whatever the training
        // rate was.
        let m = score(&[0.75; 4], &y).expect("valid");
        assert!((m.base_rate_brier - 0.1875).abs() < 1e-15);
        assert!((m.brier - m.base_rate_brier).abs() < 1e-15);
        assert!(m.brier_skill.abs() < 1e-12);
        let b = brier_skill(&[0.75; 4], &y).expect("valid");
        assert_eq!((b.n, b.base_rate), (4, 0.75));
        assert!((b.brier - m.brier).abs() < 1e-15 && b.skill.abs() < 1e-12);
        let sharp = brier_skill(&[0.9, 0.9, 0.9, 0.1], &y).expect("valid");
        assert!((sharp.skill - (1.0 - 0.01 / 0.1875)).abs() < 1e-12);
        // One class only: climatology is perfect and nothing beats it.
        assert_eq!(
            brier_skill(&[0.9, 0.9], &[true, true])
                .expect("valid")
                .skill,
            0.0
        );
        assert!(brier_skill(&[], &[]).is_err());
        assert!(brier_skill(&[1.2], &[true]).is_err());
        assert!(brier_skill(&[0.5], &[true, false]).is_err());
    }

    #[test]
    fn walk_forward_scores_every_test_bar_with_a_known_outcome() {
        let n = 1_600;
        let mut rng = SplitMix64::new(4);
        let mut close = Vec::with_capacity(n);
        let mut price = 100.0;
        for i in 0..n {
            // Every fifth bar does not move: a dead-zone bar the old scoring skipped.
            if i % 5 != 0 {
                price *= 1.0 + 0.01 * (rng.unit() - 0.5);
            }
            close.push(price);
        }
        let x = Ohlcv {
            open_time: (0..n as i64)
                .map(|i| {
                    DateTime::from_timestamp(1_609_459_200, 0).expect("time") + Duration::hours(i)
                })
                .collect(),
            open: close.clone(),
            high: close.iter().map(|c| c * 1.002).collect(),
            low: close.iter().map(|c| c * 0.998).collect(),
            volume: (0..n).map(|i| 10.0 + (i % 7) as f64).collect(),
            close,
        };
        let label = LabelSpec::fee_aware(4, 0.0005, 0.0001).expect("spec");
        let config = WalkForwardConfig {
            train: 600,
            calibrate: 300,
            test: 200,
            embargo: 4,
            label,
            model: LogisticConfig::default(),
            gbdt: GbdtConfig::default(),
        };
        let r = walk_forward(&x, config).expect("one fold at least");
        let scored: Vec<&OosPrediction> =
            r.predictions.iter().filter(|p| p.index + 4 < n).collect();
        assert_eq!(r.pooled.n, scored.len());
        let labels = forward_labels(&x.close, label).expect("labels");
        let flat = scored
            .iter()
            .filter(|p| labels[p.index] == Some(Direction::Flat))
            .count();
        assert!(flat > 0, "dead-zone bars are among the scored ones");
        let ups = scored
            .iter()
            .filter(|p| x.close[p.index + 4] > x.close[p.index])
            .count();
        assert!((r.pooled.up_rate - ups as f64 / scored.len() as f64).abs() < 1e-12);
        let p = r.pooled.up_rate;
        assert!((r.pooled.base_rate_brier - p * (1.0 - p)).abs() < 1e-12);
        let folds: usize = r.folds.iter().map(|f| f.metrics.n).sum();
        assert_eq!(folds, r.pooled.n);
    }
}
