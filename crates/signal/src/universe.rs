//! The universe: every symbol's 1h candles and funding series, parsed from the text of the
//! data folder's files (the caller lists, reads and decompresses them: the crate does no I/O).
//!
//! File names follow `shared/data`: `binance_um_{SYMBOL}_1h_*.csv[.gz]` for candles and
//! `binance_um_{SYMBOL}_funding_*.csv[.gz]` for funding; every other file (spot, mark
//! prices, other intervals) is not part of the universe. Several files of one symbol are
//! merged: identical rows repeated across files are kept once, two different rows for one
//! hour are refused.
//!
//! Funding is charged at the symbol's real settlement times inside the span its series
//! covers, and at Binance's default (0.01% per 8h at 00:00, 08:00 and 16:00 UTC) outside it
//! and for a symbol without a series; [`FundingSource`] says which applies, per symbol.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Timelike, Utc};
use perpdesk_core::Candle;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::backtest::DEFAULT_FUNDING_RATE;
use crate::data::{parse_funding, parse_klines};
use crate::features::Ohlcv;

/// What a data file holds, read from its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataFile {
    /// 1h USDⓈ-M candles of a symbol.
    Klines1h { symbol: String },
    /// A symbol's funding events.
    Funding { symbol: String },
}

/// Classifies a file by its name (no directory): `None` for files that are not part of the
/// universe (spot, mark prices, other intervals, anything else).
pub fn classify_file(name: &str) -> Option<DataFile> {
    let stem = name
        .strip_suffix(".csv.gz")
        .or_else(|| name.strip_suffix(".csv"))?;
    let rest = stem.strip_prefix("binance_um_")?;
    let mut parts = rest.split('_');
    let symbol = parts.next()?;
    let ok = !symbol.is_empty()
        && symbol
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !ok {
        return None;
    }
    let symbol = symbol.to_string();
    match parts.next()? {
        "1h" => Some(DataFile::Klines1h { symbol }),
        "funding" => Some(DataFile::Funding { symbol }),
        _ => None,
    }
}

/// A symbol's 1h candles as f64 columns, strictly ascending by open time, on whole hours;
/// unlike [`Ohlcv`] it may have gaps (hours the exchange printed no candle).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hourly {
    pub open_time: Vec<DateTime<Utc>>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
}

impl Hourly {
    /// Number of candles.
    pub fn len(&self) -> usize {
        self.open_time.len()
    }

    /// True without candles.
    pub fn is_empty(&self) -> bool {
        self.open_time.is_empty()
    }

    /// Checks and converts candles (any order, identical repeats allowed) of one symbol.
    ///
    /// # Errors
    /// [`SignalError::ConflictingCandles`] for two different candles of one hour,
    /// [`SignalError::InvalidCandle`] for an inconsistent candle or one not on a whole hour,
    /// [`SignalError::NotFinite`] for a value that does not fit an f64.
    pub fn from_candles(symbol: &str, mut candles: Vec<Candle>) -> Result<Self, SignalError> {
        candles.sort_by_key(|c| c.open_time);
        candles.dedup();
        let mut out = Hourly::default();
        for (index, c) in candles.iter().enumerate() {
            if out.open_time.last() == Some(&c.open_time) {
                return Err(SignalError::ConflictingCandles {
                    symbol: symbol.to_string(),
                    open_time: c.open_time,
                });
            }
            if c.open_time.timestamp_millis().rem_euclid(3_600_000) != 0 {
                return Err(SignalError::InvalidCandle {
                    index,
                    reason: format!("{symbol}: {} is not on a whole hour", c.open_time),
                });
            }
            c.validate().map_err(|e| SignalError::InvalidCandle {
                index,
                reason: format!("{symbol}: {e}"),
            })?;
            let f = |series: &'static str, d: rust_decimal::Decimal| {
                d.to_f64()
                    .filter(|v| v.is_finite())
                    .ok_or(SignalError::NotFinite { series, index })
            };
            out.open_time.push(c.open_time);
            out.open.push(f("open", c.open)?);
            out.high.push(f("high", c.high)?);
            out.low.push(f("low", c.low)?);
            out.close.push(f("close", c.close)?);
            out.volume.push(f("volume", c.volume)?);
        }
        Ok(out)
    }

    /// The maximal runs of consecutive hours, each as an [`Ohlcv`] (what the 1h features and
    /// models need: they refuse gaps).
    pub fn contiguous_runs(&self) -> Vec<Ohlcv> {
        let mut runs = Vec::new();
        let mut start = 0;
        for i in 1..=self.len() {
            let breaks =
                i == self.len() || self.open_time[i] - self.open_time[i - 1] != Duration::hours(1);
            if breaks {
                runs.push(Ohlcv {
                    open_time: self.open_time[start..i].to_vec(),
                    open: self.open[start..i].to_vec(),
                    high: self.high[start..i].to_vec(),
                    low: self.low[start..i].to_vec(),
                    close: self.close[start..i].to_vec(),
                    volume: self.volume[start..i].to_vec(),
                });
                start = i;
            }
        }
        runs
    }
}

