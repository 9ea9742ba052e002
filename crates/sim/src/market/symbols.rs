//! Contract specifications (exchangeInfo filters and leverage brackets) for the simulated symbols.
//!
//! Filter values for BTCUSDT and ETHUSDT are Binance's own, as recorded in ccxt's markets fixture
//! (`ts/src/test/static/markets/binance.json`, see `shared/binance/CONTRACT.md` §4.1). Binance
//! changes them over time: BTCUSDT's tick was 0.01 in 2021 and is 0.10 in that snapshot, so the
//! replayed 2021 candles are not all on today's tick grid. The replay copes (see `path.rs`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One leverage bracket (tier) of `GET /fapi/v1/leverageBracket`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bracket {
    /// Tier number, starting at 1.
    pub bracket: u32,
    /// Highest leverage allowed while the position notional is inside this tier.
    pub initial_leverage: u32,
    /// Upper notional bound of the tier (exclusive for lookup purposes).
    pub notional_cap: Decimal,
    /// Lower notional bound of the tier (inclusive).
    pub notional_floor: Decimal,
    /// Maintenance margin rate of the tier.
    pub maint_margin_ratio: Decimal,
    /// Maintenance amount: `maint = notional × maint_margin_ratio − cum`.
    pub cum: Decimal,
}

/// Static description of one USDⓈ-M perpetual contract, i.e. one `exchangeInfo.symbols[]` entry
/// plus its leverage brackets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolSpec {
    /// Symbol name, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Base asset, e.g. `BTC`.
    pub base_asset: String,
    /// Quote asset, e.g. `USDT`.
    pub quote_asset: String,
    /// Margin asset, e.g. `USDT`.
    pub margin_asset: String,
    /// PRICE_FILTER `tickSize`.
    pub tick_size: Decimal,
    /// PRICE_FILTER `minPrice`.
    pub min_price: Decimal,
    /// PRICE_FILTER `maxPrice`.
    pub max_price: Decimal,
    /// LOT_SIZE `stepSize`.
    pub step_size: Decimal,
    /// LOT_SIZE `minQty`.
    pub min_qty: Decimal,
    /// LOT_SIZE `maxQty`.
    pub max_qty: Decimal,
    /// MARKET_LOT_SIZE `stepSize`.
    pub market_step_size: Decimal,
    /// MARKET_LOT_SIZE `minQty`.
    pub market_min_qty: Decimal,
    /// MARKET_LOT_SIZE `maxQty`.
    pub market_max_qty: Decimal,
    /// MIN_NOTIONAL `notional`.
    pub min_notional: Decimal,
    /// PERCENT_PRICE `multiplierUp`.
    pub multiplier_up: Decimal,
    /// PERCENT_PRICE `multiplierDown`.
    pub multiplier_down: Decimal,
    /// PERCENT_PRICE `multiplierDecimal`.
    pub multiplier_decimal: u32,
    /// MAX_NUM_ORDERS `limit`.
    pub max_num_orders: u32,
    /// `pricePrecision` (display only; Binance says not to use it as the tick size).
    pub price_precision: u32,
    /// `quantityPrecision` (display only; Binance says not to use it as the step size).
    pub quantity_precision: u32,
    /// `triggerProtect`.
    pub trigger_protect: Decimal,
    /// `liquidationFee`.
    pub liquidation_fee: Decimal,
    /// `marketTakeBound`.
    pub market_take_bound: Decimal,
    /// `onboardDate`, UTC milliseconds.
    pub onboard_date_ms: i64,
    /// Leverage brackets, ascending by `notional_floor`; never empty.
    pub brackets: Vec<Bracket>,
}

