//! The signal families: plain rules over the universe's daily bars, each with the
//! parameters of a strategy file (reasons in `docs/signals.md`).
//!
//! A family reads a [`Panel`] and produces, for every asset and bar, a **signal at the close
//! of the bar** in `[−1, 1]` from closes and funding settled at or before that close; sizing
//! ([`crate::portfolio::targets`]) turns signals into target weights, and the book holds the
//! target of bar `t` over bar `t + 1`. A family may also give probabilities of an up move
//! (for Brier scoring); the rules do not. A learned model plugs in by implementing
//! [`Family`].
//!
//! On a bar without a close a rule decides nothing and keeps its previous signal; before an
//! asset's first close and after its last the signal is 0.

use chrono::{Datelike, Duration, Weekday};
use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::bars::Panel;

/// What a family says at each bar's close.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyOutput {
    /// `[asset][bar]`: the signal at the bar's close, in `[−1, 1]` (sign: direction,
    /// size: conviction before volatility sizing).
    pub signal: Vec<Vec<f64>>,
    /// `[asset][bar]`: the probability of an up move over the next bar, for families that
    /// forecast one.
    pub probability: Option<Vec<Vec<Option<f64>>>>,
}

/// A signal family: anything that turns the panel into signals without looking ahead.
pub trait Family {
    /// The configuration's id (one trial in the trial log).
    fn id(&self) -> &str;
    /// Days until the family decides again (its stop's horizon).
    fn horizon_days(&self) -> f64;
    /// The signals (see [`FamilyOutput`]); `vol[a][t]` is the annualised volatility
    /// estimate at the close of bar `t` (the one sizing uses).
    ///
    /// # Errors
    /// [`SignalError::BadParam`] when the panel does not suit the family (e.g. not daily).
    fn run(&self, panel: &Panel, vol: &[Vec<Option<f64>>]) -> Result<FamilyOutput, SignalError>;
}

/// Which side(s) a trend rule takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sides {
    LongShort,
    LongFlat,
}

/// A rule and its parameters, as the strategy file writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Mean over horizons of `sign(C_t / C_{t−n} − 1)` (long/flat: of its positive part).
    TrendMomentum { horizons: Vec<usize>, sides: Sides },
    /// Mean over horizons of the Donchian state: long after a close above the previous `n`
    /// closes' high, short after one below their low (long/flat: positive parts).
    TrendBreakout { horizons: Vec<usize>, sides: Sides },
    /// Weekly: rank by the mean over horizons of `(C_t / C_{t−n} − 1) / (σ √(n/365))`, long
    /// the top `⌊N / buckets⌋` assets, short as many at the bottom.
    XsMomentum {
        horizons: Vec<usize>,
        buckets: usize,
        min_assets: usize,
        rebalance: Rebalance,
    },
    /// Weekly: rank by `−(C_t / C_{t−lookback} − 1)`, long the top `⌊N / buckets⌋` (last
    /// period's losers), short as many at the bottom.
    XsReversal {
        lookback: usize,
        buckets: usize,
        min_assets: usize,
        rebalance: Rebalance,
    },
    /// Short when the average funding per 8h over the last `window_days` (a real series
    /// covering the whole window) is above `short_above`, long when below `long_below`.
    FundingContrarian {
        window_days: i64,
        short_above: f64,
        long_below: f64,
    },
}

/// When a cross-sectional rule re-ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rebalance {
    /// At every daily close.
    Daily,
    /// At the close of every Sunday's bar (positions from Monday 00:00 UTC).
    Weekly,
}

/// A configuration of a rule: one trial. (Unknown fields are refused by [`Rule`]: serde's
/// `deny_unknown_fields` does not combine with `flatten` here.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleFamily {
    pub id: String,
    #[serde(flatten)]
    pub rule: Rule,
}

impl RuleFamily {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`SignalError::Strategy`] naming the configuration and the bad value.
    pub fn check(&self) -> Result<(), SignalError> {
        let bad = |what: &str| Err(SignalError::Strategy(format!("{}: {what}", self.id)));
        let horizons_ok = |h: &[usize]| !h.is_empty() && h.iter().all(|&n| n >= 1);
        match &self.rule {
            Rule::TrendMomentum { horizons, .. } | Rule::TrendBreakout { horizons, .. }
                if !horizons_ok(horizons) =>
            {
                bad("horizons must be non-empty and at least 1 day")
            }
            Rule::XsMomentum {
                horizons,
                buckets,
                min_assets,
                ..
            } if !horizons_ok(horizons) || !xs_ok(*buckets, *min_assets) => {
                bad("bad horizons, buckets or min_assets")
            }
            Rule::XsReversal {
                lookback,
                buckets,
                min_assets,
                ..
            } if *lookback < 1 || !xs_ok(*buckets, *min_assets) => {
                bad("bad lookback, buckets or min_assets")
            }
            Rule::FundingContrarian {
                window_days,
                short_above,
                long_below,
            } if *window_days < 1
                || !(short_above.is_finite() && long_below.is_finite())
                || long_below >= short_above =>
            {
                bad("bad window or thresholds (long_below must lie below short_above)")
            }
            _ => Ok(()),
        }
    }
}

