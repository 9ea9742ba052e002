//! The algo service: conditional orders (STOP/TAKE_PROFIT, market and limit, and
//! TRAILING_STOP_MARKET) held until their trigger, then handed to the matching engine.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::book::Fill;
use super::orders::{check_price, order_position_side, valid_client_id};
use super::state::{AlgoOrder, Side, SimOrder, gtc};
use super::{Exchange, dec};
use crate::error::ApiError;
use crate::params::Params;

impl Exchange {
    /// `GET /fapi/v1/allAlgoOrders` for `symbol` (oldest first, at most `limit`).
    pub fn all_algo_orders(&mut self, acct: usize, symbol: &str, limit: usize, now: i64) -> Value {
        self.advance(now);
        let all: Vec<&AlgoOrder> = self.accounts[acct]
            .algo_orders
            .iter()
            .filter(|o| o.symbol == symbol)
            .collect();
        let skip = all.len().saturating_sub(limit);
        Value::Array(all.into_iter().skip(skip).map(algo_json).collect())
    }

    /// `DELETE /fapi/v1/algoOpenOrders` for `symbol`.
    pub fn cancel_all_algo(&mut self, acct: usize, symbol: &str, now: i64) -> Value {
        self.advance(now);
        let open: Vec<usize> = self.accounts[acct]
            .algo_orders
            .iter()
            .enumerate()
            .filter(|(_, o)| o.status == "NEW" && o.symbol == symbol)
            .map(|(i, _)| i)
            .collect();
        for i in open {
            let o = &mut self.accounts[acct].algo_orders[i];
            o.status = "CANCELED";
            o.update_time = now;
            let order = o.clone();
            self.emit_algo(acct, &order, now);
        }
        json!({"code": 200, "msg": "The operation of cancel all open order is done."})
    }

    /// `GET /fapi/v1/openAlgoOrders`.
    pub fn open_algo_orders(&mut self, acct: usize, symbol: Option<&str>, now: i64) -> Value {
        self.advance(now);
        Value::Array(
            self.accounts[acct]
                .algo_orders
                .iter()
                .filter(|o| o.status == "NEW" && symbol.is_none_or(|s| s == o.symbol))
                .map(algo_json)
                .collect(),
        )
    }

