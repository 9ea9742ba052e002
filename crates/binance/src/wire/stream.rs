//! WebSocket stream events.
//!
//! User data arrives on the `/private` route (`wss://fstream.binance.com/private/ws/<listenKey>`),
//! klines and mark price on `/market` (since the 2026-04 split the legacy un-routed URLs carry
//! neither). Events are not guaranteed to arrive in order: order them by `E` (event time).
//! In stream mode (`/stream?streams=…`) every message is wrapped in [`CombinedStream`].

use rust_decimal::Decimal;
use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::de as lenient;
use super::enums::{
    AccountUpdateReason, AlgoStatus, AlgoType, ExecutionType, ExpiryReason, KlineInterval,
    MarginType, OrderStatus, OrderType, PositionMarginType, PositionSide, PriceMatch,
    SelfTradePreventionMode, Side, TimeInForce, WorkingType,
};

/// A stream-mode message: `{"stream": "btcusdt@markPrice", "data": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CombinedStream<T> {
    pub stream: String,
    pub data: T,
}

/// An event of the user-data stream, tagged by `e`.
///
/// Hand-written tagging: the catch-all must keep the raw JSON (`TRADE_LITE`,
/// `ACCOUNT_CONFIG_UPDATE`, `STRATEGY_UPDATE`, … and whatever comes next), which serde's
/// `#[serde(other)]` cannot.
#[derive(Debug, Clone, PartialEq)]
pub enum UserDataEvent {
    OrderTradeUpdate(OrderTradeUpdateEvent),
    AccountUpdate(AccountUpdateEvent),
    AlgoUpdate(AlgoUpdateEvent),
    MarginCall(MarginCallEvent),
    /// The listenKey expired; the stream stops. Get a new key and reconnect.
    ListenKeyExpired(ListenKeyExpiredEvent),
    /// Any other event, kept verbatim (including `e`).
    Unknown(Value),
}

impl UserDataEvent {
    /// The `e` string.
    pub fn event_type(&self) -> &str {
        match self {
            Self::OrderTradeUpdate(_) => "ORDER_TRADE_UPDATE",
            Self::AccountUpdate(_) => "ACCOUNT_UPDATE",
            Self::AlgoUpdate(_) => "ALGO_UPDATE",
            Self::MarginCall(_) => "MARGIN_CALL",
            Self::ListenKeyExpired(_) => "listenKeyExpired",
            Self::Unknown(raw) => lenient::tag_of(raw, "e").unwrap_or(""),
        }
    }
}

impl<'de> Deserialize<'de> for UserDataEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(match lenient::tag_of(&value, "e") {
            Some("ORDER_TRADE_UPDATE") => {
                Self::OrderTradeUpdate(lenient::from_value::<D, _>(value)?)
            }
            Some("ACCOUNT_UPDATE") => Self::AccountUpdate(lenient::from_value::<D, _>(value)?),
            Some("ALGO_UPDATE") => Self::AlgoUpdate(lenient::from_value::<D, _>(value)?),
            Some("MARGIN_CALL") => Self::MarginCall(lenient::from_value::<D, _>(value)?),
            Some("listenKeyExpired") => Self::ListenKeyExpired(lenient::from_value::<D, _>(value)?),
            _ => Self::Unknown(value),
        })
    }
}

impl Serialize for UserDataEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let tag = self.event_type();
        match self {
            Self::OrderTradeUpdate(ev) => lenient::serialize_tagged(serializer, "e", tag, ev),
            Self::AccountUpdate(ev) => lenient::serialize_tagged(serializer, "e", tag, ev),
            Self::AlgoUpdate(ev) => lenient::serialize_tagged(serializer, "e", tag, ev),
            Self::MarginCall(ev) => lenient::serialize_tagged(serializer, "e", tag, ev),
            Self::ListenKeyExpired(ev) => lenient::serialize_tagged(serializer, "e", tag, ev),
            Self::Unknown(raw) => raw.serialize(serializer),
        }
    }
}

