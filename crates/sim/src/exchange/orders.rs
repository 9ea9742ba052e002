//! The order endpoints: place, query, cancel, modify (single and batch), amendments, and the
//! history queries (`userTrades`, `allOrders`) with Binance's 7-day window.

use rust_decimal::Decimal;

use super::book::Fill;
use super::state::{Amendment, OrderType, PositionSide, Side, SimOrder, TimeInForce, Trade};
use super::{Exchange, locate};
use crate::error::ApiError;
use crate::market::SymbolSpec;
use crate::params::orders::position_side_mismatch;
use crate::params::{
    AllOrders, Amendments, BatchModify, BatchOrders, CancelBatch, ModifyOrder, ModifyPrice,
    NewOrder, OrderKind, OrderLookup, OrderRef, UserTrades,
};
use crate::replies::dec;

/// A new order that passed every check, not yet placed.
struct Vetted {
    /// The order as it would be placed (id 0, NEW).
    order: SimOrder,
    /// Whether it takes at once.
    marketable: bool,
    /// The last price it was judged at.
    last: Decimal,
}

/// Binance's limit on modifications of one order.
const MAX_MODIFICATIONS: usize = 10_000;

impl Exchange {
    /// `POST /fapi/v1/order`: the order as placed: filled at once (a taker), resting, or
    /// expired (IOC/FOK that cannot fill).
    ///
    /// # Errors
    /// Binance's codes for every refused case; nothing changes when refused.
    pub fn new_order(
        &mut self,
        acct: usize,
        req: &NewOrder,
        now: i64,
    ) -> Result<SimOrder, ApiError> {
        self.advance(now);
        let Vetted {
            mut order,
            marketable,
            last,
        } = self.vet_order(acct, req, now)?;
        let order_id = self.id();
        order.order_id = order_id;
        let (symbol, side, position_side, qty) = (
            order.symbol.clone(),
            order.side,
            order.position_side,
            order.orig_qty,
        );
        let limit = (order.order_type == OrderType::Limit).then_some(order.price);
        if marketable {
            // A marketable order takes at the replayed price (a limit order never worse than its limit).
            let fill = Fill {
                order_id,
                symbol: &symbol,
                side,
                position_side,
                qty,
                price: last,
            };
            let exec = self.take(acct, fill, limit, now);
            order.executed_qty = qty;
            order.cum_quote = (qty * exec.price).round_dp(8);
            order.status = "FILLED";
            self.emit_order(acct, &order, "TRADE", Some(&exec), now);
        } else if order.time_in_force.expires_unfilled() {
            order.status = "EXPIRED";
            self.emit_order(acct, &order, "EXPIRED", None, now);
        } else {
            self.emit_order(acct, &order, "NEW", None, now);
        }
        let a = &mut self.accounts[acct];
        a.orders.push(order.clone());
        if order.is_open() {
            a.open.push(a.orders.len() - 1);
        }
        Ok(order)
    }

    /// `POST /fapi/v1/order/test`: every check of [`Exchange::new_order`], nothing placed;
    /// the order as it would be placed, with order id 0.
    ///
    /// # Errors
    /// As [`Exchange::new_order`].
    pub fn test_order(
        &mut self,
        acct: usize,
        req: &NewOrder,
        now: i64,
    ) -> Result<SimOrder, ApiError> {
        self.advance(now);
        self.vet_order(acct, req, now).map(|v| v.order)
    }