    /// `POST /fapi/v1/algoOrder` (conditional orders): STOP_MARKET and TAKE_PROFIT_MARKET
    /// (`triggerPrice`, `closePosition`), STOP and TAKE_PROFIT (`triggerPrice`, `price`,
    /// `timeInForce`) and TRAILING_STOP_MARKET (`callbackRate` 0.1–20 %, `activatePrice`).
    ///
    /// # Errors
    /// Binance's codes; nothing changes when refused.
    pub fn new_algo_order(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        if p.req("algoType")? != "CONDITIONAL" {
            return Err(ApiError::invalid("algoType"));
        }
        let symbol = p.req("symbol")?;
        let spec = self.spec(symbol)?.clone();
        let side =
            Side::parse(p.req("side")?).ok_or_else(|| ApiError::bad(-1117, "Invalid side."))?;
        let order_type = p.req("type")?;
        let (limit, trailing) = match order_type {
            "STOP_MARKET" | "TAKE_PROFIT_MARKET" => (false, false),
            "STOP" | "TAKE_PROFIT" => (true, false),
            "TRAILING_STOP_MARKET" => (false, true),
            _ => return Err(ApiError::bad(-1116, "Invalid orderType.")),
        };
        let not_required = |name: &str| {
            ApiError::bad(-1106, format!("Parameter '{name}' sent when not required."))
        };
        let dual = self.accounts[acct].dual_side;
        let position_side = order_position_side(dual, p)?;
        let trigger = if trailing {
            if p.get("triggerPrice").is_some() {
                return Err(not_required("triggerPrice"));
            }
            Decimal::ZERO
        } else {
            let trigger = p
                .decimal("triggerPrice")?
                .ok_or_else(|| ApiError::mandatory("triggerPrice"))?;
            check_price(&spec, trigger)?;
            trigger
        };
        // STOP and TAKE_PROFIT become LIMIT orders at `price` when they trigger.
        let (price, time_in_force) = if limit {
            let price = p
                .decimal("price")?
                .ok_or_else(|| ApiError::mandatory("price"))?;
            check_price(&spec, price)?;
            let tif = p.get("timeInForce").unwrap_or("GTC");
            if !["GTC", "IOC", "FOK", "GTX"].contains(&tif) {
                return Err(ApiError::bad(-1115, "Invalid timeInForce."));
            }
            (price, tif.to_owned())
        } else {
            if p.get("price").is_some() {
                return Err(not_required("price"));
            }
            (Decimal::ZERO, gtc())
        };
        let close_position = p.bool("closePosition")?.unwrap_or(false);
        if close_position && (limit || trailing) {
            // Only the market kinds can close the whole position.
            return Err(not_required("closePosition"));
        }
        let reduce_only = p.bool("reduceOnly")?.unwrap_or(false);
        let quantity = p.decimal("quantity")?;
        if close_position && (quantity.is_some() || reduce_only) {
            return Err(ApiError::bad(
                -1106,
                "Parameter 'quantity' sent when not required.",
            ));
        }
        // closePosition closes the side it names: SELL on LONG, BUY on SHORT (hedge mode).
        if close_position && dual && !position_side.closed_by(side) {
            return Err(ApiError::bad(
                -1128,
                "Combination of optional parameters invalid.",
            ));
        }
        let quantity = match (close_position, quantity) {
            (true, _) => Decimal::ZERO,
            (false, Some(q)) => q,
            (false, None) => return Err(ApiError::mandatory("quantity")),
        };
        let working_type = p.get("workingType").unwrap_or("CONTRACT_PRICE").to_owned();
        if working_type != "MARK_PRICE" && working_type != "CONTRACT_PRICE" {
            return Err(ApiError::invalid("workingType"));
        }
        let reference = if working_type == "MARK_PRICE" {
            self.market.mark_price(symbol, now)
        } else {
            self.market.last_price(symbol, now)
        }
        .ok_or_else(ApiError::bad_symbol)?;
        let (callback_rate, activate_price) = if trailing {
            let rate = p
                .decimal("callbackRate")?
                .ok_or_else(|| ApiError::mandatory("callbackRate"))?;
            // 0.1 % to 20 % since 2026-10-23 (it was 10 % before; CONTRACT.md section 0).
            if rate < Decimal::new(1, 1) || rate > Decimal::from(20) {
                return Err(ApiError::invalid("callbackRate"));
            }
            let activate = p.decimal("activatePrice")?;
            if let Some(a) = activate {
                check_price(&spec, a)?;
                // A SELL trail starts above the price and a BUY trail below it; one on the
                // other side would be active at once, which Binance refuses.
                let wrong_side = match side {
                    Side::Sell => a <= reference,
                    Side::Buy => a >= reference,
                };
                if wrong_side {
                    return Err(ApiError::bad(-2021, "Order would immediately trigger."));
                }
            }
            (Some(rate), activate)
        } else {
            for name in ["callbackRate", "activatePrice"] {
                if p.get(name).is_some() {
                    return Err(not_required(name));
                }
            }
            (None, None)
        };
        if !trailing {
            // A stop that is already through its trigger would fire at once: Binance refuses it.
            let immediate = match (order_type, side) {
                ("STOP_MARKET" | "STOP", Side::Sell)
                | ("TAKE_PROFIT_MARKET" | "TAKE_PROFIT", Side::Buy) => reference <= trigger,
                _ => reference >= trigger,
            };
            if immediate {
                return Err(ApiError::bad(-2021, "Order would immediately trigger."));
            }
        }
        let client_algo_id = match p.get("clientAlgoId").or_else(|| p.get("newClientOrderId")) {
            Some(id) => valid_client_id(id)?,
            None => format!("simalgo{}", self.next_id + 1),
        };
        let a = &self.accounts[acct];
        if a.algo_orders
            .iter()
            .any(|o| o.client_algo_id == client_algo_id && o.status == "NEW")
        {
            return Err(ApiError::bad(-4015, "Client order id is not valid."));
        }
        if a.algo_orders.iter().filter(|o| o.status == "NEW").count() >= 200 {
            return Err(ApiError::bad(-4045, "Reach max stop order limit."));
        }
        let algo_id = self.id();
        let order = AlgoOrder {
            algo_id,
            client_algo_id,
            symbol: symbol.to_owned(),
            side,
            position_side,
            order_type: order_type.to_owned(),
            quantity,
            trigger_price: trigger,
            working_type,
            close_position,
            reduce_only,
            price_protect: p.bool("priceProtect")?.unwrap_or(false),
            status: "NEW",
            create_time: now,
            update_time: now,
            trigger_time: 0,
            actual_order_id: None,
            price,
            time_in_force,
            activate_price,
            callback_rate,
            extreme: trailing.then_some(reference),
        };
        let reply = algo_json(&order);
        self.emit_algo(acct, &order, now);
        self.accounts[acct].algo_orders.push(order);
        Ok(reply)
    }

