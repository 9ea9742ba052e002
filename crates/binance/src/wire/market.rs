//! Public market data (`/fapi/v1/...`, security NONE).

use rust_decimal::Decimal;
use serde::de::{self, Deserializer};
use serde::ser::{SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::de as lenient;
use super::enums::{
    ContractType, OrderType, RateLimitInterval, RateLimitType, SymbolStatus, TimeInForce,
};

/// `GET /fapi/v1/time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerTime {
    #[serde(deserialize_with = "lenient::int")]
    pub server_time: i64,
}

/// `GET /fapi/v1/exchangeInfo`: trading rules for every symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeInfo {
    #[serde(default)]
    pub timezone: String,
    /// Docs: "Ignore please"; use `GET /fapi/v1/time` for the clock.
    #[serde(default, deserialize_with = "lenient::int")]
    pub server_time: i64,
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
    /// Always empty on USDⓈ-M (the connector's mock even holds `[""]`), so kept untyped.
    #[serde(default)]
    pub exchange_filters: Vec<Value>,
    #[serde(default)]
    pub assets: Vec<ExchangeAsset>,
    pub symbols: Vec<SymbolInfo>,
}

impl ExchangeInfo {
    /// The rules of one symbol (Binance symbols are upper-case, e.g. `BTCUSDT`).
    pub fn symbol(&self, symbol: &str) -> Option<&SymbolInfo> {
        self.symbols.iter().find(|s| s.symbol == symbol)
    }
}

/// A rate limit of `exchangeInfo.rateLimits` and `GET /fapi/v1/rateLimit/order`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    pub rate_limit_type: RateLimitType,
    pub interval: RateLimitInterval,
    #[serde(deserialize_with = "lenient::int")]
    pub interval_num: u32,
    #[serde(deserialize_with = "lenient::int")]
    pub limit: u32,
}

/// A margin asset of `exchangeInfo.assets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeAsset {
    pub asset: String,
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub margin_available: bool,
    /// Docs show `0`/`null`; live sends a string such as `"-10000"`.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub auto_asset_exchange: Option<Decimal>,
}

/// One symbol of `exchangeInfo.symbols`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymbolInfo {
    pub symbol: String,
    #[serde(default)]
    pub pair: String,
    pub contract_type: ContractType,
    #[serde(default, deserialize_with = "lenient::int")]
    pub delivery_date: i64,
    #[serde(default, deserialize_with = "lenient::int")]
    pub onboard_date: i64,
    pub status: SymbolStatus,
    /// Docs: "ignore".
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub maint_margin_percent: Option<Decimal>,
    /// Docs: "ignore".
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub required_margin_percent: Option<Decimal>,
    pub base_asset: String,
    pub quote_asset: String,
    pub margin_asset: String,
    /// Docs: "please do not use it as tickSize" (use [`PriceFilter::tick_size`]).
    #[serde(deserialize_with = "lenient::int")]
    pub price_precision: u32,
    /// Docs: "please do not use it as stepSize" (use [`LotSize::step_size`]).
    #[serde(deserialize_with = "lenient::int")]
    pub quantity_precision: u32,
    #[serde(deserialize_with = "lenient::int")]
    pub base_asset_precision: u32,
    #[serde(deserialize_with = "lenient::int")]
    pub quote_precision: u32,
    /// `COIN`, `INDEX`, TradFi kinds since 2025-12...; free text on purpose.
    #[serde(default)]
    pub underlying_type: String,
    #[serde(default)]
    pub underlying_sub_type: Vec<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub settle_plan: Option<i64>,
    /// Max relative gap between mark and contract price at trigger when `priceProtect=true`.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub trigger_protect: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub liquidation_fee: Option<Decimal>,
    /// Max relative deviation of a MARKET order's price from the mark price.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub market_take_bound: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_move_order_limit: Option<u32>,
    pub filters: Vec<SymbolFilter>,
    #[serde(default)]
    pub order_types: Vec<OrderType>,
    #[serde(default)]
    pub time_in_force: Vec<TimeInForce>,
}

impl SymbolInfo {
    /// `PRICE_FILTER`, if the symbol has one.
    pub fn price_filter(&self) -> Option<&PriceFilter> {
        self.filters.iter().find_map(|f| match f {
            SymbolFilter::PriceFilter(p) => Some(p),
            _ => None,
        })
    }

    /// `LOT_SIZE`, if the symbol has one.
    pub fn lot_size(&self) -> Option<&LotSize> {
        self.filters.iter().find_map(|f| match f {
            SymbolFilter::LotSize(l) => Some(l),
            _ => None,
        })
    }