/// Builds brackets from `(floor, cap, leverage, maintenance rate)` rows, deriving `cum` the way
/// Binance does (`cum_n = cum_{n-1} + floor_n × (mmr_n − mmr_{n-1})`), so the maintenance margin is
/// continuous across tier boundaries.
fn brackets(rows: &[(i64, i64, u32, &str)]) -> Vec<Bracket> {
    let mut out: Vec<Bracket> = Vec::with_capacity(rows.len());
    let mut cum = Decimal::ZERO;
    let mut prev_mmr = Decimal::ZERO;
    for (i, &(floor, cap, lev, mmr)) in rows.iter().enumerate() {
        let mmr: Decimal = mmr
            .parse()
            .expect("bracket table literals are valid decimals");
        let floor = Decimal::from(floor);
        if i > 0 {
            cum += floor * (mmr - prev_mmr);
        }
        prev_mmr = mmr;
        out.push(Bracket {
            bracket: u32::try_from(i + 1).expect("bracket tables are short"),
            initial_leverage: lev,
            notional_cap: Decimal::from(cap),
            notional_floor: floor,
            maint_margin_ratio: mmr,
            cum,
        });
    }
    out
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("spec literals are valid decimals")
}

/// `floor(log10 x)` for a positive `x`.
fn magnitude(x: Decimal) -> i32 {
    let mut m = 0_i32;
    let mut v = x;
    while v >= Decimal::TEN {
        v /= Decimal::TEN;
        m += 1;
    }
    while v < Decimal::ONE {
        v *= Decimal::TEN;
        m -= 1;
    }
    m
}

/// `10^e` as a decimal with no trailing zeros (`0.001`, `100`).
fn pow10(e: i32) -> Decimal {
    if e >= 0 {
        Decimal::from(10_i64.pow(e.unsigned_abs()))
    } else {
        Decimal::new(1, e.unsigned_abs())
    }
}

impl SymbolSpec {
    /// Binance's BTCUSDT perpetual.
    ///
    /// Brackets: floors and maintenance rates are the ones in ccxt's request fixture
    /// (`options.leverageBrackets`); initial leverages and the last cap are Binance's published
    /// 2021-era table as remembered, unverified against a live response.
    pub fn btcusdt() -> SymbolSpec {
        SymbolSpec {
            symbol: "BTCUSDT".into(),
            base_asset: "BTC".into(),
            quote_asset: "USDT".into(),
            margin_asset: "USDT".into(),
            tick_size: dec("0.10"),
            min_price: dec("556.80"),
            max_price: dec("4529764"),
            step_size: dec("0.001"),
            min_qty: dec("0.001"),
            max_qty: dec("1000"),
            market_step_size: dec("0.001"),
            market_min_qty: dec("0.001"),
            market_max_qty: dec("120"),
            min_notional: dec("5"),
            multiplier_up: dec("1.0500"),
            multiplier_down: dec("0.9500"),
            multiplier_decimal: 4,
            max_num_orders: 200,
            price_precision: 2,
            quantity_precision: 3,
            trigger_protect: dec("0.0500"),
            liquidation_fee: dec("0.012500"),
            market_take_bound: dec("0.05"),
            onboard_date_ms: 1_569_398_400_000,
            brackets: brackets(&[
                (0, 50_000, 125, "0.004"),
                (50_000, 250_000, 100, "0.005"),
                (250_000, 3_000_000, 50, "0.01"),
                (3_000_000, 20_000_000, 20, "0.025"),
                (20_000_000, 40_000_000, 10, "0.05"),
                (40_000_000, 100_000_000, 5, "0.1"),
                (100_000_000, 120_000_000, 4, "0.125"),
                (120_000_000, 200_000_000, 3, "0.15"),
                (200_000_000, 300_000_000, 2, "0.25"),
                (300_000_000, 500_000_000, 1, "0.5"),
            ]),
        }
    }

