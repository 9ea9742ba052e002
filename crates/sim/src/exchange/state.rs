//! What the exchange keeps: accounts with their positions, orders, algo orders, trades and
//! income, and the settings that shape fills (fees, slippage, key permissions).

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::snapshot::{known_str, position_list};

/// A status or type name from a fixed set (read back from a saved state by `known_str`).
pub type Code = &'static str;

/// Taker and maker commission rates (Binance's regular-user defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fees {
    /// Taker rate, 0.05%.
    pub taker: Decimal,
    /// Maker rate, 0.02%.
    pub maker: Decimal,
}

impl Default for Fees {
    fn default() -> Self {
        Self {
            taker: Decimal::new(5, 4),
            maker: Decimal::new(2, 4),
        }
    }
}

/// Where a taker fill lands against the replayed price: the replay has one price per instant
/// where a real market order walks the book. A fraction of the price against the taker,
/// `base` plus `per_million` for every 1,000,000 of quote notional (a size impact), rounded
/// to the tick against the taker. Zero by default: fills at the replayed price exactly.
/// Limit orders never fill worse than their limit; liquidations are not slipped (Binance
/// closes them at the bankruptcy side through its insurance engine).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slippage {
    /// Fraction of the price on every taker fill, e.g. 0.0001 for 1 basis point.
    pub base: Decimal,
    /// Extra fraction per 1,000,000 of quote notional.
    pub per_million: Decimal,
}

impl Slippage {
    /// The taker's fill price for `qty` at the replayed `price`.
    pub fn fill_price(&self, side: Side, price: Decimal, qty: Decimal, tick: Decimal) -> Decimal {
        let fraction = self.base + self.per_million * (price * qty / Decimal::from(1_000_000));
        if fraction <= Decimal::ZERO || tick <= Decimal::ZERO {
            return price;
        }
        let ticks = |p: Decimal| p / tick;
        match side {
            Side::Buy => ticks(price * (Decimal::ONE + fraction)).ceil() * tick,
            Side::Sell => (ticks(price * (Decimal::ONE - fraction)).floor() * tick).max(tick),
        }
    }
}

/// What a key may do; `GET /sapi/v1/account/apiRestrictions` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// Reading account data.
    pub reading: bool,
    /// Futures trading.
    pub futures: bool,
    /// Withdrawals (perpdesk refuses such keys; the sim can make them to test that).
    pub withdrawals: bool,
    /// Restricted to listed IPs.
    pub ip_restrict: bool,
}

impl Default for Permissions {
    fn default() -> Self {
        Self {
            reading: true,
            futures: true,
            withdrawals: false,
            ip_restrict: true,
        }
    }
}

/// An order resting on the book or finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimOrder {
    pub order_id: i64,
    pub client_order_id: String,
    pub symbol: String,
    pub side: Side,
    /// `BOTH` in one-way mode, `LONG`/`SHORT` in hedge mode.
    #[serde(default)]
    pub position_side: PositionSide,
    pub order_type: String,
    pub time_in_force: String,
    pub price: Decimal,
    pub orig_qty: Decimal,
    pub executed_qty: Decimal,
    pub cum_quote: Decimal,
    pub reduce_only: bool,
    #[serde(deserialize_with = "known_str")]
    pub status: Code,
    pub time: i64,
    pub update_time: i64,
}

/// A conditional order held by the algo service until its trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlgoOrder {
    pub algo_id: i64,
    pub client_algo_id: String,
    pub symbol: String,
    pub side: Side,
    /// `BOTH` in one-way mode, `LONG`/`SHORT` in hedge mode.
    #[serde(default)]
    pub position_side: PositionSide,
    pub order_type: String,
    pub quantity: Decimal,
    pub trigger_price: Decimal,
    pub working_type: String,
    pub close_position: bool,
    pub reduce_only: bool,
    pub price_protect: bool,
    #[serde(deserialize_with = "known_str")]
    pub status: Code,
    pub create_time: i64,
    pub update_time: i64,
    pub trigger_time: i64,
    pub actual_order_id: Option<i64>,
    /// The limit price of STOP and TAKE_PROFIT (zero for the market kinds).
    #[serde(default)]
    pub price: Decimal,
    /// The time in force of the LIMIT order a STOP or TAKE_PROFIT becomes.
    #[serde(default = "gtc")]
    pub time_in_force: String,
    /// TRAILING_STOP_MARKET: the price at which the trail starts (none: at once).
    #[serde(default)]
    pub activate_price: Option<Decimal>,
    /// TRAILING_STOP_MARKET: how far back from the best price it triggers, in percent.
    #[serde(default)]
    pub callback_rate: Option<Decimal>,
    /// TRAILING_STOP_MARKET: the best price (by `working_type`) since it was placed: the
    /// highest for a SELL, the lowest for a BUY.
    #[serde(default)]
    pub extreme: Option<Decimal>,
}