    /// `MARKET_LOT_SIZE`, if the symbol has one.
    pub fn market_lot_size(&self) -> Option<&LotSize> {
        self.filters.iter().find_map(|f| match f {
            SymbolFilter::MarketLotSize(l) => Some(l),
            _ => None,
        })
    }

    /// `MIN_NOTIONAL.notional`, if the symbol has the filter.
    pub fn min_notional(&self) -> Option<Decimal> {
        self.filters.iter().find_map(|f| match f {
            SymbolFilter::MinNotional(m) => Some(m.notional),
            _ => None,
        })
    }
}

/// A symbol filter of `exchangeInfo`, tagged by `filterType`.
///
/// Hand-written (de)serialisation instead of `#[serde(tag)]`, because serde's `other` variant
/// cannot keep the payload and a future filter must survive a round trip.
#[derive(Debug, Clone, PartialEq)]
pub enum SymbolFilter {
    /// `PRICE_FILTER`: applies to `price` and to `stopPrice`/`triggerPrice`.
    PriceFilter(PriceFilter),
    /// `LOT_SIZE`: quantity rules for LIMIT (and conditional) orders.
    LotSize(LotSize),
    /// `MARKET_LOT_SIZE`: quantity rules for MARKET orders.
    MarketLotSize(LotSize),
    /// `MAX_NUM_ORDERS`: open orders per symbol.
    MaxNumOrders(MaxNum),
    /// `MAX_NUM_ALGO_ORDERS`: removed 2025-12-29 (conditional orders are now capped at 200
    /// account-wide); still parsed for old snapshots.
    MaxNumAlgoOrders(MaxNum),
    /// `MIN_NOTIONAL`: `price × quantity ≥ notional` (mark price for MARKET; reduce-only exempt).
    MinNotional(MinNotional),
    /// `PERCENT_PRICE`: price band around the mark price.
    PercentPrice(PercentPrice),
    /// Any other `filterType`, kept as the raw object (including `filterType`).
    Unknown(Value),
}

impl SymbolFilter {
    /// The `filterType` string.
    pub fn filter_type(&self) -> &str {
        match self {
            Self::PriceFilter(_) => "PRICE_FILTER",
            Self::LotSize(_) => "LOT_SIZE",
            Self::MarketLotSize(_) => "MARKET_LOT_SIZE",
            Self::MaxNumOrders(_) => "MAX_NUM_ORDERS",
            Self::MaxNumAlgoOrders(_) => "MAX_NUM_ALGO_ORDERS",
            Self::MinNotional(_) => "MIN_NOTIONAL",
            Self::PercentPrice(_) => "PERCENT_PRICE",
            Self::Unknown(raw) => lenient::tag_of(raw, "filterType").unwrap_or(""),
        }
    }
}

impl Serialize for SymbolFilter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let tag = self.filter_type();
        match self {
            Self::PriceFilter(f) => lenient::serialize_tagged(serializer, "filterType", tag, f),
            Self::LotSize(f) | Self::MarketLotSize(f) => {
                lenient::serialize_tagged(serializer, "filterType", tag, f)
            }
            Self::MaxNumOrders(f) | Self::MaxNumAlgoOrders(f) => {
                lenient::serialize_tagged(serializer, "filterType", tag, f)
            }
            Self::MinNotional(f) => lenient::serialize_tagged(serializer, "filterType", tag, f),
            Self::PercentPrice(f) => lenient::serialize_tagged(serializer, "filterType", tag, f),
            Self::Unknown(raw) => raw.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for SymbolFilter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let Some(tag) = lenient::tag_of(&value, "filterType") else {
            return Err(de::Error::missing_field("filterType"));
        };
        Ok(match tag {
            "PRICE_FILTER" => Self::PriceFilter(lenient::from_value::<D, _>(value)?),
            "LOT_SIZE" => Self::LotSize(lenient::from_value::<D, _>(value)?),
            "MARKET_LOT_SIZE" => Self::MarketLotSize(lenient::from_value::<D, _>(value)?),
            "MAX_NUM_ORDERS" => Self::MaxNumOrders(lenient::from_value::<D, _>(value)?),
            "MAX_NUM_ALGO_ORDERS" => Self::MaxNumAlgoOrders(lenient::from_value::<D, _>(value)?),
            "MIN_NOTIONAL" => Self::MinNotional(lenient::from_value::<D, _>(value)?),
            "PERCENT_PRICE" => Self::PercentPrice(lenient::from_value::<D, _>(value)?),
            _ => Self::Unknown(value),
        })
    }
}

