//! A confidence interval of the Sharpe ratio by the stationary bootstrap (Politis & Romano
//! 1994).
//!
//! Daily strategy returns are not independent (volatility clusters, positions last for days),
//! so resampling single days would understate the Sharpe's uncertainty. The stationary
//! bootstrap resamples blocks of consecutive days whose lengths are geometric with mean `L`,
//! wrapping around the end, so every resample is itself stationary.
//!
//! **Block length rule:** `L = round(n^(1/3))` days (≥ 1), the rate that minimises the error
//! of block-bootstrap variance estimates (Hall, Horowitz & Jing 1995); 10 days for 3 years.
//! The interval is the percentile interval of the resampled annualised Sharpes.

use serde::{Deserialize, Serialize};

use super::rng::SplitMix64;
use super::stats::{check_returns, sharpe_from_sums};
use crate::SignalError;

/// A two-sided bootstrap interval of the annualised Sharpe ratio.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SharpeInterval {
    /// Coverage of the interval (e.g. 0.90: 5% of resamples lie below `lower`).
    pub level: f64,
    pub lower: f64,
    pub upper: f64,
    /// Number of resamples.
    pub resamples: usize,
    /// Mean block length in days.
    pub mean_block: f64,
    pub seed: u64,
}

/// The stated block-length rule: `round(days^(1/3))`, at least 1.
pub fn mean_block_length(days: usize) -> f64 {
    (days as f64).cbrt().round().max(1.0)
}

/// The value below which a share `q` of the sorted `values` lie (linear interpolation
/// between order statistics). `values` must be sorted and non-empty.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Bootstraps the annualised Sharpe of `daily` returns `resamples` times with the stationary
/// bootstrap (mean block [`mean_block_length`]) and returns the `level` percentile interval.
///
/// # Errors
/// [`SignalError::BadParam`] for fewer than 2 days, no resamples, a level outside (0, 1) or a
/// return below −1; [`SignalError::NotFinite`] for a non-finite return.
pub fn sharpe_interval(
    daily: &[f64],
    resamples: usize,
    level: f64,
    seed: u64,
) -> Result<SharpeInterval, SignalError> {
    check_returns("daily returns", daily)?;
    if resamples == 0 || !(level > 0.0 && level < 1.0) {
        return Err(SignalError::BadParam(format!(
            "bootstrap needs resamples > 0 and a level in (0, 1), got {resamples} and {level}"
        )));
    }
    let n = daily.len();
    let mean_block = mean_block_length(n);
    let p_restart = 1.0 / mean_block;
    let mut rng = SplitMix64::new(seed);
    let mut sharpes: Vec<f64> = (0..resamples)
        .map(|_| {
            let (mut sum, mut sum_sq) = (0.0, 0.0);
            let mut i = rng.below(n);
            for k in 0..n {
                if k > 0 {
                    i = if rng.unit() < p_restart {
                        rng.below(n)
                    } else {
                        (i + 1) % n
                    };
                }
                let r = daily[i];
                sum += r;
                sum_sq += r * r;
            }
            sharpe_from_sums(sum, sum_sq, n)
        })
        .collect();
    sharpes.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Ok(SharpeInterval {
        level,
        lower: quantile(&sharpes, tail),
        upper: quantile(&sharpes, 1.0 - tail),
        resamples,
        mean_block,
        seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::stats::sharpe;

    fn noise(n: usize, mean: f64, seed: u64) -> Vec<f64> {
        let mut rng = SplitMix64::new(seed);
        // Sum of 12 uniforms: close enough to normal for an interval's width.
        (0..n)
            .map(|_| mean + 0.02 * ((0..12).map(|_| rng.unit()).sum::<f64>() - 6.0))
            .collect()
    }

    #[test]
    fn interval_brackets_the_sharpe_with_the_textbook_width() {
        let r = noise(1_000, 0.001, 3);
        let ci = sharpe_interval(&r, 2_000, 0.90, 11).expect("valid");
        let s = sharpe(&r);
        assert!(ci.lower < s && s < ci.upper, "{ci:?} vs {s}");
        assert_eq!(ci.mean_block, 10.0);
        // For i.i.d. returns the Sharpe's standard error is about √(365/n) annualised, so a
        // 90% interval spans about 2·1.645·0.604 ≈ 1.99.
        let width = ci.upper - ci.lower;
        assert!((1.6..2.4).contains(&width), "width {width}");
        assert_eq!(ci, sharpe_interval(&r, 2_000, 0.90, 11).expect("valid"));
    }

    #[test]
    fn refuses_bad_settings() {
        let r = noise(50, 0.0, 1);
        assert!(sharpe_interval(&r, 0, 0.9, 1).is_err());
        assert!(sharpe_interval(&r, 10, 1.0, 1).is_err());
        assert!(sharpe_interval(&r[..1], 10, 0.9, 1).is_err());
    }

    #[test]
    fn quantile_interpolates_between_order_statistics() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert!((quantile(&v, 0.1) - 1.4).abs() < 1e-12);
        assert_eq!(quantile(&v, 1.0), 5.0);
    }
}