pub(super) fn gtc() -> String {
    "GTC".to_owned()
}

/// One modification of an order (`PUT /fapi/v1/order`), as `GET /fapi/v1/orderAmendment`
/// lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Amendment {
    pub amendment_id: i64,
    pub order_id: i64,
    pub client_order_id: String,
    pub symbol: String,
    pub time: i64,
    pub price_before: Decimal,
    pub price_after: Decimal,
    pub qty_before: Decimal,
    pub qty_after: Decimal,
    /// The how-manieth modification of this order (1 for the first).
    pub count: u32,
    /// The caller's own `modifyId`, echoed back (0 when none was sent).
    pub modify_id: i64,
}

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// Parses Binance's `BUY`/`SELL`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "BUY" => Some(Self::Buy),
            "SELL" => Some(Self::Sell),
            _ => None,
        }
    }
    pub(super) fn sign(self) -> Decimal {
        match self {
            Self::Buy => Decimal::ONE,
            Self::Sell => Decimal::NEGATIVE_ONE,
        }
    }
    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
        }
    }
}

/// Binance's `positionSide`: `BOTH` (one-way mode) or `LONG`/`SHORT` (hedge mode).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub enum PositionSide {
    #[default]
    Both,
    Long,
    Short,
}

impl PositionSide {
    /// Parses Binance's `BOTH`/`LONG`/`SHORT`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "BOTH" => Some(Self::Both),
            "LONG" => Some(Self::Long),
            "SHORT" => Some(Self::Short),
            _ => None,
        }
    }

    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Both => "BOTH",
            Self::Long => "LONG",
            Self::Short => "SHORT",
        }
    }

    /// Whether `side` on this position side closes it in hedge mode (SELL LONG, BUY SHORT).
    pub fn closed_by(self, side: Side) -> bool {
        matches!(
            (self, side),
            (Self::Long, Side::Sell) | (Self::Short, Side::Buy)
        )
    }
}

/// A position's key: symbol and position side (`BOTH` in one-way mode).
pub type PositionKey = (String, PositionSide);

/// One position (signed amount: a `SHORT` position's amount is negative, as Binance shows it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub amount: Decimal,
    pub entry_price: Decimal,
    pub update_time: i64,
}

/// Per-symbol account settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolSettings {
    pub leverage: u32,
    pub isolated: bool,
}

impl Default for SymbolSettings {
    fn default() -> Self {
        Self {
            leverage: 20,
            isolated: false,
        }
    }
}

/// A fill, as `userTrades` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    pub id: i64,
    pub order_id: i64,
    pub symbol: String,
    pub side: Side,
    #[serde(default)]
    pub position_side: PositionSide,
    pub price: Decimal,
    pub qty: Decimal,
    pub realized_pnl: Decimal,
    pub commission: Decimal,
    pub maker: bool,
    pub time: i64,
}

/// One row of `GET /fapi/v1/income`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomeRow {
    pub tran_id: i64,
    pub symbol: String,
    #[serde(deserialize_with = "known_str")]
    pub income_type: Code,
    pub income: Decimal,
    pub info: String,
    pub time: i64,
    pub trade_id: Option<i64>,
}

/// One account: a key pair, a USDT wallet and everything traded with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub api_key: String,
    pub secret: String,
    pub permissions: Permissions,
    pub wallet: Decimal,
    /// Hedge mode (`dualSidePosition`): positions are kept per (symbol, LONG/SHORT).
    pub dual_side: bool,
    /// Positions by (symbol, position side), serialized as a list (JSON keys are strings).
    #[serde(with = "position_list")]
    pub positions: BTreeMap<PositionKey, Position>,
    pub settings: BTreeMap<String, SymbolSettings>,
    pub orders: Vec<SimOrder>,
    /// Indices into `orders` of the open ones (NEW or PARTIALLY_FILLED), so margin checks and
    /// matching do not scan an account's whole history.
    pub open: Vec<usize>,
    pub algo_orders: Vec<AlgoOrder>,
    pub trades: Vec<Trade>,
    pub income: Vec<IncomeRow>,
    /// Order modifications, oldest first.
    #[serde(default)]
    pub amendments: Vec<Amendment>,
    /// Whether a MARGIN_CALL for the cross positions was sent and their margin ratio has not
    /// fallen back below the level since: one event per crossing, not one per step.
    #[serde(skip)]
    pub margin_called_cross: bool,
    /// The isolated positions in the same state.
    #[serde(skip)]
    pub margin_called_isolated: BTreeSet<PositionKey>,
}