    /// The checks of a new order against the account and the market, in Binance's order:
    /// the order it would be (id 0, NEW), whether it takes at once, and the last price.
    fn vet_order(&self, acct: usize, req: &NewOrder, now: i64) -> Result<Vetted, ApiError> {
        let symbol = req.symbol.as_str();
        let spec = self.spec(symbol)?.clone();
        let side = req.side;
        let dual = self.accounts[acct].dual_side;
        let position_side =
            order_position_side(dual, req.position_side, req.reduce_only.is_some())?;
        // In hedge mode SELL LONG and BUY SHORT close: they act as reduce-only orders.
        let hedge_close = dual && position_side.closed_by(side);
        let qty = req.quantity;
        let reduce_only = req.reduce_only.unwrap_or(false);
        let client_id = req
            .client_order_id
            .clone()
            .unwrap_or_else(|| format!("sim{}", self.next_id + 1));
        let a = &self.accounts[acct];
        if a.open_orders().any(|o| o.client_order_id == client_id) {
            return Err(duplicate_client_id());
        }
        // MAX_NUM_ORDERS: open orders per symbol and account (CONTRACT.md 4.1, filters).
        let max_open = usize::try_from(spec.max_num_orders).unwrap_or(usize::MAX);
        if a.open_orders().filter(|o| o.symbol == symbol).count() >= max_open {
            return Err(ApiError::bad(-2025, "Reach max open order limit."));
        }
        let last = self.last(symbol, now)?;
        let market = req.kind == OrderKind::Market;
        check_quantity(&spec, qty, market)?;
        let (price, tif) = match req.kind {
            OrderKind::Limit {
                price,
                time_in_force,
            } => {
                let price = match req.price_match {
                    Some(mode) => self.match_price(symbol, side, mode, now)?,
                    None => price,
                };
                check_price(&spec, price)?;
                check_percent_price(&spec, side, price, self.mark_or(symbol, now, last))?;
                (price, time_in_force)
            }
            OrderKind::Market => (last, TimeInForce::Gtc),
        };
        // MARKET orders are measured at the mark price (filter semantics in the contract).
        let notional_price = if market {
            self.mark_or(symbol, now, last)
        } else {
            price
        };
        if qty * notional_price < spec.min_notional && !reduce_only && !hedge_close {
            return Err(min_notional(&spec));
        }
        let position = a.position(symbol, position_side);
        if hedge_close {
            // What the position still has to close after the closing orders already resting.
            let pending = a.claimed(symbol, position_side, side, None);
            if position.amount.is_zero() || qty > position.amount.abs() - pending {
                return Err(reduce_only_rejected());
            }
        } else if reduce_only {
            if !position.reduced_by(side) || qty > position.amount.abs() {
                return Err(reduce_only_rejected());
            }
        } else {
            let reducing = if position.amount.is_sign_positive() != (side == Side::Buy) {
                qty.min(position.amount.abs())
            } else {
                Decimal::ZERO
            };
            if self.margin_for(a, symbol, qty - reducing, price) > self.available(a, now) {
                return Err(ApiError::margin());
            }
        }
        let marketable =
            market || (side == Side::Buy && price >= last) || (side == Side::Sell && price <= last);
        // Binance keeps whole seconds of `goodTillDate` and wants it more than 600 s ahead and
        // before 9999-12-31 (CONTRACT.md 4.3, -5040).
        let good_till_date = match req.good_till_date {
            Some(at) if tif == TimeInForce::Gtd => {
                if at <= now + 600_000 || at >= 253_402_300_799_000 {
                    return Err(ApiError::bad(
                        -5040,
                        "goodTillDate timestamp must be greater than current time plus 600 seconds and smaller than 253402300799000",
                    ));
                }
                at - at.rem_euclid(1000)
            }
            _ => 0,
        };
        if tif == TimeInForce::Gtx && marketable {
            return Err(ApiError::bad(
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be rejected.",
            ));
        }
        let order = SimOrder {
            order_id: 0,
            client_order_id: client_id,
            symbol: symbol.to_owned(),
            side,
            position_side,
            order_type: if market {
                OrderType::Market
            } else {
                OrderType::Limit
            },
            time_in_force: tif,
            price: if market { Decimal::ZERO } else { price },
            orig_qty: qty,
            executed_qty: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            reduce_only,
            status: "NEW",
            time: now,
            update_time: now,
            self_trade_prevention: req.self_trade_prevention,
            price_match: req.price_match,
            good_till_date,
        };
        Ok(Vetted {
            order,
            marketable,
            last,
        })
    }

    /// The index of the order `by` names on `symbol`.
    fn find_order(&self, acct: usize, symbol: &str, by: &OrderRef) -> Result<usize, ApiError> {
        locate(&self.accounts[acct].orders, by, Some(symbol)).ok_or_else(ApiError::no_such_order)
    }

    /// `GET /fapi/v1/order`.
    ///
    /// # Errors
    /// -2013 when there is no such order.
    pub fn query_order(
        &mut self,
        acct: usize,
        req: &OrderLookup,
        now: i64,
    ) -> Result<&SimOrder, ApiError> {
        self.advance(now);
        let i = self.find_order(acct, &req.symbol, &req.order)?;
        Ok(&self.accounts[acct].orders[i])
    }

    /// `DELETE /fapi/v1/order`: the cancelled order.
    ///
    /// # Errors
    /// -2011 when the order is unknown or not open.
    pub fn cancel_order(
        &mut self,
        acct: usize,
        req: &OrderLookup,
        now: i64,
    ) -> Result<SimOrder, ApiError> {
        self.advance(now);
        let i = self
            .find_order(acct, &req.symbol, &req.order)
            .ok()
            .filter(|&i| self.accounts[acct].orders[i].is_open())
            .ok_or_else(ApiError::unknown_order)?;
        Ok(self.close_order(acct, i, "CANCELED", now))
    }

