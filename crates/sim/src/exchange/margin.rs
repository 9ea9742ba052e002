//! Positions and margin: margin balance and available margin, leverage, margin type and
//! position mode, the position and account views, funding, liquidation and MARGIN_CALL.

use std::collections::{BTreeSet, HashMap};

use rust_decimal::Decimal;

use super::Exchange;
use super::book::Fill;
use super::events::{MarginCallRow, UserEvent};
use super::state::{
    Account, IncomeRow, OrderType, Permissions, Position, PositionKey, PositionSide, Side,
    SimOrder, TimeInForce,
};
use crate::error::ApiError;
use crate::params::{Income, SelfTradePrevention, SetLeverage, SetMarginType, SetPositionMode};

/// The margin ratio (maintenance margin over margin balance) at which MARGIN_CALL is sent.
/// Binance's docs say only "when the user's position risk ratio is too high"; 80 % is the
/// sim's choice, a fifth of the way before liquidation at 100 %.
pub const MARGIN_CALL_RATIO: Decimal = Decimal::from_parts(8, 0, 0, false, 1);

/// One row of `GET /fapi/v3/positionRisk` (and of the account's positions), with the money
/// values rounded to 8 decimals as they are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionRow {
    /// Symbol.
    pub symbol: String,
    /// BOTH, LONG or SHORT.
    pub position_side: PositionSide,
    /// Signed amount.
    pub amount: Decimal,
    /// Entry price.
    pub entry_price: Decimal,
    /// Mark price now.
    pub mark: Decimal,
    /// Unrealized PnL at the mark.
    pub unrealized: Decimal,
    /// Signed notional at the mark.
    pub notional: Decimal,
    /// Initial margin at the symbol's leverage.
    pub initial: Decimal,
    /// Maintenance margin from the brackets.
    pub maint: Decimal,
    /// Last change.
    pub update_time: i64,
    /// The symbol's leverage.
    pub leverage: u32,
    /// Isolated margin on the symbol.
    pub isolated: bool,
    /// The isolated position's own margin (zero for cross).
    pub isolated_wallet: Decimal,
    /// The mark price that liquidates it (zero: none).
    pub liquidation_price: Decimal,
    /// The price that makes up for opening and closing commission.
    pub break_even_price: Decimal,
    /// The symbol's largest notional at its leverage (the bracket's cap).
    pub max_notional: Decimal,
}

/// `GET /fapi/v3/account` (and v2): the wallet, margins and positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountView {
    /// Wallet balance.
    pub wallet: Decimal,
    /// Wallet + unrealized PnL.
    pub margin_balance: Decimal,
    /// Unrealized PnL of every position.
    pub unrealized: Decimal,
    /// What new orders can still use.
    pub available: Decimal,
    /// Initial margin of positions and open orders.
    pub initial: Decimal,
    /// Maintenance margin of the positions (the rows' sum).
    pub maint: Decimal,
    /// Initial margin of the positions (the rows' sum).
    pub position_initial: Decimal,
    /// The positions.
    pub positions: Vec<PositionRow>,
    /// What the key may do.
    pub permissions: Permissions,
}

/// `GET /fapi/v3/balance`: the USDT wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BalanceView {
    /// Wallet balance.
    pub wallet: Decimal,
    /// Unrealized PnL of every position.
    pub unrealized: Decimal,
    /// What new orders can still use.
    pub available: Decimal,
}

impl Exchange {
    /// Unrealized PnL of the account's positions at mark price.
    fn unrealized(&self, a: &Account, now: i64) -> Decimal {
        a.positions
            .iter()
            .map(|((s, _), p)| (self.mark_or(s, now, p.entry_price) - p.entry_price) * p.amount)
            .sum()
    }

    /// Margin the account's positions and open orders hold (initial margin at their leverage).
    fn used_margin(&self, a: &Account, now: i64) -> Decimal {
        let mut used = Decimal::ZERO;
        for ((symbol, _), p) in &a.positions {
            let mark = self.mark_or(symbol, now, p.entry_price);
            used += (p.amount.abs() * mark) / a.settings_of(symbol).leverage() + p.margin_added;
        }
        for o in a.open_orders() {
            used += ((o.orig_qty - o.executed_qty) * o.price) / a.settings_of(&o.symbol).leverage();
        }
        used
    }

    /// Wallet + unrealized PnL: Binance's margin balance.
    pub fn margin_balance(&self, a: &Account, now: i64) -> Decimal {
        a.wallet + self.unrealized(a, now)
    }

    /// What new orders can still use.
    pub fn available(&self, a: &Account, now: i64) -> Decimal {
        (self.margin_balance(a, now) - self.used_margin(a, now)).max(Decimal::ZERO)
    }

