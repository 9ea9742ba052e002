//! A symbol's trading rules (Binance's `exchangeInfo` filters) and the rounding they imply.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// The filters that decide whether a price and quantity are acceptable for a symbol.
///
/// `PRICE_FILTER`, `LOT_SIZE`, `MARKET_LOT_SIZE`, `MIN_NOTIONAL` and `PERCENT_PRICE` of
/// Binance's exchange information. A zero bound means "no bound", as on Binance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolFilters {
    pub tick_size: Decimal,
    pub min_price: Decimal,
    pub max_price: Decimal,
    pub step_size: Decimal,
    pub min_qty: Decimal,
    pub max_qty: Decimal,
    pub market_step_size: Decimal,
    pub market_min_qty: Decimal,
    pub market_max_qty: Decimal,
    pub min_notional: Decimal,
    /// `PERCENT_PRICE.multiplierUp`: a limit price may not exceed mark × this.
    pub multiplier_up: Decimal,
    /// `PERCENT_PRICE.multiplierDown`: a limit price may not fall below mark × this.
    pub multiplier_down: Decimal,
}

/// Which rule a price or quantity breaks, with the numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("price {price} is not a multiple of the tick size {tick}")]
    PriceNotOnTick { price: Decimal, tick: Decimal },
    #[error("price {price} is outside [{min}, {max}]")]
    PriceOutOfRange {
        price: Decimal,
        min: Decimal,
        max: Decimal,
    },
    #[error("quantity {qty} is not a multiple of the step size {step}")]
    QtyNotOnStep { qty: Decimal, step: Decimal },
    #[error("quantity {qty} is outside [{min}, {max}]")]
    QtyOutOfRange {
        qty: Decimal,
        min: Decimal,
        max: Decimal,
    },
    #[error("order notional {notional} is below the minimum {min}")]
    BelowMinNotional { notional: Decimal, min: Decimal },
    #[error("price {price} is too far from the mark price {mark} (allowed {low} to {high})")]
    PriceTooFarFromMark {
        price: Decimal,
        mark: Decimal,
        low: Decimal,
        high: Decimal,
    },
    #[error("quantity must be positive, got {0}")]
    NonPositiveQty(Decimal),
    #[error("price must be positive, got {0}")]
    NonPositivePrice(Decimal),
}

fn floor_to(value: Decimal, step: Decimal) -> Decimal {
    if step.is_zero() {
        return value;
    }
    let units = (value / step).round_dp_with_strategy(0, RoundingStrategy::ToZero);
    (units * step).normalize()
}

fn is_multiple(value: Decimal, step: Decimal) -> bool {
    step.is_zero() || (value % step).is_zero()
}

impl SymbolFilters {
    /// Rounds a price down to the tick size (towards zero).
    pub fn floor_price(&self, price: Decimal) -> Decimal {
        floor_to(price, self.tick_size)
    }

    /// Rounds a price to the nearest tick, for TP/SL levels computed from ATR.
    pub fn round_price(&self, price: Decimal) -> Decimal {
        if self.tick_size.is_zero() {
            return price;
        }
        let units = (price / self.tick_size)
            .round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
        (units * self.tick_size).normalize()
    }

    /// Rounds a quantity down to the step size, so a sized order never exceeds its budget.
    pub fn floor_qty(&self, qty: Decimal, market: bool) -> Decimal {
        let step = if market && !self.market_step_size.is_zero() {
            self.market_step_size
        } else {
            self.step_size
        };
        floor_to(qty, step)
    }

    /// Checks a limit (or trigger) price against tick size and bounds.
    ///
    /// # Errors
    /// Returns the first [`FilterError`] the price breaks.
    pub fn check_price(&self, price: Decimal) -> Result<(), FilterError> {
        if price <= Decimal::ZERO {
            return Err(FilterError::NonPositivePrice(price));
        }
        if !is_multiple(price, self.tick_size) {
            return Err(FilterError::PriceNotOnTick {
                price,
                tick: self.tick_size,
            });
        }
        let below = !self.min_price.is_zero() && price < self.min_price;
        let above = !self.max_price.is_zero() && price > self.max_price;
        if below || above {
            return Err(FilterError::PriceOutOfRange {
                price,
                min: self.min_price,
                max: self.max_price,
            });
        }
        Ok(())
    }

