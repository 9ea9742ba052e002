//! Requests of the public market-data endpoints with more than a symbol: `klines`, `depth`,
//! `fundingRate`.

use super::Params;
use crate::error::ApiError;

/// `GET /fapi/v1/klines`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Klines {
    /// The symbol.
    pub symbol: String,
    /// The interval as Binance names it (`1m`, `1h`…; checked against the data).
    pub interval: String,
    /// `startTime`: the first open time.
    pub start: Option<i64>,
    /// `endTime`: the last open time.
    pub end: Option<i64>,
    /// How many (default 500, 1 to 1500).
    pub limit: usize,
}

impl Klines {
    /// Parses the query.
    ///
    /// # Errors
    /// -1102 for a missing parameter, -1130 a malformed number or a limit outside 1–1500,
    /// -1023 `startTime` after `endTime`.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Self::parse_for(p, "symbol")
    }

    /// Parses the query with the instrument in `name` (`pair` for index-price klines).
    ///
    /// # Errors
    /// As [`Klines::parse`].
    pub fn parse_for(p: &Params, name: &str) -> Result<Self, ApiError> {
        let symbol = p.string(name)?;
        let interval = p.string("interval")?;
        let start = p.int("startTime")?;
        let end = p.int("endTime")?;
        if let (Some(s), Some(e)) = (start, end)
            && s > e
        {
            return Err(ApiError::bad(-1023, "Start time is greater than end time."));
        }
        Ok(Self {
            symbol,
            interval,
            start,
            end,
            limit: p.bounded_limit(500, 1500)?,
        })
    }
}

/// `GET /fapi/v1/depth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Depth {
    /// The symbol.
    pub symbol: String,
    /// Levels per side: 5, 10, 20, 50, 100, 500 (the default) or 1000.
    pub limit: usize,
}

impl Depth {
    /// Parses the query.
    ///
    /// # Errors
    /// -1102 without `symbol`, -1130 for a limit that is not an integer, -4021 for one
    /// Binance does not serve.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        let symbol = p.string("symbol")?;
        let limit = match p.int("limit")? {
            None => 500,
            Some(l @ (5 | 10 | 20 | 50 | 100 | 500 | 1000)) => usize::try_from(l).unwrap_or(500),
            Some(l) => {
                return Err(ApiError::bad(
                    -4021,
                    format!("'{l}' is not valid depth limit."),
                ));
            }
        };
        Ok(Self { symbol, limit })
    }
}

/// `GET /fapi/v1/fundingRate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundingRate {
    /// The symbol.
    pub symbol: String,
    /// How many (default 100, 1 to 1000).
    pub limit: usize,
    /// `startTime` (none: the latest `limit` events).
    pub start: Option<i64>,
    /// `endTime` (none, or later than now: now).
    pub end: Option<i64>,
}

impl FundingRate {
    /// Parses the query.
    ///
    /// # Errors
    /// -1102 without `symbol`, -1130 a malformed number or a limit outside 1–1000.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            symbol: p.string("symbol")?,
            limit: p.bounded_limit(100, 1000)?,
            end: p.int("endTime")?,
            start: p.int("startTime")?,
        })
    }
}
