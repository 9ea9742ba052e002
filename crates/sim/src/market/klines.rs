//! Klines and the rolling 24 h ticker, aggregated from the replayed path so that sub-hour
//! intervals use 1m/5m data where it exists and slice the 1h path elsewhere.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::data::DataError;
use super::path::SCALE;
use super::replay::{DAY_MS, HOUR_MS, MarketData, SymbolMarket};

/// Binance's default `limit` for `/fapi/v1/klines`.
pub const KLINES_DEFAULT_LIMIT: usize = 500;
/// Binance's maximum `limit` for `/fapi/v1/klines`.
pub const KLINES_MAX_LIMIT: usize = 1500;

/// One `/fapi/v1/klines` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KlineRow {
    /// Open time, UTC ms.
    pub open_time: i64,
    /// Open price.
    pub open: Decimal,
    /// High price (up to now for the forming candle).
    pub high: Decimal,
    /// Low price (up to now for the forming candle).
    pub low: Decimal,
    /// Close price (the current price for the forming candle).
    pub close: Decimal,
    /// Base volume; for the forming candle the source candle's volume pro-rated by elapsed time.
    pub volume: Decimal,
    /// `open_time + interval − 1`.
    pub close_time: i64,
    /// Estimate: `volume × (open + high + low + close) / 4` (the data has no quote volume).
    pub quote_volume: Decimal,
    /// Always 0: the source data has no trade counts and an invented count would look real.
    pub trades: u64,
    /// Estimate: half of `volume` (the data has no taker split).
    pub taker_buy_volume: Decimal,
    /// Estimate: half of `quote_volume`.
    pub taker_buy_quote_volume: Decimal,
    /// False for the forming candle (`close_time > now`); the `x` flag of kline streams.
    pub is_closed: bool,
}

/// Why a klines request cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KlineError {
    /// The symbol is not loaded.
    #[error("unknown symbol {0}")]
    UnknownSymbol(String),
    /// The interval is not one of the supported ones.
    #[error("invalid interval {0}")]
    BadInterval(String),
    /// `startTime > endTime` (Binance -1023).
    #[error("start time {start} is greater than end time {end}")]
    StartAfterEnd {
        /// startTime.
        start: i64,
        /// endTime.
        end: i64,
    },
    /// A data file the answer needs (outside the bars kept in memory) cannot be read.
    #[error("market data unavailable: {0}")]
    Unavailable(String),
}

/// Rolling 24 h statistics, the shape of `/fapi/v1/ticker/24hr`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticker24h {
    /// Symbol.
    pub symbol: String,
    /// Window start (`now − 24 h`, or the data start if later).
    pub open_time: i64,
    /// Window end (`now`).
    pub close_time: i64,
    /// Price at the window start.
    pub open: Decimal,
    /// Highest price in the window.
    pub high: Decimal,
    /// Lowest price in the window.
    pub low: Decimal,
    /// Price now.
    pub last: Decimal,
    /// `last − open`.
    pub price_change: Decimal,
    /// `(last − open) / open × 100`, 3 decimals.
    pub price_change_percent: Decimal,
    /// Base volume in the window (pro-rated at the edges).
    pub volume: Decimal,
    /// Estimated quote volume (see [`KlineRow::quote_volume`]).
    pub quote_volume: Decimal,
    /// `quote_volume / volume` (or `last` when there is no volume).
    pub weighted_avg_price: Decimal,
}

/// Millisecond length of a Binance kline interval; `None` for unsupported ones
/// (`3d`, `1w`, `1M` are not supported: they do not align to plain epoch multiples).
pub fn interval_ms(interval: &str) -> Option<i64> {
    const MIN: i64 = 60_000;
    Some(match interval {
        "1m" => MIN,
        "3m" => 3 * MIN,
        "5m" => 5 * MIN,
        "15m" => 15 * MIN,
        "30m" => 30 * MIN,
        "1h" => HOUR_MS,
        "2h" => 2 * HOUR_MS,
        "4h" => 4 * HOUR_MS,
        "6h" => 6 * HOUR_MS,
        "8h" => 8 * HOUR_MS,
        "12h" => 12 * HOUR_MS,
        "1d" => DAY_MS,
        _ => return None,
    })
}

