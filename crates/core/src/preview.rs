//! The pre-trade preview: what an order will cost and risk, computed before the click.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{FilterError, MarginType, Side, SymbolFilters};

/// How the order's size is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Sizing {
    /// Risk this percentage of the balance between entry and stop-loss, fees included.
    RiskPercent { percent: Decimal },
    /// Open this notional in USDT.
    FixedNotional { usdt: Decimal },
    /// Open exactly this quantity.
    Quantity { quantity: Decimal },
}

/// One maintenance-margin bracket of a symbol (`/fapi/v1/leverageBracket`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceBracket {
    /// Upper notional bound of the bracket.
    pub notional_cap: Decimal,
    /// Highest leverage allowed in the bracket.
    pub max_leverage: u32,
    /// Maintenance margin rate.
    pub maint_margin_ratio: Decimal,
    /// Maintenance amount ("cum"), which makes the brackets continuous.
    pub cum: Decimal,
}

/// Everything the preview needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewInput {
    pub side: Side,
    pub entry_price: Decimal,
    pub sizing: Sizing,
    pub leverage: u32,
    pub margin_type: MarginType,
    pub stop_loss: Option<Decimal>,
    pub take_profit: Option<Decimal>,
    /// Available balance in USDT: the base for risk sizing and for cross-margin liquidation.
    pub balance: Decimal,
    /// Taker commission rate (0.0005 for 0.05%); entry and exits are assumed to take.
    pub taker_fee_rate: Decimal,
    pub filters: SymbolFilters,
    /// The symbol's brackets in ascending notional order.
    pub brackets: Vec<MaintenanceBracket>,
    pub market_order: bool,
}

/// The preview shown before the user confirms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub quantity: Decimal,
    pub entry_price: Decimal,
    pub notional: Decimal,
    pub margin_required: Decimal,
    pub stop_loss: Option<Decimal>,
    pub take_profit: Option<Decimal>,
    /// Estimated liquidation price; `None` when the position cannot be liquidated with the
    /// given balance (cross margin covering the whole move to zero).
    pub liquidation_price: Option<Decimal>,
    /// Loss if the stop-loss fills at its price, with entry and exit fees.
    pub worst_case_loss: Option<Decimal>,
    /// Gain if the take-profit fills at its price, net of entry and exit fees.
    pub reward_at_take_profit: Option<Decimal>,
    pub entry_fee: Decimal,
}