    fn find_algo(&self, acct: usize, p: &Params) -> Result<usize, ApiError> {
        let orders = &self.accounts[acct].algo_orders;
        let found = if let Some(id) = p.get("algoId") {
            let id: i64 = id.parse().map_err(|_| ApiError::invalid("algoId"))?;
            orders.iter().position(|o| o.algo_id == id)
        } else if let Some(cid) = p.get("clientAlgoId") {
            orders.iter().rposition(|o| o.client_algo_id == cid)
        } else {
            return Err(ApiError::bad(
                -1102,
                "Param 'clientAlgoId' or 'algoId' must be sent, but both were empty/null!",
            ));
        };
        found.ok_or_else(ApiError::no_such_order)
    }

    /// `GET /fapi/v1/algoOrder`.
    ///
    /// # Errors
    /// -2013 when there is no such order.
    pub fn query_algo(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let i = self.find_algo(acct, p)?;
        Ok(algo_json(&self.accounts[acct].algo_orders[i]))
    }

    /// `DELETE /fapi/v1/algoOrder`.
    ///
    /// # Errors
    /// -2011 when it is not open.
    pub fn cancel_algo(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let i = self
            .find_algo(acct, p)
            .map_err(|_| ApiError::bad(-2011, "Unknown order sent."))?;
        let o = &mut self.accounts[acct].algo_orders[i];
        if o.status != "NEW" {
            return Err(ApiError::bad(-2011, "Unknown order sent."));
        }
        o.status = "CANCELED";
        o.update_time = now;
        let order = o.clone();
        self.emit_algo(acct, &order, now);
        Ok(
            json!({"algoId": order.algo_id, "clientAlgoId": order.client_algo_id, "code": "200", "msg": "success"}),
        )
    }

