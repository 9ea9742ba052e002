//! Market data for the simulated exchange: real historical Binance USDⓈ-M candles replayed as a
//! continuous price path on a simulated clock.
//!
//! - [`symbols`]: contract specs (filters, leverage brackets) for the built-in symbols.
//! - [`data`]: CSV loading with line-numbered errors.
//! - [`replay`]: [`MarketData`], the path through each candle, klines, funding, a synthetic book.
//! - [`clock`]: [`SimClock`], manual or accelerated, bounded to the data.

pub mod clock;
pub mod data;
pub mod replay;
pub mod symbols;

pub use clock::{ClockError, ClockMode, DEFAULT_START_OFFSET_MS, SimClock};
pub use data::{
    CandleRow, DataError, FundingRow, load_candles, load_funding, parse_candles, parse_funding,
};
pub use replay::{
    Book, DEFAULT_FUNDING_RATE, FUNDING_INTERVAL_MS, KlineError, KlineRow, Level, MarketData,
    Ticker24h, interval_ms, next_funding_time,
};
pub use symbols::{Bracket, SymbolSpec};
