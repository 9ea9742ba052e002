//! The algo service: conditional orders (STOP/TAKE_PROFIT, market and limit, and
//! TRAILING_STOP_MARKET) held until their trigger, then handed to the matching engine as a
//! MARKET or LIMIT order.

use rust_decimal::Decimal;

use super::book::Fill;
use super::orders::{check_price, order_position_side};
use super::state::{AlgoKind, AlgoOrder, Side, SimOrder, TimeInForce, WorkingType};
use super::{Exchange, locate};
use crate::error::ApiError;
use crate::params::{AllAlgoOrders, NewAlgoOrder, OrderRef};

/// The most algo orders an account may have open (Binance's -4045).
const MAX_OPEN_ALGO_ORDERS: usize = 200;

impl Exchange {
    /// `GET /fapi/v1/allAlgoOrders` for one symbol: the latest `limit`, oldest first.
    ///
    /// # Errors
    /// -1121 for an unknown symbol.
    pub fn all_algo_orders(
        &mut self,
        acct: usize,
        req: &AllAlgoOrders,
        now: i64,
    ) -> Result<Vec<&AlgoOrder>, ApiError> {
        self.spec(&req.symbol)?;
        self.advance(now);
        let all: Vec<&AlgoOrder> = self.accounts[acct]
            .algo_orders
            .iter()
            .filter(|o| o.symbol == req.symbol)
            .collect();
        let skip = all.len().saturating_sub(req.limit);
        Ok(all.into_iter().skip(skip).collect())
    }

    /// `DELETE /fapi/v1/algoOpenOrders` for `symbol`.
    ///
    /// # Errors
    /// -1121 for an unknown symbol.
    pub fn cancel_all_algo(&mut self, acct: usize, symbol: &str, now: i64) -> Result<(), ApiError> {
        self.spec(symbol)?;
        self.advance(now);
        let open: Vec<usize> = self.accounts[acct]
            .algo_orders
            .iter()
            .enumerate()
            .filter(|(_, o)| o.status == "NEW" && o.symbol == symbol)
            .map(|(i, _)| i)
            .collect();
        for i in open {
            self.cancel_algo_at(acct, i, now);
        }
        Ok(())
    }

    /// `GET /fapi/v1/openAlgoOrders`, oldest first.
    pub fn open_algo_orders(
        &mut self,
        acct: usize,
        symbol: Option<&str>,
        now: i64,
    ) -> Vec<&AlgoOrder> {
        self.advance(now);
        self.accounts[acct]
            .algo_orders
            .iter()
            .filter(|o| o.status == "NEW" && symbol.is_none_or(|s| s == o.symbol))
            .collect()
    }

