//! Conditional orders through the Algo Service (`/fapi/v1/algoOrder`, since 2025-12-09).
//!
//! `STOP`, `STOP_MARKET`, `TAKE_PROFIT`, `TAKE_PROFIT_MARKET` and `TRAILING_STOP_MARKET` live
//! here and are invisible to the regular order endpoints. Once triggered, the algo service
//! places a regular order (`actualOrderId`), which then reports through `ORDER_TRADE_UPDATE`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::de as lenient;
use super::enums::{
    AlgoStatus, AlgoType, NewOrderRespType, OrderType, PositionSide, PriceMatch,
    SelfTradePreventionMode, Side, TimeInForce, WorkingType,
};

/// An algo order as `POST /fapi/v1/algoOrder`, `GET /fapi/v1/algoOrder`,
/// `GET /fapi/v1/openAlgoOrders` and `GET /fapi/v1/allAlgoOrders` return it.
///
/// The response key for the type is `orderType` (the request parameter is `type`). Unset
/// values arrive as `""`, `null` or `"null"` and read as `None`. The query shapes add the
/// `actual*` fields (the triggered regular order); the list shapes add the TP/SL fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlgoOrder {
    #[serde(deserialize_with = "lenient::int")]
    pub algo_id: i64,
    pub client_algo_id: String,
    pub algo_type: AlgoType,
    pub order_type: OrderType,
    pub symbol: String,
    pub side: Side,
    pub position_side: PositionSide,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_in_force: Option<TimeInForce>,
    /// `None` for `closePosition=true` orders.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub quantity: Option<Decimal>,
    pub algo_status: AlgoStatus,
    /// Matching-engine order id after the trigger; `""` before.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub actual_order_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub actual_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub actual_type: Option<OrderType>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub actual_qty: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub trigger_price: Option<Decimal>,
    /// Limit price of `STOP`/`TAKE_PROFIT`.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub iceberg_quantity: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub tp_trigger_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub tp_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub sl_trigger_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub sl_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub tp_order_type: Option<OrderType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_trade_prevention_mode: Option<SelfTradePreventionMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_type: Option<WorkingType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_match: Option<PriceMatch>,
    #[serde(default, deserialize_with = "lenient::bool_lenient")]
    pub close_position: bool,
    #[serde(default, deserialize_with = "lenient::bool_lenient")]
    pub price_protect: bool,
    #[serde(default, deserialize_with = "lenient::bool_lenient")]
    pub reduce_only: bool,
    /// `TRAILING_STOP_MARKET` only.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub activate_price: Option<Decimal>,
    /// `TRAILING_STOP_MARKET` only (percent).
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub callback_rate: Option<Decimal>,
    #[serde(deserialize_with = "lenient::int")]
    pub create_time: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub update_time: i64,
    /// `0` until triggered.
    #[serde(default, deserialize_with = "lenient::int")]
    pub trigger_time: i64,
    #[serde(default, deserialize_with = "lenient::int")]
    pub good_till_date: i64,
}

/// `DELETE /fapi/v1/algoOrder` response. `code` is the **string** `"200"` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlgoCancel {
    #[serde(deserialize_with = "lenient::int")]
    pub algo_id: i64,
    pub client_algo_id: String,
    #[serde(deserialize_with = "lenient::int")]
    pub code: i64,
    pub msg: String,
}

/// Which algo order `GET`/`DELETE /fapi/v1/algoOrder` means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlgoOrderRef {
    AlgoId(i64),
    ClientAlgoId(String),
}

impl AlgoOrderRef {
    /// `("algoId", …)` or `("clientAlgoId", …)`.
    pub fn to_query_pair(&self) -> (&'static str, String) {
        match self {
            Self::AlgoId(id) => ("algoId", id.to_string()),
            Self::ClientAlgoId(id) => ("clientAlgoId", id.clone()),
        }
    }
}

