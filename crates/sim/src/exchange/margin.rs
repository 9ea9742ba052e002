//! Positions and margin: leverage, margin type, position mode, margin balance and available
//! margin, the position and account views, funding, liquidation and MARGIN_CALL.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::book::Fill;
use super::state::{Account, IncomeRow, Position, PositionKey, PositionSide, Side, SimOrder};
use super::{Exchange, dec};
use crate::error::ApiError;
use crate::market::SymbolSpec;
use crate::params::Params;

/// The margin ratio (maintenance margin over margin balance) at which MARGIN_CALL is sent.
/// Binance's docs say only "when the user's position risk ratio is too high"; 80 % is the
/// sim's choice, a fifth of the way before liquidation at 100 %.
pub const MARGIN_CALL_RATIO: Decimal = Decimal::from_parts(8, 0, 0, false, 1);

/// One position in a margin-call check, at the step's worst mark price.
struct MarginCallRow {
    key: PositionKey,
    amount: Decimal,
    mark: Decimal,
    maint: Decimal,
    pnl: Decimal,
    isolated: bool,
}

impl Exchange {
    /// Unrealized PnL of one position at mark price.
    fn unrealized(&self, symbol: &str, p: &Position, now: i64) -> Decimal {
        let mark = self.market.mark_price(symbol, now).unwrap_or(p.entry_price);
        (mark - p.entry_price) * p.amount
    }

    /// Margin the account's positions and open orders hold (initial margin at their leverage).
    fn used_margin(&self, a: &Account, now: i64) -> Decimal {
        let mut used = Decimal::ZERO;
        for ((symbol, _), p) in &a.positions {
            let lev = Decimal::from(a.settings.get(symbol).copied().unwrap_or_default().leverage);
            let mark = self.market.mark_price(symbol, now).unwrap_or(p.entry_price);
            used += (p.amount.abs() * mark) / lev;
        }
        for o in a.open.iter().map(|&i| &a.orders[i]) {
            let lev = Decimal::from(
                a.settings
                    .get(&o.symbol)
                    .copied()
                    .unwrap_or_default()
                    .leverage,
            );
            used += ((o.orig_qty - o.executed_qty) * o.price) / lev;
        }
        used
    }

    /// Wallet + unrealized PnL: Binance's margin balance.
    pub fn margin_balance(&self, a: &Account, now: i64) -> Decimal {
        a.wallet
            + a.positions
                .iter()
                .map(|((s, _), p)| self.unrealized(s, p, now))
                .sum::<Decimal>()
    }

    /// What new orders can still use.
    pub fn available(&self, a: &Account, now: i64) -> Decimal {
        (self.margin_balance(a, now) - self.used_margin(a, now)).max(Decimal::ZERO)
    }

    /// `GET /fapi/v1/leverageBracket`: one object for `symbol`, else an array of all symbols.
    /// Values are JSON numbers, as Binance sends them.
    ///
    /// # Errors
    /// -1121 for an unknown symbol.
    pub fn leverage_bracket(&self, symbol: Option<&str>) -> Result<Value, ApiError> {
        let one = |spec: &SymbolSpec| -> Value {
            let number = |d: Decimal| {
                serde_json::Number::from_f64(d.to_string().parse().unwrap_or(0.0))
                    .map_or(Value::Null, Value::Number)
            };
            let brackets: Vec<Value> = spec
                .brackets
                .iter()
                .map(|b| {
                    json!({
                        "bracket": b.bracket, "initialLeverage": b.initial_leverage,
                        "notionalCap": number(b.notional_cap), "notionalFloor": number(b.notional_floor),
                        "maintMarginRatio": number(b.maint_margin_ratio), "cum": number(b.cum),
                    })
                })
                .collect();
            json!({"symbol": spec.symbol, "brackets": brackets})
        };
        match symbol {
            Some(s) => Ok(one(self.spec(s)?)),
            None => Ok(Value::Array(
                self.market
                    .symbols()
                    .into_iter()
                    .filter_map(|s| self.market.spec(s))
                    .map(one)
                    .collect(),
            )),
        }
    }

