//! Loading the shared real candles.

use std::path::PathBuf;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use perpdesk_core::Candle;
use rust_decimal::Decimal;

pub fn shared_dir() -> PathBuf {
    std::env::var_os("PERPDESK_SHARED").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
        PathBuf::from,
    )
}

/// Reads a `binance_um_*` kline CSV (header `open_time_ms,open,high,low,close,volume,...`).
pub fn load_candles(file: &str) -> Vec<Candle> {
    let path = shared_dir().join("data").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let ms: i64 = f[0].parse().expect("open_time_ms");
            let d = |i: usize| Decimal::from_str(f[i]).expect("decimal field");
            Candle {
                open_time: DateTime::<Utc>::from_timestamp_millis(ms).expect("time in range"),
                open: d(1),
                high: d(2),
                low: d(3),
                close: d(4),
                volume: d(5),
            }
        })
        .collect()
}

pub fn btc_1h() -> Vec<Candle> {
    load_candles("binance_um_BTCUSDT_1h_2021-2023.csv")
}

pub fn close_enough(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}
