//! Pre-trade risk rules, and the only way to make the [`RiskApproved`] value an order needs to
//! be sent (`perpdesk_binance::Client::place_order` takes nothing else, so an unchecked order
//! does not compile).
//!
//! - [`RiskLimits::check`] is the verdict: every rule against an [`OrderIntent`].
//! - [`RiskLimits::approve`] judges a [`Plan`] by the same rules and, if it passes, wraps the
//!   exact orders that go out: the entry, its stop-loss and its take-profit ([`Bracket`]).
//! - [`approve_exit`] is the path for orders that only shrink a position (a close, a re-placed
//!   stop): no limit may trap a user in a position, so an exit always passes, and it still
//!   comes out as an approved value.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::plan::{Bracket, Plan};
use crate::{OrderRequest, PositionSide, Side, Symbol};

/// The user's risk settings. Every limit has a conservative default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RiskLimits {
    /// Largest notional (USDT) one symbol's position may reach.
    pub max_position_notional: Decimal,
    /// Largest notional (USDT) all positions together may reach.
    pub max_total_notional: Decimal,
    /// Highest leverage an order may use.
    pub max_leverage: u32,
    /// Most opening orders per UTC day.
    pub max_trades_per_day: u32,
    /// Whether every opening order must carry a stop-loss.
    pub require_stop_loss: bool,
    /// Farthest a stop-loss may sit from the entry, in percent of the entry price.
    pub max_stop_distance_pct: Decimal,
    /// Net realised loss (USDT, positive number) after which no new position opens today.
    pub daily_loss_limit: Decimal,
    /// Most positions open at once.
    pub max_concurrent_positions: u32,
    /// When on, only orders that reduce a position pass.
    pub kill_switch: bool,
}

impl Default for RiskLimits {
    fn default() -> Self {
        Self {
            max_position_notional: Decimal::from(1_000),
            max_total_notional: Decimal::from(3_000),
            max_leverage: 10,
            max_trades_per_day: 10,
            require_stop_loss: true,
            max_stop_distance_pct: Decimal::from(5),
            daily_loss_limit: Decimal::from(100),
            max_concurrent_positions: 3,
            kill_switch: false,
        }
    }
}

/// Why a settings value is not a valid limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitsError {
    #[error("{field} must be greater than zero, got {value}")]
    NotPositive { field: &'static str, value: String },
    #[error("max leverage must be between 1 and 125, got {0}")]
    Leverage(u32),
    #[error("max stop distance must be between 0 and 100 percent, got {0}")]
    StopDistance(Decimal),
    #[error("max position notional {per_symbol} exceeds the total notional limit {total}")]
    PerSymbolAboveTotal { per_symbol: Decimal, total: Decimal },
}

/// What an order would do, as the risk check needs to see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderIntent {
    pub symbol: Symbol,
    pub side: Side,
    pub quantity: Decimal,
    /// The price the order is expected to fill at (limit price, or mark for market orders).
    pub price: Decimal,
    pub leverage: u32,
    pub stop_loss: Option<Decimal>,
    pub take_profit: Option<Decimal>,
    /// An order that can only shrink a position (reduce-only or close-position).
    pub reduce_only: bool,
}

impl OrderIntent {
    /// Returns price × quantity.
    pub fn notional(&self) -> Decimal {
        (self.price * self.quantity).abs()
    }
}

/// The account's state at check time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskContext {
    /// Absolute notional per symbol with an open position.
    pub open_notional: BTreeMap<Symbol, Decimal>,
    /// Opening orders sent so far this UTC day.
    pub trades_today: u32,
    /// Net realised PnL so far this UTC day (negative for a loss).
    pub realized_today: Decimal,
}