    /// Closes positions whose margin no longer covers their maintenance margin, at the worst
    /// mark price of the step (Binance watches the mark price continuously, so the worst point
    /// of the step is where it would have acted). Isolated positions are judged alone; cross
    /// positions share the wallet. The clearance fee is booked as `INSURANCE_CLEAR`.
    pub(super) fn liquidate(&mut self, acct: usize, from: i64, now: i64) {
        let a = &self.accounts[acct];
        let mut worst: Vec<(PositionKey, Decimal, Decimal, bool)> = Vec::new();
        for (key, p) in a.positions.iter().filter(|(_, p)| !p.amount.is_zero()) {
            let symbol = &key.0;
            let Some((low, high)) = self.market.mark_price_range(symbol, from, now) else {
                continue;
            };
            let price = if p.amount.is_sign_positive() {
                low
            } else {
                high
            };
            let isolated = a.settings.get(symbol).copied().unwrap_or_default().isolated;
            worst.push((key.clone(), price, p.amount, isolated));
        }
        let maint = |symbol: &str, amount: Decimal, price: Decimal| -> Decimal {
            let notional = (amount * price).abs();
            self.market.spec(symbol).map_or(Decimal::ZERO, |s| {
                let b = s.maint_bracket(notional);
                notional * b.maint_margin_ratio - b.cum
            })
        };
        let mut doomed: Vec<(PositionKey, Decimal)> = Vec::new();
        let mut cross_equity = a.wallet;
        let mut cross_maint = Decimal::ZERO;
        let mut cross: Vec<(PositionKey, Decimal)> = Vec::new();
        // Margin-call candidates: (key, mark price, maintenance margin, pnl, isolated).
        let mut cross_rows: Vec<MarginCallRow> = Vec::new();
        let mut isolated_calls: Vec<MarginCallRow> = Vec::new();
        let mut isolated_clear: Vec<PositionKey> = Vec::new();
        for (key, price, amount, isolated) in &worst {
            let symbol = &key.0;
            let p = &a.positions[key];
            let pnl = (*price - p.entry_price) * *amount;
            let mm = maint(symbol, *amount, *price);
            let row = MarginCallRow {
                key: key.clone(),
                amount: *amount,
                mark: *price,
                maint: mm,
                pnl,
                isolated: *isolated,
            };
            if *isolated {
                let lev =
                    Decimal::from(a.settings.get(symbol).copied().unwrap_or_default().leverage);
                let margin = (p.entry_price * amount.abs()) / lev + pnl;
                if margin <= mm {
                    doomed.push((key.clone(), *price));
                    isolated_clear.push(key.clone());
                } else if mm >= margin * MARGIN_CALL_RATIO {
                    isolated_calls.push(row);
                } else {
                    isolated_clear.push(key.clone());
                }
            } else {
                cross_equity += pnl;
                cross_maint += mm;
                cross.push((key.clone(), *price));
                cross_rows.push(row);
            }
        }
        let cross_doomed = !cross.is_empty() && cross_equity <= cross_maint;
        let cross_call =
            !cross.is_empty() && !cross_doomed && cross_maint >= cross_equity * MARGIN_CALL_RATIO;
        if cross_doomed {
            doomed.extend(cross);
        }
        self.margin_calls(
            acct,
            cross_call,
            cross_rows,
            isolated_calls,
            &isolated_clear,
            now,
        );
        for ((symbol, position_side), price) in doomed {
            let Some(p) = self.accounts[acct]
                .positions
                .get(&(symbol.clone(), position_side))
                .cloned()
            else {
                continue;
            };
            if p.amount.is_zero() {
                continue;
            }
            let side = if p.amount.is_sign_positive() {
                Side::Sell
            } else {
                Side::Buy
            };
            let qty = p.amount.abs();
            let order_id = self.id();
            let exec = self.fill(
                acct,
                Fill {
                    order_id,
                    symbol: &symbol,
                    side,
                    position_side,
                    qty,
                    price,
                    maker: false,
                },
                now,
            );
            let fee_rate = self
                .market
                .spec(&symbol)
                .map_or(Decimal::ZERO, |s| s.liquidation_fee);
            let fee = (qty * price * fee_rate).round_dp(8);
            let tran_id = self.id();
            let a = &mut self.accounts[acct];
            a.wallet -= fee;
            a.income.push(IncomeRow {
                tran_id,
                symbol: symbol.clone(),
                income_type: "INSURANCE_CLEAR",
                income: -fee,
                info: "INSURANCE_CLEAR".into(),
                time: now,
                trade_id: None,
            });
            // Binance shows the forced close as a LIQUIDATION order with an "autoclose-" id.
            let forced = SimOrder {
                order_id,
                client_order_id: format!("autoclose-{now}"),
                symbol: symbol.clone(),
                side,
                position_side,
                order_type: "LIQUIDATION".into(),
                time_in_force: "IOC".into(),
                price,
                orig_qty: qty,
                executed_qty: qty,
                cum_quote: (qty * price).round_dp(8),
                reduce_only: true,
                status: "FILLED",
                time: now,
                update_time: now,
            };
            a.orders.push(forced.clone());
            // Open orders of a liquidated symbol are cancelled, as Binance does.
            let (cancel, keep): (Vec<usize>, Vec<usize>) =
                a.open.iter().partition(|&&i| a.orders[i].symbol == symbol);
            a.open = keep;
            for i in cancel {
                a.orders[i].status = "CANCELED";
                a.orders[i].update_time = now;
            }
            self.emit_order(acct, &forced, "CALCULATED", Some(&exec), now);
            tracing::info!(account = acct, %symbol, %price, "position liquidated");
        }
    }