fn xs_ok(buckets: usize, min_assets: usize) -> bool {
    buckets >= 2 && min_assets >= buckets
}

impl Family for RuleFamily {
    fn id(&self) -> &str {
        &self.id
    }

    fn horizon_days(&self) -> f64 {
        match &self.rule {
            Rule::XsMomentum {
                rebalance: Rebalance::Weekly,
                ..
            }
            | Rule::XsReversal {
                rebalance: Rebalance::Weekly,
                ..
            } => 7.0,
            _ => 1.0,
        }
    }

    fn run(&self, panel: &Panel, vol: &[Vec<Option<f64>>]) -> Result<FamilyOutput, SignalError> {
        self.check()?;
        if panel.bar != Duration::days(1) {
            return Err(SignalError::BadParam(format!(
                "{} runs on daily bars, not bars of {}",
                self.id, panel.bar
            )));
        }
        let signal = match &self.rule {
            Rule::TrendMomentum { horizons, sides } => per_asset(panel, |a| {
                trend_momentum(&panel.filled_close(a), horizons, *sides)
            }),
            Rule::TrendBreakout { horizons, sides } => per_asset(panel, |a| {
                trend_breakout(panel, a, &panel.filled_close(a), horizons, *sides)
            }),
            Rule::XsMomentum {
                horizons,
                buckets,
                min_assets,
                rebalance,
            } => cross_sectional(panel, vol, *buckets, *min_assets, *rebalance, |a, t, c| {
                let sigma = vol[a][t]?;
                let now = c[t]?;
                let mut score = 0.0;
                for &n in horizons {
                    let then = c[t.checked_sub(n)?]?;
                    score += (now / then - 1.0) / (sigma * (n as f64 / 365.0).sqrt());
                }
                Some(score / horizons.len() as f64)
            }),
            Rule::XsReversal {
                lookback,
                buckets,
                min_assets,
                rebalance,
            } => cross_sectional(panel, vol, *buckets, *min_assets, *rebalance, |a, t, c| {
                vol[a][t]?;
                let then = c[t.checked_sub(*lookback)?]?;
                Some(-(c[t]? / then - 1.0))
            }),
            Rule::FundingContrarian {
                window_days,
                short_above,
                long_below,
            } => per_asset(panel, |a| {
                funding_contrarian(panel, a, *window_days, *short_above, *long_below)
            }),
        };
        let signal = signal
            .into_iter()
            .enumerate()
            .map(|(a, s)| hold_over_gaps(panel, a, s))
            .collect();
        Ok(FamilyOutput {
            signal,
            probability: None,
        })
    }
}

fn per_asset(panel: &Panel, f: impl Fn(usize) -> Vec<f64>) -> Vec<Vec<f64>> {
    (0..panel.assets.len()).map(f).collect()
}

/// Keeps the previous signal on bars without a close and zeroes it outside the asset's data.
fn hold_over_gaps(panel: &Panel, a: usize, mut s: Vec<f64>) -> Vec<f64> {
    let Some((first, last)) = panel.span[a] else {
        return vec![0.0; s.len()];
    };
    for t in 0..s.len() {
        if t < first || t > last {
            s[t] = 0.0;
        } else if panel.close[a][t].is_none() && t > first {
            s[t] = s[t - 1];
        }
    }
    s
}

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

fn side(x: f64, sides: Sides) -> f64 {
    match sides {
        Sides::LongShort => x,
        Sides::LongFlat => x.max(0.0),
    }
}

/// Time-series momentum on forward-filled closes `c` (module docs of [`Rule`]).
pub fn trend_momentum(c: &[Option<f64>], horizons: &[usize], sides: Sides) -> Vec<f64> {
    let k = horizons.len() as f64;
    (0..c.len())
        .map(|t| {
            let mut s = 0.0;
            for &n in horizons {
                let Some((now, then)) = t.checked_sub(n).and_then(|u| c[t].zip(c[u])) else {
                    return 0.0;
                };
                s += side(sign(now / then - 1.0), sides);
            }
            s / k
        })
        .collect()
}

/// Donchian breakout states on forward-filled closes `c`, decided only at observed closes.
fn trend_breakout(
    panel: &Panel,
    a: usize,
    c: &[Option<f64>],
    horizons: &[usize],
    sides: Sides,
) -> Vec<f64> {
    let k = horizons.len() as f64;
    let mut state = vec![0.0; horizons.len()];
    (0..c.len())
        .map(|t| {
            if panel.close[a][t].is_some() {
                for (h, &n) in horizons.iter().enumerate() {
                    let Some(u) = t.checked_sub(n) else { continue };
                    let (Some(now), Some(window)) =
                        (c[t], c[u..t].iter().copied().collect::<Option<Vec<f64>>>())
                    else {
                        continue;
                    };
                    let hi = window.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let lo = window.iter().copied().fold(f64::INFINITY, f64::min);
                    if now > hi {
                        state[h] = 1.0;
                    } else if now < lo {
                        state[h] = -1.0;
                    }
                }
            }
            state.iter().map(|&s| side(s, sides)).sum::<f64>() / k
        })
        .collect()
}

