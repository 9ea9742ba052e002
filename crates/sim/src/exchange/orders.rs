//! The order endpoints: place, query, cancel, modify (single and batch), amendments, and the
//! history queries (`userTrades`, `allOrders`).

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::book::Fill;
use super::state::{Amendment, PositionSide, Side, SimOrder, Trade};
use super::{Exchange, dec};
use crate::error::ApiError;
use crate::market::SymbolSpec;
use crate::params::Params;

impl Exchange {
    /// `POST /fapi/v1/order`.
    ///
    /// # Errors
    /// Binance's codes for every refused case; nothing changes when refused.
    pub fn new_order(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let symbol = p.req("symbol")?;
        let spec = self.spec(symbol)?.clone();
        let side =
            Side::parse(p.req("side")?).ok_or_else(|| ApiError::bad(-1117, "Invalid side."))?;
        let order_type = p.req("type")?;
        match order_type {
            "MARKET" | "LIMIT" => {}
            "STOP"
            | "STOP_MARKET"
            | "TAKE_PROFIT"
            | "TAKE_PROFIT_MARKET"
            | "TRAILING_STOP_MARKET" => {
                return Err(ApiError::bad(
                    -4120,
                    "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
                ));
            }
            _ => return Err(ApiError::bad(-1116, "Invalid orderType.")),
        }
        let dual = self.accounts[acct].dual_side;
        let position_side = order_position_side(dual, p)?;
        // In hedge mode SELL LONG and BUY SHORT close: they act as reduce-only orders.
        let hedge_close = dual && position_side.closed_by(side);
        let qty = p
            .decimal("quantity")?
            .ok_or_else(|| ApiError::mandatory("quantity"))?;
        let reduce_only = p.bool("reduceOnly")?.unwrap_or(false);
        let client_id = match p.get("newClientOrderId") {
            Some(id) => valid_client_id(id)?,
            None => format!("sim{}", self.next_id + 1),
        };
        let a = &self.accounts[acct];
        if a.open
            .iter()
            .any(|&i| a.orders[i].client_order_id == client_id)
        {
            return Err(ApiError::bad(-4015, "Client order id is not valid."));
        }
        let last = self.last(symbol, now)?;
        let (qty_step, min_qty, max_qty) = if order_type == "MARKET" {
            (
                spec.market_step_size,
                spec.market_min_qty,
                spec.market_max_qty,
            )
        } else {
            (spec.step_size, spec.min_qty, spec.max_qty)
        };
        if qty.normalize().scale() > spec.quantity_precision {
            return Err(ApiError::bad(
                -1111,
                "Precision is over the maximum defined for this asset.",
            ));
        }
        if !((qty - min_qty) / qty_step).fract().is_zero() {
            return Err(ApiError::bad(-4023, "Quantity not increased by step size."));
        }
        if qty < min_qty {
            return Err(ApiError::bad(-4004, "Quantity less than min quantity."));
        }
        if qty > max_qty {
            return Err(ApiError::bad(-4005, "Quantity greater than max quantity."));
        }
        let (price, tif) = if order_type == "LIMIT" {
            let price = p
                .decimal("price")?
                .ok_or_else(|| ApiError::mandatory("price"))?;
            let tif = p.req("timeInForce")?;
            if !["GTC", "IOC", "FOK", "GTX"].contains(&tif) {
                return Err(ApiError::bad(-1115, "Invalid timeInForce."));
            }
            check_price(&spec, price)?;
            let mark = self.market.mark_price(symbol, now).unwrap_or(last);
            if side == Side::Buy && price > mark * spec.multiplier_up {
                return Err(ApiError::bad(
                    -4016,
                    "Limit price can't be higher than the mark price multiplied by the cap.",
                ));
            }
            if side == Side::Sell && price < mark * spec.multiplier_down {
                return Err(ApiError::bad(
                    -4024,
                    "Limit price can't be lower than the mark price multiplied by the floor.",
                ));
            }
            (price, tif.to_owned())
        } else {
            (last, "GTC".to_owned())
        };
        // MARKET orders are measured at the mark price (filter semantics in the contract).
        let notional_price = if order_type == "MARKET" {
            self.market.mark_price(symbol, now).unwrap_or(last)
        } else {
            price
        };
        if qty * notional_price < spec.min_notional && !reduce_only && !hedge_close {
            return Err(ApiError::bad(
                -4164,
                format!(
                    "Order's notional must be no smaller than {} (unless you choose reduce only).",
                    dec(spec.min_notional)
                ),
            ));
        }
        let position = a
            .positions
            .get(&(symbol.to_owned(), position_side))
            .cloned()
            .unwrap_or_default();
        if hedge_close {
            // What the position still has to close after the closing orders already resting.
            let pending: Decimal = a
                .open
                .iter()
                .map(|&i| &a.orders[i])
                .filter(|o| {
                    o.symbol == symbol && o.position_side == position_side && o.side == side
                })
                .map(|o| o.orig_qty - o.executed_qty)
                .sum();
            if position.amount.is_zero() || qty > position.amount.abs() - pending {
                return Err(ApiError::bad(-2022, "ReduceOnly Order is rejected."));
            }
        } else if reduce_only {
            let reduces = !position.amount.is_zero()
                && position.amount.is_sign_positive() != (side == Side::Buy);
            if !reduces || qty > position.amount.abs() {
                return Err(ApiError::bad(-2022, "ReduceOnly Order is rejected."));
            }
        } else {
            let lev = Decimal::from(a.settings.get(symbol).copied().unwrap_or_default().leverage);
            let reducing = if position.amount.is_sign_positive() != (side == Side::Buy) {
                qty.min(position.amount.abs())
            } else {
                Decimal::ZERO
            };
            let needed =
                ((qty - reducing) * price) / lev + (qty - reducing) * price * self.fees.taker;
            if needed > self.available(a, now) {
                return Err(ApiError::margin());
            }
        }
        let marketable = order_type == "MARKET"
            || (side == Side::Buy && price >= last)
            || (side == Side::Sell && price <= last);
        if tif == "GTX" && marketable {
            return Err(ApiError::bad(
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be rejected.",
            ));
        }
        let order_id = self.id();
        let mut order = SimOrder {
            order_id,
            client_order_id: client_id,
            symbol: symbol.to_owned(),
            side,
            position_side,
            order_type: order_type.to_owned(),
            time_in_force: tif.clone(),
            price: if order_type == "MARKET" {
                Decimal::ZERO
            } else {
                price
            },
            orig_qty: qty,
            executed_qty: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            reduce_only,
            status: "NEW",
            time: now,
            update_time: now,
        };
        if marketable {
            // A marketable order takes at the replayed price (a limit order never worse than its limit).
            let taken = self.taker_price(symbol, side, last, qty);
            let fill_price = if order_type == "MARKET" {
                taken
            } else if side == Side::Buy {
                taken.min(price)
            } else {
                taken.max(price)
            };
            let exec = self.fill(
                acct,
                Fill {
                    order_id,
                    symbol,
                    side,
                    position_side,
                    qty,
                    price: fill_price,
                    maker: false,
                },
                now,
            );
            order.executed_qty = qty;
            order.cum_quote = (qty * fill_price).round_dp(8);
            order.status = "FILLED";
            self.emit_order(acct, &order, "TRADE", Some(&exec), now);
        } else if tif == "IOC" || tif == "FOK" {
            order.status = "EXPIRED";
            self.emit_order(acct, &order, "EXPIRED", None, now);
        } else {
            self.emit_order(acct, &order, "NEW", None, now);
        }
        let reply = order_json(
            &order,
            p.get("newOrderRespType") == Some("RESULT") || order_type == "MARKET",
        );
        let resting = order.status == "NEW";
        let a = &mut self.accounts[acct];
        a.orders.push(order);
        if resting {
            a.open.push(a.orders.len() - 1);
        }
        Ok(reply)
    }

