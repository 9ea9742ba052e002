//! The probabilistic and the deflated Sharpe ratio (Bailey & López de Prado 2012, 2014).
//!
//! A Sharpe ratio estimated from `n` daily returns is uncertain, the more so for skewed and
//! fat-tailed returns. The **probabilistic Sharpe ratio** is the probability that the true
//! Sharpe exceeds a benchmark `SR*`, given the estimate `SR`, its skewness `γ₃` and
//! kurtosis `γ₄` (all per day, not annualised):
//!
//! ```text
//! PSR(SR*) = Φ( (SR − SR*) · √(n − 1) / √(1 − γ₃·SR + (γ₄ − 1)/4 · SR²) )
//! ```
//!
//! Whoever tries `N` configurations and keeps the best has selected the luckiest. The
//! **deflated Sharpe ratio** takes as benchmark the Sharpe the best of `N` skill-less trials
//! would show by chance, from the variance `V` of the trials' Sharpes:
//!
//! ```text
//! SR₀ = √V · ((1 − γ) · Φ⁻¹(1 − 1/N) + γ · Φ⁻¹(1 − 1/(N·e)))      (γ: Euler–Mascheroni)
//! DSR = PSR(SR₀),  p-value = 1 − DSR
//! ```
//!
//! `N` and `V` come from the trial log ([`super::trials`]), which records every configuration
//! ever evaluated; with one trial `SR₀ = 0` and the DSR is the PSR against 0.
//!
//! The **minimum track record length** (Bailey & López de Prado 2012, "The Sharpe ratio
//! efficient frontier") turns the PSR around: how many returns a record at the observed `SR`
//! (same skewness and kurtosis) needs before the PSR against `SR*` reaches a confidence
//! `1 − α`:
//!
//! ```text
//! MinTRL = 1 + (1 − γ₃·SR + (γ₄ − 1)/4 · SR²) · (Z₁₋α / (SR − SR*))²      (SR > SR*)
//! ```
//!
//! and never when `SR ≤ SR*`. It says how far a record is from the test, in time, which the
//! p-value alone does not: with ~2.5 years of days no plausible Sharpe clears a bar of 4.

use serde::{Deserialize, Serialize};

use super::stats::{DAYS_PER_YEAR, check_returns, stats};
use super::trials::TrialSummary;
use crate::SignalError;

/// The Euler–Mascheroni constant.
pub const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// The deflated Sharpe ratio of a strategy given the trial log.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Dsr {
    /// Configurations tried, this one included.
    pub n_trials: usize,
    /// Standard deviation of the trials' annualised Sharpes.
    pub trial_sharpe_sd: f64,
    /// The annualised Sharpe the best of `n_trials` skill-less trials would show (`SR₀`).
    pub expected_max_sharpe: f64,
    /// The strategy's annualised Sharpe.
    pub sharpe: f64,
    /// Probability that the true Sharpe is above 0 (the PSR against 0).
    pub psr: f64,
    /// Probability that the true Sharpe is above `SR₀` (the DSR).
    pub dsr: f64,
    /// `1 − dsr`.
    pub p_value: f64,
}

/// The standard normal distribution function Φ, through the complementary error function
/// (Numerical Recipes' Chebyshev fit, fractional error below 1.2·10⁻⁷ everywhere).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The standard normal quantile Φ⁻¹(p) for `p` in (0, 1) (Acklam's rational approximation,
/// relative error below 1.2·10⁻⁹); ±∞ at 0 and 1, NaN outside.
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.024_25;
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The Sharpe (per period, in the units of `variance`) that the best of `n_trials`
/// independent skill-less trials is expected to show; 0 for one trial or none.
pub fn expected_max_sharpe(n_trials: usize, variance: f64) -> f64 {
    if n_trials <= 1 || variance <= 0.0 {
        return 0.0;
    }
    let n = n_trials as f64;
    variance.sqrt()
        * ((1.0 - EULER_GAMMA) * normal_quantile(1.0 - 1.0 / n)
            + EULER_GAMMA * normal_quantile(1.0 - 1.0 / (n * std::f64::consts::E)))
}

