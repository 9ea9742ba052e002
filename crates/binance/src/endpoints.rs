//! The USDⓈ-M endpoints perpdesk calls, with method, security and weight as documented.

use crate::rest::{Endpoint, Method, Security};

const fn ep(method: Method, path: &'static str, security: Security, weight: u32) -> Endpoint {
    Endpoint {
        method,
        path,
        security,
        weight,
        places_order: false,
        spot: false,
    }
}

const fn order(method: Method, path: &'static str, weight: u32) -> Endpoint {
    Endpoint {
        method,
        path,
        security: Security::Signed,
        weight,
        places_order: true,
        spot: false,
    }
}

use Method::{Delete, Get, Post};
use Security::{None as Public, Signed};

pub const PING: Endpoint = ep(Get, "/fapi/v1/ping", Public, 1);
pub const EXCHANGE_INFO: Endpoint = ep(Get, "/fapi/v1/exchangeInfo", Public, 1);
pub const TICKER_PRICE: Endpoint = ep(Get, "/fapi/v2/ticker/price", Public, 1);
/// `GET /fapi/v1/ticker/24hr` with `symbol` (weight 1; 40 for all symbols).
pub const TICKER_24HR: Endpoint = ep(Get, "/fapi/v1/ticker/24hr", Public, 1);
/// `GET /fapi/v1/ticker/24hr` without `symbol`: every symbol (weight 40).
pub const TICKER_24HR_ALL: Endpoint = ep(Get, "/fapi/v1/ticker/24hr", Public, 40);
pub const PREMIUM_INDEX: Endpoint = ep(Get, "/fapi/v1/premiumIndex", Public, 1);
pub const FUNDING_RATE: Endpoint = ep(Get, "/fapi/v1/fundingRate", Public, 1);
pub const ACCOUNT: Endpoint = ep(Get, "/fapi/v3/account", Signed, 5);
pub const BALANCE: Endpoint = ep(Get, "/fapi/v3/balance", Signed, 5);
pub const POSITION_RISK: Endpoint = ep(Get, "/fapi/v3/positionRisk", Signed, 5);
pub const POSITION_SIDE_DUAL_GET: Endpoint = ep(Get, "/fapi/v1/positionSide/dual", Signed, 30);
pub const POSITION_SIDE_DUAL_SET: Endpoint = ep(Post, "/fapi/v1/positionSide/dual", Signed, 1);
pub const MULTI_ASSETS_MARGIN: Endpoint = ep(Get, "/fapi/v1/multiAssetsMargin", Signed, 30);
pub const LEVERAGE: Endpoint = ep(Post, "/fapi/v1/leverage", Signed, 1);
pub const MARGIN_TYPE: Endpoint = ep(Post, "/fapi/v1/marginType", Signed, 1);
pub const LEVERAGE_BRACKET: Endpoint = ep(Get, "/fapi/v1/leverageBracket", Signed, 1);
pub const ORDER_NEW: Endpoint = order(Post, "/fapi/v1/order", 0);
/// `POST /fapi/v1/batchOrders`: up to 5 regular orders (weight 5; each counts as an order).
pub const BATCH_ORDERS: Endpoint = order(Post, "/fapi/v1/batchOrders", 5);
pub const ALL_ALGO_ORDERS: Endpoint = ep(Get, "/fapi/v1/allAlgoOrders", Signed, 5);
pub const ALGO_OPEN_ORDERS_CANCEL: Endpoint = ep(Delete, "/fapi/v1/algoOpenOrders", Signed, 1);
pub const ORDER_QUERY: Endpoint = ep(Get, "/fapi/v1/order", Signed, 1);
pub const ORDER_CANCEL: Endpoint = ep(Delete, "/fapi/v1/order", Signed, 1);
/// One symbol's open orders ([`open_orders`] for the symbol-less form's weight).
pub const OPEN_ORDERS: Endpoint = open_orders(true);
pub const ALL_ORDERS: Endpoint = ep(Get, "/fapi/v1/allOrders", Signed, 5);
pub const ALL_OPEN_ORDERS_CANCEL: Endpoint = ep(Delete, "/fapi/v1/allOpenOrders", Signed, 1);
pub const ALGO_ORDER_NEW: Endpoint = order(Post, "/fapi/v1/algoOrder", 0);
pub const ALGO_ORDER_QUERY: Endpoint = ep(Get, "/fapi/v1/algoOrder", Signed, 1);
pub const ALGO_ORDER_CANCEL: Endpoint = ep(Delete, "/fapi/v1/algoOrder", Signed, 1);
/// One symbol's open algo orders ([`open_algo_orders`] for the symbol-less form's weight).
pub const OPEN_ALGO_ORDERS: Endpoint = open_algo_orders(true);
pub const USER_TRADES: Endpoint = ep(Get, "/fapi/v1/userTrades", Signed, 5);
pub const INCOME: Endpoint = ep(Get, "/fapi/v1/income", Signed, 30);
pub const API_RESTRICTIONS: Endpoint = Endpoint {
    spot: true,
    ..ep(Get, "/sapi/v1/account/apiRestrictions", Signed, 1)
};

/// `GET /fapi/v1/klines` weighs by `limit`: 1 below 100, 2 below 500, 5 up to 1000, 10 above.
pub const fn klines(limit: u32) -> Endpoint {
    let weight = match limit {
        0..100 => 1,
        100..500 => 2,
        500..=1000 => 5,
        _ => 10,
    };
    ep(Get, "/fapi/v1/klines", Public, weight)
}

/// `GET /fapi/v1/openOrders` weighs 1 for one symbol and 40 for every symbol.
pub const fn open_orders(one_symbol: bool) -> Endpoint {
    ep(
        Get,
        "/fapi/v1/openOrders",
        Signed,
        if one_symbol { 1 } else { 40 },
    )
}

/// `GET /fapi/v1/openAlgoOrders` weighs 1 for one symbol and 40 for every symbol.
pub const fn open_algo_orders(one_symbol: bool) -> Endpoint {
    ep(
        Get,
        "/fapi/v1/openAlgoOrders",
        Signed,
        if one_symbol { 1 } else { 40 },
    )
}

/// `GET /fapi/v1/depth` weighs by `limit`: 2 up to 50, 5 at 100, 10 at 500, 20 at 1000.
pub const fn depth(limit: u32) -> Endpoint {
    let weight = match limit {
        0..=50 => 2,
        51..=100 => 5,
        101..=500 => 10,
        _ => 20,
    };
    ep(Get, "/fapi/v1/depth", Public, weight)
}
