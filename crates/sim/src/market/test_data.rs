//! The real data the market's unit tests read, loaded once.

use std::path::PathBuf;
use std::sync::OnceLock;

use rust_decimal::Decimal;

use super::MarketData;
use super::data::{CandleRow, load_candles};

/// 2021-01-01 00:00 UTC: where the data starts.
pub const T2021: i64 = 1_609_459_200_000;

pub fn shared_dir() -> PathBuf {
    let base = std::env::var("PERPDESK_SHARED")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared").to_string());
    PathBuf::from(base).join("data")
}

pub fn market() -> &'static MarketData {
    static M: OnceLock<MarketData> = OnceLock::new();
    M.get_or_init(|| {
        MarketData::load_dir(&shared_dir(), &["BTCUSDT", "ETHUSDT"]).expect("real data loads")
    })
}

pub fn rows(name: &str) -> Vec<CandleRow> {
    load_candles(&shared_dir().join(name)).expect("file loads")
}

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn aggregate(
    rows: &[CandleRow],
    iv: i64,
    open: i64,
) -> (Decimal, Decimal, Decimal, Decimal, Decimal) {
    let part: Vec<&CandleRow> = rows
        .iter()
        .filter(|r| r.open_time_ms >= open && r.open_time_ms < open + iv)
        .collect();
    (
        part[0].open,
        part.iter().map(|r| r.high).max().unwrap(),
        part.iter().map(|r| r.low).min().unwrap(),
        part[part.len() - 1].close,
        part.iter().map(|r| r.volume).sum(),
    )
}
