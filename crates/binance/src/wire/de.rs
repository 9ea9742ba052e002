//! Lenient (de)serialisation helpers.
//!
//! Binance's documented types drift from what the servers send: numbers arrive as strings
//! (`listenKeyExpired.E`, `leverage` in v2 positionRisk), booleans as strings
//! (`isAutoAddMargin: "false"`), and unset optional values as `""`, `"null"` or `null`
//! (algo orders' `activatePrice`, `icebergQuantity`). A trading client must not drop a fill
//! because of such drift, so every field where it has been seen (or is plausible) goes through
//! one of these helpers.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// True for the values Binance uses to say "not set": `null`, `""` and the string `"null"`.
pub fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty() || s == "null",
        _ => false,
    }
}

/// `Option<T>` where `null`, `""` and `"null"` all mean `None`.
///
/// Use with `#[serde(default, deserialize_with = "de::opt", skip_serializing_if = "Option::is_none")]`
/// so a missing key also means `None` and `None` is not written back.
pub fn opt<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    if is_blank(&value) {
        return Ok(None);
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(de::Error::custom)
}

/// A boolean sent either as JSON `true`/`false` or as the string `"true"`/`"false"`.
pub fn bool_lenient<'de, D>(deserializer: D) -> Result<bool, D::Error>
where
    D: Deserializer<'de>,
{
    struct BoolVisitor;
    impl Visitor<'_> for BoolVisitor {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a boolean or \"true\"/\"false\"")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            if v.eq_ignore_ascii_case("true") {
                Ok(true)
            } else if v.eq_ignore_ascii_case("false") {
                Ok(false)
            } else {
                Err(E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
    }
    deserializer.deserialize_any(BoolVisitor)
}

/// [`bool_lenient`] for optional fields; blank values mean `None`.
pub fn opt_bool<'de, D>(deserializer: D) -> Result<Option<bool>, D::Error>
where
    D: Deserializer<'de>,
{
    let value = Value::deserialize(deserializer)?;
    if is_blank(&value) {
        return Ok(None);
    }
    bool_lenient(value).map(Some).map_err(de::Error::custom)
}

/// An integer sent either as a JSON number or as a decimal string (`"1736996475556"`).
pub fn int<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    struct IntVisitor<T>(std::marker::PhantomData<T>);
    impl<T> Visitor<'_> for IntVisitor<T>
    where
        T: TryFrom<i64> + TryFrom<u64> + FromStr,
    {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an integer or a string holding one")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            T::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            T::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            // `21.0` is still an integer; anything with a fraction is not. The bound keeps the
            // cast exact (f64 holds integers exactly up to 2^53).
            if v.fract() == 0.0 && v.abs() < 9.0e15 {
                return self.visit_i64(v as i64);
            }
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            v.trim()
                .parse()
                .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }
    deserializer.deserialize_any(IntVisitor(std::marker::PhantomData))
}

/// [`int`] for optional fields; blank values mean `None`.
pub fn opt_int<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    let value = Value::deserialize(deserializer)?;
    if is_blank(&value) {
        return Ok(None);
    }
    int(value).map(Some).map_err(de::Error::custom)
}

/// Decimals that Binance sends as JSON **numbers** (`leverageBracket`, `notionalCoef`).
///
/// Deserialising accepts strings too; serialising writes a number again so a value re-sent to a
/// simulator keeps the wire type. Integral values are written as integers, the rest as `f64`
/// (these fields carry few significant digits, so `f64` is exact enough).
pub mod number {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        // Scale 0 means the value was written without a fraction (`10000`, not `0.0`).
        if value.scale() == 0
            && let Some(i) = value.to_i64()
        {
            return serializer.serialize_i64(i);
        }
        match value.to_f64() {
            Some(f) => serializer.serialize_f64(f),
            None => Err(serde::ser::Error::custom("decimal out of f64 range")),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        <Decimal as Deserialize>::deserialize(deserializer)
    }

    /// The same for `Option<Decimal>`, blank values meaning `None`.
    pub mod opt {
        use super::*;

        pub fn serialize<S: Serializer>(
            value: &Option<Decimal>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(d) => super::serialize(d, serializer),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Decimal>, D::Error> {
            super::super::opt(deserializer)
        }
    }
}

/// Writes `{<tag_key>: <tag>, ...fields of inner}`.
///
/// Used by the hand-written tagged enums ([`crate::wire::market::SymbolFilter`],
/// [`crate::wire::stream::UserDataEvent`], ...) which cannot use serde's internally tagged
/// representation because their catch-all variant must keep the raw JSON.
pub fn serialize_tagged<S, T>(
    serializer: S,
    tag_key: &'static str,
    tag: &str,
    inner: &T,
) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    T: Serialize,
{
    let value = serde_json::to_value(inner).map_err(serde::ser::Error::custom)?;
    let Value::Object(fields) = value else {
        return Err(serde::ser::Error::custom(
            "tagged payload must be a JSON object",
        ));
    };
    let mut map = serializer.serialize_map(Some(fields.len() + 1))?;
    map.serialize_entry(tag_key, tag)?;
    for (k, v) in &fields {
        if k != tag_key {
            map.serialize_entry(k, v)?;
        }
    }
    map.end()
}

/// Reads the string tag `tag_key` of a JSON object, if there is one.
pub fn tag_of<'a>(value: &'a Value, tag_key: &str) -> Option<&'a str> {
    value.get(tag_key).and_then(Value::as_str)
}

/// Deserialises `T` from an already-parsed value, mapping the error into `D`'s error type.
pub fn from_value<'de, D, T>(value: Value) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    serde_json::from_value(value).map_err(de::Error::custom)
}

/// Formats a decimal for a query string: no trailing zeros, never exponent notation.
pub fn query_decimal(value: Decimal) -> String {
    value.normalize().to_string()
}

/// Formats a boolean the way Binance expects in a query string.
pub fn query_bool(value: bool) -> String {
    if value { "true" } else { "false" }.to_owned()
}