    pub(super) fn trigger_algos(&mut self, acct: usize, from: i64, now: i64) {
        let open: Vec<usize> = self.accounts[acct]
            .algo_orders
            .iter()
            .enumerate()
            .filter(|(_, o)| o.status == "NEW")
            .map(|(i, _)| i)
            .collect();
        for i in open {
            let o = self.accounts[acct].algo_orders[i].clone();
            let fired_at = if o.order_type == "TRAILING_STOP_MARKET" {
                let (extreme, fired) = self.trail(&o, from, now);
                self.accounts[acct].algo_orders[i].extreme = extreme;
                fired
            } else {
                let range = if o.working_type == "MARK_PRICE" {
                    self.market.mark_price_range(&o.symbol, from, now)
                } else {
                    self.market.price_range(&o.symbol, from, now)
                };
                let Some((low, high)) = range else { continue };
                let fires = match (o.order_type.as_str(), o.side) {
                    ("STOP_MARKET" | "STOP", Side::Sell)
                    | ("TAKE_PROFIT_MARKET" | "TAKE_PROFIT", Side::Buy) => low <= o.trigger_price,
                    _ => high >= o.trigger_price,
                };
                fires.then_some(o.trigger_price)
            };
            let Some(at) = fired_at else { continue };
            let position = self.accounts[acct]
                .positions
                .get(&(o.symbol.clone(), o.position_side))
                .cloned()
                .unwrap_or_default();
            let reduces = !position.amount.is_zero()
                && position.amount.is_sign_positive() != (o.side == Side::Buy);
            // In hedge mode an order that closes its side is reduce-only by nature.
            let hedge_close = o.position_side.closed_by(o.side);
            let qty = if o.close_position || o.reduce_only || hedge_close {
                if reduces {
                    if o.close_position {
                        position.amount.abs()
                    } else {
                        o.quantity.min(position.amount.abs())
                    }
                } else {
                    Decimal::ZERO
                }
            } else {
                o.quantity
            };
            let a = &mut self.accounts[acct].algo_orders[i];
            a.trigger_time = now;
            a.update_time = now;
            if qty.is_zero() {
                // Nothing left to close: Binance expires such an order when it triggers.
                a.status = "EXPIRED";
                let expired = a.clone();
                self.emit_algo(acct, &expired, now);
                continue;
            }
            // The algo service's part ends when it hands the order to the matching engine.
            a.status = "FINISHED";
            let order_id = self.id();
            self.accounts[acct].algo_orders[i].actual_order_id = Some(order_id);
            let finished = self.accounts[acct].algo_orders[i].clone();
            self.emit_algo(acct, &finished, now);
            let limit = o.order_type == "STOP" || o.order_type == "TAKE_PROFIT";
            let mut triggered = SimOrder {
                order_id,
                client_order_id: format!("{}-t", o.client_algo_id).chars().take(36).collect(),
                symbol: o.symbol.clone(),
                side: o.side,
                position_side: o.position_side,
                order_type: if limit { "LIMIT" } else { "MARKET" }.into(),
                time_in_force: o.time_in_force.clone(),
                price: if limit { o.price } else { Decimal::ZERO },
                orig_qty: qty,
                executed_qty: Decimal::ZERO,
                cum_quote: Decimal::ZERO,
                reduce_only: o.reduce_only || o.close_position,
                status: "NEW",
                time: now,
                update_time: now,
            };
            // The price was at `at` when the order triggered. A market order fills there (the
            // replay path is continuous, so that is where it crossed); a limit order fills
            // there too when its limit allows, else it rests on the book like any LIMIT.
            let marketable = !limit
                || match o.side {
                    Side::Buy => o.price >= at,
                    Side::Sell => o.price <= at,
                };
            if marketable && o.time_in_force != "GTX" {
                let taken = self.taker_price(&o.symbol, o.side, at, qty);
                let fill_price = match (limit, o.side) {
                    (false, _) => taken,
                    (true, Side::Buy) => taken.min(o.price),
                    (true, Side::Sell) => taken.max(o.price),
                };
                let exec = self.fill(
                    acct,
                    Fill {
                        order_id,
                        symbol: &o.symbol,
                        side: o.side,
                        position_side: o.position_side,
                        qty,
                        price: fill_price,
                        maker: false,
                    },
                    now,
                );
                triggered.executed_qty = qty;
                triggered.cum_quote = (qty * fill_price).round_dp(8);
                triggered.status = "FILLED";
                self.emit_order(acct, &triggered, "TRADE", Some(&exec), now);
                self.accounts[acct].orders.push(triggered);
            } else if marketable || o.time_in_force == "IOC" || o.time_in_force == "FOK" {
                // A post-only order that would take, or an IOC/FOK that cannot fill now.
                triggered.status = "EXPIRED";
                self.emit_order(acct, &triggered, "EXPIRED", None, now);
                self.accounts[acct].orders.push(triggered);
            } else {
                self.emit_order(acct, &triggered, "NEW", None, now);
                let a = &mut self.accounts[acct];
                a.orders.push(triggered);
                a.open.push(a.orders.len() - 1);
            }
        }
    }

