//! Loading [`MarketData`]: the candle, mark-price and funding files of each symbol, or rows
//! already in memory.
//!
//! Where a 1m or 5m file exists it takes precedence over the 1h path, but only for whole hours it
//! fully covers, so every hour's high/low/open/close stays equal to the 1h file (the README
//! checks they aggregate identically). Candle gaps inside a file are filled with flat,
//! zero-volume candles at the previous close, which is what Binance prints during a halt.

use std::path::{Path, PathBuf};

use super::data::{CandleRow, DataError, FundingRow, load_candles, load_funding};
use super::path::{SCALE, Series, SeriesSet, to_units};
use super::replay::{DAY_MS, HOUR_MS, MarketData, SymbolMarket};
use super::store::{Keeper, Source};
use super::symbols::SymbolSpec;

/// A week in ms: the unit of [`MarketData::shifted_weeks`].
pub const WEEK_MS: i64 = 7 * DAY_MS;

/// The folder beside the main data that holds the wide universe (gzip CSV), if present.
pub const WIDE_DIR: &str = "wide";

/// The folders searched for data: `dir` itself, then `dir/wide` when it exists (a user's
/// machine may have only the two plain CSV symbols).
fn data_dirs(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    if !dir.is_dir() {
        return Err(DataError::Missing {
            path: dir.to_path_buf(),
        });
    }
    let wide = dir.join(WIDE_DIR);
    Ok(if wide.is_dir() {
        vec![dir.to_path_buf(), wide]
    } else {
        vec![dir.to_path_buf()]
    })
}

/// The data file names of `dir` (plain `.csv` or gzip `.csv.gz`), with their paths.
fn data_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, DataError> {
    let mut out = Vec::new();
    for d in data_dirs(dir)? {
        let entries = std::fs::read_dir(&d).map_err(|err| DataError::Io {
            path: d.clone(),
            err,
        })?;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".csv") || name.ends_with(".csv.gz") {
                out.push((name, e.path()));
            }
        }
    }
    Ok(out)
}

/// Finds `binance_um_{symbol}_{kind}*.csv[.gz]` files in `dir` and `dir/wide` (e.g. kind
/// `1h_`), sorted by name.
fn find_files(dir: &Path, symbol: &str, kind: &str) -> Result<Vec<PathBuf>, DataError> {
    let prefix = format!("binance_um_{symbol}_{kind}");
    let mut out: Vec<(String, PathBuf)> = data_files(dir)?
        .into_iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .collect();
    out.sort();
    Ok(out.into_iter().map(|(_, p)| p).collect())
}

/// Every symbol with an hourly candle file in `dir` or `dir/wide`: the main folder's first,
/// then the wide folder's, each sorted by name.
///
/// # Errors
/// [`DataError::Missing`] when `dir` does not exist, [`DataError::Io`] when it cannot be read.
pub fn available_symbols(dir: &Path) -> Result<Vec<String>, DataError> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for d in data_dirs(dir)? {
        let mut here: Vec<String> = data_files(&d)?
            .into_iter()
            .filter(|(_, p)| p.parent() == Some(d.as_path()))
            .filter_map(|(name, _)| {
                let rest = name.strip_prefix("binance_um_")?;
                let (sym, kind) = rest.split_once('_')?;
                kind.starts_with("1h_").then(|| sym.to_string())
            })
            .collect();
        here.sort();
        here.dedup();
        out.push(here);
    }
    let mut all: Vec<String> = Vec::new();
    for s in out.into_iter().flatten() {
        if !all.contains(&s) {
            all.push(s);
        }
    }
    Ok(all)
}