    /// Finds an order by `orderId` or `origClientOrderId`.
    fn find_order(&self, acct: usize, p: &Params) -> Result<usize, ApiError> {
        let symbol = p.req("symbol")?;
        let orders = &self.accounts[acct].orders;
        let found = if let Some(id) = p.get("orderId") {
            let id: i64 = id.parse().map_err(|_| ApiError::invalid("orderId"))?;
            // Ids grow with every order, so the history is sorted by id.
            orders
                .binary_search_by_key(&id, |o| o.order_id)
                .ok()
                .filter(|&i| orders[i].symbol == symbol)
        } else if let Some(cid) = p.get("origClientOrderId") {
            orders
                .iter()
                .rposition(|o| o.client_order_id == cid && o.symbol == symbol)
        } else {
            return Err(ApiError::bad(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            ));
        };
        found.ok_or_else(ApiError::no_such_order)
    }

    /// `GET /fapi/v1/order`.
    ///
    /// # Errors
    /// -2013 when there is no such order.
    pub fn query_order(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let i = self.find_order(acct, p)?;
        Ok(order_json(&self.accounts[acct].orders[i], true))
    }

    /// `DELETE /fapi/v1/order`.
    ///
    /// # Errors
    /// -2011 when the order is not open.
    pub fn cancel_order(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let i = self
            .find_order(acct, p)
            .map_err(|_| ApiError::bad(-2011, "Unknown order sent."))?;
        let o = &mut self.accounts[acct].orders[i];
        if o.status != "NEW" && o.status != "PARTIALLY_FILLED" {
            return Err(ApiError::bad(-2011, "Unknown order sent."));
        }
        o.status = "CANCELED";
        o.update_time = now;
        let reply = order_json(o, true);
        let order = o.clone();
        self.accounts[acct].open.retain(|&j| j != i);
        self.emit_order(acct, &order, "CANCELED", None, now);
        Ok(reply)
    }