    /// `GET /fapi/v1/openOrders`, oldest first.
    pub fn open_orders(&mut self, acct: usize, symbol: Option<&str>, now: i64) -> Vec<&SimOrder> {
        self.advance(now);
        self.accounts[acct]
            .open_orders()
            .filter(|o| symbol.is_none_or(|s| s == o.symbol))
            .collect()
    }

    /// `POST /fapi/v1/batchOrders`: each order placed as `POST /fapi/v1/order` would, in
    /// the input's order, with a refusal in the place of each refused one.
    pub fn batch_orders(
        &mut self,
        acct: usize,
        req: &BatchOrders,
        now: i64,
    ) -> Vec<Result<SimOrder, ApiError>> {
        req.0
            .iter()
            .map(|item| {
                item.as_ref()
                    .map_err(Clone::clone)
                    .and_then(|o| self.new_order(acct, o, now))
            })
            .collect()
    }

    /// `DELETE /fapi/v1/allOpenOrders`.
    ///
    /// # Errors
    /// -1121 for an unknown symbol.
    pub fn cancel_all(&mut self, acct: usize, symbol: &str, now: i64) -> Result<(), ApiError> {
        self.spec(symbol)?;
        self.advance(now);
        self.cancel_open_of(acct, symbol, now);
        Ok(())
    }

    /// Cancels every open order of `symbol` on the account (a cancel-all, or a countdown run out).
    pub(super) fn cancel_open_of(&mut self, acct: usize, symbol: &str, now: i64) {
        let a = &self.accounts[acct];
        let cancel: Vec<usize> = a
            .open
            .iter()
            .copied()
            .filter(|&i| a.orders[i].symbol == symbol)
            .collect();
        for i in cancel {
            self.close_order(acct, i, "CANCELED", now);
        }
    }

    /// `PUT /fapi/v1/order`: changes the price and quantity of an open LIMIT order (or its
    /// price by `priceMatch`). Filters, percent price, reduce-only and margin are checked as
    /// for a new order; a refused change leaves the order as it was. The order is cancelled
    /// when the new quantity is not above what it has filled, or when it is post-only (GTX)
    /// and the new price would take. A change that makes the price marketable fills at once
    /// as a taker, like a new order would. Returns the order after the change.
    ///
    /// # Errors
    /// -2013 unknown or no longer open, -5025 not a LIMIT order, -5027 nothing changes,
    /// -5026 after 10,000 changes, -1112 no book level for `priceMatch`, and the filter,
    /// reduce-only (-2022) and margin (-2019) codes.
    pub fn modify_order(
        &mut self,
        acct: usize,
        req: &ModifyOrder,
        now: i64,
    ) -> Result<SimOrder, ApiError> {
        self.advance(now);
        let symbol = req.symbol.as_str();
        let spec = self.spec(symbol)?.clone();
        let (side, qty) = (req.side, req.quantity);
        let i = self.find_order(acct, symbol, &req.order)?;
        let o = self.accounts[acct].orders[i].clone();
        if !o.is_open() {
            // Filled, cancelled and expired orders are not in the book any more.
            return Err(ApiError::no_such_order());
        }
        if o.order_type != OrderType::Limit {
            return Err(ApiError::bad(-5025, "Only limit order is supported."));
        }
        if o.side != side {
            return Err(ApiError::invalid("side"));
        }
        let price = match req.price {
            ModifyPrice::Price(price) => price,
            ModifyPrice::Match(mode) => self.match_price(symbol, side, mode, now)?,
        };
        check_quantity(&spec, qty, false)?;
        check_price(&spec, price)?;
        let last = self.last(symbol, now)?;
        check_percent_price(&spec, side, price, self.mark_or(symbol, now, last))?;
        if price == o.price && qty == o.orig_qty {
            return Err(ApiError::bad(-5027, "No need to modify the order."));
        }
        let a = &self.accounts[acct];
        let count = a
            .amendments
            .iter()
            .filter(|m| m.order_id == o.order_id)
            .count();
        if count >= MAX_MODIFICATIONS {
            return Err(ApiError::bad(-5026, "Exceed maximum modify order limit."));
        }
        let hedge_close = o.position_side.closed_by(side);
        let remaining = qty - o.executed_qty;
        let position = a.position(symbol, o.position_side);
        if remaining > Decimal::ZERO {
            if o.reduce_only || hedge_close {
                // What the other closing orders already claim of the position.
                let others = a.claimed(symbol, o.position_side, side, Some(i));
                let room = if hedge_close {
                    position.amount.abs() - others
                } else {
                    position.amount.abs()
                };
                if !position.reduced_by(side) || remaining > room {
                    return Err(reduce_only_rejected());
                }
            } else {
                if qty * price < spec.min_notional {
                    return Err(min_notional(&spec));
                }
                let held =
                    ((o.orig_qty - o.executed_qty) * o.price) / a.settings_of(symbol).leverage();
                let needed = self.margin_for(a, symbol, remaining, price);
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
            modify_id: req.modify_id,
        });
        let order = &mut a.orders[i];
        order.update_time = now;
        if remaining <= Decimal::ZERO || (o.time_in_force == TimeInForce::Gtx && marketable) {
            self.close_order(acct, i, "CANCELED", now);
        } else {
            order.price = price;
            order.orig_qty = qty;
            let amended = order.clone();
            self.emit_order(acct, &amended, "AMENDMENT", None, now);
            if marketable {
                let fill = Fill {
                    order_id: o.order_id,
                    symbol,
                    side,
                    position_side: o.position_side,
                    qty: remaining,
                    price: last,
                };
                let exec = self.take(acct, fill, Some(price), now);
                self.fill_open(acct, i, &exec, now);
            }
        }
        Ok(self.accounts[acct].orders[i].clone())
    }

