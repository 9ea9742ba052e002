//! The learned model pooled across symbols (docs/signals.md, part 3): ten standard features
//! per symbol in volatility units, rows of every symbol stacked without a symbol id, an L2
//! logistic regression refitted on an expanding window at a fixed step with a purge, and its
//! forecast `2p − 1` as the family's signal.
//!
//! Invariants: a forecast at bar `t`'s close uses only bars closed by then (features look
//! back; a model fitted at bar `f` trains on rows whose label ended `purge_bars` before `f`);
//! the fit schedule depends only on the panel's first bar and the freeze date, never on later
//! data; fitting is deterministic, so the same panel gives the same forecasts bit for bit.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::bars::Panel;
use crate::indicators::{rsi, sma};
use crate::model::{fit_newton, sigmoid};
use crate::sizing::{VolTarget, ewma_vol};

/// Binance's neutral funding rate per 8h (the premium inside its clamp band).
const NEUTRAL_FUNDING_8H: f64 = 0.0001;
/// Newton iterations at most (the 1h logistic's setting).
const MAX_ITER: usize = 50;
const TOL: f64 = 1e-10;

/// One pooled-model configuration (one trial), as the strategy file writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PooledFamily {
    pub id: String,
    /// The horizon's bar: 4 or 24 hours.
    pub bar_hours: i64,
    /// Lookbacks (days) of the volatility-normalised returns.
    pub return_days: Vec<usize>,
    /// Lookbacks (days) of the moving averages whose distance is a feature.
    pub ma_days: Vec<usize>,
    /// Period (daily closes) of the RSI.
    pub rsi_days: usize,
    /// Days over which funding's mean is taken.
    pub funding_days: usize,
    /// Lookbacks (days, each one of `return_days`) whose momentum is ranked across symbols.
    pub rank_days: Vec<usize>,
    /// Days from the panel's first bar to the first fit.
    pub first_fit_days: i64,
    /// Days between fits.
    pub retrain_days: i64,
    /// Bars between the end of the last training label and the first forecast (≥ 1, the
    /// label horizon).
    pub purge_bars: usize,
    /// Rows a fit needs (else no model until the next fit).
    pub min_rows: usize,
    /// L2 penalty per sample on standardised weights.
    pub l2: f64,
}

impl PooledFamily {
    /// Bars per day.
    pub fn bars_per_day(&self) -> usize {
        usize::try_from(24 / self.bar_hours.max(1)).unwrap_or(1)
    }

    /// Number of features a row has.
    pub fn n_features(&self) -> usize {
        self.return_days.len() + self.ma_days.len() + 2 + self.rank_days.len()
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// [`SignalError::Strategy`] naming the configuration and the bad value.
    pub fn check(&self) -> Result<(), SignalError> {
        let bad = |what: &str| Err(SignalError::Strategy(format!("{}: {what}", self.id)));
        let days_ok = |d: &[usize]| !d.is_empty() && d.iter().all(|&n| n >= 1);
        if self.bar_hours != 4 && self.bar_hours != 24 {
            return bad("bar_hours must be 4 or 24");
        }
        if !days_ok(&self.return_days) || !days_ok(&self.ma_days) {
            return bad("return_days and ma_days must be non-empty and at least 1 day");
        }
        if self.rank_days.iter().any(|d| !self.return_days.contains(d)) {
            return bad("every rank_days lookback must be one of return_days");
        }
        if self.rsi_days < 2 || self.funding_days < 1 {
            return bad("rsi_days must be at least 2 and funding_days at least 1");
        }
        if self.first_fit_days < 1 || self.retrain_days < 1 {
            return bad("first_fit_days and retrain_days must be at least 1");
        }
        if self.purge_bars < 1 {
            return bad("purge_bars must be at least 1 (the label horizon)");
        }
        if self.min_rows < 2 {
            return bad("min_rows must be at least 2");
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return bad("l2 must be a non-negative number");
        }
        Ok(())
    }

    /// The horizon in days (the stop's and the next decision's).
    pub fn horizon_days(&self) -> f64 {
        self.bar_hours as f64 / 24.0
    }

    /// The sizing's volatility settings on this family's bars: the same half-life and
    /// seeding in days as `daily`'s, annualised by bars a year.
    pub fn vol_target(&self, daily: &VolTarget) -> VolTarget {
        daily.per_day(self.bars_per_day())
    }
}

/// Feature rows of every asset and bar of a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    /// Features per row.
    pub d: usize,
    pub n_bars: usize,
    /// `[(asset · n_bars + bar) · d + j]`.
    pub values: Vec<f64>,
    /// Whether the row at `asset · n_bars + bar` has every feature.
    pub valid: Vec<bool>,
}