/// The path's open, high, low, close and volume over `[from, to]`, and the quote volume
/// estimated from them (the data has none).
struct Window {
    open: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    volume: Decimal,
    quote_volume: Decimal,
}

impl SymbolMarket {
    fn window(&self, from: i64, to: i64) -> Result<Option<Window>, DataError> {
        let Some(o) = self.trade.price_at(from)? else {
            return Ok(None);
        };
        let Some(c) = self.trade.price_at(to)? else {
            return Ok(None);
        };
        let Some((lo, hi)) = self.trade.range(from, to)? else {
            return Ok(None);
        };
        let volume = self.trade.volume(from, to)?.round_dp(SCALE).normalize();
        let (open, high, low, close) = (
            self.trade.dec(o),
            self.trade.dec(hi),
            self.trade.dec(lo),
            self.trade.dec(c),
        );
        let quote_volume = (volume * (open + high + low + close) / Decimal::from(4))
            .round_dp(SCALE)
            .normalize();
        Ok(Some(Window {
            open,
            high,
            low,
            close,
            volume,
            quote_volume,
        }))
    }
}

/// The kline error for a data file of `symbol` that cannot be read (the caller logs it).
fn unavailable(symbol: &str, e: &DataError) -> KlineError {
    KlineError::Unavailable(format!("{symbol}: {e}"))
}

impl MarketData {
    /// Klines with Binance semantics, built from the replay path so that sub-hour intervals use
    /// 1m/5m data where it exists and interpolate the 1h path elsewhere (a sub-hour candle from the
    /// 1h path is its slice of the four-leg walk, with volume pro-rated).
    ///
    /// Only candles with `open_time <= now_ms` (and inside the data) are returned; the one holding
    /// `now_ms` is forming: close/high/low are the path up to `now_ms`, volume pro-rated, and
    /// `is_closed` is false. `limit` 0 means 500; above 1500 is capped at 1500. `start_ms` and
    /// `end_ms` are inclusive bounds on the open time; with only `end_ms` the `limit` candles
    /// ending there are returned; with neither, the latest. Oldest first.
    pub fn klines(
        &self,
        symbol: &str,
        interval: &str,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
        limit: usize,
        now_ms: i64,
    ) -> Result<Vec<KlineRow>, KlineError> {
        let s = self
            .sym(symbol)
            .ok_or_else(|| KlineError::UnknownSymbol(symbol.to_string()))?;
        let iv =
            interval_ms(interval).ok_or_else(|| KlineError::BadInterval(interval.to_string()))?;
        if let (Some(a), Some(b)) = (start_ms, end_ms)
            && a > b
        {
            return Err(KlineError::StartAfterEnd { start: a, end: b });
        }
        let limit = match limit {
            0 => KLINES_DEFAULT_LIMIT,
            n => n.min(KLINES_MAX_LIMIT),
        } as i64;
        // Bound every time first: far-out user times (e.g. i64::MAX) must not overflow below.
        const FAR: i64 = 1 << 60;
        let bound = |t: i64| t.clamp(-FAR, FAR);
        let now_ms = bound(now_ms);
        let down = |t: i64| t - t.rem_euclid(iv);
        let up = |t: i64| down(t + iv - 1);
        let data_first = up(s.start_ms);
        let data_last = down(now_ms.min(s.end_ms));
        let (first, last) = match start_ms.map(bound) {
            Some(a) => {
                let first = up(a).max(data_first);
                let last = down(end_ms.map_or(FAR, bound)).min(data_last);
                (first, last.min(first + (limit - 1) * iv))
            }
            None => {
                let last = down(end_ms.map_or(now_ms, bound)).min(data_last);
                (data_first.max(last - (limit - 1) * iv), last)
            }
        };
        let mut out = Vec::new();
        if first <= last {
            // One read of the files for the whole span when it is not in memory.
            let upto = (last + iv - 1).min(now_ms).min(s.end_ms);
            s.trade
                .prefetch(first, upto)
                .map_err(|e| unavailable(symbol, &e))?;
        }
        let mut t = first;
        while t <= last {
            if let Some(k) = self
                .kline_at(s, t, iv, now_ms)
                .map_err(|e| unavailable(symbol, &e))?
            {
                out.push(k);
            }
            t += iv;
        }
        Ok(out)
    }