/// Where a symbol's funding charges come from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FundingSource {
    /// The symbol's own series from `first` to `last` (its settlement times); the default
    /// rate outside that span.
    Real {
        first: DateTime<Utc>,
        last: DateTime<Utc>,
        events: usize,
    },
    /// No series: Binance's default 0.01% per 8h at 00:00, 08:00 and 16:00 UTC throughout.
    Default,
}

/// A symbol's funding events, ascending, each time rounded to the minute (Binance's recorded
/// funding times carry milliseconds of jitter).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FundingSeries {
    events: Vec<(DateTime<Utc>, f64)>,
}

fn round_to_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    let ms = t.timestamp_millis();
    let m = (ms + 30_000).div_euclid(60_000) * 60_000;
    DateTime::from_timestamp_millis(m).unwrap_or(t)
}

/// Whether `t` is one of the default schedule's settlements (00:00, 08:00, 16:00 UTC).
fn default_settlement(t: DateTime<Utc>) -> bool {
    t.minute() == 0 && t.second() == 0 && t.nanosecond() == 0 && t.hour().is_multiple_of(8)
}

impl FundingSeries {
    /// Builds the series from `(time, rate)` events in any order; repeats of one time with the
    /// same rate are kept once.
    ///
    /// # Errors
    /// [`SignalError::NotFinite`] for a non-finite rate, [`SignalError::BadParam`] for two
    /// different rates at one time.
    pub fn new(symbol: &str, events: &[(DateTime<Utc>, f64)]) -> Result<Self, SignalError> {
        let mut map: BTreeMap<DateTime<Utc>, f64> = BTreeMap::new();
        for (index, &(t, r)) in events.iter().enumerate() {
            if !r.is_finite() {
                return Err(SignalError::NotFinite {
                    series: "funding rate",
                    index,
                });
            }
            let t = round_to_minute(t);
            if let Some(&old) = map.get(&t)
                && old != r
            {
                return Err(SignalError::BadParam(format!(
                    "{symbol}: two funding rates at {t}: {old} and {r}"
                )));
            }
            map.insert(t, r);
        }
        Ok(Self {
            events: map.into_iter().collect(),
        })
    }

    /// The events, ascending.
    pub fn events(&self) -> &[(DateTime<Utc>, f64)] {
        &self.events
    }

    /// Where the charges come from.
    pub fn source(&self) -> FundingSource {
        match (self.events.first(), self.events.last()) {
            (Some(&(first, _)), Some(&(last, _))) => FundingSource::Real {
                first,
                last,
                events: self.events.len(),
            },
            _ => FundingSource::Default,
        }
    }

    /// Whether the real series covers every settlement in `(from, to]`: its first event is at
    /// or before `from`, and its newest event at or before `to` is at most 8h old (the longest
    /// interval Binance uses). Judged only from events settled by `to`.
    pub fn covers(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        let settled = self.events.partition_point(|&(t, _)| t <= to);
        match (self.events.first(), settled.checked_sub(1)) {
            (Some(&(first, _)), Some(i)) => {
                first <= from && self.events[i].0 >= to - Duration::hours(8)
            }
            _ => false,
        }
    }

    /// The sum of the rates charged at settlements in `(from, to]`: real events inside the
    /// series' span, the default schedule outside it (see the module docs).
    pub fn charged(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        let mut total = 0.0;
        let span = self.events.first().zip(self.events.last());
        if let Some((&(first, _), &(last, _))) = span {
            let lo = self.events.partition_point(|&(t, _)| t <= from);
            let hi = self.events.partition_point(|&(t, _)| t <= to);
            total += self.events[lo..hi].iter().map(|&(_, r)| r).sum::<f64>();
            total += default_charges(from, to.min(first - Duration::minutes(1)));
            total += default_charges(from.max(last), to);
        } else {
            total += default_charges(from, to);
        }
        total
    }

