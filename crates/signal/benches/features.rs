//! Throughput of the full batch feature pipeline on the real 26,280-candle BTCUSDT 1h file,
//! next to a naive single-EMA loop over the same closes (the floor any pipeline sits above).

use std::hint::black_box;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use perpdesk_core::{Candle, Interval};
use perpdesk_signal::stream::{AtrStream, EmaStream, RsiStream};
use perpdesk_signal::{
    FEATURE_SET_VERSION, FeatureStream, FundingRates, GbdtConfig, GbdtModel, LabelSpec,
    LogisticConfig, LogisticModel, Model, Ohlcv, Scorer, compute_features,
    compute_features_with_funding, data::parse_funding, forward_labels,
};
use rust_decimal::Decimal;

/// ../shared, or where PERPDESK_SHARED points.
fn shared_dir() -> PathBuf {
    std::env::var_os("PERPDESK_SHARED").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
        PathBuf::from,
    )
}

fn load() -> Ohlcv {
    let dir = shared_dir();
    let path = dir.join("data/binance_um_BTCUSDT_1h_2021-2023.csv");
    let text = std::fs::read_to_string(&path).expect("shared BTCUSDT 1h data");
    let candles: Vec<Candle> = text
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let d = |i: usize| Decimal::from_str(f[i]).expect("decimal");
            Candle {
                open_time: DateTime::<Utc>::from_timestamp_millis(f[0].parse().expect("ms"))
                    .expect("time"),
                open: d(1),
                high: d(2),
                low: d(3),
                close: d(4),
                volume: d(5),
            }
        })
        .collect();
    Ohlcv::from_candles(&candles, Interval::H1).expect("valid candles")
}

fn load_funding() -> FundingRates {
    let dir = shared_dir();
    let path = dir.join("data/binance_um_BTCUSDT_funding_2021-2023.csv");
    let text = std::fs::read_to_string(&path).expect("shared BTCUSDT funding data");
    FundingRates::new(&parse_funding(&text).expect("funding rows")).expect("finite rates")
}

fn naive_ema(close: &[f64], n: usize) -> Vec<f64> {
    let k = 2.0 / (n as f64 + 1.0);
    let mut out = Vec::with_capacity(close.len());
    let mut e = close[0];
    for &c in close {
        e += k * (c - e);
        out.push(e);
    }
    out
}

fn bench(c: &mut Criterion) {
    let x = load();
    let mut g = c.benchmark_group("btcusdt_1h_26k");
    g.throughput(Throughput::Elements(x.len() as u64));
    g.bench_function("feature_pipeline_batch", |b| {
        b.iter(|| compute_features(black_box(&x)).expect("features"))
    });
    // As the app runs it: the funding feature from the real settled rates.
    let funding = load_funding();
    g.bench_function("feature_pipeline_batch_with_funding", |b| {
        b.iter(|| compute_features_with_funding(black_box(&x), &funding).expect("features"))
    });
    g.bench_function("naive_single_ema_loop", |b| {
        b.iter(|| naive_ema(black_box(&x.close), 20))
    });
    g.bench_function("stream_ema_rsi_atr_per_candle", |b| {
        b.iter(|| {
            let mut ema = EmaStream::new(20).expect("ema");
            let mut rsi = RsiStream::new(14).expect("rsi");
            let mut atr = AtrStream::new(14).expect("atr");
            let mut acc = 0.0;
            for i in 0..x.len() {
                acc += ema.update(x.close[i]).expect("ema").unwrap_or(0.0);
                acc += rsi.update(x.close[i]).expect("rsi").unwrap_or(0.0);
                acc += atr
                    .update(x.high[i], x.low[i], x.close[i])
                    .expect("atr")
                    .unwrap_or(0.0);
            }
            acc
        })
    });

    // Per-indicator costs, to see where the pipeline's time goes.
    {
        use perpdesk_signal::indicators as ind;
        let (h, l, cl, v) = (&x.high, &x.low, &x.close, &x.volume);
        g.bench_function("indicator_ln3", |b| {
            b.iter(|| {
                (
                    ind::log_return(cl, 1),
                    ind::log_return(cl, 4),
                    ind::log_return(cl, 24),
                )
            })
        });
        g.bench_function("indicator_rsi", |b| b.iter(|| ind::rsi(cl, 14)));
        g.bench_function("indicator_bb", |b| b.iter(|| ind::bollinger(cl, 20, 2.0)));
        g.bench_function("indicator_atr", |b| b.iter(|| ind::atr(h, l, cl, 14)));
        g.bench_function("indicator_macd", |b| b.iter(|| ind::macd(cl, 12, 26, 9)));
        g.bench_function("indicator_adx", |b| b.iter(|| ind::adx(h, l, cl, 14)));
        g.bench_function("indicator_vz", |b| b.iter(|| ind::volume_zscore(v, 20)));
        g.bench_function("indicator_vol", |b| {
            b.iter(|| ind::rolling_volatility(cl, 24))
        });
    }
    g.finish();
}

/// The live path: 300 symbols (here 300 copies of the BTCUSDT stream, each warmed on the
/// first 2000 candles), one candle close each: update features and score the model.
fn live(c: &mut Criterion) {
    let x = load();
    let f = compute_features(&x).expect("features");
    let labels = forward_labels(
        &x.close,
        LabelSpec::fee_aware(4, 0.0005, 0.0001).expect("spec"),
    )
    .expect("labels");
    let (rows, ys): (Vec<_>, Vec<_>) = f
        .rows
        .iter()
        .filter_map(|r| match labels[r.index]? {
            perpdesk_signal::Direction::Up => Some((r.values, true)),
            perpdesk_signal::Direction::Down => Some((r.values, false)),
            perpdesk_signal::Direction::Flat => None,
        })
        .collect();
    // Both kinds the signal may use; the trees are fitted on one fold's worth of rows, the
    // size the walk-forward and the live training use.
    let n = rows.len().min(4_000);
    let models = [
        Model::Logistic(
            LogisticModel::fit(&rows, &ys, LogisticConfig::default()).expect("logistic"),
        ),
        Model::Gbdt(GbdtModel::fit(&rows[..n], &ys[..n], GbdtConfig::default()).expect("gbdt")),
    ];
    let warm = 2000;
    for model in &models {
        let mut streams: Vec<FeatureStream> = (0..300)
            .map(|_| {
                let mut s = FeatureStream::new().expect("stream");
                for i in 0..warm {
                    s.update(x.high[i], x.low[i], x.close[i], x.volume[i])
                        .expect("warm");
                }
                s
            })
            .collect();
        let mut i = warm;
        let name = format!(
            "live_300_symbols_one_close_features_and_score_{}",
            model.kind().name()
        );
        c.bench_function(&name, |b| {
            b.iter(|| {
                let mut acc = 0.0;
                for s in &mut streams {
                    if let Some(row) = s
                        .update(x.high[i], x.low[i], x.close[i], x.volume[i])
                        .expect("update")
                    {
                        acc += model
                            .predict_proba(FEATURE_SET_VERSION, &row)
                            .expect("score");
                    }
                }
                i = if i + 1 < x.len() { i + 1 } else { warm };
                acc
            })
        });
    }
}

criterion_group!(benches, bench, live);
criterion_main!(benches);