    /// Mark-price klines (`markPriceKlines`; also `indexPriceKlines`, the data having no
    /// index of its own): the candles [`MarketData::klines`] returns for the same request,
    /// with open, high, low and close taken from the mark-price path where there is mark data
    /// (the trade path elsewhere) and no volume.
    ///
    /// # Errors
    /// As [`MarketData::klines`].
    pub fn mark_klines(
        &self,
        symbol: &str,
        interval: &str,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
        limit: usize,
        now_ms: i64,
    ) -> Result<Vec<KlineRow>, KlineError> {
        let rows = self.klines(symbol, interval, start_ms, end_ms, limit, now_ms)?;
        let s = self
            .sym(symbol)
            .ok_or_else(|| KlineError::UnknownSymbol(symbol.to_string()))?;
        if let (Some(m), Some(a), Some(b)) = (&s.mark, rows.first(), rows.last()) {
            let upto = b.close_time.min(now_ms).min(s.end_ms);
            m.prefetch(a.open_time, upto)
                .map_err(|e| unavailable(symbol, &e))?;
        }
        let mark_of = |k: &KlineRow| -> Result<_, DataError> {
            let Some(m) = &s.mark else {
                return Ok(None);
            };
            let upto = k.close_time.min(now_ms).min(s.end_ms);
            let (Some(open), Some(close), Some((low, high))) = (
                m.price_at(k.open_time)?,
                m.price_at(upto)?,
                m.range(k.open_time, upto)?,
            ) else {
                return Ok(None);
            };
            Ok(Some((m.dec(open), m.dec(high), m.dec(low), m.dec(close))))
        };
        rows.into_iter()
            .map(|k| {
                let mark = mark_of(&k).map_err(|e| unavailable(symbol, &e))?;
                let (open, high, low, close) = mark.unwrap_or((k.open, k.high, k.low, k.close));
                Ok(KlineRow {
                    open,
                    high,
                    low,
                    close,
                    volume: Decimal::ZERO,
                    quote_volume: Decimal::ZERO,
                    taker_buy_volume: Decimal::ZERO,
                    taker_buy_quote_volume: Decimal::ZERO,
                    ..k
                })
            })
            .collect()
    }

    fn kline_at(
        &self,
        s: &SymbolMarket,
        open: i64,
        iv: i64,
        now_ms: i64,
    ) -> Result<Option<KlineRow>, DataError> {
        let close_time = open + iv - 1;
        let upto = close_time.min(now_ms).min(s.end_ms);
        let Some(w) = s.window(open, upto)? else {
            return Ok(None);
        };
        let half = |d: Decimal| (d / Decimal::TWO).round_dp(SCALE).normalize();
        Ok(Some(KlineRow {
            open_time: close_time + 1 - iv,
            open: w.open,
            high: w.high,
            low: w.low,
            close: w.close,
            volume: w.volume,
            close_time,
            quote_volume: w.quote_volume,
            trades: 0,
            taker_buy_volume: half(w.volume),
            taker_buy_quote_volume: half(w.quote_volume),
            is_closed: close_time <= now_ms,
        }))
    }

    /// Rolling 24 h ticker at `now_ms` (window clipped to the data start); `None` also when
    /// the files cannot be read (logged).
    pub fn ticker_24h(&self, symbol: &str, now_ms: i64) -> Option<Ticker24h> {
        self.try_ticker_24h(symbol, now_ms).unwrap_or_else(|e| {
            tracing::error!(%symbol, error = %e, "ticker: market data unavailable");
            None
        })
    }

