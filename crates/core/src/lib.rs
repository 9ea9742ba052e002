//! perpdesk-core: the domain nouns and pure rules of perpdesk.
//!
//! Everything here is plain data and arithmetic: no I/O, no async, no wall clock. Time
//! comes in through a [`Clock`]; money and quantities are [`rust_decimal::Decimal`].
//!
//! Terms follow Binance USDⓈ-M: a *symbol* such as `BTCUSDT` is a perpetual contract;
//! *notional* is price × quantity in the quote asset; *position side* is `BOTH` in one-way
//! mode and `LONG`/`SHORT` in hedge mode; *mark price* is the fair price used for
//! unrealised PnL and liquidation.

pub mod clock;
pub mod filters;
pub mod market;
pub mod order;
pub mod position;
pub mod symbol;

pub use clock::{Clock, ManualClock};
pub use filters::{FilterError, SymbolFilters};
pub use market::{Candle, CandleError, Interval};
pub use order::{
    ClientOrderId, ClientOrderIdError, MarginType, OrderKind, OrderRequest, PositionSide, Side,
    TimeInForce, WorkingType,
};
pub use position::{Fill, Income, IncomeKind, Position};
pub use symbol::{Symbol, SymbolError};