/// An order refused by a rule, naming the rule and its numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum RiskRefusal {
    #[error("kill switch is on: only orders that reduce a position are allowed")]
    KillSwitch,
    #[error("leverage {requested}x is above the limit of {max}x")]
    MaxLeverage { requested: u32, max: u32 },
    #[error("a stop-loss is required for every new position")]
    StopLossRequired,
    #[error("stop-loss {stop} is on the wrong side of entry {entry} for a {side:?} order")]
    StopLossWrongSide {
        stop: Decimal,
        entry: Decimal,
        side: Side,
    },
    #[error("take-profit {take_profit} is on the wrong side of entry {entry} for a {side:?} order")]
    TakeProfitWrongSide {
        take_profit: Decimal,
        entry: Decimal,
        side: Side,
    },
    #[error("stop-loss is {distance_pct}% from entry; the limit is {max_pct}%")]
    StopLossTooFar {
        distance_pct: Decimal,
        max_pct: Decimal,
    },
    #[error("{symbol} position would reach {notional} USDT; the limit is {max} USDT")]
    MaxPositionNotional {
        symbol: Symbol,
        notional: Decimal,
        max: Decimal,
    },
    #[error("all positions would reach {notional} USDT; the limit is {max} USDT")]
    MaxTotalNotional { notional: Decimal, max: Decimal },
    #[error("{open} positions are open; the limit is {max}")]
    MaxConcurrentPositions { open: u32, max: u32 },
    #[error("{count} trades today; the limit is {max} per day")]
    MaxTradesPerDay { count: u32, max: u32 },
    #[error("today's realised loss is {loss} USDT; the daily limit is {limit} USDT")]
    DailyLossLimit { loss: Decimal, limit: Decimal },
    #[error("quantity must be positive, got {0}")]
    NonPositiveQuantity(Decimal),
    #[error("{0} would open or grow a position; only exits pass without the risk check")]
    NotAnExit(String),
}

impl RiskRefusal {
    /// Returns the rule's stable name, as settings and the UI call it.
    pub fn rule(&self) -> &'static str {
        match self {
            RiskRefusal::KillSwitch => "kill_switch",
            RiskRefusal::MaxLeverage { .. } => "max_leverage",
            RiskRefusal::StopLossRequired => "require_stop_loss",
            RiskRefusal::StopLossWrongSide { .. } => "stop_loss_side",
            RiskRefusal::TakeProfitWrongSide { .. } => "take_profit_side",
            RiskRefusal::StopLossTooFar { .. } => "max_stop_distance_pct",
            RiskRefusal::MaxPositionNotional { .. } => "max_position_notional",
            RiskRefusal::MaxTotalNotional { .. } => "max_total_notional",
            RiskRefusal::MaxConcurrentPositions { .. } => "max_concurrent_positions",
            RiskRefusal::MaxTradesPerDay { .. } => "max_trades_per_day",
            RiskRefusal::DailyLossLimit { .. } => "daily_loss_limit",
            RiskRefusal::NonPositiveQuantity(_) => "quantity",
            RiskRefusal::NotAnExit(_) => "exit",
        }
    }
}

/// Proof that a value passed the risk check. The field is private, so only this module
/// can make one; it is not `Clone`, so one approval sends one order.
#[derive(Debug, PartialEq, Eq)]
pub struct RiskApproved<T>(T);

impl<T> RiskApproved<T> {
    /// Returns the approved value.
    pub fn get(&self) -> &T {
        &self.0
    }

