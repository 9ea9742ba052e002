//! Market data for the simulated exchange: real historical Binance USDⓈ-M candles replayed as a
//! continuous price path on a simulated clock.
//!
//! - [`symbols`]: contract specs (filters, leverage brackets) for the built-in symbols.
//! - [`data`]: CSV loading with line-numbered errors.
//! - `path`: the deterministic price path through each candle, in fixed point.
//! - `load`: [`MarketData`] from the data files (finer data where it covers whole hours).
//! - [`replay`]: [`MarketData`]: prices, price ranges, mark price and funding at any time.
//! - `klines`: klines at any interval and the rolling 24 h ticker.
//! - `depth`: a synthetic book around the replayed price.
//! - `store`: the bars a series keeps in memory (all, or a window around the clock) and the
//!   files it reads the others from.
//! - [`clock`]: [`SimClock`], manual or accelerated, bounded to the data.

pub mod clock;
pub mod data;
mod depth;
mod klines;
mod load;
mod path;
pub mod replay;
mod store;
pub mod symbols;
#[cfg(test)]
pub(crate) mod test_data;

pub use clock::{ClockError, ClockMode, DEFAULT_START_OFFSET_MS, SimClock};
pub use data::{
    CandleRow, DataError, FundingRow, load_candles, load_funding, parse_candles, parse_funding,
};
pub use depth::{Book, Level};
pub use klines::{KlineError, KlineRow, Ticker24h, interval_ms};
pub use load::{WEEK_MS, WIDE_DIR, available_symbols};
pub use replay::{DEFAULT_FUNDING_RATE, FUNDING_INTERVAL_MS, MarketData, next_funding_time};
pub use store::Residency;
pub use symbols::{Bracket, SymbolSpec};