/// `PRICE_FILTER`. A zero field disables its rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceFilter {
    pub min_price: Decimal,
    pub max_price: Decimal,
    pub tick_size: Decimal,
}

/// `LOT_SIZE` and `MARKET_LOT_SIZE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LotSize {
    pub min_qty: Decimal,
    pub max_qty: Decimal,
    pub step_size: Decimal,
}

/// `MAX_NUM_ORDERS` and `MAX_NUM_ALGO_ORDERS`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaxNum {
    #[serde(deserialize_with = "lenient::int")]
    pub limit: u32,
}

/// `MIN_NOTIONAL`. On futures the field is `notional` (spot says `minNotional`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinNotional {
    pub notional: Decimal,
}

/// `PERCENT_PRICE`: BUY `price ≤ mark × multiplierUp`, SELL `price ≥ mark × multiplierDown`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PercentPrice {
    pub multiplier_up: Decimal,
    pub multiplier_down: Decimal,
    #[serde(deserialize_with = "lenient::int")]
    pub multiplier_decimal: u32,
}

/// One row of `GET /fapi/v1/klines` (also `markPriceKlines`, `indexPriceKlines`,
/// `continuousKlines`, `premiumIndexKlines`).
///
/// On the wire a row is a 12-element array: open time, open, high, low, close, volume, close
/// time, quote volume, trade count, taker-buy base volume, taker-buy quote volume, ignore.
/// (De)serialises to and from that array.
#[derive(Debug, Clone, PartialEq)]
pub struct Kline {
    pub open_time: i64,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    /// Base-asset volume.
    pub volume: Decimal,
    pub close_time: i64,
    pub quote_volume: Decimal,
    pub trade_count: u64,
    pub taker_buy_base_volume: Decimal,
    pub taker_buy_quote_volume: Decimal,
    /// The 12th element, documented as "ignore"; kept so a row round-trips.
    pub ignore: Value,
}

/// Wire form of a kline row, with lenient integers.
#[derive(Deserialize)]
struct KlineRow(
    #[serde(deserialize_with = "lenient::int")] i64,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    #[serde(deserialize_with = "lenient::int")] i64,
    Decimal,
    #[serde(deserialize_with = "lenient::int")] u64,
    Decimal,
    Decimal,
    Value,
);

impl<'de> Deserialize<'de> for Kline {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let KlineRow(
            open_time,
            open,
            high,
            low,
            close,
            volume,
            close_time,
            quote_volume,
            trade_count,
            taker_buy_base_volume,
            taker_buy_quote_volume,
            ignore,
        ) = KlineRow::deserialize(deserializer)?;
        Ok(Self {
            open_time,
            open,
            high,
            low,
            close,
            volume,
            close_time,
            quote_volume,
            trade_count,
            taker_buy_base_volume,
            taker_buy_quote_volume,
            ignore,
        })
    }
}

impl Serialize for Kline {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut row = serializer.serialize_tuple(12)?;
        row.serialize_element(&self.open_time)?;
        row.serialize_element(&self.open)?;
        row.serialize_element(&self.high)?;
        row.serialize_element(&self.low)?;
        row.serialize_element(&self.close)?;
        row.serialize_element(&self.volume)?;
        row.serialize_element(&self.close_time)?;
        row.serialize_element(&self.quote_volume)?;
        row.serialize_element(&self.trade_count)?;
        row.serialize_element(&self.taker_buy_base_volume)?;
        row.serialize_element(&self.taker_buy_quote_volume)?;
        row.serialize_element(&self.ignore)?;
        row.end()
    }
}

/// A `[price, quantity]` level of `GET /fapi/v1/depth` (and `rpiDepth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceLevel {
    pub price: Decimal,
    pub qty: Decimal,
}

impl<'de> Deserialize<'de> for PriceLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (price, qty) = <(Decimal, Decimal)>::deserialize(deserializer)?;
        Ok(Self { price, qty })
    }
}

impl Serialize for PriceLevel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (self.price, self.qty).serialize(serializer)
    }
}

/// `GET /fapi/v1/depth` (and `GET /fapi/v1/rpiDepth`). Bids best first, asks best first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderBook {
    #[serde(rename = "lastUpdateId", deserialize_with = "lenient::int")]
    pub last_update_id: i64,
    /// Message output time.
    #[serde(rename = "E", default, deserialize_with = "lenient::int")]
    pub event_time: i64,
    /// Transaction time.
    #[serde(rename = "T", default, deserialize_with = "lenient::int")]
    pub transaction_time: i64,
    pub bids: Vec<PriceLevel>,
    pub asks: Vec<PriceLevel>,
}