    /// `PUT /fapi/v1/batchOrders`: each modification as `PUT /fapi/v1/order` would do it,
    /// in the input's order, with a refusal in the place of each refused one.
    pub fn batch_modify(
        &mut self,
        acct: usize,
        req: &BatchModify,
        now: i64,
    ) -> Vec<Result<SimOrder, ApiError>> {
        req.0
            .iter()
            .map(|item| {
                item.as_ref()
                    .map_err(Clone::clone)
                    .and_then(|m| self.modify_order(acct, m, now))
            })
            .collect()
    }

    /// `GET /fapi/v1/orderAmendment`: the modifications of one order, oldest first.
    ///
    /// # Errors
    /// -2013 for an unknown order.
    pub fn order_amendments(
        &mut self,
        acct: usize,
        req: &Amendments,
        now: i64,
    ) -> Result<Vec<&Amendment>, ApiError> {
        self.advance(now);
        let i = self.find_order(acct, &req.order.symbol, &req.order.order)?;
        let start = req.start.unwrap_or(i64::MIN);
        let end = req.end.unwrap_or(i64::MAX);
        let a = &self.accounts[acct];
        let order_id = a.orders[i].order_id;
        Ok(a.amendments
            .iter()
            .filter(|m| m.order_id == order_id && (start..=end).contains(&m.time))
            .take(req.limit)
            .collect())
    }

    /// `DELETE /fapi/v1/batchOrders`: each order cancelled as `DELETE /fapi/v1/order`
    /// would, in the input's order, with -2011 in the place of one that is unknown or no
    /// longer open.
    ///
    /// # Errors
    /// -1121 for an unknown symbol; nothing is cancelled then.
    pub fn cancel_batch(
        &mut self,
        acct: usize,
        req: &CancelBatch,
        now: i64,
    ) -> Result<Vec<Result<SimOrder, ApiError>>, ApiError> {
        self.spec(&req.symbol)?;
        Ok(req
            .orders
            .iter()
            .map(|order| {
                let one = OrderLookup {
                    symbol: req.symbol.clone(),
                    order: order.clone(),
                };
                self.cancel_order(acct, &one, now)
            })
            .collect())
    }

    /// `GET /fapi/v1/userTrades` for one symbol, oldest first, at most `limit`. With
    /// `fromId`: the trades from that id on, whatever their time. With `orderId`: that
    /// order's trades. Otherwise the last 7 days (or 7 days from `startTime` / up to
    /// `endTime`); from `startTime` the first `limit` trades, else the latest.
    ///
    /// # Errors
    /// -1121 unknown symbol, -1023/-1127 bad windows.
    pub fn user_trades(
        &mut self,
        acct: usize,
        req: &UserTrades,
        now: i64,
    ) -> Result<Vec<&Trade>, ApiError> {
        self.advance(now);
        self.spec(&req.symbol)?;
        let trades = self.accounts[acct]
            .trades
            .iter()
            .filter(|t| t.symbol == req.symbol && req.order_id.is_none_or(|o| t.order_id == o));
        Ok(if let Some(from) = req.from_id {
            trades.filter(|t| t.id >= from).take(req.limit).collect()
        } else if req.order_id.is_some() && !req.window.is_timed() {
            trades.take(req.limit).collect()
        } else {
            let (start, end) = req.window.at(now)?;
            let inside: Vec<&Trade> = trades.filter(|t| (start..=end).contains(&t.time)).collect();
            latest_or_first(inside, req.limit, req.window.start.is_some())
        })
    }