    /// Sends MARGIN_CALL once each time a margin ratio (maintenance margin over margin
    /// balance) rises through [`MARGIN_CALL_RATIO`]: the cross positions together, each
    /// isolated position alone. A ratio back below the level re-arms it.
    fn margin_calls(
        &mut self,
        acct: usize,
        cross_call: bool,
        cross_rows: Vec<MarginCallRow>,
        isolated_calls: Vec<MarginCallRow>,
        isolated_clear: &[PositionKey],
        now: i64,
    ) {
        let a = &mut self.accounts[acct];
        for key in isolated_clear {
            a.margin_called_isolated.remove(key);
        }
        // A closed position's call is over; a new position starts un-called.
        let positions = &a.positions;
        a.margin_called_isolated
            .retain(|k| positions.get(k).is_some_and(|p| !p.amount.is_zero()));
        let mut events = Vec::new();
        if cross_call && !a.margin_called_cross {
            events.push((Some(a.wallet), cross_rows));
        }
        a.margin_called_cross = cross_call;
        for row in isolated_calls {
            if a.margin_called_isolated.insert(row.key.clone()) {
                events.push((None, vec![row]));
            }
        }
        for (cross_wallet, rows) in events {
            let positions: Vec<Value> = rows
                .iter()
                .map(|r| {
                    let margin = if r.isolated {
                        let lev = Decimal::from(
                            a.settings
                                .get(&r.key.0)
                                .copied()
                                .unwrap_or_default()
                                .leverage,
                        );
                        let entry = a
                            .positions
                            .get(&r.key)
                            .map_or(Decimal::ZERO, |p| p.entry_price);
                        (entry * r.amount.abs()) / lev
                    } else {
                        Decimal::ZERO
                    };
                    json!({
                        "s": r.key.0, "ps": r.key.1.as_str(), "pa": dec(r.amount),
                        "mt": if r.isolated { "ISOLATED" } else { "CROSSED" },
                        "iw": dec(margin.round_dp(8)), "mp": dec(r.mark),
                        "up": dec(r.pnl.round_dp(8)), "mm": dec(r.maint.round_dp(8)),
                    })
                })
                .collect();
            let mut event = json!({"e": "MARGIN_CALL", "E": now, "p": positions});
            // `cw` is only sent with a cross margin call (docs).
            if let Some(w) = cross_wallet {
                event["cw"] = json!(dec(w));
            }
            self.outbox.push((acct, event));
        }
    }

