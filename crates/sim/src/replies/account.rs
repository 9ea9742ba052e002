//! Account replies: account, balance, positions, income, leverage and brackets, the key's
//! permissions.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::dec;
use crate::exchange::{
    AccountView, BalanceView, Fees, IncomeRow, MarginAdjust, MarginChange, Permissions,
    PositionRow, SymbolConfig,
};
use crate::market::SymbolSpec;

/// Binance's `isolatedMargin`: the isolated wallet and the unrealized PnL (zero for cross).
fn isolated_margin(r: &PositionRow) -> Decimal {
    if r.isolated {
        r.isolated_wallet + r.unrealized
    } else {
        Decimal::ZERO
    }
}

fn position_risk_row(r: &PositionRow) -> Value {
    json!({
        "symbol": r.symbol, "positionSide": r.position_side.as_str(), "positionAmt": dec(r.amount),
        "entryPrice": dec(r.entry_price), "breakEvenPrice": dec(r.break_even_price),
        "markPrice": dec(r.mark), "unRealizedProfit": dec(r.unrealized),
        "liquidationPrice": dec(r.liquidation_price), "isolatedMargin": dec(isolated_margin(r)),
        "notional": dec(r.notional), "marginAsset": "USDT", "isolatedWallet": dec(r.isolated_wallet),
        "initialMargin": dec(r.initial),
        "maintMargin": dec(r.maint), "positionInitialMargin": dec(r.initial),
        "openOrderInitialMargin": "0", "adl": 0, "bidNotional": "0", "askNotional": "0",
        "updateTime": r.update_time,
    })
}

/// `GET /fapi/v3/positionRisk`.
pub fn position_risk(rows: &[PositionRow]) -> Value {
    Value::Array(rows.iter().map(position_risk_row).collect())
}

/// `GET /fapi/v2/positionRisk`: the v3 row with v2's own fields (`leverage` a string,
/// `marginType` in lower case, `isAutoAddMargin` the string "false", `maxNotionalValue`).
pub fn position_risk_v2(rows: &[PositionRow]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| {
                let mut v = position_risk_row(r);
                v["leverage"] = json!(r.leverage.to_string());
                v["marginType"] = json!(if r.isolated { "isolated" } else { "cross" });
                v["isAutoAddMargin"] = json!("false");
                v["maxNotionalValue"] = json!(dec(r.max_notional));
                v
            })
            .collect(),
    )
}

/// `GET /fapi/v3/account`, or `/fapi/v2/account` with its extra fields when `v2`.
pub fn account(v: &AccountView, v2: bool, now: i64) -> Value {
    let positions: Vec<Value> = v
        .positions
        .iter()
        .map(|r| {
            let mut p = json!({
                "symbol": r.symbol, "positionSide": r.position_side.as_str(), "positionAmt": dec(r.amount),
                "unrealizedProfit": dec(r.unrealized), "isolatedMargin": dec(isolated_margin(r)),
                "notional": dec(r.notional), "isolatedWallet": dec(r.isolated_wallet),
                "initialMargin": dec(r.initial), "maintMargin": dec(r.maint), "updateTime": r.update_time,
            });
            if v2 {
                p["leverage"] = json!(r.leverage.to_string());
                p["isolated"] = json!(r.isolated);
                p["entryPrice"] = json!(dec(r.entry_price));
                p["maxNotional"] = json!("0");
                p["bidNotional"] = json!("0");
                p["askNotional"] = json!("0");
                p["positionInitialMargin"] = json!(dec(r.initial));
                p["openOrderInitialMargin"] = json!("0");
            }
            p
        })
        .collect();
    let d = |v: Decimal| dec(v.round_dp(8));
    let open_order_initial = v.initial - v.position_initial;
    let mut reply = json!({
        "totalInitialMargin": d(v.initial), "totalMaintMargin": d(v.maint), "totalWalletBalance": d(v.wallet),
        "totalUnrealizedProfit": d(v.unrealized), "totalMarginBalance": d(v.margin_balance),
        "totalPositionInitialMargin": d(v.position_initial), "totalOpenOrderInitialMargin": d(open_order_initial),
        "totalCrossWalletBalance": d(v.wallet), "totalCrossUnPnl": d(v.unrealized), "availableBalance": d(v.available),
        "maxWithdrawAmount": d(v.available),
        "assets": [{
            "asset": "USDT", "walletBalance": d(v.wallet), "unrealizedProfit": d(v.unrealized),
            "marginBalance": d(v.margin_balance), "maintMargin": d(v.maint), "initialMargin": d(v.initial),
            "positionInitialMargin": d(v.position_initial), "openOrderInitialMargin": d(open_order_initial),
            "crossWalletBalance": d(v.wallet), "crossUnPnl": d(v.unrealized), "availableBalance": d(v.available),
            "maxWithdrawAmount": d(v.available), "marginAvailable": true, "updateTime": now,
        }],
        "positions": positions,
    });
    if v2 {
        for (k, value) in [
            ("feeTier", json!(0)),
            ("feeBurn", json!(false)),
            ("canTrade", json!(v.permissions.futures)),
            ("canDeposit", json!(true)),
            ("canWithdraw", json!(v.permissions.withdrawals)),
            ("updateTime", json!(0)),
            ("multiAssetsMargin", json!(false)),
            ("tradeGroupId", json!(-1)),
        ] {
            reply[k] = value;
        }
    }
    reply
}