    /// `GET /fapi/v1/openOrders`.
    pub fn open_orders(&mut self, acct: usize, symbol: Option<&str>, now: i64) -> Value {
        self.advance(now);
        let a = &self.accounts[acct];
        Value::Array(
            a.open
                .iter()
                .map(|&i| &a.orders[i])
                .filter(|o| symbol.is_none_or(|s| s == o.symbol))
                .map(|o| order_json(o, true))
                .collect(),
        )
    }

    /// `POST /fapi/v1/batchOrders`: at most 5 orders, each placed as `POST /fapi/v1/order`
    /// would; the reply keeps the input order, with `{code, msg}` for each refused one.
    ///
    /// # Errors
    /// -1102 without `batchOrders`, -1130 when it is not a JSON array of objects, -4082 for
    /// more than 5 (nothing is placed then).
    pub fn batch_orders(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        let items = batch_items(p)?;
        Ok(Value::Array(
            items
                .iter()
                .map(|one| {
                    self.new_order(acct, one, now)
                        .unwrap_or_else(|e| error_json(&e))
                })
                .collect(),
        ))
    }

    /// `DELETE /fapi/v1/allOpenOrders`.
    pub fn cancel_all(&mut self, acct: usize, symbol: &str, now: i64) -> Value {
        self.advance(now);
        let a = &mut self.accounts[acct];
        let (cancel, keep): (Vec<usize>, Vec<usize>) =
            a.open.iter().partition(|&&i| a.orders[i].symbol == symbol);
        a.open = keep;
        for i in cancel {
            let o = &mut self.accounts[acct].orders[i];
            o.status = "CANCELED";
            o.update_time = now;
            let order = o.clone();
            self.emit_order(acct, &order, "CANCELED", None, now);
        }
        json!({"code": 200, "msg": "The operation of cancel all open order is done."})
    }
}

/// How far back `userTrades` and `allOrders` look by default, and the widest window they
/// accept (7 days).
const HISTORY_WINDOW_MS: i64 = 7 * 24 * 3_600_000;

/// An optional integer parameter.
fn int_param(p: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    p.get(name)
        .map(|v| v.parse().map_err(|_| ApiError::invalid(name)))
        .transpose()
}

/// `limit` with Binance's default and maximum (values above the maximum are capped).
fn limit_param(p: &Params, default: usize, max: usize) -> Result<usize, ApiError> {
    match p.get("limit") {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map(|l| l.clamp(1, max))
            .map_err(|_| ApiError::invalid("limit")),
    }
}

/// The inclusive time window of a history query: the last 7 days without times, 7 days
/// from `startTime` or up to `endTime` with one of them, and at most 7 days with both.
///
/// # Errors
/// -1023 when `startTime` is after `endTime`, -1127 when they are more than 7 days apart.
fn history_window(p: &Params, now: i64) -> Result<(i64, i64), ApiError> {
    let start = int_param(p, "startTime")?;
    let end = int_param(p, "endTime")?;
    match (start, end) {
        (None, None) => Ok((now - HISTORY_WINDOW_MS, now)),
        (Some(s), None) => Ok((s, s.saturating_add(HISTORY_WINDOW_MS).min(now))),
        (None, Some(e)) => Ok((e - HISTORY_WINDOW_MS, e)),
        (Some(s), Some(e)) if s > e => {
            Err(ApiError::bad(-1023, "Start time is greater than end time."))
        }
        (Some(s), Some(e)) if e - s > HISTORY_WINDOW_MS => Err(ApiError::bad(
            -1127,
            "More than 168 hours between startTime and endTime.",
        )),
        (Some(s), Some(e)) => Ok((s, e)),
    }
}

