//! Loading the shared real candles.

use std::io::Read;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use perpdesk_core::Candle;
use perpdesk_signal::universe::{Universe, UniverseBuilder};
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

/// The text of a data file, gunzipped when its name ends in `.gz`.
pub fn read_text(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        text
    } else {
        String::from_utf8(bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

/// Every universe file of `shared/data` and `shared/data/wide` (30 symbols), parsed once
/// per test binary.
pub fn shared_universe() -> &'static Universe {
    static U: OnceLock<Universe> = OnceLock::new();
    U.get_or_init(|| {
        let data = shared_dir().join("data");
        let mut b = UniverseBuilder::new();
        for dir in [data.clone(), data.join("wide")] {
            let mut names: Vec<_> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.expect("dir entry").path())
                .collect();
            names.sort();
            for path in names {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if perpdesk_signal::universe::classify_file(name).is_some() {
                    b.add_file(name, &read_text(&path)).expect("universe file");
                }
            }
        }
        b.build().expect("shared universe")
    })
}
