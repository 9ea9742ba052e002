//! Requests of the account endpoints: `leverage`, `marginType`, `positionSide/dual`,
//! `income`, and the per-symbol filters of the list and cancel-all endpoints.

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

/// `GET /fapi/v1/income`: rows from `startTime` (inclusive), oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Income {
    /// `startTime` (0 without it).
    pub start: i64,
    /// `incomeType`, or every type.
    pub income_type: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: usize,
}

impl Income {
    /// Parses the query.
    ///
    /// # Errors
    /// -1130 for a malformed number.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            start: p.int("startTime")?.unwrap_or(0),
            income_type: p.get("incomeType").map(str::to_owned),
            limit: p.clamped_limit(100, 1000)?,
        })
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