    /// `POST /fapi/v1/algoOrder`: the algo order as placed.
    ///
    /// # Errors
    /// Binance's codes; nothing changes when refused.
    pub fn new_algo_order(
        &mut self,
        acct: usize,
        req: &NewAlgoOrder,
        now: i64,
    ) -> Result<AlgoOrder, ApiError> {
        self.advance(now);
        let symbol = req.symbol.as_str();
        let spec = self.spec(symbol)?.clone();
        let side = req.side;
        let trailing = req.kind == AlgoKind::TrailingStopMarket;
        let dual = self.accounts[acct].dual_side;
        let position_side =
            order_position_side(dual, req.position_side, req.reduce_only.is_some())?;
        if !trailing {
            check_price(&spec, req.trigger_price)?;
        }
        if req.kind.is_limit() {
            check_price(&spec, req.price)?;
        }
        // closePosition closes the side it names: SELL on LONG, BUY on SHORT (hedge mode).
        if req.close_position && dual && !position_side.closed_by(side) {
            return Err(ApiError::bad(
                -1128,
                "Combination of optional parameters invalid.",
            ));
        }
        let reference = match req.working_type {
            WorkingType::MarkPrice => self.market.mark_price(symbol, now),
            WorkingType::ContractPrice => self.market.last_price(symbol, now),
        }
        .ok_or_else(ApiError::bad_symbol)?;
        if let Some(activate) = req.activate_price {
            check_price(&spec, activate)?;
            // A SELL trail starts above the price and a BUY trail below it; one on the
            // other side would be active at once, which Binance refuses.
            let wrong_side = match side {
                Side::Sell => activate <= reference,
                Side::Buy => activate >= reference,
            };
            if wrong_side {
                return Err(would_trigger());
            }
        }
        // A stop that is already through its trigger would fire at once: Binance refuses it.
        if !trailing {
            let through = if req.kind.triggers_below(side) {
                reference <= req.trigger_price
            } else {
                reference >= req.trigger_price
            };
            if through {
                return Err(would_trigger());
            }
        }
        let client_algo_id = req
            .client_algo_id
            .clone()
            .unwrap_or_else(|| format!("simalgo{}", self.next_id + 1));
        let open = self.accounts[acct]
            .algo_orders
            .iter()
            .filter(|o| o.status == "NEW");
        if open.clone().any(|o| o.client_algo_id == client_algo_id) {
            return Err(super::orders::duplicate_client_id());
        }
        if open.count() >= MAX_OPEN_ALGO_ORDERS {
            return Err(ApiError::bad(-4045, "Reach max stop order limit."));
        }
        let order = AlgoOrder {
            algo_id: self.id(),
            client_algo_id,
            symbol: symbol.to_owned(),
            side,
            position_side,
            order_type: req.kind,
            quantity: req.quantity,
            trigger_price: req.trigger_price,
            working_type: req.working_type,
            close_position: req.close_position,
            reduce_only: req.reduce_only.unwrap_or(false),
            price_protect: req.price_protect,
            status: "NEW",
            create_time: now,
            update_time: now,
            trigger_time: 0,
            actual_order_id: None,
            price: req.price,
            time_in_force: req.time_in_force,
            activate_price: req.activate_price,
            callback_rate: req.callback_rate,
            extreme: trailing.then_some(reference),
            self_trade_prevention: req.self_trade_prevention,
        };
        self.emit_algo(acct, &order, now);
        self.accounts[acct].algo_orders.push(order.clone());
        Ok(order)
    }

    /// `GET /fapi/v1/algoOrder`.
    ///
    /// # Errors
    /// -2013 when there is no such order.
    pub fn query_algo(
        &mut self,
        acct: usize,
        by: &OrderRef,
        now: i64,
    ) -> Result<&AlgoOrder, ApiError> {
        self.advance(now);
        let orders = &self.accounts[acct].algo_orders;
        locate(orders, by, None)
            .map(|i| &orders[i])
            .ok_or_else(ApiError::no_such_order)
    }

    /// `DELETE /fapi/v1/algoOrder`: the cancelled algo order.
    ///
    /// # Errors
    /// -2011 when it is unknown or not open.
    pub fn cancel_algo(
        &mut self,
        acct: usize,
        by: &OrderRef,
        now: i64,
    ) -> Result<AlgoOrder, ApiError> {
        self.advance(now);
        let orders = &self.accounts[acct].algo_orders;
        let i = locate(orders, by, None)
            .filter(|&i| orders[i].status == "NEW")
            .ok_or_else(ApiError::unknown_order)?;
        Ok(self.cancel_algo_at(acct, i, now))
    }

    fn cancel_algo_at(&mut self, acct: usize, i: usize, now: i64) -> AlgoOrder {
        let o = &mut self.accounts[acct].algo_orders[i];
        o.status = "CANCELED";
        o.update_time = now;
        let order = o.clone();
        self.emit_algo(acct, &order, now);
        order
    }

