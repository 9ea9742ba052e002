//! User-data stream events the exchange queues in its outbox.

use rust_decimal::Decimal;
use serde_json::json;

use super::algo::actual_type;
use super::book::Execution;
use super::state::{AlgoOrder, PositionSide, SimOrder};
use super::{Exchange, dec};

impl Exchange {
    /// Queues an `ACCOUNT_UPDATE` with the wallet and the position of `symbol` on `side`.
    pub(super) fn emit_account(
        &mut self,
        acct: usize,
        reason: &str,
        symbol: &str,
        side: PositionSide,
        now: i64,
    ) {
        let a = &self.accounts[acct];
        let p = a
            .positions
            .get(&(symbol.to_owned(), side))
            .cloned()
            .unwrap_or_default();
        let isolated = a.settings.get(symbol).copied().unwrap_or_default().isolated;
        let mark = self.market.mark_price(symbol, now).unwrap_or(p.entry_price);
        let event = json!({
            "e": "ACCOUNT_UPDATE", "E": now, "T": now,
            "a": {
                "m": reason,
                "B": [{"a": "USDT", "wb": dec(a.wallet), "cw": dec(a.wallet), "bc": "0"}],
                "P": [{
                    "s": symbol, "pa": dec(p.amount), "ep": dec(p.entry_price), "bep": dec(p.entry_price), "cr": "0",
                    "up": dec(((mark - p.entry_price) * p.amount).round_dp(8)),
                    "mt": if isolated { "isolated" } else { "cross" }, "iw": "0", "ps": side.as_str(),
                }],
            },
        });
        self.outbox.push((acct, event));
    }

    /// Queues an `ORDER_TRADE_UPDATE` for `order` with execution type `x`.
    pub(super) fn emit_order(
        &mut self,
        acct: usize,
        order: &SimOrder,
        x: &str,
        exec: Option<&Execution>,
        now: i64,
    ) {
        let avg = if order.executed_qty.is_zero() {
            Decimal::ZERO
        } else {
            (order.cum_quote / order.executed_qty).round_dp(8)
        };
        let zero = Execution::default();
        let e = exec.unwrap_or(&zero);
        let event = json!({
            "e": "ORDER_TRADE_UPDATE", "E": now, "T": now,
            "o": {
                "s": order.symbol, "c": order.client_order_id, "S": order.side.as_str(), "o": order.order_type,
                "f": order.time_in_force, "q": dec(order.orig_qty), "p": dec(order.price), "ap": dec(avg), "sp": "0",
                "x": x, "X": order.status, "i": order.order_id, "l": dec(e.qty), "z": dec(order.executed_qty),
                "L": dec(e.price), "N": "USDT", "n": dec(e.commission), "T": now, "t": e.trade_id, "b": "0", "a": "0",
                "m": e.maker, "R": order.reduce_only, "wt": "CONTRACT_PRICE", "ot": order.order_type, "ps": order.position_side.as_str(),
                "cp": false, "rp": dec(e.realized), "pP": false, "si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE",
                "gtd": 0, "er": "0",
            },
        });
        self.outbox.push((acct, event));
    }

    /// Queues an `ALGO_UPDATE` for `o`.
    pub(super) fn emit_algo(&mut self, acct: usize, o: &AlgoOrder, now: i64) {
        let event = json!({
            "e": "ALGO_UPDATE", "T": now, "E": now,
            "o": {
                "caid": o.client_algo_id, "aid": o.algo_id, "at": "CONDITIONAL", "o": o.order_type, "s": o.symbol,
                "S": o.side.as_str(), "ps": o.position_side.as_str(), "f": o.time_in_force, "q": dec(o.quantity), "X": o.status,
                "ai": o.actual_order_id.map_or_else(String::new, |i| i.to_string()), "ap": "0", "aq": "0",
                "act": actual_type(o).unwrap_or("0"), "tp": dec(o.trigger_price), "p": dec(o.price), "V": "EXPIRE_MAKER", "wt": o.working_type, "pm": "NONE",
                "cp": o.close_position, "pP": o.price_protect, "R": o.reduce_only, "tt": o.trigger_time, "gtd": 0,
                "rm": "",
            },
        });
        self.outbox.push((acct, event));
    }
}
