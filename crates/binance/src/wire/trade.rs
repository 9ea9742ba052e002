//! Regular orders (LIMIT and MARKET since 2025-12-09) and fills.

use rust_decimal::Decimal;
use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ApiErrorPayload;
use super::de as lenient;
use super::enums::{
    NewOrderRespType, OrderStatus, OrderType, PositionSide, PriceMatch, SelfTradePreventionMode,
    Side, TimeInForce, WorkingType,
};

/// An order as `POST /fapi/v1/order`, `GET /fapi/v1/order`, `DELETE /fapi/v1/order`,
/// `PUT /fapi/v1/order`, `GET /fapi/v1/openOrder(s)`, `GET /fapi/v1/allOrders` and
/// `GET /fapi/v1/forceOrders` return it.
///
/// The shapes differ slightly: query/list add `time`, `avgPrice`, `cumQuote`; place/cancel add
/// `cumQty`; modify adds `pair`, `modifyId`; `activatePrice`/`priceRate` appear only for
/// (legacy) trailing orders. Those fields are `Option`s. With `newOrderRespType=RESULT` a MARKET
/// or IOC/FOK/GTX order comes back in its final state with `avgPrice`/`cumQuote` filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    #[serde(deserialize_with = "lenient::int")]
    pub order_id: i64,
    pub symbol: String,
    /// `PUT /fapi/v1/order` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<String>,
    pub status: OrderStatus,
    pub client_order_id: String,
    pub price: Decimal,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub avg_price: Option<Decimal>,
    pub orig_qty: Decimal,
    pub executed_qty: Decimal,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cum_qty: Option<Decimal>,
    /// Filled quote amount.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cum_quote: Option<Decimal>,
    pub time_in_force: TimeInForce,
    #[serde(rename = "type")]
    pub order_type: OrderType,
    pub orig_type: OrderType,
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub reduce_only: bool,
    #[serde(default, deserialize_with = "lenient::bool_lenient")]
    pub close_position: bool,
    pub side: Side,
    pub position_side: PositionSide,
    /// Legacy trigger price; `0` for LIMIT/MARKET.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_price: Option<Decimal>,
    /// Legacy trailing orders only.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub activate_price: Option<Decimal>,
    /// Legacy trailing orders only (callback rate, percent).
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub price_rate: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_type: Option<WorkingType>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub price_protect: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_match: Option<PriceMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_trade_prevention_mode: Option<SelfTradePreventionMode>,
    /// Auto-cancel time for `GTD`; `0` otherwise.
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub good_till_date: Option<i64>,
    /// `PUT /fapi/v1/order` only: echoed `modifyId`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub modify_id: Option<i64>,
    /// Creation time (query/list shapes).
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub time: Option<i64>,
    #[serde(deserialize_with = "lenient::int")]
    pub update_time: i64,
}

/// One element of `POST`/`PUT`/`DELETE /fapi/v1/batchOrders`: an order, or the error of that
/// one order. The array keeps the request's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOrderResult {
    Order(Box<Order>),
    Error(ApiErrorPayload),
}

impl BatchOrderResult {
    /// The order, or its error.
    pub fn into_result(self) -> Result<Order, ApiErrorPayload> {
        match self {
            Self::Order(order) => Ok(*order),
            Self::Error(err) => Err(err),
        }
    }
}

impl<'de> Deserialize<'de> for BatchOrderResult {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Decide by `orderId` rather than trying both shapes (`untagged`), so a malformed
        // order reports the order's error instead of "did not match any variant".
        let value = Value::deserialize(deserializer)?;
        if value.get("orderId").is_some() {
            Ok(Self::Order(Box::new(lenient::from_value::<D, _>(value)?)))
        } else {
            Ok(Self::Error(lenient::from_value::<D, _>(value)?))
        }
    }
}

impl Serialize for BatchOrderResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Order(order) => order.serialize(serializer),
            Self::Error(err) => err.serialize(serializer),
        }
    }
}

