//! Request parameters as received: the query string and the form body, merged.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::error::ApiError;

/// Request parameters (query and form body merged; the query wins, as on Binance).
#[derive(Debug, Default, Clone)]
pub struct Params(pub BTreeMap<String, String>);

impl Params {
    /// The value of `name`, if sent and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
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

    /// An optional decimal.
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
}
