//! Reads from the exchange: its clock, closed klines (paged, gap-free) and funding.

use chrono::{DateTime, Utc};
use perpdesk_binance::Client;
use perpdesk_core::{Candle, Interval, Symbol};
use rust_decimal::prelude::ToPrimitive;

use super::{SignalLoopError, interval_ms, utc};

pub(super) async fn server_time(client: &Client) -> Result<i64, SignalLoopError> {
    client
        .server_time()
        .await
        .map(|t| t.timestamp_millis())
        .map_err(|source| SignalLoopError::Exchange {
            symbol: String::new(),
            what: "server time",
            source,
        })
}

/// Reads up to `limit` klines from `from_ms` and keeps those closed before `now_ms`.
pub(super) async fn closed_klines(
    client: &Client,
    symbol: &Symbol,
    interval: Interval,
    from_ms: i64,
    limit: usize,
    now_ms: i64,
) -> Result<Vec<Candle>, SignalLoopError> {
    client
        .closed_candles(
            symbol,
            interval,
            utc(from_ms, symbol)?,
            u32::try_from(limit).unwrap_or(u32::MAX),
            utc(now_ms, symbol)?,
        )
        .await
        .map_err(|source| SignalLoopError::Exchange {
            symbol: symbol.to_string(),
            what: "klines",
            source,
        })
}

/// Closed candles of the last `count` intervals before `now_ms`, paged forward; only the
/// run after the last gap is kept, because features need an unbroken series.
pub(super) async fn load_history(
    client: &Client,
    symbol: &Symbol,
    interval: Interval,
    count: usize,
    now_ms: i64,
) -> Result<Vec<Candle>, SignalLoopError> {
    let iv = interval_ms(interval);
    let span = i64::try_from(count)
        .unwrap_or(i64::MAX / iv)
        .saturating_mul(iv);
    let from = (now_ms - now_ms.rem_euclid(iv)).saturating_sub(span);
    let mut out = client
        .closed_candles_since(symbol, interval, utc(from, symbol)?, utc(now_ms, symbol)?)
        .await
        .map_err(|source| SignalLoopError::Exchange {
            symbol: symbol.to_string(),
            what: "klines",
            source,
        })?;
    let step = interval.duration();
    let run_start = out
        .windows(2)
        .rposition(|p| p[1].open_time != p[0].open_time + step)
        .map_or(0, |i| i + 1);
    if run_start > 0 {
        tracing::warn!(%symbol, dropped = run_start, "gap in history; using the candles after it");
    }
    out.drain(..run_start);
    let excess = out.len().saturating_sub(count);
    out.drain(..excess);
    Ok(out)
}

/// Funding rates settled from `from_ms` up to `now_ms`, paged forward.
pub(super) async fn fetch_funding(
    client: &Client,
    symbol: &Symbol,
    from_ms: i64,
    now_ms: i64,
) -> Result<Vec<(DateTime<Utc>, f64)>, SignalLoopError> {
    let rates = client
        .funding_since(symbol, utc(from_ms, symbol)?, utc(now_ms, symbol)?)
        .await
        .map_err(|source| SignalLoopError::Exchange {
            symbol: symbol.to_string(),
            what: "funding rates",
            source,
        })?;
    Ok(rates
        .iter()
        .filter_map(|r| r.rate.to_f64().map(|rate| (r.time, rate)))
        .collect())
}
