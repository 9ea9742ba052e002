//! The test of the test (issue 15 item 5): forecasts with no skill must be judged "edge" in
//! at most 5% of runs, measured on real data.
//!
//! Each run takes a random 365-day window of the daily universe (BTCUSDT, ETHUSDT, SOLUSDT,
//! XRPUSDT, DOGEUSDT, BNBUSDT, 2021–2023: bull, bear and recovery) and one no-skill
//! strategy of a kind:
//!
//! * `shifted`: a real trend rule's positions (20-day momentum, long/short, 1/6 each)
//!   shifted in time by 60 to 1,035 days (circularly over the three years), so they no
//!   longer line up with the returns they would predict but keep every other property;
//! * `shuffled`: the same rule's daily positions in the window, days permuted;
//! * `random`: per asset, random regimes (long, short or flat, geometric lengths of mean 10
//!   days).
//!
//! Each is judged by [`EdgeTest::STANDARD`] against the window's equal-weight basket, with
//! the shipped trial log, and by the rule the issue measured as broken (net profit above
//! buy-and-hold's and above one seeded coin flip's) for comparison: the test also checks
//! that the old rule still passes more than 10% of the falling samples, the failure the
//! issue measured (5–42%). Runs are seeded, so the rates are reproducible; the `#[ignore]`d
//! test repeats it with 1,000 runs per kind.

use perpdesk_signal::edge::{EdgeTest, FlatReason, SplitMix64, daily_net, episodes};

use crate::edge::{Universe, shipped_trials};

const WINDOW_DAYS: usize = 365;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Shifted,
    Shuffled,
    Random,
    /// Each asset's days permuted on its own (the 1,000-run check only): no-skill like
    /// `Shuffled`, without its positions aligned across assets.
    ShuffledPerAsset,
}

#[derive(Debug, Default)]
struct Tally {
    runs: usize,
    edge: usize,
    falling: usize,
    edge_falling: usize,
    old_rule: usize,
    old_rule_falling: usize,
    failed: [usize; 6],
}

fn total_return(daily: &[f64]) -> f64 {
    daily.iter().map(|r| 1.0 + r).product::<f64>() - 1.0
}

/// The positions of one no-skill strategy over the whole period (only `from..to` is used).
fn no_skill(
    kind: Kind,
    u: &Universe,
    trend: &[Vec<f64>],
    rng: &mut SplitMix64,
    from: usize,
    to: usize,
) -> Vec<Vec<f64>> {
    let n = u.days.len();
    let unit = 1.0 / u.assets.len() as f64;
    match kind {
        Kind::Shifted => {
            let k = 60 + rng.below(n - 120);
            trend
                .iter()
                .map(|w| (0..n).map(|t| w[(t + n - k) % n]).collect())
                .collect()
        }
        Kind::Shuffled => {
            let mut days: Vec<usize> = (from..to).collect();
            rng.shuffle(&mut days);
            trend
                .iter()
                .map(|w| {
                    let mut out = w.clone();
                    for (i, &d) in days.iter().enumerate() {
                        out[from + i] = w[d];
                    }
                    out
                })
                .collect()
        }
        Kind::ShuffledPerAsset => trend
            .iter()
            .map(|w| {
                let mut days: Vec<usize> = (from..to).collect();
                rng.shuffle(&mut days);
                let mut out = w.clone();
                for (i, &d) in days.iter().enumerate() {
                    out[from + i] = w[d];
                }
                out
            })
            .collect(),
        Kind::Random => (0..u.assets.len())
            .map(|_| {
                let mut w = vec![0.0; n];
                let mut side = 0.0;
                for x in &mut w {
                    if rng.unit() < 0.1 {
                        side = [-unit, 0.0, unit][rng.below(3)];
                    }
                    *x = side;
                }
                w
            })
            .collect(),
    }
}

/// The broken rule's coin flip: the strategy's episodes where they are, each on a side drawn
/// by one seeded coin.
fn coin_flip(weights: &[Vec<f64>], seed: u64) -> Vec<Vec<f64>> {
    let mut rng = SplitMix64::new(seed);
    weights
        .iter()
        .map(|w| {
            let mut out = w.clone();
            for (s, e) in episodes(w) {
                let side = if rng.below(2) == 0 { 1.0 } else { -1.0 };
                out[s..e].iter_mut().for_each(|x| *x = side * x.abs());
            }
            out
        })
        .collect()
}

