//! Binance's error replies: `{code, msg}` with the HTTP status Binance uses.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A refusal, as Binance words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status (400 for most; 401 for key problems, 429/418 for limits).
    pub status: u16,
    /// Binance's negative code.
    pub code: i64,
    /// Binance's message.
    pub msg: String,
}

impl ApiError {
    /// A 400 with `code` and `msg`.
    pub fn bad(code: i64, msg: impl Into<String>) -> Self {
        Self {
            status: 400,
            code,
            msg: msg.into(),
        }
    }

    /// -1102: a mandatory parameter is missing or malformed.
    pub fn mandatory(name: &str) -> Self {
        Self::bad(
            -1102,
            format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
        )
    }

    /// -1101: the query or the body names a parameter twice.
    pub fn duplicate_parameter() -> Self {
        Self::bad(-1101, "Duplicate values for a parameter detected.")
    }

    /// -1130: a parameter has an invalid value.
    pub fn invalid(name: &str) -> Self {
        Self::bad(
            -1130,
            format!("Data sent for parameter '{name}' is not valid."),
        )
    }

    /// -1121: unknown symbol.
    pub fn bad_symbol() -> Self {
        Self::bad(-1121, "Invalid symbol.")
    }

    /// -2015: bad key, IP or permission.
    pub fn rejected_key() -> Self {
        Self {
            status: 401,
            code: -2015,
            msg: "Invalid API-key, IP, or permissions for action.".into(),
        }
    }

    /// -2014: the key is not even shaped like one.
    pub fn bad_key_format() -> Self {
        Self {
            status: 401,
            code: -2014,
            msg: "API-key format invalid.".into(),
        }
    }

    /// -1022: signature mismatch.
    pub fn bad_signature() -> Self {
        Self::bad(-1022, "Signature for this request is not valid.")
    }

    /// -2013: no such order.
    pub fn no_such_order() -> Self {
        Self::bad(-2013, "Order does not exist.")
    }

    /// -2011: a cancel of an order that is unknown or no longer open.
    pub fn unknown_order() -> Self {
        Self::bad(-2011, "Unknown order sent.")
    }

    /// 503 -1000: the market data files the answer needs cannot be read (a server-side
    /// failure: the contract's "Internal error; unable to process your request. Please try
    /// again.", which a client may resend). Logged with the reason; nothing was changed.
    pub fn unavailable(e: &impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "answered 503: market data unavailable");
        Self {
            status: 503,
            code: -1000,
            msg: "Internal error; unable to process your request. Please try again.".into(),
        }
    }

    /// -2019: not enough margin.
    pub fn margin() -> Self {
        Self::bad(-2019, "Margin is insufficient.")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(json!({"code": self.code, "msg": self.msg}))).into_response()
    }
}
