//! The cost per candle of each indicator the signals use, through perpdesk's wrappers and
//! through the raw `ta-lib` crate, on the same 1,000,000 candles (issue 15 item 7).
//!
//! The candles are the real BTCUSDT 1h file (26,280 candles) chained end to end, each copy
//! scaled to start at the previous copy's last close so that no seam is a price jump; the
//! TA-Lib C figures come from `talib_c.py` beside this file on exactly these candles.
//! "raw" is what a caller of the crate writes: fresh `vec![0.0; n]` outputs and the call.
//! The wrappers' extra work is the input check (NaN/infinity is an error, not a silent NaN
//! series) and the per-bar `Option<f64>` output aligned with the input; "plain" is the
//! `indicators::plain` form: NaN-headed `f64` written into buffers the caller reuses, on
//! series checked once when made (`plain::Finite`), whose cost per series is the
//! "finite_check" case, paid once however many indicators then read the series.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use perpdesk_signal::indicators as ind;
use perpdesk_signal::indicators::plain::{self, BandsOut, Finite, MacdOut};
use ta_lib::{Core, MAType};

const N: usize = 1_000_000;

struct Candles {
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

fn load() -> Candles {
    let shared = std::env::var_os("PERPDESK_SHARED").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
        PathBuf::from,
    );
    let text = std::fs::read_to_string(shared.join("data/binance_um_BTCUSDT_1h_2021-2023.csv"))
        .expect("shared BTCUSDT 1h data");
    let rows: Vec<[f64; 4]> = text
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<f64> = line
                .split(',')
                .skip(2)
                .take(4)
                .map(|v| v.parse().expect("number"))
                .collect();
            [f[0], f[1], f[2], f[3]]
        })
        .collect();
    let (first, last) = (rows[0][2], rows[rows.len() - 1][2]);
    let mut x = Candles {
        high: Vec::with_capacity(N),
        low: Vec::with_capacity(N),
        close: Vec::with_capacity(N),
        volume: Vec::with_capacity(N),
    };
    let mut scale = 1.0;
    'fill: loop {
        for [h, l, c, v] in &rows {
            if x.close.len() == N {
                break 'fill;
            }
            x.high.push(h * scale);
            x.low.push(l * scale);
            x.close.push(c * scale);
            x.volume.push(*v);
        }
        scale *= last / first;
    }
    x
}

