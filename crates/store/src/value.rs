//! Conversions between domain values and their stored form.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Result, StoreError};

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn time(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::invalid(format!("timestamp {ms} ms is out of range")))
}

pub(crate) fn dec(s: &str) -> Result<Decimal> {
    Decimal::from_str(s).map_err(|e| StoreError::invalid(format!("decimal {s:?}: {e}")))
}

/// Writes a serde enum the way serde names it (`"BUY"`), which is the stored spelling.
pub(crate) fn name<T: Serialize>(v: &T) -> Result<String> {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        Ok(other) => Err(StoreError::invalid(format!("{other} is not a unit name"))),
        Err(e) => Err(StoreError::invalid(e.to_string())),
    }
}

pub(crate) fn from_name<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| StoreError::invalid(format!("{s:?}: {e}")))
}

pub(crate) fn json<T: Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::invalid(e.to_string()))
}

pub(crate) fn from_json<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::invalid(format!("stored JSON: {e}")))
}

pub(crate) fn side_str(s: perpdesk_core::Side) -> &'static str {
    match s {
        perpdesk_core::Side::Buy => "BUY",
        perpdesk_core::Side::Sell => "SELL",
    }
}

pub(crate) fn side(s: &str) -> Result<perpdesk_core::Side> {
    match s {
        "BUY" => Ok(perpdesk_core::Side::Buy),
        "SELL" => Ok(perpdesk_core::Side::Sell),
        other => Err(StoreError::invalid(format!("side {other:?}"))),
    }
}

pub(crate) fn position_side_str(s: perpdesk_core::PositionSide) -> &'static str {
    match s {
        perpdesk_core::PositionSide::Both => "BOTH",
        perpdesk_core::PositionSide::Long => "LONG",
        perpdesk_core::PositionSide::Short => "SHORT",
    }
}

pub(crate) fn position_side(s: &str) -> Result<perpdesk_core::PositionSide> {
    match s {
        "BOTH" => Ok(perpdesk_core::PositionSide::Both),
        "LONG" => Ok(perpdesk_core::PositionSide::Long),
        "SHORT" => Ok(perpdesk_core::PositionSide::Short),
        other => Err(StoreError::invalid(format!("position side {other:?}"))),
    }
}

pub(crate) fn symbol(s: &str) -> Result<perpdesk_core::Symbol> {
    perpdesk_core::Symbol::new(s).map_err(|e| StoreError::invalid(e.to_string()))
}

/// Returns `d` in units of 1e-8 when that is exact and fits an `i64`: the shadow column
/// integer `SUM()` can add without rounding.
pub(crate) fn e8(d: Decimal) -> Option<i64> {
    let scaled = d.checked_mul(Decimal::new(100_000_000, 0))?;
    if scaled.fract().is_zero() {
        rust_decimal::prelude::ToPrimitive::to_i64(&scaled)
    } else {
        None
    }
}