    /// Gives up the proof and returns the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// An approved bracket taken apart: each order keeps its approval.
#[derive(Debug)]
pub struct ApprovedLegs {
    pub entry: RiskApproved<OrderRequest>,
    pub stop_loss: Option<RiskApproved<OrderRequest>>,
    pub take_profit: Option<RiskApproved<OrderRequest>>,
}

impl RiskApproved<Bracket> {
    /// Splits the approval of a bracket into the approvals of its orders.
    pub fn into_legs(self) -> ApprovedLegs {
        let b = self.0;
        ApprovedLegs {
            entry: RiskApproved(b.entry),
            stop_loss: b.stop_loss.map(RiskApproved),
            take_profit: b.take_profit.map(RiskApproved),
        }
    }
}

/// Approves an order that can only shrink a position: a `closePosition` order, a
/// reduce-only order, or in hedge mode a sell on the long side or a buy on the short side.
/// Such an order passes every limit by design (see [`RiskLimits::check`]).
///
/// # Errors
/// [`RiskRefusal::NotAnExit`] for an order that could open or grow a position (those must
/// go through [`RiskLimits::approve`]); [`RiskRefusal::NonPositiveQuantity`] for a zero or
/// negative size.
pub fn approve_exit(request: OrderRequest) -> Result<RiskApproved<OrderRequest>, RiskRefusal> {
    if let Some(q) = request.quantity
        && q <= Decimal::ZERO
    {
        return Err(RiskRefusal::NonPositiveQuantity(q));
    }
    let hedge_exit = matches!(
        (request.position_side, request.side),
        (PositionSide::Long, Side::Sell) | (PositionSide::Short, Side::Buy)
    );
    if request.close_position || request.reduce_only || hedge_exit {
        Ok(RiskApproved(request))
    } else {
        Err(RiskRefusal::NotAnExit(request.client_order_id.to_string()))
    }
}

impl RiskLimits {
    /// Checks that the limits are coherent before they are saved.
    ///
    /// # Errors
    /// Returns the first [`LimitsError`] found.
    pub fn validate(&self) -> Result<(), LimitsError> {
        let positive = [
            ("max_position_notional", self.max_position_notional),
            ("max_total_notional", self.max_total_notional),
            ("daily_loss_limit", self.daily_loss_limit),
        ];
        for (field, value) in positive {
            if value <= Decimal::ZERO {
                return Err(LimitsError::NotPositive {
                    field,
                    value: value.to_string(),
                });
            }
        }
        for (field, value) in [
            ("max_trades_per_day", self.max_trades_per_day),
            ("max_concurrent_positions", self.max_concurrent_positions),
        ] {
            if value == 0 {
                return Err(LimitsError::NotPositive {
                    field,
                    value: value.to_string(),
                });
            }
        }
        if !(1..=125).contains(&self.max_leverage) {
            return Err(LimitsError::Leverage(self.max_leverage));
        }
        if self.max_stop_distance_pct <= Decimal::ZERO
            || self.max_stop_distance_pct > Decimal::ONE_HUNDRED
        {
            return Err(LimitsError::StopDistance(self.max_stop_distance_pct));
        }
        if self.max_position_notional > self.max_total_notional {
            return Err(LimitsError::PerSymbolAboveTotal {
                per_symbol: self.max_position_notional,
                total: self.max_total_notional,
            });
        }
        Ok(())
    }

    /// Judges `plan` by [`RiskLimits::check`] and, if it passes, approves the exact orders it
    /// would send.
    ///
    /// # Errors
    /// The first [`RiskRefusal`] that applies, as [`RiskLimits::check`] gives it.
    pub fn approve(
        &self,
        ctx: &RiskContext,
        plan: Plan,
    ) -> Result<RiskApproved<Bracket>, RiskRefusal> {
        self.check(ctx, &plan.intent())?;
        Ok(RiskApproved(plan.bracket))
    }