    /// [`MarketData::ticker_24h`], or why the files could not give it.
    ///
    /// # Errors
    /// A data file needed (outside the bars kept in memory) cannot be read.
    pub fn try_ticker_24h(
        &self,
        symbol: &str,
        now_ms: i64,
    ) -> Result<Option<Ticker24h>, DataError> {
        let Some(s) = self.sym(symbol) else {
            return Ok(None);
        };
        let from = now_ms.saturating_sub(DAY_MS).max(s.start_ms);
        let Some(w) = s.window(from, now_ms.min(s.end_ms))? else {
            return Ok(None);
        };
        let weighted_avg_price = if w.volume.is_zero() {
            w.close
        } else {
            (w.quote_volume / w.volume).round_dp(s.spec.price_precision)
        };
        let price_change = w.close - w.open;
        Ok(Some(Ticker24h {
            symbol: symbol.to_string(),
            open_time: from,
            close_time: now_ms,
            open: w.open,
            high: w.high,
            low: w.low,
            last: w.close,
            price_change,
            price_change_percent: (price_change / w.open * Decimal::ONE_HUNDRED).round_dp(3),
            volume: w.volume,
            quote_volume: w.quote_volume,
            weighted_avg_price,
        }))
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::market::test_data::{T2021, aggregate, market, rows};

    #[test]
    fn klines_aggregate_hourly_rows() {
        let m = market();
        let rows = rows("binance_um_ETHUSDT_1h_2021-2023.csv");
        let now = m.end_ms();
        for (interval, iv) in [
            ("1h", HOUR_MS),
            ("4h", 4 * HOUR_MS),
            ("1d", DAY_MS),
            ("12h", 12 * HOUR_MS),
        ] {
            let start = T2021 + 200 * DAY_MS;
            let ks = m
                .klines("ETHUSDT", interval, Some(start), None, 100, now)
                .unwrap();
            assert_eq!(ks.len(), 100);
            for (i, k) in ks.iter().enumerate() {
                assert_eq!(k.open_time, start + i as i64 * iv);
                assert_eq!(k.close_time, k.open_time + iv - 1);
                assert!(k.is_closed);
                let (o, h, l, c, v) = aggregate(&rows, iv, k.open_time);
                assert_eq!(
                    (k.open, k.high, k.low, k.close, k.volume),
                    (o, h, l, c, v.normalize()),
                    "{interval} {}",
                    k.open_time
                );
                assert_eq!(k.trades, 0);
                assert_eq!(
                    k.taker_buy_volume,
                    (v / Decimal::TWO).round_dp(8).normalize()
                );
                assert!(k.quote_volume >= v * l && k.quote_volume <= v * h);
            }
        }
    }

    #[test]
    fn forming_candle() {
        let m = market();
        let rows = rows("binance_um_BTCUSDT_1h_2021-2023.csv");
        let r = &rows[5000];
        let now = r.open_time_ms + 20 * 60_000 + 123;
        let ks = m.klines("BTCUSDT", "1h", None, None, 3, now).unwrap();
        assert_eq!(ks.len(), 3);
        let f = &ks[2];
        assert_eq!(f.open_time, r.open_time_ms);
        assert!(!f.is_closed);
        assert!(ks[1].is_closed);
        assert_eq!(f.open, r.open);
        assert_eq!(Some(f.close), m.last_price("BTCUSDT", now));
        let (lo, hi) = m.price_range("BTCUSDT", r.open_time_ms - 1, now).unwrap();
        assert_eq!((f.low, f.high), (lo, hi));
        let expected = (r.volume * Decimal::from(20 * 60_000 + 124) / Decimal::from(HOUR_MS))
            .round_dp(8)
            .normalize();
        assert_eq!(f.volume, expected);
        // A forming 1d candle: open is the day's first hour, high so far ≤ the day's full high.
        let day = m.klines("BTCUSDT", "1d", None, None, 1, now).unwrap();
        assert_eq!(day[0].open_time, now - now.rem_euclid(DAY_MS));
        assert!(!day[0].is_closed);
        assert_eq!(day[0].close, f.close);
    }

    #[test]
    fn limit_start_end_semantics() {
        let m = market();
        let now = T2021 + 100 * DAY_MS + 5 * HOUR_MS + 1;
        let all = m.klines("BTCUSDT", "1h", None, None, 0, now).unwrap();
        assert_eq!(all.len(), 500, "default limit");
        assert_eq!(all.last().unwrap().open_time, now - now.rem_euclid(HOUR_MS));
        assert!(
            all.windows(2)
                .all(|w| w[0].open_time + HOUR_MS == w[1].open_time)
        );
        assert_eq!(
            m.klines("BTCUSDT", "1h", None, None, 5000, now)
                .unwrap()
                .len(),
            1500,
            "max 1500"
        );
        // Inclusive bounds on open time.
        let s = T2021 + 10 * HOUR_MS;
        let ks = m
            .klines("BTCUSDT", "1h", Some(s), Some(s + 3 * HOUR_MS), 500, now)
            .unwrap();
        assert_eq!(
            ks.iter().map(|k| k.open_time).collect::<Vec<_>>(),
            (0..4).map(|i| s + i * HOUR_MS).collect::<Vec<_>>()
        );
        // startTime not aligned: first candle opening at or after it.
        let ks = m
            .klines(
                "BTCUSDT",
                "1h",
                Some(s + 1),
                Some(s + 3 * HOUR_MS),
                500,
                now,
            )
            .unwrap();
        assert_eq!(ks[0].open_time, s + HOUR_MS);
        // With startTime, limit counts from the start.
        let ks = m.klines("BTCUSDT", "4h", Some(s), None, 3, now).unwrap();
        assert_eq!(ks[0].open_time, s + 2 * HOUR_MS);
        assert_eq!(ks.len(), 3);
        // Only endTime: the limit candles ending there.
        let e = T2021 + 50 * HOUR_MS + 7;
        let ks = m.klines("BTCUSDT", "1h", None, Some(e), 10, now).unwrap();
        assert_eq!(ks.len(), 10);
        assert_eq!(ks[9].open_time, T2021 + 50 * HOUR_MS);
        // Nothing after now, nothing before the data.
        let ks = m
            .klines("BTCUSDT", "1h", Some(now + HOUR_MS), None, 10, now)
            .unwrap();
        assert!(ks.is_empty());
        let ks = m
            .klines("BTCUSDT", "1h", None, Some(T2021 + 2 * HOUR_MS), 10, now)
            .unwrap();
        assert_eq!(ks.len(), 3);
        assert_eq!(ks[0].open_time, T2021);
        let ks = m
            .klines(
                "BTCUSDT",
                "1h",
                Some(T2021 - 10 * HOUR_MS),
                Some(T2021 - 1),
                10,
                now,
            )
            .unwrap();
        assert!(ks.is_empty());
        // Errors.
        assert_eq!(
            m.klines("BTCUSDT", "7m", None, None, 1, now),
            Err(KlineError::BadInterval("7m".into()))
        );
        assert!(matches!(
            m.klines("X", "1h", None, None, 1, now),
            Err(KlineError::UnknownSymbol(_))
        ));
        assert!(matches!(
            m.klines("BTCUSDT", "1h", Some(5), Some(4), 1, now),
            Err(KlineError::StartAfterEnd { .. })
        ));
        for iv in [
            "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d",
        ] {
            let ks = m.klines("BTCUSDT", iv, None, None, 3, now).unwrap();
            assert_eq!(ks.len(), 3, "{iv}");
            assert!(ks[2].open_time <= now && now <= ks[2].close_time, "{iv}");
        }
    }

    #[test]
    fn ticker_24h_window() {
        let m = market();
        let now = T2021 + 300 * DAY_MS + 17;
        let tk = m.ticker_24h("ETHUSDT", now).unwrap();
        assert_eq!(tk.open, m.last_price("ETHUSDT", now - DAY_MS).unwrap());
        assert_eq!(tk.last, m.last_price("ETHUSDT", now).unwrap());
        assert_eq!(
            Some((tk.low, tk.high)),
            m.price_range("ETHUSDT", now - DAY_MS - 1, now)
        );
        assert!(tk.volume > Decimal::ZERO);
        assert!(tk.low <= tk.weighted_avg_price && tk.weighted_avg_price <= tk.high);
    }
}