/// `GET /fapi/v2/ticker/price` (v1 deprecated, same shape). One object with `symbol`, else
/// an array (use [`super::OneOrMany`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickerPrice {
    pub symbol: String,
    pub price: Decimal,
    #[serde(default, deserialize_with = "lenient::int")]
    pub time: i64,
}

/// `GET /fapi/v1/premiumIndex`: mark price, index price and funding. One object with `symbol`,
/// else an array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PremiumIndex {
    pub symbol: String,
    pub mark_price: Decimal,
    pub index_price: Decimal,
    /// Only meaningful in the last hour before delivery/settlement.
    pub estimated_settle_price: Decimal,
    /// Funding rate of the current period, paid at `nextFundingTime`.
    pub last_funding_rate: Decimal,
    pub interest_rate: Decimal,
    #[serde(deserialize_with = "lenient::int")]
    pub next_funding_time: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub time: i64,
}

/// One record of `GET /fapi/v1/fundingRate` (funding history, oldest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FundingRate {
    pub symbol: String,
    pub funding_rate: Decimal,
    #[serde(deserialize_with = "lenient::int")]
    pub funding_time: i64,
    /// Blank on old records.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub mark_price: Option<Decimal>,
}

/// One record of `GET /fapi/v1/fundingInfo`: symbols whose funding cap/floor/interval was adjusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FundingInfo {
    pub symbol: String,
    pub adjusted_funding_rate_cap: Decimal,
    pub adjusted_funding_rate_floor: Decimal,
    #[serde(deserialize_with = "lenient::int")]
    pub funding_interval_hours: u32,
    #[serde(default, deserialize_with = "lenient::bool_lenient")]
    pub disclaimer: bool,
}

/// `GET /fapi/v1/ticker/24hr`: rolling 24 h statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticker24hr {
    pub symbol: String,
    pub price_change: Decimal,
    pub price_change_percent: Decimal,
    pub weighted_avg_price: Decimal,
    pub last_price: Decimal,
    pub last_qty: Decimal,
    pub open_price: Decimal,
    pub high_price: Decimal,
    pub low_price: Decimal,
    pub volume: Decimal,
    pub quote_volume: Decimal,
    #[serde(deserialize_with = "lenient::int")]
    pub open_time: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub close_time: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub first_id: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub last_id: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub count: u64,
}

/// `GET /fapi/v1/ticker/bookTicker`: best bid and ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookTicker {
    pub symbol: String,
    pub bid_price: Decimal,
    pub bid_qty: Decimal,
    pub ask_price: Decimal,
    pub ask_qty: Decimal,
    #[serde(default, deserialize_with = "lenient::int")]
    pub time: i64,
}

/// `GET /fapi/v1/openInterest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenInterest {
    pub symbol: String,
    pub open_interest: Decimal,
    #[serde(deserialize_with = "lenient::int")]
    pub time: i64,
}

/// One trade of `GET /fapi/v1/trades` and `GET /fapi/v1/historicalTrades`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicTrade {
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    pub price: Decimal,
    pub qty: Decimal,
    pub quote_qty: Decimal,
    #[serde(deserialize_with = "lenient::int")]
    pub time: i64,
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub is_buyer_maker: bool,
    /// Retail-price-improvement trade.
    #[serde(
        rename = "isRPITrade",
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_rpi_trade: Option<bool>,
}

/// One aggregate trade of `GET /fapi/v1/aggTrades`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggTrade {
    #[serde(rename = "a", deserialize_with = "lenient::int")]
    pub agg_id: i64,
    #[serde(rename = "p")]
    pub price: Decimal,
    #[serde(rename = "q")]
    pub qty: Decimal,
    /// Quantity of normal (non-RPI) trades only, since 2025-12-31.
    #[serde(
        rename = "nq",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub normal_qty: Option<Decimal>,
    #[serde(rename = "f", deserialize_with = "lenient::int")]
    pub first_trade_id: i64,
    #[serde(rename = "l", deserialize_with = "lenient::int")]
    pub last_trade_id: i64,
    #[serde(rename = "T", deserialize_with = "lenient::int")]
    pub time: i64,
    /// Buyer was the maker.
    #[serde(rename = "m", deserialize_with = "lenient::bool_lenient")]
    pub is_buyer_maker: bool,
}