    /// `GET /fapi/v1/allOrders` (regular orders; every symbol without one), oldest first, at
    /// most `limit`. With `orderId`: the orders from that id on, whatever their time.
    /// Otherwise the last 7 days of creation times (or 7 days from `startTime` / up to
    /// `endTime`); from `startTime` the first `limit` orders, else the latest.
    ///
    /// # Errors
    /// -1121 unknown symbol, -1023/-1127 bad windows.
    pub fn all_orders(
        &mut self,
        acct: usize,
        req: &AllOrders,
        now: i64,
    ) -> Result<Vec<&SimOrder>, ApiError> {
        self.advance(now);
        let symbol = req.symbol.as_deref();
        if let Some(s) = symbol {
            self.spec(s)?;
        }
        let orders = self.accounts[acct]
            .orders
            .iter()
            .filter(|o| symbol.is_none_or(|s| s == o.symbol));
        Ok(if let Some(from) = req.from_id {
            orders
                .filter(|o| o.order_id >= from)
                .take(req.limit)
                .collect()
        } else {
            let (start, end) = req.window.at(now)?;
            let inside: Vec<&SimOrder> =
                orders.filter(|o| (start..=end).contains(&o.time)).collect();
            latest_or_first(inside, req.limit, req.window.start.is_some())
        })
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

/// The `positionSide` of an order, checked against the account's mode: `BOTH` (or absent) in
/// one-way mode, `LONG`/`SHORT` in hedge mode (-4061 otherwise). `reduceOnly` is refused in
/// hedge mode (-1106): closing is said with the position side there.
pub(super) fn order_position_side(
    dual: bool,
    sent: Option<PositionSide>,
    reduce_only_sent: bool,
) -> Result<PositionSide, ApiError> {
    let side = sent.unwrap_or_default();
    if dual != (side != PositionSide::Both) {
        return Err(position_side_mismatch());
    }
    if dual && reduce_only_sent {
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
        return Err(over_precision());
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

/// -4116: a client id already names one of the account's open orders (Binance's
/// DUPLICATED_CLIENT_ORDER_ID); a finished order's id may be used again.
pub(super) fn duplicate_client_id() -> ApiError {
    ApiError::bad(-4116, "clientOrderId is duplicated")
}

/// LOT_SIZE, or MARKET_LOT_SIZE for a market order: precision, step, range.
fn check_quantity(spec: &SymbolSpec, qty: Decimal, market: bool) -> Result<(), ApiError> {
    let (step, min, max) = if market {
        (
            spec.market_step_size,
            spec.market_min_qty,
            spec.market_max_qty,
        )
    } else {
        (spec.step_size, spec.min_qty, spec.max_qty)
    };
    if qty.normalize().scale() > spec.quantity_precision {
        return Err(over_precision());
    }
    if !((qty - min) / step).fract().is_zero() {
        return Err(ApiError::bad(-4023, "Quantity not increased by step size."));
    }
    if qty < min {
        return Err(ApiError::bad(-4004, "Quantity less than min quantity."));
    }
    if qty > max {
        return Err(ApiError::bad(-4005, "Quantity greater than max quantity."));
    }
    Ok(())
}

/// PERCENT_PRICE: a BUY limit at most the cap above `mark`, a SELL at least the floor
/// below it.
fn check_percent_price(
    spec: &SymbolSpec,
    side: Side,
    price: Decimal,
    mark: Decimal,
) -> Result<(), ApiError> {
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
    Ok(())
}

/// -1111: more decimals than the symbol allows.
fn over_precision() -> ApiError {
    ApiError::bad(
        -1111,
        "Precision is over the maximum defined for this asset.",
    )
}

/// -4164: MIN_NOTIONAL.
fn min_notional(spec: &SymbolSpec) -> ApiError {
    ApiError::bad(
        -4164,
        format!(
            "Order's notional must be no smaller than {} (unless you choose reduce only).",
            dec(spec.min_notional)
        ),
    )
}

/// -2022: a reduce-only (or hedge-mode closing) order that would not only reduce.
fn reduce_only_rejected() -> ApiError {
    ApiError::bad(-2022, "ReduceOnly Order is rejected.")
}
