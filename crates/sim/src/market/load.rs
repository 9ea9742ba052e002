//! Loading [`MarketData`]: the candle, mark-price and funding files of each symbol, or rows
//! already in memory.
//!
//! Where a 1m or 5m file exists it takes precedence over the 1h path, but only for whole hours it
//! fully covers, so every hour's high/low/open/close stays equal to the 1h file (the README
//! checks they aggregate identically). Candle gaps inside a file are filled with flat,
//! zero-volume candles at the previous close, which is what Binance prints during a halt.

use std::path::Path;

use super::data::{CandleRow, DataError, FundingRow, load_candles, load_funding};
use super::path::{SCALE, Series, SeriesSet, to_units};
use super::replay::{HOUR_MS, MarketData, SymbolMarket};
use super::symbols::SymbolSpec;

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
}
