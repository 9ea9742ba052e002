//! Rate limits: request weight per IP and minute (429, then a 418 ban for clients that keep
//! going) and new orders per account in 10-second and 1-minute windows (429 -1015 past
//! either), both on the wall clock as Binance counts them. The ban's end is told in server
//! time, the clock a client syncs to.

use axum::http::Method;

use super::Shared;
use crate::error::ApiError;

/// Request weight allowed per minute from one IP (Binance: 2400).
pub(super) const WEIGHT_LIMIT: u32 = 2400;
/// Requests past a 429 in the same minute that earn a ban (Binance bans "continuing" clients).
const BAN_AFTER_EXTRA: u32 = 200;
/// How long a ban lasts (Binance: 2 minutes to 3 days, growing with repeat offences).
const BAN_MS: i64 = 120_000;
/// New orders allowed per account in 10 seconds and in a minute: Binance's `ORDERS` limits
/// as exchangeInfo lists them (CONTRACT.md 3.2; the 10-second figure is the live one).
pub(super) const ORDER_LIMIT_10S: u32 = 300;
pub(super) const ORDER_LIMIT_1M: u32 = 1200;

#[derive(Debug, Default)]
pub(super) struct Limits {
    minute: i64,
    used: u32,
    banned_until: i64,
    /// New-order counts per account (Binance counts orders per account, weight per IP).
    orders: std::collections::HashMap<usize, OrderCount>,
}

/// One account's order counts in the current 10-second and 1-minute wall-clock windows.
#[derive(Debug, Default, Clone, Copy)]
struct OrderCount {
    ten_s_window: i64,
    ten_s: u32,
    minute_window: i64,
    minute: u32,
}

/// How much an endpoint counts against the order limits, per the contract's endpoint
/// table: (10-second count, 1-minute count). Batch placement counts 5 and 1 whatever the
/// number of items; cancels and queries count nothing.
pub(super) fn order_weight(method: &Method, path: &str) -> Option<(u32, u32)> {
    match (method.as_str(), path) {
        ("POST" | "PUT", "/fapi/v1/order") | ("POST", "/fapi/v1/algoOrder") => Some((1, 1)),
        ("POST" | "PUT", "/fapi/v1/batchOrders") => Some((5, 1)),
        _ => None,
    }
}

fn wall_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A limit refusal: the error and, for 429, the seconds to wait.
pub(super) type Refusal = (ApiError, Option<i64>);

/// Counts weight per wall-clock minute; 429 above the limit, 418 for clients that keep going.
pub(super) fn charge(shared: &Shared, weight: u32) -> Result<u32, Refusal> {
    let now = wall_ms();
    let (server, speed) = (shared.clock.now_ms(), shared.clock.speed());
    let mut l = shared
        .limits
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if l.banned_until > now {
        // The ban runs out in wall time; a running replay clock covers `speed` times as much
        // by then (in wall time mode the two are the same).
        let left = (l.banned_until - now) as f64 * speed;
        let until = server.saturating_add(left.ceil() as i64);
        let msg = format!(
            "Way too many requests; IP banned until {until}. Please use the websocket for live updates to avoid bans."
        );
        return Err((
            ApiError {
                status: 418,
                code: -1003,
                msg,
            },
            None,
        ));
    }
    let minute = now.div_euclid(60_000);
    if minute != l.minute {
        l.minute = minute;
        l.used = 0;
    }
    l.used += weight;
    let limit = shared
        .weight_limit
        .load(std::sync::atomic::Ordering::Relaxed);
    if l.used > limit.saturating_add(BAN_AFTER_EXTRA) {
        l.banned_until = now + BAN_MS;
    }
    if l.used > limit {
        let retry = 60 - (now.rem_euclid(60_000) / 1000);
        let msg = format!(
            "Too many requests; current limit is {limit} requests per minute. Please use the websocket for live updates to avoid polling the API."
        );
        return Err((
            ApiError {
                status: 429,
                code: -1003,
                msg,
            },
            Some(retry),
        ));
    }
    Ok(l.used)
}

/// Counts an order request of `account` in the current windows: the counts after it, or
/// Binance's 429 -1015 when either limit would be passed (the request is then not counted
/// and not executed). Windows run on the wall clock, like the weight's.
pub(super) fn count_orders(
    shared: &Shared,
    account: usize,
    (ten_s, minute): (u32, u32),
) -> Result<(u32, u32), Refusal> {
    let now = wall_ms();
    let (limit_10s, limit_1m) = *shared
        .order_limits
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut l = shared
        .limits
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let c = l.orders.entry(account).or_default();
    let (w10, w60) = (now.div_euclid(10_000), now.div_euclid(60_000));
    if c.ten_s_window != w10 {
        c.ten_s_window = w10;
        c.ten_s = 0;
    }
    if c.minute_window != w60 {
        c.minute_window = w60;
        c.minute = 0;
    }
    let refusal = if c.ten_s.saturating_add(ten_s) > limit_10s {
        Some((limit_10s, "10 SECOND", 10 - now.rem_euclid(10_000) / 1000))
    } else if c.minute.saturating_add(minute) > limit_1m {
        Some((limit_1m, "1 MINUTE", 60 - now.rem_euclid(60_000) / 1000))
    } else {
        None
    };
    if let Some((limit, interval, retry)) = refusal {
        let msg = format!("Too many new orders; current limit is {limit} orders per {interval}.");
        return Err((
            ApiError {
                status: 429,
                code: -1015,
                msg,
            },
            Some(retry),
        ));
    }
    c.ten_s += ten_s;
    c.minute += minute;
    Ok((c.ten_s, c.minute))
}