    /// Fires the open algo orders whose trigger the path reached in `(from, now]` and hands
    /// each to the matching engine.
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
            let fired_at = if o.order_type == AlgoKind::TrailingStopMarket {
                let (extreme, fired) = self.trail(&o, from, now);
                self.accounts[acct].algo_orders[i].extreme = extreme;
                fired
            } else {
                let range = match o.working_type {
                    WorkingType::MarkPrice => self.market.mark_price_range(&o.symbol, from, now),
                    WorkingType::ContractPrice => self.market.price_range(&o.symbol, from, now),
                };
                let Some((low, high)) = range else { continue };
                let fires = if o.order_type.triggers_below(o.side) {
                    low <= o.trigger_price
                } else {
                    high >= o.trigger_price
                };
                fires.then_some(o.trigger_price)
            };
            if let Some(at) = fired_at {
                self.fire(acct, i, &o, at, now);
            }
        }
    }

    /// Hands the algo order at `i` (a copy in `o`), triggered at price `at`, to the matching
    /// engine.
    fn fire(&mut self, acct: usize, i: usize, o: &AlgoOrder, at: Decimal, now: i64) {
        let position = self.accounts[acct].position(&o.symbol, o.position_side);
        // In hedge mode an order that closes its side is reduce-only by nature.
        let hedge_close = o.position_side.closed_by(o.side);
        let qty = if o.close_position || o.reduce_only || hedge_close {
            if !position.reduced_by(o.side) {
                Decimal::ZERO
            } else if o.close_position {
                position.amount.abs()
            } else {
                o.quantity.min(position.amount.abs())
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
            return;
        }
        // Binance's algo service reports each step of the hand-over to the matching engine:
        // TRIGGERING (triggered, being sent), TRIGGERED (placed there, `ai` set), FINISHED
        // (its part done) after the placed order's own events (CONTRACT.md 6.1, ALGO_UPDATE).
        a.status = "TRIGGERING";
        let triggering = a.clone();
        self.emit_algo(acct, &triggering, now);
        let order_id = self.id();
        let a = &mut self.accounts[acct].algo_orders[i];
        a.actual_order_id = Some(order_id);
        a.status = "TRIGGERED";
        let placed = a.clone();
        self.emit_algo(acct, &placed, now);
        self.place_triggered(acct, o, order_id, qty, at, now);
        let a = &mut self.accounts[acct].algo_orders[i];
        a.status = "FINISHED";
        let finished = a.clone();
        self.emit_algo(acct, &finished, now);
    }

    /// Places in the matching engine the order a triggered algo order `o` becomes.
    fn place_triggered(
        &mut self,
        acct: usize,
        o: &AlgoOrder,
        order_id: i64,
        qty: Decimal,
        at: Decimal,
        now: i64,
    ) {
        let limit = o.order_type.is_limit();
        let mut triggered = SimOrder {
            order_id,
            client_order_id: format!("{}-t", o.client_algo_id).chars().take(36).collect(),
            symbol: o.symbol.clone(),
            side: o.side,
            position_side: o.position_side,
            order_type: o.order_type.then(),
            time_in_force: o.time_in_force,
            price: if limit { o.price } else { Decimal::ZERO },
            orig_qty: qty,
            executed_qty: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            reduce_only: o.reduce_only || o.close_position,
            status: "NEW",
            time: now,
            update_time: now,
            self_trade_prevention: o.self_trade_prevention,
            price_match: None,
            good_till_date: 0,
        };
        // The price was at `at` when the order triggered. A market order fills there (the
        // replay path is continuous, so that is where it crossed); a limit order fills
        // there too when its limit allows, else it rests on the book like any LIMIT.
        let marketable = !limit
            || match o.side {
                Side::Buy => o.price >= at,
                Side::Sell => o.price <= at,
            };
        let post_only = o.time_in_force == TimeInForce::Gtx;
        if marketable && !post_only {
            let fill = Fill {
                order_id,
                symbol: &o.symbol,
                side: o.side,
                position_side: o.position_side,
                qty,
                price: at,
            };
            let exec = self.take(acct, fill, limit.then_some(o.price), now);
            triggered.executed_qty = qty;
            triggered.cum_quote = (qty * exec.price).round_dp(8);
            triggered.status = "FILLED";
            self.emit_order(acct, &triggered, "TRADE", Some(&exec), now);
            self.accounts[acct].orders.push(triggered);
        } else if marketable || o.time_in_force.expires_unfilled() {
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

    /// Walks a TRAILING_STOP_MARKET along the price path of `(from, now]`: the best price
    /// since placement follows the path, the trail is active once that best price has reached
    /// `activate_price` (at once without one), and it fires when the price comes back by
    /// `callback_rate` percent from the best. Returns the new best price and, when it fired,
    /// the price it fired at.
    ///
    /// The path is monotone inside each quarter of a candle (see `market::path`), and every
    /// data interval's quarters are whole multiples of 15 s, so walking 15-second windows
    /// aligned to the clock sees the moves in their true order.
    fn trail(&self, o: &AlgoOrder, from: i64, now: i64) -> (Option<Decimal>, Option<Decimal>) {
        const WINDOW_MS: i64 = 15_000;
        let price_at = |t: i64| {
            if o.working_type == WorkingType::MarkPrice {
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

/// -2021: the order's trigger is already behind the price.
fn would_trigger() -> ApiError {
    ApiError::bad(-2021, "Order would immediately trigger.")
}
