//! Typed requests: each endpoint's parameters parsed once, from the query string and the form
//! body, into the values the exchange acts on.
//!
//! Parsing checks form: a parameter is present, well formed and one of Binance's values, or
//! the request is refused here with Binance's code and never reaches the exchange. The
//! exchange then checks meaning against its state (a listed symbol, the account's position
//! mode, the filters). A request type names its endpoint; the `parse` of each lists the
//! parameters it reads, so a new endpoint or parameter is a new field and a line here.
//!
//! - [`orders`]: orders (place, query, cancel, modify, batches).
//! - [`algo`]: algo orders.
//! - [`history`]: amendments, trades and orders over time.
//! - [`account`]: leverage, margin type, position mode, income, per-symbol filters.
//! - [`market`]: klines, depth, funding history.

pub mod account;
pub mod algo;
pub mod history;
pub mod market;
pub mod orders;

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::error::ApiError;

pub use account::{
    AllAlgoOrders, Income, MarginHistory, SetLeverage, SetMarginType, SetPositionMode, SymbolFilter,
};
pub use algo::NewAlgoOrder;
pub use history::{AllOrders, Amendments, HistoryWindow, UserTrades};
pub use market::{Depth, FundingRate, Klines};
pub use orders::{
    BatchModify, BatchOrders, CancelBatch, ModifyOrder, ModifyPrice, NewOrder, OrderKind,
    OrderLookup, OrderRef, PriceMatch, RespType, SelfTradePrevention,
};

/// Request parameters as received: the query string and the form body merged, the query's
/// value winning where both carry a name (CONTRACT.md 2.1, as Binance does).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// The parameters of a request with this query string and form body.
    ///
    /// # Errors
    /// -1101 when the query or the body names a parameter twice: which value was meant is
    /// unknown, so nothing is done (CONTRACT.md's error table). A name in both the query and
    /// the body is not a duplicate: the query's value wins (CONTRACT.md 2.1).
    pub fn parse(query: &str, body: &str) -> Result<Self, ApiError> {
        let mut params = Self::default();
        for part in [query, body] {
            let mut seen = std::collections::BTreeSet::new();
            for (k, v) in url::form_urlencoded::parse(part.as_bytes()) {
                if !seen.insert(k.clone()) {
                    return Err(ApiError::duplicate_parameter());
                }
                params
                    .0
                    .entry(k.into_owned())
                    .or_insert_with(|| v.into_owned());
            }
        }
        Ok(params)
    }

    /// Parameters from `(name, value)` pairs (an item of a batch, a test); a later pair of
    /// the same name replaces an earlier one.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The value of `name`, if sent and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Whether `name` was sent with a value.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The value of `name` in any letter case (ccxt lower-cases some names), if sent and
    /// not empty; the exact spelling wins.
    pub fn get_any_case(&self, name: &str) -> Option<&str> {
        self.get(name).or_else(|| {
            self.0
                .iter()
                .find(|(k, v)| k.eq_ignore_ascii_case(name) && !v.is_empty())
                .map(|(_, v)| v.as_str())
        })
    }

    /// A mandatory parameter.
    ///
    /// # Errors
    /// -1102 when missing.
    pub fn req(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| ApiError::mandatory(name))
    }

    /// A mandatory parameter, owned (a symbol, an interval).
    ///
    /// # Errors
    /// -1102 when missing.
    pub fn string(&self, name: &str) -> Result<String, ApiError> {
        self.req(name).map(str::to_owned)
    }

    /// An optional positive decimal.
    ///
    /// # Errors
    /// -1130 when not a positive decimal.
    pub fn decimal(&self, name: &str) -> Result<Option<Decimal>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => {
                let d: Decimal = v.parse().map_err(|_| ApiError::invalid(name))?;
                if d <= Decimal::ZERO {
                    Err(ApiError::invalid(name))
                } else {
                    Ok(Some(d))
                }
            }
        }
    }

    /// An optional order quantity.
    ///
    /// # Errors
    /// -1130 when not a decimal, -4003 when zero or negative (Binance's QTY_LESS_THAN_ZERO).
    pub fn quantity(&self, name: &str) -> Result<Option<Decimal>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => {
                let d: Decimal = v.parse().map_err(|_| ApiError::invalid(name))?;
                if d <= Decimal::ZERO {
                    Err(ApiError::bad(-4003, "Quantity less than zero."))
                } else {
                    Ok(Some(d))
                }
            }
        }
    }

    /// A mandatory order quantity.
    ///
    /// # Errors
    /// -1102 when missing, otherwise as [`Params::quantity`].
    pub fn req_quantity(&self, name: &str) -> Result<Decimal, ApiError> {
        self.quantity(name)?
            .ok_or_else(|| ApiError::mandatory(name))
    }

    /// An optional order price.
    ///
    /// # Errors
    /// -1130 when not a decimal or zero, -4001 when negative (Binance's PRICE_LESS_THAN_ZERO).
    pub fn price(&self, name: &str) -> Result<Option<Decimal>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => {
                let d: Decimal = v.parse().map_err(|_| ApiError::invalid(name))?;
                if d < Decimal::ZERO {
                    Err(ApiError::bad(-4001, "Price less than 0."))
                } else if d.is_zero() {
                    Err(ApiError::invalid(name))
                } else {
                    Ok(Some(d))
                }
            }
        }
    }

    /// A mandatory order price.
    ///
    /// # Errors
    /// -1102 when missing, otherwise as [`Params::price`].
    pub fn req_price(&self, name: &str) -> Result<Decimal, ApiError> {
        self.price(name)?.ok_or_else(|| ApiError::mandatory(name))
    }

    /// A mandatory positive decimal.
    ///
    /// # Errors
    /// -1102 when missing, -1130 when not a positive decimal.
    pub fn req_decimal(&self, name: &str) -> Result<Decimal, ApiError> {
        self.decimal(name)?.ok_or_else(|| ApiError::mandatory(name))
    }

    /// An optional boolean (`true`/`false`).
    ///
    /// # Errors
    /// -1130 for anything else.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("true" | "TRUE") => Ok(Some(true)),
            Some("false" | "FALSE") => Ok(Some(false)),
            Some(_) => Err(ApiError::invalid(name)),
        }
    }

    /// An optional integer (an id, a time in ms).
    ///
    /// # Errors
    /// -1130 when not an integer.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| v.parse().map_err(|_| ApiError::invalid(name)))
            .transpose()
    }

    /// `limit` with Binance's default; a value above `max` (or below 1) is brought inside.
    ///
    /// # Errors
    /// -1130 when not a non-negative integer.
    pub fn clamped_limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.get("limit") {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .map(|l| l.clamp(1, max))
                .map_err(|_| ApiError::invalid("limit")),
        }
    }

    /// `limit` with Binance's default, refused outside `1..=max`.
    ///
    /// # Errors
    /// -1130 when not an integer in range.
    pub fn bounded_limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.int("limit")? {
            None => Ok(default),
            Some(l) => usize::try_from(l)
                .ok()
                .filter(|l| (1..=max).contains(l))
                .ok_or_else(|| ApiError::invalid("limit")),
        }
    }
}