/// The items of a `batchOrders` parameter (a JSON array of objects, at most 5), each as the
/// parameters of one single-order request.
///
/// # Errors
/// -1102 without `batchOrders`, -1130 when it is not a JSON array of objects, -4082 for
/// none or more than 5.
fn batch_items(p: &Params) -> Result<Vec<Params>, ApiError> {
    let raw = p.req("batchOrders")?;
    let items: Vec<serde_json::Map<String, Value>> =
        serde_json::from_str(raw).map_err(|_| ApiError::invalid("batchOrders"))?;
    if items.is_empty() || items.len() > 5 {
        return Err(ApiError::bad(
            -4082,
            "Invalid number of batch place orders.",
        ));
    }
    Ok(items
        .into_iter()
        .map(|item| {
            let mut one = Params::default();
            for (k, v) in item {
                // Batch values are strings; numbers and booleans are accepted as Binance does.
                let v = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                one.0.insert(k, v);
            }
            one
        })
        .collect())
}

fn error_json(e: &ApiError) -> Value {
    json!({"code": e.code, "msg": e.msg})
}

impl Exchange {
    /// `PUT /fapi/v1/order`: changes the price and quantity of an open LIMIT order (or its
    /// price by `priceMatch`). Filters, percent price, reduce-only and margin are checked as
    /// for a new order; a refused change leaves the order as it was. The order is cancelled
    /// when the new quantity is not above what it has filled, or when it is post-only (GTX)
    /// and the new price would take. A change that makes the price marketable fills at once
    /// as a taker, like a new order would.
    ///
    /// # Errors
    /// -2013 unknown or no longer open, -5025 not a LIMIT order, -5027 nothing changes,
    /// -5026 after 10,000 changes, -1128 `price` with `priceMatch`, -5037 an unknown
    /// `priceMatch`, and the filter, reduce-only (-2022) and margin (-2019) codes.
    pub fn modify_order(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let symbol = p.req("symbol")?;
        let spec = self.spec(symbol)?.clone();
        let side =
            Side::parse(p.req("side")?).ok_or_else(|| ApiError::bad(-1117, "Invalid side."))?;
        let qty = p
            .decimal("quantity")?
            .ok_or_else(|| ApiError::mandatory("quantity"))?;
        let sent_price = p.decimal("price")?;
        let price_match = p.get("priceMatch").filter(|m| *m != "NONE");
        let modify_id = int_param(p, "modifyId")?.unwrap_or(0);
        let i = self.find_order(acct, p)?;
        let o = self.accounts[acct].orders[i].clone();
        if o.status != "NEW" && o.status != "PARTIALLY_FILLED" {
            // Filled, cancelled and expired orders are not in the book any more.
            return Err(ApiError::no_such_order());
        }
        if o.order_type != "LIMIT" {
            return Err(ApiError::bad(-5025, "Only limit order is supported."));
        }
        if o.side != side {
            return Err(ApiError::invalid("side"));
        }
        let price = match (sent_price, price_match) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad(
                    -1128,
                    "Combination of optional parameters invalid.",
                ));
            }
            (Some(price), None) => price,
            (None, Some(mode)) => self.match_price(symbol, side, mode, now)?,
            (None, None) => return Err(ApiError::mandatory("price")),
        };
        if qty.normalize().scale() > spec.quantity_precision {
            return Err(ApiError::bad(
                -1111,
                "Precision is over the maximum defined for this asset.",
            ));
        }
        if !((qty - spec.min_qty) / spec.step_size).fract().is_zero() {
            return Err(ApiError::bad(-4023, "Quantity not increased by step size."));
        }
        if qty < spec.min_qty {
            return Err(ApiError::bad(-4004, "Quantity less than min quantity."));
        }
        if qty > spec.max_qty {
            return Err(ApiError::bad(-4005, "Quantity greater than max quantity."));
        }
        check_price(&spec, price)?;
        let last = self.last(symbol, now)?;
        let mark = self.market.mark_price(symbol, now).unwrap_or(last);
        if side == Side::Buy && price > mark * spec.multiplier_up {
            return Err(ApiError::bad(
                -4016,
                "Limit price can't be higher than the mark price multiplied by the cap.",
            ));
        }
        if side == Side::Sell && price < mark * spec.multiplier_down {
            return Err(ApiError::bad(
                -4024,
                "Limit price can't be lower than the mark price multiplied by the floor.",
            ));
        }
        if price == o.price && qty == o.orig_qty {
            return Err(ApiError::bad(-5027, "No need to modify the order."));
        }
        let a = &self.accounts[acct];
        let count = a
            .amendments
            .iter()
            .filter(|m| m.order_id == o.order_id)
            .count();
        if count >= 10_000 {
            return Err(ApiError::bad(-5026, "Exceed maximum modify order limit."));
        }
        let hedge_close = o.position_side.closed_by(side);
        let remaining = qty - o.executed_qty;
        let position = a
            .positions
            .get(&(symbol.to_owned(), o.position_side))
            .cloned()
            .unwrap_or_default();
        if remaining > Decimal::ZERO {
            if o.reduce_only || hedge_close {
                // What the other closing orders already claim of the position.
                let others: Decimal = a
                    .open
                    .iter()
                    .filter(|&&j| j != i)
                    .map(|&j| &a.orders[j])
                    .filter(|x| {
                        x.symbol == symbol && x.position_side == o.position_side && x.side == side
                    })
                    .map(|x| x.orig_qty - x.executed_qty)
                    .sum();
                let reduces = !position.amount.is_zero()
                    && position.amount.is_sign_positive() != (side == Side::Buy);
                let room = if hedge_close {
                    position.amount.abs() - others
                } else {
                    position.amount.abs()
                };
                if !reduces || remaining > room {
                    return Err(ApiError::bad(-2022, "ReduceOnly Order is rejected."));
                }
            } else {
                if qty * price < spec.min_notional {
                    return Err(ApiError::bad(
                        -4164,
                        format!(
                            "Order's notional must be no smaller than {} (unless you choose reduce only).",
                            dec(spec.min_notional)
                        ),
                    ));
                }
                let lev =
                    Decimal::from(a.settings.get(symbol).copied().unwrap_or_default().leverage);
                let held = ((o.orig_qty - o.executed_qty) * o.price) / lev;
                let needed = (remaining * price) / lev + remaining * price * self.fees.taker;
                if needed - held > self.available(a, now) {
                    return Err(ApiError::margin());
                }
            }
        }
        let marketable = match side {
            Side::Buy => price >= last,
            Side::Sell => price <= last,
        };
        let amendment_id = self.id();
        let a = &mut self.accounts[acct];
        a.amendments.push(Amendment {
            amendment_id,
            order_id: o.order_id,
            client_order_id: o.client_order_id.clone(),
            symbol: symbol.to_owned(),
            time: now,
            price_before: o.price,
            price_after: price,
            qty_before: o.orig_qty,
            qty_after: qty,
            count: u32::try_from(count + 1).unwrap_or(u32::MAX),
            modify_id,
        });
        let order = &mut a.orders[i];
        order.update_time = now;
        if remaining <= Decimal::ZERO || (o.time_in_force == "GTX" && marketable) {
            order.status = "CANCELED";
            let cancelled = order.clone();
            a.open.retain(|&j| j != i);
            self.emit_order(acct, &cancelled, "CANCELED", None, now);
        } else {
            order.price = price;
            order.orig_qty = qty;
            let amended = order.clone();
            self.emit_order(acct, &amended, "AMENDMENT", None, now);
            if marketable {
                let taken = self.taker_price(symbol, side, last, remaining);
                let fill_price = match side {
                    Side::Buy => taken.min(price),
                    Side::Sell => taken.max(price),
                };
                let exec = self.fill(
                    acct,
                    Fill {
                        order_id: o.order_id,
                        symbol,
                        side,
                        position_side: o.position_side,
                        qty: remaining,
                        price: fill_price,
                        maker: false,
                    },
                    now,
                );
                let a = &mut self.accounts[acct];
                let order = &mut a.orders[i];
                order.executed_qty = qty;
                order.cum_quote += (remaining * fill_price).round_dp(8);
                order.status = "FILLED";
                let filled = order.clone();
                a.open.retain(|&j| j != i);
                self.emit_order(acct, &filled, "TRADE", Some(&exec), now);
            }
        }
        let mut reply = order_json(&self.accounts[acct].orders[i], true);
        reply["pair"] = json!(symbol);
        reply["modifyId"] = json!(modify_id);
        Ok(reply)
    }

    /// The price `priceMatch` names on the book: OPPONENT(_5/_10/_20) is the best (5th, 10th,
    /// 20th) price on the other side, QUEUE(_5/_10/_20) the same on the order's own side.
    ///
    /// # Errors
    /// -5037 for another value.
    fn match_price(
        &self,
        symbol: &str,
        side: Side,
        mode: &str,
        now: i64,
    ) -> Result<Decimal, ApiError> {
        let (opponent, level) = match mode {
            "OPPONENT" => (true, 0),
            "OPPONENT_5" => (true, 4),
            "OPPONENT_10" => (true, 9),
            "OPPONENT_20" => (true, 19),
            "QUEUE" => (false, 0),
            "QUEUE_5" => (false, 4),
            "QUEUE_10" => (false, 9),
            "QUEUE_20" => (false, 19),
            _ => return Err(ApiError::bad(-5037, "Invalid price match")),
        };
        let (bids, asks) = self.market.depth(symbol, now, level + 1);
        let book = if opponent == (side == Side::Buy) {
            asks
        } else {
            bids
        };
        book.get(level)
            .map(|(price, _)| *price)
            .ok_or_else(|| ApiError::bad(-1112, "No orders on book for symbol."))
    }

    /// `PUT /fapi/v1/batchOrders`: up to 5 modifications, each as `PUT /fapi/v1/order` would
    /// do it; the reply keeps the input order, with `{code, msg}` for each refused one.
    ///
    /// # Errors
    /// -1102 without `batchOrders`, -1130 when it is not a JSON array of objects, -4082 for
    /// none or more than 5; nothing is changed then.
    pub fn batch_modify(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        let items = batch_items(p)?;
        Ok(Value::Array(
            items
                .iter()
                .map(|one| {
                    self.modify_order(acct, one, now)
                        .unwrap_or_else(|e| error_json(&e))
                })
                .collect(),
        ))
    }

    /// `GET /fapi/v1/orderAmendment`: the modifications of one order, oldest first, within
    /// `startTime`/`endTime` (inclusive), at most `limit` (default 50, at most 100).
    ///
    /// # Errors
    /// -2013 for an unknown order, -1130 for bad numbers.
    pub fn order_amendments(
        &mut self,
        acct: usize,
        p: &Params,
        now: i64,
    ) -> Result<Value, ApiError> {
        self.advance(now);
        let i = self.find_order(acct, p)?;
        let start = int_param(p, "startTime")?.unwrap_or(i64::MIN);
        let end = int_param(p, "endTime")?.unwrap_or(i64::MAX);
        let limit = limit_param(p, 50, 100)?;
        let a = &self.accounts[acct];
        let order_id = a.orders[i].order_id;
        Ok(Value::Array(
            a.amendments
                .iter()
                .filter(|m| m.order_id == order_id && (start..=end).contains(&m.time))
                .take(limit)
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
        ))
    }

    /// `DELETE /fapi/v1/batchOrders`: cancels up to 10 orders of `symbol` named by
    /// `orderIdList` (a JSON array of ids) or, without it, `origClientOrderIdList` (a JSON
    /// array of client ids). Parameter names match in any case (ccxt sends them in lower
    /// case). The reply keeps the input order: the cancelled order, or `{code, msg}`
    /// (-2011) for one that is unknown or no longer open.
    ///
    /// # Errors
    /// -1102 without either list, -1130 for a malformed list, -4032 for more than 10 ids;
    /// nothing is cancelled then.
    pub fn cancel_batch(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        let symbol = p.req("symbol")?;
        self.spec(symbol)?;
        let one = |key: &str, value: String| {
            let mut q = Params::default();
            q.0.insert("symbol".into(), symbol.to_owned());
            q.0.insert(key.into(), value);
            q
        };
        let items: Vec<Params> = if let Some(raw) = p.get_any_case("orderIdList") {
            let ids: Vec<Value> =
                serde_json::from_str(raw).map_err(|_| ApiError::invalid("orderIdList"))?;
            ids.iter()
                .map(|v| {
                    let id = match v {
                        Value::Number(n) => n.as_i64(),
                        Value::String(s) => s.parse().ok(),
                        _ => None,
                    };
                    id.map(|id| one("orderId", id.to_string()))
                        .ok_or_else(|| ApiError::invalid("orderIdList"))
                })
                .collect::<Result<_, _>>()?
        } else if let Some(raw) = p.get_any_case("origClientOrderIdList") {
            let ids: Vec<String> = serde_json::from_str(raw)
                .map_err(|_| ApiError::invalid("origClientOrderIdList"))?;
            ids.into_iter()
                .map(|id| one("origClientOrderId", id))
                .collect()
        } else {
            return Err(ApiError::bad(
                -1102,
                "Param 'orderIdList' or 'origClientOrderIdList' must be sent, but both were empty/null!",
            ));
        };
        if items.is_empty() {
            return Err(ApiError::invalid("orderIdList"));
        }
        if items.len() > 10 {
            return Err(ApiError::bad(-4032, "Exceed maximum cancel order size."));
        }
        Ok(Value::Array(
            items
                .iter()
                .map(|q| {
                    self.cancel_order(acct, q, now)
                        .unwrap_or_else(|e| error_json(&e))
                })
                .collect(),
        ))
    }

    /// `GET /fapi/v1/userTrades` for `symbol`, oldest first, at most `limit` (default 500, at
    /// most 1000). With `fromId`: the trades from that id on, whatever their time (it may not
    /// be sent with times). With `orderId`: that order's trades. Otherwise the last 7 days
    /// (or 7 days from `startTime` / up to `endTime`); from `startTime` the first `limit`
    /// trades, else the latest.
    ///
    /// # Errors
    /// -1121 unknown symbol, -1128 `fromId` with times, -1023/-1127 bad windows, -1130 bad
    /// numbers.
    pub fn user_trades(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let symbol = p.req("symbol")?;
        self.spec(symbol)?;
        let limit = limit_param(p, 500, 1000)?;
        let from_id = int_param(p, "fromId")?;
        let order_id = int_param(p, "orderId")?;
        let timed = p.get("startTime").is_some() || p.get("endTime").is_some();
        if from_id.is_some() && timed {
            return Err(ApiError::bad(
                -1128,
                "Combination of optional parameters invalid.",
            ));
        }
        let trades = self.accounts[acct]
            .trades
            .iter()
            .filter(|t| t.symbol == symbol && order_id.is_none_or(|o| t.order_id == o));
        let picked: Vec<&Trade> = if let Some(from) = from_id {
            trades.filter(|t| t.id >= from).take(limit).collect()
        } else if order_id.is_some() && !timed {
            trades.take(limit).collect()
        } else {
            let (start, end) = history_window(p, now)?;
            let inside: Vec<&Trade> = trades.filter(|t| (start..=end).contains(&t.time)).collect();
            latest_or_first(inside, limit, p.get("startTime").is_some())
        };
        Ok(Value::Array(picked.into_iter().map(trade_json).collect()))
    }

    /// `GET /fapi/v1/allOrders` (regular orders; `symbol` optional), oldest first, at most
    /// `limit` (default 500, at most 1000). With `orderId`: the orders from that id on,
    /// whatever their time. Otherwise the last 7 days of creation times (or 7 days from
    /// `startTime` / up to `endTime`); from `startTime` the first `limit` orders, else the
    /// latest.
    ///
    /// # Errors
    /// -1121 unknown symbol, -1023/-1127 bad windows, -1130 bad numbers.
    pub fn all_orders(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let symbol = p.get("symbol");
        if let Some(s) = symbol {
            self.spec(s)?;
        }
        let limit = limit_param(p, 500, 1000)?;
        let from_id = int_param(p, "orderId")?;
        let orders = self.accounts[acct]
            .orders
            .iter()
            .filter(|o| symbol.is_none_or(|s| s == o.symbol));
        let picked: Vec<&SimOrder> = if let Some(from) = from_id {
            orders.filter(|o| o.order_id >= from).take(limit).collect()
        } else {
            let (start, end) = history_window(p, now)?;
            let inside: Vec<&SimOrder> =
                orders.filter(|o| (start..=end).contains(&o.time)).collect();
            latest_or_first(inside, limit, p.get("startTime").is_some())
        };
        Ok(Value::Array(
            picked.into_iter().map(|o| order_json(o, true)).collect(),
        ))
    }
}

