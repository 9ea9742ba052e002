//! Parsing the kline and funding CSV text of `../shared/data` (the caller reads the file:
//! the crate does no I/O).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use perpdesk_core::Candle;
use rust_decimal::Decimal;

use crate::SignalError;

fn bad(line: usize, what: &str) -> SignalError {
    SignalError::BadParam(format!("csv line {line}: {what}"))
}

fn time(line: usize, field: Option<&str>) -> Result<DateTime<Utc>, SignalError> {
    field
        .and_then(|f| f.trim().parse::<i64>().ok())
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .ok_or_else(|| bad(line, "bad millisecond timestamp"))
}

/// Parses Binance kline CSV text with the header `open_time_ms,open,high,low,close,volume,...`
/// (extra columns are ignored) into candles, in file order.
///
/// # Errors
/// [`SignalError::BadParam`] naming the line of a missing or malformed field.
pub fn parse_klines(text: &str) -> Result<Vec<Candle>, SignalError> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.starts_with("open_time_ms,open,high,low,close,volume") => {}
        _ => {
            return Err(bad(
                1,
                "expected the header open_time_ms,open,high,low,close,volume",
            ));
        }
    }
    lines
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let line = i + 1;
            let mut f = l.split(',');
            let open_time = time(line, f.next())?;
            let mut d = || {
                f.next()
                    .and_then(|s| Decimal::from_str(s.trim()).ok())
                    .ok_or_else(|| bad(line, "bad decimal field"))
            };
            Ok(Candle {
                open_time,
                open: d()?,
                high: d()?,
                low: d()?,
                close: d()?,
                volume: d()?,
            })
        })
        .collect()
}

/// Parses funding CSV text with the header `funding_time_ms,funding_rate` into
/// `(time, rate per 8h)` pairs.
///
/// # Errors
/// [`SignalError::BadParam`] naming the line of a missing or malformed field.
pub fn parse_funding(text: &str) -> Result<Vec<(DateTime<Utc>, f64)>, SignalError> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.starts_with("funding_time_ms,funding_rate") => {}
        _ => return Err(bad(1, "expected the header funding_time_ms,funding_rate")),
    }
    lines
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let line = i + 1;
            let mut f = l.split(',');
            let t = time(line, f.next())?;
            let r = f
                .next()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .filter(|r| r.is_finite())
                .ok_or_else(|| bad(line, "bad funding rate"))?;
            Ok((t, r))
        })
        .collect()
}