/// Loads and concatenates every file of one kind, ordered by first open time; times must keep
/// increasing across files. The [`Source`] notes the files as they were before reading.
fn load_kind(
    dir: &Path,
    symbol: &str,
    kind: &str,
) -> Result<Option<(Vec<CandleRow>, String, Source)>, DataError> {
    let files = find_files(dir, symbol, kind)?;
    if files.is_empty() {
        return Ok(None);
    }
    let stamps = Source::stamp(&files)?;
    let mut parts = Vec::with_capacity(files.len());
    for (f, stamp) in files.iter().zip(stamps) {
        parts.push((load_candles(f)?, f.clone(), stamp));
    }
    parts.sort_by_key(|(rows, _, _)| rows.first().map_or(i64::MIN, |r| r.open_time_ms));
    let label = parts
        .iter()
        .map(|(_, p, _)| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" + ");
    let mut all: Vec<CandleRow> = Vec::new();
    let mut noted = Vec::with_capacity(parts.len());
    for (rows, path, stamp) in parts {
        if let (Some(prev), Some(first)) = (all.last(), rows.first())
            && first.open_time_ms <= prev.open_time_ms
        {
            return Err(DataError::Unsorted {
                file: path.display().to_string(),
                line: 2,
                prev_ms: prev.open_time_ms,
                time_ms: first.open_time_ms,
            });
        }
        noted.push((
            path,
            stamp,
            rows.first().map_or(i64::MIN, |r| r.open_time_ms),
        ));
        all.extend(rows);
    }
    Ok(Some((all, label, Source::new(noted))))
}

/// Reads one symbol's files (`source`'s) as symbol `name`, with `spec` or one derived from
/// the data.
fn load_symbol(
    dir: &Path,
    name: &str,
    sym: &str,
    spec: Option<SymbolSpec>,
) -> Result<SymbolMarket, DataError> {
    let (hourly, label, source) =
        load_kind(dir, sym, "1h_")?.ok_or_else(|| DataError::Missing {
            path: dir.join(format!("binance_um_{sym}_1h_*.csv")),
        })?;
    let spec = match spec {
        Some(spec) => spec,
        None => {
            let low = hourly.iter().map(|r| r.low).min();
            let high = hourly.iter().map(|r| r.high).max();
            let first = hourly.first().map_or(0, |r| r.open_time_ms);
            low.zip(high)
                .and_then(|(lo, hi)| SymbolSpec::derived(name, lo, hi, first))
                .ok_or_else(|| DataError::NoSpec {
                    symbol: name.to_string(),
                })?
        }
    };
    let mark = load_kind(dir, sym, "mark_1h_")?.map(|(rows, l, source)| (rows, l, Some(source)));
    let funding = {
        let files = find_files(dir, sym, "funding_")?;
        let mut rows: Vec<FundingRow> = Vec::new();
        for f in &files {
            rows.extend(load_funding(f)?);
        }
        rows.sort_by_key(|r| r.funding_time_ms);
        rows.dedup_by_key(|r| r.funding_time_ms);
        rows
    };
    if funding.is_empty() {
        tracing::info!(
            symbol = %name,
            "no funding data: Binance's default 0.01% per 8 h is charged"
        );
    }
    let mut finer = Vec::new();
    for (kind, iv) in [("1m_", 60_000), ("5m_", 300_000)] {
        if let Some((rows, l, finer_source)) = load_kind(dir, sym, kind)? {
            finer.push(Series::build(&rows, iv, &l, Some(finer_source))?);
        }
    }
    MarketData::assemble(spec, (&hourly, &label, Some(source)), mark, finer, funding)
}

impl MarketData {
    /// Loads every symbol with data in `dir` and `dir/wide` ([`available_symbols`]); see
    /// [`MarketData::load_dir`].
    pub fn load_all(dir: &Path) -> Result<MarketData, DataError> {
        let symbols = available_symbols(dir)?;
        let refs: Vec<&str> = symbols.iter().map(String::as_str).collect();
        MarketData::load_dir(dir, &refs)
    }

