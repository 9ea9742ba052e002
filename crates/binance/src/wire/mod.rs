//! Wire types: what goes over HTTP and WebSocket, shaped exactly like Binance's JSON.
//!
//! Conventions, so the types read like the docs:
//! - Field names are Binance's (`camelCase` or the one-letter stream keys) via serde renames.
//! - Prices, quantities and money are [`rust_decimal::Decimal`]; Binance sends them as strings
//!   but numbers are accepted too. Times are `i64` milliseconds since the Unix epoch.
//! - Parsing is lenient where Binance has drifted from its docs (see [`de`]); enums never fail
//!   on unknown values (see [`enums`]).
//! - Optional fields that Binance omits or blanks are `Option`s that are not written back when
//!   `None`.
//!
//! The modules follow the docs' areas: [`market`] (public market data), [`account`] (balances,
//! positions, settings, key permissions), [`trade`] (regular orders and fills), [`algo`]
//! (conditional orders since 2025-12-09) and [`stream`] (user-data and market stream events).

pub mod account;
pub mod algo;
pub mod de;
pub mod enums;
pub mod market;
pub mod stream;
pub mod trade;

use serde::{Deserialize, Serialize};

pub use enums::*;

/// The error payload every endpoint returns on failure: `{"code": -1121, "msg": "Invalid symbol."}`.
///
/// `code` is negative for errors. See CONTRACT.md section 5 for the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorPayload {
    #[serde(deserialize_with = "de::int")]
    pub code: i64,
    pub msg: String,
}

/// The `{code, msg}` body of endpoints that only acknowledge: `POST /fapi/v1/marginType`,
/// `POST /fapi/v1/positionSide/dual`, `POST /fapi/v1/multiAssetsMargin`,
/// `POST /fapi/v1/feeBurn`, `DELETE /fapi/v1/allOpenOrders`, `DELETE /fapi/v1/algoOpenOrders`.
///
/// `code` is `200` on success; the algo endpoints send it as the string `"200"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeMsg {
    #[serde(deserialize_with = "de::int")]
    pub code: i64,
    pub msg: String,
}

impl CodeMsg {
    /// True when `code` is 200.
    pub fn is_success(&self) -> bool {
        self.code == 200
    }
}

/// `GET /fapi/v1/ping` and `DELETE /fapi/v1/listenKey`: `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// A response that is a single object when `symbol` is sent and an array otherwise
/// (`premiumIndex`, `ticker/price`, `ticker/24hr`, `ticker/bookTicker`, `leverageBracket`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// All items as a vector, whichever shape arrived.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            Self::One(item) => vec![item],
            Self::Many(items) => items,
        }
    }
}