    pub(super) fn apply_funding(&mut self, acct: usize, from: i64, now: i64) {
        // Funding happens three times a day; most steps have none, so skip them cheaply.
        if self.market.next_funding_time(from) > now {
            return;
        }
        // One payment per position: in hedge mode the LONG and SHORT sides each pay or receive.
        let symbols: Vec<(String, PositionSide, Decimal)> = self.accounts[acct]
            .positions
            .iter()
            .filter(|(_, p)| !p.amount.is_zero())
            .map(|((s, ps), p)| (s.clone(), *ps, p.amount))
            .collect();
        for (symbol, position_side, amount) in symbols {
            for (time, rate) in self.market.funding_events_between(&symbol, from, now) {
                let mark = self.market.mark_price(&symbol, time).unwrap_or_default();
                // Longs pay shorts when the rate is positive.
                let payment = (-(amount * mark * rate)).round_dp(8);
                let tran_id = self.id();
                let a = &mut self.accounts[acct];
                a.wallet += payment;
                a.income.push(IncomeRow {
                    tran_id,
                    symbol: symbol.clone(),
                    income_type: "FUNDING_FEE",
                    income: payment,
                    info: "FUNDING_FEE".into(),
                    time,
                    trade_id: None,
                });
                self.emit_account(acct, "FUNDING_FEE", &symbol, position_side, time);
            }
        }
    }

    /// `POST /fapi/v1/leverage`.
    ///
    /// # Errors
    /// -4028 when the leverage is out of the symbol's range.
    pub fn set_leverage(&mut self, acct: usize, p: &Params) -> Result<Value, ApiError> {
        let symbol = p.req("symbol")?;
        let spec = self.spec(symbol)?.clone();
        let leverage: u32 = p
            .req("leverage")?
            .parse()
            .map_err(|_| ApiError::invalid("leverage"))?;
        let max = spec.brackets.first().map_or(125, |b| b.initial_leverage);
        if leverage == 0 || leverage > max {
            return Err(ApiError::bad(
                -4028,
                format!("Leverage {leverage} is not valid"),
            ));
        }
        let cap = spec
            .brackets
            .iter()
            .filter(|b| b.initial_leverage >= leverage)
            .map(|b| b.notional_cap)
            .max()
            .unwrap_or_default();
        self.accounts[acct]
            .settings
            .entry(symbol.to_owned())
            .or_default()
            .leverage = leverage;
        Ok(json!({"leverage": leverage, "maxNotionalValue": dec(cap), "symbol": symbol}))
    }

    /// `POST /fapi/v1/positionSide/dual`: switches the account between one-way
    /// (`dualSidePosition=false`) and hedge mode (`true`), for all symbols.
    ///
    /// # Errors
    /// -4059 when already in that mode, -4067 with open orders (regular or algo), -4068 with
    /// a position; nothing changes then.
    pub fn set_position_mode(
        &mut self,
        acct: usize,
        p: &Params,
        now: i64,
    ) -> Result<Value, ApiError> {
        self.advance(now);
        let dual = p
            .bool("dualSidePosition")?
            .ok_or_else(|| ApiError::mandatory("dualSidePosition"))?;
        let a = &mut self.accounts[acct];
        if a.dual_side == dual {
            return Err(ApiError::bad(-4059, "No need to change position side."));
        }
        if !a.open.is_empty() || a.algo_orders.iter().any(|o| o.status == "NEW") {
            return Err(ApiError::bad(
                -4067,
                "Position side cannot be changed if there exists open orders.",
            ));
        }
        if a.positions.values().any(|p| !p.amount.is_zero()) {
            return Err(ApiError::bad(
                -4068,
                "Position side cannot be changed if there exists position.",
            ));
        }
        a.dual_side = dual;
        Ok(json!({"code": 200, "msg": "success"}))
    }

    /// `POST /fapi/v1/marginType`.
    ///
    /// # Errors
    /// -4046 when unchanged; -4048 with an open position or orders.
    pub fn set_margin_type(&mut self, acct: usize, p: &Params) -> Result<Value, ApiError> {
        let symbol = p.req("symbol")?;
        self.spec(symbol)?;
        let isolated = match p.req("marginType")? {
            "ISOLATED" => true,
            "CROSSED" => false,
            _ => return Err(ApiError::invalid("marginType")),
        };
        let a = &mut self.accounts[acct];
        let s = a.settings.entry(symbol.to_owned()).or_default();
        if s.isolated == isolated {
            return Err(ApiError::bad(-4046, "No need to change margin type."));
        }
        let busy = a
            .positions
            .iter()
            .any(|((s, _), p)| s == symbol && !p.amount.is_zero())
            || a.open.iter().any(|&i| a.orders[i].symbol == symbol);
        if busy {
            return Err(ApiError::bad(
                -4048,
                "Margin type cannot be changed if there exists position.",
            ));
        }
        a.settings.entry(symbol.to_owned()).or_default().isolated = isolated;
        Ok(json!({"code": 200, "msg": "success"}))
    }

