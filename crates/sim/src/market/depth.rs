//! A synthetic order book around the replayed price (the data has no book).

use rust_decimal::Decimal;

use super::data::DataError;
use super::path::{SCALE, from_units, pow10, to_units};
use super::replay::MarketData;

/// One book level: `(price, quantity)`.
pub type Level = (Decimal, Decimal);
/// A book snapshot: `(bids best first = descending, asks best first = ascending)`.
pub type Book = (Vec<Level>, Vec<Level>);

/// Seeded, stateless 64-bit mixer (SplitMix64) so the synthetic book is reproducible.
pub(super) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl MarketData {
    /// A synthetic order book at `t_ms`: `limit` levels per side (at most 1000), best bid at the
    /// last price rounded down to the tick, best ask one tick above. Sizes are pseudo-random but
    /// reproducible (seeded by symbol and `t_ms / 1000`, so the book changes once per second),
    /// multiples of the step size, between one step and about 25 000 USDT of notional, growing
    /// further from the touch. Empty sides when the symbol or time has no data (or the files
    /// cannot be read: logged).
    pub fn depth(&self, symbol: &str, t_ms: i64, limit: usize) -> Book {
        self.try_depth(symbol, t_ms, limit).unwrap_or_else(|e| {
            tracing::error!(%symbol, error = %e, "depth: market data unavailable");
            (Vec::new(), Vec::new())
        })
    }

    /// [`MarketData::depth`], or why the files could not give it.
    ///
    /// # Errors
    /// A data file needed for `t_ms` (outside the bars kept in memory) cannot be read.
    pub fn try_depth(&self, symbol: &str, t_ms: i64, limit: usize) -> Result<Book, DataError> {
        let Some(s) = self.sym(symbol) else {
            return Ok((Vec::new(), Vec::new()));
        };
        let Some(p) = s.trade.price_at(t_ms)? else {
            return Ok((Vec::new(), Vec::new()));
        };
        let limit = limit.min(1000);
        let tick = s.trade.unit;
        let step = to_units(s.spec.step_size).filter(|v| *v > 0).unwrap_or(1);
        let step_scale = s.spec.step_size.scale();
        let min_price = to_units(s.spec.min_price).unwrap_or(0).max(tick);
        let bid0 = p - p.rem_euclid(tick);
        // Steps per level so that one level is worth up to ~25 000 USDT.
        let one_step_notional = i128::from(p) * i128::from(step) / i128::from(pow10(SCALE));
        let max_steps = (25_000_i128 * i128::from(pow10(SCALE)) / one_step_notional.max(1)).max(1);
        let seed = symbol.bytes().fold(0xCBF2_9CE4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
        }) ^ mix(t_ms.div_euclid(1000) as u64);
        let qty = |i: usize, side: u64| -> Decimal {
            let h = mix(seed ^ ((i as u64) << 1 | side));
            let growth = 1 + i128::try_from(i / 10).unwrap_or(0);
            let steps = 1 + i128::from(h % (max_steps as u64).max(1)) * growth;
            let units = i64::try_from(steps * i128::from(step)).unwrap_or(i64::MAX);
            from_units(units, step_scale)
        };
        let mut bids = Vec::with_capacity(limit);
        let mut asks = Vec::with_capacity(limit);
        for i in 0..limit {
            let bp = bid0 - i as i64 * tick;
            if bp >= min_price {
                bids.push((s.trade.dec(bp), qty(i, 0)));
            }
            asks.push((s.trade.dec(bid0 + tick + i as i64 * tick), qty(i, 1)));
        }
        Ok((bids, asks))
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use crate::market::replay::DAY_MS;
    use crate::market::test_data::{T2021, market};

    #[test]
    fn depth_book_shape() {
        let m = market();
        let t = T2021 + 40 * DAY_MS + 123_456;
        for sym in ["BTCUSDT", "ETHUSDT"] {
            let spec = m.spec(sym).unwrap();
            let (bids, asks) = m.depth(sym, t, 100);
            assert_eq!((bids.len(), asks.len()), (100, 100));
            assert!(bids.windows(2).all(|w| w[0].0 > w[1].0));
            assert!(asks.windows(2).all(|w| w[0].0 < w[1].0));
            assert_eq!(asks[0].0 - bids[0].0, spec.tick_size);
            let last = m.last_price(sym, t).unwrap();
            assert!(bids[0].0 <= last && last < asks[0].0);
            for (p, q) in bids.iter().chain(&asks) {
                assert!(*q >= spec.step_size);
                assert_eq!(q % spec.step_size, Decimal::ZERO);
                assert_eq!(p % spec.tick_size, Decimal::ZERO);
            }
            assert_eq!(
                m.depth(sym, t, 100),
                m.depth(sym, t + 1, 100),
                "deterministic within a second"
            );
            assert_ne!(m.depth(sym, t, 100), m.depth(sym, t + 5_000, 100));
        }
        assert_eq!(m.depth("NOPE", t, 5), (Vec::new(), Vec::new()));
    }
}
