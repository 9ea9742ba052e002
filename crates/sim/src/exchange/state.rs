//! What the exchange keeps: accounts with their positions, orders, algo orders, trades and
//! income, and the settings that shape fills (fees, slippage, key permissions).

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::snapshot::{known_str, position_list};
use crate::params::{PriceMatch, SelfTradePrevention};

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
/// to the tick against the taker. Zero by default (tests that assert exact prices); paper
/// mode and the binary use [`Slippage::PAPER`].
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
    /// What paper trading pays by default: 1 basis point on every taker fill, the cost the
    /// signals' edge test charges beside the 5 bp taker fee (half a major's spread plus the
    /// move while an order travels), and 10 bp more per 1,000,000 USDT of the fill's notional,
    /// so a size a thin book could not take is not filled at the touch.
    pub const PAPER: Slippage = Slippage {
        base: Decimal::from_parts(1, 0, 0, false, 4),
        per_million: Decimal::from_parts(1, 0, 0, false, 3),
    };

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
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    pub price: Decimal,
    pub orig_qty: Decimal,
    pub executed_qty: Decimal,
    pub cum_quote: Decimal,
    pub reduce_only: bool,
    #[serde(deserialize_with = "known_str")]
    pub status: Code,
    pub time: i64,
    pub update_time: i64,
    /// `selfTradePreventionMode` as placed (echoed; see [`SelfTradePrevention`]).
    #[serde(default)]
    pub self_trade_prevention: SelfTradePrevention,
    /// `priceMatch` as placed (none: `NONE`).
    #[serde(default)]
    pub price_match: Option<PriceMatch>,
    /// GTD: when it expires, in whole seconds (ms; 0 for the other kinds).
    #[serde(default)]
    pub good_till_date: i64,
}

impl SimOrder {
    /// Whether it is still in the book (NEW or PARTIALLY_FILLED).
    pub fn is_open(&self) -> bool {
        self.status == "NEW" || self.status == "PARTIALLY_FILLED"
    }
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
    pub order_type: AlgoKind,
    pub quantity: Decimal,
    pub trigger_price: Decimal,
    pub working_type: WorkingType,
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
    #[serde(default)]
    pub time_in_force: TimeInForce,
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
    /// `selfTradePreventionMode` as placed (the algo service's default is NONE).
    #[serde(default = "no_self_trade_prevention")]
    pub self_trade_prevention: SelfTradePrevention,
}

fn no_self_trade_prevention() -> SelfTradePrevention {
    SelfTradePrevention::None
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
    /// +1 for a buy, -1 for a sell: the direction it moves a position.
    pub fn sign(self) -> Decimal {
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

/// The type of an order in the book: what was placed, or a forced close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderType {
    Market,
    Limit,
    /// The exchange's forced close of a position.
    Liquidation,
}

impl OrderType {
    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Market => "MARKET",
            Self::Limit => "LIMIT",
            Self::Liquidation => "LIQUIDATION",
        }
    }
}

/// How long a LIMIT order works: until cancelled, immediate-or-cancel, fill-or-kill, or
/// post-only (GTX: refused when it would take).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TimeInForce {
    #[default]
    Gtc,
    Ioc,
    Fok,
    Gtx,
    /// Good till `goodTillDate`, then EXPIRED.
    Gtd,
}

impl TimeInForce {
    /// Parses Binance's `GTC`/`IOC`/`FOK`/`GTX`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "GTC" => Some(Self::Gtc),
            "IOC" => Some(Self::Ioc),
            "FOK" => Some(Self::Fok),
            "GTX" => Some(Self::Gtx),
            "GTD" => Some(Self::Gtd),
            _ => None,
        }
    }

    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gtc => "GTC",
            Self::Ioc => "IOC",
            Self::Fok => "FOK",
            Self::Gtx => "GTX",
            Self::Gtd => "GTD",
        }
    }

    /// IOC and FOK never rest: what does not fill at once expires.
    pub fn expires_unfilled(self) -> bool {
        matches!(self, Self::Ioc | Self::Fok)
    }
}

/// The kinds of conditional order the algo service holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlgoKind {
    StopMarket,
    TakeProfitMarket,
    /// Becomes a LIMIT order when it triggers.
    Stop,
    /// Becomes a LIMIT order when it triggers.
    TakeProfit,
    TrailingStopMarket,
}