    /// `GET /fapi/v3/positionRisk`: symbols with a position (v3 lists only those). One-way
    /// mode gives one `BOTH` row per symbol; hedge mode gives the `LONG` and the `SHORT` row
    /// of every symbol with a position on either side.
    pub fn position_risk(&mut self, acct: usize, symbol: Option<&str>, now: i64) -> Value {
        self.advance(now);
        let a = &self.accounts[acct];
        let wanted = |s: &String| symbol.is_none_or(|x| x == s.as_str());
        let keys: Vec<(PositionKey, Position)> = if a.dual_side {
            let held: std::collections::BTreeSet<&String> = a
                .positions
                .iter()
                .filter(|((s, ps), p)| {
                    *ps != PositionSide::Both && !p.amount.is_zero() && wanted(s)
                })
                .map(|((s, _), _)| s)
                .collect();
            held.into_iter()
                .flat_map(|s| [PositionSide::Long, PositionSide::Short].map(|ps| (s.clone(), ps)))
                .map(|k| {
                    let p = a.positions.get(&k).cloned().unwrap_or_default();
                    (k, p)
                })
                .collect()
        } else {
            a.positions
                .iter()
                .filter(|((s, ps), p)| {
                    *ps == PositionSide::Both && !p.amount.is_zero() && wanted(s)
                })
                .map(|(k, p)| (k.clone(), p.clone()))
                .collect()
        };
        let rows: Vec<Value> = keys
            .iter()
            .map(|((s, ps), p)| {
                let mark = self.market.mark_price(s, now).unwrap_or(p.entry_price);
                let settings = a.settings.get(s).copied().unwrap_or_default();
                let notional = p.amount * mark;
                let initial = notional.abs() / Decimal::from(settings.leverage);
                let maint = self.market.spec(s).map_or(Decimal::ZERO, |spec| {
                    let b = spec.maint_bracket(notional.abs());
                    notional.abs() * b.maint_margin_ratio - b.cum
                });
                json!({
                    "symbol": s, "positionSide": ps.as_str(), "positionAmt": dec(p.amount),
                    "entryPrice": dec(p.entry_price), "breakEvenPrice": dec(p.entry_price),
                    "markPrice": dec(mark), "unRealizedProfit": dec(((mark - p.entry_price) * p.amount).round_dp(8)),
                    "liquidationPrice": "0", "isolatedMargin": "0", "notional": dec(notional.round_dp(8)),
                    "marginAsset": "USDT", "isolatedWallet": "0", "initialMargin": dec(initial.round_dp(8)),
                    "maintMargin": dec(maint.round_dp(8)), "positionInitialMargin": dec(initial.round_dp(8)),
                    "openOrderInitialMargin": "0", "adl": 0, "bidNotional": "0", "askNotional": "0",
                    "updateTime": p.update_time,
                })
            })
            .collect();
        Value::Array(rows)
    }

