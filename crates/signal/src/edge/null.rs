//! The random-timing null: strategies with the strategy's own positions, exposure and
//! turnover, placed at random times.
//!
//! For each asset the weight path is cut into episodes (maximal runs of one sign: long,
//! short or flat; see [`episodes`]). The flat run before the first position and after the
//! last one stay where they are: they are warm-up or missing data (an asset not yet listed
//! has returns of 0), not timing decisions. The episodes in between are rearranged at
//! random, each keeping its weights as a block, so a null holds exactly the same weights for
//! exactly as many bars as the strategy (same exposure, long and short), only at other
//! times. Assets are rearranged independently.
//!
//! Two episodes of the same kind placed next to each other would merge into one, cutting
//! the null's trades and turnover below the strategy's. So the nulls are drawn uniformly
//! from the arrangements where no two episodes of a kind touch and the first and last are
//! positions, as the strategy's own is: a random walk from the strategy's arrangement swaps
//! two episodes at a time and keeps a swap only when the result is such an arrangement
//! (symmetric proposals, so the walk's stationary distribution is uniform). A no-skill
//! strategy's arrangement is then one more draw from the nulls' distribution, which is what
//! makes its percentile uniform. The null keeps the strategy's number of trades exactly; its
//! turnover differs only where neighbouring episodes have other sizes at their joins.
//!
//! Each null is simulated with the book's returns, funding and costs and judged by the same
//! annualised Sharpe of its daily net returns. The strategy's percentile among the nulls
//! says how often random timing of the same positions did at least as well.

use serde::{Deserialize, Serialize};

use super::book::{Book, episodes, sign};
use super::rng::SplitMix64;
use super::stats::{DAYS_PER_YEAR, sharpe_from_sums};
use crate::SignalError;

/// How much a book trades: per-bar means over the book, annualised where it says so.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// Mean gross exposure `Σ|w|` per bar.
    pub exposure: f64,
    /// Turnover `Σ|Δw|` per year.
    pub turnover_per_year: f64,
    /// Independent trades (episodes) over the book.
    pub trades: f64,
}

/// The strategy against its random-timing nulls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NullReport {
    /// Number of nulls simulated.
    pub count: usize,
    pub seed: u64,
    /// The strategy's annualised Sharpe of daily net returns.
    pub sharpe: f64,
    /// Percent of nulls whose Sharpe is below the strategy's (ties count half).
    pub percentile: f64,
    /// `(1 + nulls at or above the strategy) / (count + 1)`: the permutation p-value.
    pub p_value: f64,
    /// Mean, standard deviation and 95th percentile of the nulls' Sharpes.
    pub null_mean_sharpe: f64,
    pub null_sd_sharpe: f64,
    pub null_sharpe_95: f64,
    /// The strategy's activity.
    pub strategy: Activity,
    /// The nulls' mean activity, to compare with the strategy's.
    pub nulls: Activity,
}

/// Bars per year for the book's bar length.
pub(crate) fn bars_per_year(book: &Book) -> f64 {
    DAYS_PER_YEAR * 86_400_000.0 / book.bar.num_milliseconds() as f64
}

/// The index of the UTC day of each bar, counting from the book's first day.
pub(crate) fn day_index(book: &Book) -> (Vec<usize>, usize) {
    let mut index = Vec::with_capacity(book.len());
    let mut day = 0;
    for (t, time) in book.times.iter().enumerate() {
        if t > 0 && time.date_naive() != book.times[t - 1].date_naive() {
            day += 1;
        }
        index.push(day);
    }
    (index, day + 1)
}

/// Swaps proposed per interior episode when rearranging: enough for the walk to forget its
/// start (each episode is picked about 20 times).
const SWAPS_PER_EPISODE: usize = 10;