    /// Binance's ETHUSDT perpetual. Bracket provenance as for [`SymbolSpec::btcusdt`].
    pub fn ethusdt() -> SymbolSpec {
        SymbolSpec {
            symbol: "ETHUSDT".into(),
            base_asset: "ETH".into(),
            quote_asset: "USDT".into(),
            margin_asset: "USDT".into(),
            tick_size: dec("0.01"),
            min_price: dec("39.86"),
            max_price: dec("306177"),
            step_size: dec("0.001"),
            min_qty: dec("0.001"),
            max_qty: dec("10000"),
            market_step_size: dec("0.001"),
            market_min_qty: dec("0.001"),
            market_max_qty: dec("2000"),
            min_notional: dec("5"),
            multiplier_up: dec("1.0500"),
            multiplier_down: dec("0.9500"),
            multiplier_decimal: 4,
            max_num_orders: 200,
            price_precision: 2,
            quantity_precision: 3,
            trigger_protect: dec("0.0500"),
            liquidation_fee: dec("0.012500"),
            market_take_bound: dec("0.05"),
            onboard_date_ms: 1_569_398_400_000,
            brackets: brackets(&[
                (0, 100_000, 100, "0.005"),
                (100_000, 250_000, 75, "0.0065"),
                (250_000, 2_000_000, 50, "0.01"),
                (2_000_000, 15_000_000, 25, "0.02"),
                (15_000_000, 30_000_000, 10, "0.05"),
                (30_000_000, 60_000_000, 5, "0.1"),
                (60_000_000, 80_000_000, 4, "0.125"),
                (80_000_000, 100_000_000, 3, "0.15"),
                (100_000_000, 150_000_000, 2, "0.25"),
                (150_000_000, 200_000_000, 1, "0.5"),
            ]),
        }
    }

    /// The built-in spec for `symbol`, if there is one.
    pub fn builtin(symbol: &str) -> Option<SymbolSpec> {
        match symbol {
            "BTCUSDT" => Some(SymbolSpec::btcusdt()),
            "ETHUSDT" => Some(SymbolSpec::ethusdt()),
            _ => None,
        }
    }

    /// A plausible spec for a symbol without a built-in one, from the price level of its data
    /// (`low`: the lowest price in the data, `high`: the highest; both positive), so the new
    /// symbols of `wide/` trade under filters like Binance's for coins of that price:
    /// - tick: five significant digits at the lowest price, `10^(floor(log10 low) − 4)`
    ///   (DOGE's 2021 low of 0.0046 → 0.0000001, BNB's 35 → 0.001), so every replayed price
    ///   has at least as many digits as Binance shows for it;
    /// - step: one step is worth under 1 USDT at the highest price,
    ///   `10^(−floor(log10 high) − 1)`, so the 5 USDT minimum notional is always reachable;
    /// - quantity limits: about 10 M USDT per order at the highest price (market orders a
    ///   tenth of that); price limits: the tick up to 1000× the highest price;
    /// - brackets: a generic mid-cap table (50× up to 5 000 USDT, as Binance's smaller
    ///   perpetuals), not any one symbol's;
    /// - `onboard_date_ms`: `listed_ms`, the first candle of the data.
    ///
    /// `None` when the symbol does not end in `USDT` or the prices are not positive.
    pub fn derived(
        symbol: &str,
        low: Decimal,
        high: Decimal,
        listed_ms: i64,
    ) -> Option<SymbolSpec> {
        let base = symbol.strip_suffix("USDT").filter(|b| !b.is_empty())?;
        if low <= Decimal::ZERO || high < low {
            return None;
        }
        let tick_exp = magnitude(low) - 4;
        let step_exp = -magnitude(high) - 1;
        let tick = pow10(tick_exp);
        let step = pow10(step_exp);
        let qty_exp = 7 - magnitude(high) - 1;
        let max_qty = pow10(qty_exp.max(step_exp));
        let market_max_qty = pow10((qty_exp - 1).max(step_exp));
        Some(SymbolSpec {
            symbol: symbol.into(),
            base_asset: base.into(),
            quote_asset: "USDT".into(),
            margin_asset: "USDT".into(),
            tick_size: tick,
            min_price: tick,
            max_price: pow10(magnitude(high) + 4),
            step_size: step,
            min_qty: step,
            max_qty,
            market_step_size: step,
            market_min_qty: step,
            market_max_qty,
            min_notional: dec("5"),
            multiplier_up: dec("1.0500"),
            multiplier_down: dec("0.9500"),
            multiplier_decimal: 4,
            max_num_orders: 200,
            price_precision: tick.scale(),
            quantity_precision: step.scale(),
            trigger_protect: dec("0.0500"),
            liquidation_fee: dec("0.015000"),
            market_take_bound: dec("0.05"),
            onboard_date_ms: listed_ms,
            brackets: brackets(&[
                (0, 5_000, 50, "0.01"),
                (5_000, 25_000, 25, "0.025"),
                (25_000, 100_000, 20, "0.05"),
                (100_000, 250_000, 10, "0.1"),
                (250_000, 1_000_000, 5, "0.125"),
                (1_000_000, 3_000_000, 4, "0.15"),
                (3_000_000, 5_000_000, 2, "0.25"),
                (5_000_000, 10_000_000, 1, "0.5"),
            ]),
        })
    }

