//! The matching engine: takers at the replayed price, resting LIMIT orders against the
//! replayed path, `priceMatch` levels of the synthetic book, and the booking of every
//! execution (position, realized PnL, commission, trade and income rows).

use rust_decimal::Decimal;

use super::state::{Code, IncomeRow, PositionSide, Side, SimOrder, TimeInForce, Trade};
use super::{Exchange, OrderType};
use crate::error::ApiError;
use crate::params::PriceMatch;

/// One execution to book.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fill<'a> {
    pub(super) order_id: i64,
    pub(super) symbol: &'a str,
    pub(super) side: Side,
    pub(super) position_side: PositionSide,
    pub(super) qty: Decimal,
    pub(super) price: Decimal,
}

/// What one fill did, for the order's stream event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Execution {
    /// The trade's id.
    pub trade_id: i64,
    /// The fill price.
    pub price: Decimal,
    /// The filled quantity.
    pub qty: Decimal,
    /// Commission paid, in USDT.
    pub commission: Decimal,
    /// Realized PnL of the part that closed a position.
    pub realized: Decimal,
    /// Whether the order was the maker.
    pub maker: bool,
}

impl Exchange {
    /// A taker's execution at the replayed price `f.price`: slipped against the taker (see
    /// [`super::Slippage`]) but never past `limit`.
    pub(super) fn take(
        &mut self,
        acct: usize,
        f: Fill<'_>,
        limit: Option<Decimal>,
        now: i64,
    ) -> Execution {
        let tick = self
            .market
            .spec(f.symbol)
            .map_or(Decimal::ZERO, |s| s.tick_size);
        let taken = self.slippage.fill_price(f.side, f.price, f.qty, tick);
        let price = match (limit, f.side) {
            (None, _) => taken,
            (Some(l), Side::Buy) => taken.min(l),
            (Some(l), Side::Sell) => taken.max(l),
        };
        self.fill(acct, Fill { price, ..f }, false, now)
    }

    /// Applies a fill to the account: position, realized PnL, commission, trade and income rows.
    pub(super) fn fill(&mut self, acct: usize, f: Fill<'_>, maker: bool, now: i64) -> Execution {
        let Fill {
            order_id,
            symbol,
            side,
            position_side,
            qty,
            price,
        } = f;
        let rate = if maker {
            self.fees.maker
        } else {
            self.fees.taker
        };
        let commission = (qty * price * rate).round_dp(8);
        let trade_id = self.id();
        let pnl_id = self.id();
        let fee_id = self.id();
        let a = &mut self.accounts[acct];
        let p = a
            .positions
            .entry((symbol.to_owned(), position_side))
            .or_default();
        let signed = qty * side.sign();
        let mut realized = Decimal::ZERO;
        if p.amount.is_zero() || p.amount.is_sign_positive() == signed.is_sign_positive() {
            let total = p.amount.abs() + qty;
            p.entry_price = ((p.amount.abs() * p.entry_price + qty * price) / total).round_dp(8);
            p.amount += signed;
        } else {
            let closing = qty.min(p.amount.abs());
            let direction = if p.amount.is_sign_positive() {
                Decimal::ONE
            } else {
                Decimal::NEGATIVE_ONE
            };
            realized = ((price - p.entry_price) * closing * direction).round_dp(8);
            let before = p.amount;
            p.amount += signed;
            if p.amount.is_zero() {
                p.entry_price = Decimal::ZERO;
                p.margin_added = Decimal::ZERO;
            } else if p.amount.is_sign_positive() != before.is_sign_positive() {
                // The fill crossed zero: the rest opens a new position at the fill price.
                p.entry_price = price;
                p.margin_added = Decimal::ZERO;
            }
        }
        p.update_time = now;
        a.wallet += realized - commission;
        a.trades.push(Trade {
            id: trade_id,
            order_id,
            symbol: symbol.to_owned(),
            side,
            position_side,
            price,
            qty,
            realized_pnl: realized,
            commission,
            maker,
            time: now,
        });
        if !realized.is_zero() {
            a.income.push(IncomeRow {
                tran_id: pnl_id,
                symbol: symbol.to_owned(),
                income_type: "REALIZED_PNL",
                income: realized,
                info: "REALIZED_PNL".into(),
                time: now,
                trade_id: Some(trade_id),
            });
        }
        a.income.push(IncomeRow {
            tran_id: fee_id,
            symbol: symbol.to_owned(),
            income_type: "COMMISSION",
            income: -commission,
            info: "COMMISSION".into(),
            time: now,
            trade_id: Some(trade_id),
        });
        let execution = Execution {
            trade_id,
            price,
            qty,
            commission,
            realized,
            maker,
        };
        self.emit_account(acct, "ORDER", symbol, position_side, now);
        execution
    }

