//! What the domain client returns besides `perpdesk-core`'s own types: small reports in the
//! domain's terms (compare nautilus_trader's execution reports), never wire types.

use chrono::{DateTime, Utc};
use perpdesk_core as core;
use rust_decimal::Decimal;

use crate::wire::algo::AlgoOrder;
use crate::wire::trade::Order;

/// An order as placed by [`super::Raw::place_order`]: regular (limit, market) or algo (stop,
/// take-profit), in Binance's own shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// A `/fapi/v1/order` order.
    Order(Order),
    /// A `/fapi/v1/algoOrder` order.
    Algo(AlgoOrder),
}

impl Placed {
    /// The placement as the domain reads it.
    pub fn report(&self) -> OrderReport {
        match self {
            Placed::Order(o) => super::convert::order_report(o),
            Placed::Algo(a) => super::convert::algo_report(a),
        }
    }
}

/// What the exchange says about one order: its state, its id, and its own record for the
/// journal.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderReport {
    /// The order's state in the domain's terms.
    pub state: core::OrderState,
    /// `orderId` of a regular order, `algoId` of an algo order.
    pub exchange_id: i64,
    /// The exchange's reply as JSON, kept verbatim in the order journal.
    pub record: serde_json::Value,
}

/// What a key may do, from `apiRestrictions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPermissions {
    /// Futures trading is enabled.
    pub futures: bool,
    /// Reading is enabled.
    pub reading: bool,
    /// Withdrawals are enabled: perpdesk refuses such a key.
    pub withdrawals: bool,
    /// The key is restricted to listed IPs.
    pub ip_restricted: bool,
}

/// An open position with the exchange's own notional and unrealised PnL (which it rounds;
/// the views show its numbers, not ours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionReport {
    /// The position.
    pub position: core::Position,
    /// Signed notional at the mark price, as the exchange reports it.
    pub notional: Decimal,
    /// Unrealised PnL at the mark price, as the exchange reports it.
    pub unrealized_pnl: Decimal,
}

/// The market and account as one click reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSnapshot {
    /// The symbol's mark price.
    pub mark_price: Decimal,
    /// Available USDT balance.
    pub available: Decimal,
    /// Open positions (non-zero) on every symbol.
    pub positions: Vec<PositionReport>,
    /// Hedge mode (`LONG`/`SHORT` position sides) rather than one-way (`BOTH`).
    pub hedge_mode: bool,
}

/// The kind of a conditional exit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// `STOP_MARKET`: perpdesk's stop-loss.
    StopMarket,
    /// `TAKE_PROFIT_MARKET`: perpdesk's take-profit.
    TakeProfitMarket,
    /// Another conditional kind (limit stops, trailing stops) placed elsewhere.
    Other,
}

/// An open conditional (algo) order: a stop-loss, take-profit or another exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitOrder {
    /// The exchange's `algoId`.
    pub algo_id: i64,
    /// The `clientAlgoId` it was placed with (perpdesk's start with `pd-`).
    pub client_id: String,
    pub symbol: core::Symbol,
    pub side: core::Side,
    pub position_side: core::PositionSide,
    pub kind: ExitKind,
    pub trigger_price: Option<Decimal>,
    /// It closes the whole position when it triggers.
    pub close_position: bool,
    /// Still waiting for its trigger (`NEW`), not already firing.
    pub awaiting_trigger: bool,
}

/// An open regular (limit) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOrder {
    /// The exchange's `orderId`.
    pub order_id: i64,
    /// The `clientOrderId` it was placed with.
    pub client_order_id: String,
    pub symbol: core::Symbol,
}

/// One settled funding rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FundingRate {
    /// The settlement time.
    pub time: DateTime<Utc>,
    /// The rate (0.0001 is 0.01%).
    pub rate: Decimal,
}

/// Rolling 24-hour statistics of a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayTicker {
    /// The last traded price.
    pub last_price: Decimal,
    /// The change over 24 hours, in percent.
    pub change_pct: Decimal,
}