impl AlgoKind {
    /// Parses Binance's order type names of the algo kinds.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "STOP_MARKET" => Some(Self::StopMarket),
            "TAKE_PROFIT_MARKET" => Some(Self::TakeProfitMarket),
            "STOP" => Some(Self::Stop),
            "TAKE_PROFIT" => Some(Self::TakeProfit),
            "TRAILING_STOP_MARKET" => Some(Self::TrailingStopMarket),
            _ => None,
        }
    }

    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StopMarket => "STOP_MARKET",
            Self::TakeProfitMarket => "TAKE_PROFIT_MARKET",
            Self::Stop => "STOP",
            Self::TakeProfit => "TAKE_PROFIT",
            Self::TrailingStopMarket => "TRAILING_STOP_MARKET",
        }
    }

    /// STOP and TAKE_PROFIT: a LIMIT order at `price` once triggered.
    pub fn is_limit(self) -> bool {
        matches!(self, Self::Stop | Self::TakeProfit)
    }

    /// The type of the order it places when it triggers.
    pub fn then(self) -> OrderType {
        if self.is_limit() {
            OrderType::Limit
        } else {
            OrderType::Market
        }
    }

    /// Whether a `side` order of this kind triggers when the price falls to its trigger (a
    /// SELL stop, a BUY take-profit) rather than when it rises to it.
    pub fn triggers_below(self, side: Side) -> bool {
        matches!(
            (self, side),
            (Self::StopMarket | Self::Stop, Side::Sell)
                | (Self::TakeProfitMarket | Self::TakeProfit, Side::Buy)
        )
    }
}

/// Which price a trigger watches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WorkingType {
    /// The last traded price.
    #[default]
    ContractPrice,
    MarkPrice,
}

impl WorkingType {
    /// Parses Binance's `CONTRACT_PRICE`/`MARK_PRICE`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CONTRACT_PRICE" => Some(Self::ContractPrice),
            "MARK_PRICE" => Some(Self::MarkPrice),
            _ => None,
        }
    }

    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContractPrice => "CONTRACT_PRICE",
            Self::MarkPrice => "MARK_PRICE",
        }
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
    /// Isolated margin the user added (less what was removed) with `positionMargin`;
    /// returned to the balance when the position closes.
    #[serde(default)]
    pub margin_added: Decimal,
}

impl Position {
    /// Whether an order on `side` makes this position smaller (a SELL against a long, a BUY
    /// against a short); never for a flat position.
    pub fn reduced_by(&self, side: Side) -> bool {
        !self.amount.is_zero() && self.amount.is_sign_positive() != (side == Side::Buy)
    }
}

/// Per-symbol account settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolSettings {
    pub leverage: u32,
    pub isolated: bool,
}

impl SymbolSettings {
    /// The leverage as a divisor of notional.
    pub fn leverage(&self) -> Decimal {
        Decimal::from(self.leverage)
    }
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

/// What the id-or-client-id lookups need of an order or an algo order.
pub trait Listed {
    /// The exchange's id (they only grow, so a history is sorted by it).
    fn id(&self) -> i64;
    /// The client's id.
    fn client_id(&self) -> &str;
    /// The symbol.
    fn symbol(&self) -> &str;
}

impl Listed for SimOrder {
    fn id(&self) -> i64 {
        self.order_id
    }
    fn client_id(&self) -> &str {
        &self.client_order_id
    }
    fn symbol(&self) -> &str {
        &self.symbol
    }
}

impl Listed for AlgoOrder {
    fn id(&self) -> i64 {
        self.algo_id
    }
    fn client_id(&self) -> &str {
        &self.client_algo_id
    }
    fn symbol(&self) -> &str {
        &self.symbol
    }
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
    /// Changes of isolated margin (`positionMargin`), oldest first.
    #[serde(default)]
    pub margin_changes: Vec<super::risk::MarginChange>,
    /// `countdownCancelAll` deadlines per symbol, in replay time.
    #[serde(default)]
    pub countdowns: BTreeMap<String, i64>,
    /// Whether a MARGIN_CALL for the cross positions was sent and their margin ratio has not
    /// fallen back below the level since: one event per crossing, not one per step.
    #[serde(skip)]
    pub margin_called_cross: bool,
    /// The isolated positions in the same state.
    #[serde(skip)]
    pub margin_called_isolated: BTreeSet<PositionKey>,
}

impl Account {
    /// The settings of `symbol` (Binance's defaults until changed).
    pub fn settings_of(&self, symbol: &str) -> SymbolSettings {
        self.settings.get(symbol).copied().unwrap_or_default()
    }

    /// The position of `symbol` on `side` (flat when there is none).
    pub fn position(&self, symbol: &str, side: PositionSide) -> Position {
        self.positions
            .get(&(symbol.to_owned(), side))
            .cloned()
            .unwrap_or_default()
    }

    /// The open orders, oldest first.
    pub fn open_orders(&self) -> impl Iterator<Item = &SimOrder> {
        self.open.iter().map(|&i| &self.orders[i])
    }

    /// What the open `side` orders on `symbol`/`position_side` (but the one at `except`)
    /// still have to fill: the part of a position that closing orders already claim.
    pub fn claimed(
        &self,
        symbol: &str,
        position_side: PositionSide,
        side: Side,
        except: Option<usize>,
    ) -> Decimal {
        self.open
            .iter()
            .filter(|&&i| Some(i) != except)
            .map(|&i| &self.orders[i])
            .filter(|o| o.symbol == symbol && o.position_side == position_side && o.side == side)
            .map(|o| o.orig_qty - o.executed_qty)
            .sum()
    }
}