/// One fill of `GET /fapi/v1/userTrades`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserTrade {
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub buyer: bool,
    /// Negative when it is a rebate.
    pub commission: Decimal,
    pub commission_asset: String,
    #[serde(deserialize_with = "lenient::int")]
    pub id: i64,
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub maker: bool,
    #[serde(deserialize_with = "lenient::int")]
    pub order_id: i64,
    pub price: Decimal,
    pub qty: Decimal,
    pub quote_qty: Decimal,
    pub realized_pnl: Decimal,
    pub side: Side,
    pub position_side: PositionSide,
    pub symbol: String,
    #[serde(deserialize_with = "lenient::int")]
    pub time: i64,
}

/// `POST /fapi/v1/countdownCancelAll` (dead-man switch) response. `countdownTime` is a string on
/// the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountdownCancelAll {
    pub symbol: String,
    #[serde(deserialize_with = "lenient::int")]
    pub countdown_time: i64,
}

/// One record of `GET /fapi/v1/positionMargin/history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionMarginChange {
    pub symbol: String,
    /// 1 = add, 2 = reduce.
    #[serde(rename = "type", deserialize_with = "lenient::int")]
    pub change_type: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_type: Option<String>,
    pub amount: Decimal,
    pub asset: String,
    #[serde(deserialize_with = "lenient::int")]
    pub time: i64,
    pub position_side: PositionSide,
}

/// `POST /fapi/v1/positionMargin` response (`amount` is a JSON number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionMarginResult {
    #[serde(with = "lenient::number")]
    pub amount: Decimal,
    #[serde(deserialize_with = "lenient::int")]
    pub code: i64,
    pub msg: String,
    /// 1 = add, 2 = reduce.
    #[serde(rename = "type", deserialize_with = "lenient::int")]
    pub change_type: u8,
}

/// Parameters of `POST /fapi/v1/order` (also one element of `POST /fapi/v1/batchOrders`).
///
/// Since 2025-12-09 only `LIMIT` and `MARKET` are accepted here (others → -4120); conditional
/// orders are [`super::algo::NewAlgoOrderRequest`]. `recvWindow`, `timestamp` and `signature`
/// are added by the signer, not here.
///
/// Rules Binance enforces: LIMIT needs `timeInForce`, `quantity`, `price` (or `priceMatch`
/// instead of `price`); MARKET needs `quantity`; `reduceOnly` must not be sent in hedge mode
/// (send `positionSide` LONG/SHORT instead); `goodTillDate` is required with `GTD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrderRequest {
    pub symbol: String,
    pub side: Side,
    /// `BOTH` by default in one-way mode; mandatory (`LONG`/`SHORT`) in hedge mode.
    pub position_side: Option<PositionSide>,
    /// Wire name `type`.
    pub order_type: OrderType,
    pub time_in_force: Option<TimeInForce>,
    pub quantity: Option<Decimal>,
    pub price: Option<Decimal>,
    pub reduce_only: Option<bool>,
    /// `^[\.A-Z\:/a-z0-9_-]{1,36}$`, unique among open orders.
    pub new_client_order_id: Option<String>,
    pub new_order_resp_type: Option<NewOrderRespType>,
    pub price_match: Option<PriceMatch>,
    pub self_trade_prevention_mode: Option<SelfTradePreventionMode>,
    /// Milliseconds; required with `GTD`, must be > now + 600 s (seconds precision kept).
    pub good_till_date: Option<i64>,
}

impl NewOrderRequest {
    /// A MARKET order for `quantity`.
    pub fn market(symbol: impl Into<String>, side: Side, quantity: Decimal) -> Self {
        Self {
            quantity: Some(quantity),
            ..Self::bare(symbol.into(), side, OrderType::Market)
        }
    }

    /// A LIMIT order for `quantity` at `price`.
    pub fn limit(
        symbol: impl Into<String>,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        time_in_force: TimeInForce,
    ) -> Self {
        Self {
            quantity: Some(quantity),
            price: Some(price),
            time_in_force: Some(time_in_force),
            ..Self::bare(symbol.into(), side, OrderType::Limit)
        }
    }

    fn bare(symbol: String, side: Side, order_type: OrderType) -> Self {
        Self {
            symbol,
            side,
            position_side: None,
            order_type,
            time_in_force: None,
            quantity: None,
            price: None,
            reduce_only: None,
            new_client_order_id: None,
            new_order_resp_type: None,
            price_match: None,
            self_trade_prevention_mode: None,
            good_till_date: None,
        }
    }

