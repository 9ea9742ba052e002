//! Requests of the history queries: `orderAmendment`, `userTrades`, `allOrders`.

use super::Params;
use super::orders::OrderLookup;
use crate::error::ApiError;

/// `GET /fapi/v1/orderAmendment`: the modifications of one order within an inclusive time
/// range, at most `limit` (default 50, at most 100).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amendments {
    /// The order.
    pub order: OrderLookup,
    /// `startTime` (none: from the first).
    pub start: Option<i64>,
    /// `endTime` (none: to the last).
    pub end: Option<i64>,
    /// At most this many.
    pub limit: usize,
}

impl Amendments {
    /// Parses the query.
    ///
    /// # Errors
    /// -1102 without `symbol` or either id, -1130 for a malformed number.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            order: OrderLookup::parse(p)?,
            start: p.int("startTime")?,
            end: p.int("endTime")?,
            limit: p.clamped_limit(50, 100)?,
        })
    }
}

/// How far back `userTrades` and `allOrders` look by default, and the widest window they
/// accept (7 days).
const HISTORY_WINDOW_MS: i64 = 7 * 24 * 3_600_000;

/// `startTime`/`endTime` of a history query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryWindow {
    /// `startTime`.
    pub start: Option<i64>,
    /// `endTime`.
    pub end: Option<i64>,
}

impl HistoryWindow {
    /// Parses `startTime` and `endTime`.
    ///
    /// # Errors
    /// -1130 when either is not an integer.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            start: p.int("startTime")?,
            end: p.int("endTime")?,
        })
    }

    /// Whether a time was sent.
    pub fn is_timed(&self) -> bool {
        self.start.is_some() || self.end.is_some()
    }

    /// The inclusive window at `now`: the last 7 days without times, 7 days from
    /// `startTime` or up to `endTime` with one of them, and at most 7 days with both.
    ///
    /// # Errors
    /// -1023 when `startTime` is after `endTime`, -1127 when they are more than 7 days apart.
    pub fn at(&self, now: i64) -> Result<(i64, i64), ApiError> {
        match (self.start, self.end) {
            (None, None) => Ok((now - HISTORY_WINDOW_MS, now)),
            (Some(s), None) => Ok((s, s.saturating_add(HISTORY_WINDOW_MS).min(now))),
            (None, Some(e)) => Ok((e - HISTORY_WINDOW_MS, e)),
            (Some(s), Some(e)) if s > e => {
                Err(ApiError::bad(-1023, "Start time is greater than end time."))
            }
            (Some(s), Some(e)) if e - s > HISTORY_WINDOW_MS => Err(ApiError::bad(
                -1127,
                "More than 168 hours between startTime and endTime.",
            )),
            (Some(s), Some(e)) => Ok((s, e)),
        }
    }
}

/// `GET /fapi/v1/userTrades`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTrades {
    /// The symbol.
    pub symbol: String,
    /// At most this many (default 500, at most 1000).
    pub limit: usize,
    /// `fromId`: the trades from this id on, whatever their time.
    pub from_id: Option<i64>,
    /// `orderId`: that order's trades.
    pub order_id: Option<i64>,
    /// The time window.
    pub window: HistoryWindow,
}

impl UserTrades {
    /// Parses the query.
    ///
    /// # Errors
    /// -1102 without `symbol`, -1130 for a malformed number, -1128 `fromId` with times.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        let symbol = p.string("symbol")?;
        let limit = p.clamped_limit(500, 1000)?;
        let from_id = p.int("fromId")?;
        let order_id = p.int("orderId")?;
        // `fromId` may not be sent with times (whatever they hold).
        if from_id.is_some() && (p.has("startTime") || p.has("endTime")) {
            return Err(ApiError::bad(
                -1128,
                "Combination of optional parameters invalid.",
            ));
        }
        Ok(Self {
            symbol,
            limit,
            from_id,
            order_id,
            window: HistoryWindow::parse(p)?,
        })
    }
}

/// `GET /fapi/v1/allOrders`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllOrders {
    /// The symbol, or every symbol.
    pub symbol: Option<String>,
    /// At most this many (default 500, at most 1000).
    pub limit: usize,
    /// `orderId`: the orders from this id on, whatever their time.
    pub from_id: Option<i64>,
    /// The time window of creation times.
    pub window: HistoryWindow,
}

impl AllOrders {
    /// Parses the query.
    ///
    /// # Errors
    /// -1130 for a malformed number.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            symbol: p.get("symbol").map(str::to_owned),
            limit: p.clamped_limit(500, 1000)?,
            from_id: p.int("orderId")?,
            window: HistoryWindow::parse(p)?,
        })
    }
}