    /// Loads `symbols` from `dir` (and `dir/wide`) with the built-in specs
    /// ([`SymbolSpec::builtin`]), or specs derived from each symbol's price level
    /// ([`SymbolSpec::derived`]) for the others.
    ///
    /// Per symbol: `binance_um_{SYM}_1h_*.csv[.gz]` is required; `_mark_1h_*` (mark price;
    /// falls back to the last price), `_funding_*` (falls back to [`DEFAULT_FUNDING_RATE`])
    /// and the finer `_5m_*` / `_1m_*` files are optional. Several files of one kind are
    /// concatenated.
    ///
    /// [`DEFAULT_FUNDING_RATE`]: super::DEFAULT_FUNDING_RATE
    pub fn load_dir(dir: &Path, symbols: &[&str]) -> Result<MarketData, DataError> {
        MarketData::load_sources(
            dir,
            symbols
                .iter()
                .map(|s| ((*s).to_string(), (*s).to_string(), SymbolSpec::builtin(s)))
                .collect(),
        )
    }

    /// Lists each `(name, source)` pair as symbol `name` trading `source`'s data with
    /// `source`'s spec: more symbols from the same real series, for load tests of
    /// what watches many symbols. `(s, s)` is [`MarketData::load_dir`]'s `s`.
    pub fn load_dir_as(dir: &Path, symbols: &[(&str, &str)]) -> Result<MarketData, DataError> {
        MarketData::load_sources(
            dir,
            symbols
                .iter()
                .map(|(name, source)| {
                    let spec = SymbolSpec::builtin(source).map(|mut spec| {
                        spec.symbol = (*name).to_string();
                        spec
                    });
                    ((*name).to_string(), (*source).to_string(), spec)
                })
                .collect(),
        )
    }

    /// Like [`MarketData::load_dir`] with caller-supplied specs (for symbols without a built-in).
    pub fn load_dir_with_specs(
        dir: &Path,
        specs: Vec<SymbolSpec>,
    ) -> Result<MarketData, DataError> {
        MarketData::load_sources(
            dir,
            specs
                .into_iter()
                .map(|s| (s.symbol.clone(), s.symbol.clone(), Some(s)))
                .collect(),
        )
    }

