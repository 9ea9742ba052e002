//! What every REST request goes through, around its handler: injected faults, the weight
//! charge, authentication, the order limits, and Binance's headers on the reply.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::Shared;
use super::auth::{Caller, Sec, authenticate};
use super::limits::{charge, count_orders, order_weight};
use crate::error::ApiError;
use crate::params::Params;

/// An endpoint's request weight: fixed, or grown by what the request asks for (`limit`, or
/// every symbol when `symbol` is left out; CONTRACT.md 4, endpoint table).
#[derive(Clone, Copy)]
pub(super) enum Weight {
    /// The same for every request.
    Fixed(u32),
    /// Read from the request's parameters.
    By(fn(&Params) -> u32),
}

impl From<u32> for Weight {
    fn from(w: u32) -> Self {
        Self::Fixed(w)
    }
}

impl Weight {
    /// The weight of a request with this query and body. A request whose parameters do not
    /// parse is refused before it does any work, so it weighs what one without them would.
    fn of(self, query: &str, body: &[u8]) -> u32 {
        match self {
            Self::Fixed(w) => w,
            Self::By(f) => {
                let body = std::str::from_utf8(body).unwrap_or("");
                f(&Params::parse(query, body).unwrap_or_default())
            }
        }
    }
}

/// `weight` with a symbol, `all` without (the all-symbol forms of the market and order
/// lists).
pub(super) fn per_symbol(p: &Params, one: u32, all: u32) -> u32 {
    if p.has("symbol") { one } else { all }
}

/// Runs `f` for an endpoint with its security and weight, and adds Binance's headers.
#[allow(clippy::too_many_arguments)] // every argument is one part of the HTTP request
pub(super) async fn endpoint(
    shared: &Shared,
    sec: Sec,
    weight: Weight,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    query: Option<String>,
    body: &Bytes,
    f: impl FnOnce(&Shared, &Caller) -> Result<Value, ApiError>,
) -> Response {
    use crate::faults::FaultKind;
    let fault = shared
        .faults
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .decide(method.as_str(), path);
    match fault {
        Some(FaultKind::Latency { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await
        }
        Some(FaultKind::UnavailableBeforeExecute) => {
            return ApiError {
                status: 503,
                code: -1001,
                msg: "Service Unavailable.".into(),
            }
            .into_response();
        }
        Some(FaultKind::RateLimited) => {
            let msg = "Too many requests; current limit is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API.";
            let mut r = ApiError {
                status: 429,
                code: -1003,
                msg: msg.into(),
            }
            .into_response();
            r.headers_mut().insert("Retry-After", HeaderValue::from(1));
            return r;
        }
        _ => {}
    }
    let weight = weight.of(query.as_deref().unwrap_or(""), body);
    let used = match charge(shared, weight) {
        Ok(used) => used,
        Err((error, retry_after)) => {
            let mut r = error.into_response();
            if let Some(secs) = retry_after {
                r.headers_mut()
                    .insert("Retry-After", HeaderValue::from(secs));
            }
            return r;
        }
    };
    let mut order_counts = None;
    let mut retry_after = None;
    let outcome = authenticate(shared, sec, headers, query.as_deref().unwrap_or(""), body)
        .and_then(|caller| {
            if let (Some(weight), Some(account)) = (order_weight(method, path), caller.account) {
                let counts = count_orders(shared, account, weight).map_err(|(e, retry)| {
                    retry_after = retry;
                    e
                })?;
                order_counts = Some(counts);
            }
            f(shared, &caller)
        });
    shared.tick();
    let outcome_ok = outcome.is_ok();
    let mut response = match outcome {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert("X-MBX-USED-WEIGHT-1M", HeaderValue::from(used));
    if let Some(secs) = retry_after {
        headers.insert("Retry-After", HeaderValue::from(secs));
    }
    // Binance sends the order counts on successful orders only.
    if let Some((ten_s, minute)) = order_counts.filter(|_| outcome_ok) {
        headers.insert("X-MBX-ORDER-COUNT-10S", HeaderValue::from(ten_s));
        headers.insert("X-MBX-ORDER-COUNT-1M", HeaderValue::from(minute));
    }
    match fault {
        Some(FaultKind::UnknownAfterExecute) => ApiError {
            status: 503,
            code: -1000,
            msg: "Unknown error, please check your request or try again later.".into(),
        }
        .into_response(),
        Some(FaultKind::TimeoutAfterExecute { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            response
        }
        _ => response,
    }
}