impl FeatureTable {
    /// The row of asset `a` at bar `t`, when it has every feature.
    pub fn row(&self, a: usize, t: usize) -> Option<&[f64]> {
        let i = a * self.n_bars + t;
        self.valid[i].then(|| &self.values[i * self.d..(i + 1) * self.d])
    }
}

/// Runs a ta-lib series over the forward-filled closes from the first close on.
fn filled_series(
    filled: &[Option<f64>],
    f: impl Fn(&[f64]) -> Result<Vec<Option<f64>>, SignalError>,
) -> Result<Vec<Option<f64>>, SignalError> {
    let Some(first) = filled.iter().position(Option::is_some) else {
        return Ok(vec![None; filled.len()]);
    };
    let x: Vec<f64> = filled[first..].iter().map(|c| c.unwrap_or(0.0)).collect();
    let mut out = vec![None; first];
    out.extend(f(&x)?);
    Ok(out)
}

/// One asset's series the features are read from.
struct AssetInputs<'a> {
    k: usize,
    close: &'a [Option<f64>],
    filled: &'a [Option<f64>],
    /// Per-bar volatility.
    sigma: &'a [Option<f64>],
    mas: &'a [Vec<Option<f64>>],
    /// The daily RSI in force at each bar.
    rsi: &'a [Option<f64>],
}

impl AssetInputs<'_> {
    /// Writes the row at bar `t` (all but the ranks, filled later) when every input is known;
    /// `funding` is the window's charge per 8h.
    fn fill(
        &self,
        cfg: &PooledFamily,
        t: usize,
        funding: Option<f64>,
        row: &mut [f64],
    ) -> Option<()> {
        self.close[t]?;
        let k = self.k;
        let now = self.filled[t]?;
        let s = self.sigma[t].filter(|s| *s > 0.0)?;
        let mut col = 0;
        for &l in &cfg.return_days {
            let then = self.filled[t.checked_sub(l * k)?]?;
            row[col] = (now / then - 1.0) / (s * ((l * k) as f64).sqrt());
            col += 1;
        }
        for ma in self.mas {
            row[col] = (now / ma[t]? - 1.0) / (s * (k as f64).sqrt());
            col += 1;
        }
        row[col] = (self.rsi[t]? - 50.0) / 50.0;
        row[col + 1] = (funding? - NEUTRAL_FUNDING_8H) * 1e4;
        row[..col + 2].iter().all(|v| v.is_finite()).then_some(())
    }
}

