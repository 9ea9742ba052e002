//! Requests of the account endpoints: `leverage`, `marginType`, `positionSide/dual`,
//! `income`, `positionMargin` and its history, `countdownCancelAll`, and the per-symbol
//! filters of the list and cancel-all endpoints.

use super::Params;
use crate::error::ApiError;

/// An optional `symbol` (`positionRisk`, `openOrders`, tickers…: one symbol, or all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SymbolFilter(pub Option<String>);

impl SymbolFilter {
    /// Reads `symbol`, if sent.
    pub fn parse(p: &Params) -> Self {
        Self(p.get("symbol").map(str::to_owned))
    }

    /// The symbol, if one was named.
    pub fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// `POST /fapi/v1/leverage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetLeverage {
    /// The symbol.
    pub symbol: String,
    /// The initial leverage (its range is the symbol's, checked by the exchange).
    pub leverage: u32,
}

impl SetLeverage {
    /// Parses the request.
    ///
    /// # Errors
    /// -1102 for a missing parameter, -1130 for a leverage that is not a whole number.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            symbol: p.string("symbol")?,
            leverage: p
                .req("leverage")?
                .parse()
                .map_err(|_| ApiError::invalid("leverage"))?,
        })
    }
}

/// `POST /fapi/v1/marginType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetMarginType {
    /// The symbol.
    pub symbol: String,
    /// ISOLATED (true) or CROSSED (false).
    pub isolated: bool,
}

impl SetMarginType {
    /// Parses the request.
    ///
    /// # Errors
    /// -1102 for a missing parameter, -1130 for a margin type other than the two.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        let symbol = p.string("symbol")?;
        let isolated = match p.req("marginType")? {
            "ISOLATED" => true,
            "CROSSED" => false,
            _ => return Err(ApiError::invalid("marginType")),
        };
        Ok(Self { symbol, isolated })
    }
}

/// `POST /fapi/v1/positionSide/dual`: hedge mode (`true`) or one-way mode (`false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetPositionMode {
    /// `dualSidePosition`.
    pub dual: bool,
}

impl SetPositionMode {
    /// Parses the request.
    ///
    /// # Errors
    /// -1102 without `dualSidePosition`, -1130 when it is not a boolean.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            dual: p
                .bool("dualSidePosition")?
                .ok_or_else(|| ApiError::mandatory("dualSidePosition"))?,
        })
    }
}

/// `GET /fapi/v1/income`: rows between `startTime` and `endTime` (both inclusive), oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Income {
    /// `symbol`: only that symbol's rows (symbol-less rows such as transfers are left out).
    pub symbol: Option<String>,
    /// `startTime`, if sent.
    pub start: Option<i64>,
    /// `endTime`, if sent.
    pub end: Option<i64>,
    /// `incomeType`, or every type.
    pub income_type: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: usize,
}

/// With neither `startTime` nor `endTime`, Binance returns the last 7 days (CONTRACT.md,
/// `GET /fapi/v1/income`).
pub const INCOME_DEFAULT_WINDOW_MS: i64 = 7 * 86_400_000;

impl Income {
    /// Parses the query.
    ///
    /// # Errors
    /// -1130 for a malformed number.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            symbol: p.get("symbol").map(str::to_owned),
            start: p.int("startTime")?,
            end: p.int("endTime")?,
            income_type: p.get("incomeType").map(str::to_owned),
            limit: p.clamped_limit(100, 1000)?,
        })
    }

    /// The inclusive window of row times the query asks for at `now`.
    pub fn window(&self, now: i64) -> (i64, i64) {
        match (self.start, self.end) {
            (None, None) => (now - INCOME_DEFAULT_WINDOW_MS, now),
            (start, end) => (start.unwrap_or(i64::MIN), end.unwrap_or(i64::MAX)),
        }
    }
}

/// `GET /fapi/v1/allAlgoOrders`: the algo orders of `symbol`, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllAlgoOrders {
    /// The symbol.
    pub symbol: String,
    /// At most this many, the latest (default 500, at most 1000).
    pub limit: usize,
}

impl AllAlgoOrders {
    /// Parses the query.
    ///
    /// # Errors
    /// -1102 without `symbol`, -1130 for a malformed limit.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            symbol: p.string("symbol")?,
            limit: p.clamped_limit(500, 1000)?,
        })
    }
}

/// `POST /fapi/v1/positionMargin`.
///
/// # Errors
/// -1102 for a missing parameter, -4061 a position side Binance does not know, -4055 an
/// amount not above zero, -1130 a malformed amount or a `type` other than 1 (add) and 2
/// (remove).
pub fn margin_adjust(p: &Params) -> Result<crate::exchange::MarginAdjust, ApiError> {
    let symbol = p.string("symbol")?;
    let position_side = super::orders::position_side(p)?.unwrap_or_default();
    let amount: rust_decimal::Decimal = p
        .req("amount")?
        .parse()
        .map_err(|_| ApiError::invalid("amount"))?;
    if amount <= rust_decimal::Decimal::ZERO {
        return Err(ApiError::bad(-4055, "Amount must be positive."));
    }
    let add = match p.req("type")? {
        "1" => true,
        "2" => false,
        _ => return Err(ApiError::invalid("type")),
    };
    Ok(crate::exchange::MarginAdjust {
        symbol,
        position_side,
        add,
        amount,
    })
}

/// `GET /fapi/v1/positionMargin/history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginHistory {
    /// The symbol.
    pub symbol: String,
    /// Only additions (`type` 1) or removals (2); both when not sent.
    pub add: Option<bool>,
    /// `startTime` (none: 30 days before `endTime`, Binance's span).
    pub start: Option<i64>,
    /// `endTime` (none: now).
    pub end: Option<i64>,
    /// At most this many (default 500).
    pub limit: usize,
}

impl MarginHistory {
    /// Parses the query.
    ///
    /// # Errors
    /// -1102 without `symbol`, -1130 a malformed number or `type`.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        let add = match p.get("type") {
            None => None,
            Some("1") => Some(true),
            Some("2") => Some(false),
            Some(_) => return Err(ApiError::invalid("type")),
        };
        Ok(Self {
            symbol: p.string("symbol")?,
            add,
            start: p.int("startTime")?,
            end: p.int("endTime")?,
            limit: p.clamped_limit(500, 1000)?,
        })
    }
}

/// `POST /fapi/v1/countdownCancelAll`: `symbol` and `countdownTime` in ms (0 stops it).
///
/// # Errors
/// -1102 for a missing parameter, -1130 a countdown that is not a whole number of ms at
/// least zero.
pub fn countdown(p: &Params) -> Result<(String, i64), ApiError> {
    let symbol = p.string("symbol")?;
    let ms = p
        .int("countdownTime")?
        .ok_or_else(|| ApiError::mandatory("countdownTime"))?;
    if ms < 0 {
        return Err(ApiError::invalid("countdownTime"));
    }
    Ok((symbol, ms))
}
