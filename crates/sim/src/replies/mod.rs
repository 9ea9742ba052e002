//! Replies: every JSON body the simulator sends, REST and stream, rendered from the
//! exchange's typed results as Binance words them (field names, decimals as strings, the
//! contract's constant fields).
//!
//! - [`trading`]: orders, algo orders, trades, amendments.
//! - [`account`]: account, balance, positions, income, leverage, brackets, key permissions.
//! - [`market`]: exchange info, klines, tickers, depth, funding, premium index.
//! - [`events`]: user-data events and market stream events.

pub mod account;
pub mod events;
pub mod market;
pub mod trading;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::error::ApiError;

/// A decimal as Binance prints most of them: a string without trailing zeros.
pub fn dec(v: Decimal) -> String {
    v.normalize().to_string()
}

/// A refusal inside a batch reply (`{code, msg}` in the refused item's place).
pub fn error(e: &ApiError) -> Value {
    json!({"code": e.code, "msg": e.msg})
}

/// A batch reply: each item rendered by `one`, or its refusal.
pub fn batch<T>(items: &[Result<T, ApiError>], one: impl Fn(&T) -> Value) -> Value {
    Value::Array(
        items
            .iter()
            .map(|item| item.as_ref().map_or_else(error, &one))
            .collect(),
    )
}

/// `{"code": 200, "msg": "success"}` (margin type, position mode).
pub fn success() -> Value {
    json!({"code": 200, "msg": "success"})
}

/// The reply of the cancel-all endpoints.
pub fn all_cancelled() -> Value {
    json!({"code": 200, "msg": "The operation of cancel all open order is done."})
}

/// `{}` (ping, listen key deletion).
pub fn empty() -> Value {
    json!({})
}

/// `GET /fapi/v1/time`.
pub fn server_time(now: i64) -> Value {
    json!({"serverTime": now})
}

/// The listen key of `POST`/`PUT /fapi/v1/listenKey`.
pub fn listen_key(key: &str) -> Value {
    json!({"listenKey": key})
}
