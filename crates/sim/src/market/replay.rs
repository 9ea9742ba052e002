//! Replay of historical candles as a continuous, deterministic price path.
//!
//! # The intra-candle path
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
//! # Finer data
//! Where a 1m or 5m file exists it takes precedence over the 1h path, but only for whole hours it
//! fully covers, so every hour's high/low/open/close stays equal to the 1h file (the README
//! checks they aggregate identically). Candle gaps inside a file are filled with flat,
//! zero-volume candles at the previous close, which is what Binance prints during a halt.
//!
//! # Performance
//! Prices are kept as `i64` at scale 8 so a lookup is an index computation plus integer maths;
//! `Decimal` is only built for the answer.

use std::path::Path;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::data::{CandleRow, DataError, FundingRow, load_candles, load_funding};
use super::symbols::SymbolSpec;

/// Fixed-point scale of internal prices.
const SCALE: u32 = 8;
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
/// Binance's default `limit` for `/fapi/v1/klines`.
pub const KLINES_DEFAULT_LIMIT: usize = 500;
/// Binance's maximum `limit` for `/fapi/v1/klines`.
pub const KLINES_MAX_LIMIT: usize = 1500;

fn to_units(d: Decimal) -> Option<i64> {
    let mut r = d.round_dp(SCALE);
    r.rescale(SCALE);
    i64::try_from(r.mantissa()).ok()
}

fn pow10(n: u32) -> i64 {
    10_i64.pow(n)
}

/// Converts internal units to a `Decimal` with `scale` decimals when that is exact, so prices
/// print like Binance's (`"29015.00"` rather than `"29015.00000000"`).
fn from_units(v: i64, scale: u32) -> Decimal {
    let scale = scale.min(SCALE);
    let div = pow10(SCALE - scale);
    if v % div == 0 {
        Decimal::new(v / div, scale)
    } else {
        Decimal::new(v, SCALE).normalize()
    }
}

fn round_to_unit(p: i64, unit: i64) -> i64 {
    if unit <= 1 {
        return p;
    }
    let r = p.rem_euclid(unit);
    if r * 2 >= unit { p - r + unit } else { p - r }
}

#[derive(Debug, Clone, Copy)]
struct Bar {
    o: i64,
    h: i64,
    l: i64,
    c: i64,
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

/// One contiguous candle series (gaps filled) with the time span it is used for.
#[derive(Debug, Clone)]
struct Series {
    start_ms: i64,
    interval_ms: i64,
    bars: Vec<Bar>,
    volume: Vec<Decimal>,
    /// `cum_volume[k]` = total volume of bars `0..k`; one longer than `bars`.
    cum_volume: Vec<Decimal>,
    use_from: i64,
    /// Exclusive.
    use_to: i64,
}

impl Series {
    fn build(rows: &[CandleRow], interval_ms: i64, file: &str) -> Result<Series, DataError> {
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
        let mut bars: Vec<Bar> = Vec::with_capacity(rows.len());
        let mut volume: Vec<Decimal> = Vec::with_capacity(rows.len());
        let mut filled = 0_usize;
        for (i, r) in rows.iter().enumerate() {
            let line = i + 2;
            let off = r.open_time_ms - start_ms;
            if off % interval_ms != 0 {
                return Err(DataError::OffGrid {
                    file: file.to_string(),
                    line,
                    time_ms: r.open_time_ms,
                    interval_ms,
                });
            }
            let idx = usize::try_from(off / interval_ms).map_err(|_| DataError::Unsorted {
                file: file.to_string(),
                line,
                prev_ms: start_ms,
                time_ms: r.open_time_ms,
            })?;
            while bars.len() < idx {
                let prev = bars.last().map(|b| b.c).unwrap_or_default();
                bars.push(Bar {
                    o: prev,
                    h: prev,
                    l: prev,
                    c: prev,
                });
                volume.push(Decimal::ZERO);
                filled += 1;
            }
            let conv = |d: Decimal| {
                to_units(d).ok_or_else(|| DataError::BadRow {
                    file: file.to_string(),
                    line,
                    reason: format!("price {d} out of range"),
                })
            };
            bars.push(Bar {
                o: conv(r.open)?,
                h: conv(r.high)?,
                l: conv(r.low)?,
                c: conv(r.close)?,
            });
            volume.push(r.volume);
        }
        if filled > 0 {
            tracing::warn!(
                file,
                filled,
                "filled candle gaps with flat zero-volume candles"
            );
        }
        let mut cum_volume = Vec::with_capacity(volume.len() + 1);
        let mut acc = Decimal::ZERO;
        cum_volume.push(acc);
        for v in &volume {
            acc += *v;
            cum_volume.push(acc);
        }
        let n = i64::try_from(bars.len()).unwrap_or(i64::MAX);
        let end = start_ms.saturating_add(n.saturating_mul(interval_ms));
        Ok(Series {
            start_ms,
            interval_ms,
            bars,
            volume,
            cum_volume,
            use_from: start_ms,
            use_to: end,
        })
    }