/// The first `limit` rows when the query starts at a time, else the latest `limit`.
fn latest_or_first<T>(mut rows: Vec<T>, limit: usize, from_start: bool) -> Vec<T> {
    if from_start {
        rows.truncate(limit);
    } else {
        let skip = rows.len().saturating_sub(limit);
        rows.drain(..skip);
    }
    rows
}

fn trade_json(t: &Trade) -> Value {
    json!({
        "buyer": t.side == Side::Buy, "commission": dec(t.commission), "commissionAsset": "USDT", "id": t.id,
        "maker": t.maker, "orderId": t.order_id, "price": dec(t.price), "qty": dec(t.qty),
        "quoteQty": dec((t.price * t.qty).round_dp(8)), "realizedPnl": dec(t.realized_pnl),
        "side": t.side.as_str(), "positionSide": t.position_side.as_str(), "symbol": t.symbol, "time": t.time,
    })
}

/// The `positionSide` of an order, checked against the account's mode: `BOTH` (or absent) in
/// one-way mode, `LONG`/`SHORT` in hedge mode (-4061 otherwise). `reduceOnly` is refused in
/// hedge mode (-1106): closing is said with the position side there.
pub(super) fn order_position_side(dual: bool, p: &Params) -> Result<PositionSide, ApiError> {
    let mismatch = || {
        ApiError::bad(
            -4061,
            "Order's position side does not match user's setting.",
        )
    };
    let side = match p.get("positionSide") {
        None => PositionSide::Both,
        Some(s) => PositionSide::parse(s).ok_or_else(mismatch)?,
    };
    if dual != (side != PositionSide::Both) {
        return Err(mismatch());
    }
    if dual && p.get("reduceOnly").is_some() {
        return Err(ApiError::bad(
            -1106,
            "Parameter 'reduceonly' sent when not required.",
        ));
    }
    Ok(side)
}

