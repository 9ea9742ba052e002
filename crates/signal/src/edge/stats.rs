//! Risk and return of a daily return series.
//!
//! Crypto perpetuals trade every day of the year, so daily figures are annualised with 365
//! days (√365 for Sharpe, Sortino and volatility). The risk-free rate is taken as 0: the
//! strategies hold margin in USDT, which earns nothing on the exchange.

use serde::{Deserialize, Serialize};

use crate::SignalError;

/// Trading days in a year for a market that never closes.
pub const DAYS_PER_YEAR: f64 = 365.0;

/// Summary of a daily return series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Number of daily returns.
    pub days: usize,
    /// Mean daily return.
    pub mean: f64,
    /// Sample standard deviation of the daily returns.
    pub volatility: f64,
    /// Annualised Sharpe ratio: `mean / volatility · √365` (0 when the volatility is 0).
    pub sharpe: f64,
    /// Annualised Sortino ratio: `mean / downside deviation · √365`, the downside deviation
    /// being `√(mean of min(r, 0)²)`; absent when no day lost.
    pub sortino: Option<f64>,
    /// Compound annual growth: `(Π(1 + r))^(365 / days) − 1`.
    pub annual_return: f64,
    /// `volatility · √365`.
    pub annual_volatility: f64,
    /// Compound return over the whole series.
    pub total_return: f64,
    /// Largest fall of compounded equity from a running peak (the start counts as a peak),
    /// as a positive fraction of the peak.
    pub max_drawdown: f64,
    /// Skewness of the daily returns (third standardised moment).
    pub skewness: f64,
    /// Kurtosis of the daily returns (fourth standardised moment; 3 for a normal law).
    pub kurtosis: f64,
}

/// Refuses a series that no statistic can be taken of: fewer than two values, a non-finite
/// value, or a simple return below −1.
pub(crate) fn check_returns(series: &'static str, r: &[f64]) -> Result<(), SignalError> {
    if r.len() < 2 {
        return Err(SignalError::BadParam(format!(
            "{series}: need at least 2 daily returns, got {}",
            r.len()
        )));
    }
    if let Some(index) = r.iter().position(|v| !v.is_finite()) {
        return Err(SignalError::NotFinite { series, index });
    }
    if let Some(index) = r.iter().position(|&v| v < -1.0) {
        return Err(SignalError::BadParam(format!(
            "{series}: return {} at day {index} is below -1",
            r[index]
        )));
    }
    Ok(())
}

/// Annualised Sharpe from running sums (`n ≥ 2`); 0 without variance.
pub(crate) fn sharpe_from_sums(sum: f64, sum_sq: f64, n: usize) -> f64 {
    let nf = n as f64;
    let mean = sum / nf;
    let var = ((sum_sq - sum * mean) / (nf - 1.0)).max(0.0);
    // Below this the series is constant up to rounding, and the ratio would be noise.
    if var <= 1e-24 {
        0.0
    } else {
        mean / var.sqrt() * DAYS_PER_YEAR.sqrt()
    }
}

/// Annualised Sharpe of a daily return series (0 when shorter than 2 days or constant).
pub fn sharpe(daily: &[f64]) -> f64 {
    if daily.len() < 2 {
        return 0.0;
    }
    let (s, q) = daily
        .iter()
        .fold((0.0, 0.0), |(s, q), &r| (s + r, q + r * r));
    sharpe_from_sums(s, q, daily.len())
}

/// Computes [`Stats`] of daily returns.
///
/// # Errors
/// [`SignalError::BadParam`] for fewer than two days or a return below −1,
/// [`SignalError::NotFinite`] for a non-finite return.
pub fn stats(daily: &[f64]) -> Result<Stats, SignalError> {
    check_returns("daily returns", daily)?;
    let n = daily.len() as f64;
    let mean = daily.iter().sum::<f64>() / n;
    let (mut m2, mut m3, mut m4, mut down) = (0.0, 0.0, 0.0, 0.0);
    for &r in daily {
        let d = r - mean;
        m2 += d * d;
        m3 += d * d * d;
        m4 += d * d * d * d;
        down += r.min(0.0).powi(2);
    }
    let volatility = (m2 / (n - 1.0)).sqrt();
    let (m2, m3, m4) = (m2 / n, m3 / n, m4 / n);
    let sharpe = if m2 > 1e-24 {
        mean / volatility * DAYS_PER_YEAR.sqrt()
    } else {
        0.0
    };
    let downside = (down / n).sqrt();
    let sortino = (downside > 0.0).then(|| mean / downside * DAYS_PER_YEAR.sqrt());
    let mut equity = 1.0_f64;
    let mut peak = 1.0_f64;
    let mut max_drawdown = 0.0_f64;
    for &r in daily {
        equity *= 1.0 + r;
        peak = peak.max(equity);
        max_drawdown = max_drawdown.max(1.0 - equity / peak);
    }
    Ok(Stats {
        days: daily.len(),
        mean,
        volatility,
        sharpe,
        sortino,
        annual_return: equity.powf(DAYS_PER_YEAR / n) - 1.0,
        annual_volatility: volatility * DAYS_PER_YEAR.sqrt(),
        total_return: equity - 1.0,
        max_drawdown,
        skewness: if m2 > 1e-24 { m3 / m2.powf(1.5) } else { 0.0 },
        kurtosis: if m2 > 1e-24 { m4 / (m2 * m2) } else { 3.0 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annualises_with_365_days_and_measures_drawdown() {
        let r = [0.01, -0.02, 0.03, -0.01, 0.02];
        let s = stats(&r).expect("valid series");
        let mean = 0.006;
        let sd = ((0.004f64.powi(2)
            + 0.026f64.powi(2)
            + 0.024f64.powi(2)
            + 0.016f64.powi(2)
            + 0.014f64.powi(2))
            / 4.0)
            .sqrt();
        assert!((s.mean - mean).abs() < 1e-15);
        assert!((s.sharpe - mean / sd * 365f64.sqrt()).abs() < 1e-12);
        assert!((s.sharpe - sharpe(&r)).abs() < 1e-12);
        let downside = ((0.0004 + 0.0001) / 5.0f64).sqrt();
        assert!(
            (s.sortino.expect("two losing days") - mean / downside * 365f64.sqrt()).abs() < 1e-12
        );
        // Peak 1.01 after day 1, trough 1.01·0.98 after day 2, again 0.99 after day 4 from the
        // peak 1.01·0.98·1.03.
        let dd2 = 0.02;
        let dd4 = 0.01;
        assert!((s.max_drawdown - f64::max(dd2, dd4)).abs() < 1e-12);
        let growth: f64 = r.iter().map(|x| 1.0 + x).product();
        assert!((s.total_return - (growth - 1.0)).abs() < 1e-15);
        assert!((s.annual_return - (growth.powf(73.0) - 1.0)).abs() < 1e-9);
    }

    #[test]
    fn a_flat_series_has_zero_sharpe_and_normal_moments() {
        let s = stats(&[0.0; 10]).expect("valid");
        assert_eq!(s.sharpe, 0.0);
        assert_eq!(s.sortino, None);
        assert_eq!(s.kurtosis, 3.0);
        assert_eq!(s.max_drawdown, 0.0);
    }

    #[test]
    fn refuses_unusable_series() {
        assert!(matches!(stats(&[0.1]), Err(SignalError::BadParam(_))));
        assert!(matches!(
            stats(&[0.1, f64::INFINITY]),
            Err(SignalError::NotFinite { index: 1, .. })
        ));
        assert!(matches!(stats(&[0.1, -1.2]), Err(SignalError::BadParam(_))));
    }
}