/// The probability that the true per-period Sharpe exceeds `benchmark`, given the estimate
/// `sharpe` from `n` returns of the given skewness and (non-excess) kurtosis.
pub fn probabilistic_sharpe(
    sharpe: f64,
    benchmark: f64,
    n: usize,
    skewness: f64,
    kurtosis: f64,
) -> f64 {
    if n < 2 {
        return 0.5;
    }
    // Extreme skew can push the variance term below 0, where the formula's approximation
    // has broken down; the floor keeps the probability defined (and near 0 or 1).
    let var = (1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe).max(1e-12);
    normal_cdf((sharpe - benchmark) * ((n - 1) as f64).sqrt() / var.sqrt())
}

/// The minimum track record length: how many returns (in the units of `sharpe`, e.g. days)
/// a record at the per-period `sharpe`, with the given skewness and (non-excess) kurtosis,
/// needs for the probabilistic Sharpe against `benchmark` to reach `confidence`. `None`
/// means never: the Sharpe is at or below the benchmark (or a number is not finite).
pub fn min_track_record(
    sharpe: f64,
    benchmark: f64,
    skewness: f64,
    kurtosis: f64,
    confidence: f64,
) -> Option<f64> {
    let edge = sharpe - benchmark;
    // Written as what is usable, so a NaN anywhere means never.
    let usable = edge > 0.0 && confidence > 0.0 && confidence < 1.0;
    if !usable {
        return None;
    }
    // The same floor as the PSR, so the two stay each other's inverse.
    let var = (1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe).max(1e-12);
    let n = 1.0 + var * (normal_quantile(confidence) / edge).powi(2);
    n.is_finite().then_some(n)
}

