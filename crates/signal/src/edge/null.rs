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

/// One asset's weight path cut into its episodes once per book, so every null only draws
/// an arrangement and writes it out.
struct Arrangement<'a> {
    weights: &'a [f64],
    /// Bars of the leading flat run (kept in place).
    head: usize,
    /// The episodes between the first and the last position, `[start, end)`.
    interior: Vec<(usize, usize)>,
    kinds: Vec<i8>,
    /// Where the trailing flat run begins (kept in place).
    tail: usize,
}

impl<'a> Arrangement<'a> {
    fn new(weights: &'a [f64]) -> Self {
        let eps = episodes(weights);
        let kind = |&(start, _): &(usize, usize)| sign(weights[start]);
        match (
            eps.iter().position(|e| kind(e) != 0),
            eps.iter().rposition(|e| kind(e) != 0),
        ) {
            (Some(first), Some(last)) => {
                let interior = eps[first..=last].to_vec();
                Arrangement {
                    weights,
                    head: interior[0].0,
                    kinds: interior.iter().map(kind).collect(),
                    tail: eps[last].1,
                    interior,
                }
            }
            _ => Arrangement {
                weights,
                head: weights.len(),
                interior: Vec::new(),
                kinds: Vec::new(),
                tail: weights.len(),
            },
        }
    }

    /// Random draws one arrangement takes: two per proposed swap (none without a position).
    fn draws(&self) -> u64 {
        2 * (SWAPS_PER_EPISODE * self.interior.len()) as u64
    }

    /// Draws an arrangement (see the module docs) and writes its weight path into `out`.
    fn permute(&self, rng: &mut SplitMix64, scratch: &mut Walk, out: &mut Vec<f64>) {
        out.clear();
        self.shuffle(rng, scratch);
        for segment in self.segments(&scratch.order) {
            out.extend_from_slice(segment.weights);
        }
    }

    /// Draws an arrangement (see the module docs): leaves the interior episodes' order in
    /// `scratch.order` (empty without a position).
    fn shuffle(&self, rng: &mut SplitMix64, scratch: &mut Walk) {
        let m = self.interior.len();
        // A random walk over the arrangements, started at the strategy's own: swap two
        // episodes and keep the swap only if no two episodes of a kind touch and the ends
        // stay positions. The proposal is symmetric and every valid arrangement is equally
        // acceptable, so the walk's stationary distribution is uniform over the valid
        // arrangements: the one a no-skill strategy's own arrangement is drawn from.
        // `kind` mirrors `order` (the kind at each place) between two flat sentinels: a flat
        // run at either end touches one and is refused, as it would merge with the fixed
        // flat runs there. Keeping or undoing a swap is a select, not a branch: the choice
        // is a coin flip the CPU cannot predict (the walk was most of the nulls' time).
        let Walk { order, kind } = scratch;
        order.clear();
        order.extend(0..m);
        kind.clear();
        kind.push(0);
        kind.extend_from_slice(&self.kinds);
        kind.push(0);
        let (order, kind) = (&mut order[..], &mut kind[..]);
        for _ in 0..SWAPS_PER_EPISODE * m {
            let (i, j) = (rng.below(m), rng.below(m));
            let (a, b) = (i + 1, j + 1);
            let (ka, kb) = (kind[a], kind[b]);
            // The neighbours as they would be after the swap, read before anything is
            // written: a neighbour that is the other place holds the other kind. Writing the
            // swap first and reading it back made every proposal wait on its own stores
            // (a quarter of the walk's time).
            let (left_a, right_a) = (kind[a - 1], kind[a + 1]);
            let (left_b, right_b) = (kind[b - 1], kind[b + 1]);
            let left_a = if a - 1 == b { ka } else { left_a };
            let right_a = if a + 1 == b { ka } else { right_a };
            let left_b = if b - 1 == a { kb } else { left_b };
            let right_b = if b + 1 == a { kb } else { right_b };
            let alone_a = (left_a != kb) & (right_a != kb);
            let alone_b = (left_b != ka) & (right_b != ka);
            let keep = (ka == kb) | (alone_a & alone_b);
            // Masks of all ones or zeros pick without a branch (x ^ (x ^ y) = y): the kinds
            // and the order are swapped when the swap is kept and written back unchanged
            // when it is refused (the same place twice holds one kind, so either write is it).
            let k = (ka ^ kb) & i8::from(keep).wrapping_neg();
            kind[a] = ka ^ k;
            kind[b] = kb ^ k;
            let swap = usize::from(keep).wrapping_neg();
            let (oi, oj) = (order[i], order[j]);
            let o = (oi ^ oj) & swap;
            order[i] = oi ^ o;
            order[j] = oj ^ o;
        }
    }