    /// The bracket whose `[notional_floor, notional_cap)` holds `notional` (absolute value).
    /// Notionals above the last cap stay in the last bracket, so the engine always gets a rate.
    pub fn maint_bracket(&self, notional: Decimal) -> &Bracket {
        let n = notional.abs();
        self.brackets
            .iter()
            .find(|b| n < b.notional_cap)
            .or_else(|| self.brackets.last())
            .expect("a SymbolSpec always has at least one bracket")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cum_is_continuous_at_tier_boundaries() {
        for spec in [SymbolSpec::btcusdt(), SymbolSpec::ethusdt()] {
            for w in spec.brackets.windows(2) {
                let at = w[1].notional_floor;
                let lower = at * w[0].maint_margin_ratio - w[0].cum;
                let upper = at * w[1].maint_margin_ratio - w[1].cum;
                assert_eq!(lower, upper, "{} tier {}", spec.symbol, w[1].bracket);
                assert_eq!(w[0].notional_cap, w[1].notional_floor);
            }
        }
    }

    #[test]
    fn known_btc_tiers() {
        let s = SymbolSpec::btcusdt();
        assert_eq!(s.brackets[1].cum, dec("50"));
        assert_eq!(s.brackets[2].cum, dec("1300"));
        assert_eq!(s.maint_bracket(dec("0")).bracket, 1);
        assert_eq!(s.maint_bracket(dec("49999.99")).bracket, 1);
        assert_eq!(s.maint_bracket(dec("50000")).bracket, 2);
        assert_eq!(s.maint_bracket(dec("-60000")).bracket, 2);
        assert_eq!(s.maint_bracket(dec("1000000000000")).bracket, 10);
        assert_eq!(
            s.maint_bracket(dec("1000")).maint_margin_ratio,
            dec("0.004")
        );
        assert_eq!(s.tick_size.to_string(), "0.10");
    }

    #[test]
    fn derived_filters_follow_the_price_level() {
        let doge = SymbolSpec::derived("DOGEUSDT", dec("0.0457"), dec("0.7376"), 7).unwrap();
        assert_eq!(doge.base_asset, "DOGE");
        assert_eq!(doge.tick_size.to_string(), "0.000001");
        assert_eq!(doge.step_size.to_string(), "1");
        assert_eq!((doge.price_precision, doge.quantity_precision), (6, 0));
        assert_eq!(doge.onboard_date_ms, 7);
        let bnb = SymbolSpec::derived("BNBUSDT", dec("37.3"), dec("690"), 0).unwrap();
        assert_eq!(bnb.tick_size.to_string(), "0.001");
        assert_eq!(bnb.step_size.to_string(), "0.001");
        let pepe = SymbolSpec::derived("1000PEPEUSDT", dec("0.0006"), dec("0.0031"), 0).unwrap();
        assert_eq!(pepe.base_asset, "1000PEPE");
        assert_eq!(pepe.tick_size.to_string(), "0.00000001");
        assert_eq!(pepe.step_size.to_string(), "100");
        for s in [&doge, &bnb, &pepe] {
            // The minimum notional is reachable at the highest price, and one step costs
            // less than a dollar there.
            assert!(
                s.min_qty <= s.max_qty && s.market_max_qty <= s.max_qty,
                "{}",
                s.symbol
            );
            assert!(s.min_price < s.max_price);
            for w in s.brackets.windows(2) {
                assert_eq!(w[0].notional_cap, w[1].notional_floor);
            }
        }
        assert!(doge.step_size * dec("0.7376") < Decimal::ONE);
        assert!(SymbolSpec::derived("DOGEBUSD", dec("1"), dec("2"), 0).is_none());
        assert!(SymbolSpec::derived("DOGEUSDT", dec("0"), dec("2"), 0).is_none());
    }
}
