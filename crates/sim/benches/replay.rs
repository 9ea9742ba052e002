//! One year of 1-minute engine steps over 10 symbols with an open position in each (no
//! resting orders): target ≤ 2 s. The 10 symbols replay the real BTCUSDT and ETHUSDT files
//! under other names, so the data is real and the per-symbol work is the same.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use perpdesk_sim::exchange::{Exchange, Permissions, Side};
use perpdesk_sim::market::{MarketData, SymbolSpec};
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
    group.bench_function("1 year of 1m steps, 10 symbols, 10 positions", |b| {
        b.iter_batched(
            || {
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
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, year_of_minutes);
criterion_main!(benches);
