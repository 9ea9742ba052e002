//! The edge test's verdict: one fixed set of thresholds, every number behind it, and every
//! reason a strategy is shown flat.
//!
//! # The thresholds ([`EdgeTest::STANDARD`]), fixed before any result was seen
//!
//! | criterion | threshold | why |
//! |---|---|---|
//! | independent trades | ≥ 30 | below ~30 episodes a Sharpe is dominated by a handful of bets, and the bootstrap and the null have too few blocks to say anything |
//! | percentile among 500 random-timing nulls | ≥ 95 | the same positions at random times must be beaten 19 times in 20: timing, not market direction or exposure, has to earn the return |
//! | deflated Sharpe p-value, N from the trial log | < 0.05 | the Sharpe must exceed what the best of all configurations ever tried would show by luck |
//! | 90% stationary-bootstrap interval of the Sharpe | lower bound > 0 | the Sharpe must stay positive when the days are resampled in blocks (a one-sided 5% test robust to fat tails and clustering) |
//! | Sharpe vs buy-and-hold of the same symbol/basket over the same days | above | holding the market was available and costs nothing to think of |
//! | Brier skill against the test window's own base rate (probabilistic forecasts only) | > 0 | a probability must beat always saying the observed frequency |
//!
//! A strategy has an edge only when every criterion holds; otherwise each failed criterion
//! is listed as a [`FlatReason`] the UI translates. Seeds are fixed, so a verdict is
//! reproducible bit for bit.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::book::{Book, daily, simulate};
use super::bootstrap::{SharpeInterval, sharpe_interval};
use super::dsr::{Dsr, deflated_sharpe, min_track_record};
use super::null::{NullReport, bars_per_year, random_timing};
use super::stats::{DAYS_PER_YEAR, Stats, stats};
use super::trials::TrialSummary;
use crate::SignalError;
use crate::evaluate::BrierSkill;

/// The edge test's settings: thresholds and the sizes and seed of its resampling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EdgeTest {
    /// Fewest independent trades (episodes) for a record to count.
    pub min_trades: usize,
    /// Lowest percentile of the strategy's Sharpe among the random-timing nulls.
    pub min_percentile: f64,
    /// Highest p-value of the deflated Sharpe ratio.
    pub max_dsr_p: f64,
    /// Coverage of the bootstrap interval whose lower bound must be above 0.
    pub interval_level: f64,
    /// Random-timing nulls simulated.
    pub nulls: usize,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// Seed of both resamplings.
    pub seed: u64,
}

impl EdgeTest {
    /// The one configuration the product judges with (see the module docs for the reasons).
    pub const STANDARD: EdgeTest = EdgeTest {
        min_trades: 30,
        min_percentile: 95.0,
        max_dsr_p: 0.05,
        interval_level: 0.90,
        nulls: 500,
        resamples: 1_000,
        seed: 0x5EED_ED6E,
    };
}

impl Default for EdgeTest {
    fn default() -> Self {
        Self::STANDARD
    }
}

/// Why a strategy is shown flat: one per failed criterion, a stable code for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlatReason {
    /// Fewer independent trades than [`EdgeTest::min_trades`].
    TooFewTrades,
    /// Random timing of the same positions did as well too often.
    BelowRandomTiming,
    /// The Sharpe is within what the best of the logged trials would show by luck.
    NotSignificantAfterTrials,
    /// The bootstrap interval of the Sharpe reaches 0 or below.
    IntervalIncludesZero,
    /// Buy-and-hold of the same symbol or basket had at least the same Sharpe.
    BelowBuyAndHold,
    /// The probability forecasts do not beat the base rate on the Brier score.
    NoBrierSkill,
}

impl FlatReason {
    /// Every reason, in the order the verdict lists them.
    pub const ALL: [FlatReason; 6] = [
        FlatReason::TooFewTrades,
        FlatReason::BelowRandomTiming,
        FlatReason::NotSignificantAfterTrials,
        FlatReason::IntervalIncludesZero,
        FlatReason::BelowBuyAndHold,
        FlatReason::NoBrierSkill,
    ];
}

/// How the strategy traded, over the whole book.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BookSummary {
    /// Independent trades (episodes).
    pub trades: usize,
    /// Mean gross exposure `Σ|w|` per bar.
    pub exposure: f64,
    /// Turnover `Σ|Δw|` per year.
    pub turnover_per_year: f64,
    /// Fees and slippage paid per year, a fraction of equity (simple sum).
    pub fees_per_year: f64,
    /// Funding paid per year (negative: received), a fraction of equity (simple sum).
    pub funding_per_year: f64,
    /// Mean net return per year divided by the mean exposure: the return of a unit of
    /// capital actually at work (0 without exposure).
    pub return_per_exposure: f64,
}

/// The edge test's result for one strategy (this is what the UI shows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// True only when every criterion holds.
    pub edge: bool,
    /// Every failed criterion, empty when `edge`.
    pub reasons: Vec<FlatReason>,
    /// The thresholds judged by.
    pub test: EdgeTest,
    /// First and last UTC day of the record.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The strategy's daily net returns.
    pub strategy: Stats,
    /// Buy-and-hold's daily net returns over the same days.
    pub benchmark: Stats,
    pub activity: BookSummary,
    /// Bootstrap interval of the strategy's Sharpe.
    pub interval: SharpeInterval,
    pub random_timing: NullReport,
    pub deflated: Dsr,
    /// Brier skill of the forecasts behind the strategy, when they are probabilities.
    pub brier: Option<BrierSkill>,
}