/// Parameters of `POST /fapi/v1/algoOrder` (CONTRACT.md 4.4).
///
/// Rules Binance enforces: `closePosition=true` only with `STOP_MARKET`/`TAKE_PROFIT_MARKET`
/// and not with `quantity`/`reduceOnly`; `reduceOnly` not in hedge mode; `priceMatch` not with
/// `price`; `activatePrice`/`callbackRate` (0.1–20 %) only for `TRAILING_STOP_MARKET`.
/// `recvWindow`, `timestamp` and `signature` are added by the signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlgoOrderRequest {
    /// Always `CONDITIONAL` today.
    pub algo_type: AlgoType,
    pub symbol: String,
    pub side: Side,
    pub position_side: Option<PositionSide>,
    /// Wire name `type` (the response calls it `orderType`).
    pub order_type: OrderType,
    pub time_in_force: Option<TimeInForce>,
    pub quantity: Option<Decimal>,
    /// Limit price of `STOP`/`TAKE_PROFIT`.
    pub price: Option<Decimal>,
    /// The trigger (the regular endpoint called it `stopPrice`).
    pub trigger_price: Option<Decimal>,
    pub working_type: Option<WorkingType>,
    pub price_match: Option<PriceMatch>,
    pub close_position: Option<bool>,
    pub price_protect: Option<bool>,
    pub reduce_only: Option<bool>,
    pub activate_price: Option<Decimal>,
    pub callback_rate: Option<Decimal>,
    /// `^[\.A-Z\:/a-z0-9_-]{1,36}$`, unique among open algo orders.
    pub client_algo_id: Option<String>,
    pub new_order_resp_type: Option<NewOrderRespType>,
    pub self_trade_prevention_mode: Option<SelfTradePreventionMode>,
    pub good_till_date: Option<i64>,
}

impl NewAlgoOrderRequest {
    /// A `CONDITIONAL` algo order with only the mandatory fields set.
    pub fn conditional(symbol: impl Into<String>, side: Side, order_type: OrderType) -> Self {
        Self {
            algo_type: AlgoType::Conditional,
            symbol: symbol.into(),
            side,
            position_side: None,
            order_type,
            time_in_force: None,
            quantity: None,
            price: None,
            trigger_price: None,
            working_type: None,
            price_match: None,
            close_position: None,
            price_protect: None,
            reduce_only: None,
            activate_price: None,
            callback_rate: None,
            client_algo_id: None,
            new_order_resp_type: None,
            self_trade_prevention_mode: None,
            good_till_date: None,
        }
    }

    /// A `STOP_MARKET` that closes the whole position when `trigger_price` is crossed (the usual
    /// protective stop).
    pub fn close_position_stop(
        symbol: impl Into<String>,
        side: Side,
        trigger_price: Decimal,
        working_type: WorkingType,
    ) -> Self {
        Self {
            trigger_price: Some(trigger_price),
            working_type: Some(working_type),
            close_position: Some(true),
            ..Self::conditional(symbol, side, OrderType::StopMarket)
        }
    }

    /// The query parameters in a stable order, unset ones omitted.
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![
            ("algoType", self.algo_type.to_string()),
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
        let decimals = [
            ("quantity", self.quantity),
            ("price", self.price),
            ("triggerPrice", self.trigger_price),
        ];
        for (k, v) in decimals {
            if let Some(v) = v {
                q.push((k, lenient::query_decimal(v)));
            }
        }
        if let Some(v) = &self.working_type {
            q.push(("workingType", v.to_string()));
        }
        if let Some(v) = &self.price_match {
            q.push(("priceMatch", v.to_string()));
        }
        let flags = [
            ("closePosition", self.close_position),
            ("priceProtect", self.price_protect),
            ("reduceOnly", self.reduce_only),
        ];
        for (k, v) in flags {
            if let Some(v) = v {
                q.push((k, lenient::query_bool(v)));
            }
        }
        let trailing = [
            ("activatePrice", self.activate_price),
            ("callbackRate", self.callback_rate),
        ];
        for (k, v) in trailing {
            if let Some(v) = v {
                q.push((k, lenient::query_decimal(v)));
            }
        }
        if let Some(v) = &self.client_algo_id {
            q.push(("clientAlgoId", v.clone()));
        }
        if let Some(v) = &self.new_order_resp_type {
            q.push(("newOrderRespType", v.to_string()));
        }
        if let Some(v) = &self.self_trade_prevention_mode {
            q.push(("selfTradePreventionMode", v.to_string()));
        }
        if let Some(v) = self.good_till_date {
            q.push(("goodTillDate", v.to_string()));
        }
        q
    }
}
