//! The matching engine: resting LIMIT orders against the replayed path, taker prices, and the
//! booking of every execution (position, realized PnL, commission, trade and income rows).

use rust_decimal::Decimal;

use super::Exchange;
use super::state::{IncomeRow, PositionSide, Side, Trade};

/// One execution to book.
pub(super) struct Fill<'a> {
    pub(super) order_id: i64,
    pub(super) symbol: &'a str,
    pub(super) side: Side,
    pub(super) position_side: PositionSide,
    pub(super) qty: Decimal,
    pub(super) price: Decimal,
    pub(super) maker: bool,
}

/// What one fill did, for the order's stream event.
#[derive(Debug, Clone, Default)]
pub(super) struct Execution {
    pub(super) trade_id: i64,
    pub(super) price: Decimal,
    pub(super) qty: Decimal,
    pub(super) commission: Decimal,
    pub(super) realized: Decimal,
    pub(super) maker: bool,
}

impl Exchange {
    /// A taker's fill price for `qty` at the replayed `price` (see [`Slippage`]).
    pub(super) fn taker_price(
        &self,
        symbol: &str,
        side: Side,
        price: Decimal,
        qty: Decimal,
    ) -> Decimal {
        let tick = self
            .market
            .spec(symbol)
            .map_or(Decimal::ZERO, |s| s.tick_size);
        self.slippage.fill_price(side, price, qty, tick)
    }

    /// Applies a fill to the account: position, realized PnL, commission, trade and income rows.
    pub(super) fn fill(&mut self, acct: usize, f: Fill<'_>, now: i64) -> Execution {
        let Fill {
            order_id,
            symbol,
            side,
            position_side,
            qty,
            price,
            maker,
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
            } else if p.amount.is_sign_positive() != before.is_sign_positive() {
                // The fill crossed zero: the rest opens a new position at the fill price.
                p.entry_price = price;
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

    pub(super) fn match_resting(&mut self, acct: usize, from: i64, now: i64) {
        let a = &self.accounts[acct];
        let open: Vec<(usize, String, Side, PositionSide, Decimal, Decimal, i64)> = a
            .open
            .iter()
            .map(|&i| (i, &a.orders[i]))
            .filter(|(_, o)| o.order_type == "LIMIT")
            .map(|(i, o)| {
                (
                    i,
                    o.symbol.clone(),
                    o.side,
                    o.position_side,
                    o.price,
                    o.orig_qty - o.executed_qty,
                    o.order_id,
                )
            })
            .collect();
        for (i, symbol, side, position_side, price, qty, order_id) in open {
            let Some((low, high)) = self.market.price_range(&symbol, from, now) else {
                continue;
            };
            let touched = match side {
                Side::Buy => low <= price,
                Side::Sell => high >= price,
            };
            if touched && position_side.closed_by(side) {
                // A hedge-mode closing order never opens the other way: when its position
                // has shrunk below it (a stop closed it meanwhile), it expires instead.
                let left = self.accounts[acct]
                    .positions
                    .get(&(symbol.clone(), position_side))
                    .map_or(Decimal::ZERO, |p| p.amount.abs());
                if left < qty {
                    let o = &mut self.accounts[acct].orders[i];
                    o.status = "EXPIRED";
                    o.update_time = now;
                    let order = o.clone();
                    self.accounts[acct].open.retain(|&j| j != i);
                    self.emit_order(acct, &order, "EXPIRED", None, now);
                    continue;
                }
            }
            if touched {
                let exec = self.fill(
                    acct,
                    Fill {
                        order_id,
                        symbol: &symbol,
                        side,
                        position_side,
                        qty,
                        price,
                        maker: true,
                    },
                    now,
                );
                let o = &mut self.accounts[acct].orders[i];
                o.executed_qty += qty;
                o.cum_quote += (qty * price).round_dp(8);
                o.status = "FILLED";
                o.update_time = now;
                let order = o.clone();
                self.accounts[acct].open.retain(|&j| j != i);
                self.emit_order(acct, &order, "TRADE", Some(&exec), now);
            }
        }
    }
}
