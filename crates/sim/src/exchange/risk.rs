//! What `positionRisk` shows beyond the amounts: the isolated wallet of a position, its
//! liquidation price and its break-even price, computed as Binance does; and the isolated
//! margin a user adds or removes (`positionMargin`) with its history.
//!
//! The liquidation price is the mark price at which [`Exchange::liquidate`] would close the
//! position, which is Binance's rule (margin no longer covering the maintenance margin), so
//! the price shown and the price acted on agree. Solved for that price it is Binance's
//! formula (CONTRACT.md; the same as `perpdesk_core::preview::liquidation_price`):
//! `LP = (WB − TMM₁ + UPNL₁ + cum − s·q·EP) / (q·MMR − s·q)` with `WB` the isolated wallet
//! (isolated; `TMM₁ = UPNL₁ = 0`) or the wallet (cross, `TMM₁`/`UPNL₁` the maintenance
//! margin and unrealized PnL of the account's other cross positions at the mark), `s` +1
//! long and −1 short, and `MMR`/`cum` of the bracket the notional at `LP` falls in.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Exchange;
use super::orders::order_position_side;
use super::state::{Account, Position, PositionSide};
use crate::error::ApiError;

/// One change of a position's isolated margin, as `GET /fapi/v1/positionMargin/history`
/// lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginChange {
    pub symbol: String,
    pub position_side: PositionSide,
    /// Added (`true`, Binance's type 1) or removed (type 2).
    pub added: bool,
    pub amount: Decimal,
    pub time: i64,
}

/// One row of `GET /fapi/v1/symbolConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolConfig {
    pub symbol: String,
    pub isolated: bool,
    pub leverage: u32,
    /// The largest notional at that leverage (`maxNotionalValue`).
    pub max_notional: Decimal,
}

/// `POST /fapi/v1/positionMargin`: add to or remove from an isolated position's margin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginAdjust {
    pub symbol: String,
    pub position_side: PositionSide,
    /// Add (type 1) or remove (type 2).
    pub add: bool,
    pub amount: Decimal,
}

impl Exchange {
    /// The margin an isolated position holds: its initial margin at the entry price and the
    /// symbol's leverage, plus what the user added (less what was removed). Zero for cross.
    pub(super) fn isolated_wallet(&self, a: &Account, symbol: &str, p: &Position) -> Decimal {
        let settings = a.settings_of(symbol);
        if !settings.isolated || p.amount.is_zero() {
            return Decimal::ZERO;
        }
        (p.entry_price * p.amount.abs()) / settings.leverage() + p.margin_added
    }

    /// The mark price at which the position of `symbol` on `side` is liquidated, or zero when
    /// no price can (Binance's "0"): see the module's formula.
    pub(super) fn liquidation_price(
        &self,
        a: &Account,
        symbol: &str,
        side: PositionSide,
        now: i64,
    ) -> Decimal {
        let p = a.position(symbol, side);
        let Some(spec) = self.market.spec(symbol) else {
            return Decimal::ZERO;
        };
        if p.amount.is_zero() {
            return Decimal::ZERO;
        }
        let s = if p.amount.is_sign_positive() {
            Decimal::ONE
        } else {
            Decimal::NEGATIVE_ONE
        };
        let q = p.amount.abs();
        let base = if a.settings_of(symbol).isolated {
            self.isolated_wallet(a, symbol, &p)
        } else {
            // The other cross positions at the mark: their PnL adds to the wallet, their
            // maintenance margin is owed before this one's.
            let mut base = a.wallet;
            for ((other, other_side), o) in &a.positions {
                if (other == symbol && *other_side == side)
                    || o.amount.is_zero()
                    || a.settings_of(other).isolated
                {
                    continue;
                }
                let mark = self.mark_or(other, now, o.entry_price);
                base += (mark - o.entry_price) * o.amount;
                base -= self.maint_margin(other, (o.amount * mark).abs());
            }
            base
        };
        let solve = |mmr: Decimal, cum: Decimal| {
            let denominator = q * mmr - s * q;
            (!denominator.is_zero()).then(|| (base + cum - s * q * p.entry_price) / denominator)
        };
        // The bracket depends on the notional at the answer: take the one the answer falls in.
        let fitting = spec.brackets.iter().find_map(|b| {
            let lp = solve(b.maint_margin_ratio, b.cum)?;
            let notional = q * lp;
            (lp > Decimal::ZERO && notional >= b.notional_floor && notional < b.notional_cap)
                .then_some(lp)
        });
        let lp = fitting.or_else(|| {
            let mark = self.mark_or(symbol, now, p.entry_price);
            let b = spec.maint_bracket(q * mark);
            solve(b.maint_margin_ratio, b.cum)
        });
        lp.filter(|lp| *lp > Decimal::ZERO)
            .map_or(Decimal::ZERO, |lp| lp.round_dp(8))
    }