/// The deflated Sharpe ratio of `daily` net returns after the trials of `trials`.
///
/// # Errors
/// As [`super::stats::stats`].
pub fn deflated_sharpe(daily: &[f64], trials: &TrialSummary) -> Result<Dsr, SignalError> {
    check_returns("daily returns", daily)?;
    let s = stats(daily)?;
    let per_day = DAYS_PER_YEAR.sqrt();
    let sr = s.sharpe / per_day;
    let sr0 = expected_max_sharpe(trials.n, trials.sharpe_variance / DAYS_PER_YEAR);
    let dsr = probabilistic_sharpe(sr, sr0, s.days, s.skewness, s.kurtosis);
    Ok(Dsr {
        n_trials: trials.n,
        trial_sharpe_sd: trials.sharpe_variance.sqrt(),
        expected_max_sharpe: sr0 * per_day,
        sharpe: s.sharpe,
        psr: probabilistic_sharpe(sr, 0.0, s.days, s.skewness, s.kurtosis),
        dsr,
        p_value: 1.0 - dsr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_functions_match_tables() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_963_985) - 0.975).abs() < 1e-7);
        assert!((normal_cdf(-1.644_853_627) - 0.05).abs() < 1e-8);
        assert!((normal_cdf(-5.0) - 2.866_515_7e-7).abs() < 1e-12);
        assert!((normal_quantile(0.975) - 1.959_963_985).abs() < 1e-8);
        assert!((normal_quantile(0.01) + 2.326_347_874).abs() < 1e-8);
        assert!((normal_quantile(0.999) - 3.090_232_306).abs() < 1e-8);
        for p in [0.001, 0.02, 0.3, 0.5, 0.8, 0.99] {
            assert!((normal_cdf(normal_quantile(p)) - p).abs() < 1e-7);
        }
        assert!(normal_quantile(1.5).is_nan());
    }

    #[test]
    fn expected_maximum_grows_with_trials() {
        // By hand from the formula with V = 1: 0.4228·Φ⁻¹(0.9) + 0.5772·Φ⁻¹(1 − 1/(10e)) =
        // 1.575 for 10 trials, and 2.531 for 100.
        assert!((expected_max_sharpe(10, 1.0) - 1.575).abs() < 0.001);
        assert!((expected_max_sharpe(100, 1.0) - 2.531).abs() < 0.001);
        assert_eq!(expected_max_sharpe(1, 1.0), 0.0);
        assert!(expected_max_sharpe(1000, 0.25) > expected_max_sharpe(100, 0.25));
    }

    #[test]
    fn the_minimum_track_record_follows_the_papers_formula() {
        // By hand: annual Sharpe 0.71 → 0.71/√365 = 0.0371628 a day, skew −0.5, kurtosis 6:
        // 1 + (1 + 0.5·0.0371628 + 5/4·0.0371628²)·(1.6448536/0.0371628)² = 1,999.77 days,
        // 5.48 years, against 0 at 95%.
        let sr = 0.71 / DAYS_PER_YEAR.sqrt();
        let n = min_track_record(sr, 0.0, -0.5, 6.0, 0.95).expect("a positive Sharpe");
        assert!((n - 1_999.766).abs() < 0.01, "{n}");
        // Against a bar of 0.5 a year only the excess counts: 22,848.6 days, 62.6 years.
        let bar = min_track_record(sr, 0.5 / DAYS_PER_YEAR.sqrt(), -0.5, 6.0, 0.95)
            .expect("above the bar");
        assert!((bar - 22_848.57).abs() < 0.1, "{bar}");
        // Normal returns at an annual Sharpe of 1.95: 262.06 days.
        let normal =
            min_track_record(1.95 / DAYS_PER_YEAR.sqrt(), 0.0, 0.0, 3.0, 0.95).expect("positive");
        assert!((normal - 262.056).abs() < 0.01, "{normal}");
        // At or below the bar no record is ever long enough.
        assert_eq!(min_track_record(sr, sr, 0.0, 3.0, 0.95), None);
        assert_eq!(min_track_record(-sr, 0.0, 0.0, 3.0, 0.95), None);
        assert_eq!(min_track_record(f64::NAN, 0.0, 0.0, 3.0, 0.95), None);
    }

    #[test]
    fn a_record_of_the_minimum_length_reaches_the_confidence() {
        for (sr, bar, skew, kurt) in [
            (0.05, 0.0, 0.0, 3.0),
            (0.08, 0.02, -1.2, 9.0),
            (0.03, -0.01, 0.7, 4.5),
        ] {
            let n = min_track_record(sr, bar, skew, kurt, 0.95).expect("above the bar");
            // PSR with √(n − 1) is continuous in n: at the minimum length it is the confidence.
            let var = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr;
            let z = (sr - bar) * (n - 1.0).sqrt() / var.sqrt();
            assert!(
                (normal_cdf(z) - 0.95).abs() < 1e-6,
                "{sr} {bar}: {}",
                normal_cdf(z)
            );
            let longer = n.ceil() as usize + 1;
            assert!(probabilistic_sharpe(sr, bar, longer, skew, kurt) > 0.95);
        }
    }

    #[test]
    fn psr_follows_its_formula() {
        // SR 0.05 per day over 1,000 normal days: z = 0.05·√999 / √(1 + 0.0025/2) = 1.5794.
        let normal = probabilistic_sharpe(0.05, 0.0, 1000, 0.0, 3.0);
        assert!((normal - 0.942_873_4).abs() < 2e-7, "{normal}");
        // Skew −1 and kurtosis 10 widen the estimate's spread: z = 1.5381.
        let fat = probabilistic_sharpe(0.05, 0.0, 1000, -1.0, 10.0);
        assert!((fat - 0.937_993_7).abs() < 2e-7, "{fat}");
        assert!((probabilistic_sharpe(0.1, 0.1, 500, 0.0, 3.0) - 0.5).abs() < 1e-7);
        assert!(probabilistic_sharpe(0.05, 0.0, 250, 0.0, 3.0) < normal);
    }
}