    /// What opening `qty` at `price` on `symbol` costs: its initial margin at the symbol's
    /// leverage plus the taker commission.
    pub(super) fn margin_for(
        &self,
        a: &Account,
        symbol: &str,
        qty: Decimal,
        price: Decimal,
    ) -> Decimal {
        (qty * price) / a.settings_of(symbol).leverage() + qty * price * self.fees.taker
    }

    /// The maintenance margin of `notional` (absolute) on `symbol`, from its brackets.
    pub(super) fn maint_margin(&self, symbol: &str, notional: Decimal) -> Decimal {
        self.market.spec(symbol).map_or(Decimal::ZERO, |s| {
            let b = s.maint_bracket(notional);
            notional * b.maint_margin_ratio - b.cum
        })
    }

    /// Closes positions whose margin no longer covers their maintenance margin, at the worst
    /// mark price of the step (Binance watches the mark price continuously, so the worst point
    /// of the step is where it would have acted). Isolated positions are judged alone; cross
    /// positions share the wallet. A close never fills past the bankruptcy price (where it
    /// would lose more than the position's margin, or for cross the wallet's): beyond it
    /// Binance's insurance fund takes the loss, so no wallet goes negative. The clearance fee,
    /// at most what margin is left, is booked as `INSURANCE_CLEAR`.
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
            let isolated = a.settings_of(symbol).isolated;
            worst.push((key.clone(), price, p.amount, isolated));
        }
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
            let mm = self.maint_margin(symbol, (*amount * *price).abs());
            // An isolated position's own margin: what it was opened with.
            let isolated_wallet = self.isolated_wallet(a, symbol, p);
            let row = MarginCallRow {
                key: key.clone(),
                amount: *amount,
                mark: *price,
                maint: mm,
                pnl,
                isolated: *isolated,
                isolated_wallet,
            };
            if *isolated {
                let margin = isolated_wallet + pnl;
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
        let worst_of: HashMap<PositionKey, Decimal> = worst
            .iter()
            .map(|(k, price, _, _)| (k.clone(), *price))
            .collect();
        for ((symbol, position_side), worst_price) in doomed {
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
            // What this close may lose: past it the insurance fund takes over, as on Binance,
            // so the fill is never worse than the bankruptcy price and no wallet goes negative.
            let key = (symbol.clone(), position_side);
            let cap = self.loss_cap(acct, &key, &worst_of).max(Decimal::ZERO);
            let price = self.not_past_bankruptcy(&symbol, &p, cap, worst_price);
            let order_id = self.id();
            // Binance closes at the bankruptcy side through its insurance engine: no slippage.
            let fill = Fill {
                order_id,
                symbol: &symbol,
                side,
                position_side,
                qty,
                price,
            };
            let exec = self.fill(acct, fill, false, now);
            let fee_rate = self
                .market
                .spec(&symbol)
                .map_or(Decimal::ZERO, |s| s.liquidation_fee);
            // The clearance fee takes what is left of the margin, never more.
            let left = cap + exec.realized - exec.commission;
            let fee = (qty * price * fee_rate)
                .round_dp(8)
                .min(left.max(Decimal::ZERO));
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
                order_type: OrderType::Liquidation,
                time_in_force: TimeInForce::Ioc,
                price,
                orig_qty: qty,
                executed_qty: qty,
                cum_quote: (qty * price).round_dp(8),
                reduce_only: true,
                status: "FILLED",
                time: now,
                update_time: now,
                self_trade_prevention: SelfTradePrevention::ExpireMaker,
                price_match: None,
                good_till_date: 0,
            };
            a.orders.push(forced.clone());
            // Open orders of a liquidated symbol are cancelled, as Binance does (without an
            // event of their own).
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

    /// What closing the position at `key` may cost its owner at most: an isolated position its
    /// own margin; a cross position the wallet less the other isolated positions' margins, plus
    /// (or less) the other open cross positions' PnL at their worst marks of the step.
    fn loss_cap(
        &self,
        acct: usize,
        key: &PositionKey,
        worst_of: &HashMap<PositionKey, Decimal>,
    ) -> Decimal {
        let a = &self.accounts[acct];
        let p = &a.positions[key];
        if a.settings_of(&key.0).isolated {
            return self.isolated_wallet(a, &key.0, p);
        }
        let mut cap = a.wallet;
        for (other, q) in a
            .positions
            .iter()
            .filter(|(k, q)| *k != key && !q.amount.is_zero())
        {
            if a.settings_of(&other.0).isolated {
                cap -= self.isolated_wallet(a, &other.0, q);
            } else if let Some(price) = worst_of.get(other) {
                cap += (*price - q.entry_price) * q.amount;
            }
        }
        cap
    }

    /// `worst`, or the bankruptcy price when `worst` lies past it: the price at which closing
    /// `p` loses exactly `cap` with the taker commission, rounded to the tick toward the entry.
    fn not_past_bankruptcy(
        &self,
        symbol: &str,
        p: &Position,
        cap: Decimal,
        worst: Decimal,
    ) -> Decimal {
        let qty = p.amount.abs();
        let (Some(spec), false) = (self.market.spec(symbol), qty.is_zero()) else {
            return worst;
        };
        let (tick, taker) = (spec.tick_size, self.fees.taker);
        let entry_value = p.entry_price * qty;
        if p.amount.is_sign_positive() {
            // (entry - b)·q + b·q·taker = cap
            let b = (entry_value - cap) / (qty * (Decimal::ONE - taker));
            worst.max((b / tick).ceil() * tick)
        } else {
            // (b - entry)·q + b·q·taker = cap
            let b = (entry_value + cap) / (qty * (Decimal::ONE + taker));
            worst.min((b / tick).floor() * tick)
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
            // `cw` is only sent with a cross margin call (docs).
            events.push((Some(a.wallet), cross_rows));
        }
        a.margin_called_cross = cross_call;
        for row in isolated_calls {
            if a.margin_called_isolated.insert(row.key.clone()) {
                events.push((None, vec![row]));
            }
        }
        for (cross_wallet, positions) in events {
            let event = UserEvent::MarginCall {
                time: now,
                cross_wallet,
                positions,
            };
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

    /// `POST /fapi/v1/leverage`: the leverage set and the largest notional it allows.
    ///
    /// # Errors
    /// -1121 for an unknown symbol, -4028 when the leverage is out of the symbol's range.
    pub fn set_leverage(&mut self, acct: usize, req: &SetLeverage) -> Result<Decimal, ApiError> {
        let spec = self.spec(&req.symbol)?;
        let leverage = req.leverage;
        let max = spec.brackets.first().map_or(125, |b| b.initial_leverage);
        if leverage == 0 || leverage > max {
            return Err(ApiError::bad(
                -4028,
                format!("Leverage {leverage} is not valid"),
            ));
        }
        let cap = self.max_notional(&req.symbol, leverage);
        self.accounts[acct]
            .settings
            .entry(req.symbol.clone())
            .or_default()
            .leverage = leverage;
        Ok(cap)
    }

    /// The largest notional `symbol` allows at `leverage`: the cap of the last bracket that
    /// allows it (`maxNotionalValue`).
    pub(super) fn max_notional(&self, symbol: &str, leverage: u32) -> Decimal {
        self.market.spec(symbol).map_or(Decimal::ZERO, |spec| {
            spec.brackets
                .iter()
                .filter(|b| b.initial_leverage >= leverage)
                .map(|b| b.notional_cap)
                .max()
                .unwrap_or_default()
        })
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
        req: SetPositionMode,
        now: i64,
    ) -> Result<(), ApiError> {
        self.advance(now);
        let a = &mut self.accounts[acct];
        if a.dual_side == req.dual {
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
        a.dual_side = req.dual;
        Ok(())
    }

    /// `POST /fapi/v1/marginType`.
    ///
    /// # Errors
    /// -1121 for an unknown symbol, -4046 when unchanged, -4048 with an open position or
    /// orders.
    pub fn set_margin_type(&mut self, acct: usize, req: &SetMarginType) -> Result<(), ApiError> {
        let symbol = req.symbol.as_str();
        self.spec(symbol)?;
        let a = &mut self.accounts[acct];
        let s = a.settings.entry(symbol.to_owned()).or_default();
        if s.isolated == req.isolated {
            return Err(ApiError::bad(-4046, "No need to change margin type."));
        }
        let busy = a
            .positions
            .iter()
            .any(|((s, _), p)| s == symbol && !p.amount.is_zero())
            || a.open_orders().any(|o| o.symbol == symbol);
        if busy {
            return Err(ApiError::bad(
                -4048,
                "Margin type cannot be changed if there exists position.",
            ));
        }
        a.settings.entry(symbol.to_owned()).or_default().isolated = req.isolated;
        Ok(())
    }

    /// `GET /fapi/v3/positionRisk`: symbols with a position (v3 lists only those). One-way
    /// mode gives one `BOTH` row per symbol; hedge mode gives the `LONG` and the `SHORT` row
    /// of every symbol with a position on either side.
    pub fn position_risk(
        &mut self,
        acct: usize,
        symbol: Option<&str>,
        now: i64,
    ) -> Vec<PositionRow> {
        self.advance(now);
        let a = &self.accounts[acct];
        let wanted = |s: &String| symbol.is_none_or(|x| x == s.as_str());
        let keys: Vec<PositionKey> = if a.dual_side {
            let held: BTreeSet<&String> = a
                .positions
                .iter()
                .filter(|((s, ps), p)| {
                    *ps != PositionSide::Both && !p.amount.is_zero() && wanted(s)
                })
                .map(|((s, _), _)| s)
                .collect();
            held.into_iter()
                .flat_map(|s| [PositionSide::Long, PositionSide::Short].map(|ps| (s.clone(), ps)))
                .collect()
        } else {
            a.positions
                .iter()
                .filter(|((s, ps), p)| {
                    *ps == PositionSide::Both && !p.amount.is_zero() && wanted(s)
                })
                .map(|(k, _)| k.clone())
                .collect()
        };
        keys.into_iter()
            .map(|(s, ps)| self.position_row(a, s, ps, now))
            .collect()
    }

    /// `GET /fapi/v2/positionRisk`: every listed symbol (or `symbol`), with or without a
    /// position: a `BOTH` row each in one-way mode, `LONG` and `SHORT` rows in hedge mode.
    ///
    /// # Errors
    /// -1121 for a symbol not listed now.
    pub fn position_risk_all(
        &mut self,
        acct: usize,
        symbol: Option<&str>,
        now: i64,
    ) -> Result<Vec<PositionRow>, ApiError> {
        self.advance(now);
        if let Some(s) = symbol
            && self.market.listed_at(s, now).is_none()
        {
            return Err(ApiError::bad_symbol());
        }
        let a = &self.accounts[acct];
        let sides: &[PositionSide] = if a.dual_side {
            &[PositionSide::Long, PositionSide::Short]
        } else {
            &[PositionSide::Both]
        };
        Ok(self
            .market
            .symbols_at(now)
            .into_iter()
            .filter(|s| symbol.is_none_or(|x| x == *s))
            .flat_map(|s| sides.iter().map(move |ps| (s.to_owned(), *ps)))
            .map(|(s, ps)| self.position_row(a, s, ps, now))
            .collect())
    }

    /// The `positionRisk` row of `symbol` on `ps`.
    fn position_row(&self, a: &Account, s: String, ps: PositionSide, now: i64) -> PositionRow {
        let p = a.position(&s, ps);
        let mark = self.mark_or(&s, now, p.entry_price);
        let settings = a.settings_of(&s);
        let notional = p.amount * mark;
        let initial = notional.abs() / settings.leverage();
        let maint = self.maint_margin(&s, notional.abs());
        let isolated_wallet = self.isolated_wallet(a, &s, &p);
        let liquidation_price = self.liquidation_price(a, &s, ps, now);
        let break_even_price = self.break_even_price(&p);
        let max_notional = self.max_notional(&s, settings.leverage);
        PositionRow {
            isolated_wallet: isolated_wallet.round_dp(8),
            liquidation_price,
            break_even_price,
            max_notional,
            position_side: ps,
            amount: p.amount,
            entry_price: p.entry_price,
            mark,
            unrealized: ((mark - p.entry_price) * p.amount).round_dp(8),
            notional: notional.round_dp(8),
            initial: initial.round_dp(8),
            maint: maint.round_dp(8),
            update_time: p.update_time,
            leverage: settings.leverage,
            isolated: settings.isolated,
            symbol: s,
        }
    }

    /// `GET /fapi/v3/account` (and `/fapi/v2/account`).
    pub fn account(&mut self, acct: usize, now: i64) -> AccountView {
        let positions = self.position_risk(acct, None, now);
        let a = &self.accounts[acct];
        let margin_balance = self.margin_balance(a, now);
        AccountView {
            wallet: a.wallet,
            unrealized: margin_balance - a.wallet,
            margin_balance,
            available: self.available(a, now),
            initial: self.used_margin(a, now),
            maint: positions.iter().map(|r| r.maint).sum(),
            position_initial: positions.iter().map(|r| r.initial).sum(),
            positions,
            permissions: a.permissions,
        }
    }

    /// `GET /fapi/v3/balance`.
    pub fn balance(&mut self, acct: usize, now: i64) -> BalanceView {
        self.advance(now);
        let a = &self.accounts[acct];
        BalanceView {
            wallet: a.wallet,
            unrealized: self.unrealized(a, now),
            available: self.available(a, now),
        }
    }

    /// `GET /fapi/v1/income`: rows in the query's window (the last 7 days without one) of its
    /// symbol and type, oldest first, at most `limit`.
    pub fn income(&mut self, acct: usize, req: &Income, now: i64) -> Vec<&IncomeRow> {
        self.advance(now);
        let (start, end) = req.window(now);
        self.accounts[acct]
            .income
            .iter()
            .filter(|r| {
                (start..=end).contains(&r.time)
                    && req.symbol.as_deref().is_none_or(|s| s == r.symbol)
                    && req
                        .income_type
                        .as_deref()
                        .is_none_or(|t| t == r.income_type)
            })
            .take(req.limit)
            .collect()
    }
}