    /// [`Arrangement::shuffle`] as first written, with branches and bounds checks: the
    /// reference the select version is held to.
    #[cfg(test)]
    fn shuffle_as_first_written(&self, rng: &mut SplitMix64, scratch: &mut Walk) {
        let m = self.interior.len();
        let Walk { order, kind } = scratch;
        order.clear();
        order.extend(0..m);
        kind.clear();
        kind.extend_from_slice(&self.kinds);
        let valid_at = |kind: &[i8], p: usize| {
            let k = kind[p];
            (k != 0 || (p > 0 && p + 1 < m))
                && (p == 0 || kind[p - 1] != k)
                && (p + 1 == m || kind[p + 1] != k)
        };
        for _ in 0..SWAPS_PER_EPISODE * m {
            let (i, j) = (rng.below(m), rng.below(m));
            if kind[i] == kind[j] {
                order.swap(i, j);
                continue;
            }
            kind.swap(i, j);
            if valid_at(kind, i) && valid_at(kind, j) {
                order.swap(i, j);
            } else {
                kind.swap(i, j);
            }
        }
    }

    /// The weight path of the arrangement `order` (the interior episodes' order; the
    /// strategy's own is `0..m`) as its runs in path order: the leading flat run, the
    /// episodes, the trailing flat run.
    fn segments<'s>(&'s self, order: &'s [usize]) -> impl Iterator<Item = Segment<'a>> + 's {
        let flat = |weights: &'a [f64]| Segment {
            weights,
            flat: true,
        };
        if self.interior.is_empty() {
            // No position: the whole path is one flat run (`head` and `tail` are its end).
            return Segments::Flat(std::iter::once(flat(self.weights)));
        }
        let head = std::iter::once(flat(&self.weights[..self.head]));
        let tail = std::iter::once(flat(&self.weights[self.tail..]));
        let body = order.iter().map(move |&e| {
            let (start, end) = self.interior[e];
            Segment {
                weights: &self.weights[start..end],
                flat: self.kinds[e] == 0,
            }
        });
        Segments::Arranged(head.chain(body).chain(tail))
    }
}

/// A run of a weight path: an episode, or a flat run (every weight `±0`).
struct Segment<'a> {
    weights: &'a [f64],
    flat: bool,
}

/// [`Arrangement::segments`]' two shapes as one iterator type.
enum Segments<F, A> {
    Flat(F),
    Arranged(A),
}

impl<'a, F, A> Iterator for Segments<F, A>
where
    F: Iterator<Item = Segment<'a>>,
    A: Iterator<Item = Segment<'a>>,
{
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        match self {
            Segments::Flat(f) => f.next(),
            Segments::Arranged(a) => a.next(),
        }
    }
}

/// The walk's buffers, reused across nulls: the episodes' order and the kind at each place
/// (with a flat sentinel at each end).
#[derive(Default)]
struct Walk {
    order: Vec<usize>,
    kind: Vec<i8>,
}

/// Rearranges one asset's weight path at random (see the module docs) into `out`.
pub fn permute_episodes(weights: &[f64], rng: &mut SplitMix64, out: &mut Vec<f64>) {
    Arrangement::new(weights).permute(rng, &mut Walk::default(), out);
}