/// Why no preview can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreviewError {
    #[error(transparent)]
    Filter(#[from] FilterError),
    #[error("risk sizing needs a stop-loss")]
    StopLossNeeded,
    #[error("stop-loss {stop} is on the wrong side of entry {entry}")]
    StopLossWrongSide { stop: Decimal, entry: Decimal },
    #[error("take-profit {take_profit} is on the wrong side of entry {entry}")]
    TakeProfitWrongSide {
        take_profit: Decimal,
        entry: Decimal,
    },
    #[error("leverage must be at least 1x")]
    ZeroLeverage,
    #[error("leverage {leverage}x is above the {max}x allowed for a {notional} USDT position")]
    LeverageAboveBracket {
        leverage: u32,
        max: u32,
        notional: Decimal,
    },
    #[error("the size rounds down to nothing at a step of {step}")]
    RoundsToZero { step: Decimal },
    #[error("margin {margin} USDT exceeds the available balance {balance} USDT")]
    InsufficientBalance { margin: Decimal, balance: Decimal },
    #[error("{0} must be positive")]
    NotPositive(&'static str),
}

/// Finds the bracket a notional falls in (the last one if it exceeds every cap).
pub fn bracket_for(
    brackets: &[MaintenanceBracket],
    notional: Decimal,
) -> Option<MaintenanceBracket> {
    brackets
        .iter()
        .find(|b| notional <= b.notional_cap)
        .or(brackets.last())
        .copied()
}

/// Estimates the liquidation price of a single position, with Binance's formula
/// `LP = (WB + cum − s·q·EP) / (q·MMR − s·q)`, where `WB` is the isolated margin (isolated)
/// or the wallet balance (cross, assuming no other position), `s` is +1 long / −1 short.
pub fn liquidation_price(
    side: Side,
    quantity: Decimal,
    entry: Decimal,
    wallet: Decimal,
    bracket: MaintenanceBracket,
) -> Option<Decimal> {
    let s = side.sign();
    let denom = quantity * bracket.maint_margin_ratio - s * quantity;
    if denom.is_zero() {
        return None;
    }
    let lp = (wallet + bracket.cum - s * quantity * entry) / denom;
    (lp > Decimal::ZERO).then_some(lp.round_dp(8))
}

/// Computes the preview.
///
/// # Errors
/// Returns [`PreviewError`] when the inputs are inconsistent or the order breaks a filter.
pub fn preview(input: &PreviewInput) -> Result<Preview, PreviewError> {
    let entry = input.entry_price;
    if entry <= Decimal::ZERO {
        return Err(PreviewError::NotPositive("entry price"));
    }
    if input.leverage == 0 {
        return Err(PreviewError::ZeroLeverage);
    }
    let s = input.side.sign();
    if let Some(stop) = input.stop_loss
        && (entry - stop) * s <= Decimal::ZERO
    {
        return Err(PreviewError::StopLossWrongSide { stop, entry });
    }
    if let Some(tp) = input.take_profit
        && (tp - entry) * s <= Decimal::ZERO
    {
        return Err(PreviewError::TakeProfitWrongSide {
            take_profit: tp,
            entry,
        });
    }
    let fee = input.taker_fee_rate;
    let raw_qty = match input.sizing {
        Sizing::Quantity { quantity } => quantity,
        Sizing::FixedNotional { usdt } => {
            if usdt <= Decimal::ZERO {
                return Err(PreviewError::NotPositive("notional"));
            }
            usdt / entry
        }
        Sizing::RiskPercent { percent } => {
            if percent <= Decimal::ZERO {
                return Err(PreviewError::NotPositive("risk percent"));
            }
            let stop = input.stop_loss.ok_or(PreviewError::StopLossNeeded)?;
            let budget = input.balance * percent / Decimal::ONE_HUNDRED;
            let loss_per_unit = (entry - stop).abs() + fee * (entry + stop);
            budget / loss_per_unit
        }
    };
    let quantity = input.filters.floor_qty(raw_qty, input.market_order);
    if quantity.is_zero() {
        return Err(PreviewError::RoundsToZero {
            step: input.filters.step_size,
        });
    }
    input.filters.check_qty(quantity, input.market_order)?;
    if !input.market_order {
        input.filters.check_price(entry)?;
    }
    input.filters.check_notional(entry, quantity)?;
    let notional = entry * quantity;
    let bracket = bracket_for(&input.brackets, notional);
    if let Some(b) = bracket
        && input.leverage > b.max_leverage
    {
        return Err(PreviewError::LeverageAboveBracket {
            leverage: input.leverage,
            max: b.max_leverage,
            notional,
        });
    }
    let margin_required = (notional / Decimal::from(input.leverage)).round_dp(8);
    let entry_fee = (notional * fee).round_dp(8);
    if margin_required + entry_fee > input.balance {
        return Err(PreviewError::InsufficientBalance {
            margin: margin_required + entry_fee,
            balance: input.balance,
        });
    }
    let wallet = match input.margin_type {
        MarginType::Isolated => margin_required,
        MarginType::Cross => input.balance - entry_fee,
    };
    let liquidation =
        bracket.and_then(|b| liquidation_price(input.side, quantity, entry, wallet, b));
    let worst_case_loss = input.stop_loss.map(|stop| {
        ((entry - stop).abs() * quantity + entry_fee + stop * quantity * fee).round_dp(8)
    });
    let reward = input
        .take_profit
        .map(|tp| ((tp - entry).abs() * quantity - entry_fee - tp * quantity * fee).round_dp(8));
    Ok(Preview {
        quantity,
        entry_price: entry,
        notional,
        margin_required,
        stop_loss: input.stop_loss,
        take_profit: input.take_profit,
        liquidation_price: liquidation,
        worst_case_loss,
        reward_at_take_profit: reward,
        entry_fee,
    })
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! BTCUSDT's filters and first two leverage brackets as Binance lists them, shared by the
    //! core's unit tests.
    use super::MaintenanceBracket;
    use crate::filters::SymbolFilters;
    use rust_decimal_macros::dec;

    pub(crate) fn btcusdt_filters() -> SymbolFilters {
        SymbolFilters {
            tick_size: dec!(0.1),
            min_price: dec!(261.1),
            max_price: dec!(809484),
            step_size: dec!(0.001),
            min_qty: dec!(0.001),
            max_qty: dec!(1000),
            market_step_size: dec!(0.001),
            market_min_qty: dec!(0.001),
            market_max_qty: dec!(120),
            min_notional: dec!(100),
            multiplier_up: dec!(1.05),
            multiplier_down: dec!(0.95),
        }
    }

    pub(crate) fn btcusdt_brackets() -> Vec<MaintenanceBracket> {
        vec![
            MaintenanceBracket {
                notional_cap: dec!(50000),
                max_leverage: 125,
                maint_margin_ratio: dec!(0.004),
                cum: dec!(0),
            },
            MaintenanceBracket {
                notional_cap: dec!(250000),
                max_leverage: 100,
                maint_margin_ratio: dec!(0.005),
                cum: dec!(50),
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn input() -> PreviewInput {
        PreviewInput {
            side: Side::Buy,
            entry_price: dec!(30000),
            sizing: Sizing::RiskPercent { percent: dec!(1) },
            leverage: 10,
            margin_type: MarginType::Isolated,
            stop_loss: Some(dec!(29400)),
            take_profit: Some(dec!(31200)),
            balance: dec!(10000),
            taker_fee_rate: dec!(0.0005),
            filters: fixtures::btcusdt_filters(),
            brackets: fixtures::btcusdt_brackets(),
            market_order: true,
        }
    }

    #[test]
    fn risk_sizing_keeps_the_loss_within_budget() {
        let p = preview(&input()).unwrap();
        // 100 USDT budget / (600 + 0.0005 × 59400) per BTC = 0.1588… → floored to 0.158.
        assert_eq!(p.quantity, dec!(0.158));
        assert_eq!(p.notional, dec!(4740.000));
        assert_eq!(p.margin_required, dec!(474.0));
        let loss = p.worst_case_loss.unwrap();
        assert!(loss <= dec!(100), "{loss}");
        assert_eq!(loss, dec!(99.4926));
        assert_eq!(p.reward_at_take_profit.unwrap(), dec!(184.7652));
        // Isolated long at 10x: (q·EP − M − cum) / (q·(1 − MMR)).
        let lp = p.liquidation_price.unwrap();
        assert_eq!(lp.round_dp(2), dec!(27108.43));
    }

    #[test]
    fn short_liquidation_sits_above_entry() {
        let mut i = input();
        i.side = Side::Sell;
        i.stop_loss = Some(dec!(30600));
        i.take_profit = Some(dec!(29000));
        let p = preview(&i).unwrap();
        assert!(p.liquidation_price.unwrap() > dec!(30000));
    }

    #[test]
    fn refuses_inconsistent_inputs() {
        let mut i = input();
        i.stop_loss = Some(dec!(30500));
        assert!(matches!(
            preview(&i),
            Err(PreviewError::StopLossWrongSide { .. })
        ));
        let mut i = input();
        i.sizing = Sizing::FixedNotional { usdt: dec!(50) };
        assert!(matches!(
            preview(&i),
            Err(PreviewError::Filter(FilterError::BelowMinNotional { .. }))
        ));
        let mut i = input();
        i.sizing = Sizing::Quantity {
            quantity: dec!(0.0004),
        };
        assert!(matches!(
            preview(&i),
            Err(PreviewError::RoundsToZero { .. })
        ));
        let mut i = input();
        i.sizing = Sizing::FixedNotional { usdt: dec!(100000) };
        i.leverage = 120;
        i.balance = dec!(1000000);
        assert!(matches!(
            preview(&i),
            Err(PreviewError::LeverageAboveBracket { max: 100, .. })
        ));
        let mut i = input();
        i.sizing = Sizing::FixedNotional { usdt: dec!(200000) };
        assert!(matches!(
            preview(&i),
            Err(PreviewError::InsufficientBalance { .. })
        ));
        let mut i = input();
        i.stop_loss = None;
        assert_eq!(preview(&i), Err(PreviewError::StopLossNeeded));
    }
}
