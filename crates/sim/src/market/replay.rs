//! Replayed market data: [`MarketData`] answers prices, ranges and funding at any time of the
//! data, along the path of [`super::path`]; [`super::load`] builds it from files,
//! [`super::klines`] and [`super::depth`] add klines, the 24 h ticker and the book.

use rust_decimal::Decimal;

use super::data::{DataError, FundingRow};
use super::path::SeriesSet;
use super::store::{Keeper, Need, Residency};
use super::symbols::SymbolSpec;

/// One hour in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;
/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// Binance USDⓈ-M funding happens every 8 hours, at 00:00, 08:00 and 16:00 UTC.
pub const FUNDING_INTERVAL_MS: i64 = 8 * HOUR_MS;
/// Funding rate used when the funding file is missing or has no row for a funding time:
/// 0.01 % per 8 h, Binance's interest-rate component with a zero premium (the typical calm
/// market value).
pub const DEFAULT_FUNDING_RATE: Decimal = Decimal::from_parts(1, 0, 0, false, 4);

/// Everything replayed for one symbol.
#[derive(Debug, Clone)]
pub(super) struct SymbolMarket {
    pub(super) spec: SymbolSpec,
    pub(super) trade: SeriesSet,
    pub(super) mark: Option<SeriesSet>,
    pub(super) funding: Vec<FundingRow>,
    /// First ms with trade data.
    pub(super) start_ms: i64,
    /// Last ms with trade data (inclusive).
    pub(super) end_ms: i64,
}

/// The next funding time strictly after `t_ms` (00:00, 08:00 or 16:00 UTC).
pub fn next_funding_time(t_ms: i64) -> i64 {
    (t_ms.div_euclid(FUNDING_INTERVAL_MS) + 1).saturating_mul(FUNDING_INTERVAL_MS)
}

/// Replayed market data for a set of symbols; immutable once loaded and cheap to query.
#[derive(Debug, Clone)]
pub struct MarketData {
    pub(super) symbols: Vec<SymbolMarket>,
    pub(super) start_ms: i64,
    pub(super) end_ms: i64,
    /// Whole weeks every time of the data was moved by (`MarketData::shifted_weeks`).
    pub(super) shift_weeks: i64,
    /// What is kept in memory around the clock; `None`: everything.
    pub(super) residency: Option<Residency>,
    pub(super) keeper: Keeper,
}

/// `r`'s value, or `None` with the error logged: for the answers whose callers cannot report
/// an error (the engine's own steps, which [`MarketData::keep_window`] keeps in memory).
fn logged<T>(symbol: &str, r: Result<Option<T>, DataError>) -> Option<T> {
    r.unwrap_or_else(|e| {
        tracing::error!(%symbol, error = %e, "market data unavailable");
        None
    })
}

impl MarketData {
    #[inline]
    pub(super) fn sym(&self, symbol: &str) -> Option<&SymbolMarket> {
        self.symbols.iter().find(|s| s.spec.symbol == symbol)
    }

    /// The contract spec of `symbol`.
    pub fn spec(&self, symbol: &str) -> Option<&SymbolSpec> {
        self.sym(symbol).map(|s| &s.spec)
    }

    /// Loaded symbols, in load order.
    pub fn symbols(&self) -> Vec<&str> {
        self.symbols
            .iter()
            .map(|s| s.spec.symbol.as_str())
            .collect()
    }

    /// First ms at which some symbol has data: the replay's start. A symbol whose data starts
    /// later (listed mid-period) is not listed and does not trade before its own start.
    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    /// Last ms (inclusive) at which every symbol has data: the close time of the last candle.
    pub fn end_ms(&self) -> i64 {
        self.end_ms
    }

    /// The first ms of `symbol`'s data, i.e. when it is listed.
    pub fn listing_ms(&self, symbol: &str) -> Option<i64> {
        self.sym(symbol).map(|s| s.start_ms)
    }

    /// The spec of `symbol` if it is listed at `t_ms` (its data has started).
    pub fn listed_at(&self, symbol: &str, t_ms: i64) -> Option<&SymbolSpec> {
        self.sym(symbol)
            .filter(|s| s.start_ms <= t_ms)
            .map(|s| &s.spec)
    }

    /// The symbols listed at `t_ms`, in load order.
    pub fn symbols_at(&self, t_ms: i64) -> Vec<&str> {
        self.symbols
            .iter()
            .filter(|s| s.start_ms <= t_ms)
            .map(|s| s.spec.symbol.as_str())
            .collect()
    }