/// Simulates weight paths over one book's returns, funding and costs, reusing its buffers.
struct Runner<'a> {
    cost: f64,
    carry: &'a [Vec<f64>],
    day_of: &'a [usize],
    growth: Vec<f64>,
    net: Vec<f64>,
    turnover: f64,
    trades: usize,
}

impl Runner<'_> {
    /// Starts a new weight table (one path per asset, added in asset order).
    fn reset(&mut self) {
        self.net.iter_mut().for_each(|x| *x = 0.0);
        self.turnover = 0.0;
        self.trades = 0;
    }

    /// Adds asset `asset`'s path, given as its runs in order, to the bars' net returns.
    ///
    /// The arithmetic is the bar-by-bar loop's (`sharpe_of_paths` in the tests), term for
    /// term in the same order, except that a flat run's bars after its first are skipped:
    /// there the weight and its change are `±0`, so the bar adds `±0` to the net return,
    /// the turnover and nothing to the trades, and `1 + (±0)` is the same growth. Most of
    /// a 1h model book is flat, and copying every null's paths out was a third of the time.
    fn add<'s>(&mut self, asset: usize, segments: impl Iterator<Item = Segment<'s>>) {
        let carry = &self.carry[asset];
        let (mut at, mut prev) = (0, 0.0);
        for seg in segments {
            let take = if seg.flat {
                seg.weights.len().min(1)
            } else {
                seg.weights.len()
            };
            // A trade starts where the sign turns to long or short: only ever at a run's first
            // bar, since an episode keeps one sign and a flat run has none.
            if let Some(&wt) = seg.weights.first()
                && wt != 0.0
                && (prev == 0.0 || (wt > 0.0) != (prev > 0.0))
            {
                self.trades += 1;
            }
            let net = &mut self.net[at..at + take];
            for ((net, &wt), &c) in net.iter_mut().zip(&seg.weights[..take]).zip(&carry[at..]) {
                let dw = (wt - prev).abs();
                *net += wt * c - dw * self.cost;
                self.turnover += dw;
                prev = wt;
            }
            if let Some(&last) = seg.weights.last() {
                prev = last;
            }
            at += seg.weights.len();
        }
    }

    /// The annualised Sharpe of the daily net returns of the paths added since
    /// [`Runner::reset`], with their turnover and number of trades.
    fn finish(&mut self) -> (f64, f64, usize) {
        self.growth.iter_mut().for_each(|g| *g = 1.0);
        for (&d, &r) in self.day_of.iter().zip(&self.net) {
            self.growth[d] *= 1.0 + r;
        }
        let (s, q) = self.growth.iter().fold((0.0, 0.0), |(s, q), g| {
            (s + (g - 1.0), q + (g - 1.0) * (g - 1.0))
        });
        (
            sharpe_from_sums(s, q, self.growth.len()),
            self.turnover,
            self.trades,
        )
    }

    /// The annualised Sharpe of the daily net returns of `paths` (one per asset), with the
    /// turnover and the number of trades: every bar of every path, as first written; the
    /// reference [`Runner::add`] is held to.
    #[cfg(test)]
    fn sharpe_of_paths(&mut self, paths: &[Vec<f64>]) -> (f64, f64, usize) {
        self.reset();
        let (mut turnover, mut trades) = (0.0, 0usize);
        for (w, carry) in paths.iter().zip(self.carry) {
            let mut prev = 0.0;
            for ((net, &wt), &c) in self.net.iter_mut().zip(w).zip(carry) {
                let dw = (wt - prev).abs();
                *net += wt * c - dw * self.cost;
                turnover += dw;
                if wt != 0.0 && (prev == 0.0 || (wt > 0.0) != (prev > 0.0)) {
                    trades += 1;
                }
                prev = wt;
            }
        }
        (self.turnover, self.trades) = (turnover, trades);
        self.finish()
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

/// Nulls `range` of one book: each null's generators start where one sequential stream from
/// `seed` (asset after asset, null after null) would be, so the nulls are the same whichever
/// thread draws them.
fn nulls(
    arrangements: &[Arrangement<'_>],
    mut runner: Runner<'_>,
    seed: u64,
    range: std::ops::Range<usize>,
) -> Vec<(f64, f64, usize)> {
    let per_null: u64 = arrangements.iter().map(Arrangement::draws).sum();
    let mut walk = Walk::default();
    range
        .map(|k| {
            let mut drawn = per_null.wrapping_mul(k as u64);
            runner.reset();
            for (a, arr) in arrangements.iter().enumerate() {
                let mut rng = SplitMix64::skipped(seed, drawn);
                arr.shuffle(&mut rng, &mut walk);
                runner.add(a, arr.segments(&walk.order));
                drawn = drawn.wrapping_add(arr.draws());
            }
            runner.finish()
        })
        .collect()
}

/// Simulates `count` random-timing nulls of `book` (seeded) and places the strategy among
/// them by the annualised Sharpe of daily net returns. The nulls are shared among the
/// machine's cores; the result does not depend on how many there are.
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
    // What a unit long earns over each bar, net of its funding.
    let carry: Vec<Vec<f64>> = book
        .returns
        .iter()
        .zip(&book.funding)
        .map(|(r, f)| r.iter().zip(f).map(|(r, f)| r - f).collect())
        .collect();
    let runner = || Runner {
        cost: book.costs.per_turnover(),
        carry: &carry,
        day_of: &day_of,
        growth: vec![1.0; days],
        net: vec![0.0; n],
        turnover: 0.0,
        trades: 0,
    };
    let arrangements: Vec<Arrangement<'_>> =
        book.weights.iter().map(|w| Arrangement::new(w)).collect();
    // The strategy goes through the same arithmetic as its nulls, so a null that happens to
    // equal it ties exactly: its own arrangement is the episodes in their order.
    let mut own = runner();
    own.reset();
    for (a, arr) in arrangements.iter().enumerate() {
        let order: Vec<usize> = (0..arr.interior.len()).collect();
        own.add(a, arr.segments(&order));
    }
    let (sharpe, turnover, trades) = own.finish();
    let exposure: f64 = book.weights.iter().flatten().map(|w| w.abs()).sum();
    let strategy = activity(turnover, exposure, trades, n, per_year);

    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, count);
    let results: Vec<(f64, f64, usize)> = if threads == 1 {
        nulls(&arrangements, runner(), seed, 0..count)
    } else {
        let chunk = count.div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..count)
                .step_by(chunk)
                .map(|from| {
                    let (arr, run) = (&arrangements, runner());
                    let to = (from + chunk).min(count);
                    scope.spawn(move || nulls(arr, run, seed, from..to))
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a null's arithmetic does not panic"))
                .collect()
        })
    };
    // Summed in null order, whatever thread computed each.
    let mut sharpes = Vec::with_capacity(count);
    let (mut turnover_sum, mut trades_sum) = (0.0, 0usize);
    for (s, turnover, trades) in results {
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
    fn the_walk_draws_the_arrangements_it_drew_as_first_written() {
        let mut draw = SplitMix64::new(21);
        let mut moved = 0;
        for case in 0..300 {
            // Short and long paths of flat, long and short runs of varied sizes.
            let n = 1 + draw.below(if case % 3 == 0 { 12 } else { 400 });
            let mut w = Vec::with_capacity(n);
            let mut side = 0.0;
            for _ in 0..n {
                if draw.unit() < 0.3 {
                    side = [-0.5, -0.0, 0.0, 0.25, 1.0][draw.below(5)];
                }
                w.push(side);
            }
            let arr = Arrangement::new(&w);
            let (mut fast, mut slow) = (Walk::default(), Walk::default());
            let seed = draw.next_u64();
            arr.shuffle(&mut SplitMix64::new(seed), &mut fast);
            arr.shuffle_as_first_written(&mut SplitMix64::new(seed), &mut slow);
            assert_eq!(fast.order, slow.order, "{w:?}");
            moved += usize::from(fast.order.iter().enumerate().any(|(i, &e)| i != e));
        }
        assert!(moved > 150, "most walks rearrange something: {moved}");
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

    #[test]
    fn nulls_shared_among_threads_equal_one_sequential_stream_bit_for_bit() {
        // Four assets on 4h bars: random regimes, one asset never trading, one always in.
        let (n, assets) = (6 * 40, 4);
        let mut rng = SplitMix64::new(77);
        let mut side = 0.0;
        let weights: Vec<Vec<f64>> = (0..assets)
            .map(|a| {
                (0..n)
                    .map(|_| match a {
                        0 => 0.0,
                        1 => 0.5,
                        _ => {
                            if rng.unit() < 0.15 {
                                side = [-0.3, 0.0, -0.0, 0.2, 0.4][rng.below(5)];
                            }
                            side
                        }
                    })
                    .collect()
            })
            .collect();
        let returns: Vec<Vec<f64>> = (0..assets)
            .map(|_| (0..n).map(|_| 0.02 * (rng.unit() - 0.5)).collect())
            .collect();
        let book = Book {
            bar: Duration::hours(4),
            times: (0..n as i64)
                .map(|i| DateTime::from_timestamp(1_609_459_200 + 14_400 * i, 0).expect("time"))
                .collect(),
            assets: (0..assets).map(|a| format!("A{a}")).collect(),
            weights,
            returns,
            funding: vec![vec![0.000_01; n]; assets],
            costs: Costs {
                taker_fee: 0.0005,
                slippage: 0.0001,
            },
        };
        let count = 37;
        let rep = random_timing(&book, count, 11).expect("valid");
        // The loop as first written: one generator, asset after asset, null after null.
        let (day_of, days) = day_index(&book);
        let carry: Vec<Vec<f64>> = book
            .returns
            .iter()
            .zip(&book.funding)
            .map(|(r, f)| r.iter().zip(f).map(|(r, f)| r - f).collect())
            .collect();
        let mut run = Runner {
            cost: book.costs.per_turnover(),
            carry: &carry,
            day_of: &day_of,
            growth: vec![1.0; days],
            net: vec![0.0; n],
            turnover: 0.0,
            trades: 0,
        };
        // The strategy itself, every bar of its paths.
        let (own, own_turnover, own_trades) = run.sharpe_of_paths(&book.weights);
        assert_eq!(rep.sharpe.to_bits(), own.to_bits());
        assert_eq!(rep.strategy.trades, own_trades as f64);
        assert_eq!(
            rep.strategy.turnover_per_year,
            own_turnover / n as f64 * bars_per_year(&book)
        );
        let mut rng = SplitMix64::new(11);
        let mut paths = vec![Vec::new(); assets];
        let (mut sharpes, mut turnover, mut trades) = (Vec::new(), 0.0, 0usize);
        for _ in 0..count {
            for (w, path) in book.weights.iter().zip(&mut paths) {
                permute_episodes(w, &mut rng, path);
            }
            let (s, t, k) = run.sharpe_of_paths(&paths);
            sharpes.push(s);
            turnover += t;
            trades += k;
        }
        let mean = sharpes.iter().sum::<f64>() / count as f64;
        let sd =
            (sharpes.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (count - 1) as f64).sqrt();
        assert_eq!(rep.null_mean_sharpe.to_bits(), mean.to_bits());
        assert_eq!(rep.null_sd_sharpe.to_bits(), sd.to_bits());
        let below = sharpes.iter().filter(|&&s| s < rep.sharpe).count();
        assert_eq!(
            rep.p_value,
            (1.0 + (count - below) as f64) / (count as f64 + 1.0)
        );
        assert_eq!(rep.nulls.trades, trades as f64 / count as f64);
        assert_eq!(
            rep.nulls.turnover_per_year,
            turnover / count as f64 / n as f64 * bars_per_year(&book)
        );
        assert!(rep.null_sd_sharpe > 0.0, "the nulls differ from each other");
    }
}
