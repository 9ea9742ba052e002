//! The replayed price path through candles.
//!
//! Inside one candle of length `I` the last price follows four equal legs of `I/4`:
//! `open → first extreme → second extreme → close`, then stays at `close` for the last quarter.
//! The first extreme is the high when `close >= open` (and the low otherwise), the usual
//! "OHLC bar walk" assumption. Linear interpolation between vertices is rounded to the symbol's
//! tick and clamped into the leg's own span, so every leg is monotone, vertex values (the real
//! open/high/low/close, even when off today's tick grid) are hit exactly, and no value leaves
//! `[low, high]`. Because each leg is monotone, the extremes over any time window are found at
//! the window's ends and the vertices inside it: `price_range` is exact and allocation-free.
//! The last quarter is flat so that the price at a candle's `close_time` is its close, which
//! makes klines aggregated from the path equal the source candles.
//!
//! Prices are kept as `i64` at scale 8 so a lookup is an index computation plus integer maths;
//! `Decimal` is only built for the answer.

use std::sync::Arc;

use rust_decimal::Decimal;

use super::data::{CandleRow, DataError};
use super::store::{Chunk, Grid, Source, Store};

/// Fixed-point scale of internal prices.
pub(super) const SCALE: u32 = 8;

pub(super) fn to_units(d: Decimal) -> Option<i64> {
    let mut r = d.round_dp(SCALE);
    r.rescale(SCALE);
    i64::try_from(r.mantissa()).ok()
}

pub(super) fn pow10(n: u32) -> i64 {
    10_i64.pow(n)
}

/// Converts internal units to a `Decimal` with `scale` decimals when that is exact, so prices
/// print like Binance's (`"29015.00"` rather than `"29015.00000000"`).
pub(super) fn from_units(v: i64, scale: u32) -> Decimal {
    let scale = scale.min(SCALE);
    let div = pow10(SCALE - scale);
    if v % div == 0 {
        Decimal::new(v / div, scale)
    } else {
        Decimal::new(v, SCALE).normalize()
    }
}