fn bench(c: &mut Criterion) {
    let x = load();
    let (h, l, cl, v) = (&x.high[..], &x.low[..], &x.close[..], &x.volume[..]);
    let core = Core::new();
    let out = || vec![0.0; N];
    let last = N - 1;
    let mut g = c.benchmark_group("indicators_1m");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(20);
    let (mut o1, mut o2, mut o3) = (out(), out(), out());

    g.bench_function("finite_check/close", |b| {
        b.iter(|| Finite::new("close", black_box(cl)))
    });
    let finite = |name, xs| Finite::new(name, xs).expect("the candles are finite");
    let (fh, fl, fc, fv) = (
        finite("high", h),
        finite("low", l),
        finite("close", cl),
        finite("volume", v),
    );

    g.bench_function("sma20/plain", |b| {
        b.iter(|| plain::sma_into(black_box(fc), 20, &mut o1))
    });
    g.bench_function("ema20/plain", |b| {
        b.iter(|| plain::ema_into(black_box(fc), 20, &mut o1))
    });
    g.bench_function("rsi14/plain", |b| {
        b.iter(|| plain::rsi_into(black_box(fc), 14, &mut o1))
    });
    g.bench_function("macd_12_26_9/plain", |b| {
        b.iter(|| {
            let out = MacdOut {
                macd: &mut o1,
                signal: &mut o2,
                hist: &mut o3,
            };
            plain::macd_into(black_box(fc), 12, 26, 9, out)
        })
    });
    g.bench_function("bbands_20_2/plain", |b| {
        b.iter(|| {
            let out = BandsOut {
                upper: &mut o1,
                middle: &mut o2,
                lower: &mut o3,
            };
            plain::bollinger_into(black_box(fc), 20, 2.0, out)
        })
    });
    g.bench_function("atr14/plain", |b| {
        b.iter(|| plain::atr_into(fh, fl, black_box(fc), 14, &mut o1))
    });
    g.bench_function("adx14/plain", |b| {
        b.iter(|| plain::adx_into(fh, fl, black_box(fc), 14, &mut o1))
    });
    g.bench_function("stoch_14_3_3/plain", |b| {
        b.iter(|| plain::stochastic_into(fh, fl, black_box(fc), 14, 3, 3, &mut o1, &mut o2))
    });
    g.bench_function("obv/plain", |b| {
        b.iter(|| plain::obv_into(black_box(fc), fv, &mut o1))
    });

    g.bench_function("sma20/perpdesk", |b| b.iter(|| ind::sma(black_box(cl), 20)));
    g.bench_function("sma20/ta-lib", |b| {
        b.iter(|| {
            let mut o = out();
            core.sma(0, last, black_box(cl), 20, &mut o).map(|r| (r, o))
        })
    });
    g.bench_function("ema20/perpdesk", |b| b.iter(|| ind::ema(black_box(cl), 20)));
    g.bench_function("ema20/ta-lib", |b| {
        b.iter(|| {
            let mut o = out();
            core.ema(0, last, black_box(cl), 20, &mut o).map(|r| (r, o))
        })
    });
    g.bench_function("rsi14/perpdesk", |b| b.iter(|| ind::rsi(black_box(cl), 14)));
    g.bench_function("rsi14/ta-lib", |b| {
        b.iter(|| {
            let mut o = out();
            core.rsi(0, last, black_box(cl), 14, &mut o).map(|r| (r, o))
        })
    });
    g.bench_function("macd_12_26_9/perpdesk", |b| {
        b.iter(|| ind::macd(black_box(cl), 12, 26, 9))
    });
    g.bench_function("macd_12_26_9/ta-lib", |b| {
        b.iter(|| {
            let (mut m, mut s, mut hi) = (out(), out(), out());
            core.macd(0, last, black_box(cl), 12, 26, 9, &mut m, &mut s, &mut hi)
                .map(|r| (r, m, s, hi))
        })
    });
    g.bench_function("bbands_20_2/perpdesk", |b| {
        b.iter(|| ind::bollinger(black_box(cl), 20, 2.0))
    });
    g.bench_function("bbands_20_2/ta-lib", |b| {
        b.iter(|| {
            let (mut u, mut m, mut lo) = (out(), out(), out());
            core.bbands(
                0,
                last,
                black_box(cl),
                20,
                2.0,
                2.0,
                MAType::SMA,
                &mut u,
                &mut m,
                &mut lo,
            )
            .map(|r| (r, u, m, lo))
        })
    });
    g.bench_function("atr14/perpdesk", |b| {
        b.iter(|| ind::atr(h, l, black_box(cl), 14))
    });
    g.bench_function("atr14/ta-lib", |b| {
        b.iter(|| {
            let mut o = out();
            core.atr(0, last, h, l, black_box(cl), 14, &mut o)
                .map(|r| (r, o))
        })
    });
    g.bench_function("adx14/perpdesk", |b| {
        b.iter(|| ind::adx(h, l, black_box(cl), 14))
    });
    g.bench_function("adx14/ta-lib", |b| {
        b.iter(|| {
            let mut o = out();
            core.adx(0, last, h, l, black_box(cl), 14, &mut o)
                .map(|r| (r, o))
        })
    });
    g.bench_function("stoch_14_3_3/perpdesk", |b| {
        b.iter(|| ind::stochastic(h, l, black_box(cl), 14, 3, 3))
    });
    g.bench_function("stoch_14_3_3/ta-lib", |b| {
        b.iter(|| {
            let (mut k, mut d) = (out(), out());
            core.stoch(
                0,
                last,
                h,
                l,
                black_box(cl),
                14,
                3,
                MAType::SMA,
                3,
                MAType::SMA,
                &mut k,
                &mut d,
            )
            .map(|r| (r, k, d))
        })
    });
    g.bench_function("obv/perpdesk", |b| b.iter(|| ind::obv(black_box(cl), v)));
    g.bench_function("obv/ta-lib", |b| {
        b.iter(|| {
            let mut o = out();
            core.obv(0, last, black_box(cl), v, &mut o).map(|r| (r, o))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