/// `ORDER_TRADE_UPDATE`: a regular order changed (new, fill, cancel, expiry, amendment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTradeUpdateEvent {
    #[serde(rename = "E", deserialize_with = "lenient::int")]
    pub event_time: i64,
    #[serde(rename = "T", deserialize_with = "lenient::int")]
    pub transaction_time: i64,
    #[serde(rename = "o")]
    pub order: OrderUpdate,
}

/// The `o` object of [`OrderTradeUpdateEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderUpdate {
    #[serde(rename = "s")]
    pub symbol: String,
    /// Prefix `autoclose-` = liquidation, `adl_autoclose` = ADL, prefix `settlement_autoclose-` =
    /// delisting/delivery settlement.
    #[serde(rename = "c")]
    pub client_order_id: String,
    #[serde(rename = "S")]
    pub side: Side,
    #[serde(rename = "o")]
    pub order_type: OrderType,
    #[serde(rename = "f")]
    pub time_in_force: TimeInForce,
    #[serde(rename = "q")]
    pub orig_qty: Decimal,
    #[serde(rename = "p")]
    pub price: Decimal,
    #[serde(rename = "ap")]
    pub avg_price: Decimal,
    /// Ignore for trailing orders.
    #[serde(
        rename = "sp",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_price: Option<Decimal>,
    #[serde(rename = "x")]
    pub execution_type: ExecutionType,
    #[serde(rename = "X")]
    pub status: OrderStatus,
    #[serde(rename = "i", deserialize_with = "lenient::int")]
    pub order_id: i64,
    #[serde(rename = "l")]
    pub last_filled_qty: Decimal,
    #[serde(rename = "z")]
    pub cum_filled_qty: Decimal,
    #[serde(rename = "L")]
    pub last_filled_price: Decimal,
    /// Not pushed when there is no commission.
    #[serde(
        rename = "N",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub commission_asset: Option<String>,
    #[serde(
        rename = "n",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub commission: Option<Decimal>,
    #[serde(rename = "T", deserialize_with = "lenient::int")]
    pub trade_time: i64,
    #[serde(rename = "t", deserialize_with = "lenient::int")]
    pub trade_id: i64,
    #[serde(rename = "b")]
    pub bid_notional: Decimal,
    #[serde(rename = "a")]
    pub ask_notional: Decimal,
    /// This fill was on the maker side.
    #[serde(rename = "m", deserialize_with = "lenient::bool_lenient")]
    pub is_maker: bool,
    #[serde(rename = "R", deserialize_with = "lenient::bool_lenient")]
    pub reduce_only: bool,
    #[serde(rename = "wt")]
    pub working_type: WorkingType,
    #[serde(rename = "ot")]
    pub orig_type: OrderType,
    #[serde(rename = "ps")]
    pub position_side: PositionSide,
    /// Close-all (conditional close-position order).
    #[serde(rename = "cp", default, deserialize_with = "lenient::bool_lenient")]
    pub close_position: bool,
    /// Trailing only.
    #[serde(
        rename = "AP",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub activation_price: Option<Decimal>,
    /// Trailing only.
    #[serde(
        rename = "cr",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub callback_rate: Option<Decimal>,
    #[serde(rename = "pP", default, deserialize_with = "lenient::bool_lenient")]
    pub price_protect: bool,
    /// Docs: "ignore".
    #[serde(
        rename = "si",
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub si: Option<i64>,
    /// Docs: "ignore".
    #[serde(
        rename = "ss",
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub ss: Option<i64>,
    /// Realized profit of this trade.
    #[serde(rename = "rp")]
    pub realized_profit: Decimal,
    #[serde(rename = "V", default, skip_serializing_if = "Option::is_none")]
    pub self_trade_prevention_mode: Option<SelfTradePreventionMode>,
    #[serde(rename = "pm", default, skip_serializing_if = "Option::is_none")]
    pub price_match: Option<PriceMatch>,
    /// Auto-cancel time for `GTD`; `0` otherwise.
    #[serde(
        rename = "gtd",
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub good_till_date: Option<i64>,
    /// Why an `EXPIRED` order expired (since 2025-12).
    #[serde(rename = "er", default, skip_serializing_if = "Option::is_none")]
    pub expiry_reason: Option<ExpiryReason>,
}

