//! Stream events: the user-data events of the exchange's outbox and `listenKeyExpired` on
//! `/private`, kline, mark-price and 24 h ticker updates on `/market`.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::dec;
use super::trading::{actual_type, avg_price};
use crate::exchange::{Execution, UserEvent};
use crate::market::{KlineRow, Ticker24h};

/// The JSON of one user-data event.
pub fn user_event(event: &UserEvent) -> Value {
    match event {
        UserEvent::Account {
            time,
            reason,
            wallet,
            symbol,
            position_side,
            position: p,
            mark,
            isolated,
            isolated_wallet,
            break_even,
        } => json!({
            "e": "ACCOUNT_UPDATE", "E": time, "T": time,
            "a": {
                "m": reason,
                "B": [{"a": "USDT", "wb": dec(*wallet), "cw": dec(*wallet), "bc": "0"}],
                "P": [{
                    "s": symbol, "pa": dec(p.amount), "ep": dec(p.entry_price), "bep": dec(*break_even), "cr": "0",
                    "up": dec(((*mark - p.entry_price) * p.amount).round_dp(8)),
                    "mt": if *isolated { "isolated" } else { "cross" }, "iw": dec(*isolated_wallet), "ps": position_side.as_str(),
                }],
            },
        }),
        UserEvent::Order {
            time,
            order,
            execution_type,
            execution,
        } => {
            let zero = Execution::default();
            let e = execution.as_ref().unwrap_or(&zero);
            json!({
                "e": "ORDER_TRADE_UPDATE", "E": time, "T": time,
                "o": {
                    "s": order.symbol, "c": order.client_order_id, "S": order.side.as_str(), "o": order.order_type.as_str(),
                    "f": order.time_in_force.as_str(), "q": dec(order.orig_qty), "p": dec(order.price), "ap": dec(avg_price(order)), "sp": "0",
                    "x": execution_type, "X": order.status, "i": order.order_id, "l": dec(e.qty), "z": dec(order.executed_qty),
                    "L": dec(e.price), "N": "USDT", "n": dec(e.commission), "T": time, "t": e.trade_id, "b": "0", "a": "0",
                    "m": e.maker, "R": order.reduce_only, "wt": "CONTRACT_PRICE", "ot": order.order_type.as_str(), "ps": order.position_side.as_str(),
                    "cp": false, "rp": dec(e.realized), "pP": false, "si": 0, "ss": 0, "V": order.self_trade_prevention.as_str(),
                    "pm": order.price_match.map_or("NONE", crate::params::PriceMatch::as_str),
                    "gtd": order.good_till_date, "er": "0",
                },
            })
        }
        UserEvent::Algo { time, order: o } => json!({
            "e": "ALGO_UPDATE", "T": time, "E": time,
            "o": {
                "caid": o.client_algo_id, "aid": o.algo_id, "at": "CONDITIONAL", "o": o.order_type.as_str(), "s": o.symbol,
                "S": o.side.as_str(), "ps": o.position_side.as_str(), "f": o.time_in_force.as_str(), "q": dec(o.quantity), "X": o.status,
                "ai": o.actual_order_id.map_or_else(String::new, |i| i.to_string()), "ap": "0", "aq": "0",
                "act": actual_type(o).unwrap_or("0"), "tp": dec(o.trigger_price), "p": dec(o.price), "V": o.self_trade_prevention.as_str(),
                "wt": o.working_type.as_str(), "pm": "NONE", "cp": o.close_position, "pP": o.price_protect, "R": o.reduce_only,
                "tt": o.trigger_time, "gtd": 0, "rm": "",
            },
        }),
        UserEvent::MarginCall {
            time,
            cross_wallet,
            positions,
        } => {
            let rows: Vec<Value> = positions
                .iter()
                .map(|r| {
                    json!({
                        "s": r.key.0, "ps": r.key.1.as_str(), "pa": dec(r.amount),
                        "mt": if r.isolated { "ISOLATED" } else { "CROSSED" },
                        "iw": dec(r.isolated_wallet.round_dp(8)), "mp": dec(r.mark),
                        "up": dec(r.pnl.round_dp(8)), "mm": dec(r.maint.round_dp(8)),
                    })
                })
                .collect();
            let mut event = json!({"e": "MARGIN_CALL", "E": time, "p": rows});
            // `cw` is only sent with a cross margin call (docs).
            if let Some(w) = cross_wallet {
                event["cw"] = json!(dec(*w));
            }
            event
        }
    }
}

/// `listenKeyExpired`; the docs' example sends `E` as a string.
pub fn listen_key_expired(key: &str, now: i64) -> Value {
    json!({"e": "listenKeyExpired", "E": now.to_string(), "listenKey": key})
}