    /// Funding charged over each bar `(times[t], times[t] + bar]`: what a long of weight 1
    /// held over the bar pays.
    pub fn per_bar(&self, times: &[DateTime<Utc>], bar: Duration) -> Vec<f64> {
        times.iter().map(|&t| self.charged(t, t + bar)).collect()
    }
}

/// Default-schedule charges in `(from, to]` (empty when `to <= from`).
fn default_charges(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    if to <= from {
        return 0.0;
    }
    const EIGHT_H_MS: i64 = 8 * 3_600_000;
    // Settlements are the multiples of 8h since the epoch (00:00, 08:00, 16:00 UTC).
    let first = from.timestamp_millis().div_euclid(EIGHT_H_MS) + 1;
    let last = to.timestamp_millis().div_euclid(EIGHT_H_MS);
    let n = (last - first + 1).max(0);
    debug_assert!(
        n == 0
            || DateTime::from_timestamp_millis(first * EIGHT_H_MS).is_some_and(default_settlement)
    );
    n as f64 * DEFAULT_FUNDING_RATE
}

/// One symbol of the universe.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolSeries {
    pub symbol: String,
    pub hourly: Hourly,
    pub funding: FundingSeries,
}

/// Every symbol with 1h candles in the data, sorted by name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Universe {
    pub symbols: Vec<SymbolSeries>,
    /// Funding files of symbols without candles (kept out of the universe, reported).
    pub funding_without_candles: Vec<String>,
}

/// One file's text parsed by [`UniverseBuilder::parse_file`], not yet added.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFile {
    kind: Option<DataFile>,
    content: Parsed,
}

/// What a parsed file holds (matching its kind).
#[derive(Debug, Clone, PartialEq)]
enum Parsed {
    Klines(Vec<Candle>),
    Funding(Vec<(DateTime<Utc>, f64)>),
    Ignored,
}

/// Collects file texts into a [`Universe`].
#[derive(Debug, Default)]
pub struct UniverseBuilder {
    klines: BTreeMap<String, Vec<Candle>>,
    funding: BTreeMap<String, Vec<(DateTime<Utc>, f64)>>,
}

impl UniverseBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the text of a file named `name` (no directory); files that are not part of the
    /// universe are ignored. Returns what the file was taken as.
    ///
    /// # Errors
    /// The parse error, with the file's name.
    pub fn add_file(&mut self, name: &str, text: &str) -> Result<Option<DataFile>, SignalError> {
        Ok(self.add_parsed(Self::parse_file(name, text)?))
    }

    /// Parses the text of a file named `name` without adding it: files can be parsed on
    /// several threads and added with [`UniverseBuilder::add_parsed`] in their order.
    ///
    /// # Errors
    /// The parse error, with the file's name.
    pub fn parse_file(name: &str, text: &str) -> Result<ParsedFile, SignalError> {
        let in_file = |e: SignalError| SignalError::DataFile {
            file: name.to_string(),
            reason: e.to_string(),
        };
        let kind = classify_file(name);
        let content = match &kind {
            Some(DataFile::Klines1h { .. }) => Parsed::Klines(parse_klines(text).map_err(in_file)?),
            Some(DataFile::Funding { .. }) => {
                Parsed::Funding(parse_funding(text).map_err(in_file)?)
            }
            None => Parsed::Ignored,
        };
        Ok(ParsedFile { kind, content })
    }

    /// Adds a file [`UniverseBuilder::parse_file`] parsed; returns what it was taken as.
    /// Adding files in the same order gives the same universe as [`UniverseBuilder::add_file`].
    pub fn add_parsed(&mut self, file: ParsedFile) -> Option<DataFile> {
        match (&file.kind, file.content) {
            (Some(DataFile::Klines1h { symbol }), Parsed::Klines(candles)) => {
                self.klines
                    .entry(symbol.clone())
                    .or_default()
                    .extend(candles);
            }
            (Some(DataFile::Funding { symbol }), Parsed::Funding(events)) => {
                self.funding
                    .entry(symbol.clone())
                    .or_default()
                    .extend(events);
            }
            _ => {}
        }
        file.kind
    }

    /// Checks and assembles the universe.
    ///
    /// # Errors
    /// What [`Hourly::from_candles`] and [`FundingSeries::new`] refuse.
    pub fn build(mut self) -> Result<Universe, SignalError> {
        let mut symbols = Vec::with_capacity(self.klines.len());
        for (symbol, candles) in std::mem::take(&mut self.klines) {
            let hourly = Hourly::from_candles(&symbol, candles)?;
            if hourly.is_empty() {
                continue;
            }
            let events = self.funding.remove(&symbol).unwrap_or_default();
            let funding = FundingSeries::new(&symbol, &events)?;
            symbols.push(SymbolSeries {
                symbol,
                hourly,
                funding,
            });
        }
        Ok(Universe {
            symbols,
            funding_without_candles: self.funding.into_keys().collect(),
        })
    }
}