/// Rearranges one asset's weight path at random (see the module docs) into `out`.
pub fn permute_episodes(weights: &[f64], rng: &mut SplitMix64, out: &mut Vec<f64>) {
    out.clear();
    let eps = episodes(weights);
    let kind = |&(start, _): &(usize, usize)| sign(weights[start]);
    let (Some(first), Some(last)) = (
        eps.iter().position(|e| kind(e) != 0),
        eps.iter().rposition(|e| kind(e) != 0),
    ) else {
        out.extend_from_slice(weights);
        return;
    };
    if let Some(&(_, end)) = eps[..first].last() {
        out.extend_from_slice(&weights[..end]);
    }
    let interior = &eps[first..=last];
    let kinds: Vec<i8> = interior.iter().map(kind).collect();
    let m = interior.len();
    // A random walk over the arrangements, started at the strategy's own: swap two episodes
    // and keep the swap only if no two episodes of a kind touch and the ends stay positions.
    // The proposal is symmetric and every valid arrangement is equally acceptable, so the
    // walk's stationary distribution is uniform over the valid arrangements: the one a
    // no-skill strategy's own arrangement is drawn from.
    let mut order: Vec<usize> = (0..m).collect();
    let valid_at = |order: &[usize], p: usize| {
        let k = kinds[order[p]];
        // A flat run may not sit at either end, where it would merge with the fixed ones.
        (k != 0 || (p > 0 && p + 1 < m))
            && (p == 0 || kinds[order[p - 1]] != k)
            && (p + 1 == m || kinds[order[p + 1]] != k)
    };
    for _ in 0..SWAPS_PER_EPISODE * m {
        let (i, j) = (rng.below(m), rng.below(m));
        let same = kinds[order[i]] == kinds[order[j]];
        order.swap(i, j);
        let keep = same || (valid_at(&order, i) && valid_at(&order, j));
        if !keep {
            order.swap(i, j);
        }
    }
    for &e in &order {
        let (start, end) = interior[e];
        out.extend_from_slice(&weights[start..end]);
    }
    out.extend_from_slice(&weights[eps[last].1..]);
}

/// Simulates weight paths over one book's returns, funding and costs, reusing its buffers.
struct Runner {
    cost: f64,
    carry: Vec<Vec<f64>>,
    day_of: Vec<usize>,
    growth: Vec<f64>,
    net: Vec<f64>,
}

impl Runner {
    /// The annualised Sharpe of the daily net returns of `paths` (one per asset), with the
    /// turnover and the number of trades.
    fn sharpe(&mut self, paths: &[Vec<f64>]) -> (f64, f64, usize) {
        self.net.iter_mut().for_each(|x| *x = 0.0);
        let (mut turnover, mut trades) = (0.0, 0usize);
        for (w, carry) in paths.iter().zip(&self.carry) {
            let mut prev = 0.0;
            for ((net, &wt), &c) in self.net.iter_mut().zip(w).zip(carry) {
                let dw = (wt - prev).abs();
                *net += wt * c - dw * self.cost;
                turnover += dw;
                // A trade starts where the sign turns to long or short.
                if wt != 0.0 && (prev == 0.0 || (wt > 0.0) != (prev > 0.0)) {
                    trades += 1;
                }
                prev = wt;
            }
        }
        self.growth.iter_mut().for_each(|g| *g = 1.0);
        for (&d, &r) in self.day_of.iter().zip(&self.net) {
            self.growth[d] *= 1.0 + r;
        }
        let (s, q) = self.growth.iter().fold((0.0, 0.0), |(s, q), g| {
            (s + (g - 1.0), q + (g - 1.0) * (g - 1.0))
        });
        (sharpe_from_sums(s, q, self.growth.len()), turnover, trades)
    }
}

/// The strategy's activity from its simulation.
fn activity(turnover: f64, exposure: f64, trades: usize, bars: usize, per_year: f64) -> Activity {
    Activity {
        exposure: exposure / bars as f64,
        turnover_per_year: turnover / bars as f64 * per_year,
        trades: trades as f64,
    }
}