/// A kline stream update of `symbol`.
pub fn kline(symbol: &str, interval: &str, k: &KlineRow, now: i64) -> Value {
    json!({
        "e": "kline", "E": now, "s": symbol,
        "k": {
            "t": k.open_time, "T": k.close_time, "s": symbol, "i": interval, "f": 0, "L": 0,
            "o": dec(k.open), "c": dec(k.close), "h": dec(k.high), "l": dec(k.low), "v": dec(k.volume),
            "n": k.trades, "x": k.is_closed, "q": dec(k.quote_volume), "V": dec(k.taker_buy_volume),
            "Q": dec(k.taker_buy_quote_volume), "B": "0",
        },
    })
}

/// A `markPriceUpdate` of `symbol`; the index and settlement prices are the mark (the data
/// has no index).
pub fn mark_price(
    symbol: &str,
    mark: Decimal,
    funding_rate: Decimal,
    next_funding: i64,
    now: i64,
) -> Value {
    json!({
        "e": "markPriceUpdate", "E": now, "s": symbol, "p": dec(mark), "i": dec(mark), "P": dec(mark),
        "r": dec(funding_rate), "T": next_funding,
    })
}

/// A `24hrTicker` stream update. As in the REST ticker, the replayed data has no individual
/// trades: the trade ids and count are 0 and the last quantity is "0".
pub fn ticker_24hr(t: &Ticker24h, now: i64) -> Value {
    json!({
        "e": "24hrTicker", "E": now, "s": t.symbol, "p": dec(t.price_change),
        "P": dec(t.price_change_percent), "w": dec(t.weighted_avg_price), "c": dec(t.last), "Q": "0",
        "o": dec(t.open), "h": dec(t.high), "l": dec(t.low), "v": dec(t.volume), "q": dec(t.quote_volume),
        "O": t.open_time, "C": t.close_time, "F": 0, "L": 0, "n": 0,
    })
}

/// The `24hrMiniTicker` event: the 24 h ticker's prices and volumes only.
pub fn mini_ticker(t: &Ticker24h, now: i64) -> Value {
    json!({
        "e": "24hrMiniTicker", "E": now, "s": t.symbol, "c": dec(t.last), "o": dec(t.open),
        "h": dec(t.high), "l": dec(t.low), "v": dec(t.volume), "q": dec(t.quote_volume),
    })
}

/// The `forceOrder` event of a liquidation, from the liquidated account's `ORDER_TRADE_UPDATE`
/// (execution type `CALCULATED`); `None` for any other event. Binance prints every account's
/// liquidations this way without naming the account; the simulator's accounts are the market.
pub fn force_order(update: &Value) -> Option<Value> {
    let o = &update["o"];
    if update["e"] != "ORDER_TRADE_UPDATE" || o["x"] != "CALCULATED" {
        return None;
    }
    Some(json!({
        "e": "forceOrder", "E": update["E"],
        "o": {
            "s": o["s"], "S": o["S"], "o": "LIMIT", "f": "IOC", "q": o["q"], "p": o["L"], "ap": o["ap"],
            "X": o["X"], "l": o["l"], "z": o["z"], "T": o["T"],
        },
    }))
}

/// The `trade` event of one fill, from its `ORDER_TRADE_UPDATE`; `None` for any other event
/// (the accounts' fills are the only trades this exchange prints, see [`agg_trade`]).
pub fn trade(update: &Value) -> Option<Value> {
    let o = &update["o"];
    if update["e"] != "ORDER_TRADE_UPDATE" || o["x"] != "TRADE" {
        return None;
    }
    let buyer_maker = (o["S"] == "BUY") == o["m"].as_bool()?;
    Some(json!({
        "e": "trade", "E": update["E"], "T": o["T"], "s": o["s"], "t": o["t"], "p": o["L"],
        "q": o["l"], "X": "MARKET", "m": buyer_maker,
    }))
}

/// The `aggTrade` event of one fill, from its `ORDER_TRADE_UPDATE`; `None` for any other
/// event. The replayed candles carry no trade tape, so the accounts' own fills are the only
/// trades this exchange prints: one fill is one aggregate (`a` = `f` = `l` = its trade id).
pub fn agg_trade(update: &Value) -> Option<Value> {
    let o = &update["o"];
    if update["e"] != "ORDER_TRADE_UPDATE" || o["x"] != "TRADE" {
        return None;
    }
    // The buyer made the market when the account bought as maker or sold as taker.
    let buyer_maker = (o["S"] == "BUY") == o["m"].as_bool()?;
    Some(json!({
        "e": "aggTrade", "E": update["E"], "s": o["s"], "a": o["t"], "p": o["L"], "q": o["l"],
        "nq": o["l"], "f": o["t"], "l": o["t"], "T": o["T"], "m": buyer_maker,
    }))
}
