//! CSV loading for the historical candle and funding files in `shared/data`.
//!
//! The files are simple (no quoting, no embedded commas), so they are parsed by hand. Every
//! problem is reported as a [`DataError`] naming the file and the 1-based line; nothing panics.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One kline row as stored in the CSV files (trade or mark-price klines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandleRow {
    /// Candle open time, UTC milliseconds.
    pub open_time_ms: i64,
    /// Open price.
    pub open: Decimal,
    /// High price.
    pub high: Decimal,
    /// Low price.
    pub low: Decimal,
    /// Close price.
    pub close: Decimal,
    /// Base-asset volume (always 0 in mark-price files).
    pub volume: Decimal,
}

/// One funding event: funding time (UTC ms) and the rate applied at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundingRow {
    /// Scheduled funding time, UTC milliseconds.
    pub funding_time_ms: i64,
    /// Funding rate (e.g. `0.0001` = 0.01 %).
    pub funding_rate: Decimal,
}

/// Why a data file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A required file does not exist.
    #[error("data file missing: {}", path.display())]
    Missing {
        /// The path that was looked for.
        path: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("cannot read {}: {err}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        err: std::io::Error,
    },
    /// The first line is not the expected header.
    #[error("{file}: bad header {found:?}, expected {expected:?}")]
    BadHeader {
        /// File name or label.
        file: String,
        /// The header line found.
        found: String,
        /// The header expected.
        expected: String,
    },
    /// A row could not be parsed or is inconsistent (e.g. low above high).
    #[error("{file}:{line}: {reason}")]
    BadRow {
        /// File name or label.
        file: String,
        /// 1-based line number (the header is line 1).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A row's time is earlier than the previous row's.
    #[error(
        "{file}:{line}: time {time_ms} is before the previous row's {prev_ms} (rows must be sorted)"
    )]
    Unsorted {
        /// File name or label.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The previous row's time.
        prev_ms: i64,
        /// This row's time.
        time_ms: i64,
    },
    /// A row repeats the previous row's time.
    #[error("{file}:{line}: duplicate time {time_ms}")]
    Duplicate {
        /// File name or label.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The repeated time.
        time_ms: i64,
    },
    /// A candle's open time is not on the file's interval grid.
    #[error("{file}:{line}: open time {time_ms} is not on the {interval_ms} ms grid")]
    OffGrid {
        /// File name or label.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The offending time.
        time_ms: i64,
        /// The interval of the series.
        interval_ms: i64,
    },
    /// The file has a header but no data rows.
    #[error("{file}: no data rows")]
    Empty {
        /// File name or label.
        file: String,
    },
    /// No [`crate::market::SymbolSpec`] is known for a requested symbol.
    #[error("no contract spec for symbol {symbol}")]
    NoSpec {
        /// The symbol.
        symbol: String,
    },
    /// Moving the data by this many weeks would take its times out of range.
    #[error("cannot shift the market data by {weeks} weeks: its times would leave the range")]
    Shift {
        /// The weeks asked for.
        weeks: i64,
    },
    /// A data file differs from what was loaded at start (replaced, truncated, grown), so
    /// the candles a read needs cannot be trusted to be the ones the replay has served.
    #[error("{}: changed since it was loaded ({reason})", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// Two symbols of one market have the same name.
    #[error("symbol {symbol} is listed twice")]
    DuplicateSymbol {
        /// The symbol.
        symbol: String,
    },
}

/// Header of every kline file.
pub const CANDLE_HEADER: &str = "open_time_ms,open,high,low,close,volume,quote_volume,trades";
/// Header of every funding file.
pub const FUNDING_HEADER: &str = "funding_time_ms,funding_rate";

impl DataError {
    /// `path` could not be read: [`DataError::Missing`] when it is not there, else
    /// [`DataError::Io`].
    pub(super) fn from_io(path: &Path, err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::NotFound {
            DataError::Missing {
                path: path.to_path_buf(),
            }
        } else {
            DataError::Io {
                path: path.to_path_buf(),
                err,
            }
        }
    }
}

/// Reads a data file as text; a `.gz` file is decompressed on the way (the `wide/` folder
/// ships gzip to keep the checkout small).
pub(super) fn read(path: &Path) -> Result<String, DataError> {
    let io = |err| DataError::from_io(path, err);
    if path.extension().is_some_and(|e| e == "gz") {
        use std::io::Read;
        let file = std::fs::File::open(path).map_err(io)?;
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::io::BufReader::new(file))
            .read_to_string(&mut text)
            .map_err(io)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).map_err(io)
    }
}

