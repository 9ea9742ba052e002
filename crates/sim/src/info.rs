//! The public market-data endpoints: a typed request in, the replayed data's answer out,
//! rendered by [`crate::replies::market`].

use serde_json::Value;

use crate::error::ApiError;
use crate::market::{DataError, KlineError, MarketData};
use crate::params::{Depth, FundingRate, Klines, SymbolFilter};
use crate::replies::market as reply;

/// `symbol` if `market` lists it at `now` (Binance does not know a symbol before its listing).
///
/// # Errors
/// -1121 otherwise.
fn listed<'a>(market: &MarketData, symbol: &'a str, now: i64) -> Result<&'a str, ApiError> {
    market
        .listed_at(symbol, now)
        .map(|_| symbol)
        .ok_or_else(ApiError::bad_symbol)
}

/// The reply for the symbol `filter` names, or an array of every listed symbol's.
///
/// # Errors
/// -1121 for an unknown symbol, or one without data now; 503 -1000 when the data files an
/// answer needs cannot be read ([`ApiError::unavailable`]).
fn one_or_all(
    market: &MarketData,
    filter: &SymbolFilter,
    now: i64,
    one: impl Fn(&str) -> Result<Option<Value>, DataError>,
) -> Result<Value, ApiError> {
    let one = |s: &str| one(s).map_err(|e| ApiError::unavailable(&e));
    match filter.get() {
        Some(s) => one(listed(market, s, now)?)?.ok_or_else(ApiError::bad_symbol),
        None => {
            let mut all = Vec::new();
            for s in market.symbols_at(now) {
                all.extend(one(s)?);
            }
            Ok(Value::Array(all))
        }
    }
}

/// The reply to a klines request that could not be answered.
fn kline_error(e: KlineError) -> ApiError {
    match e {
        KlineError::Unavailable(reason) => ApiError::unavailable(&reason),
        _ => ApiError::bad(-1120, "Invalid interval."),
    }
}

/// `GET /fapi/v1/exchangeInfo`: the symbols listed at `now`.
pub fn exchange_info(market: &MarketData, now: i64) -> Value {
    let specs: Vec<_> = market
        .symbols_at(now)
        .into_iter()
        .filter_map(|s| market.spec(s))
        .collect();
    reply::exchange_info(&specs, now)
}

/// `GET /fapi/v1/klines`.
///
/// # Errors
/// -1121 unknown symbol, -1120 bad interval.
pub fn klines(market: &MarketData, req: &Klines, now: i64) -> Result<Value, ApiError> {
    let symbol = listed(market, &req.symbol, now)?;
    let rows = market
        .klines(symbol, &req.interval, req.start, req.end, req.limit, now)
        .map_err(kline_error)?;
    Ok(reply::klines(&rows))
}

/// `GET /fapi/v1/markPriceKlines` and `/fapi/v1/indexPriceKlines`: Binance's kline rows
/// with the volumes and counts zero (the docs' "ignore" columns).
///
/// # Errors
/// -1121 unknown symbol, -1120 bad interval.
pub fn mark_klines(market: &MarketData, req: &Klines, now: i64) -> Result<Value, ApiError> {
    let symbol = listed(market, &req.symbol, now)?;
    let rows = market
        .mark_klines(symbol, &req.interval, req.start, req.end, req.limit, now)
        .map_err(kline_error)?;
    Ok(reply::klines(&rows))
}

/// `GET /fapi/v1/ticker/price` and `/fapi/v2/ticker/price`: one symbol or all.
///
/// # Errors
/// -1121 unknown symbol.
pub fn ticker_price(market: &MarketData, req: &SymbolFilter, now: i64) -> Result<Value, ApiError> {
    one_or_all(market, req, now, |s| {
        Ok(market
            .try_last_price(s, now)?
            .map(|price| reply::ticker_price(s, price, now)))
    })
}

/// `GET /fapi/v1/ticker/24hr`: rolling 24 h statistics of the replayed prices, one symbol or
/// all.
///
/// # Errors
/// -1121 unknown symbol.
pub fn ticker_24hr(market: &MarketData, req: &SymbolFilter, now: i64) -> Result<Value, ApiError> {
    one_or_all(market, req, now, |s| {
        Ok(market
            .try_ticker_24h(s, now)?
            .map(|t| reply::ticker_24hr(&t)))
    })
}

/// `GET /fapi/v1/premiumIndex`: one symbol or all.
///
/// # Errors
/// -1121 unknown symbol.
pub fn premium_index(market: &MarketData, req: &SymbolFilter, now: i64) -> Result<Value, ApiError> {
    one_or_all(market, req, now, |s| {
        let Some(mark) = market.try_mark_price(s, now)? else {
            return Ok(None);
        };
        let next = market.next_funding_time_of(s, now);
        Ok(Some(reply::premium_index(
            s,
            mark,
            market.funding_rate(s, next),
            next,
            now,
        )))
    })
}

/// `GET /fapi/v1/depth`.
///
/// # Errors
/// -1121 unknown symbol.
pub fn depth(market: &MarketData, req: &Depth, now: i64) -> Result<Value, ApiError> {
    let symbol = listed(market, &req.symbol, now)?;
    let book = market
        .try_depth(symbol, now, req.limit)
        .map_err(|e| ApiError::unavailable(&e))?;
    Ok(reply::depth(book, now))
}

/// `GET /fapi/v1/ticker/bookTicker`: the best bid and ask of the book `depth` serves at
/// the same time, one symbol or all.
///
/// # Errors
/// -1121 unknown symbol.
pub fn book_ticker(market: &MarketData, req: &SymbolFilter, now: i64) -> Result<Value, ApiError> {
    one_or_all(market, req, now, |s| {
        let (bids, asks) = market.try_depth(s, now, 1)?;
        let (Some(bid), Some(ask)) = (bids.first().copied(), asks.first().copied()) else {
            return Ok(None);
        };
        Ok(Some(reply::book_ticker(s, bid, ask, now)))
    })
}

/// `GET /fapi/v1/fundingRate`: the funding events of a symbol up to now, oldest first.
///
/// # Errors
/// -1121 unknown symbol.
pub fn funding_rate(market: &MarketData, req: &FundingRate, now: i64) -> Result<Value, ApiError> {
    let symbol = listed(market, &req.symbol, now)?;
    let limit = req.limit;
    let end = req.end.unwrap_or(now).min(now);
    // Without startTime Binance returns the most recent `limit` events.
    let start = req
        .start
        .unwrap_or(end - i64::try_from(limit).unwrap_or(100) * 8 * 3_600_000);
    let mut rows: Vec<Value> = Vec::new();
    for (time, rate) in market
        .funding_events_between(symbol, start - 1, end)
        .into_iter()
        .take(limit)
    {
        let mark = market
            .try_mark_price(symbol, time)
            .map_err(|e| ApiError::unavailable(&e))?
            .unwrap_or_default();
        rows.push(reply::funding_rate(symbol, time, rate, mark));
    }
    Ok(Value::Array(rows))
}
