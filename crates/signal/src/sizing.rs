//! Volatility-targeted sizing: how strong a position a signal gets, how far its stop lies,
//! and how a whole book is held under its volatility ceiling. Pure functions; the app calls
//! [`suggest`] for the preview and the one-click order.
//!
//! * **Volatility**: an EWMA of squared daily simple returns (zero mean), decay λ = 0.94
//!   (RiskMetrics' daily value, half-life ≈ 11 days), seeded with the mean of the first 20
//!   squared returns; annualised with √365 because crypto trades every day. No estimate (and
//!   so no position) before 20 returns.
//! * **Per position**: `weight = signal × target / σ_annual`, `signal ∈ [−1, 1]`, capped at the
//!   caller's largest weight per position.
//! * **Per book**: the ex-ante volatility `√(wᵀΣw)` (Σ: the same EWMA over cross-products of
//!   daily returns; a pair with fewer than 20 joint returns counts as uncorrelated) is kept
//!   at or below the target by one factor `k = min(1, target / σ_book)` for every weight; then
//!   the gross leverage cap. A ceiling, not a target: a lone small position is not levered up.
//! * **Stop**: `k_stop × σ_daily × √h` from the entry (h: the days until the signal is decided
//!   again), at most the caller's largest stop distance (then flagged).

use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::{Deserialize, Serialize};

use crate::SignalError;

/// RiskMetrics' daily EWMA decay.
pub const RISKMETRICS_LAMBDA: f64 = 0.94;
/// Returns needed before a volatility estimate exists.
pub const VOL_SEED_RETURNS: usize = 20;
/// Days in a crypto year.
pub const DAYS_PER_YEAR: f64 = 365.0;

/// How volatility is estimated and targeted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolTarget {
    /// Annual volatility each position and (as a ceiling) the whole book aim at, e.g. 0.20.
    pub target_annual_vol: f64,
    /// EWMA decay per bar.
    pub ewma_lambda: f64,
    /// Returns averaged to seed the EWMA (no estimate before).
    pub seed_returns: usize,
    /// Bars per year, to annualise (365 for daily bars).
    pub bars_per_year: f64,
}

impl Default for VolTarget {
    fn default() -> Self {
        Self {
            target_annual_vol: 0.20,
            ewma_lambda: RISKMETRICS_LAMBDA,
            seed_returns: VOL_SEED_RETURNS,
            bars_per_year: DAYS_PER_YEAR,
        }
    }
}

impl VolTarget {
    /// The same estimator on bars of `bar` (these settings being the daily ones): the same
    /// half-life and seeding in days (λ^(1/k), `k`× the seed returns) and `k`× the bars a
    /// year, `k` the bars per day. A daily bar gives these settings unchanged; a bar that
    /// does not divide a day (or is longer) is taken as daily.
    pub fn on_bar(&self, bar: chrono::Duration) -> VolTarget {
        let hours = bar.num_hours();
        let k = if (1..24).contains(&hours) && 24 % hours == 0 {
            usize::try_from(24 / hours).unwrap_or(1)
        } else {
            1
        };
        self.per_day(k)
    }

    /// These daily settings on `k` bars a day (see [`VolTarget::on_bar`]).
    pub fn per_day(&self, k: usize) -> VolTarget {
        let k = k.max(1);
        VolTarget {
            target_annual_vol: self.target_annual_vol,
            ewma_lambda: self.ewma_lambda.powf(1.0 / k as f64),
            seed_returns: self.seed_returns * k,
            bars_per_year: self.bars_per_year * k as f64,
        }
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`SignalError::BadParam`] naming the bad value.
    pub fn check(&self) -> Result<(), SignalError> {
        let ok = self.target_annual_vol > 0.0
            && self.target_annual_vol.is_finite()
            && self.ewma_lambda > 0.0
            && self.ewma_lambda < 1.0
            && self.seed_returns >= 2
            && self.bars_per_year > 0.0
            && self.bars_per_year.is_finite();
        if ok {
            Ok(())
        } else {
            Err(SignalError::BadParam(format!(
                "bad volatility target {self:?}"
            )))
        }
    }
}

