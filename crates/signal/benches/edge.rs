//! The whole edge test for one strategy (500 random-timing nulls, 1,000 bootstrap resamples,
//! the deflated Sharpe) over 3 years of daily bars and 30 assets; the target is well under a
//! second. The book is synthetic (seeded random returns and a 20-day trend rule on them): the
//! cost depends on the book's shape and its number of episodes, not on the prices. The last
//! case is the nulls of a book shaped like the 1h models' (thousands of episodes per asset on
//! 1h bars), whose swap walk is most of the whole evaluation's null time.

use chrono::{DateTime, Duration};
use criterion::{Criterion, criterion_group, criterion_main};
use perpdesk_signal::edge::{
    Book, Costs, EdgeTest, SplitMix64, TrialLog, random_timing, sharpe_interval, simulate,
};

fn book(assets: usize, bars: usize, bar: Duration) -> Book {
    book_with_lookback(assets, bars, bar, Duration::days(20))
}

/// A trend rule of `lookback` on seeded random returns: a short lookback flips often, as the
/// 1h models' trades do (their books hold thousands of episodes per asset).
fn book_with_lookback(assets: usize, bars: usize, bar: Duration, lookback: Duration) -> Book {
    let mut rng = SplitMix64::new(1);
    let returns: Vec<Vec<f64>> = (0..assets)
        .map(|_| (0..bars).map(|_| 0.06 * (rng.unit() - 0.5)).collect())
        .collect();
    let lookback = (lookback.num_milliseconds() / bar.num_milliseconds()) as usize;
    let weights = returns
        .iter()
        .map(|r| {
            let mut level = 0.0;
            let mut path = Vec::with_capacity(bars);
            let mut w = Vec::with_capacity(bars);
            for (t, x) in r.iter().enumerate() {
                w.push(if t <= lookback {
                    0.0
                } else if level > path[t - 1 - lookback] {
                    1.0 / assets as f64
                } else {
                    -1.0 / assets as f64
                });
                level += x;
                path.push(level);
            }
            w
        })
        .collect();
    Book {
        bar,
        times: (0..bars as i64)
            .map(|i| {
                DateTime::from_timestamp_millis(1_609_459_200_000 + i * bar.num_milliseconds())
                    .expect("time")
            })
            .collect(),
        assets: (0..assets).map(|a| format!("A{a}USDT")).collect(),
        weights,
        returns,
        funding: vec![vec![0.0003; bars]; assets],
        costs: Costs {
            taker_fee: 0.0004,
            slippage: 0.0002,
        },
    }
}

fn bench(c: &mut Criterion) {
    let daily = book(30, 1095, Duration::days(1));
    let bench_book = daily.buy_and_hold();
    let trials = TrialLog::shipped().expect("shipped log").summary();
    let test = EdgeTest::STANDARD;
    let mut g = c.benchmark_group("edge");
    g.sample_size(20);
    g.bench_function("judge_30_assets_3y_daily_500_nulls_1000_resamples", |b| {
        b.iter(|| std::hint::black_box(test.judge(&daily, &bench_book, &trials, None)))
    });
    g.bench_function("random_timing_500_30_assets_3y_daily", |b| {
        b.iter(|| std::hint::black_box(random_timing(&daily, 500, 1)))
    });
    let (_, net) = perpdesk_signal::edge::daily_net(&daily).expect("valid");
    g.bench_function("bootstrap_1000_3y_daily", |b| {
        b.iter(|| std::hint::black_box(sharpe_interval(&net, 1_000, 0.9, 1)))
    });
    g.bench_function("simulate_30_assets_3y_daily", |b| {
        b.iter(|| std::hint::black_box(simulate(&daily)))
    });
    let hourly = book(30, 1095 * 24, Duration::hours(1));
    let hourly_bench = hourly.buy_and_hold();
    g.sample_size(10);
    g.bench_function("judge_30_assets_3y_hourly", |b| {
        b.iter(|| std::hint::black_box(test.judge(&hourly, &hourly_bench, &trials, None)))
    });
    let busy = book_with_lookback(30, 1095 * 24, Duration::hours(1), Duration::hours(8));
    g.bench_function(
        "random_timing_500_30_assets_3y_hourly_thousands_of_episodes",
        |b| b.iter(|| std::hint::black_box(random_timing(&busy, 500, 1))),
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
