//! Every path the simulator serves. A REST handler parses its typed request
//! ([`crate::params`]), asks the exchange or the market data, and renders the reply
//! ([`crate::replies`]); [`super::endpoint`] wraps it with what every request goes through.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;

use super::Shared;
use super::admin::{self, admin_account, admin_clock, admin_drop_streams, admin_faults};
use super::auth::{Caller, Sec, account};
use super::client_endpoints as extra;
use super::endpoint::{Weight, endpoint, per_symbol};
use super::listen_keys::listen_key;
use crate::error::ApiError;
use crate::info;
use crate::params::{
    AllAlgoOrders, AllOrders, Amendments, BatchModify, BatchOrders, CancelBatch, Depth,
    FundingRate, Income, Klines, ModifyOrder, NewAlgoOrder, NewOrder, OrderLookup, OrderRef,
    Params, SetLeverage, SetMarginType, SetPositionMode, SymbolFilter, UserTrades,
};
use crate::replies::{self, account as account_reply, trading};
use crate::streams;

macro_rules! route {
    ($sec:expr, $weight:expr, $f:expr) => {
        |State(s): State<Arc<Shared>>,
         method: Method,
         uri: axum::http::Uri,
         headers: HeaderMap,
         RawQuery(q): RawQuery,
         body: Bytes| async move {
            endpoint(
                &s,
                $sec,
                $weight.into(),
                &method,
                uri.path(),
                &headers,
                q,
                &body,
                $f,
            )
            .await
        }
    };
}