fn measure(kind: Kind, runs: usize, u: &Universe) -> Tally {
    let trend = u.trend(20);
    let trials = shipped_trials();
    let n = u.days.len();
    let mut rng = SplitMix64::new(0xFA15E + kind as u64);
    let mut t = Tally::default();
    for _ in 0..runs {
        let from = rng.below(n - WINDOW_DAYS + 1);
        let to = from + WINDOW_DAYS;
        let w = no_skill(kind, u, &trend, &mut rng, from, to);
        let book = u.book(&w, from, to);
        let bench = book.buy_and_hold();
        let v = EdgeTest::STANDARD
            .judge(&book, &bench, &trials, None)
            .expect("a valid book");
        let falling = v.benchmark.total_return < 0.0;
        let coin = u.book(&coin_flip(&w, 42), from, to);
        let coin_return = total_return(&daily_net(&coin).expect("valid").1);
        let old = v.strategy.total_return > v.benchmark.total_return
            && v.strategy.total_return > coin_return;
        t.runs += 1;
        t.edge += usize::from(v.edge);
        t.falling += usize::from(falling);
        t.edge_falling += usize::from(v.edge && falling);
        t.old_rule += usize::from(old);
        t.old_rule_falling += usize::from(old && falling);
        for (i, r) in FlatReason::ALL.iter().enumerate() {
            t.failed[i] += usize::from(v.reasons.contains(r));
        }
    }
    t
}

fn pct(a: usize, b: usize) -> f64 {
    100.0 * a as f64 / b.max(1) as f64
}

fn report(kind: Kind, t: &Tally) {
    eprintln!(
        "no-skill {kind:?}: judged edge in {}/{} runs ({:.1}%), {}/{} falling samples; \
         old rule passed {:.1}% overall, {:.1}% of falling samples",
        t.edge,
        t.runs,
        pct(t.edge, t.runs),
        t.edge_falling,
        t.falling,
        pct(t.old_rule, t.runs),
        pct(t.old_rule_falling, t.falling),
    );
    let failed: Vec<String> = FlatReason::ALL
        .iter()
        .zip(t.failed)
        .map(|(r, c)| format!("{r:?} {c}/{} ({:.1}%)", t.runs, pct(c, t.runs)))
        .collect();
    eprintln!("  criteria failed: {}", failed.join(", "));
    // The random-timing criterion alone: under no skill its percentile is uniform, so about
    // 5% of runs should reach the 95th percentile.
    let above = t.runs - t.failed[1];
    let (lo, hi) = wilson(above, t.runs);
    eprintln!(
        "  at or above the 95th percentile of random timing: {above}/{} ({:.1}%, 95% interval {:.1}–{:.1}%)",
        t.runs,
        pct(above, t.runs),
        100.0 * lo,
        100.0 * hi
    );
}

/// Wilson's 95% score interval of a binomial proportion `k / n`.
fn wilson(k: usize, n: usize) -> (f64, f64) {
    let (k, n, z) = (k as f64, n.max(1) as f64, 1.959_964);
    let p = k / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    (centre - half, centre + half)
}

fn check_kinds(runs: usize, kinds: &[Kind]) {
    let u = Universe::load();
    for &kind in kinds {
        let t = measure(kind, runs, &u);
        report(kind, &t);
        assert!(
            pct(t.edge, t.runs) <= 5.0,
            "{kind:?}: no-skill forecasts judged edge in {}/{} runs",
            t.edge,
            t.runs
        );
        assert!(t.falling > 0, "the windows include falling samples");
        // The rule this test replaces, measured on the same runs: it rewards being short in
        // a falling market, so no-skill strategies pass it far more often than 5%.
        assert!(
            pct(t.old_rule_falling, t.falling) > 10.0,
            "{kind:?}: the old rule passed only {}/{} falling samples",
            t.old_rule_falling,
            t.falling
        );
    }
}

#[test]
fn forecasts_without_skill_are_judged_edge_in_at_most_5_percent_of_runs() {
    check_kinds(100, &[Kind::Shifted, Kind::Shuffled, Kind::Random]);
}

#[test]
#[ignore = "1,000 runs per kind: a few minutes in a debug build; run with --ignored --nocapture"]
fn false_edge_rate_over_a_thousand_runs_per_kind() {
    check_kinds(1_000, &[Kind::Shifted, Kind::Shuffled, Kind::Random]);
}

#[test]
#[ignore = "1,000 runs: the shuffled kind without its cross-asset alignment (docs/edge-test.md, section 4)"]
fn random_timing_percentile_of_per_asset_shuffles_over_a_thousand_runs() {
    check_kinds(1_000, &[Kind::ShuffledPerAsset]);
}