    /// The price at which closing the position makes up for the commission of opening and of
    /// closing it, both at the taker rate: `EP·(1 + f)/(1 − f)` for a long, `EP·(1 − f)/(1 + f)`
    /// for a short (funding is left out, as Binance leaves it out).
    pub(super) fn break_even_price(&self, p: &Position) -> Decimal {
        if p.amount.is_zero() {
            return Decimal::ZERO;
        }
        let f = if p.amount.is_sign_positive() {
            self.fees.taker
        } else {
            -self.fees.taker
        };
        (p.entry_price * (Decimal::ONE + f) / (Decimal::ONE - f)).round_dp(8)
    }

    /// `symbolConfig`'s row of `symbol`: margin type, leverage and the notional cap there.
    pub fn symbol_config(&self, acct: usize, symbol: &str) -> SymbolConfig {
        let settings = self.accounts[acct].settings_of(symbol);
        SymbolConfig {
            symbol: symbol.to_owned(),
            isolated: settings.isolated,
            leverage: settings.leverage,
            max_notional: self.max_notional(symbol, settings.leverage),
        }
    }

    /// `POST /fapi/v1/positionMargin`: moves `amount` between the available balance and an
    /// isolated position's margin.
    ///
    /// # Errors
    /// -4054 without a position, -4053 on a cross position (Binance's "only for isolated"),
    /// -4050 adding more than is available, -4051 removing more than was added (the rest
    /// is the position's initial margin, which stays).
    pub fn adjust_margin(
        &mut self,
        acct: usize,
        req: &MarginAdjust,
        now: i64,
    ) -> Result<(), ApiError> {
        self.advance(now);
        let symbol = req.symbol.as_str();
        self.spec(symbol)?;
        let a = &self.accounts[acct];
        let side = order_position_side(a.dual_side, Some(req.position_side), false)?;
        let p = a.position(symbol, side);
        if p.amount.is_zero() {
            return Err(ApiError::bad(
                -4054,
                "Cannot add position margin: position is 0.",
            ));
        }
        if !a.settings_of(symbol).isolated {
            return Err(ApiError::bad(
                -4053,
                "Auto add margin only support for isolated position.",
            ));
        }
        if req.add && req.amount > self.available(a, now) {
            return Err(ApiError::bad(-4050, "Cross balance insufficient."));
        }
        if !req.add && req.amount > p.margin_added {
            return Err(ApiError::bad(-4051, "Isolated balance insufficient."));
        }
        let a = &mut self.accounts[acct];
        let position = a
            .positions
            .get_mut(&(symbol.to_owned(), side))
            .expect("the position exists: its amount is not zero");
        if req.add {
            position.margin_added += req.amount;
        } else {
            position.margin_added -= req.amount;
        }
        position.update_time = now;
        a.margin_changes.push(MarginChange {
            symbol: symbol.to_owned(),
            position_side: side,
            added: req.add,
            amount: req.amount,
            time: now,
        });
        self.emit_account(acct, "MARGIN_TRANSFER", symbol, side, now);
        Ok(())
    }

    /// `GET /fapi/v1/positionMargin/history`: the changes of `symbol`'s isolated margin in
    /// `[start, end]`, oldest first, at most `limit`; `add` keeps one type.
    pub fn margin_history(
        &mut self,
        acct: usize,
        symbol: &str,
        add: Option<bool>,
        (start, end): (i64, i64),
        limit: usize,
        now: i64,
    ) -> Vec<MarginChange> {
        self.advance(now);
        self.accounts[acct]
            .margin_changes
            .iter()
            .filter(|c| {
                c.symbol == symbol
                    && add.is_none_or(|add| add == c.added)
                    && (start..=end).contains(&c.time)
            })
            .take(limit)
            .cloned()
            .collect()
    }
}
