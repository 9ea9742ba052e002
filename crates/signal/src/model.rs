//! The baseline direction model: L2-regularised logistic regression with Platt calibration.
//!
//! Written out plainly (Newton's method / IRLS on standardised features) instead of pulling
//! in a linear-algebra stack: with a dozen features the Hessian is 12×12, Newton converges
//! in a handful of iterations, and the fit is deterministic without any seed: the same
//! rows give the same model bit for bit.

use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::features::{FEATURE_NAMES, FEATURE_SET_VERSION, N_FEATURES};

/// A feature row as the model sees it.
pub type Row = [f64; N_FEATURES];

/// Fitting settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogisticConfig {
    /// L2 penalty on the (standardised) weights, per sample; the intercept is not penalised.
    pub l2: f64,
    pub max_iter: usize,
    /// Stop when no parameter moves by more than this.
    pub tol: f64,
}

impl Default for LogisticConfig {
    fn default() -> Self {
        Self {
            l2: 1e-2,
            max_iter: 50,
            tol: 1e-10,
        }
    }
}

/// Platt scaling of the raw logit: `p = σ(a · logit + b)`, fitted on a fold the model did
/// not train on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
}

/// A fitted model, serialisable with the feature-set version it was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    pub feature_set_version: u32,
    pub feature_names: Vec<String>,
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    pub weights: Vec<f64>,
    pub intercept: f64,
    pub config: LogisticConfig,
    pub platt: Option<Platt>,
    /// Rows the model was fitted on.
    pub n_train: usize,
}

pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Solves `a x = b` for a small dense symmetric positive-definite `a` (Gaussian
/// elimination with partial pivoting; `a` is `n × n`, row-major).
fn solve(mut a: Vec<f64>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))?;
        if a[pivot * n + col].abs() < 1e-300 {
            return None;
        }
        if pivot != col {
            for k in 0..n {
                a.swap(pivot * n + k, col * n + k);
            }
            b.swap(pivot, col);
        }
        for row in col + 1..n {
            let f = a[row * n + col] / a[col * n + col];
            for k in col..n {
                a[row * n + k] -= f * a[col * n + k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row * n + k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row * n + row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Newton's method for L2-penalised logistic regression on row-major `x` (`d` columns);
/// returns `(weights, intercept)`. The loss is the mean log loss plus `l2/2 · |w|²`.
pub(crate) fn fit_newton(
    x: &[f64],
    d: usize,
    y: &[bool],
    l2: f64,
    max_iter: usize,
    tol: f64,
) -> Result<(Vec<f64>, f64), SignalError> {
    let n = y.len();
    if n == 0 || x.len() != n * d {
        return Err(SignalError::Fit(format!(
            "{n} labels for {} values in {d} columns",
            x.len()
        )));
    }
    let positives = y.iter().filter(|&&v| v).count();
    if positives == 0 || positives == n {
        return Err(SignalError::Fit(
            "the training rows hold a single class".into(),
        ));
    }
    // Parameters: [w_0..w_{d-1}, intercept]; start at the base rate.
    let p = d + 1;
    let rate = positives as f64 / n as f64;
    let mut theta = vec![0.0; p];
    theta[d] = (rate / (1.0 - rate)).ln();
    let inv_n = 1.0 / n as f64;
    for _ in 0..max_iter {
        let mut grad = vec![0.0; p];
        let mut hess = vec![0.0; p * p];
        for (i, &yi) in y.iter().enumerate() {
            let row = &x[i * d..(i + 1) * d];
            let z = theta[d] + row.iter().zip(&theta[..d]).map(|(a, b)| a * b).sum::<f64>();
            let pi = sigmoid(z);
            let r = pi - if yi { 1.0 } else { 0.0 };
            let w = pi * (1.0 - pi);
            for j in 0..p {
                let xj = if j < d { row[j] } else { 1.0 };
                grad[j] += r * xj;
                for k in j..p {
                    let xk = if k < d { row[k] } else { 1.0 };
                    hess[j * p + k] += w * xj * xk;
                }
            }
        }
        for j in 0..p {
            grad[j] *= inv_n;
            for k in j..p {
                hess[j * p + k] *= inv_n;
                hess[k * p + j] = hess[j * p + k];
            }
            if j < d {
                grad[j] += l2 * theta[j];
                hess[j * p + j] += l2;
            }
        }
        // A tiny ridge keeps the intercept's row solvable when the data separate perfectly.
        hess[d * p + d] += 1e-12;
        let step = solve(hess, grad).ok_or_else(|| SignalError::Fit("singular Hessian".into()))?;
        let mut moved = 0.0f64;
        for (t, s) in theta.iter_mut().zip(&step) {
            *t -= s;
            moved = moved.max(s.abs());
        }
        if moved < tol {
            break;
        }
    }
    if theta.iter().any(|t| !t.is_finite()) {
        return Err(SignalError::Fit("the fit diverged".into()));
    }
    let intercept = theta[d];
    theta.truncate(d);
    Ok((theta, intercept))
}

/// Platt scaling `σ(a · z + b)` fitted to raw logits `z` by maximum likelihood.
pub(crate) fn fit_platt(z: &[f64], labels: &[bool]) -> Result<Platt, SignalError> {
    let (a, b) = fit_newton(z, 1, labels, 0.0, 100, 1e-12)?;
    Ok(Platt { a: a[0], b })
}

/// Refuses features of another version than the model's, and non-finite features.
pub(crate) fn check_version(model: u32, features: u32, row: &Row) -> Result<(), SignalError> {
    if features != model {
        return Err(SignalError::FeatureVersion {
            expected: model,
            found: features,
        });
    }
    match row.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(SignalError::NotFinite {
            series: "feature row",
            index,
        }),
        None => Ok(()),
    }
}

pub(crate) fn check_rows(rows: &[Row], labels: &[bool]) -> Result<(), SignalError> {
    crate::indicators::check_same_len(rows.len(), labels.len())?;
    match rows.iter().position(|r| r.iter().any(|v| !v.is_finite())) {
        Some(index) => Err(SignalError::NotFinite {
            series: "feature row",
            index,
        }),
        None => Ok(()),
    }
}

impl LogisticModel {
    /// Fits the model to rows of feature set [`FEATURE_SET_VERSION`]; `true` means "up".
    ///
    /// # Errors
    /// [`SignalError::LengthMismatch`], [`SignalError::NotFinite`], or [`SignalError::Fit`]
    /// (no rows, one class only, or a numerical failure).
    pub fn fit(rows: &[Row], labels: &[bool], config: LogisticConfig) -> Result<Self, SignalError> {
        check_rows(rows, labels)?;
        if !(config.l2.is_finite() && config.l2 >= 0.0) {
            return Err(SignalError::BadParam(format!(
                "l2 must be non-negative, got {}",
                config.l2
            )));
        }
        let n = rows.len().max(1) as f64;
        let mut mean = vec![0.0; N_FEATURES];
        for r in rows {
            for (m, v) in mean.iter_mut().zip(r) {
                *m += v / n;
            }
        }
        let mut scale = vec![0.0; N_FEATURES];
        for r in rows {
            for j in 0..N_FEATURES {
                scale[j] += (r[j] - mean[j]).powi(2) / n;
            }
        }
        for s in &mut scale {
            // A constant column carries no information; scaling it by 1 keeps it at 0.
            *s = if *s > 0.0 { s.sqrt() } else { 1.0 };
        }
        let (m, sc) = (&mean, &scale);
        let x: Vec<f64> = rows
            .iter()
            .flat_map(|r| (0..N_FEATURES).map(move |j| (r[j] - m[j]) / sc[j]))
            .collect();
        let (weights, intercept) = fit_newton(
            &x,
            N_FEATURES,
            labels,
            config.l2,
            config.max_iter,
            config.tol,
        )?;
        Ok(Self {
            feature_set_version: FEATURE_SET_VERSION,
            feature_names: FEATURE_NAMES.iter().map(|s| (*s).to_string()).collect(),
            mean,
            scale,
            weights,
            intercept,
            config,
            platt: None,
            n_train: rows.len(),
        })
    }

    /// The uncalibrated log-odds of "up".
    pub fn logit(&self, row: &Row) -> f64 {
        self.intercept
            + row
                .iter()
                .zip(&self.mean)
                .zip(&self.scale)
                .zip(&self.weights)
                .map(|(((v, m), s), w)| (v - m) / s * w)
                .sum::<f64>()
    }

    /// Fits Platt scaling on rows the model was not trained on (the calibration fold).
    ///
    /// # Errors
    /// As [`LogisticModel::fit`].
    pub fn calibrate(&mut self, rows: &[Row], labels: &[bool]) -> Result<(), SignalError> {
        check_rows(rows, labels)?;
        let z: Vec<f64> = rows.iter().map(|r| self.logit(r)).collect();
        self.platt = Some(fit_platt(&z, labels)?);
        Ok(())
    }

    /// Probability that the next move is up, calibrated when [`Self::calibrate`] ran.
    ///
    /// # Errors
    /// [`SignalError::FeatureVersion`] when `feature_set_version` is not the model's,
    /// [`SignalError::NotFinite`] for a non-finite feature.
    pub fn predict_proba(&self, feature_set_version: u32, row: &Row) -> Result<f64, SignalError> {
        check_version(self.feature_set_version, feature_set_version, row)?;
        if self.weights.len() != N_FEATURES {
            return Err(SignalError::Fit(format!(
                "the model has {} weights for {N_FEATURES} features",
                self.weights.len()
            )));
        }
        let z = self.logit(row);
        Ok(match self.platt {
            Some(Platt { a, b }) => sigmoid(a * z + b),
            None => sigmoid(z),
        })
    }
}

/// The kinds of direction model the crate trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Logistic,
    Gbdt,
}

impl ModelKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [ModelKind; 2] = [ModelKind::Logistic, ModelKind::Gbdt];

    /// The kind's short name (also the prefix of a model version).
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Logistic => "logistic",
            ModelKind::Gbdt => "gbdt",
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Anything that turns a feature row into a calibrated probability of "up".
pub trait Scorer {
    fn kind(&self) -> ModelKind;
    /// The feature-set version the model was trained on.
    fn feature_set_version(&self) -> u32;
    /// Probability that the next move is up.
    ///
    /// # Errors
    /// [`SignalError::FeatureVersion`] for features of another version,
    /// [`SignalError::NotFinite`] for a non-finite feature.
    fn predict_proba(&self, feature_set_version: u32, row: &Row) -> Result<f64, SignalError>;
}

impl Scorer for LogisticModel {
    fn kind(&self) -> ModelKind {
        ModelKind::Logistic
    }
    fn feature_set_version(&self) -> u32 {
        self.feature_set_version
    }
    fn predict_proba(&self, version: u32, row: &Row) -> Result<f64, SignalError> {
        LogisticModel::predict_proba(self, version, row)
    }
}

impl Scorer for crate::gbdt::GbdtModel {
    fn kind(&self) -> ModelKind {
        ModelKind::Gbdt
    }
    fn feature_set_version(&self) -> u32 {
        self.feature_set_version
    }
    fn predict_proba(&self, version: u32, row: &Row) -> Result<f64, SignalError> {
        crate::gbdt::GbdtModel::predict_proba(self, version, row)
    }
}

/// A fitted model of either kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Model {
    Logistic(LogisticModel),
    Gbdt(crate::gbdt::GbdtModel),
}