/// The router with every endpoint. Each handler parses its typed request, asks the exchange
/// (or the market data) and renders the reply.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/fapi/v1/ping",
            get(route!(Sec::None, 1, |_, _| Ok(replies::empty()))),
        )
        .route(
            "/fapi/v1/time",
            get(route!(Sec::None, 1, |s: &Shared, _| Ok(
                replies::server_time(s.clock.now_ms())
            ))),
        )
        .route(
            "/fapi/v1/exchangeInfo",
            get(route!(Sec::None, 1, |s: &Shared, _| {
                let (ex, now) = s.locked();
                Ok(info::exchange_info(&ex.market, now))
            })),
        )
        .route(
            "/fapi/v1/klines",
            get(route!(
                Sec::None,
                Weight::By(klines_weight),
                |s: &Shared, c: &Caller| {
                    let req = Klines::parse(&c.params)?;
                    let (ex, now) = s.locked();
                    info::klines(&ex.market, &req, now)
                }
            )),
        )
        .route(
            "/fapi/v1/ticker/price",
            get(route!(
                Sec::None,
                Weight::By(|p| per_symbol(p, 1, 2)),
                ticker_price
            )),
        )
        .route(
            "/fapi/v2/ticker/price",
            get(route!(
                Sec::None,
                Weight::By(|p| per_symbol(p, 1, 2)),
                ticker_price
            )),
        )
        .route(
            "/fapi/v1/premiumIndex",
            get(route!(
                Sec::None,
                Weight::By(|p| per_symbol(p, 1, 10)),
                |s: &Shared, c: &Caller| {
                    let (ex, now) = s.locked();
                    info::premium_index(&ex.market, &SymbolFilter::parse(&c.params), now)
                }
            )),
        )
        .route(
            "/fapi/v1/fundingRate",
            get(route!(Sec::None, 1, |s: &Shared, c: &Caller| {
                let req = FundingRate::parse(&c.params)?;
                let (ex, now) = s.locked();
                info::funding_rate(&ex.market, &req, now)
            })),
        )
        .route(
            "/fapi/v1/allAlgoOrders",
            get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = AllAlgoOrders::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::algos(&ex.all_algo_orders(a, &req, now)?))
            })),
        )
        .route(
            "/fapi/v1/algoOpenOrders",
            axum::routing::delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let symbol = c.params.req("symbol")?;
                let (mut ex, now) = s.locked();
                ex.cancel_all_algo(a, symbol, now)?;
                Ok(replies::all_cancelled())
            })),
        )
        .route(
            "/fapi/v1/depth",
            get(route!(
                Sec::None,
                Weight::By(depth_weight),
                |s: &Shared, c: &Caller| {
                    let req = Depth::parse(&c.params)?;
                    let (ex, now) = s.locked();
                    info::depth(&ex.market, &req, now)
                }
            )),
        )
        .route(
            "/fapi/v3/account",
            get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                account_view(s, c, false)
            })),
        )
        .route(
            "/fapi/v2/account",
            get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                account_view(s, c, true)
            })),
        )
        .route(
            "/fapi/v3/balance",
            get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let (mut ex, now) = s.locked();
                Ok(account_reply::balance(&ex.balance(a, now), now))
            })),
        )
        .route(
            "/fapi/v3/positionRisk",
            get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let filter = SymbolFilter::parse(&c.params);
                let (mut ex, now) = s.locked();
                Ok(account_reply::position_risk(&ex.position_risk(
                    a,
                    filter.get(),
                    now,
                )))
            })),
        )
        .route(
            "/fapi/v1/positionSide/dual",
            get(route!(Sec::Signed, 30, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                Ok(account_reply::position_mode(
                    s.exchange().accounts[a].dual_side,
                ))
            }))
            .post(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = SetPositionMode::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                ex.set_position_mode(a, req, now)?;
                Ok(replies::success())
            })),
        )
        .route(
            "/fapi/v1/ticker/24hr",
            get(route!(
                Sec::None,
                Weight::By(|p| per_symbol(p, 1, 40)),
                |s: &Shared, c: &Caller| {
                    let filter = SymbolFilter::parse(&c.params);
                    let (ex, now) = s.locked();
                    info::ticker_24hr(&ex.market, &filter, now)
                }
            )),
        )
        .route(
            "/fapi/v1/multiAssetsMargin",
            get(route!(Sec::Signed, 30, |_, c: &Caller| {
                account(c)?;
                Ok(account_reply::multi_assets_margin())
            })),
        )
        .route(
            "/fapi/v1/leverage",
            post(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = SetLeverage::parse(&c.params)?;
                let cap = s.exchange().set_leverage(a, &req)?;
                Ok(account_reply::leverage(&req.symbol, req.leverage, cap))
            })),
        )
        .route(
            "/fapi/v1/marginType",
            post(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = SetMarginType::parse(&c.params)?;
                s.exchange().set_margin_type(a, &req)?;
                Ok(replies::success())
            })),
        )
        .route(
            "/fapi/v1/order",
            // IP weight 0: new and modified orders count against the order limits instead.
            post(route!(Sec::Signed, 0, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = NewOrder::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::new_order(
                    &ex.new_order(a, &req, now)?,
                    req.resp_type,
                ))
            }))
            .get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = OrderLookup::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::order(ex.query_order(a, &req, now)?, true))
            }))
            .delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                // A cancel answers -2011 whatever kept it from finding the order.
                let req = OrderLookup::parse(&c.params).map_err(|_| ApiError::unknown_order())?;
                let (mut ex, now) = s.locked();
                Ok(trading::order(&ex.cancel_order(a, &req, now)?, true))
            }))
            .put(route!(Sec::Signed, 0, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = ModifyOrder::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::modified(&ex.modify_order(a, &req, now)?, &req))
            })),
        )
        .route(
            "/fapi/v1/orderAmendment",
            get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = Amendments::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::amendments(&ex.order_amendments(a, &req, now)?))
            })),
        )
        .route(
            "/fapi/v1/ticker/bookTicker",
            get(route!(
                Sec::None,
                Weight::By(|p| per_symbol(p, 2, 5)),
                |s: &Shared, c: &Caller| {
                    let filter = SymbolFilter::parse(&c.params);
                    let (ex, now) = s.locked();
                    info::book_ticker(&ex.market, &filter, now)
                }
            )),
        )
        .route(
            "/fapi/v1/openOrders",
            get(route!(
                Sec::Signed,
                Weight::By(|p| per_symbol(p, 1, 40)),
                |s: &Shared, c: &Caller| {
                    let a = account(c)?;
                    let filter = SymbolFilter::parse(&c.params);
                    let (mut ex, now) = s.locked();
                    Ok(trading::orders(&ex.open_orders(a, filter.get(), now)))
                }
            )),
        )
        .route(
            "/fapi/v1/batchOrders",
            post(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = BatchOrders::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::batch_placed(&req, &ex.batch_orders(a, &req, now)))
            }))
            .put(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = BatchModify::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::batch_modified(
                    &req,
                    &ex.batch_modify(a, &req, now),
                ))
            }))
            .delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = CancelBatch::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(replies::batch(&ex.cancel_batch(a, &req, now)?, |o| {
                    trading::order(o, true)
                }))
            })),
        )
        .route(
            "/fapi/v1/leverageBracket",
            get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                account(c)?;
                let filter = SymbolFilter::parse(&c.params);
                let ex = s.exchange();
                match filter.get() {
                    Some(symbol) => Ok(account_reply::brackets(ex.spec(symbol)?)),
                    None => Ok(Value::Array(
                        ex.market
                            .symbols()
                            .into_iter()
                            .filter_map(|s| ex.market.spec(s))
                            .map(account_reply::brackets)
                            .collect(),
                    )),
                }
            })),
        )
        .route(
            "/fapi/v1/allOrders",
            get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = AllOrders::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::orders(&ex.all_orders(a, &req, now)?))
            })),
        )
        .route(
            "/fapi/v1/allOpenOrders",
            axum::routing::delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let symbol = c.params.req("symbol")?;
                let (mut ex, now) = s.locked();
                ex.cancel_all(a, symbol, now)?;
                Ok(replies::all_cancelled())
            })),
        )
        .route(
            "/fapi/v1/openAlgoOrders",
            get(route!(
                Sec::Signed,
                Weight::By(|p| per_symbol(p, 1, 40)),
                |s: &Shared, c: &Caller| {
                    let a = account(c)?;
                    let filter = SymbolFilter::parse(&c.params);
                    let (mut ex, now) = s.locked();
                    Ok(trading::algos(&ex.open_algo_orders(a, filter.get(), now)))
                }
            )),
        )
        .route(
            "/fapi/v1/algoOrder",
            post(route!(Sec::Signed, 0, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = NewAlgoOrder::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::algo(&ex.new_algo_order(a, &req, now)?))
            }))
            .get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let by = OrderRef::algo(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::algo(ex.query_algo(a, &by, now)?))
            }))
            .delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                // A cancel answers -2011 whatever kept it from finding the order.
                let by = OrderRef::algo(&c.params).map_err(|_| ApiError::unknown_order())?;
                let (mut ex, now) = s.locked();
                Ok(trading::algo_cancelled(&ex.cancel_algo(a, &by, now)?))
            })),
        )
        .route(
            "/fapi/v1/userTrades",
            get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = UserTrades::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::trades(&ex.user_trades(a, &req, now)?))
            })),
        )
        .route(
            "/fapi/v1/income",
            get(route!(Sec::Signed, 30, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = Income::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(account_reply::income(&ex.income(a, &req, now)))
            })),
        )
        .route(
            "/sapi/v1/account/apiRestrictions",
            get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                Ok(account_reply::api_restrictions(
                    &s.exchange().accounts[a].permissions,
                ))
            })),
        )
        .route(
            "/fapi/v1/listenKey",
            post(route!(Sec::Key, 1, |s: &Shared, c: &Caller| listen_key(
                s,
                c,
                Method::POST
            )))
            .put(route!(Sec::Key, 1, |s: &Shared, c: &Caller| listen_key(
                s,
                c,
                Method::PUT
            )))
            .delete(route!(Sec::Key, 1, |s: &Shared, c: &Caller| listen_key(
                s,
                c,
                Method::DELETE
            ))),
        )
        .route(
            "/fapi/v1/openOrder",
            get(route!(Sec::Signed, 1, extra::open_order)),
        )
        .route(
            "/fapi/v1/countdownCancelAll",
            post(route!(Sec::Signed, 10, extra::countdown_cancel_all)),
        )
        .route(
            "/fapi/v1/commissionRate",
            get(route!(Sec::Signed, 20, extra::commission_rate)),
        )
        .route(
            "/fapi/v2/balance",
            get(route!(Sec::Signed, 5, extra::balance_v2)),
        )
        .route(
            "/fapi/v2/positionRisk",
            get(route!(Sec::Signed, 5, extra::position_risk_v2)),
        )
        .route(
            "/fapi/v1/symbolConfig",
            get(route!(Sec::Signed, 5, extra::symbol_config)),
        )
        .route(
            "/fapi/v1/accountConfig",
            get(route!(Sec::Signed, 5, extra::account_config)),
        )
        .route(
            "/fapi/v1/order/test",
            post(route!(Sec::Signed, 1, extra::test_order)),
        )
        .route(
            "/fapi/v1/markPriceKlines",
            get(route!(
                Sec::None,
                Weight::By(klines_weight),
                |s: &Shared, c: &Caller| { extra::price_klines(s, c, "symbol") }
            )),
        )
        .route(
            "/fapi/v1/indexPriceKlines",
            get(route!(
                Sec::None,
                Weight::By(klines_weight),
                |s: &Shared, c: &Caller| { extra::price_klines(s, c, "pair") }
            )),
        )
        .route(
            "/fapi/v1/positionMargin",
            post(route!(Sec::Signed, 1, extra::position_margin)),
        )
        .route(
            "/fapi/v1/positionMargin/history",
            get(route!(Sec::Signed, 1, extra::margin_history)),
        )
        .route("/private/ws", get(streams::private))
        .route("/private/ws/{listen_key}", get(streams::private_path))
        .route("/private/stream", get(streams::private_stream))
        .route("/market/stream", get(streams::market_combined))
        .route("/market/ws", get(streams::market_bare))
        .route("/market/ws/{*streams}", get(streams::market_raw))
        .route("/public/stream", get(streams::public_combined))
        .route("/public/ws", get(streams::public_bare))
        .route("/public/ws/{*streams}", get(streams::public_raw))
        .route("/stream", get(streams::legacy_combined))
        .route("/ws", get(streams::legacy_bare))
        .route("/ws/{*streams}", get(streams::legacy_raw))
        .merge(
            Router::new()
                .route("/admin/accounts", post(admin_account))
                .route("/admin/clock", post(admin_clock))
                .route("/admin/faults", post(admin_faults))
                .route("/admin/streams/drop", post(admin_drop_streams))
                .route_layer(axum::middleware::from_fn_with_state(
                    shared.clone(),
                    admin::guard,
                )),
        )
        .fallback(|| async {
            ApiError {
                status: 404,
                code: -1000,
                msg: "Unknown endpoint.".into(),
            }
            .into_response()
        })
        .method_not_allowed_fallback(|| async {
            ApiError {
                status: 405,
                code: -1020,
                msg: "This operation is not supported.".into(),
            }
            .into_response()
        })
        .layer(axum::middleware::from_fn(http_limits))
        .with_state(shared)
}