    /// Checks an order against every limit: the verdict, without an approval.
    ///
    /// Orders that only reduce a position pass every rule but the quantity check: blocking
    /// a close would trap the user in the very risk the limits exist to cap.
    ///
    /// # Errors
    /// Returns the first [`RiskRefusal`] that applies, naming the rule and the numbers.
    pub fn check(&self, ctx: &RiskContext, intent: &OrderIntent) -> Result<(), RiskRefusal> {
        if intent.quantity <= Decimal::ZERO {
            return Err(RiskRefusal::NonPositiveQuantity(intent.quantity));
        }
        if intent.reduce_only {
            return Ok(());
        }
        if self.kill_switch {
            return Err(RiskRefusal::KillSwitch);
        }
        if intent.leverage > self.max_leverage {
            return Err(RiskRefusal::MaxLeverage {
                requested: intent.leverage,
                max: self.max_leverage,
            });
        }
        let side_sign = intent.side.sign();
        if let Some(tp) = intent.take_profit
            && (tp - intent.price) * side_sign <= Decimal::ZERO
        {
            return Err(RiskRefusal::TakeProfitWrongSide {
                take_profit: tp,
                entry: intent.price,
                side: intent.side,
            });
        }
        match intent.stop_loss {
            None if self.require_stop_loss => return Err(RiskRefusal::StopLossRequired),
            None => {}
            Some(stop) => {
                if (intent.price - stop) * side_sign <= Decimal::ZERO {
                    return Err(RiskRefusal::StopLossWrongSide {
                        stop,
                        entry: intent.price,
                        side: intent.side,
                    });
                }
                let distance_pct =
                    ((intent.price - stop).abs() / intent.price * Decimal::ONE_HUNDRED).round_dp(4);
                if distance_pct > self.max_stop_distance_pct {
                    return Err(RiskRefusal::StopLossTooFar {
                        distance_pct,
                        max_pct: self.max_stop_distance_pct,
                    });
                }
            }
        }
        let loss = -ctx.realized_today;
        if loss >= self.daily_loss_limit {
            return Err(RiskRefusal::DailyLossLimit {
                loss,
                limit: self.daily_loss_limit,
            });
        }
        if ctx.trades_today >= self.max_trades_per_day {
            return Err(RiskRefusal::MaxTradesPerDay {
                count: ctx.trades_today,
                max: self.max_trades_per_day,
            });
        }
        let existing = ctx
            .open_notional
            .get(&intent.symbol)
            .copied()
            .unwrap_or_default();
        let open = u32::try_from(ctx.open_notional.values().filter(|n| !n.is_zero()).count())
            .unwrap_or(u32::MAX);
        if existing.is_zero() && open >= self.max_concurrent_positions {
            return Err(RiskRefusal::MaxConcurrentPositions {
                open,
                max: self.max_concurrent_positions,
            });
        }
        // Adding to a position is counted at full size: a conservative bound that is exact
        // when the order adds in the position's direction, which is the only case an opening
        // (non reduce-only) order can grow risk.
        let symbol_notional = existing + intent.notional();
        if symbol_notional > self.max_position_notional {
            return Err(RiskRefusal::MaxPositionNotional {
                symbol: intent.symbol.clone(),
                notional: symbol_notional,
                max: self.max_position_notional,
            });
        }
        let total: Decimal =
            ctx.open_notional.values().copied().sum::<Decimal>() + intent.notional();
        if total > self.max_total_notional {
            return Err(RiskRefusal::MaxTotalNotional {
                notional: total,
                max: self.max_total_notional,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn btc() -> Symbol {
        Symbol::new("BTCUSDT").unwrap()
    }

    fn long(qty: Decimal, stop: Option<Decimal>) -> OrderIntent {
        OrderIntent {
            symbol: btc(),
            side: Side::Buy,
            quantity: qty,
            price: dec!(30000),
            leverage: 5,
            stop_loss: stop,
            take_profit: Some(dec!(31000)),
            reduce_only: false,
        }
    }

    #[test]
    fn refuses_order_without_stop_loss() {
        let err = RiskLimits::default()
            .check(&RiskContext::default(), &long(dec!(0.01), None))
            .unwrap_err();
        assert_eq!(err, RiskRefusal::StopLossRequired);
        assert_eq!(err.rule(), "require_stop_loss");
    }

    #[test]
    fn refusal_names_rule_and_numbers() {
        let err = RiskLimits::default()
            .check(&RiskContext::default(), &long(dec!(0.1), Some(dec!(29500))))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "BTCUSDT position would reach 3000.0 USDT; the limit is 1000 USDT"
        );
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["rule"], "max_position_notional");
    }

    #[test]
    fn stop_on_wrong_side_or_too_far_is_refused() {
        let limits = RiskLimits::default();
        let ctx = RiskContext::default();
        assert!(matches!(
            limits.check(&ctx, &long(dec!(0.01), Some(dec!(30100)))),
            Err(RiskRefusal::StopLossWrongSide { .. })
        ));
        assert!(matches!(
            limits.check(&ctx, &long(dec!(0.01), Some(dec!(27000)))),
            Err(RiskRefusal::StopLossTooFar { .. })
        ));
        let mut bad_tp = long(dec!(0.01), Some(dec!(29500)));
        bad_tp.take_profit = Some(dec!(29000));
        assert!(matches!(
            limits.check(&ctx, &bad_tp),
            Err(RiskRefusal::TakeProfitWrongSide { .. })
        ));
    }

    #[test]
    fn kill_switch_blocks_opening_but_not_closing() {
        let limits = RiskLimits {
            kill_switch: true,
            ..RiskLimits::default()
        };
        let ctx = RiskContext::default();
        assert_eq!(
            limits.check(&ctx, &long(dec!(0.01), Some(dec!(29500)))),
            Err(RiskRefusal::KillSwitch)
        );
        let mut close = long(dec!(0.01), None);
        close.side = Side::Sell;
        close.reduce_only = true;
        assert!(limits.check(&ctx, &close).is_ok());
    }

    #[test]
    fn daily_loss_and_trade_count_block_new_positions() {
        let limits = RiskLimits::default();
        let ctx = RiskContext {
            realized_today: dec!(-100),
            ..RiskContext::default()
        };
        assert!(matches!(
            limits.check(&ctx, &long(dec!(0.01), Some(dec!(29500)))),
            Err(RiskRefusal::DailyLossLimit { .. })
        ));
        let ctx = RiskContext {
            trades_today: 10,
            ..RiskContext::default()
        };
        assert!(matches!(
            limits.check(&ctx, &long(dec!(0.01), Some(dec!(29500)))),
            Err(RiskRefusal::MaxTradesPerDay { count: 10, max: 10 })
        ));
    }

    #[test]
    fn validates_settings() {
        assert!(RiskLimits::default().validate().is_ok());
        let bad = RiskLimits {
            max_leverage: 200,
            ..RiskLimits::default()
        };
        assert_eq!(bad.validate(), Err(LimitsError::Leverage(200)));
        let bad = RiskLimits {
            max_position_notional: dec!(5000),
            ..RiskLimits::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(LimitsError::PerSymbolAboveTotal { .. })
        ));
    }

    fn exit(side: Side, position_side: PositionSide, reduce_only: bool) -> OrderRequest {
        OrderRequest {
            symbol: btc(),
            side,
            position_side,
            kind: crate::OrderKind::Market,
            quantity: Some(dec!(0.01)),
            reduce_only,
            close_position: false,
            client_order_id: crate::ClientOrderId::new("pd-m1-cl0").unwrap(),
        }
    }

    #[test]
    fn an_exit_is_approved_whatever_the_limits_and_an_entry_is_not() {
        assert!(approve_exit(exit(Side::Sell, PositionSide::Both, true)).is_ok());
        assert!(approve_exit(exit(Side::Sell, PositionSide::Long, false)).is_ok());
        assert!(approve_exit(exit(Side::Buy, PositionSide::Short, false)).is_ok());
        let mut stop = exit(Side::Sell, PositionSide::Both, false);
        stop.close_position = true;
        stop.quantity = None;
        assert_eq!(approve_exit(stop.clone()).map(|a| a.into_inner()), Ok(stop));
        for opening in [
            exit(Side::Buy, PositionSide::Both, false),
            exit(Side::Buy, PositionSide::Long, false),
            exit(Side::Sell, PositionSide::Short, false),
        ] {
            let refusal = approve_exit(opening).unwrap_err();
            assert_eq!(refusal.rule(), "exit");
        }
        let mut empty = exit(Side::Sell, PositionSide::Both, true);
        empty.quantity = Some(Decimal::ZERO);
        assert_eq!(
            approve_exit(empty).unwrap_err(),
            RiskRefusal::NonPositiveQuantity(Decimal::ZERO)
        );
    }

    proptest! {
        /// No sequence of approved orders takes the account past a limit.
        #[test]
        fn no_sequence_breaches_a_limit(
            orders in prop::collection::vec((0usize..4, 1u32..2000, 1u32..20, 1u32..800, any::<bool>()), 1..60),
            pnl in prop::collection::vec(-50i64..50, 1..60),
        ) {
            let limits = RiskLimits::default();
            let symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"];
            let mut ctx = RiskContext::default();
            for (i, (sym, qty_milli, lev, stop_bps, buy)) in orders.into_iter().enumerate() {
                let side = if buy { Side::Buy } else { Side::Sell };
                let price = dec!(1000);
                let stop = price - side.sign() * price * Decimal::from(stop_bps) / dec!(10000);
                let intent = OrderIntent {
                    symbol: Symbol::new(symbols[sym]).unwrap(),
                    side,
                    quantity: Decimal::new(i64::from(qty_milli), 3),
                    price,
                    leverage: lev,
                    stop_loss: Some(stop),
                    take_profit: None,
                    reduce_only: false,
                };
                let loss_before = -ctx.realized_today;
                if limits.check(&ctx, &intent).is_ok() {
                    prop_assert!(loss_before < limits.daily_loss_limit);
                    let o = intent;
                    *ctx.open_notional.entry(o.symbol.clone()).or_default() += o.notional();
                    ctx.trades_today += 1;
                    prop_assert!(o.leverage <= limits.max_leverage);
                    let stop_pct = (o.price - o.stop_loss.unwrap()).abs() / o.price * dec!(100);
                    prop_assert!(stop_pct <= limits.max_stop_distance_pct);
                }
                ctx.realized_today += Decimal::from(pnl[i % pnl.len()]);
                prop_assert!(ctx.trades_today <= limits.max_trades_per_day);
                prop_assert!(ctx.open_notional.values().all(|n| *n <= limits.max_position_notional));
                prop_assert!(ctx.open_notional.values().copied().sum::<Decimal>() <= limits.max_total_notional);
                prop_assert!(ctx.open_notional.len() as u32 <= limits.max_concurrent_positions);
            }
        }
    }
}