/// `ACCOUNT_UPDATE`: balances and/or positions changed. Not pushed for unfilled or cancelled
/// orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountUpdateEvent {
    #[serde(rename = "E", deserialize_with = "lenient::int")]
    pub event_time: i64,
    #[serde(rename = "T", deserialize_with = "lenient::int")]
    pub transaction_time: i64,
    #[serde(rename = "a")]
    pub update: AccountUpdateData,
}

/// The `a` object of [`AccountUpdateEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountUpdateData {
    #[serde(rename = "m")]
    pub reason: AccountUpdateReason,
    #[serde(rename = "B", default)]
    pub balances: Vec<BalanceUpdate>,
    /// Only changed positions. A crossed funding fee carries no positions at all.
    #[serde(rename = "P", default, skip_serializing_if = "Vec::is_empty")]
    pub positions: Vec<PositionUpdate>,
}

/// A balance of [`AccountUpdateData`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceUpdate {
    #[serde(rename = "a")]
    pub asset: String,
    #[serde(rename = "wb")]
    pub wallet_balance: Decimal,
    #[serde(rename = "cw")]
    pub cross_wallet_balance: Decimal,
    /// Balance change except PnL and commission.
    #[serde(
        rename = "bc",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub balance_change: Option<Decimal>,
}

/// A position of [`AccountUpdateData`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionUpdate {
    #[serde(rename = "s")]
    pub symbol: String,
    /// Signed position amount.
    #[serde(rename = "pa")]
    pub position_amt: Decimal,
    #[serde(rename = "ep")]
    pub entry_price: Decimal,
    #[serde(
        rename = "bep",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub break_even_price: Option<Decimal>,
    /// Pre-fee accumulated realized PnL.
    #[serde(rename = "cr")]
    pub accumulated_realized: Decimal,
    #[serde(rename = "up")]
    pub unrealized_pnl: Decimal,
    /// Lowercase on the wire (`isolated`/`cross`).
    #[serde(rename = "mt")]
    pub margin_type: PositionMarginType,
    #[serde(rename = "iw")]
    pub isolated_wallet: Decimal,
    #[serde(rename = "ps")]
    pub position_side: PositionSide,
    /// Margin asset (present in newer payloads).
    #[serde(rename = "ma", default, skip_serializing_if = "Option::is_none")]
    pub margin_asset: Option<String>,
}

/// `MARGIN_CALL`: positions near liquidation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginCallEvent {
    #[serde(rename = "E", deserialize_with = "lenient::int")]
    pub event_time: i64,
    /// Cross wallet balance; only for a crossed margin call.
    #[serde(
        rename = "cw",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cross_wallet_balance: Option<Decimal>,
    #[serde(rename = "p")]
    pub positions: Vec<MarginCallPosition>,
}

/// A position of [`MarginCallEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginCallPosition {
    #[serde(rename = "s")]
    pub symbol: String,
    #[serde(rename = "ps")]
    pub position_side: PositionSide,
    #[serde(rename = "pa")]
    pub position_amt: Decimal,
    /// Uppercase here (`CROSSED`), unlike `ACCOUNT_UPDATE`.
    #[serde(rename = "mt")]
    pub margin_type: MarginType,
    #[serde(rename = "iw")]
    pub isolated_wallet: Decimal,
    #[serde(rename = "mp")]
    pub mark_price: Decimal,
    #[serde(rename = "up")]
    pub unrealized_pnl: Decimal,
    /// Maintenance margin required.
    #[serde(rename = "mm")]
    pub maint_margin: Decimal,
}