/// The ten features (docs/signals.md, part 3) of every asset at every bar's close.
///
/// # Errors
/// [`SignalError::BadParam`] for a panel whose bar is not the family's, and what the
/// indicators refuse.
pub fn features(
    cfg: &PooledFamily,
    panel: &Panel,
    daily: &VolTarget,
) -> Result<FeatureTable, SignalError> {
    cfg.check()?;
    if panel.bar != Duration::hours(cfg.bar_hours) {
        return Err(SignalError::BadParam(format!(
            "{} runs on bars of {} h, not {}",
            cfg.id, cfg.bar_hours, panel.bar
        )));
    }
    let k = cfg.bars_per_day();
    let vt = cfg.vol_target(daily);
    let (n_assets, n) = (panel.assets.len(), panel.len());
    let d = cfg.n_features();
    let mut values = vec![0.0; n_assets * n * d];
    let mut valid = vec![false; n_assets * n];
    // Bars whose close is a UTC midnight carry the daily close.
    let midnight: Vec<bool> = (0..n)
        .map(|t| panel.close_time(t).timestamp() % 86_400 == 0)
        .collect();
    let rank_cols: Vec<usize> = cfg
        .rank_days
        .iter()
        .map(|r| cfg.return_days.iter().position(|x| x == r).unwrap_or(0))
        .collect();
    for a in 0..n_assets {
        let c = panel.filled_close(a);
        let sigma: Vec<Option<f64>> = ewma_vol(&panel.returns[a], &panel.observed[a], &vt)
            .into_iter()
            .map(|v| v.map(|v| v / vt.bars_per_year.sqrt()))
            .collect();
        let mas = cfg
            .ma_days
            .iter()
            .map(|&m| filled_series(&c, |x| sma(x, m * k)))
            .collect::<Result<Vec<_>, _>>()?;
        // The daily RSI at each bar: from the last daily close at or before its close.
        let daily_idx: Vec<usize> = (0..n).filter(|&t| midnight[t]).collect();
        let daily_close: Vec<Option<f64>> = daily_idx.iter().map(|&t| c[t]).collect();
        let daily_rsi = filled_series(&daily_close, |x| rsi(x, cfg.rsi_days))?;
        let mut rsi_at = vec![None; n];
        let mut j = 0;
        let mut last = None;
        for (t, slot) in rsi_at.iter_mut().enumerate() {
            if j < daily_idx.len() && daily_idx[j] == t {
                last = daily_rsi[j];
                j += 1;
            }
            *slot = last;
        }
        let inputs = AssetInputs {
            k,
            close: &panel.close[a],
            filled: &c,
            sigma: &sigma,
            mas: &mas,
            rsi: &rsi_at,
        };
        let window = cfg.funding_days * k;
        let per_8h = (cfg.funding_days * 3) as f64;
        let mut funding_sum = 0.0;
        for t in 0..n {
            funding_sum += panel.funding[a][t];
            if t >= window {
                funding_sum -= panel.funding[a][t - window];
            }
            let row = &mut values[(a * n + t) * d..(a * n + t + 1) * d];
            let funding = (t + 1 >= window).then_some(funding_sum / per_8h);
            valid[a * n + t] = inputs.fill(cfg, t, funding, row).is_some();
        }
    }
    // Cross-sectional ranks, bar by bar, among the assets with the lookback's momentum.
    let base = cfg.return_days.len() + cfg.ma_days.len() + 2;
    for t in 0..n {
        for (r, &src) in rank_cols.iter().enumerate() {
            let mut have: Vec<(f64, usize)> = (0..n_assets)
                .filter(|&a| valid[a * n + t])
                .map(|a| (values[(a * n + t) * d + src], a))
                .collect();
            have.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            let m = have.len();
            for (i, &(_, a)) in have.iter().enumerate() {
                values[(a * n + t) * d + base + r] = if m > 1 {
                    i as f64 / (m - 1) as f64 - 0.5
                } else {
                    0.0
                };
            }
        }
    }
    Ok(FeatureTable {
        d,
        n_bars: n,
        values,
        valid,
    })
}

/// `labels[a][t]`: whether the return over bar `t + 1` is above 0 (`None` when bar `t + 1`
/// has no observed return).
pub fn labels(panel: &Panel) -> Vec<Vec<Option<bool>>> {
    (0..panel.assets.len())
        .map(|a| {
            (0..panel.len())
                .map(|t| {
                    let u = t + 1;
                    (u < panel.len() && panel.observed[a][u]).then(|| panel.returns[a][u] > 0.0)
                })
                .collect()
        })
        .collect()
}

/// A fitted pooled model: standardisation and logistic weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledModel {
    /// The close of the bar it was fitted at; it forecasts from there.
    pub fitted_at: DateTime<Utc>,
    /// Rows it was fitted on.
    pub n_train: usize,
    /// The last training row's bar (its label ended `purge_bars` before the fit).
    pub last_row_bar: usize,
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    pub weights: Vec<f64>,
    pub intercept: f64,
}

impl PooledModel {
    /// Probability of an up move over the next bar.
    pub fn predict(&self, row: &[f64]) -> f64 {
        let z = self.intercept
            + row
                .iter()
                .zip(&self.mean)
                .zip(&self.scale)
                .zip(&self.weights)
                .map(|(((v, m), s), w)| (v - m) / s * w)
                .sum::<f64>();
        sigmoid(z)
    }
}

/// The bars at whose close the model is refitted: `first_fit_days` after the panel's first
/// bar, then every `retrain_days`, up to the freeze date's end.
pub fn fit_bars(cfg: &PooledFamily, panel: &Panel, freeze: NaiveDate) -> Vec<usize> {
    let Some(&start) = panel.times.first() else {
        return Vec::new();
    };
    let freeze_end =
        DateTime::<Utc>::from_naive_utc_and_offset(freeze.into(), Utc) + Duration::days(1);
    let mut out = Vec::new();
    let mut at = start + Duration::days(cfg.first_fit_days);
    while at <= freeze_end {
        // The bar whose close is `at` (grids are aligned, so closes fall on the schedule).
        let Ok(f) =
            usize::try_from((at - panel.bar - start).num_seconds() / panel.bar.num_seconds())
        else {
            break;
        };
        if f >= panel.len() {
            break;
        }
        out.push(f);
        at += Duration::days(cfg.retrain_days);
    }
    out
}