/// Ranks eligible assets at each decision bar; `score(asset, bar, filled closes)` is `None`
/// for an asset that cannot be ranked then (no close at the bar, too little history, no
/// volatility estimate). Ties are broken by asset order, so a run is reproducible.
fn cross_sectional(
    panel: &Panel,
    vol: &[Vec<Option<f64>>],
    buckets: usize,
    min_assets: usize,
    rebalance: Rebalance,
    score: impl Fn(usize, usize, &[Option<f64>]) -> Option<f64>,
) -> Vec<Vec<f64>> {
    let n_assets = panel.assets.len();
    let closes: Vec<Vec<Option<f64>>> = (0..n_assets).map(|a| panel.filled_close(a)).collect();
    let mut out = vec![vec![0.0; panel.len()]; n_assets];
    let mut current = vec![0.0; n_assets];
    for t in 0..panel.len() {
        let decide = match rebalance {
            Rebalance::Daily => true,
            Rebalance::Weekly => panel.times[t].weekday() == Weekday::Sun,
        };
        if decide {
            let mut ranked: Vec<(f64, usize)> = (0..n_assets)
                .filter(|&a| panel.close[a][t].is_some() && vol[a][t].is_some())
                .filter_map(|a| score(a, t, &closes[a]).map(|s| (s, a)))
                .filter(|(s, _)| s.is_finite())
                .collect();
            current = vec![0.0; n_assets];
            if ranked.len() >= min_assets {
                ranked.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
                let k = ranked.len() / buckets;
                for &(_, a) in &ranked[..k] {
                    current[a] = 1.0;
                }
                for &(_, a) in &ranked[ranked.len() - k..] {
                    current[a] = -1.0;
                }
            }
        }
        for a in 0..n_assets {
            out[a][t] = current[a];
        }
    }
    out
}

/// The contrarian funding rule (see [`Rule::FundingContrarian`]).
fn funding_contrarian(
    panel: &Panel,
    a: usize,
    window_days: i64,
    short_above: f64,
    long_below: f64,
) -> Vec<f64> {
    let events = &panel.funding_events[a];
    let Some(&(first, _)) = events.first() else {
        return vec![0.0; panel.len()];
    };
    let window = Duration::days(window_days);
    let per_8h = window.num_hours() as f64 / 8.0;
    (0..panel.len())
        .map(|t| {
            let end = panel.close_time(t);
            let start = end - window;
            let hi = events.partition_point(|&(e, _)| e <= end);
            // Covered: the series had begun by the window's start and has settled within the
            // last 8h (judged from events already settled, never from later ones).
            let recent = hi > 0 && events[hi - 1].0 >= end - Duration::hours(8);
            if first > start || !recent {
                return 0.0;
            }
            let lo = events.partition_point(|&(e, _)| e <= start);
            let f = events[lo..hi].iter().map(|&(_, r)| r).sum::<f64>() / per_8h;
            if f > short_above {
                -1.0
            } else if f < long_below {
                1.0
            } else {
                0.0
            }
        })
        .collect()
}

/// A symbol's funding carry at a time: shown, not traded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Carry {
    /// `(Σ rates charged in the last 7 days) × 365 / 7`: what a long pays per year at that
    /// pace (negative: receives).
    pub annualised: f64,
    /// True when the symbol's real series covers the whole 7 days; false when (some of) it is
    /// Binance's default 0.01% per 8h.
    pub real: bool,
}

/// The funding carry over the 7 days before `at`.
pub fn funding_carry(
    series: &crate::universe::FundingSeries,
    at: chrono::DateTime<chrono::Utc>,
) -> Carry {
    let from = at - Duration::days(7);
    Carry {
        annualised: series.charged(from, at) * 365.0 / 7.0,
        real: series.covers(from, at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentum_blends_signs_of_each_horizon() {
        let c: Vec<Option<f64>> = [10.0, 11.0, 12.0, 11.5, 11.8].map(Some).to_vec();
        let s = trend_momentum(&c, &[1, 3], Sides::LongShort);
        // t = 3: 1 bar back down (−1), 3 bars back up (+1).
        assert_eq!(s, vec![0.0, 0.0, 0.0, 0.0, 1.0]);
        let lf = trend_momentum(&c, &[1, 3], Sides::LongFlat);
        assert_eq!(lf[3], 0.5);
        assert_eq!(lf[4], 1.0);
    }
}