    /// Walks a TRAILING_STOP_MARKET along the price path of `(from, now]`: the best price
    /// since placement follows the path, the trail is active once that best price has reached
    /// `activate_price` (at once without one), and it fires when the price comes back by
    /// `callback_rate` percent from the best. Returns the new best price and, when it fired,
    /// the price it fired at.
    ///
    /// The path is monotone inside each quarter of a candle (see `market::replay`), and every
    /// data interval's quarters are whole multiples of 15 s, so walking 15-second windows
    /// aligned to the clock sees the moves in their true order.
    fn trail(&self, o: &AlgoOrder, from: i64, now: i64) -> (Option<Decimal>, Option<Decimal>) {
        const WINDOW_MS: i64 = 15_000;
        let price_at = |t: i64| {
            if o.working_type == "MARK_PRICE" {
                self.market.mark_price(&o.symbol, t)
            } else {
                self.market.last_price(&o.symbol, t)
            }
        };
        let Some(rate) = o.callback_rate else {
            return (o.extreme, None);
        };
        let back = rate / Decimal::ONE_HUNDRED;
        let tick = self
            .market
            .spec(&o.symbol)
            .map_or(Decimal::ZERO, |s| s.tick_size);
        let on_tick = |v: Decimal| {
            if tick.is_zero() {
                v
            } else {
                (v / tick).round() * tick
            }
        };
        let mut best = o.extreme;
        let mut a = from;
        while a < now {
            let b = ((a.div_euclid(WINDOW_MS) + 1) * WINDOW_MS).min(now);
            let (Some(pa), Some(pb)) = (price_at(a), price_at(b)) else {
                a = b;
                continue;
            };
            a = b;
            match o.side {
                Side::Sell => {
                    if pb >= pa {
                        best = Some(best.map_or(pb, |e| e.max(pb)));
                        continue;
                    }
                    let top = best.map_or(pa, |e| e.max(pa));
                    best = Some(top);
                    let active = o.activate_price.is_none_or(|ap| top >= ap);
                    let stop = on_tick(top * (Decimal::ONE - back));
                    if active && pb <= stop {
                        return (best, Some(stop.min(pa).max(pb)));
                    }
                }
                Side::Buy => {
                    if pb <= pa {
                        best = Some(best.map_or(pb, |e| e.min(pb)));
                        continue;
                    }
                    let bottom = best.map_or(pa, |e| e.min(pa));
                    best = Some(bottom);
                    let active = o.activate_price.is_none_or(|ap| bottom <= ap);
                    let stop = on_tick(bottom * (Decimal::ONE + back));
                    if active && pb >= stop {
                        return (best, Some(stop.max(pa).min(pb)));
                    }
                }
            }
        }
        (best, None)
    }
}

/// The type of the order an algo order placed in the matching engine, once it has.
pub(super) fn actual_type(o: &AlgoOrder) -> Option<&'static str> {
    o.actual_order_id.map(|_| match o.order_type.as_str() {
        "STOP" | "TAKE_PROFIT" => "LIMIT",
        _ => "MARKET",
    })
}

fn algo_json(o: &AlgoOrder) -> Value {
    json!({
        "algoId": o.algo_id, "clientAlgoId": o.client_algo_id, "algoType": "CONDITIONAL", "orderType": o.order_type,
        "symbol": o.symbol, "side": o.side.as_str(), "positionSide": o.position_side.as_str(), "timeInForce": o.time_in_force,
        "quantity": dec(o.quantity), "algoStatus": o.status, "triggerPrice": dec(o.trigger_price), "price": dec(o.price),
        "icebergQuantity": null, "selfTradePreventionMode": "EXPIRE_MAKER", "workingType": o.working_type,
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