/// Fits the model at bar `f` on every labelled row `t` with `t + 1 + purge_bars ≤ f`.
/// `Ok(None)` when there are fewer than `min_rows` rows or a single class.
///
/// # Errors
/// [`SignalError::Fit`] for a numerical failure.
#[allow(clippy::needless_range_loop)] // rows are stacked bar by bar across assets: y[a][t]
pub fn fit_at(
    cfg: &PooledFamily,
    panel: &Panel,
    x: &FeatureTable,
    y: &[Vec<Option<bool>>],
    f: usize,
) -> Result<Option<PooledModel>, SignalError> {
    let Some(end) = (f + 1).checked_sub(1 + cfg.purge_bars) else {
        return Ok(None);
    };
    let d = x.d;
    let mut rows = Vec::new();
    let mut ys = Vec::new();
    let mut last_row_bar = 0;
    for t in 0..end.min(panel.len()) {
        for a in 0..panel.assets.len() {
            if let (Some(r), Some(l)) = (x.row(a, t), y[a][t]) {
                rows.extend_from_slice(r);
                ys.push(l);
                last_row_bar = t;
            }
        }
    }
    let ups = ys.iter().filter(|&&u| u).count();
    if ys.len() < cfg.min_rows || ups == 0 || ups == ys.len() {
        return Ok(None);
    }
    let n = ys.len() as f64;
    let mut mean = vec![0.0; d];
    for r in rows.chunks_exact(d) {
        for (m, v) in mean.iter_mut().zip(r) {
            *m += v / n;
        }
    }
    let mut scale = vec![0.0; d];
    for r in rows.chunks_exact(d) {
        for j in 0..d {
            scale[j] += (r[j] - mean[j]).powi(2) / n;
        }
    }
    for s in &mut scale {
        *s = if *s > 0.0 { s.sqrt() } else { 1.0 };
    }
    for r in rows.chunks_exact_mut(d) {
        for j in 0..d {
            r[j] = (r[j] - mean[j]) / scale[j];
        }
    }
    let (weights, intercept) = fit_newton(&rows, d, &ys, cfg.l2, MAX_ITER, TOL)?;
    Ok(Some(PooledModel {
        fitted_at: panel.close_time(f),
        n_train: ys.len(),
        last_row_bar,
        mean,
        scale,
        weights,
        intercept,
    }))
}

/// What the pooled family says over a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct PooledOutput {
    /// `[asset][bar]`: `2p − 1` at the bar's close (held over bars without a close, 0 before
    /// the first model and outside the asset's data).
    pub signal: Vec<Vec<f64>>,
    /// `[asset][bar]`: the forecast probability of an up move over the next bar, where one
    /// was made.
    pub probability: Vec<Vec<Option<f64>>>,
    /// `[asset][bar]`: the outcome the forecast is scored on.
    pub labels: Vec<Vec<Option<bool>>>,
    /// Every model fitted, in order.
    pub models: Vec<PooledModel>,
}

/// Writes the forecast of `model` (if any) at bar `t` for every asset in its span: `2p − 1`
/// where the row has every feature, the previous signal over a bar without a close.
fn forecast_bar(
    panel: &Panel,
    x: &FeatureTable,
    t: usize,
    model: Option<&PooledModel>,
    signal: &mut [Vec<f64>],
    probability: &mut [Vec<Option<f64>>],
) {
    for a in 0..panel.assets.len() {
        let Some((first, last)) = panel.span[a] else {
            continue;
        };
        if t < first || t > last {
            continue;
        }
        match (model, x.row(a, t)) {
            (Some(m), Some(r)) => {
                let p = m.predict(r);
                probability[a][t] = Some(p);
                signal[a][t] = 2.0 * p - 1.0;
            }
            _ if panel.close[a][t].is_none() && t > first => {
                signal[a][t] = signal[a][t - 1];
            }
            _ => {}
        }
    }
}