/// The longest request target (path and query) served; a longer one is 414. Hyper itself
/// refuses targets past 64 KiB with an empty 414 before any handler runs, so the limit sits
/// under that to answer in Binance's JSON.
const MAX_TARGET: usize = 16 * 1024;

/// Every refusal is Binance's JSON `{code, msg}` (CONTRACT.md 3.1: "4XX … Body
/// `{"code":<neg int>,"msg":"…"}`"), also the 414 of a long target and the 413 that axum's
/// body limit answers in plain text. Binance's table has no code of its own for either;
/// -1101 TOO_MANY_PARAMETERS names what such a request carries (our choice).
async fn http_limits(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let too_much = || ApiError {
        status: 0,
        code: -1101,
        msg: "Too many parameters sent for this endpoint.".into(),
    };
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if target > MAX_TARGET {
        return ApiError {
            status: 414,
            ..too_much()
        }
        .into_response();
    }
    let response = next.run(request).await;
    if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError {
            status: 413,
            ..too_much()
        }
        .into_response();
    }
    response
}

/// `GET /fapi/v1/depth`'s weight by `limit` (CONTRACT.md 4, endpoint 4): 5 to 50 levels
/// weigh 2, 100 weigh 5, 500 (the default) 10, 1000 20.
fn depth_weight(p: &Params) -> u32 {
    match p.int("limit").ok().flatten().unwrap_or(500) {
        ..=50 => 2,
        51..=100 => 5,
        101..=500 => 10,
        _ => 20,
    }
}

/// The klines' weight by `limit` (CONTRACT.md 4, endpoint 5): under 100 weighs 1, under 500
/// 2, up to 1000 5 (the default 500 included), more 10.
fn klines_weight(p: &Params) -> u32 {
    match p.int("limit").ok().flatten().unwrap_or(500) {
        ..=99 => 1,
        100..=499 => 2,
        500..=1000 => 5,
        _ => 10,
    }
}

/// `GET /fapi/v1/ticker/price` (v1 and v2).
fn ticker_price(s: &Shared, c: &Caller) -> Result<Value, ApiError> {
    let (ex, now) = s.locked();
    info::ticker_price(&ex.market, &SymbolFilter::parse(&c.params), now)
}

/// `GET /fapi/v3/account`, or v2 with its extra fields.
fn account_view(s: &Shared, c: &Caller, v2: bool) -> Result<Value, ApiError> {
    let a = account(c)?;
    let (mut ex, now) = s.locked();
    Ok(account_reply::account(&ex.account(a, now), v2, now))
}