/// `listenKeyExpired`. `E` is a string in the docs example and a number elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenKeyExpiredEvent {
    #[serde(rename = "E", deserialize_with = "lenient::int")]
    pub event_time: i64,
    #[serde(rename = "listenKey")]
    pub listen_key: String,
}

/// `ALGO_UPDATE`: an algo (conditional) order changed. Trigger rejections arrive here in `rm`
/// since `CONDITIONAL_ORDER_TRIGGER_REJECT` was retired (2025-12-15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlgoUpdateEvent {
    #[serde(rename = "E", deserialize_with = "lenient::int")]
    pub event_time: i64,
    #[serde(rename = "T", deserialize_with = "lenient::int")]
    pub transaction_time: i64,
    #[serde(rename = "o")]
    pub order: AlgoUpdate,
}

/// The `o` object of [`AlgoUpdateEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlgoUpdate {
    #[serde(rename = "caid")]
    pub client_algo_id: String,
    #[serde(rename = "aid", deserialize_with = "lenient::int")]
    pub algo_id: i64,
    #[serde(rename = "at")]
    pub algo_type: AlgoType,
    #[serde(rename = "o")]
    pub order_type: OrderType,
    #[serde(rename = "s")]
    pub symbol: String,
    #[serde(rename = "S")]
    pub side: Side,
    #[serde(rename = "ps")]
    pub position_side: PositionSide,
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub time_in_force: Option<TimeInForce>,
    /// `None` for close-position orders.
    #[serde(
        rename = "q",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub quantity: Option<Decimal>,
    #[serde(rename = "X")]
    pub status: AlgoStatus,
    /// Matching-engine order id after the trigger; `""` before.
    #[serde(rename = "ai", default)]
    pub actual_order_id: String,
    /// Average fill price in the matching engine.
    #[serde(
        rename = "ap",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub actual_avg_price: Option<Decimal>,
    /// Executed quantity in the matching engine.
    #[serde(
        rename = "aq",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub actual_qty: Option<Decimal>,
    /// Order type placed in the matching engine; `"0"` (kept as `Unknown("0")`) before the trigger.
    #[serde(
        rename = "act",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub actual_type: Option<OrderType>,
    #[serde(
        rename = "tp",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub trigger_price: Option<Decimal>,
    #[serde(
        rename = "p",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub price: Option<Decimal>,
    #[serde(rename = "V", default, skip_serializing_if = "Option::is_none")]
    pub self_trade_prevention_mode: Option<SelfTradePreventionMode>,
    #[serde(rename = "wt", default, skip_serializing_if = "Option::is_none")]
    pub working_type: Option<WorkingType>,
    #[serde(rename = "pm", default, skip_serializing_if = "Option::is_none")]
    pub price_match: Option<PriceMatch>,
    #[serde(rename = "cp", default, deserialize_with = "lenient::bool_lenient")]
    pub close_position: bool,
    #[serde(rename = "pP", default, deserialize_with = "lenient::bool_lenient")]
    pub price_protect: bool,
    #[serde(rename = "R", default, deserialize_with = "lenient::bool_lenient")]
    pub reduce_only: bool,
    /// Trigger time; `0` until triggered.
    #[serde(rename = "tt", default, deserialize_with = "lenient::int")]
    pub trigger_time: i64,
    #[serde(rename = "gtd", default, deserialize_with = "lenient::int")]
    pub good_till_date: i64,
    /// Failure reason (e.g. `"Reduce Only reject"`).
    #[serde(
        rename = "rm",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub reject_reason: Option<String>,
    /// Added 2026-08; meaning not documented yet, so kept raw.
    #[serde(rename = "ia", default, skip_serializing_if = "Option::is_none")]
    pub ia: Option<Value>,
}