/// `GET /fapi/v3/balance`.
pub fn balance(b: &BalanceView, now: i64) -> Value {
    json!([{
        "accountAlias": "SimAccount", "asset": "USDT", "balance": dec(b.wallet),
        "crossWalletBalance": dec(b.wallet), "crossUnPnl": dec(b.unrealized.round_dp(8)),
        "availableBalance": dec(b.available.round_dp(8)), "maxWithdrawAmount": dec(b.available.round_dp(8)),
        "marginAvailable": true, "updateTime": now,
    }])
}

/// `GET /fapi/v1/income`.
pub fn income(rows: &[&IncomeRow]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| {
                json!({
                    "symbol": r.symbol, "incomeType": r.income_type, "income": dec(r.income), "asset": "USDT",
                    "info": r.info, "time": r.time, "tranId": r.tran_id,
                    "tradeId": r.trade_id.map_or_else(String::new, |t| t.to_string()),
                })
            })
            .collect(),
    )
}

/// `POST /fapi/v1/leverage`.
pub fn leverage(symbol: &str, leverage: u32, max_notional: Decimal) -> Value {
    json!({"leverage": leverage, "maxNotionalValue": dec(max_notional), "symbol": symbol})
}

/// One symbol of `GET /fapi/v1/leverageBracket`. Values are JSON numbers, as Binance sends
/// them.
pub fn brackets(spec: &SymbolSpec) -> Value {
    let number = |d: Decimal| {
        serde_json::Number::from_f64(d.to_string().parse().unwrap_or(0.0))
            .map_or(Value::Null, Value::Number)
    };
    // Notional bounds are whole USDT and Binance sends them as integers (`50000`, not
    // `50000.0`), which the official SDK's models require (CONTRACT.md 4.2).
    let integer = |d: Decimal| {
        d.trunc()
            .to_string()
            .parse::<i64>()
            .map_or_else(|_| number(d), |i| json!(i))
    };
    let brackets: Vec<Value> = spec
        .brackets
        .iter()
        .map(|b| {
            json!({
                "bracket": b.bracket, "initialLeverage": b.initial_leverage,
                "notionalCap": integer(b.notional_cap), "notionalFloor": integer(b.notional_floor),
                "maintMarginRatio": number(b.maint_margin_ratio), "cum": number(b.cum),
            })
        })
        .collect();
    json!({"symbol": spec.symbol, "brackets": brackets})
}

/// `GET /fapi/v1/positionSide/dual`.
pub fn position_mode(dual: bool) -> Value {
    json!({"dualSidePosition": dual})
}

/// `GET /fapi/v1/multiAssetsMargin`: the sim's accounts are single-asset.
pub fn multi_assets_margin() -> Value {
    json!({"multiAssetsMargin": false})
}

/// `GET /sapi/v1/account/apiRestrictions`.
pub fn api_restrictions(p: &Permissions) -> Value {
    json!({
        "ipRestrict": p.ip_restrict, "createTime": 1_700_000_000_000_i64, "enableReading": p.reading,
        "enableWithdrawals": p.withdrawals, "enableInternalTransfer": false, "enableMargin": false,
        "enableFutures": p.futures, "permitsUniversalTransfer": false, "enableVanillaOptions": false,
        "enableFixApiTrade": false, "enableFixReadOnly": false, "enableSpotAndMarginTrading": false,
        "enablePortfolioMarginTrading": false,
    })
}

/// `POST /fapi/v1/countdownCancelAll`: the symbol and the countdown as set (a string).
pub fn countdown(symbol: &str, ms: i64) -> Value {
    json!({"symbol": symbol, "countdownTime": ms.to_string()})
}

/// `GET /fapi/v1/commissionRate`: the account's maker and taker rates (no RPI orders here).
pub fn commission_rate(symbol: &str, fees: &Fees) -> Value {
    json!({
        "symbol": symbol, "makerCommissionRate": dec(fees.maker), "takerCommissionRate": dec(fees.taker),
        "rpiCommissionRate": "0",
    })
}

/// `GET /fapi/v1/symbolConfig` (CONTRACT.md 4.2; `isAutoAddMargin` the boolean live sends).
pub fn symbol_config(rows: &[SymbolConfig]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| {
                json!({
                    "symbol": r.symbol, "marginType": if r.isolated { "ISOLATED" } else { "CROSSED" },
                    "isAutoAddMargin": false, "leverage": r.leverage, "maxNotionalValue": dec(r.max_notional),
                })
            })
            .collect(),
    )
}

/// `GET /fapi/v1/accountConfig`.
pub fn account_config(p: &Permissions, dual_side: bool) -> Value {
    json!({
        "feeTier": 0, "canTrade": p.futures, "canDeposit": true, "canWithdraw": p.withdrawals,
        "dualSidePosition": dual_side, "updateTime": 0, "multiAssetsMargin": false, "tradeGroupId": -1,
    })
}

/// `POST /fapi/v1/positionMargin`: `amount` is a number in Binance's reply.
pub fn margin_adjusted(req: &MarginAdjust) -> Value {
    let amount = req
        .amount
        .to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number);
    json!({
        "amount": amount, "code": 200, "msg": "Successfully modify position margin.",
        "type": if req.add { 1 } else { 2 },
    })
}

/// `GET /fapi/v1/positionMargin/history`.
pub fn margin_history(rows: &[MarginChange]) -> Value {
    Value::Array(
        rows.iter()
            .map(|c| {
                json!({
                    "symbol": c.symbol, "type": if c.added { 1 } else { 2 }, "deltaType": "USER_ADJUST",
                    "amount": dec(c.amount), "asset": "USDT", "time": c.time, "positionSide": c.position_side.as_str(),
                })
            })
            .collect(),
    )
}