/// Yields `(1-based line number, trimmed line)` for the data rows after checking the header.
/// Blank lines are skipped so that a trailing newline (or CRLF endings) is harmless.
pub(super) fn data_lines<'a>(
    text: &'a str,
    file: &str,
    expected: &str,
) -> Result<impl Iterator<Item = (usize, &'a str)>, DataError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
    let header = lines.next().map(|(_, l)| l).unwrap_or("");
    // Only the leading columns we use must match; extra trailing columns are tolerated.
    let want: Vec<&str> = expected.split(',').collect();
    let got: Vec<&str> = header.split(',').map(str::trim).collect();
    let needed = if expected == CANDLE_HEADER { 6 } else { 2 };
    if got.len() < needed || got[..needed] != want[..needed] {
        return Err(DataError::BadHeader {
            file: file.to_string(),
            found: header.to_string(),
            expected: expected.to_string(),
        });
    }
    Ok(lines.filter(|(_, l)| !l.is_empty()))
}

fn field<T: FromStr>(
    cols: &[&str],
    idx: usize,
    name: &str,
    file: &str,
    line: usize,
) -> Result<T, DataError> {
    let raw = cols
        .get(idx)
        .map(|s| s.trim())
        .ok_or_else(|| DataError::BadRow {
            file: file.to_string(),
            line,
            reason: format!("missing column {name}"),
        })?;
    raw.parse::<T>().map_err(|_| DataError::BadRow {
        file: file.to_string(),
        line,
        reason: format!("cannot parse {name} from {raw:?}"),
    })
}

fn check_order(prev: Option<i64>, t: i64, file: &str, line: usize) -> Result<(), DataError> {
    match prev {
        Some(p) if t == p => Err(DataError::Duplicate {
            file: file.to_string(),
            line,
            time_ms: t,
        }),
        Some(p) if t < p => Err(DataError::Unsorted {
            file: file.to_string(),
            line,
            prev_ms: p,
            time_ms: t,
        }),
        _ => Ok(()),
    }
}

/// Parses kline CSV text (header [`CANDLE_HEADER`]). `file` labels errors.
///
/// Rejects unparsable numbers, non-positive prices, negative volume, `low > min(open, close)`,
/// `high < max(open, close)`, and unsorted or duplicate open times.
pub fn parse_candles(text: &str, file: &str) -> Result<Vec<CandleRow>, DataError> {
    let mut out = Vec::with_capacity(text.len() / 50);
    let mut prev: Option<i64> = None;
    for (line, l) in data_lines(text, file, CANDLE_HEADER)? {
        let row = parse_candle_line(l, file, line)?;
        check_order(prev, row.open_time_ms, file, line)?;
        prev = Some(row.open_time_ms);
        out.push(row);
    }
    if out.is_empty() {
        return Err(DataError::Empty {
            file: file.to_string(),
        });
    }
    Ok(out)
}

/// One data row of a kline file, checked as [`parse_candles`] checks it (everything but the
/// order of the times).
pub(super) fn parse_candle_line(l: &str, file: &str, line: usize) -> Result<CandleRow, DataError> {
    let cols: Vec<&str> = l.split(',').collect();
    let open_time_ms: i64 = field(&cols, 0, "open_time_ms", file, line)?;
    let open: Decimal = field(&cols, 1, "open", file, line)?;
    let high: Decimal = field(&cols, 2, "high", file, line)?;
    let low: Decimal = field(&cols, 3, "low", file, line)?;
    let close: Decimal = field(&cols, 4, "close", file, line)?;
    let volume: Decimal = field(&cols, 5, "volume", file, line)?;
    let bad = |reason: String| DataError::BadRow {
        file: file.to_string(),
        line,
        reason,
    };
    if low <= Decimal::ZERO {
        return Err(bad(format!("non-positive low {low}")));
    }
    if volume < Decimal::ZERO {
        return Err(bad(format!("negative volume {volume}")));
    }
    if low > open.min(close) || high < open.max(close) {
        return Err(bad(format!(
            "inconsistent candle o={open} h={high} l={low} c={close}"
        )));
    }
    Ok(CandleRow {
        open_time_ms,
        open,
        high,
        low,
        close,
        volume,
    })
}

/// The open time of a kline file's data row, without parsing the rest of it.
pub(super) fn candle_time(l: &str, file: &str, line: usize) -> Result<i64, DataError> {
    let first = l.split(',').next().unwrap_or("");
    field(&[first], 0, "open_time_ms", file, line)
}

/// Reads and parses a kline CSV file (see [`parse_candles`]).
pub fn load_candles(path: &Path) -> Result<Vec<CandleRow>, DataError> {
    let text = read(path)?;
    parse_candles(&text, &path.display().to_string())
}