    /// Loads each `(name, source, spec)`'s market from the files of data symbol `source`; a
    /// missing spec is derived from the data. A source listed again under another name is
    /// copied, not read and parsed again.
    ///
    /// The distinct sources are read and parsed on all cores at once: with the wide universe
    /// that is 30 files of three years each, and the app waits on them at start.
    fn load_sources(
        dir: &Path,
        specs: Vec<(String, String, Option<SymbolSpec>)>,
    ) -> Result<MarketData, DataError> {
        // Which entries read their own files, and which copy an earlier entry's market.
        let mut reads: Vec<usize> = Vec::new();
        let mut copy_of: Vec<Option<usize>> = Vec::with_capacity(specs.len());
        for (i, (name, sym, spec)) in specs.iter().enumerate() {
            if specs[..i].iter().any(|(n, _, _)| n == name) {
                return Err(DataError::DuplicateSymbol {
                    symbol: name.clone(),
                });
            }
            let same = reads.iter().copied().find(|&j| {
                let (_, other_sym, other_spec) = &specs[j];
                other_sym == sym
                    && match (spec, other_spec) {
                        (None, _) => true,
                        (Some(a), Some(b)) => {
                            SymbolSpec {
                                symbol: a.symbol.clone(),
                                ..b.clone()
                            } == *a
                        }
                        (Some(_), None) => false,
                    }
            });
            copy_of.push(same);
            if same.is_none() {
                reads.push(i);
            }
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .clamp(1, reads.len().max(1));
        let mut loaded: Vec<Option<Result<SymbolMarket, DataError>>> =
            (0..specs.len()).map(|_| None).collect();
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let (reads, specs) = (&reads, &specs);
                    scope.spawn(move || {
                        reads
                            .iter()
                            .skip(t)
                            .step_by(threads)
                            .map(|&i| {
                                let (name, sym, spec) = &specs[i];
                                (i, load_symbol(dir, name, sym, spec.clone()))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for w in workers {
                // A worker only parses; a panic there is a bug to surface, not to hide.
                for (i, market) in w.join().expect("a data loading thread panicked") {
                    loaded[i] = Some(market);
                }
            }
        });
        let mut out: Vec<SymbolMarket> = Vec::with_capacity(specs.len());
        for (i, (name, _, spec)) in specs.into_iter().enumerate() {
            let market = match copy_of[i] {
                Some(j) => {
                    // Shares the source's candles (`Series` holds them in an `Arc`): a name
                    // more costs its spec and times, not another copy of the series.
                    let mut copy = out[j].clone();
                    copy.spec.symbol = name;
                    if let Some(spec) = spec {
                        copy.spec = spec;
                    }
                    copy
                }
                None => {
                    let parsed = loaded[i]
                        .take()
                        .expect("every entry that reads its files was loaded")?;
                    // Copied here so that the series live side by side in this thread's heap,
                    // and the workers' heaps, then holding only freed parse buffers, go back
                    // to the system (glibc keeps a thread's arena; one live series left amid
                    // it would pin the pages around it: ~15 MiB for the 28 symbols).
                    parsed.relocated()
                }
            };
            out.push(market);
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
            series.push(Series::build(rows, *iv, "finer", None)?);
        }
        let mark = mark.map(|m| (m.to_vec(), "mark".to_string(), None));
        let sm = MarketData::assemble(spec, (hourly, "hourly", None), mark, series, funding)?;
        MarketData::from_symbols(vec![sm])
    }

    fn assemble(
        spec: SymbolSpec,
        (hourly, label, source): (&[CandleRow], &str, Option<Source>),
        mark: Option<(Vec<CandleRow>, String, Option<Source>)>,
        finer: Vec<Series>,
        funding: Vec<FundingRow>,
    ) -> Result<SymbolMarket, DataError> {
        let hour = Series::build(hourly, HOUR_MS, label, source)?;
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
            Some((rows, l, source)) => Some(SeriesSet {
                series: vec![Series::build(&rows, HOUR_MS, &l, source)?],
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
        // The replay starts with the earliest symbol; later ones list when their data starts.
        let start_ms = symbols.iter().map(|s| s.start_ms).min().unwrap_or(0);
        let end_ms = symbols.iter().map(|s| s.end_ms).min().unwrap_or(0);
        Ok(MarketData {
            symbols,
            start_ms,
            end_ms,
            shift_weeks: 0,
            residency: None,
            keeper: Keeper::default(),
        })
    }

    /// The whole weeks that move `anchor_ms` of the data into the week ending at `now_ms`:
    /// shifted by them, the data's `anchor_ms + k weeks` is at most a week before `now_ms`, at
    /// the anchor's weekday and time of day plus however far into the week `now_ms` is.
    pub fn wall_shift_weeks(anchor_ms: i64, now_ms: i64) -> i64 {
        now_ms.saturating_sub(anchor_ms).div_euclid(WEEK_MS)
    }

    /// This market with every time moved `weeks` weeks later (earlier when negative): candles,
    /// mark prices, funding times, listing and onboard dates. Whole weeks keep every kline
    /// interval up to 1d aligned, the funding hours (00/08/16 UTC, or a file's own) on their
    /// hours and each day on its weekday, so the replay looks like a market happening at
    /// the shifted dates. Shifts add up; [`MarketData::shift_weeks`] tells the total.
    ///
    /// # Errors
    /// [`DataError::Shift`] when a shifted time would leave the range of UTC milliseconds.
    pub fn shifted_weeks(mut self, weeks: i64) -> Result<MarketData, DataError> {
        let too_far = || DataError::Shift { weeks };
        let ms = weeks.checked_mul(WEEK_MS).ok_or_else(too_far)?;
        // Data times stay within a few thousand years of 1970: a shift that keeps the span
        // inside ±2^60 ms keeps every sum below in range.
        const FAR: i64 = 1 << 60;
        let inside = |t: i64| {
            t.checked_add(ms)
                .filter(|t| t.abs() < FAR)
                .ok_or_else(too_far)
        };
        inside(self.start_ms)?;
        inside(self.end_ms)?;
        for s in &mut self.symbols {
            let sets = std::iter::once(&mut s.trade).chain(s.mark.as_mut());
            for series in sets.flat_map(|set| set.series.iter_mut()) {
                series.start_ms = inside(series.start_ms)?;
                series.use_from = inside(series.use_from)?;
                series.use_to = inside(series.use_to)?;
            }
            for f in &mut s.funding {
                f.funding_time_ms = inside(f.funding_time_ms)?;
            }
            s.start_ms = inside(s.start_ms)?;
            s.end_ms = inside(s.end_ms)?;
            s.spec.onboard_date_ms = inside(s.spec.onboard_date_ms)?;
        }
        self.start_ms = inside(self.start_ms)?;
        self.end_ms = inside(self.end_ms)?;
        self.shift_weeks = self.shift_weeks.checked_add(weeks).ok_or_else(too_far)?;
        // The window's checks were made in the old times.
        self.keeper = Keeper::default();
        Ok(self)
    }

    /// The weeks [`MarketData::shifted_weeks`] moved this market by; 0 for the data's own
    /// dates (replay time).
    pub fn shift_weeks(&self) -> i64 {
        self.shift_weeks
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use rust_decimal::Decimal;

    use crate::market::test_data::{T2021, aggregate, d, market, rows, shared_dir};

    #[test]
    fn real_files_row_counts_match_readme() {
        let m = market();
        for sym in ["BTCUSDT", "ETHUSDT"] {
            let s = m.sym(sym).unwrap();
            assert_eq!(s.trade.series.last().unwrap().len(), 26_280, "{sym} 1h");
            assert_eq!(
                s.mark.as_ref().unwrap().series[0].len(),
                26_280,
                "{sym} mark"
            );
            assert_eq!(s.funding.len(), 3_285, "{sym} funding");
        }
        let btc = m.sym("BTCUSDT").unwrap();
        let finer: Vec<(i64, usize)> = btc.trade.series[..btc.trade.series.len() - 1]
            .iter()
            .map(|s| (s.interval_ms, s.len()))
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
        let err = MarketData::load_dir(&shared_dir(), &["NOPEUSDT"]).unwrap_err();
        assert!(matches!(err, DataError::Missing { .. }), "{err}");
        let mut spec = SymbolSpec::btcusdt();
        spec.symbol = "NOPEUSDT".into();
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
        // The second name shares the source's candles instead of holding a copy.
        let (src, alias) = (m.sym("BTCUSDT").unwrap(), m.sym("XBT01USDT").unwrap());
        let sets = |s: &'_ SymbolMarket| {
            let mut all = s.trade.series.clone();
            all.extend(s.mark.iter().flat_map(|m| m.series.clone()));
            all
        };
        let (a, b) = (sets(src), sets(alias));
        assert_eq!(a.len(), 4, "1m, 5m, 1h and the mark");
        for (x, y) in a.iter().zip(&b) {
            assert!(std::sync::Arc::ptr_eq(&x.store, &y.store));
        }
        // Moving the alias's times leaves the source's where they are.
        let shifted = m.clone().shifted_weeks(1).expect("in range");
        assert_eq!(
            shifted.last_price("XBT01USDT", t + WEEK_MS),
            m.last_price("BTCUSDT", t)
        );
        for sym in ["BTCUSDT", "XBT01USDT"] {
            assert_eq!(
                m.klines(sym, "1h", None, None, 3, t).unwrap(),
                shifted
                    .klines(sym, "1h", None, None, 3, t + WEEK_MS)
                    .unwrap()
                    .into_iter()
                    .map(|mut k| {
                        k.open_time -= WEEK_MS;
                        k.close_time -= WEEK_MS;
                        k
                    })
                    .collect::<Vec<_>>()
            );
        }
        let err = MarketData::load_dir_as(&shared_dir(), &[("XBT01USDT", "NOPEUSDT")]).unwrap_err();
        assert!(matches!(err, DataError::Missing { .. }), "{err}");
        let err = MarketData::load_dir_as(
            &shared_dir(),
            &[("XBT01USDT", "BTCUSDT"), ("XBT01USDT", "ETHUSDT")],
        )
        .unwrap_err();
        assert!(matches!(err, DataError::DuplicateSymbol { .. }), "{err}");
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
    fn a_market_shifted_by_weeks_plays_the_same_path_at_the_later_dates() {
        let m = market();
        let weeks = MarketData::wall_shift_weeks(T2021 + 30 * DAY_MS, 1_765_000_000_000);
        let s = m.clone().shifted_weeks(weeks).expect("in range");
        let ms = weeks * WEEK_MS;
        assert_eq!(s.shift_weeks(), weeks);
        let anchor = T2021 + 30 * DAY_MS + ms;
        assert!(anchor <= 1_765_000_000_000 && 1_765_000_000_000 - anchor < WEEK_MS);
        assert_eq!(
            (s.start_ms(), s.end_ms()),
            (m.start_ms() + ms, m.end_ms() + ms)
        );
        let t = T2021 + 200 * DAY_MS + 1_234_567;
        for sym in ["BTCUSDT", "ETHUSDT"] {
            assert_eq!(s.last_price(sym, t + ms), m.last_price(sym, t));
            assert_eq!(s.mark_price(sym, t + ms), m.mark_price(sym, t));
            assert_eq!(
                s.price_range(sym, t + ms, t + ms + HOUR_MS),
                m.price_range(sym, t, t + HOUR_MS)
            );
            assert_eq!(
                s.next_funding_time_of(sym, t + ms),
                m.next_funding_time_of(sym, t) + ms
            );
            let f = m.next_funding_time_of(sym, t);
            assert_eq!(s.funding_rate(sym, f + ms), m.funding_rate(sym, f));
            assert_eq!(
                s.spec(sym).unwrap().onboard_date_ms,
                m.spec(sym).unwrap().onboard_date_ms + ms
            );
            for iv in ["1m", "15m", "1h", "4h", "1d"] {
                let a = m.klines(sym, iv, None, None, 50, t).unwrap();
                let b = s.klines(sym, iv, None, None, 50, t + ms).unwrap();
                let moved: Vec<(i64, i64)> = a
                    .iter()
                    .map(|k| (k.open_time + ms, k.close_time + ms))
                    .collect();
                assert_eq!(
                    b.iter()
                        .map(|k| (k.open_time, k.close_time))
                        .collect::<Vec<_>>(),
                    moved
                );
                assert_eq!(
                    b.iter().map(|k| k.close).collect::<Vec<_>>(),
                    a.iter().map(|k| k.close).collect::<Vec<_>>()
                );
            }
        }
        // Before the shifted data there is nothing, as before a listing on Binance.
        let before = s.start_ms() - 10 * DAY_MS;
        let none = s.klines(
            "BTCUSDT",
            "1h",
            Some(before),
            Some(before + DAY_MS),
            10,
            anchor,
        );
        assert_eq!(none, Ok(vec![]));
        let from_start = s
            .klines("BTCUSDT", "1h", Some(before), None, 2, anchor)
            .unwrap();
        assert_eq!(from_start[0].open_time, s.start_ms());
        let err = s.shifted_weeks(i64::MAX / WEEK_MS).unwrap_err();
        assert!(matches!(err, DataError::Shift { .. }), "{err}");
    }

    #[test]
    fn without_the_wide_folder_only_the_two_csv_symbols_list() {
        let dir = std::env::temp_dir().join(format!("perpdesk-sim-two-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        for name in [
            "binance_um_BTCUSDT_1h_2021-2023.csv",
            "binance_um_ETHUSDT_1h_2021-2023.csv",
        ] {
            std::fs::copy(shared_dir().join(name), dir.join(name)).expect("copy");
        }
        let listed = available_symbols(&dir).expect("lists");
        let m = MarketData::load_all(&dir).expect("loads");
        std::fs::remove_dir_all(&dir).expect("clean up");
        assert_eq!(listed, ["BTCUSDT", "ETHUSDT"]);
        assert_eq!(m.symbols(), ["BTCUSDT", "ETHUSDT"]);
        assert_eq!(m.spec("BTCUSDT"), Some(&SymbolSpec::btcusdt()));
        let err = available_symbols(&dir).unwrap_err();
        assert!(matches!(err, DataError::Missing { .. }), "{err}");
    }
}
