//! Order replies: orders, algo orders, trades and amendments.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{dec, error};
use crate::error::ApiError;
use crate::exchange::{AlgoOrder, Amendment, OrderType, Side, SimOrder, Trade};
use crate::params::{BatchModify, BatchOrders, ModifyOrder, PriceMatch, RespType};

/// The average fill price of `o` (zero before its first fill).
pub(crate) fn avg_price(o: &SimOrder) -> Decimal {
    if o.executed_qty.is_zero() {
        Decimal::ZERO
    } else {
        (o.cum_quote / o.executed_qty).round_dp(8)
    }
}

/// An order as `GET /fapi/v1/order` shows it (`full`), or as an ACK: no fill information.
pub fn order(o: &SimOrder, full: bool) -> Value {
    let mut v = json!({
        "orderId": o.order_id, "symbol": o.symbol, "status": o.status, "clientOrderId": o.client_order_id,
        "price": dec(o.price), "avgPrice": dec(avg_price(o)), "origQty": dec(o.orig_qty), "executedQty": dec(o.executed_qty),
        "cumQty": dec(o.executed_qty), "cumQuote": dec(o.cum_quote), "timeInForce": o.time_in_force.as_str(), "type": o.order_type.as_str(),
        "reduceOnly": o.reduce_only, "closePosition": false, "side": o.side.as_str(), "positionSide": o.position_side.as_str(),
        "stopPrice": "0", "workingType": "CONTRACT_PRICE", "priceProtect": false, "origType": o.order_type.as_str(),
        "priceMatch": o.price_match.map_or("NONE", PriceMatch::as_str), "selfTradePreventionMode": o.self_trade_prevention.as_str(),
        "goodTillDate": o.good_till_date, "updateTime": o.update_time,
    });
    if full {
        v["time"] = json!(o.time);
    } else {
        // ACK replies carry no fill information.
        v["executedQty"] = json!("0");
        v["cumQty"] = json!("0");
        v["cumQuote"] = json!("0");
        v["avgPrice"] = json!("0.00");
        v["status"] = json!("NEW");
    }
    v
}

/// A list of orders (`openOrders`, `allOrders`).
pub fn orders(list: &[&SimOrder]) -> Value {
    Value::Array(list.iter().map(|o| order(o, true)).collect())
}

/// `POST /fapi/v1/order`: the result when asked for or for a MARKET order, else the ACK.
pub fn new_order(o: &SimOrder, resp_type: RespType) -> Value {
    order(
        o,
        resp_type == RespType::Result || o.order_type == OrderType::Market,
    )
}

/// `PUT /fapi/v1/order`: the order after the change, with the caller's `modifyId`.
pub fn modified(o: &SimOrder, req: &ModifyOrder) -> Value {
    let mut v = order(o, true);
    v["pair"] = json!(req.symbol);
    v["modifyId"] = json!(req.modify_id);
    v
}

/// `POST /fapi/v1/batchOrders`: each placed order as its request asked, or its refusal.
pub fn batch_placed(req: &BatchOrders, placed: &[Result<SimOrder, ApiError>]) -> Value {
    Value::Array(
        req.0
            .iter()
            .zip(placed)
            .map(|(asked, done)| match (asked, done) {
                (Ok(asked), Ok(o)) => new_order(o, asked.resp_type),
                (Err(e), _) | (_, Err(e)) => error(e),
            })
            .collect(),
    )
}

/// `PUT /fapi/v1/batchOrders`: each changed order, or its refusal.
pub fn batch_modified(req: &BatchModify, done: &[Result<SimOrder, ApiError>]) -> Value {
    Value::Array(
        req.0
            .iter()
            .zip(done)
            .map(|(asked, done)| match (asked, done) {
                (Ok(asked), Ok(o)) => modified(o, asked),
                (Err(e), _) | (_, Err(e)) => error(e),
            })
            .collect(),
    )
}

/// The type of the order an algo order placed in the matching engine, once it has.
pub(crate) fn actual_type(o: &AlgoOrder) -> Option<&'static str> {
    o.actual_order_id.map(|_| o.order_type.then().as_str())
}

/// An algo order as `GET /fapi/v1/algoOrder` shows it.
pub fn algo(o: &AlgoOrder) -> Value {
    json!({
        "algoId": o.algo_id, "clientAlgoId": o.client_algo_id, "algoType": "CONDITIONAL", "orderType": o.order_type.as_str(),
        "symbol": o.symbol, "side": o.side.as_str(), "positionSide": o.position_side.as_str(), "timeInForce": o.time_in_force.as_str(),
        "quantity": dec(o.quantity), "algoStatus": o.status, "triggerPrice": dec(o.trigger_price), "price": dec(o.price),
        "icebergQuantity": null, "selfTradePreventionMode": o.self_trade_prevention.as_str(), "workingType": o.working_type.as_str(),
        "priceMatch": "NONE", "closePosition": o.close_position, "priceProtect": o.price_protect,
        "reduceOnly": o.reduce_only, "activatePrice": o.activate_price.map_or_else(String::new, dec),
        "callbackRate": o.callback_rate.map_or_else(String::new, dec), "createTime": o.create_time,
        "updateTime": o.update_time, "triggerTime": o.trigger_time, "goodTillDate": 0,
        "actualOrderId": o.actual_order_id.map_or_else(String::new, |i| i.to_string()),
        // Query and list shapes carry these; empty strings stand for unset (CONTRACT.md 4.4).
        "actualPrice": "", "actualQty": "", "actualType": actual_type(o).unwrap_or(""), "tpOrderType": "",
        "tpTriggerPrice": "", "tpPrice": "", "slTriggerPrice": "", "slPrice": "",
    })
}

/// A list of algo orders.
pub fn algos(list: &[&AlgoOrder]) -> Value {
    Value::Array(list.iter().map(|o| algo(o)).collect())
}

/// `DELETE /fapi/v1/algoOrder`.
pub fn algo_cancelled(o: &AlgoOrder) -> Value {
    json!({"algoId": o.algo_id, "clientAlgoId": o.client_algo_id, "code": "200", "msg": "success"})
}

/// `GET /fapi/v1/userTrades`.
pub fn trades(list: &[&Trade]) -> Value {
    Value::Array(
        list.iter()
            .map(|t| {
                json!({
                    "buyer": t.side == Side::Buy, "commission": dec(t.commission), "commissionAsset": "USDT", "id": t.id,
                    "maker": t.maker, "orderId": t.order_id, "price": dec(t.price), "qty": dec(t.qty),
                    "quoteQty": dec((t.price * t.qty).round_dp(8)), "realizedPnl": dec(t.realized_pnl),
                    "side": t.side.as_str(), "positionSide": t.position_side.as_str(), "symbol": t.symbol, "time": t.time,
                })
            })
            .collect(),
    )
}

/// `GET /fapi/v1/orderAmendment`.
pub fn amendments(list: &[&Amendment]) -> Value {
    Value::Array(
        list.iter()
            .map(|m| {
                json!({
                    "amendmentId": m.amendment_id, "symbol": m.symbol, "pair": m.symbol,
                    "orderId": m.order_id, "clientOrderId": m.client_order_id, "time": m.time,
                    "amendment": {
                        "price": {"before": dec(m.price_before), "after": dec(m.price_after)},
                        "origQty": {"before": dec(m.qty_before), "after": dec(m.qty_after)},
                        "count": m.count, "modifyId": m.modify_id,
                    },
                })
            })
            .collect(),
    )
}