/// The caller's risk limits on sizes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest |weight| of one position (notional as a multiple of equity).
    pub max_position_weight: f64,
    /// Largest Σ|weight| of the book.
    pub max_gross_leverage: f64,
    /// Farthest a stop may lie from the entry, as a fraction of the entry price.
    #[serde(default)]
    pub max_stop_distance: Option<f64>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_position_weight: 1.0,
            max_gross_leverage: 3.0,
            max_stop_distance: None,
        }
    }
}

impl Limits {
    /// Checks the limits.
    ///
    /// # Errors
    /// [`SignalError::BadParam`] naming the bad value.
    pub fn check(&self) -> Result<(), SignalError> {
        let ok = self.max_position_weight > 0.0
            && self.max_position_weight.is_finite()
            && self.max_gross_leverage > 0.0
            && self.max_gross_leverage.is_finite()
            && self
                .max_stop_distance
                .is_none_or(|d| d > 0.0 && d < 1.0 && d.is_finite());
        if ok {
            Ok(())
        } else {
            Err(SignalError::BadParam(format!("bad limits {self:?}")))
        }
    }
}

/// An EWMA of one series' squared returns, seeded by a plain mean.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EwmaVar {
    sum: f64,
    count: usize,
    var: Option<f64>,
}

impl EwmaVar {
    /// Adds one return.
    pub fn update(&mut self, r: f64, cfg: &VolTarget) {
        self.cross(r * r, cfg);
    }

    /// Adds one cross-product (for covariances).
    fn cross(&mut self, x: f64, cfg: &VolTarget) {
        match self.var {
            Some(v) => self.var = Some(cfg.ewma_lambda * v + (1.0 - cfg.ewma_lambda) * x),
            None => {
                self.sum += x;
                self.count += 1;
                if self.count >= cfg.seed_returns {
                    self.var = Some(self.sum / self.count as f64);
                }
            }
        }
    }

    /// The per-bar variance, once seeded.
    pub fn variance(&self) -> Option<f64> {
        self.var
    }
}

/// Annualised EWMA volatility at each bar, from the returns up to and including it
/// (`observed[t]` false: no return that bar, the estimate carries over).
pub fn ewma_vol(returns: &[f64], observed: &[bool], cfg: &VolTarget) -> Vec<Option<f64>> {
    let mut e = EwmaVar::default();
    returns
        .iter()
        .zip(observed)
        .map(|(&r, &o)| {
            if o {
                e.update(r, cfg);
            }
            e.variance().map(|v| (v * cfg.bars_per_year).sqrt())
        })
        .collect()
}

/// The EWMA covariance of several assets' returns, updated one bar at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct EwmaCov {
    n: usize,
    /// Row-major `n × n`; only `i ≤ j` is kept up to date.
    cells: Vec<EwmaVar>,
}

impl EwmaCov {
    /// An empty estimate for `n` assets.
    pub fn new(n: usize) -> Self {
        Self {
            n,
            cells: vec![EwmaVar::default(); n * n],
        }
    }

    /// Adds one bar: `returns[a]` where `observed[a]`.
    pub fn update(&mut self, returns: &[f64], observed: &[bool], cfg: &VolTarget) {
        let live: Vec<usize> = (0..self.n).filter(|&a| observed[a]).collect();
        for (x, &i) in live.iter().enumerate() {
            for &j in &live[x..] {
                self.cells[i * self.n + j].cross(returns[i] * returns[j], cfg);
            }
        }
    }

    /// Per-bar variance of asset `a`, once seeded.
    pub fn variance(&self, a: usize) -> Option<f64> {
        self.cells[a * self.n + a].variance()
    }

    /// Per-bar variance of a book of weights (`wᵀΣw`); unseeded pairs count as 0, so an asset
    /// without its own variance must have weight 0.
    pub fn book_variance(&self, w: &[f64]) -> f64 {
        let mut v = 0.0;
        for i in 0..self.n {
            if w[i] == 0.0 {
                continue;
            }
            for j in i..self.n {
                if w[j] == 0.0 {
                    continue;
                }
                let c = self.cells[i * self.n + j].variance().unwrap_or(0.0);
                v += if i == j { 1.0 } else { 2.0 } * w[i] * w[j] * c;
            }
        }
        v.max(0.0)
    }
}

/// A position's weight for `signal` at annual volatility `sigma_annual`: `signal × target /
/// σ`, capped at the largest weight per position. 0 without a positive volatility.
pub fn position_weight(signal: f64, sigma_annual: f64, target: f64, max_weight: f64) -> f64 {
    if !(sigma_annual > 0.0 && sigma_annual.is_finite() && signal.is_finite()) {
        return 0.0;
    }
    (signal * target / sigma_annual).clamp(-max_weight, max_weight)
}