/// How far a record is from the test in time: the minimum track record length (Bailey &
/// López de Prado 2012) at the observed daily Sharpe, skewness and kurtosis, at the test's
/// confidence (`1 −` [`EdgeTest::max_dsr_p`]), against 0 and against the deflated bar `SR₀`.
/// Derived from a verdict's numbers; it decides nothing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Power {
    /// Confidence of the one-sided test the years are for (0.95).
    pub confidence: f64,
    /// Years of daily returns the record has.
    pub record_years: f64,
    /// The annualised Sharpe the deflated test must clear (`SR₀`).
    pub bar_sharpe: f64,
    /// Years of record needed to show the Sharpe above 0; `None`: never (Sharpe ≤ 0).
    pub years_vs_zero: Option<f64>,
    /// Years of record needed to show the Sharpe above `SR₀`; `None`: never (Sharpe ≤ `SR₀`).
    pub years_vs_bar: Option<f64>,
}

impl Verdict {
    /// The minimum track record lengths of this record (see [`Power`]).
    pub fn power(&self) -> Power {
        let per_day = DAYS_PER_YEAR.sqrt();
        let s = &self.strategy;
        let confidence = 1.0 - self.test.max_dsr_p;
        let years = |bar: f64| {
            min_track_record(
                s.sharpe / per_day,
                bar / per_day,
                s.skewness,
                s.kurtosis,
                confidence,
            )
            .map(|days| days / DAYS_PER_YEAR)
        };
        Power {
            confidence,
            record_years: s.days as f64 / DAYS_PER_YEAR,
            bar_sharpe: self.deflated.expected_max_sharpe,
            years_vs_zero: years(0.0),
            years_vs_bar: years(self.deflated.expected_max_sharpe),
        }
    }
}

/// Simulates a book and compounds its net returns into UTC days.
///
/// # Errors
/// Whatever [`Book::validate`] refuses.
pub fn daily_net(book: &Book) -> Result<(Vec<DateTime<Utc>>, Vec<f64>), SignalError> {
    let sim = simulate(book)?;
    Ok(daily(&book.times, &sim.net))
}

impl EdgeTest {
    /// Judges `book` against `benchmark` (buy-and-hold of the same symbol or basket over the
    /// same bars, e.g. [`Book::buy_and_hold`]), the trial log's summary (the strategy's own
    /// configuration included) and, for probabilistic forecasts, their Brier skill measured
    /// out of sample.
    ///
    /// # Errors
    /// Whatever [`Book::validate`] refuses in either book, [`SignalError::BadParam`] when the
    /// benchmark covers other days or the record spans fewer than 2 days, or bad settings.
    pub fn judge(
        &self,
        book: &Book,
        benchmark: &Book,
        trials: &TrialSummary,
        brier: Option<BrierSkill>,
    ) -> Result<Verdict, SignalError> {
        let sim = simulate(book)?;
        let (days, net) = daily(&book.times, &sim.net);
        let (bench_days, bench_net) = daily_net(benchmark)?;
        if bench_days != days {
            return Err(SignalError::BadParam(
                "the benchmark does not cover the strategy's days".into(),
            ));
        }
        let strategy = stats(&net)?;
        let interval = sharpe_interval(&net, self.resamples, self.interval_level, self.seed)?;
        let random_timing = random_timing(book, self.nulls, self.seed.wrapping_add(1))?;
        let deflated = deflated_sharpe(&net, trials)?;
        let benchmark_stats = stats(&bench_net)?;

        let bars = book.len() as f64;
        let per_year = bars_per_year(book);
        let exposure = sim.exposure.iter().sum::<f64>() / bars;
        let activity = BookSummary {
            trades: sim.trades,
            exposure,
            turnover_per_year: sim.turnover.iter().sum::<f64>() / bars * per_year,
            fees_per_year: sim.fees.iter().sum::<f64>() / bars * per_year,
            funding_per_year: sim.funding.iter().sum::<f64>() / bars * per_year,
            return_per_exposure: if exposure > 0.0 {
                strategy.mean * DAYS_PER_YEAR / exposure
            } else {
                0.0
            },
        };

        // Written as what passes, so a NaN anywhere fails its criterion.
        let holds = |criterion: FlatReason| match criterion {
            FlatReason::TooFewTrades => activity.trades >= self.min_trades,
            FlatReason::BelowRandomTiming => random_timing.percentile >= self.min_percentile,
            FlatReason::NotSignificantAfterTrials => deflated.p_value < self.max_dsr_p,
            FlatReason::IntervalIncludesZero => interval.lower > 0.0,
            FlatReason::BelowBuyAndHold => strategy.sharpe > benchmark_stats.sharpe,
            FlatReason::NoBrierSkill => brier.is_none_or(|b| b.skill > 0.0),
        };
        let reasons: Vec<FlatReason> = FlatReason::ALL.into_iter().filter(|&r| !holds(r)).collect();
        Ok(Verdict {
            edge: reasons.is_empty(),
            reasons,
            test: *self,
            from: days[0],
            to: *days.last().expect("stats refused fewer than 2 days"),
            strategy,
            benchmark: benchmark_stats,
            activity,
            interval,
            random_timing,
            deflated,
            brier,
        })
    }
}
