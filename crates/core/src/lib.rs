//! perpdesk-core: the domain nouns and pure rules of perpdesk.
//!
//! Everything here is plain data and arithmetic: no I/O, no async, no wall clock. Time
//! comes in through a [`Clock`]; money and quantities are [`rust_decimal::Decimal`].
//!
//! Terms follow Binance USDⓈ-M: a *symbol* such as `BTCUSDT` is a perpetual contract;
//! *notional* is price × quantity in the quote asset; *position side* is `BOTH` in one-way
//! mode and `LONG`/`SHORT` in hedge mode; *mark price* is the fair price used for
//! unrealised PnL and liquidation.
//!
//! The pure rules of the trading engine live here too, so they can be property-tested
//! without an exchange: [`plan`] (a click's ticket → the exact orders it sends), [`risk`]
//! (pre-trade limits; only [`RiskLimits::approve`] and [`approve_exit`] make the
//! [`RiskApproved`] proof an order needs to be sent), [`preview`] (sizing, margin,
//! liquidation estimate, worst-case loss), [`pnl`] (round trips and period totals from the
//! exchange's fills and income) and [`ledger`] (the 70/30 profit share, decided at settlement
//! above the mark by default). [`statement`] turns a settlement into a statement to sign (the
//! key itself lives in the vault) and [`verify`] lets the platform check one against the
//! exchange's own records: both are pure, like everything here.

pub mod clock;
pub mod filters;
pub mod journal;
pub mod ledger;
pub mod market;
pub mod order;
pub mod plan;
pub mod pnl;
pub mod position;
pub mod preview;
pub mod risk;
pub mod statement;
pub mod symbol;
pub mod verify;

pub use clock::{Clock, ManualClock};
pub use filters::{FilterError, SymbolFilters};
pub use journal::{Leg, OrderState, TicketOrigin, ticket_id, ticket_origin};
pub use ledger::{
    ClosedTrade, Decision, LedgerState, PeriodSettlement, ShareEntry, ShareMode, ShareRatio,
    ShareTotals, Statement,
};
pub use market::{Candle, CandleError, Interval};
pub use order::{
    ClientOrderId, ClientOrderIdError, MarginType, OrderKind, OrderRequest, PositionSide, Side,
    TimeInForce, WorkingType,
};
pub use plan::{Bracket, EntryType, Market, Plan, PlanError, SymbolRules, Ticket};
pub use pnl::{Period, PeriodPnl, RoundTrip};
pub use position::{Fill, Income, IncomeKind, Position};
pub use preview::{MaintenanceBracket, Preview, PreviewError, PreviewInput, Sizing};
pub use risk::{
    ApprovedLegs, OrderIntent, RiskApproved, RiskContext, RiskLimits, RiskRefusal, approve_exit,
};
pub use statement::{PublicKey, SettlementRule, SettlementStatement, SignedStatement};
pub use symbol::{Symbol, SymbolError};