impl Universe {
    /// The symbol's series, if present.
    pub fn get(&self, symbol: &str) -> Option<&SymbolSeries> {
        self.symbols.iter().find(|s| s.symbol == symbol)
    }

    /// The first and last candle open time over every symbol.
    pub fn span(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let first = self
            .symbols
            .iter()
            .filter_map(|s| s.hourly.open_time.first())
            .min()?;
        let last = self
            .symbols
            .iter()
            .filter_map(|s| s.hourly.open_time.last())
            .max()?;
        Some((*first, *last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn default_schedule_counts_settlements_in_half_open_spans() {
        let h = |a: &str, b: &str| default_charges(t(a), t(b)) / DEFAULT_FUNDING_RATE;
        assert_eq!(h("2023-01-01T00:00:00Z", "2023-01-02T00:00:00Z"), 3.0);
        assert_eq!(h("2023-01-01T00:00:00Z", "2023-01-01T08:00:00Z"), 1.0);
        assert_eq!(h("2023-01-01T07:00:00Z", "2023-01-01T08:00:00Z"), 1.0);
        assert_eq!(h("2023-01-01T08:00:00Z", "2023-01-01T09:00:00Z"), 0.0);
        assert_eq!(h("2023-01-01T09:00:00Z", "2023-01-01T08:00:00Z"), 0.0);
    }

    #[test]
    fn files_parsed_apart_and_added_in_order_build_the_same_universe() {
        let k = |from: i64| {
            let mut text = String::from("open_time_ms,open,high,low,close,volume\n");
            for h in from..from + 30 {
                let c = 100 + h % 7;
                text += &format!(
                    "{},{c},{},{},{c},5\n",
                    1_672_531_200_000 + h * 3_600_000,
                    c + 1,
                    c - 1
                );
            }
            text
        };
        let files = [
            ("binance_um_AUSDT_1h_a.csv", k(0)),
            ("binance_um_AUSDT_1h_b.csv", k(30)),
            (
                "binance_um_AUSDT_funding_a.csv",
                "funding_time_ms,funding_rate\n1672531200000,0.0001\n".to_string(),
            ),
            ("binance_um_BUSDT_1h_a.csv", k(5)),
            ("notes.txt", "not data".to_string()),
        ];
        let mut one = UniverseBuilder::new();
        for (name, text) in &files {
            one.add_file(name, text).expect("valid");
        }
        // Parsed in reverse order (as threads may finish), added in the files' order.
        let mut parsed: Vec<ParsedFile> = files
            .iter()
            .rev()
            .map(|(name, text)| UniverseBuilder::parse_file(name, text).expect("valid"))
            .collect();
        parsed.reverse();
        let mut two = UniverseBuilder::new();
        let kinds: Vec<Option<DataFile>> = parsed.into_iter().map(|p| two.add_parsed(p)).collect();
        assert_eq!(kinds[4], None);
        assert!(matches!(&kinds[2], Some(DataFile::Funding { symbol }) if symbol == "AUSDT"));
        let (one, two) = (one.build().expect("one"), two.build().expect("two"));
        assert_eq!(one, two);
        assert_eq!(one.symbols.len(), 2);
        assert_eq!(one.symbols[0].hourly.len(), 60);
        let err =
            UniverseBuilder::parse_file("binance_um_CUSDT_1h_x.csv", "open_time_ms,open\nx,1\n")
                .expect_err("malformed");
        assert!(
            matches!(err, SignalError::DataFile { file, .. } if file == "binance_um_CUSDT_1h_x.csv")
        );
    }

    #[test]
    fn rounding_removes_millisecond_jitter() {
        let jittered = t("2023-01-01T08:00:00.007Z");
        assert_eq!(round_to_minute(jittered), t("2023-01-01T08:00:00Z"));
        assert_eq!(
            round_to_minute(t("2023-01-01T07:59:59.990Z")),
            t("2023-01-01T08:00:00Z")
        );
    }
}
