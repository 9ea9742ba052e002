//! Fixture loading and the JSON comparison used by the round-trip tests.

use std::path::PathBuf;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// `shared/` holds the golden fixtures; `PERPDESK_SHARED` overrides where it is.
pub fn shared_dir() -> PathBuf {
    match std::env::var("PERPDESK_SHARED") {
        Ok(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
    }
}

/// Reads `shared/binance/fixtures/<name>` as JSON.
pub fn fixture(name: &str) -> Value {
    let path = shared_dir().join("binance/fixtures").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("fixture {} is not JSON: {e}", path.display()))
}

/// What a parse produced: the re-serialised JSON and the `Debug` text of the typed value
/// (used to spot `Unknown(…)` catch-alls that a known payload must not hit).
pub struct Parsed {
    pub json: Value,
    pub debug: String,
}

/// Parses `value` as `T` and serialises it back.
pub fn round_trip<T: DeserializeOwned + Serialize + std::fmt::Debug>(
    value: &Value,
) -> Result<Parsed, serde_json::Error> {
    let typed: T = serde_json::from_value(value.clone())?;
    Ok(Parsed {
        json: serde_json::to_value(&typed)?,
        debug: format!("{typed:?}"),
    })
}

/// The signature of [`round_trip`] for one type, so tables can hold it.
pub type Parser = fn(&Value) -> Result<Parsed, serde_json::Error>;

/// Brings a JSON value to a canonical form before comparing original and re-serialised JSON.
///
/// Normalisations (the only differences the wire types are allowed to introduce):
/// 1. Numbers and numeric strings compare as decimals with trailing zeros removed: `"0.00"`,
///    `0`, `"0"` and `0.0` are equal. The types parse both forms (Binance drifts) and write
///    one; `"10"` vs `10` (`leverage` in v2 positionRisk, `listenKeyExpired.E`) is this case.
/// 2. The strings `"true"`/`"false"` compare equal to the booleans (`isAutoAddMargin: "false"`).
/// 3. Keys whose value is blank (`null`, `""`, `"null"`) are dropped: the types read blanks as
///    `None` and do not write `None` back (`icebergQuantity: "null"`, `activatePrice: ""`).
pub fn normalize(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !is_blank(v))
                .map(|(k, v)| (k.clone(), normalize(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        Value::String(s) => match s.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => match Decimal::from_str(s) {
                Ok(d) => Value::String(format!("#num {}", d.normalize())),
                Err(_) => value.clone(),
            },
        },
        Value::Number(n) => {
            let text = n.to_string();
            match Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)) {
                Ok(d) => Value::String(format!("#num {}", d.normalize())),
                Err(_) => value.clone(),
            }
        }
        Value::Null | Value::Bool(_) => value.clone(),
    }
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty() || s == "null",
        _ => false,
    }
}

/// Differences between two normalised values, as `path: left != right` lines.
pub fn diff(path: &str, left: &Value, right: &Value, out: &mut Vec<String>) {
    match (left, right) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(vb) => diff(&p, va, vb, out),
                    None => out.push(format!("{p}: lost on re-serialisation (was {va})")),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.push(format!("{path}.{k}: added on re-serialisation ({vb})"));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                diff(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if left == right => {}
        _ => out.push(format!("{path}: {left} != {right}")),
    }
}

/// Parses, re-serialises and compares; returns the problems found (empty = faithful).
pub fn check_round_trip(parser: Parser, payload: &Value, allowed_unknown: &[&str]) -> Vec<String> {
    let parsed = match parser(payload) {
        Ok(parsed) => parsed,
        Err(e) => return vec![format!("does not parse: {e}")],
    };
    let mut problems = Vec::new();
    diff(
        "$",
        &normalize(payload),
        &normalize(&parsed.json),
        &mut problems,
    );
    // A catch-all variant round-trips anything, so a known payload landing in one would pass
    // the comparison while being useless; flag it.
    let mut debug = parsed.debug;
    for allowed in allowed_unknown {
        debug = debug.replace(allowed, "");
    }
    if debug.contains("Unknown(") {
        problems.push(format!("hit an Unknown catch-all: {debug}"));
    }
    problems
}