/// Simulates `count` random-timing nulls of `book` (seeded) and places the strategy among
/// them by the annualised Sharpe of daily net returns.
///
/// # Errors
/// Whatever [`Book::validate`] refuses, and [`SignalError::BadParam`] for no nulls or a book
/// spanning fewer than 2 UTC days.
pub fn random_timing(book: &Book, count: usize, seed: u64) -> Result<NullReport, SignalError> {
    book.validate()?;
    if count == 0 {
        return Err(SignalError::BadParam("need at least one null".into()));
    }
    let (day_of, days) = day_index(book);
    if days < 2 {
        return Err(SignalError::BadParam(
            "the book spans fewer than 2 UTC days".into(),
        ));
    }
    let n = book.len();
    let per_year = bars_per_year(book);
    let mut run = Runner {
        cost: book.costs.per_turnover(),
        // What a unit long earns over each bar, net of its funding.
        carry: book
            .returns
            .iter()
            .zip(&book.funding)
            .map(|(r, f)| r.iter().zip(f).map(|(r, f)| r - f).collect())
            .collect(),
        day_of,
        growth: vec![1.0; days],
        net: vec![0.0; n],
    };
    // The strategy goes through the same arithmetic as its nulls, so a null that happens to
    // equal it ties exactly.
    let (sharpe, turnover, trades) = run.sharpe(&book.weights);
    let exposure: f64 = book.weights.iter().flatten().map(|w| w.abs()).sum();
    let strategy = activity(turnover, exposure, trades, n, per_year);

    let mut rng = SplitMix64::new(seed);
    let mut paths: Vec<Vec<f64>> = vec![Vec::with_capacity(n); book.assets.len()];
    let mut sharpes = Vec::with_capacity(count);
    let (mut turnover_sum, mut trades_sum) = (0.0, 0usize);
    for _ in 0..count {
        for (w, path) in book.weights.iter().zip(&mut paths) {
            permute_episodes(w, &mut rng, path);
        }
        let (s, turnover, trades) = run.sharpe(&paths);
        sharpes.push(s);
        turnover_sum += turnover;
        trades_sum += trades;
    }
    let below = sharpes.iter().filter(|&&s| s < sharpe).count();
    let ties = sharpes.iter().filter(|&&s| s == sharpe).count();
    let c = count as f64;
    let mean = sharpes.iter().sum::<f64>() / c;
    let sd = if count > 1 {
        (sharpes.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (c - 1.0)).sqrt()
    } else {
        0.0
    };
    sharpes.sort_by(f64::total_cmp);
    Ok(NullReport {
        count,
        seed,
        sharpe,
        percentile: 100.0 * (below as f64 + 0.5 * ties as f64) / c,
        p_value: (1.0 + (count - below) as f64) / (c + 1.0),
        null_mean_sharpe: mean,
        null_sd_sharpe: sd,
        null_sharpe_95: super::bootstrap::quantile(&sharpes, 0.95),
        strategy,
        nulls: Activity {
            exposure: strategy.exposure,
            turnover_per_year: turnover_sum / c / n as f64 * per_year,
            trades: trades_sum as f64 / c,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::book::Costs;
    use chrono::{DateTime, Duration};

    fn sorted(mut v: Vec<f64>) -> Vec<f64> {
        v.sort_by(f64::total_cmp);
        v
    }

    #[test]
    fn permutation_keeps_weights_warmup_and_trade_count() {
        let w = [
            0.0, 0.0, 0.3, 0.3, 0.0, -0.2, -0.2, -0.2, 0.5, 0.0, 0.0, 0.1, -0.4, 0.0,
        ];
        let mut rng = SplitMix64::new(5);
        let mut out = Vec::new();
        let mut moved = false;
        for _ in 0..200 {
            permute_episodes(&w, &mut rng, &mut out);
            assert_eq!(out.len(), w.len());
            assert_eq!(sorted(out.clone()), sorted(w.to_vec()));
            assert_eq!(&out[..2], &[0.0, 0.0], "the warm-up stays first");
            assert_eq!(out[13], 0.0, "the trailing flat run stays last");
            let trades = episodes(&out)
                .iter()
                .filter(|&&(s, _)| sign(out[s]) != 0)
                .count();
            assert_eq!(trades, 5, "{out:?}");
            moved |= out != w;
        }
        assert!(moved);
        permute_episodes(&[0.0; 4], &mut rng, &mut out);
        assert_eq!(out, vec![0.0; 4]);
        permute_episodes(&[], &mut rng, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn always_in_long_short_paths_keep_alternating() {
        let w = [1.0, 1.0, -1.0, 1.0, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0];
        let mut rng = SplitMix64::new(9);
        let mut out = Vec::new();
        for _ in 0..100 {
            permute_episodes(&w, &mut rng, &mut out);
            assert_eq!(episodes(&out).len(), episodes(&w).len(), "{out:?}");
        }
    }

    #[test]
    fn a_strategy_that_knows_the_future_tops_its_nulls() {
        let n = 400;
        let mut rng = SplitMix64::new(1);
        let r: Vec<f64> = (0..n).map(|_| 0.02 * (rng.unit() - 0.5)).collect();
        // Long the next day when it rises, for runs of two days: perfect foresight.
        let w: Vec<f64> = (0..n)
            .map(|t| {
                if r[t - t % 2] + r[(t - t % 2 + 1).min(n - 1)] > 0.0 {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect();
        let book = Book {
            bar: Duration::days(1),
            times: (0..n as i64)
                .map(|i| DateTime::from_timestamp(1_609_459_200 + 86_400 * i, 0).expect("time"))
                .collect(),
            assets: vec!["X".into()],
            weights: vec![w],
            returns: vec![r],
            funding: vec![vec![0.0; n]],
            costs: Costs {
                taker_fee: 0.0005,
                slippage: 0.0001,
            },
        };
        let rep = random_timing(&book, 200, 3).expect("valid");
        assert_eq!(rep.percentile, 100.0);
        assert!((rep.p_value - 1.0 / 201.0).abs() < 1e-12);
        assert!(rep.null_mean_sharpe.abs() < 1.5, "{rep:?}");
        assert_eq!(rep.nulls.trades, rep.strategy.trades);
        assert_eq!(rep.nulls.turnover_per_year, rep.strategy.turnover_per_year);
        assert_eq!(rep, random_timing(&book, 200, 3).expect("valid"));
        assert!(random_timing(&book, 0, 3).is_err());
    }
}