impl Model {
    /// Fits a model of `kind` on the training rows and Platt-calibrates it on the
    /// calibration rows (a fold it did not train on).
    ///
    /// # Errors
    /// Whatever the kind's `fit` or `calibrate` rejects.
    pub fn fit_calibrated(
        kind: ModelKind,
        train: (&[Row], &[bool]),
        calibrate: (&[Row], &[bool]),
        logistic: LogisticConfig,
        gbdt: crate::gbdt::GbdtConfig,
    ) -> Result<Self, SignalError> {
        Ok(match kind {
            ModelKind::Logistic => {
                let mut m = LogisticModel::fit(train.0, train.1, logistic)?;
                m.calibrate(calibrate.0, calibrate.1)?;
                Model::Logistic(m)
            }
            ModelKind::Gbdt => {
                let mut m = crate::gbdt::GbdtModel::fit(train.0, train.1, gbdt)?;
                m.calibrate(calibrate.0, calibrate.1)?;
                Model::Gbdt(m)
            }
        })
    }
}

impl Scorer for Model {
    fn kind(&self) -> ModelKind {
        match self {
            Model::Logistic(_) => ModelKind::Logistic,
            Model::Gbdt(_) => ModelKind::Gbdt,
        }
    }
    fn feature_set_version(&self) -> u32 {
        match self {
            Model::Logistic(m) => m.feature_set_version,
            Model::Gbdt(m) => m.feature_set_version,
        }
    }
    fn predict_proba(&self, version: u32, row: &Row) -> Result<f64, SignalError> {
        match self {
            Model::Logistic(m) => m.predict_proba(version, row),
            Model::Gbdt(m) => m.predict_proba(version, row),
        }
    }
}
