//! One year of 1-minute engine steps over 10 symbols with an open position in each (no
//! resting orders): target ≤ 2 s. The 10 symbols replay the real BTCUSDT and ETHUSDT files
//! under other names, so the data is real and the per-symbol work is the same; once with every
//! candle in memory, once keeping the paper exchange's window (its slides read the files on a
//! background thread). And a chart's klines from memory and from the files.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use perpdesk_sim::exchange::{Exchange, Permissions, Side};
use perpdesk_sim::market::{MarketData, Residency, SymbolSpec};
use perpdesk_sim::params::NewOrder;
use perpdesk_sim::testing::data_dir;
use rust_decimal::Decimal;

const YEAR_MS: i64 = 365 * 86_400_000;

/// Links the real files under ten symbol names and loads them.
fn ten_symbols(dir: &Path) -> (MarketData, Vec<String>) {
    let data = data_dir();
    let mut specs = Vec::new();
    let mut names = Vec::new();
    for i in 0..10 {
        let (source, mut spec) = if i % 2 == 0 {
            ("BTCUSDT", SymbolSpec::btcusdt())
        } else {
            ("ETHUSDT", SymbolSpec::ethusdt())
        };
        let name = format!("SIM{i}USDT");
        for kind in ["1h", "mark_1h", "funding"] {
            let from = data.join(format!("binance_um_{source}_{kind}_2021-2023.csv"));
            let to = dir.join(format!("binance_um_{name}_{kind}_2021-2023.csv"));
            std::os::unix::fs::symlink(&from, &to).expect("link data file");
        }
        spec.symbol = name.clone();
        specs.push(spec);
        names.push(name);
    }
    (
        MarketData::load_dir_with_specs(dir, specs).expect("load"),
        names,
    )
}

fn year_of_minutes(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("perpdesk-sim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (market, names) = ten_symbols(&dir);
    let start = market.start_ms() + 86_400_000;
    let mut group = c.benchmark_group("replay");
    group.sample_size(10);
    let windowed = market.clone().keeping(Residency::PAPER);
    for (name, market) in [
        ("1 year of 1m steps, 10 symbols, 10 positions", &market),
        (
            "1 year of 1m steps, 10 symbols, 10 positions, paper window",
            &windowed,
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    // The last run's read ahead must not land in this one's window.
                    market.wait_for_window();
                    let mut ex = Exchange::new(market.clone(), start);
                    ex.add_account(
                        "k",
                        "s",
                        Decimal::new(1_000_000, 0),
                        Permissions::default(),
                        start,
                    );
                    for name in &names {
                        let order = NewOrder::market(name, Side::Buy, Decimal::new(1, 2));
                        ex.new_order(0, &order, start).expect("position opens");
                    }
                    ex
                },
                |mut ex| {
                    let mut t = start;
                    while t < start + YEAR_MS {
                        t += 60_000;
                        ex.advance(t);
                    }
                    ex.outbox.len()
                },
                criterion::BatchSize::LargeInput,
            );
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a chart's 1,000 hourly klines cost from memory and from the files (the paper window
/// kept around the clock, the asked hours 300 days before it).
fn klines(c: &mut Criterion) {
    let whole = MarketData::load_dir(&data_dir(), &["BTCUSDT"]).expect("load");
    let windowed = whole.clone().keeping(Residency::PAPER);
    let now = whole.start_ms() + 700 * 86_400_000;
    windowed.keep_window(now, now).expect("the files read");
    let far = Some(now - 300 * 86_400_000);
    let mut group = c.benchmark_group("klines");
    group.bench_function("1000 1h, all in memory", |b| {
        b.iter(|| whole.klines("BTCUSDT", "1h", None, None, 1000, now))
    });
    group.bench_function("1000 1h, inside the paper window", |b| {
        b.iter(|| windowed.klines("BTCUSDT", "1h", None, None, 1000, now))
    });
    group.bench_function("1000 1h, 300 days back, all in memory", |b| {
        b.iter(|| whole.klines("BTCUSDT", "1h", far, None, 1000, now))
    });
    group.bench_function("1000 1h, 300 days back, read from the file", |b| {
        b.iter(|| {
            windowed.forget_recent_reads();
            windowed.klines("BTCUSDT", "1h", far, None, 1000, now)
        })
    });
    group.finish();
}

criterion_group!(benches, year_of_minutes, klines);
criterion_main!(benches);