    fn end_ms(&self) -> i64 {
        self.start_ms + self.bars.len() as i64 * self.interval_ms
    }

    /// Bar index and offset into it; `t` must be inside `[start_ms, end_ms)`.
    #[inline]
    fn locate(&self, t: i64) -> (usize, i64) {
        let off = t - self.start_ms;
        let k = (off / self.interval_ms) as usize;
        (k, off - k as i64 * self.interval_ms)
    }

    #[inline]
    fn price_in(&self, k: usize, u: i64, unit: i64) -> i64 {
        let bar = self.bars[k];
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
    fn price_at(&self, t: i64, unit: i64) -> i64 {
        let (k, u) = self.locate(t);
        self.price_in(k, u, unit)
    }

    /// Min and max of the path over offsets `[ua, ub]` of bar `k`.
    #[inline]
    fn bar_range(&self, k: usize, ua: i64, ub: i64, unit: i64) -> (i64, i64) {
        let bar = self.bars[k];
        if ua == 0 && ub >= self.interval_ms - 1 {
            return (bar.l, bar.h);
        }
        let a = self.price_in(k, ua, unit);
        let b = self.price_in(k, ub, unit);
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
    fn range(&self, a: i64, b: i64, unit: i64) -> (i64, i64) {
        let (ka, ua) = self.locate(a);
        let (kb, ub) = self.locate(b);
        if ka == kb {
            return self.bar_range(ka, ua, ub, unit);
        }
        let (mut lo, mut hi) = self.bar_range(ka, ua, self.interval_ms - 1, unit);
        for bar in &self.bars[ka + 1..kb] {
            lo = lo.min(bar.l);
            hi = hi.max(bar.h);
        }
        let (l2, h2) = self.bar_range(kb, 0, ub, unit);
        (lo.min(l2), hi.max(h2))
    }

    /// Volume traded in `[start_ms, t)`, spreading each candle's volume evenly over its time.
    fn cum_volume_at(&self, t: i64) -> Decimal {
        if t <= self.start_ms {
            return Decimal::ZERO;
        }
        if t >= self.end_ms() {
            return self.cum_volume[self.bars.len()];
        }
        let (k, u) = self.locate(t);
        if u == 0 {
            return self.cum_volume[k];
        }
        self.cum_volume[k] + self.volume[k] * Decimal::from(u) / Decimal::from(self.interval_ms)
    }
}

/// Series of one kind (trade or mark) for one symbol, finest first.
#[derive(Debug, Clone)]
struct SeriesSet {
    series: Vec<Series>,
    /// Rounding unit of interpolated prices, in internal units (the tick size).
    unit: i64,
    /// Decimals used when an answer is exact at that scale.
    out_scale: u32,
}

impl SeriesSet {
    #[inline]
    fn find(&self, t: i64) -> Option<(usize, &Series)> {
        self.series
            .iter()
            .enumerate()
            .find(|(_, s)| s.use_from <= t && t < s.use_to)
    }

    /// Calls `f(series, a, b)` for consecutive pieces of `[a, b]`, each served by one series.
    /// Times not covered by any series are skipped.
    fn for_each_piece(&self, a: i64, b: i64, mut f: impl FnMut(&Series, i64, i64)) {
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
                    f(s, t, end);
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
    }

    #[inline]
    fn price_at(&self, t: i64) -> Option<i64> {
        self.find(t).map(|(_, s)| s.price_at(t, self.unit))
    }

    /// Min and max over `[a, b]` (inclusive).
    fn range(&self, a: i64, b: i64) -> Option<(i64, i64)> {
        let mut out: Option<(i64, i64)> = None;
        let unit = self.unit;
        self.for_each_piece(a, b, |s, pa, pb| {
            let (lo, hi) = s.range(pa, pb, unit);
            out = Some(match out {
                Some((l, h)) => (l.min(lo), h.max(hi)),
                None => (lo, hi),
            });
        });
        out
    }

    /// Volume over `[a, b]` (inclusive ms).
    fn volume(&self, a: i64, b: i64) -> Decimal {
        let mut v = Decimal::ZERO;
        self.for_each_piece(a, b, |s, pa, pb| {
            v += s.cum_volume_at(pb + 1) - s.cum_volume_at(pa);
        });
        v
    }

    fn dec(&self, v: i64) -> Decimal {
        from_units(v, self.out_scale)
    }
}

/// Everything replayed for one symbol.
#[derive(Debug, Clone)]
struct SymbolMarket {
    spec: SymbolSpec,
    trade: SeriesSet,
    mark: Option<SeriesSet>,
    funding: Vec<FundingRow>,
    /// First ms with trade data.
    start_ms: i64,
    /// Last ms with trade data (inclusive).
    end_ms: i64,
}

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

/// One book level: `(price, quantity)`.
pub type Level = (Decimal, Decimal);
/// A book snapshot: `(bids best first = descending, asks best first = ascending)`.
pub type Book = (Vec<Level>, Vec<Level>);

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

/// The next funding time strictly after `t_ms` (00:00, 08:00 or 16:00 UTC).
pub fn next_funding_time(t_ms: i64) -> i64 {
    (t_ms.div_euclid(FUNDING_INTERVAL_MS) + 1).saturating_mul(FUNDING_INTERVAL_MS)
}

/// Seeded, stateless 64-bit mixer (SplitMix64) so the synthetic book is reproducible.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Finds `binance_um_{symbol}_{kind}*.csv` files in `dir` (e.g. kind `1h_`), sorted by name.
fn find_files(dir: &Path, symbol: &str, kind: &str) -> Result<Vec<std::path::PathBuf>, DataError> {
    let prefix = format!("binance_um_{symbol}_{kind}");
    let entries = std::fs::read_dir(dir).map_err(|err| {
        if err.kind() == std::io::ErrorKind::NotFound {
            DataError::Missing {
                path: dir.to_path_buf(),
            }
        } else {
            DataError::Io {
                path: dir.to_path_buf(),
                err,
            }
        }
    })?;
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(".csv") {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Loads and concatenates every file of one kind, ordered by first open time; times must keep
/// increasing across files.
fn load_kind(
    dir: &Path,
    symbol: &str,
    kind: &str,
) -> Result<Option<(Vec<CandleRow>, String)>, DataError> {
    let files = find_files(dir, symbol, kind)?;
    if files.is_empty() {
        return Ok(None);
    }
    let mut parts = Vec::with_capacity(files.len());
    for f in &files {
        parts.push((load_candles(f)?, f.display().to_string()));
    }
    parts.sort_by_key(|(rows, _)| rows.first().map_or(i64::MIN, |r| r.open_time_ms));
    let label = parts
        .iter()
        .map(|(_, l)| l.as_str())
        .collect::<Vec<_>>()
        .join(" + ");
    let mut all: Vec<CandleRow> = Vec::new();
    for (rows, file) in parts {
        if let (Some(prev), Some(first)) = (all.last(), rows.first())
            && first.open_time_ms <= prev.open_time_ms
        {
            return Err(DataError::Unsorted {
                file,
                line: 2,
                prev_ms: prev.open_time_ms,
                time_ms: first.open_time_ms,
            });
        }
        all.extend(rows);
    }
    Ok(Some((all, label)))
}

/// Replayed market data for a set of symbols; immutable once loaded and cheap to query.
#[derive(Debug, Clone)]
pub struct MarketData {
    symbols: Vec<SymbolMarket>,
    start_ms: i64,
    end_ms: i64,
}

impl MarketData {
    /// Loads `symbols` from `dir` with the built-in specs ([`SymbolSpec::builtin`]).
    ///
    /// Per symbol: `binance_um_{SYM}_1h_*.csv` is required; `_mark_1h_*` (mark price; falls back
    /// to the last price), `_funding_*` (falls back to [`DEFAULT_FUNDING_RATE`]) and the finer
    /// `_5m_*` / `_1m_*` files are optional. Several files of one kind are concatenated.
    pub fn load_dir(dir: &Path, symbols: &[&str]) -> Result<MarketData, DataError> {
        let mut specs = Vec::with_capacity(symbols.len());
        for s in symbols {
            specs.push(SymbolSpec::builtin(s).ok_or_else(|| DataError::NoSpec {
                symbol: (*s).to_string(),
            })?);
        }
        MarketData::load_dir_with_specs(dir, specs)
    }

    /// Lists each `(name, source)` pair as symbol `name` trading `source`'s data with
    /// `source`'s built-in spec: more symbols from the same real series, for load tests of
    /// what watches many symbols. `(s, s)` is [`MarketData::load_dir`]'s `s`.
    pub fn load_dir_as(dir: &Path, symbols: &[(&str, &str)]) -> Result<MarketData, DataError> {
        let mut sources = Vec::with_capacity(symbols.len());
        for (name, source) in symbols {
            let mut spec = SymbolSpec::builtin(source).ok_or_else(|| DataError::NoSpec {
                symbol: (*source).to_string(),
            })?;
            spec.symbol = (*name).to_string();
            sources.push(((*source).to_string(), spec));
        }
        MarketData::load_sources(dir, sources)
    }

    /// Like [`MarketData::load_dir`] with caller-supplied specs (for symbols without a built-in).
    pub fn load_dir_with_specs(
        dir: &Path,
        specs: Vec<SymbolSpec>,
    ) -> Result<MarketData, DataError> {
        MarketData::load_sources(
            dir,
            specs.into_iter().map(|s| (s.symbol.clone(), s)).collect(),
        )
    }

    /// Loads each spec's market from the files of the paired data symbol. A source listed
    /// again with the same contract (but another name) is copied, not read and parsed again.
    fn load_sources(dir: &Path, specs: Vec<(String, SymbolSpec)>) -> Result<MarketData, DataError> {
        let mut out: Vec<SymbolMarket> = Vec::with_capacity(specs.len());
        let mut loaded: Vec<(String, usize)> = Vec::new();
        for (sym, spec) in specs {
            if out.iter().any(|m| m.spec.symbol == spec.symbol) {
                return Err(DataError::DuplicateSymbol {
                    symbol: spec.symbol,
                });
            }
            let same = loaded.iter().find(|(source, i)| {
                *source == sym
                    && SymbolSpec {
                        symbol: spec.symbol.clone(),
                        ..out[*i].spec.clone()
                    } == spec
            });
            if let Some((_, i)) = same {
                let mut copy = out[*i].clone();
                copy.spec = spec;
                out.push(copy);
                continue;
            }
            loaded.push((sym.clone(), out.len()));
            let (hourly, label) =
                load_kind(dir, &sym, "1h_")?.ok_or_else(|| DataError::Missing {
                    path: dir.join(format!("binance_um_{sym}_1h_*.csv")),
                })?;
            let mark = load_kind(dir, &sym, "mark_1h_")?;
            let funding = {
                let files = find_files(dir, &sym, "funding_")?;
                let mut rows: Vec<FundingRow> = Vec::new();
                for f in &files {
                    rows.extend(load_funding(f)?);
                }
                rows.sort_by_key(|r| r.funding_time_ms);
                rows.dedup_by_key(|r| r.funding_time_ms);
                rows
            };
            let mut finer = Vec::new();
            for (kind, iv) in [("1m_", 60_000), ("5m_", 300_000)] {
                if let Some((rows, l)) = load_kind(dir, &sym, kind)? {
                    finer.push(Series::build(&rows, iv, &l)?);
                }
            }
            out.push(MarketData::assemble(
                spec, &hourly, &label, mark, finer, funding,
            )?);
        }
        MarketData::from_symbols(out)
    }

    /// Builds a market from rows already in memory (tests, custom data). `finer` holds
    /// `(rows, interval_ms)` pairs, finest first.
    pub fn from_rows(
        spec: SymbolSpec,
        hourly: &[CandleRow],
        mark: Option<&[CandleRow]>,
        finer: &[(&[CandleRow], i64)],
        funding: Vec<FundingRow>,
    ) -> Result<MarketData, DataError> {
        let mut series = Vec::new();
        for (rows, iv) in finer {
            series.push(Series::build(rows, *iv, "finer")?);
        }
        let mark = mark.map(|m| (m.to_vec(), "mark".to_string()));
        let sm = MarketData::assemble(spec, hourly, "hourly", mark, series, funding)?;
        MarketData::from_symbols(vec![sm])
    }

    fn assemble(
        spec: SymbolSpec,
        hourly: &[CandleRow],
        label: &str,
        mark: Option<(Vec<CandleRow>, String)>,
        finer: Vec<Series>,
        funding: Vec<FundingRow>,
    ) -> Result<SymbolMarket, DataError> {
        let hour = Series::build(hourly, HOUR_MS, label)?;
        let (start_ms, end_excl) = (hour.start_ms, hour.end_ms());
        let tick = to_units(spec.tick_size).filter(|t| *t > 0).unwrap_or(1);
        let mut series = Vec::new();
        for mut s in finer {
            // Only whole hours inside the hourly range, so hourly candles stay authoritative.
            s.use_from = (s.start_ms + HOUR_MS - 1).div_euclid(HOUR_MS) * HOUR_MS;
            s.use_from = s.use_from.max(start_ms);
            s.use_to = s.end_ms().div_euclid(HOUR_MS) * HOUR_MS;
            s.use_to = s.use_to.min(end_excl);
            if s.use_from < s.use_to {
                series.push(s);
            }
        }
        series.sort_by_key(|s| s.interval_ms);
        series.push(hour);
        let trade = SeriesSet {
            series,
            unit: tick,
            out_scale: spec.tick_size.scale(),
        };
        let mark = match mark {
            Some((rows, l)) => Some(SeriesSet {
                series: vec![Series::build(&rows, HOUR_MS, &l)?],
                unit: 1,
                out_scale: SCALE,
            }),
            None => None,
        };
        Ok(SymbolMarket {
            spec,
            trade,
            mark,
            funding,
            start_ms,
            end_ms: end_excl - 1,
        })
    }

    fn from_symbols(symbols: Vec<SymbolMarket>) -> Result<MarketData, DataError> {
        let start_ms = symbols.iter().map(|s| s.start_ms).max().unwrap_or(0);
        let end_ms = symbols.iter().map(|s| s.end_ms).min().unwrap_or(0);
        Ok(MarketData {
            symbols,
            start_ms,
            end_ms,
        })
    }

    #[inline]
    fn sym(&self, symbol: &str) -> Option<&SymbolMarket> {
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

    /// First ms at which every symbol has data.
    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    /// Last ms (inclusive) at which every symbol has data: the close time of the last candle.
    pub fn end_ms(&self) -> i64 {
        self.end_ms
    }

    /// Last traded price at `t_ms` along the intra-candle path (see the module docs); `None`
    /// outside the symbol's data.
    pub fn last_price(&self, symbol: &str, t_ms: i64) -> Option<Decimal> {
        let s = self.sym(symbol)?;
        s.trade.price_at(t_ms).map(|v| s.trade.dec(v))
    }

    /// Lowest and highest last price in `(from_ms, to_ms]`; `None` when the window is empty or
    /// has no data. Exact for the path, so no wick between two engine steps is missed.
    pub fn price_range(
        &self,
        symbol: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Option<(Decimal, Decimal)> {
        let s = self.sym(symbol)?;
        if to_ms <= from_ms {
            return None;
        }
        s.trade
            .range(from_ms + 1, to_ms)
            .map(|(lo, hi)| (s.trade.dec(lo), s.trade.dec(hi)))
    }

    /// Mark price at `t_ms`: the same path over the mark-price klines, or the last price when
    /// there is no mark data at `t_ms`.
    pub fn mark_price(&self, symbol: &str, t_ms: i64) -> Option<Decimal> {
        let s = self.sym(symbol)?;
        if let Some(m) = &s.mark
            && let Some(v) = m.price_at(t_ms)
        {
            return Some(m.dec(v));
        }
        s.trade.price_at(t_ms).map(|v| s.trade.dec(v))
    }

    /// Lowest and highest mark price in `(from_ms, to_ms]` (mark klines have wicks too, so the
    /// two end values do not bracket the window).
    pub fn mark_price_range(
        &self,
        symbol: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Option<(Decimal, Decimal)> {
        let s = self.sym(symbol)?;
        if to_ms <= from_ms {
            return None;
        }
        if let Some(m) = &s.mark
            && let Some((lo, hi)) = m.range(from_ms + 1, to_ms)
        {
            return Some((m.dec(lo), m.dec(hi)));
        }
        self.price_range(symbol, from_ms, to_ms)
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

    /// The next funding time strictly after `t_ms` (see [`next_funding_time`]).
    pub fn next_funding_time(&self, t_ms: i64) -> i64 {
        next_funding_time(t_ms)
    }

    /// Funding events `(time, rate)` with `from_ms < time <= to_ms`, on the 8-hourly schedule and
    /// inside the symbol's data, oldest first.
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
        let mut t = next_funding_time(lo);
        while t <= hi {
            out.push((t, self.funding_rate(symbol, t)));
            t += FUNDING_INTERVAL_MS;
        }
        out
    }

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
        let mut t = first;
        while t <= last {
            if let Some(k) = self.kline_at(s, t, iv, now_ms) {
                out.push(k);
            }
            t += iv;
        }
        Ok(out)
    }

    fn kline_at(&self, s: &SymbolMarket, open: i64, iv: i64, now_ms: i64) -> Option<KlineRow> {
        let close_time = open + iv - 1;
        let upto = close_time.min(now_ms).min(s.end_ms);
        let o = s.trade.price_at(open)?;
        let c = s.trade.price_at(upto)?;
        let (lo, hi) = s.trade.range(open, upto)?;
        let volume = s.trade.volume(open, upto).round_dp(SCALE).normalize();
        let (open, high, low, close) = (
            s.trade.dec(o),
            s.trade.dec(hi),
            s.trade.dec(lo),
            s.trade.dec(c),
        );
        let quote_volume = (volume * (open + high + low + close) / Decimal::from(4))
            .round_dp(SCALE)
            .normalize();
        let half = |d: Decimal| (d / Decimal::TWO).round_dp(SCALE).normalize();
        Some(KlineRow {
            open_time: close_time + 1 - iv,
            open,
            high,
            low,
            close,
            volume,
            close_time,
            quote_volume,
            trades: 0,
            taker_buy_volume: half(volume),
            taker_buy_quote_volume: half(quote_volume),
            is_closed: close_time <= now_ms,
        })
    }

    /// Rolling 24 h ticker at `now_ms` (window clipped to the data start).
    pub fn ticker_24h(&self, symbol: &str, now_ms: i64) -> Option<Ticker24h> {
        let s = self.sym(symbol)?;
        let from = now_ms.saturating_sub(DAY_MS).max(s.start_ms);
        let now = now_ms.min(s.end_ms);
        let o = s.trade.price_at(from)?;
        let l = s.trade.price_at(now)?;
        let (lo, hi) = s.trade.range(from, now)?;
        let volume = s.trade.volume(from, now).round_dp(SCALE).normalize();
        let (open, high, low, last) = (
            s.trade.dec(o),
            s.trade.dec(hi),
            s.trade.dec(lo),
            s.trade.dec(l),
        );
        let quote_volume = (volume * (open + high + low + last) / Decimal::from(4))
            .round_dp(SCALE)
            .normalize();
        let weighted_avg_price = if volume.is_zero() {
            last
        } else {
            (quote_volume / volume).round_dp(s.spec.price_precision)
        };
        let price_change = last - open;
        Some(Ticker24h {
            symbol: symbol.to_string(),
            open_time: from,
            close_time: now_ms,
            open,
            high,
            low,
            last,
            price_change,
            price_change_percent: (price_change / open * Decimal::ONE_HUNDRED).round_dp(3),
            volume,
            quote_volume,
            weighted_avg_price,
        })
    }

    /// A synthetic order book at `t_ms`: `limit` levels per side (at most 1000), best bid at the
    /// last price rounded down to the tick, best ask one tick above. Sizes are pseudo-random but
    /// reproducible (seeded by symbol and `t_ms / 1000`, so the book changes once per second),
    /// multiples of the step size, between one step and about 25 000 USDT of notional, growing
    /// further from the touch. Empty sides when the symbol or time has no data.
    pub fn depth(&self, symbol: &str, t_ms: i64, limit: usize) -> Book {
        let Some(s) = self.sym(symbol) else {
            return (Vec::new(), Vec::new());
        };
        let Some(p) = s.trade.price_at(t_ms) else {
            return (Vec::new(), Vec::new());
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
        (bids, asks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::OnceLock;

    fn shared_dir() -> PathBuf {
        let base = std::env::var("PERPDESK_SHARED").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared").to_string()
        });
        PathBuf::from(base).join("data")
    }

    fn market() -> &'static MarketData {
        static M: OnceLock<MarketData> = OnceLock::new();
        M.get_or_init(|| {
            MarketData::load_dir(&shared_dir(), &["BTCUSDT", "ETHUSDT"]).expect("real data loads")
        })
    }

    fn rows(name: &str) -> Vec<CandleRow> {
        load_candles(&shared_dir().join(name)).expect("file loads")
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    const T2021: i64 = 1_609_459_200_000;

    #[test]
    fn real_files_row_counts_match_readme() {
        let m = market();
        for sym in ["BTCUSDT", "ETHUSDT"] {
            let s = m.sym(sym).unwrap();
            assert_eq!(
                s.trade.series.last().unwrap().bars.len(),
                26_280,
                "{sym} 1h"
            );
            assert_eq!(
                s.mark.as_ref().unwrap().series[0].bars.len(),
                26_280,
                "{sym} mark"
            );
            assert_eq!(s.funding.len(), 3_285, "{sym} funding");
        }
        let btc = m.sym("BTCUSDT").unwrap();
        let finer: Vec<(i64, usize)> = btc.trade.series[..btc.trade.series.len() - 1]
            .iter()
            .map(|s| (s.interval_ms, s.bars.len()))
            .collect();
        assert_eq!(finer, vec![(60_000, 43_199), (300_000, 25_920)]);
        assert_eq!(m.start_ms(), T2021);
        assert_eq!(m.end_ms(), 1_704_067_199_999);
        assert_eq!(m.symbols(), vec!["BTCUSDT", "ETHUSDT"]);
        assert_eq!(m.spec("ETHUSDT").unwrap().tick_size, d("0.01"));
        assert!(m.spec("XRPUSDT").is_none());
    }

    #[test]
    fn missing_and_unknown() {
        let err = MarketData::load_dir(Path::new("/nonexistent/dir"), &["BTCUSDT"]).unwrap_err();
        assert!(matches!(err, DataError::Missing { .. }), "{err}");
        let err = MarketData::load_dir(&shared_dir(), &["DOGEUSDT"]).unwrap_err();
        assert!(matches!(err, DataError::NoSpec { .. }), "{err}");
        let mut spec = SymbolSpec::btcusdt();
        spec.symbol = "DOGEUSDT".into();
        let err = MarketData::load_dir_with_specs(&shared_dir(), vec![spec]).unwrap_err();
        assert!(matches!(err, DataError::Missing { .. }), "{err}");
    }

    #[test]
    fn a_symbol_listed_under_another_name_trades_its_source() {
        let m = MarketData::load_dir_as(
            &shared_dir(),
            &[("BTCUSDT", "BTCUSDT"), ("XBT01USDT", "BTCUSDT")],
        )
        .expect("loads");
        assert_eq!(m.symbols(), vec!["BTCUSDT", "XBT01USDT"]);
        let (a, b) = (m.spec("BTCUSDT").unwrap(), m.spec("XBT01USDT").unwrap());
        assert_eq!(b.symbol, "XBT01USDT");
        assert_eq!(b.tick_size, a.tick_size);
        let t = T2021 + 86_400_000 * 200 + 1_234_567;
        assert_eq!(m.last_price("XBT01USDT", t), m.last_price("BTCUSDT", t));
        assert_eq!(m.mark_price("XBT01USDT", t), m.mark_price("BTCUSDT", t));
        let err = MarketData::load_dir_as(&shared_dir(), &[("XBT01USDT", "DOGEUSDT")]).unwrap_err();
        assert!(matches!(err, DataError::NoSpec { .. }), "{err}");
        let err = MarketData::load_dir_as(
            &shared_dir(),
            &[("XBT01USDT", "BTCUSDT"), ("XBT01USDT", "ETHUSDT")],
        )
        .unwrap_err();
        assert!(matches!(err, DataError::DuplicateSymbol { .. }), "{err}");
    }

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

    fn aggregate(
        rows: &[CandleRow],
        iv: i64,
        open: i64,
    ) -> (Decimal, Decimal, Decimal, Decimal, Decimal) {
        let part: Vec<&CandleRow> = rows
            .iter()
            .filter(|r| r.open_time_ms >= open && r.open_time_ms < open + iv)
            .collect();
        (
            part[0].open,
            part.iter().map(|r| r.high).max().unwrap(),
            part.iter().map(|r| r.low).min().unwrap(),
            part[part.len() - 1].close,
            part.iter().map(|r| r.volume).sum(),
        )
    }

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
    fn finer_data_drives_sub_hour_and_matches_hourly() {
        let m = market();
        let hourly = rows("binance_um_BTCUSDT_1h_2021-2023.csv");
        let five = rows("binance_um_BTCUSDT_5m_2023-01_2023-03.csv");
        let one = rows("binance_um_BTCUSDT_1m_2023-07-18_2023-08-17.csv");
        let now = m.end_ms();
        // 5m klines in the 5m file are the file's rows; 15m is their aggregate.
        let t = five[1000].open_time_ms;
        let ks = m.klines("BTCUSDT", "5m", Some(t), None, 30, now).unwrap();
        for (k, r) in ks.iter().zip(&five[1000..]) {
            assert_eq!(
                (k.open_time, k.open, k.high, k.low, k.close, k.volume),
                (r.open_time_ms, r.open, r.high, r.low, r.close, r.volume)
            );
        }
        let t15 = t - t.rem_euclid(900_000) + 900_000;
        let k = &m.klines("BTCUSDT", "15m", Some(t15), None, 1, now).unwrap()[0];
        let (o, h, l, c, v) = aggregate(&five, 900_000, t15);
        assert_eq!((k.open, k.high, k.low, k.close, k.volume), (o, h, l, c, v));
        // 1m klines inside the 1m file's whole hours are its rows.
        let i = one
            .iter()
            .position(|r| r.open_time_ms % HOUR_MS == 0)
            .unwrap()
            + 600;
        let ks = m
            .klines("BTCUSDT", "1m", Some(one[i].open_time_ms), None, 90, now)
            .unwrap();
        for (k, r) in ks.iter().zip(&one[i..]) {
            assert_eq!(
                (k.open_time, k.open, k.high, k.low, k.close, k.volume),
                (r.open_time_ms, r.open, r.high, r.low, r.close, r.volume)
            );
        }
        // Hourly candles keep the 1h file's OHLC across the finer periods, edges included.
        for start in [
            five[0].open_time_ms - 2 * HOUR_MS,
            one[0].open_time_ms - 3 * HOUR_MS,
            one[one.len() - 1].open_time_ms - 3 * HOUR_MS,
        ] {
            let ks = m
                .klines("BTCUSDT", "1h", Some(start), None, 8, now)
                .unwrap();
            for k in &ks {
                let r = hourly
                    .iter()
                    .find(|r| r.open_time_ms == k.open_time)
                    .unwrap();
                assert_eq!(
                    (k.open, k.high, k.low, k.close),
                    (r.open, r.high, r.low, r.close),
                    "{}",
                    k.open_time
                );
            }
        }
        // Sub-hour klines outside finer data slice the 1h path and pro-rate its volume.
        let r = &hourly[100];
        let ks = m
            .klines("BTCUSDT", "15m", Some(r.open_time_ms), None, 4, now)
            .unwrap();
        assert_eq!(ks[0].open, r.open);
        assert_eq!(ks[3].close, r.close);
        let vol: Decimal = ks.iter().map(|k| k.volume).sum();
        assert_eq!(vol, r.volume);
        assert_eq!(ks.iter().map(|k| k.high).max().unwrap(), r.high);
        assert_eq!(ks.iter().map(|k| k.low).min().unwrap(), r.low);
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