/// An event of a market stream (`/market` route), tagged by `e`.
#[derive(Debug, Clone, PartialEq)]
pub enum MarketEvent {
    Kline(KlineEvent),
    MarkPriceUpdate(MarkPriceUpdate),
    /// Any other event, kept verbatim (including `e`).
    Unknown(Value),
}

impl MarketEvent {
    /// The `e` string.
    pub fn event_type(&self) -> &str {
        match self {
            Self::Kline(_) => "kline",
            Self::MarkPriceUpdate(_) => "markPriceUpdate",
            Self::Unknown(raw) => lenient::tag_of(raw, "e").unwrap_or(""),
        }
    }
}

impl<'de> Deserialize<'de> for MarketEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(match lenient::tag_of(&value, "e") {
            Some("kline") => Self::Kline(lenient::from_value::<D, _>(value)?),
            Some("markPriceUpdate") => Self::MarkPriceUpdate(lenient::from_value::<D, _>(value)?),
            _ => Self::Unknown(value),
        })
    }
}

impl Serialize for MarketEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let tag = self.event_type();
        match self {
            Self::Kline(ev) => lenient::serialize_tagged(serializer, "e", tag, ev),
            Self::MarkPriceUpdate(ev) => lenient::serialize_tagged(serializer, "e", tag, ev),
            Self::Unknown(raw) => raw.serialize(serializer),
        }
    }
}

/// `<symbol>@kline_<interval>` (every 250 ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KlineEvent {
    #[serde(rename = "E", deserialize_with = "lenient::int")]
    pub event_time: i64,
    #[serde(rename = "s")]
    pub symbol: String,
    #[serde(rename = "k")]
    pub kline: StreamKline,
}

/// The `k` object of [`KlineEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamKline {
    #[serde(rename = "t", deserialize_with = "lenient::int")]
    pub open_time: i64,
    #[serde(rename = "T", deserialize_with = "lenient::int")]
    pub close_time: i64,
    #[serde(rename = "s")]
    pub symbol: String,
    #[serde(rename = "i")]
    pub interval: KlineInterval,
    #[serde(rename = "f", deserialize_with = "lenient::int")]
    pub first_trade_id: i64,
    #[serde(rename = "L", deserialize_with = "lenient::int")]
    pub last_trade_id: i64,
    #[serde(rename = "o")]
    pub open: Decimal,
    #[serde(rename = "c")]
    pub close: Decimal,
    #[serde(rename = "h")]
    pub high: Decimal,
    #[serde(rename = "l")]
    pub low: Decimal,
    /// Base-asset volume.
    #[serde(rename = "v")]
    pub volume: Decimal,
    #[serde(rename = "n", deserialize_with = "lenient::int")]
    pub trade_count: u64,
    /// The kline is closed (final); until then it is a running update.
    #[serde(rename = "x", deserialize_with = "lenient::bool_lenient")]
    pub is_closed: bool,
    #[serde(rename = "q")]
    pub quote_volume: Decimal,
    #[serde(rename = "V")]
    pub taker_buy_base_volume: Decimal,
    #[serde(rename = "Q")]
    pub taker_buy_quote_volume: Decimal,
    /// Docs: "ignore"; kept so the event round-trips.
    #[serde(rename = "B", default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<Value>,
}

/// `<symbol>@markPrice[@1s]` and `!markPrice@arr[@1s]` (an array of these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkPriceUpdate {
    #[serde(rename = "E", deserialize_with = "lenient::int")]
    pub event_time: i64,
    #[serde(rename = "s")]
    pub symbol: String,
    #[serde(rename = "p")]
    pub mark_price: Decimal,
    #[serde(rename = "i")]
    pub index_price: Decimal,
    /// Only meaningful in the last hour before settlement.
    #[serde(rename = "P")]
    pub estimated_settle_price: Decimal,
    #[serde(rename = "r")]
    pub funding_rate: Decimal,
    #[serde(rename = "T", deserialize_with = "lenient::int")]
    pub next_funding_time: i64,
}