    /// `GET /fapi/v3/account` (and `/fapi/v2/account` with its extra fields when `v2`).
    pub fn account(&mut self, acct: usize, v2: bool, now: i64) -> Value {
        self.advance(now);
        let risk = self.position_risk(acct, None, now);
        let a = &self.accounts[acct];
        let margin_balance = self.margin_balance(a, now);
        let unrealized = margin_balance - a.wallet;
        let available = self.available(a, now);
        let used = self.used_margin(a, now);
        let field = |row: &Value, k: &str| {
            row[k]
                .as_str()
                .and_then(|v| v.parse::<Decimal>().ok())
                .unwrap_or_default()
        };
        let rows: Vec<&Value> = risk
            .as_array()
            .map(|r| r.iter().collect())
            .unwrap_or_default();
        let maint: Decimal = rows.iter().map(|r| field(r, "maintMargin")).sum();
        let position_im: Decimal = rows.iter().map(|r| field(r, "initialMargin")).sum();
        let positions: Vec<Value> = rows
            .iter()
            .map(|r| {
                let mut p = json!({
                    "symbol": r["symbol"], "positionSide": r["positionSide"], "positionAmt": r["positionAmt"],
                    "unrealizedProfit": r["unRealizedProfit"], "isolatedMargin": r["isolatedMargin"],
                    "notional": r["notional"], "isolatedWallet": r["isolatedWallet"],
                    "initialMargin": r["initialMargin"], "maintMargin": r["maintMargin"], "updateTime": r["updateTime"],
                });
                if v2 {
                    let symbol = r["symbol"].as_str().unwrap_or_default();
                    let s = a.settings.get(symbol).copied().unwrap_or_default();
                    p["leverage"] = json!(s.leverage.to_string());
                    p["isolated"] = json!(s.isolated);
                    p["entryPrice"] = r["entryPrice"].clone();
                    p["maxNotional"] = json!("0");
                    p["bidNotional"] = json!("0");
                    p["askNotional"] = json!("0");
                    p["positionInitialMargin"] = r["positionInitialMargin"].clone();
                    p["openOrderInitialMargin"] = json!("0");
                }
                p
            })
            .collect();
        let d = |v: Decimal| dec(v.round_dp(8));
        let mut reply = json!({
            "totalInitialMargin": d(used), "totalMaintMargin": d(maint), "totalWalletBalance": d(a.wallet),
            "totalUnrealizedProfit": d(unrealized), "totalMarginBalance": d(margin_balance),
            "totalPositionInitialMargin": d(position_im), "totalOpenOrderInitialMargin": d(used - position_im),
            "totalCrossWalletBalance": d(a.wallet), "totalCrossUnPnl": d(unrealized), "availableBalance": d(available),
            "maxWithdrawAmount": d(available),
            "assets": [{
                "asset": "USDT", "walletBalance": d(a.wallet), "unrealizedProfit": d(unrealized),
                "marginBalance": d(margin_balance), "maintMargin": d(maint), "initialMargin": d(used),
                "positionInitialMargin": d(position_im), "openOrderInitialMargin": d(used - position_im),
                "crossWalletBalance": d(a.wallet), "crossUnPnl": d(unrealized), "availableBalance": d(available),
                "maxWithdrawAmount": d(available), "marginAvailable": true, "updateTime": now,
            }],
            "positions": positions,
        });
        if v2 {
            for (k, v) in [
                ("feeTier", json!(0)),
                ("feeBurn", json!(false)),
                ("canTrade", json!(a.permissions.futures)),
                ("canDeposit", json!(true)),
                ("canWithdraw", json!(a.permissions.withdrawals)),
                ("updateTime", json!(0)),
                ("multiAssetsMargin", json!(false)),
                ("tradeGroupId", json!(-1)),
            ] {
                reply[k] = v;
            }
        }
        reply
    }

    /// `GET /fapi/v3/balance`.
    pub fn balance(&mut self, acct: usize, now: i64) -> Value {
        self.advance(now);
        let a = &self.accounts[acct];
        let unrealized: Decimal = a
            .positions
            .iter()
            .map(|((s, _), p)| self.unrealized(s, p, now))
            .sum();
        let available = self.available(a, now);
        json!([{
            "accountAlias": "SimAccount", "asset": "USDT", "balance": dec(a.wallet),
            "crossWalletBalance": dec(a.wallet), "crossUnPnl": dec(unrealized.round_dp(8)),
            "availableBalance": dec(available.round_dp(8)), "maxWithdrawAmount": dec(available.round_dp(8)),
            "marginAvailable": true, "updateTime": now,
        }])
    }

    /// `GET /fapi/v1/income` from `start` (inclusive), oldest first, at most `limit`.
    pub fn income(
        &mut self,
        acct: usize,
        start: i64,
        income_type: Option<&str>,
        limit: usize,
        now: i64,
    ) -> Value {
        self.advance(now);
        Value::Array(
            self.accounts[acct]
                .income
                .iter()
                .filter(|r| r.time >= start && income_type.is_none_or(|t| t == r.income_type))
                .take(limit)
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
}