pub(super) fn round_to_unit(p: i64, unit: i64) -> i64 {
    if unit <= 1 {
        return p;
    }
    let r = p.rem_euclid(unit);
    if r * 2 >= unit { p - r + unit } else { p - r }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Bar {
    pub(super) o: i64,
    pub(super) h: i64,
    pub(super) l: i64,
    pub(super) c: i64,
}

impl Bar {
    /// The four path vertices; the order of the extremes follows the candle's direction.
    #[inline]
    fn vertices(&self) -> [i64; 4] {
        if self.c >= self.o {
            [self.o, self.h, self.l, self.c]
        } else {
            [self.o, self.l, self.h, self.c]
        }
    }
}

/// A candle's volume in 8 bytes: the normalised decimal's mantissa above its scale (5 bits),
/// so the value comes back exactly. A volume that does not fit (negative, or a mantissa of
/// 2^59 or more) is refused at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Volume(u64);

impl Volume {
    const SCALE_BITS: u32 = 5;
    pub(super) const ZERO: Volume = Volume(0);

    pub(super) fn pack(d: Decimal) -> Option<Volume> {
        let n = d.normalize();
        let m = u64::try_from(n.mantissa()).ok()?;
        (m < (1 << (64 - Self::SCALE_BITS)))
            .then(|| Volume((m << Self::SCALE_BITS) | u64::from(n.scale())))
    }

    pub(super) fn get(self) -> Decimal {
        let m = i64::try_from(self.0 >> Self::SCALE_BITS).expect("59 bits fit an i64");
        let scale = u32::try_from(self.0 & ((1 << Self::SCALE_BITS) - 1)).expect("5 bits");
        Decimal::new(m, scale)
    }
}

/// A series' candles, kept as small as the prices allow and always exact.
#[derive(Debug, Clone)]
pub(super) enum Bars {
    /// Every price an `i32` multiple of `step` internal units, the largest power of ten that
    /// divides them all: 16 bytes a candle instead of 32. Binance's prices have few
    /// significant digits, so every series of the shared data is kept this way.
    Narrow { bars: Vec<[i32; 4]>, step: i64 },
    /// A series with a price that does not fit that form, as it is.
    Wide(Vec<Bar>),
}

impl Bars {
    pub(super) fn new(wide: Vec<Bar>) -> Bars {
        let divides = |step: i64| {
            wide.iter()
                .all(|b| [b.o, b.h, b.l, b.c].iter().all(|v| v % step == 0))
        };
        let mut step = pow10(SCALE);
        while step > 1 && !divides(step) {
            step /= 10;
        }
        let narrow = |v: i64| i32::try_from(v / step).ok();
        let bars: Option<Vec<[i32; 4]>> = wide
            .iter()
            .map(|b| Some([narrow(b.o)?, narrow(b.h)?, narrow(b.l)?, narrow(b.c)?]))
            .collect();
        match bars {
            Some(bars) => Bars::Narrow { bars, step },
            None => Bars::Wide(wide),
        }
    }

    #[inline]
    pub(super) fn get(&self, k: usize) -> Bar {
        match self {
            Bars::Narrow { bars, step } => {
                let [o, h, l, c] = bars[k].map(|v| i64::from(v) * step);
                Bar { o, h, l, c }
            }
            Bars::Wide(bars) => bars[k],
        }
    }
}

/// One contiguous candle series (gaps filled) with the time span it is used for.
///
/// The bars live in a shared [`Store`] (`Arc`): a clone, e.g. a symbol listed again under
/// another name (`MarketData::load_dir_as`), costs the times only, which
/// [`MarketData::shifted_weeks`] moves per clone. The store keeps all of them or, once the
/// market keeps a window, those around the clock, and reads the others from the files.
/// [`Series::relocated`] makes an unshared copy. An hour held costs 24 bytes
/// ([`Bars::Narrow`] and a packed [`Volume`]; no running sum: a range's volume is summed
/// from its bars, which the range's high and low walk anyway).
///
/// [`MarketData::shifted_weeks`]: super::MarketData::shifted_weeks
#[derive(Debug, Clone)]
pub(super) struct Series {
    pub(super) start_ms: i64,
    pub(super) interval_ms: i64,
    pub(super) store: Arc<Store>,
    pub(super) use_from: i64,
    /// Exclusive.
    pub(super) use_to: i64,
}

impl Series {
    /// The series of `rows` (sorted, on the `interval_ms` grid), all held; `source` is where
    /// its bars can be read again, when it came from files.
    pub(super) fn build(
        rows: &[CandleRow],
        interval_ms: i64,
        file: &str,
        source: Option<Source>,
    ) -> Result<Series, DataError> {
        let first = rows.first().ok_or_else(|| DataError::Empty {
            file: file.to_string(),
        })?;
        if interval_ms <= 0 || interval_ms % 4 != 0 {
            // The four-leg path needs an interval that splits into four whole milliseconds.
            return Err(DataError::BadRow {
                file: file.to_string(),
                line: 1,
                reason: format!("interval {interval_ms} ms is not a positive multiple of 4 ms"),
            });
        }
        let start_ms = first.open_time_ms;
        let mut grid = Grid::new(start_ms, interval_ms, (0, usize::MAX), rows.len());
        for (i, r) in rows.iter().enumerate() {
            grid.push(r, file, i + 2)?;
        }
        let filled = grid.filled;
        if filled > 0 {
            tracing::warn!(
                file,
                filled,
                "filled candle gaps with flat zero-volume candles"
            );
        }
        let (bars, volume, _) = grid.finish();
        let store = Store::whole(bars, volume, start_ms, interval_ms, source);
        let n = i64::try_from(store.len).unwrap_or(i64::MAX);
        let end = start_ms.saturating_add(n.saturating_mul(interval_ms));
        Ok(Series {
            start_ms,
            interval_ms,
            store: Arc::new(store),
            use_from: start_ms,
            use_to: end,
        })
    }

    pub(super) fn len(&self) -> usize {
        self.store.len
    }

    pub(super) fn end_ms(&self) -> i64 {
        self.start_ms + self.len() as i64 * self.interval_ms
    }

    /// This series with its bars copied into allocations of their own (not shared with
    /// `self`), made by the calling thread.
    pub(super) fn relocated(&self) -> Series {
        Series {
            store: Arc::new(self.store.relocated()),
            ..*self
        }
    }

    /// The bars covering `[a, b]` (ms, inclusive, clamped to the series): `(first, end)`.
    pub(super) fn bars_of(&self, a: i64, b: i64) -> (usize, usize) {
        let idx = |t: i64| {
            let k = (t - self.start_ms).div_euclid(self.interval_ms);
            usize::try_from(k.max(0)).unwrap_or(0).min(self.len())
        };
        let (ka, kb) = (idx(a), idx(b).saturating_add(1).min(self.len()));
        (ka.min(kb), kb)
    }

    /// Bar index and offset into it; `t` must be inside `[start_ms, end_ms)`.
    #[inline]
    fn locate(&self, t: i64) -> (usize, i64) {
        let off = t - self.start_ms;
        let k = (off / self.interval_ms) as usize;
        (k, off - k as i64 * self.interval_ms)
    }

    #[inline]
    fn price_in(&self, c: &Chunk, k: usize, u: i64, unit: i64) -> i64 {
        let bar = c.bar(k);
        let leg = self.interval_ms / 4;
        let j = (u / leg) as usize;
        if j >= 3 {
            return bar.c;
        }
        let v = bar.vertices();
        let frac = u - j as i64 * leg;
        let (a, b) = (v[j], v[j + 1]);
        if frac == 0 {
            return a;
        }
        let p = i128::from(a) + i128::from(b - a) * i128::from(frac) / i128::from(leg);
        // `p` lies between a and b, both i64, so the narrowing cannot fail.
        let p = i64::try_from(p).unwrap_or(a);
        round_to_unit(p, unit).clamp(a.min(b), a.max(b))
    }

    #[inline]
    pub(super) fn price_at(&self, t: i64, unit: i64) -> Result<i64, DataError> {
        let (k, u) = self.locate(t);
        self.store.with(k, k + 1, |c| self.price_in(c, k, u, unit))
    }

    /// Min and max of the path over offsets `[ua, ub]` of bar `k`.
    #[inline]
    fn bar_range(&self, c: &Chunk, k: usize, ua: i64, ub: i64, unit: i64) -> (i64, i64) {
        let bar = c.bar(k);
        if ua == 0 && ub >= self.interval_ms - 1 {
            return (bar.l, bar.h);
        }
        let a = self.price_in(c, k, ua, unit);
        let b = self.price_in(c, k, ub, unit);
        let (mut lo, mut hi) = (a.min(b), a.max(b));
        let leg = self.interval_ms / 4;
        let v = bar.vertices();
        for (j, &vj) in v.iter().enumerate().skip(1) {
            let vt = j as i64 * leg;
            if ua < vt && vt < ub {
                lo = lo.min(vj);
                hi = hi.max(vj);
            }
        }
        (lo, hi)
    }

    /// Min and max over `[a, b]`, both inside `[start_ms, end_ms)`, `a <= b`.
    pub(super) fn range(&self, a: i64, b: i64, unit: i64) -> Result<(i64, i64), DataError> {
        let (ka, ua) = self.locate(a);
        let (kb, ub) = self.locate(b);
        self.store.with(ka, kb + 1, |c| {
            if ka == kb {
                return self.bar_range(c, ka, ua, ub, unit);
            }
            let (mut lo, mut hi) = self.bar_range(c, ka, ua, self.interval_ms - 1, unit);
            for bar in (ka + 1..kb).map(|k| c.bar(k)) {
                lo = lo.min(bar.l);
                hi = hi.max(bar.h);
            }
            let (l2, h2) = self.bar_range(c, kb, 0, ub, unit);
            (lo.min(l2), hi.max(h2))
        })
    }

    /// Volume traded in `[a, b)`, spreading each candle's volume evenly over its time.
    fn volume_between(&self, a: i64, b: i64) -> Result<Decimal, DataError> {
        let (a, b) = (a.max(self.start_ms), b.min(self.end_ms()));
        if b <= a {
            return Ok(Decimal::ZERO);
        }
        // The whole bars from a's to b's, less the part of a's bar before a, plus the part
        // of b's bar before b.
        let (ka, ua) = self.locate(a);
        let (kb, ub) = if b == self.end_ms() {
            (self.len(), 0)
        } else {
            self.locate(b)
        };
        let end = if ub > 0 { kb + 1 } else { kb };
        self.store.with(ka, end.max(ka + 1), |c| {
            let part = |k: usize, u: i64| {
                c.volume(k).get() * Decimal::from(u) / Decimal::from(self.interval_ms)
            };
            let mut v: Decimal = (ka..kb).map(|k| c.volume(k).get()).sum();
            if ua > 0 {
                v -= part(ka, ua);
            }
            if ub > 0 {
                v += part(kb, ub);
            }
            v
        })
    }
}

/// Series of one kind (trade or mark) for one symbol, finest first.
#[derive(Debug, Clone)]
pub(super) struct SeriesSet {
    pub(super) series: Vec<Series>,
    /// Rounding unit of interpolated prices, in internal units (the tick size).
    pub(super) unit: i64,
    /// Decimals used when an answer is exact at that scale.
    pub(super) out_scale: u32,
}

impl SeriesSet {
    /// This set with every series [`Series::relocated`].
    pub(super) fn relocated(&self) -> SeriesSet {
        SeriesSet {
            series: self.series.iter().map(Series::relocated).collect(),
            ..*self
        }
    }

    #[inline]
    pub(super) fn find(&self, t: i64) -> Option<(usize, &Series)> {
        self.series
            .iter()
            .enumerate()
            .find(|(_, s)| s.use_from <= t && t < s.use_to)
    }

    /// Calls `f(series, a, b)` for consecutive pieces of `[a, b]`, each served by one series,
    /// until `f` fails. Times not covered by any series are skipped.
    fn for_each_piece(
        &self,
        a: i64,
        b: i64,
        mut f: impl FnMut(&Series, i64, i64) -> Result<(), DataError>,
    ) -> Result<(), DataError> {
        let mut t = a;
        while t <= b {
            match self.find(t) {
                Some((idx, s)) => {
                    let mut end = b.min(s.use_to - 1);
                    for finer in &self.series[..idx] {
                        if finer.use_from > t {
                            end = end.min(finer.use_from - 1);
                        }
                    }
                    f(s, t, end)?;
                    t = end + 1;
                }
                None => {
                    match self
                        .series
                        .iter()
                        .map(|s| s.use_from)
                        .filter(|&from| from > t)
                        .min()
                    {
                        Some(next) => t = next,
                        None => break,
                    }
                }
            }
        }
        Ok(())
    }

    #[inline]
    pub(super) fn price_at(&self, t: i64) -> Result<Option<i64>, DataError> {
        self.find(t)
            .map(|(_, s)| s.price_at(t, self.unit))
            .transpose()
    }

    /// Min and max over `[a, b]` (inclusive).
    pub(super) fn range(&self, a: i64, b: i64) -> Result<Option<(i64, i64)>, DataError> {
        let mut out: Option<(i64, i64)> = None;
        let unit = self.unit;
        self.for_each_piece(a, b, |s, pa, pb| {
            let (lo, hi) = s.range(pa, pb, unit)?;
            out = Some(match out {
                Some((l, h)) => (l.min(lo), h.max(hi)),
                None => (lo, hi),
            });
            Ok(())
        })?;
        Ok(out)
    }

    /// Volume over `[a, b]` (inclusive ms).
    pub(super) fn volume(&self, a: i64, b: i64) -> Result<Decimal, DataError> {
        let mut v = Decimal::ZERO;
        self.for_each_piece(a, b, |s, pa, pb| {
            v += s.volume_between(pa, pb + 1)?;
            Ok(())
        })?;
        Ok(v)
    }

    /// Makes sure the bars of `[a, b]` are in memory for the reads that follow (a request's
    /// many small reads over a span outside the window then read the files once).
    pub(super) fn prefetch(&self, a: i64, b: i64) -> Result<(), DataError> {
        self.for_each_piece(a, b, |s, pa, pb| {
            let (ka, kb) = s.bars_of(pa, pb);
            if ka < kb {
                s.store.with(ka, kb, |_| ())?;
            }
            Ok(())
        })
    }

    pub(super) fn dec(&self, v: i64) -> Decimal {
        from_units(v, self.out_scale)
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use crate::market::data::{CandleRow, DataError};
    use crate::market::replay::HOUR_MS;
    use crate::market::test_data::d;
    use crate::market::{MarketData, SymbolSpec};

    #[test]
    fn path_shape_and_rounding() {
        let row = |t: i64, o: &str, h: &str, l: &str, c: &str| CandleRow {
            open_time_ms: t,
            open: d(o),
            high: d(h),
            low: d(l),
            close: d(c),
            volume: d("40"),
        };
        // Up candle: open → high → low → close; a down candle visits the low first.
        let hourly = [
            row(0, "100.05", "110", "90", "105"),
            row(HOUR_MS, "105", "106", "95", "96"),
        ];
        let m =
            MarketData::from_rows(SymbolSpec::btcusdt(), &hourly, None, &[], Vec::new()).unwrap();
        let q = HOUR_MS / 4;
        let p = |t| m.last_price("BTCUSDT", t).unwrap();
        assert_eq!(p(0), d("100.05"), "vertex exact even off the 0.10 tick");
        assert_eq!(p(q), d("110"));
        assert_eq!(p(2 * q), d("90"));
        assert_eq!(p(3 * q), d("105"));
        assert_eq!(p(HOUR_MS - 1), d("105"));
        assert_eq!(
            p(q / 2),
            d("105.0"),
            "midpoint of 100.05→110 rounds to the tick"
        );
        assert_eq!(p(q + q / 2), d("100.0"));
        assert_eq!(p(HOUR_MS + q), d("95"), "down candle goes to the low first");
        assert_eq!(p(HOUR_MS + 2 * q), d("106"));
        // Leg monotone: no interpolated value outside its leg's span.
        for t in 0..q {
            let v = p(t * 1000 % q);
            assert!(d("100.05") <= v && v <= d("110"));
        }
        assert_eq!(
            m.price_range("BTCUSDT", -1, q / 2),
            Some((d("100.05"), d("105.0")))
        );
        assert_eq!(m.price_range("BTCUSDT", 0, q / 2).unwrap().0, p(1));
        assert_eq!(
            m.price_range("BTCUSDT", q / 2, HOUR_MS + q),
            Some((d("90"), d("110")))
        );
        assert_eq!(
            m.price_range("BTCUSDT", 3 * q, HOUR_MS - 1),
            Some((d("105"), d("105")))
        );
        assert_eq!(m.price_range("BTCUSDT", 5, 5), None);
        assert_eq!(m.price_range("BTCUSDT", 10, 5), None);
        // No mark file: mark and index are the last price.
        assert_eq!(m.mark_price("BTCUSDT", q), Some(d("110")));
        assert_eq!(m.index_price("BTCUSDT", q), Some(d("110")));
    }

    #[test]
    fn a_packed_volume_is_the_exact_value_in_eight_bytes() {
        use super::Volume;
        for v in [
            "0",
            "8037.588",
            "47224536536",
            "0.00000001",
            "1234.500",
            "576460752303423487",
        ] {
            let packed = Volume::pack(d(v)).expect("fits");
            assert_eq!(packed.get(), d(v), "{v}");
            assert_eq!(packed.get().to_string(), d(v).normalize().to_string());
        }
        assert_eq!(Volume::pack(d("-1")), None, "a volume is never negative");
        assert_eq!(
            Volume::pack(d("576460752303423488")),
            None,
            "2^59 does not fit"
        );
        assert_eq!(std::mem::size_of::<Volume>(), 8);
    }

    #[test]
    fn candles_are_kept_narrow_when_their_prices_allow_and_exact_either_way() {
        use super::{Bars, Series};
        let row = |t: i64, o: &str, h: &str, l: &str, c: &str| CandleRow {
            open_time_ms: t,
            open: d(o),
            high: d(h),
            low: d(l),
            close: d(c),
            volume: d("1"),
        };
        let btc = [
            row(0, "28948.19", "29055", "28706", "29015"),
            row(HOUR_MS, "29015", "69000.1", "28975.46", "29448.4"),
        ];
        let s = Series::build(&btc, HOUR_MS, "btc", None).unwrap();
        let held = s.store.resident();
        match &held.bars {
            // Two decimals at most: a step of 10^6 units (0.01), 6,900,010 for 69000.1.
            Bars::Narrow { bars, step } => {
                assert_eq!((*step, bars[1][1]), (1_000_000, 6_900_010));
                // What an hour of replay costs: four narrow prices and a packed volume.
                assert_eq!(
                    std::mem::size_of_val(&bars[0]) + std::mem::size_of_val(&held.volume[0]),
                    24
                );
            }
            Bars::Wide(_) => panic!("BTC's prices fit the narrow form"),
        }
        let pepe = [row(0, "0.0039485", "0.0044583", "0.00000001", "0.0042176")];
        assert!(matches!(
            Series::build(&pepe, HOUR_MS, "pepe", None)
                .unwrap()
                .store
                .resident()
                .bars,
            Bars::Narrow { step: 1, .. }
        ));
        // 3,000.12345678 is 300,012,345,678 units: no step makes it an i32, so it stays wide.
        let fine = [row(0, "3000.12345678", "3001", "2999", "3000")];
        let wide = Series::build(&fine, HOUR_MS, "fine", None).unwrap();
        assert!(matches!(wide.store.resident().bars, Bars::Wide(_)));
        for (rows, series) in [(&btc[..], &s), (&fine[..], &wide)] {
            for (k, r) in rows.iter().enumerate() {
                let b = series.store.resident().bar(k);
                let back = [b.o, b.h, b.l, b.c].map(|v| Decimal::new(v, 8));
                assert_eq!(back, [r.open, r.high, r.low, r.close]);
            }
        }
    }

    #[test]
    fn a_volume_out_of_range_is_refused_with_its_line() {
        let row = |t: i64, v: &str| CandleRow {
            open_time_ms: t,
            open: d("100"),
            high: d("100"),
            low: d("100"),
            close: d("100"),
            volume: d(v),
        };
        let rows = [row(0, "1"), row(HOUR_MS, "-2")];
        let err =
            MarketData::from_rows(SymbolSpec::btcusdt(), &rows, None, &[], Vec::new()).unwrap_err();
        assert!(
            matches!(&err, DataError::BadRow { line: 3, reason, .. } if reason.contains("volume -2")),
            "{err}"
        );
    }

    #[test]
    fn volume_over_a_span_prorates_its_end_candles() {
        let row = |t: i64, v: &str| CandleRow {
            open_time_ms: t,
            open: d("100"),
            high: d("100"),
            low: d("100"),
            close: d("100"),
            volume: d(v),
        };
        let rows = [row(0, "40"), row(HOUR_MS, "8"), row(2 * HOUR_MS, "4")];
        let m = MarketData::from_rows(SymbolSpec::btcusdt(), &rows, None, &[], Vec::new()).unwrap();
        let set = &m.symbols[0].trade;
        let q = HOUR_MS / 4;
        assert_eq!(
            set.volume(0, 3 * HOUR_MS - 1).unwrap(),
            d("52"),
            "every candle whole"
        );
        assert_eq!(
            set.volume(3 * q, HOUR_MS + q - 1).unwrap(),
            d("12"),
            "a quarter of 40 and of 8"
        );
        assert_eq!(
            set.volume(q, 2 * q - 1).unwrap(),
            d("10"),
            "inside one candle"
        );
        assert_eq!(
            set.volume(2 * HOUR_MS + 2 * q, 9 * HOUR_MS).unwrap(),
            d("2"),
            "past the end"
        );
        assert_eq!(
            set.volume(-HOUR_MS, -1).unwrap(),
            Decimal::ZERO,
            "before the start"
        );
    }

    #[test]
    fn gaps_filled_flat_and_off_grid_rejected() {
        let row = |t: i64, p: &str| CandleRow {
            open_time_ms: t,
            open: d(p),
            high: d(p),
            low: d(p),
            close: d(p),
            volume: d("1"),
        };
        let hourly = [row(0, "100"), row(3 * HOUR_MS, "120")];
        let m =
            MarketData::from_rows(SymbolSpec::btcusdt(), &hourly, None, &[], Vec::new()).unwrap();
        assert_eq!(m.last_price("BTCUSDT", HOUR_MS + 5), Some(d("100")));
        let k = m
            .klines("BTCUSDT", "1h", Some(0), None, 10, 10 * HOUR_MS)
            .unwrap();
        assert_eq!(k.len(), 4);
        assert_eq!(k[1].volume, Decimal::ZERO);
        let bad = [row(0, "100"), row(HOUR_MS + 1, "100")];
        let err =
            MarketData::from_rows(SymbolSpec::btcusdt(), &bad, None, &[], Vec::new()).unwrap_err();
        assert!(matches!(err, DataError::OffGrid { line: 3, .. }), "{err}");
    }
}