/// Parses funding CSV text (header [`FUNDING_HEADER`]); times must be strictly increasing.
pub fn parse_funding(text: &str, file: &str) -> Result<Vec<FundingRow>, DataError> {
    let mut out = Vec::new();
    let mut prev: Option<i64> = None;
    for (line, l) in data_lines(text, file, FUNDING_HEADER)? {
        let cols: Vec<&str> = l.split(',').collect();
        let funding_time_ms: i64 = field(&cols, 0, "funding_time_ms", file, line)?;
        let funding_rate: Decimal = field(&cols, 1, "funding_rate", file, line)?;
        check_order(prev, funding_time_ms, file, line)?;
        prev = Some(funding_time_ms);
        out.push(FundingRow {
            funding_time_ms,
            funding_rate,
        });
    }
    if out.is_empty() {
        return Err(DataError::Empty {
            file: file.to_string(),
        });
    }
    Ok(out)
}

/// Reads and parses a funding CSV file (see [`parse_funding`]).
pub fn load_funding(path: &Path) -> Result<Vec<FundingRow>, DataError> {
    let text = read(path)?;
    parse_funding(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = CANDLE_HEADER;

    #[test]
    fn parses_good_rows_and_tolerates_blank_and_crlf() {
        let text = format!("{H}\r\n1000,10,12,9,11,5,,\r\n2000,11,11.5,10.5,11,0,,\r\n\r\n");
        let rows = parse_candles(&text, "t").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].high, Decimal::new(115, 1));
    }

    #[test]
    fn bad_number_reports_line() {
        let text = format!("{H}\n1000,10,12,9,11,5,,\n2000,11,abc,10,11,5,,\n");
        match parse_candles(&text, "f.csv") {
            Err(DataError::BadRow { line, file, reason }) => {
                assert_eq!(line, 3);
                assert_eq!(file, "f.csv");
                assert!(reason.contains("high"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn missing_column_and_inconsistent_candle() {
        let text = format!("{H}\n1000,10,12,9\n");
        assert!(matches!(
            parse_candles(&text, "f"),
            Err(DataError::BadRow { line: 2, .. })
        ));
        let text = format!("{H}\n1000,10,12,9,11,5,,\n2000,10,12,10.5,11,5,,\n");
        assert!(matches!(
            parse_candles(&text, "f"),
            Err(DataError::BadRow { line: 3, .. })
        ));
        let text = format!("{H}\n1000,10,12,9,11,-1,,\n");
        assert!(matches!(
            parse_candles(&text, "f"),
            Err(DataError::BadRow { line: 2, .. })
        ));
    }

    #[test]
    fn unsorted_and_duplicate_times() {
        let text = format!("{H}\n1000,10,12,9,11,5,,\n3000,10,12,9,11,5,,\n2000,10,12,9,11,5,,\n");
        assert!(matches!(
            parse_candles(&text, "f"),
            Err(DataError::Unsorted {
                line: 4,
                prev_ms: 3000,
                time_ms: 2000,
                ..
            })
        ));
        let text = format!("{H}\n1000,10,12,9,11,5,,\n1000,10,12,9,11,5,,\n");
        assert!(matches!(
            parse_candles(&text, "f"),
            Err(DataError::Duplicate {
                line: 3,
                time_ms: 1000,
                ..
            })
        ));
    }

    #[test]
    fn header_and_empty() {
        assert!(matches!(
            parse_candles("time,o,h,l,c,v\n1,1,1,1,1,1\n", "f"),
            Err(DataError::BadHeader { .. })
        ));
        assert!(matches!(
            parse_candles("", "f"),
            Err(DataError::BadHeader { .. })
        ));
        assert!(matches!(
            parse_candles(&format!("{H}\n"), "f"),
            Err(DataError::Empty { .. })
        ));
    }

    #[test]
    fn funding_parse_and_errors() {
        let rows = parse_funding(
            "funding_time_ms,funding_rate\n0,0.0001\n28800000,-0.0002\n",
            "f",
        )
        .unwrap();
        assert_eq!(rows[1].funding_rate, Decimal::new(-2, 4));
        assert!(matches!(
            parse_funding("funding_time_ms,funding_rate\n0,0.0001\n0,0.0001\n", "f"),
            Err(DataError::Duplicate { line: 3, .. })
        ));
        assert!(matches!(
            parse_funding("funding_time_ms,funding_rate\n0,x\n", "f"),
            Err(DataError::BadRow { line: 2, .. })
        ));
    }

    #[test]
    fn missing_file() {
        let p = Path::new("/nonexistent/perpdesk/nothing.csv");
        assert!(matches!(load_candles(p), Err(DataError::Missing { .. })));
        assert!(matches!(load_funding(p), Err(DataError::Missing { .. })));
    }
}
