//! Handlers of the endpoints third-party clients call that perpdesk's own client does not:
//! `openOrder`, `countdownCancelAll`, `commissionRate`, v2 `balance` and `positionRisk`,
//! `symbolConfig`, `accountConfig`, `order/test`, mark and index price klines, and
//! `positionMargin` with its history. [`super::routes`] gives each its path and weight.

use serde_json::Value;

use super::Shared;
use super::auth::{Caller, account};
use crate::error::ApiError;
use crate::params::account::{countdown, margin_adjust};
use crate::params::{Klines, MarginHistory, NewOrder, OrderLookup, SymbolFilter};
use crate::replies::{account as account_reply, trading};

/// The span `positionMargin/history` covers without `startTime` (Binance keeps 30 days).
const MARGIN_HISTORY_SPAN_MS: i64 = 30 * 86_400_000;

/// `GET /fapi/v1/openOrder`: one order, only while it is open.
///
/// # Errors
/// -2013 when there is no such order or it is no longer open (CONTRACT.md 4, endpoint 27).
pub(super) fn open_order(s: &Shared, c: &Caller) -> Result<Value, ApiError> {
    let a = account(c)?;
    let req = OrderLookup::parse(&c.params)?;
    let (mut ex, now) = s.locked();
    let order = ex.query_order(a, &req, now)?;
    if !order.is_open() {
        return Err(ApiError::no_such_order());
    }
    Ok(trading::order(order, true))
}

/// `POST /fapi/v1/countdownCancelAll`. The countdown runs in wall time, as Binance's does:
/// a client renewing it every few seconds keeps it alive whatever the replay's speed.
///
/// # Errors
/// -1102/-1130 for a missing or malformed parameter, -1121 an unknown symbol.
pub(super) fn countdown_cancel_all(s: &Shared, c: &Caller) -> Result<Value, ApiError> {
    let a = account(c)?;
    let (symbol, ms) = countdown(&c.params)?;
    // Replay ms per wall ms; a whole number of replay ms is precise enough for a timer.
    #[allow(clippy::cast_possible_truncation)]
    let replay_ms = (ms as f64 * s.clock.speed()).round() as i64;
    let (mut ex, now) = s.locked();
    let deadline = (ms > 0).then(|| now.saturating_add(replay_ms));
    ex.set_countdown(a, &symbol, deadline, now)?;
    Ok(account_reply::countdown(&symbol, ms))
}

/// `GET /fapi/v1/commissionRate`.
///
/// # Errors
/// -1102 without `symbol`, -1121 an unknown one.
pub(super) fn commission_rate(s: &Shared, c: &Caller) -> Result<Value, ApiError> {
    account(c)?;
    let symbol = c.params.string("symbol")?;
    let ex = s.exchange();
    ex.spec(&symbol)?;
    Ok(account_reply::commission_rate(&symbol, &ex.fees))
}

/// `GET /fapi/v2/positionRisk`: every listed symbol, with or without a position.
///
/// # Errors
/// -1121 for an unknown `symbol`.
pub(super) fn position_risk_v2(s: &Shared, c: &Caller) -> Result<Value, ApiError> {
    let a = account(c)?;
    let filter = SymbolFilter::parse(&c.params);
    let (mut ex, now) = s.locked();
    Ok(account_reply::position_risk_v2(&ex.position_risk_all(
        a,
        filter.get(),
        now,
    )?))
}

/// `GET /fapi/v1/symbolConfig`: margin type, leverage and its notional cap per symbol.
///
/// # Errors
/// -1121 for an unknown `symbol`.
pub(super) fn symbol_config(s: &Shared, c: &Caller) -> Result<Value, ApiError> {
    let a = account(c)?;
    let filter = SymbolFilter::parse(&c.params);
    let (ex, now) = s.locked();
    if let Some(symbol) = filter.get() {
        ex.spec(symbol)?;
    }
    let rows = ex
        .market
        .symbols_at(now)
        .into_iter()
        .filter(|sym| filter.get().is_none_or(|x| x == *sym))
        .map(|sym| ex.symbol_config(a, sym))
        .collect::<Vec<_>>();
    Ok(account_reply::symbol_config(&rows))
}

/// `GET /fapi/v1/accountConfig`.
///
/// # Errors
/// -2015 without an account.
pub(super) fn account_config(s: &Shared, c: &Caller) -> Result<Value, ApiError> {
    let a = account(c)?;
    let ex = s.exchange();
    let acct = &ex.accounts[a];
    Ok(account_reply::account_config(
        &acct.permissions,
        acct.dual_side,
    ))
}

/// `POST /fapi/v1/order/test`: the order's every check, nothing placed.
///
/// # Errors
/// Whatever `POST /fapi/v1/order` would refuse.
pub(super) fn test_order(s: &Shared, c: &Caller) -> Result<Value, ApiError> {
    let a = account(c)?;
    let req = NewOrder::parse(&c.params)?;
    let (mut ex, now) = s.locked();
    Ok(trading::order(&ex.test_order(a, &req, now)?, false))
}

/// `GET /fapi/v1/markPriceKlines` (`symbol`) and `/fapi/v1/indexPriceKlines` (`pair`).
///
/// # Errors
/// -1102/-1130 for a missing or malformed parameter, -1121 an unknown symbol, -1120 a bad
/// interval.
pub(super) fn price_klines(s: &Shared, c: &Caller, instrument: &str) -> Result<Value, ApiError> {
    let req = Klines::parse_for(&c.params, instrument)?;
    let (ex, now) = s.locked();
    crate::info::mark_klines(&ex.market, &req, now)
}

/// `POST /fapi/v1/positionMargin`.
///
/// # Errors
/// As [`crate::exchange::Exchange::adjust_margin`], and the parameters' own.
pub(super) fn position_margin(s: &Shared, c: &Caller) -> Result<Value, ApiError> {
    let a = account(c)?;
    let req = margin_adjust(&c.params)?;
    let (mut ex, now) = s.locked();
    ex.adjust_margin(a, &req, now)?;
    Ok(account_reply::margin_adjusted(&req))
}

/// `GET /fapi/v1/positionMargin/history`.
///
/// # Errors
/// -1102 without `symbol`, -1130 a malformed parameter.
pub(super) fn margin_history(s: &Shared, c: &Caller) -> Result<Value, ApiError> {
    let a = account(c)?;
    let req = MarginHistory::parse(&c.params)?;
    let (mut ex, now) = s.locked();
    let end = req.end.unwrap_or(now);
    let start = req
        .start
        .unwrap_or_else(|| end.saturating_sub(MARGIN_HISTORY_SPAN_MS));
    let rows = ex.margin_history(a, &req.symbol, req.add, (start, end), req.limit, now);
    Ok(account_reply::margin_history(&rows))
}

/// `GET /fapi/v2/balance`: the v3 reply (the two agree field for field).
pub(super) fn balance_v2(s: &Shared, c: &Caller) -> Result<Value, ApiError> {
    let a = account(c)?;
    let (mut ex, now) = s.locked();
    Ok(account_reply::balance(&ex.balance(a, now), now))
}