    /// The query parameters in a stable order, unset ones omitted.
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![
            ("symbol", self.symbol.clone()),
            ("side", self.side.to_string()),
        ];
        if let Some(v) = &self.position_side {
            q.push(("positionSide", v.to_string()));
        }
        q.push(("type", self.order_type.to_string()));
        if let Some(v) = &self.time_in_force {
            q.push(("timeInForce", v.to_string()));
        }
        if let Some(v) = self.quantity {
            q.push(("quantity", lenient::query_decimal(v)));
        }
        if let Some(v) = self.price {
            q.push(("price", lenient::query_decimal(v)));
        }
        if let Some(v) = self.reduce_only {
            q.push(("reduceOnly", lenient::query_bool(v)));
        }
        if let Some(v) = &self.new_client_order_id {
            q.push(("newClientOrderId", v.clone()));
        }
        if let Some(v) = &self.new_order_resp_type {
            q.push(("newOrderRespType", v.to_string()));
        }
        if let Some(v) = &self.price_match {
            q.push(("priceMatch", v.to_string()));
        }
        if let Some(v) = &self.self_trade_prevention_mode {
            q.push(("selfTradePreventionMode", v.to_string()));
        }
        if let Some(v) = self.good_till_date {
            q.push(("goodTillDate", v.to_string()));
        }
        q
    }

    /// This order as one element of the `batchOrders` JSON array: the same parameters, every
    /// value a string (as the batch endpoint requires).
    pub fn to_batch_element(&self) -> Value {
        Value::Object(
            self.to_query()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v)))
                .collect(),
        )
    }
}

/// Which order an order-addressed call (`GET`/`DELETE /fapi/v1/order`, `GET /fapi/v1/openOrder`)
/// means. Binance takes either id; `orderId` wins when both are sent, so only one is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRef {
    OrderId(i64),
    ClientOrderId(String),
}

impl OrderRef {
    /// `("orderId", …)` or `("origClientOrderId", …)`.
    pub fn to_query_pair(&self) -> (&'static str, String) {
        match self {
            Self::OrderId(id) => ("orderId", id.to_string()),
            Self::ClientOrderId(id) => ("origClientOrderId", id.clone()),
        }
    }
}

/// Parameters of `PUT /fapi/v1/order` (modify a LIMIT order; it loses queue priority).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifyOrderRequest {
    pub symbol: String,
    pub order: OrderRef,
    pub side: Side,
    pub quantity: Decimal,
    /// Not together with `price_match`.
    pub price: Option<Decimal>,
    pub price_match: Option<PriceMatch>,
}

impl ModifyOrderRequest {
    /// The query parameters in a stable order, unset ones omitted.
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![("symbol", self.symbol.clone()), self.order.to_query_pair()];
        q.push(("side", self.side.to_string()));
        q.push(("quantity", lenient::query_decimal(self.quantity)));
        if let Some(v) = self.price {
            q.push(("price", lenient::query_decimal(v)));
        }
        if let Some(v) = &self.price_match {
            q.push(("priceMatch", v.to_string()));
        }
        q
    }
}

/// One record of `GET /fapi/v1/orderAmendment`: a modification of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderAmendment {
    #[serde(deserialize_with = "lenient::int")]
    pub amendment_id: i64,
    pub symbol: String,
    pub pair: String,
    #[serde(deserialize_with = "lenient::int")]
    pub order_id: i64,
    pub client_order_id: String,
    #[serde(deserialize_with = "lenient::int")]
    pub time: i64,
    pub amendment: AmendmentDetail,
}

/// What one [`OrderAmendment`] changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmendmentDetail {
    pub price: BeforeAfter,
    pub orig_qty: BeforeAfter,
    /// How many times the order has been modified so far.
    #[serde(deserialize_with = "lenient::int")]
    pub count: u32,
    /// The `modifyId` sent with the change (since 2026-07).
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub modify_id: Option<i64>,
}

/// A changed value of [`AmendmentDetail`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeforeAfter {
    pub before: Decimal,
    pub after: Decimal,
}