// Endpoints below are not used by perpdesk today; they are typed so the whole published
// example set parses and a simulator can serve them.

/// `GET /fapi/v1/assetIndex`: multi-assets-mode asset index and haircut rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetIndex {
    pub symbol: String,
    #[serde(deserialize_with = "lenient::int")]
    pub time: i64,
    pub index: Decimal,
    pub bid_buffer: Decimal,
    pub ask_buffer: Decimal,
    pub bid_rate: Decimal,
    pub ask_rate: Decimal,
    pub auto_exchange_bid_buffer: Decimal,
    pub auto_exchange_ask_buffer: Decimal,
    pub auto_exchange_bid_rate: Decimal,
    pub auto_exchange_ask_rate: Decimal,
}

/// `GET /fapi/v1/constituents`: what the index price of a symbol is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexConstituents {
    pub symbol: String,
    #[serde(deserialize_with = "lenient::int")]
    pub time: i64,
    pub constituents: Vec<IndexConstituent>,
}

/// One source of [`IndexConstituents`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexConstituent {
    pub exchange: String,
    pub symbol: String,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub price: Option<Decimal>,
    pub weight: Decimal,
}

/// One composite index of `GET /fapi/v1/indexInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeIndex {
    pub symbol: String,
    #[serde(deserialize_with = "lenient::int")]
    pub time: i64,
    /// Component asset kind, e.g. `baseAsset`.
    pub component: String,
    pub base_asset_list: Vec<CompositeIndexAsset>,
}

/// One component of [`CompositeIndex`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeIndexAsset {
    pub base_asset: String,
    pub quote_asset: String,
    pub weight_in_quantity: Decimal,
    pub weight_in_percentage: Decimal,
}

/// `GET /fapi/v1/insuranceBalance`: an insurance fund and the symbols it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsuranceBalance {
    pub symbols: Vec<String>,
    pub assets: Vec<InsuranceAsset>,
}

/// One asset of [`InsuranceBalance`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsuranceAsset {
    pub asset: String,
    pub margin_balance: Decimal,
    #[serde(deserialize_with = "lenient::int")]
    pub update_time: i64,
}

/// `GET /fapi/v1/symbolAdlRisk`: the symbol's auto-deleverage risk level (`low`, `medium`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymbolAdlRisk {
    pub symbol: String,
    /// Free text on purpose: the level names are not enumerated in the docs.
    pub adl_risk: String,
    #[serde(deserialize_with = "lenient::int")]
    pub update_time: i64,
}

/// One row of `GET /futures/data/basis`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BasisStat {
    pub pair: String,
    pub contract_type: ContractType,
    pub index_price: Decimal,
    pub futures_price: Decimal,
    pub basis: Decimal,
    pub basis_rate: Decimal,
    /// Blank for perpetuals.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub annualized_basis_rate: Option<Decimal>,
    #[serde(deserialize_with = "lenient::int")]
    pub timestamp: i64,
}

/// One row of `GET /futures/data/globalLongShortAccountRatio`,
/// `/futures/data/topLongShortAccountRatio` and `/futures/data/topLongShortPositionRatio`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LongShortRatio {
    pub symbol: String,
    pub long_short_ratio: Decimal,
    /// Share of longs (accounts or positions, per endpoint).
    pub long_account: Decimal,
    pub short_account: Decimal,
    #[serde(deserialize_with = "lenient::int")]
    pub timestamp: i64,
}

/// One row of `GET /futures/data/openInterestHist`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenInterestStat {
    pub symbol: String,
    pub sum_open_interest: Decimal,
    pub sum_open_interest_value: Decimal,
    #[serde(
        rename = "CMCCirculatingSupply",
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cmc_circulating_supply: Option<Decimal>,
    #[serde(deserialize_with = "lenient::int")]
    pub timestamp: i64,
}

/// One row of `GET /futures/data/takerlongshortRatio`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TakerBuySellVolume {
    pub buy_sell_ratio: Decimal,
    pub buy_vol: Decimal,
    pub sell_vol: Decimal,
    #[serde(deserialize_with = "lenient::int")]
    pub timestamp: i64,
}

/// One row of `GET /futures/data/delivery-price` (quarterly settlement prices; a JSON number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPrice {
    #[serde(deserialize_with = "lenient::int")]
    pub delivery_time: i64,
    #[serde(with = "lenient::number")]
    pub delivery_price: Decimal,
}