/// The factor every weight of a book is multiplied by: the volatility ceiling
/// `min(1, target / σ_book)`, then the gross leverage cap.
pub fn book_scale(weights: &[f64], book_annual_vol: f64, target: f64, max_gross: f64) -> f64 {
    let mut k = if book_annual_vol > target {
        target / book_annual_vol
    } else {
        1.0
    };
    let gross: f64 = weights.iter().map(|w| w.abs()).sum::<f64>() * k;
    if gross > max_gross {
        k *= max_gross / gross;
    }
    k
}

/// A volatility stop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    /// The stop price.
    pub price: f64,
    /// Its distance from the entry as a fraction of the entry.
    pub distance: f64,
    /// True when the caller's largest stop distance moved it closer than the rule wants.
    pub capped: bool,
}

/// The stop `k × σ_daily × √horizon_days` away from `entry`, against the position
/// (`direction` > 0: long, stop below), at most `max_distance` away.
///
/// # Errors
/// [`SignalError::BadParam`] for a non-positive entry, volatility, multiple or horizon, or a
/// zero direction.
pub fn vol_stop(
    entry: f64,
    direction: f64,
    sigma_daily: f64,
    k: f64,
    horizon_days: f64,
    max_distance: Option<f64>,
) -> Result<Stop, SignalError> {
    let ok = entry > 0.0
        && entry.is_finite()
        && sigma_daily > 0.0
        && sigma_daily.is_finite()
        && k > 0.0
        && horizon_days > 0.0
        && direction != 0.0
        && direction.is_finite();
    if !ok {
        return Err(SignalError::BadParam(format!(
            "stop of entry {entry}, direction {direction}, daily σ {sigma_daily}, k {k}, horizon {horizon_days}"
        )));
    }
    let rule = (k * sigma_daily * horizon_days.sqrt()).min(0.99);
    let (distance, capped) = match max_distance {
        Some(m) if m < rule => (m, true),
        _ => (rule, false),
    };
    Ok(Stop {
        price: entry * (1.0 - direction.signum() * distance),
        distance,
        capped,
    })
}

/// What the app's preview and one-click order use for a signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Signed fraction of equity (the book's weight for the asset).
    pub weight: f64,
    /// `|weight| × equity`, in the account's quote currency, rounded to 8 decimals.
    pub notional: Decimal,
    pub stop: Stop,
}

/// Turns a book weight into the order the app previews: its notional at `equity` and the
/// volatility stop at `entry`.
///
/// # Errors
/// [`SignalError::BadParam`] for a zero or non-finite weight, a weight above the limits,
/// and what [`vol_stop`] refuses.
#[allow(clippy::too_many_arguments)]
pub fn suggest(
    weight: f64,
    equity: Decimal,
    entry: f64,
    sigma_daily: f64,
    stop_k: f64,
    horizon_days: f64,
    limits: &Limits,
) -> Result<Suggestion, SignalError> {
    limits.check()?;
    if weight == 0.0 || !weight.is_finite() || weight.abs() > limits.max_position_weight + 1e-12 {
        return Err(SignalError::BadParam(format!(
            "no position to size: weight {weight}"
        )));
    }
    let w = Decimal::from_f64(weight.abs())
        .ok_or_else(|| SignalError::BadParam(format!("weight {weight} is not a decimal")))?;
    let notional = (equity * w).round_dp(8);
    let stop = vol_stop(
        entry,
        weight,
        sigma_daily,
        stop_k,
        horizon_days,
        limits.max_stop_distance,
    )?;
    Ok(Suggestion {
        weight,
        notional,
        stop,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_book_below_its_ceiling_is_not_levered_up() {
        assert_eq!(book_scale(&[0.1, -0.1], 0.05, 0.2, 3.0), 1.0);
        assert!((book_scale(&[0.5, 0.5], 0.4, 0.2, 3.0) - 0.5).abs() < 1e-12);
        // The gross cap binds after the volatility ceiling.
        assert!((book_scale(&[2.0, 2.0], 0.1, 0.2, 3.0) - 0.75).abs() < 1e-12);
    }
}