    /// Checks a quantity against the lot-size filter of its order type.
    ///
    /// # Errors
    /// Returns the first [`FilterError`] the quantity breaks.
    pub fn check_qty(&self, qty: Decimal, market: bool) -> Result<(), FilterError> {
        if qty <= Decimal::ZERO {
            return Err(FilterError::NonPositiveQty(qty));
        }
        let (step, min, max) = if market && !self.market_step_size.is_zero() {
            (
                self.market_step_size,
                self.market_min_qty,
                self.market_max_qty,
            )
        } else {
            (self.step_size, self.min_qty, self.max_qty)
        };
        if !is_multiple(qty, step) {
            return Err(FilterError::QtyNotOnStep { qty, step });
        }
        if qty < min || (!max.is_zero() && qty > max) {
            return Err(FilterError::QtyOutOfRange { qty, min, max });
        }
        Ok(())
    }

    /// Checks the notional of an order at `price` (the limit price, or the mark price for a
    /// market order).
    ///
    /// # Errors
    /// Returns [`FilterError::BelowMinNotional`] when price × qty is below the minimum.
    pub fn check_notional(&self, price: Decimal, qty: Decimal) -> Result<(), FilterError> {
        let notional = price * qty;
        if notional < self.min_notional {
            return Err(FilterError::BelowMinNotional {
                notional,
                min: self.min_notional,
            });
        }
        Ok(())
    }

    /// Checks a limit price against the `PERCENT_PRICE` band around the mark price.
    ///
    /// # Errors
    /// Returns [`FilterError::PriceTooFarFromMark`] outside the band.
    pub fn check_percent_price(&self, price: Decimal, mark: Decimal) -> Result<(), FilterError> {
        if self.multiplier_up.is_zero() || self.multiplier_down.is_zero() {
            return Ok(());
        }
        let high = mark * self.multiplier_up;
        let low = mark * self.multiplier_down;
        if price > high || price < low {
            return Err(FilterError::PriceTooFarFromMark {
                price,
                mark,
                low,
                high,
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

    /// BTCUSDT's filters as Binance published them.
    fn btc() -> SymbolFilters {
        SymbolFilters {
            tick_size: dec!(0.10),
            min_price: dec!(261.10),
            max_price: dec!(809484),
            step_size: dec!(0.001),
            min_qty: dec!(0.001),
            max_qty: dec!(1000),
            market_step_size: dec!(0.001),
            market_min_qty: dec!(0.001),
            market_max_qty: dec!(120),
            min_notional: dec!(100),
            multiplier_up: dec!(1.0500),
            multiplier_down: dec!(0.9500),
        }
    }

    #[test]
    fn rounds_to_tick_and_step() {
        let f = btc();
        assert_eq!(f.floor_price(dec!(30123.47)), dec!(30123.4));
        assert_eq!(f.round_price(dec!(30123.46)), dec!(30123.5));
        assert_eq!(f.floor_qty(dec!(0.0129), true), dec!(0.012));
    }

    #[test]
    fn names_the_broken_rule() {
        let f = btc();
        assert!(matches!(
            f.check_price(dec!(30000.05)),
            Err(FilterError::PriceNotOnTick { .. })
        ));
        assert!(matches!(
            f.check_qty(dec!(200), true),
            Err(FilterError::QtyOutOfRange { .. })
        ));
        assert!(f.check_qty(dec!(200), false).is_ok());
        assert!(matches!(
            f.check_notional(dec!(30000), dec!(0.001)),
            Err(FilterError::BelowMinNotional { .. })
        ));
        assert!(matches!(
            f.check_percent_price(dec!(40000), dec!(30000)),
            Err(FilterError::PriceTooFarFromMark { .. })
        ));
        assert!(matches!(
            f.check_qty(dec!(0), false),
            Err(FilterError::NonPositiveQty(_))
        ));
    }

    proptest! {
        #[test]
        fn floored_values_pass_their_own_filter(units in 1u64..10_000_000, frac in 0u32..1000) {
            let f = btc();
            let qty = Decimal::new(units as i64, 3) + Decimal::new(frac as i64, 7);
            let q = f.floor_qty(qty, false);
            prop_assert!(q <= qty);
            prop_assert!(qty - q < f.step_size);
            prop_assert!(is_multiple(q, f.step_size));
            let p = f.floor_price(Decimal::new(units as i64 + 2_611, 1));
            prop_assert!(is_multiple(p, f.tick_size));
        }
    }
}