    /// Books that the open order at `i` filled what it had left (`exec`) and tells the
    /// stream.
    pub(super) fn fill_open(&mut self, acct: usize, i: usize, exec: &Execution, now: i64) {
        let a = &mut self.accounts[acct];
        let o = &mut a.orders[i];
        o.executed_qty += exec.qty;
        o.cum_quote += (exec.qty * exec.price).round_dp(8);
        o.status = "FILLED";
        o.update_time = now;
        let order = o.clone();
        a.open.retain(|&j| j != i);
        self.emit_order(acct, &order, "TRADE", Some(exec), now);
    }

    /// Ends the open order at `i` with `status` (CANCELED or EXPIRED, which is also the
    /// stream's execution type) and tells the stream.
    pub(super) fn close_order(
        &mut self,
        acct: usize,
        i: usize,
        status: Code,
        now: i64,
    ) -> SimOrder {
        let a = &mut self.accounts[acct];
        let o = &mut a.orders[i];
        o.status = status;
        o.update_time = now;
        let order = o.clone();
        a.open.retain(|&j| j != i);
        self.emit_order(acct, &order, status, None, now);
        order
    }

    /// Fills resting LIMIT orders the path touched in `(from, now]`, at their limit, as
    /// makers.
    pub(super) fn match_resting(&mut self, acct: usize, from: i64, now: i64) {
        let a = &self.accounts[acct];
        let open: Vec<(usize, SimOrder)> = a
            .open
            .iter()
            .map(|&i| (i, &a.orders[i]))
            .filter(|(_, o)| o.order_type == OrderType::Limit)
            .map(|(i, o)| (i, o.clone()))
            .collect();
        for (i, o) in open {
            // A GTD order works until its date: it fills if the price reaches it before, and
            // expires at the date otherwise.
            let gtd = o.time_in_force == TimeInForce::Gtd;
            let until = if gtd { now.min(o.good_till_date) } else { now };
            let touched = (until > from)
                .then(|| self.market.price_range(&o.symbol, from, until))
                .flatten()
                .is_some_and(|(low, high)| match o.side {
                    Side::Buy => low <= o.price,
                    Side::Sell => high >= o.price,
                });
            if !touched {
                if gtd && o.good_till_date <= now {
                    self.close_order(acct, i, "EXPIRED", now);
                }
                continue;
            }
            let qty = o.orig_qty - o.executed_qty;
            if o.position_side.closed_by(o.side) {
                // A hedge-mode closing order never opens the other way: when its position
                // has shrunk below it (a stop closed it meanwhile), it expires instead.
                let left = self.accounts[acct]
                    .position(&o.symbol, o.position_side)
                    .amount
                    .abs();
                if left < qty {
                    self.close_order(acct, i, "EXPIRED", now);
                    continue;
                }
            }
            let fill = Fill {
                order_id: o.order_id,
                symbol: &o.symbol,
                side: o.side,
                position_side: o.position_side,
                qty,
                price: o.price,
            };
            let exec = self.fill(acct, fill, true, now);
            self.fill_open(acct, i, &exec, now);
        }
    }

    /// The price `priceMatch` names on the book at `now`.
    ///
    /// # Errors
    /// -1112 when that side of the book has no such level.
    pub(super) fn match_price(
        &self,
        symbol: &str,
        side: Side,
        mode: PriceMatch,
        now: i64,
    ) -> Result<Decimal, ApiError> {
        let (bids, asks) = self.market.depth(symbol, now, mode.level + 1);
        let book = if mode.opponent == (side == Side::Buy) {
            asks
        } else {
            bids
        };
        book.get(mode.level)
            .map(|(price, _)| *price)
            .ok_or_else(|| ApiError::bad(-1112, "No orders on book for symbol."))
    }
}