/// PRICE_FILTER: precision, tick, range (applies to prices and trigger prices alike).
pub(super) fn check_price(spec: &SymbolSpec, price: Decimal) -> Result<(), ApiError> {
    if price.normalize().scale() > spec.price_precision {
        return Err(ApiError::bad(
            -1111,
            "Precision is over the maximum defined for this asset.",
        ));
    }
    if !((price - spec.min_price) / spec.tick_size)
        .fract()
        .is_zero()
    {
        return Err(ApiError::bad(-4014, "Price not increased by tick size."));
    }
    if price < spec.min_price {
        return Err(ApiError::bad(-4013, "Price less than min price."));
    }
    if price > spec.max_price {
        return Err(ApiError::bad(-4002, "Price greater than max price."));
    }
    Ok(())
}

pub(super) fn valid_client_id(id: &str) -> Result<String, ApiError> {
    let ok = !id.is_empty()
        && id.len() <= 36
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".:/_-".contains(c));
    if ok {
        Ok(id.to_owned())
    } else {
        Err(ApiError::invalid("newClientOrderId"))
    }
}

fn order_json(o: &SimOrder, full: bool) -> Value {
    let avg = if o.executed_qty.is_zero() {
        Decimal::ZERO
    } else {
        (o.cum_quote / o.executed_qty).round_dp(8)
    };
    let mut v = json!({
        "orderId": o.order_id, "symbol": o.symbol, "status": o.status, "clientOrderId": o.client_order_id,
        "price": dec(o.price), "avgPrice": dec(avg), "origQty": dec(o.orig_qty), "executedQty": dec(o.executed_qty),
        "cumQty": dec(o.executed_qty), "cumQuote": dec(o.cum_quote), "timeInForce": o.time_in_force, "type": o.order_type,
        "reduceOnly": o.reduce_only, "closePosition": false, "side": o.side.as_str(), "positionSide": o.position_side.as_str(),
        "stopPrice": "0", "workingType": "CONTRACT_PRICE", "priceProtect": false, "origType": o.order_type,
        "priceMatch": "NONE", "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0, "updateTime": o.update_time,
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