/// Every scheduled fit, in order. The fits are independent of each other (each reads the
/// rows its purge allows), so they are shared among the machine's cores; each is computed
/// exactly as alone, so the models do not depend on how many cores there are.
fn fit_all(
    cfg: &PooledFamily,
    panel: &Panel,
    x: &FeatureTable,
    y: &[Vec<Option<bool>>],
    fits: &[usize],
) -> Result<Vec<Option<PooledModel>>, SignalError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(fits.len());
    if threads <= 1 {
        return fits.iter().map(|&f| fit_at(cfg, panel, x, y, f)).collect();
    }
    // Later fits have more rows: dealing the fits round-robin balances the threads.
    type Dealt = Vec<(usize, Result<Option<PooledModel>, SignalError>)>;
    let results: Vec<Dealt> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                scope.spawn(move || {
                    (k..fits.len())
                        .step_by(threads)
                        .map(|i| (i, fit_at(cfg, panel, x, y, fits[i])))
                        .collect::<Dealt>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a fit does not panic"))
            .collect()
    });
    let mut out: Vec<Option<Result<Option<PooledModel>, SignalError>>> =
        (0..fits.len()).map(|_| None).collect();
    for (i, r) in results.into_iter().flatten() {
        out[i] = Some(r);
    }
    out.into_iter()
        .map(|r| r.expect("every fit was dealt to a thread"))
        .collect()
}

/// Runs the pooled family over a panel of its bar: features, the fit schedule up to
/// `freeze`, and the out-of-sample forecasts of each model until the next fit.
///
/// # Errors
/// As [`features`] and [`fit_at`].
pub fn run(
    cfg: &PooledFamily,
    panel: &Panel,
    daily: &VolTarget,
    freeze: NaiveDate,
) -> Result<PooledOutput, SignalError> {
    let x = features(cfg, panel, daily)?;
    let y = labels(panel);
    let (n_assets, n) = (panel.assets.len(), panel.len());
    let mut signal = vec![vec![0.0; n]; n_assets];
    let mut probability = vec![vec![None; n]; n_assets];
    let fits = fit_bars(cfg, panel, freeze);
    let fitted = fit_all(cfg, panel, &x, &y, &fits)?;
    let mut models = Vec::new();
    let mut current: Option<&PooledModel> = None;
    let mut next_fit = 0;
    for t in 0..n {
        if next_fit < fits.len() && fits[next_fit] == t {
            if let Some(m) = &fitted[next_fit] {
                models.push(m.clone());
                current = Some(m);
            }
            next_fit += 1;
        }
        forecast_bar(panel, &x, t, current, &mut signal, &mut probability);
    }
    Ok(PooledOutput {
        signal,
        probability,
        labels: y,
        models,
    })
}

/// Scores one frozen model over a whole panel of its bar: the same features and the same
/// forecast arithmetic as [`run`], and **no fit at all** (`models` is empty), so no bar's
/// data trains anything; every bar with a full feature row is forecast.
///
/// # Errors
/// As [`features`], and [`SignalError::FrozenModel`] for a model whose size is not the
/// configuration's number of features.
pub fn score(
    cfg: &PooledFamily,
    panel: &Panel,
    daily: &VolTarget,
    model: &PooledModel,
) -> Result<PooledOutput, SignalError> {
    let d = cfg.n_features();
    if model.mean.len() != d || model.scale.len() != d || model.weights.len() != d {
        return Err(SignalError::FrozenModel(format!(
            "{}: the model has {} weights, the configuration {d} features",
            cfg.id,
            model.weights.len()
        )));
    }
    let x = features(cfg, panel, daily)?;
    let (n_assets, n) = (panel.assets.len(), panel.len());
    let mut signal = vec![vec![0.0; n]; n_assets];
    let mut probability = vec![vec![None; n]; n_assets];
    for t in 0..n {
        forecast_bar(panel, &x, t, Some(model), &mut signal, &mut probability);
    }
    Ok(PooledOutput {
        signal,
        probability,
        labels: labels(panel),
        models: Vec::new(),
    })
}

/// Days of history before a bar that its features need: the longest lookback (returns,
/// moving averages, the RSI's daily closes and the funding window) plus the volatility's
/// seed, in days.
pub fn warmup_days(cfg: &PooledFamily, daily: &VolTarget) -> usize {
    let longest = cfg
        .return_days
        .iter()
        .chain(&cfg.ma_days)
        .copied()
        .chain([cfg.rsi_days + 1, cfg.funding_days])
        .max()
        .unwrap_or(0);
    longest + daily.seed_returns
}
