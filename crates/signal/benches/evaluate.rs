//! Walk-forward evaluation + backtest + baselines on 3 years of 1h candles for BTCUSDT and
//! ETHUSDT, both model kinds (logistic and LightGBM trees) on every fold (the target:
//! ≤ 10 s for both symbols).

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use perpdesk_core::Interval;
use perpdesk_signal::backtest::{BacktestConfig, FundingRates};
use perpdesk_signal::{Ohlcv, default_walk_forward_1h, evaluate, parse_klines};

fn load(symbol: &str) -> Ohlcv {
    let dir = std::env::var_os("PERPDESK_SHARED").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
        PathBuf::from,
    );
    let path = dir.join(format!("data/binance_um_{symbol}_1h_2021-2023.csv"));
    let text = std::fs::read_to_string(&path).expect("shared 1h data");
    let candles = parse_klines(&text).expect("kline csv");
    Ohlcv::from_candles(&candles, Interval::H1).expect("clean candles")
}

fn bench(c: &mut Criterion) {
    let data = [load("BTCUSDT"), load("ETHUSDT")];
    let rates = FundingRates::default();
    let mut g = c.benchmark_group("evaluate");
    g.sample_size(10);
    g.bench_function("walk_forward_backtest_btc_eth_1h_3y", |b| {
        b.iter(|| {
            for x in &data {
                let e = evaluate(
                    x,
                    default_walk_forward_1h(),
                    BacktestConfig::default(),
                    &rates,
                )
                .expect("evaluate");
                std::hint::black_box(e);
            }
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