    /// The span `(first, last)` of `symbol`'s funding file; outside it (or without a file)
    /// funding uses [`DEFAULT_FUNDING_RATE`] on the 8-hourly schedule.
    pub fn funding_coverage(&self, symbol: &str) -> Option<(i64, i64)> {
        let s = self.sym(symbol)?;
        Some((
            s.funding.first()?.funding_time_ms,
            s.funding.last()?.funding_time_ms,
        ))
    }

    /// Last traded price at `t_ms` along the intra-candle path (see the module docs); `None`
    /// outside the symbol's data (or when its files cannot be read: logged).
    pub fn last_price(&self, symbol: &str, t_ms: i64) -> Option<Decimal> {
        logged(symbol, self.try_last_price(symbol, t_ms))
    }

    /// [`MarketData::last_price`], or why the files could not give it.
    ///
    /// # Errors
    /// A data file needed for `t_ms` (outside the bars kept in memory) cannot be read.
    pub fn try_last_price(&self, symbol: &str, t_ms: i64) -> Result<Option<Decimal>, DataError> {
        let Some(s) = self.sym(symbol) else {
            return Ok(None);
        };
        Ok(s.trade.price_at(t_ms)?.map(|v| s.trade.dec(v)))
    }

    /// Lowest and highest last price in `(from_ms, to_ms]`; `None` when the window is empty or
    /// has no data. Exact for the path, so no wick between two engine steps is missed.
    pub fn price_range(
        &self,
        symbol: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Option<(Decimal, Decimal)> {
        logged(symbol, self.try_price_range(symbol, from_ms, to_ms))
    }

    /// [`MarketData::price_range`], or why the files could not give it.
    ///
    /// # Errors
    /// As [`MarketData::try_last_price`].
    pub fn try_price_range(
        &self,
        symbol: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Option<(Decimal, Decimal)>, DataError> {
        let Some(s) = self.sym(symbol) else {
            return Ok(None);
        };
        if to_ms <= from_ms {
            return Ok(None);
        }
        Ok(s.trade
            .range(from_ms + 1, to_ms)?
            .map(|(lo, hi)| (s.trade.dec(lo), s.trade.dec(hi))))
    }

    /// Mark price at `t_ms`: the same path over the mark-price klines, or the last price when
    /// there is no mark data at `t_ms`.
    pub fn mark_price(&self, symbol: &str, t_ms: i64) -> Option<Decimal> {
        logged(symbol, self.try_mark_price(symbol, t_ms))
    }

    /// [`MarketData::mark_price`], or why the files could not give it.
    ///
    /// # Errors
    /// As [`MarketData::try_last_price`].
    pub fn try_mark_price(&self, symbol: &str, t_ms: i64) -> Result<Option<Decimal>, DataError> {
        let Some(s) = self.sym(symbol) else {
            return Ok(None);
        };
        if let Some(m) = &s.mark
            && let Some(v) = m.price_at(t_ms)?
        {
            return Ok(Some(m.dec(v)));
        }
        Ok(s.trade.price_at(t_ms)?.map(|v| s.trade.dec(v)))
    }

    /// Lowest and highest mark price in `(from_ms, to_ms]` (mark klines have wicks too, so the
    /// two end values do not bracket the window).
    pub fn mark_price_range(
        &self,
        symbol: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Option<(Decimal, Decimal)> {
        logged(symbol, self.try_mark_price_range(symbol, from_ms, to_ms))
    }

    /// [`MarketData::mark_price_range`], or why the files could not give it.
    ///
    /// # Errors
    /// As [`MarketData::try_last_price`].
    pub fn try_mark_price_range(
        &self,
        symbol: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Option<(Decimal, Decimal)>, DataError> {
        let Some(s) = self.sym(symbol) else {
            return Ok(None);
        };
        if to_ms <= from_ms {
            return Ok(None);
        }
        if let Some(m) = &s.mark
            && let Some((lo, hi)) = m.range(from_ms + 1, to_ms)?
        {
            return Ok(Some((m.dec(lo), m.dec(hi))));
        }
        self.try_price_range(symbol, from_ms, to_ms)
    }

    /// Index price: the data has no index klines, so this is the mark price.
    pub fn index_price(&self, symbol: &str, t_ms: i64) -> Option<Decimal> {
        self.mark_price(symbol, t_ms)
    }

    /// The funding rate applied at `funding_time_ms`: the file's value at exactly that time, or
    /// [`DEFAULT_FUNDING_RATE`] when there is none (no file, unknown symbol, or a missing row).
    pub fn funding_rate(&self, symbol: &str, funding_time_ms: i64) -> Decimal {
        self.sym(symbol)
            .and_then(|s| {
                s.funding
                    .binary_search_by_key(&funding_time_ms, |r| r.funding_time_ms)
                    .ok()
                    .map(|i| s.funding[i].funding_rate)
            })
            .unwrap_or(DEFAULT_FUNDING_RATE)
    }

    /// The earliest next funding time of any symbol strictly after `t_ms` (see
    /// [`MarketData::next_funding_time_of`]); nothing is due before it.
    pub fn next_funding_time(&self, t_ms: i64) -> i64 {
        self.symbols
            .iter()
            .map(|s| s.next_funding(t_ms))
            .min()
            .unwrap_or_else(|| next_funding_time(t_ms))
    }

    /// `symbol`'s next funding time strictly after `t_ms`: its funding file's own times while
    /// `t_ms` is inside the file's span (so a symbol on 4h or 1h funding is charged at its real
    /// times), the 8-hourly schedule elsewhere.
    pub fn next_funding_time_of(&self, symbol: &str, t_ms: i64) -> i64 {
        self.sym(symbol)
            .map_or_else(|| next_funding_time(t_ms), |s| s.next_funding(t_ms))
    }

    /// Funding events `(time, rate)` with `from_ms < time <= to_ms`, at the symbol's funding
    /// times (see [`MarketData::next_funding_time_of`]) and inside its data, oldest first.
    pub fn funding_events_between(
        &self,
        symbol: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Vec<(i64, Decimal)> {
        let Some(s) = self.sym(symbol) else {
            return Vec::new();
        };
        let lo = from_ms.max(s.start_ms - 1);
        let hi = to_ms.min(s.end_ms);
        let mut out = Vec::new();
        let mut t = s.next_funding(lo);
        while t <= hi {
            out.push((t, self.funding_rate(symbol, t)));
            t = s.next_funding(t);
        }
        out
    }
}

impl MarketData {
    /// This market keeping in memory only the bars `residency` asks for around the replay
    /// clock, from the first [`MarketData::keep_window`] on; every other read goes to the
    /// data files. Series built from rows in memory (no files) are always kept whole.
    pub fn keeping(mut self, residency: Residency) -> MarketData {
        self.residency = Some(residency);
        self
    }

    /// What this market keeps in memory (`None`: everything).
    pub fn residency(&self) -> Option<Residency> {
        self.residency
    }

    /// Moves the window of bars kept in memory to the replay time `now`, for an engine step
    /// from `from` (`<= now`): the bars of `[from, now]` are read at once if missing (so the
    /// step reads memory only), the window ahead in the background once half of it is used.
    /// Without a [`Residency`] it does nothing.
    ///
    /// # Errors
    /// A data file needed for `[from, now]` cannot be read (logged once while it lasts); the
    /// bars kept stay as they were.
    pub fn keep_window(&self, from: i64, now: i64) -> Result<(), DataError> {
        let Some(r) = self.residency else {
            return Ok(());
        };
        let from = from.min(now);
        if self.keeper.quiet(from, now) {
            return Ok(());
        }
        let mut seen: Vec<*const super::store::Store> = Vec::new();
        let mut needs = Vec::new();
        for set in self
            .symbols
            .iter()
            .flat_map(|s| std::iter::once(&s.trade).chain(s.mark.as_ref()))
        {
            for s in &set.series {
                let ptr = std::sync::Arc::as_ptr(&s.store);
                if !s.store.has_source() || seen.contains(&ptr) {
                    continue;
                }
                seen.push(ptr);
                let soon_to = now.saturating_add(r.ahead_ms / 2);
                needs.push(Need {
                    store: s.store.clone(),
                    must: s.bars_of(from, now.saturating_add(HOUR_MS)),
                    soon: s.bars_of(from.min(now - r.back_ms / 2), soon_to),
                    target: s.bars_of(
                        from.min(now.saturating_sub(r.back_ms)),
                        now.saturating_add(r.ahead_ms),
                    ),
                });
            }
        }
        self.keeper.keep(needs, from, now)
    }

    /// Waits until the background read of the window ahead that
    /// [`MarketData::keep_window`] started last has finished (tests, measurements).
    pub fn wait_for_window(&self) {
        self.keeper.wait();
    }

    /// Lets go of every run read outside the window now, as [`MarketData::keep_window`] does
    /// a few seconds after its last use (benches of a read from the files).
    pub fn forget_recent_reads(&self) {
        for set in self
            .symbols
            .iter()
            .flat_map(|s| std::iter::once(&s.trade).chain(s.mark.as_ref()))
        {
            for s in &set.series {
                s.store.forget_recent(std::time::Duration::ZERO);
            }
        }
    }

    /// The times `[from, to)` of `symbol`'s hourly trade candles held in memory.
    pub fn resident_span(&self, symbol: &str) -> Option<(i64, i64)> {
        let hourly = self.sym(symbol)?.trade.series.last()?;
        let held = hourly.store.resident();
        let at = |k: usize| hourly.start_ms + k as i64 * hourly.interval_ms;
        Some((at(held.first), at(held.first + held.len())))
    }

    /// Candles held in memory now, over every distinct series (the resident runs; a run read
    /// outside them for a moment is not counted).
    pub fn resident_bars(&self) -> usize {
        let mut seen: Vec<*const super::store::Store> = Vec::new();
        let mut n = 0;
        for set in self
            .symbols
            .iter()
            .flat_map(|s| std::iter::once(&s.trade).chain(s.mark.as_ref()))
        {
            for s in &set.series {
                let ptr = std::sync::Arc::as_ptr(&s.store);
                if !seen.contains(&ptr) {
                    seen.push(ptr);
                    n += s.store.resident().len();
                }
            }
        }
        n
    }
}

impl SymbolMarket {
    /// This market with its candles in allocations of its own ([`SeriesSet::relocated`]).
    pub(super) fn relocated(&self) -> SymbolMarket {
        SymbolMarket {
            spec: self.spec.clone(),
            trade: self.trade.relocated(),
            mark: self.mark.as_ref().map(SeriesSet::relocated),
            funding: self.funding.clone(),
            ..*self
        }
    }

    fn next_funding(&self, t_ms: i64) -> i64 {
        let sched = next_funding_time(t_ms);
        let i = self.funding.partition_point(|r| r.funding_time_ms <= t_ms);
        match self.funding.get(i) {
            // Inside the file's span its rows are the funding times.
            Some(r) if i > 0 => r.funding_time_ms,
            // Before the file: the schedule, or the file's first row if that comes sooner.
            Some(r) => sched.min(r.funding_time_ms),
            None => sched,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::depth::mix;
    use crate::market::test_data::{T2021, d, market, rows};

    #[test]
    fn last_price_follows_candles() {
        let m = market();
        for (sym, file) in [
            ("BTCUSDT", "binance_um_BTCUSDT_1h_2021-2023.csv"),
            ("ETHUSDT", "binance_um_ETHUSDT_1h_2021-2023.csv"),
        ] {
            let rows = rows(file);
            for (i, r) in rows.iter().enumerate().step_by(97) {
                let t0 = r.open_time_ms;
                assert_eq!(m.last_price(sym, t0), Some(r.open), "{sym} open at {t0}");
                assert_eq!(
                    m.last_price(sym, t0 + HOUR_MS - 1),
                    Some(r.close),
                    "{sym} close at {t0}"
                );
                for k in 0..61 {
                    let t = t0 + k * 59_017 % HOUR_MS + (i as i64 % 7);
                    let p = m.last_price(sym, t).unwrap();
                    assert!(
                        r.low <= p && p <= r.high,
                        "{sym} {t} {p} outside [{}, {}]",
                        r.low,
                        r.high
                    );
                }
            }
        }
        assert_eq!(m.last_price("BTCUSDT", T2021 - 1), None);
        assert_eq!(m.last_price("BTCUSDT", m.end_ms() + 1), None);
        assert_eq!(m.last_price("NOPE", T2021), None);
    }

    #[test]
    fn price_range_contains_samples_and_is_attained() {
        let m = market();
        let mut seed = 7_u64;
        for _ in 0..300 {
            seed = mix(seed);
            let from = T2021 + (seed % (3 * 365 * DAY_MS as u64 - 10 * HOUR_MS as u64)) as i64;
            seed = mix(seed);
            let len = 1 + (seed % (3 * HOUR_MS as u64)) as i64;
            let to = from + len;
            for sym in ["BTCUSDT", "ETHUSDT"] {
                let (lo, hi) = m.price_range(sym, from, to).unwrap();
                let mut seen_lo = false;
                let mut seen_hi = false;
                let mut check = |t: i64| {
                    let p = m.last_price(sym, t).unwrap();
                    assert!(
                        lo <= p && p <= hi,
                        "{sym} ({from},{to}] t={t} p={p} range [{lo},{hi}]"
                    );
                    seen_lo |= p == lo;
                    seen_hi |= p == hi;
                };
                let mut t = from + 1;
                while t <= to {
                    check(t);
                    t += 7_001;
                }
                check(to);
                // Vertices (every quarter of the finest candle, 15 s for 1m data) are where
                // extremes are reached.
                let q = 15_000;
                let mut v = (from / q + 1) * q;
                while v <= to {
                    check(v);
                    check(v - 1);
                    v += q;
                }
                check(from + 1);
                assert!(
                    seen_lo && seen_hi,
                    "{sym} ({from},{to}] extremes not attained"
                );
            }
        }
    }

    #[test]
    fn funding_from_file_and_schedule() {
        let m = market();
        assert_eq!(m.funding_rate("BTCUSDT", T2021), d("0.00022753"));
        assert_eq!(
            m.funding_rate("BTCUSDT", 1_704_038_400_000),
            d("0.00033597")
        );
        assert_eq!(m.funding_rate("BTCUSDT", T2021 + 1), DEFAULT_FUNDING_RATE);
        assert_eq!(m.funding_rate("NOPE", T2021), DEFAULT_FUNDING_RATE);
        assert_eq!(DEFAULT_FUNDING_RATE, d("0.0001"));
        assert_eq!(m.next_funding_time(T2021), T2021 + 8 * HOUR_MS);
        assert_eq!(m.next_funding_time(T2021 - 1), T2021);
        assert_eq!(
            m.next_funding_time(T2021 + 9 * HOUR_MS),
            T2021 + 16 * HOUR_MS
        );
        let ev = m.funding_events_between("BTCUSDT", T2021 - 1, T2021 + DAY_MS);
        assert_eq!(
            ev.iter().map(|e| e.0).collect::<Vec<_>>(),
            (0..4).map(|i| T2021 + i * 8 * HOUR_MS).collect::<Vec<_>>()
        );
        assert_eq!(ev[0].1, d("0.00022753"));
        assert_eq!(ev[1].1, d("0.00026336"));
        assert!(
            m.funding_events_between("BTCUSDT", T2021, T2021 + 8 * HOUR_MS - 1)
                .is_empty()
        );
        assert!(
            m.funding_events_between("BTCUSDT", m.end_ms(), m.end_ms() + DAY_MS)
                .is_empty()
        );
        let all = m.funding_events_between("ETHUSDT", i64::MIN / 2, i64::MAX / 2);
        assert_eq!(all.len(), 3_285);
        // Mark price comes from the mark file.
        assert_eq!(m.mark_price("BTCUSDT", T2021), Some(d("28948.25346318")));
        assert_eq!(
            m.mark_price("BTCUSDT", T2021 + HOUR_MS - 1),
            Some(d("29013.48000000"))
        );
        let (lo, hi) = m
            .mark_price_range("BTCUSDT", T2021 - 1, T2021 + HOUR_MS - 1)
            .unwrap();
        assert_eq!((lo, hi), (d("28716.54546384"), d("29044.70674319")));
    }

    #[test]
    fn funding_follows_the_series_times_inside_it_and_the_schedule_outside() {
        use crate::market::data::CandleRow;
        let rows: Vec<CandleRow> = (0..72)
            .map(|i| CandleRow {
                open_time_ms: T2021 + i * HOUR_MS,
                open: d("100"),
                high: d("101"),
                low: d("99"),
                close: d("100"),
                volume: d("1"),
            })
            .collect();
        // A symbol on 4-hourly funding for its second day only.
        let funding: Vec<FundingRow> = (0..6)
            .map(|i| FundingRow {
                funding_time_ms: T2021 + DAY_MS + i * 4 * HOUR_MS,
                funding_rate: d("0.0003"),
            })
            .collect();
        let m = MarketData::from_rows(
            crate::market::SymbolSpec::btcusdt(),
            &rows,
            None,
            &[],
            funding,
        )
        .unwrap();
        let ev = m.funding_events_between("BTCUSDT", T2021 - 1, T2021 + 3 * DAY_MS);
        let hours: Vec<i64> = ev.iter().map(|e| (e.0 - T2021) / HOUR_MS).collect();
        assert_eq!(hours, [0, 8, 16, 24, 28, 32, 36, 40, 44, 48, 56, 64]);
        let rates: Vec<Decimal> = ev.iter().map(|e| e.1).collect();
        assert!(rates[3..9].iter().all(|r| *r == d("0.0003")));
        assert!(
            rates[..3]
                .iter()
                .chain(&rates[9..])
                .all(|r| *r == DEFAULT_FUNDING_RATE)
        );
        assert_eq!(
            m.next_funding_time(T2021 + DAY_MS),
            T2021 + DAY_MS + 4 * HOUR_MS
        );
        assert_eq!(
            m.next_funding_time_of("BTCUSDT", T2021 + 20 * HOUR_MS),
            T2021 + DAY_MS
        );
        assert_eq!(
            m.funding_coverage("BTCUSDT"),
            Some((T2021 + DAY_MS, T2021 + DAY_MS + 20 * HOUR_MS))
        );
    }
}
