//! [`Raw`]: one method per endpoint, named after it, taking and returning wire types.
//!
//! This is the layer a tool or a test uses to drive an exchange as any client would. perpdesk's
//! app never names it (a test in `crates/app` checks): it goes through [`super::Client`].

use std::sync::Arc;

use serde_json::Value;

use super::convert;
use super::domain::Placed;
use crate::endpoints as ep;
use crate::error::{ExchangeError, RejectKind};
use crate::idempotent::{LookupPolicy, place_exactly_once};
use crate::rest::RestClient;
use crate::wire::account::{
    Account, ApiRestrictions, Balance, Income, LeverageBracket, LeverageChange, MultiAssetsMode,
    PositionMode, PositionRisk,
};
use crate::wire::algo::{AlgoCancel, AlgoOrder, AlgoOrderRef, NewAlgoOrderRequest};
use crate::wire::market::{
    ExchangeInfo, FundingRate, Kline, OrderBook, PremiumIndex, ServerTime, Ticker24hr, TickerPrice,
};
use crate::wire::trade::{BatchOrderResult, NewOrderRequest, Order, OrderRef, UserTrade};
use crate::wire::{CodeMsg, OneOrMany};

/// Endpoint-named calls. Every method documents its endpoint; parameters keep Binance's names.
#[derive(Debug, Clone)]
pub struct Raw {
    rest: Arc<RestClient>,
    lookup: LookupPolicy,
}

impl Raw {
    /// Wraps a transport with the default lookup policy.
    pub fn new(rest: Arc<RestClient>) -> Self {
        Self {
            rest,
            lookup: LookupPolicy::default(),
        }
    }

    pub(super) fn set_lookup_policy(&mut self, lookup: LookupPolicy) {
        self.lookup = lookup;
    }

    /// Places `order` exactly once, whatever it is: conditional kinds go to the algo
    /// endpoint, the rest to the order endpoint, both with the order's client id; an unknown
    /// outcome is looked up by that id before anything is sent again.
    ///
    /// Nothing checks the order first: this is for tools and tests that drive an exchange as
    /// another client would. perpdesk's own orders go through [`super::Client::place_order`],
    /// which takes only risk-approved requests.
    ///
    /// # Errors
    /// [`ExchangeError::Rejected`] when Binance refused it; `UnknownExecution` when its fate
    /// could not be learned (the caller must not place it again under another id).
    pub async fn place_order(
        &self,
        order: &perpdesk_core::OrderRequest,
    ) -> Result<Placed, ExchangeError> {
        let symbol = order.symbol.as_str().to_owned();
        let id = order.client_order_id.as_str().to_owned();
        if order.kind.is_conditional() {
            let request = convert::algo_request(order);
            let reference = AlgoOrderRef::ClientAlgoId(id);
            place_exactly_once(
                || async { self.new_algo_order(&request).await.map(Placed::Algo) },
                || async { found(self.query_algo_order(&reference).await.map(Placed::Algo)) },
                self.lookup,
            )
            .await
        } else {
            let request = convert::order_request(order);
            let reference = OrderRef::ClientOrderId(id);
            place_exactly_once(
                || async { self.new_order(&request).await.map(Placed::Order) },
                || async {
                    found(
                        self.query_order(&symbol, &reference)
                            .await
                            .map(Placed::Order),
                    )
                },
                self.lookup,
            )
            .await
        }
    }

    /// Looks up the order `order` was placed as, by its client id on the endpoint its kind
    /// goes to; `None` when the exchange has no such order.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn find_order(
        &self,
        order: &perpdesk_core::OrderRequest,
    ) -> Result<Option<Placed>, ExchangeError> {
        let id = order.client_order_id.as_str().to_owned();
        if order.kind.is_conditional() {
            found(
                self.query_algo_order(&AlgoOrderRef::ClientAlgoId(id))
                    .await
                    .map(Placed::Algo),
            )
        } else {
            found(
                self.query_order(order.symbol.as_str(), &OrderRef::ClientOrderId(id))
                    .await
                    .map(Placed::Order),
            )
        }
    }

    /// The transport underneath.
    pub fn rest(&self) -> &Arc<RestClient> {
        &self.rest
    }

    /// `GET /fapi/v1/ping`.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn ping(&self) -> Result<(), ExchangeError> {
        self.rest.call::<Value>(&ep::PING, &[]).await.map(|_| ())
    }

    /// `GET /fapi/v1/exchangeInfo`.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn exchange_info(&self) -> Result<ExchangeInfo, ExchangeError> {
        self.rest.call(&ep::EXCHANGE_INFO, &[]).await
    }

    /// `GET /fapi/v1/klines` for `symbol`, `interval` (e.g. `1h`), at most `limit` (≤ 1500).
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn klines(
        &self,
        symbol: &str,
        interval: &str,
        start_time: Option<i64>,
        end_time: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Kline>, ExchangeError> {
        let mut q = vec![
            ("symbol", symbol.to_owned()),
            ("interval", interval.to_owned()),
        ];
        if let Some(t) = start_time {
            q.push(("startTime", t.to_string()));
        }
        if let Some(t) = end_time {
            q.push(("endTime", t.to_string()));
        }
        q.push(("limit", limit.to_string()));
        self.rest.call(&ep::klines(limit), &q).await
    }

    /// `POST /fapi/v1/order`.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `UnknownExecution` means the order may exist.
    pub async fn new_order(&self, order: &NewOrderRequest) -> Result<Order, ExchangeError> {
        self.rest.call(&ep::ORDER_NEW, &order.to_query()).await
    }

    /// `GET /fapi/v1/order`.
    ///
    /// # Errors
    /// See [`ExchangeError`]; -2013 when there is no such order.
    pub async fn query_order(
        &self,
        symbol: &str,
        order: &OrderRef,
    ) -> Result<Order, ExchangeError> {
        self.rest
            .call(
                &ep::ORDER_QUERY,
                &[("symbol", symbol.to_owned()), order.to_query_pair()],
            )
            .await
    }

    /// `DELETE /fapi/v1/order`.
    ///
    /// # Errors
    /// See [`ExchangeError`]; -2011 when the order is already closed.
    pub async fn cancel_order(
        &self,
        symbol: &str,
        order: &OrderRef,
    ) -> Result<Order, ExchangeError> {
        self.rest
            .call(
                &ep::ORDER_CANCEL,
                &[("symbol", symbol.to_owned()), order.to_query_pair()],
            )
            .await
    }

    /// `POST /fapi/v1/algoOrder`.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `UnknownExecution` means the order may exist.
    pub async fn new_algo_order(
        &self,
        order: &NewAlgoOrderRequest,
    ) -> Result<AlgoOrder, ExchangeError> {
        self.rest.call(&ep::ALGO_ORDER_NEW, &order.to_query()).await
    }

    /// `GET /fapi/v1/algoOrder`.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn query_algo_order(&self, order: &AlgoOrderRef) -> Result<AlgoOrder, ExchangeError> {
        self.rest
            .call(&ep::ALGO_ORDER_QUERY, &[order.to_query_pair()])
            .await
    }

    /// `DELETE /fapi/v1/algoOrder`.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn cancel_algo_order(
        &self,
        order: &AlgoOrderRef,
    ) -> Result<AlgoCancel, ExchangeError> {
        self.rest
            .call(&ep::ALGO_ORDER_CANCEL, &[order.to_query_pair()])
            .await
    }

    /// `POST /fapi/v1/leverage`.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn change_initial_leverage(
        &self,
        symbol: &str,
        leverage: u32,
    ) -> Result<LeverageChange, ExchangeError> {
        self.rest
            .call(
                &ep::LEVERAGE,
                &[
                    ("symbol", symbol.to_owned()),
                    ("leverage", leverage.to_string()),
                ],
            )
            .await
    }

    /// `POST /fapi/v1/marginType` with `ISOLATED` or `CROSSED`.
    ///
    /// # Errors
    /// See [`ExchangeError`]; -4046 when the margin type is already set.
    pub async fn change_margin_type(
        &self,
        symbol: &str,
        margin_type: &str,
    ) -> Result<Value, ExchangeError> {
        self.rest
            .call(
                &ep::MARGIN_TYPE,
                &[
                    ("symbol", symbol.to_owned()),
                    ("marginType", margin_type.to_owned()),
                ],
            )
            .await
    }

    /// `GET /fapi/v3/positionRisk`, all symbols or one.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn position_risk(
        &self,
        symbol: Option<&str>,
    ) -> Result<Vec<PositionRisk>, ExchangeError> {
        let q: Vec<(&str, String)> = symbol
            .map(|s| ("symbol", s.to_owned()))
            .into_iter()
            .collect();
        self.rest.call(&ep::POSITION_RISK, &q).await
    }

    /// `GET /fapi/v1/income` from `start_time`, at most `limit` (≤ 1000) rows.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn income(&self, start_time: i64, limit: u32) -> Result<Vec<Income>, ExchangeError> {
        self.rest
            .call(
                &ep::INCOME,
                &[
                    ("startTime", start_time.to_string()),
                    ("limit", limit.to_string()),
                ],
            )
            .await
    }

    /// `GET /fapi/v1/time`.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn time(&self) -> Result<ServerTime, ExchangeError> {
        self.rest.call(&crate::rest::TIME, &[]).await
    }

    /// `GET /fapi/v2/ticker/price` for one symbol.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn ticker_price(&self, symbol: &str) -> Result<TickerPrice, ExchangeError> {
        self.rest
            .call(&ep::TICKER_PRICE, &[("symbol", symbol.to_owned())])
            .await
    }

    /// `GET /fapi/v1/ticker/24hr` for one symbol: rolling 24 h statistics.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn ticker_24hr(&self, symbol: &str) -> Result<Ticker24hr, ExchangeError> {
        self.rest
            .call(&ep::TICKER_24HR, &[("symbol", symbol.to_owned())])
            .await
    }

    /// `GET /fapi/v1/ticker/24hr` without a symbol: every symbol's 24 h statistics.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn ticker_24hr_all(&self) -> Result<Vec<Ticker24hr>, ExchangeError> {
        self.rest.call(&ep::TICKER_24HR_ALL, &[]).await
    }

    /// `GET /fapi/v1/premiumIndex` for one symbol: mark price and funding.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn premium_index(&self, symbol: &str) -> Result<PremiumIndex, ExchangeError> {
        self.rest
            .call(&ep::PREMIUM_INDEX, &[("symbol", symbol.to_owned())])
            .await
    }

    /// `GET /fapi/v1/fundingRate`: funding history from `start_time`, at most `limit` (≤ 1000).
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn funding_rate(
        &self,
        symbol: &str,
        start_time: Option<i64>,
        limit: u32,
    ) -> Result<Vec<FundingRate>, ExchangeError> {
        let mut q = vec![("symbol", symbol.to_owned())];
        if let Some(t) = start_time {
            q.push(("startTime", t.to_string()));
        }
        q.push(("limit", limit.to_string()));
        self.rest.call(&ep::FUNDING_RATE, &q).await
    }

    /// `GET /fapi/v1/depth` with `limit` levels (5, 10, 20, 50, 100, 500, 1000).
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn depth(&self, symbol: &str, limit: u32) -> Result<OrderBook, ExchangeError> {
        self.rest
            .call(
                &ep::depth(limit),
                &[("symbol", symbol.to_owned()), ("limit", limit.to_string())],
            )
            .await
    }

    /// `GET /fapi/v3/account`.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn account(&self) -> Result<Account, ExchangeError> {
        self.rest.call(&ep::ACCOUNT, &[]).await
    }

    /// `GET /fapi/v3/balance`.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn balance(&self) -> Result<Vec<Balance>, ExchangeError> {
        self.rest.call(&ep::BALANCE, &[]).await
    }

    /// `GET /fapi/v1/positionSide/dual`: whether the account is in hedge mode.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn position_side_dual(&self) -> Result<PositionMode, ExchangeError> {
        self.rest.call(&ep::POSITION_SIDE_DUAL_GET, &[]).await
    }

    /// `POST /fapi/v1/positionSide/dual`: switches hedge mode on or off.
    ///
    /// # Errors
    /// See [`ExchangeError`]; -4059 when already in that mode.
    pub async fn change_position_side_dual(&self, dual: bool) -> Result<CodeMsg, ExchangeError> {
        self.rest
            .call(
                &ep::POSITION_SIDE_DUAL_SET,
                &[("dualSidePosition", dual.to_string())],
            )
            .await
    }

    /// `GET /fapi/v1/multiAssetsMargin`.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn multi_assets_margin(&self) -> Result<MultiAssetsMode, ExchangeError> {
        self.rest.call(&ep::MULTI_ASSETS_MARGIN, &[]).await
    }

    /// `GET /fapi/v1/leverageBracket`, one symbol or all (the reply is an object or an array).
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn leverage_bracket(
        &self,
        symbol: Option<&str>,
    ) -> Result<Vec<LeverageBracket>, ExchangeError> {
        let q: Vec<(&str, String)> = symbol
            .map(|s| ("symbol", s.to_owned()))
            .into_iter()
            .collect();
        Ok(self
            .rest
            .call::<OneOrMany<LeverageBracket>>(&ep::LEVERAGE_BRACKET, &q)
            .await?
            .into_vec())
    }

    /// `POST /fapi/v1/batchOrders`: up to 5 orders; each element is an order or its error.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `UnknownExecution` means any of them may exist.
    pub async fn batch_orders(
        &self,
        orders: &[NewOrderRequest],
    ) -> Result<Vec<BatchOrderResult>, ExchangeError> {
        let batch = Value::Array(
            orders
                .iter()
                .map(NewOrderRequest::to_batch_element)
                .collect(),
        );
        self.rest
            .call(&ep::BATCH_ORDERS, &[("batchOrders", batch.to_string())])
            .await
    }

    /// `GET /fapi/v1/openOrders`, one symbol or all.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn open_orders(&self, symbol: Option<&str>) -> Result<Vec<Order>, ExchangeError> {
        let q: Vec<(&str, String)> = symbol
            .map(|s| ("symbol", s.to_owned()))
            .into_iter()
            .collect();
        self.rest.call(&ep::open_orders(symbol.is_some()), &q).await
    }

    /// `GET /fapi/v1/allOrders` for `symbol`, at most `limit` (≤ 1000).
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn all_orders(&self, symbol: &str, limit: u32) -> Result<Vec<Order>, ExchangeError> {
        self.rest
            .call(
                &ep::ALL_ORDERS,
                &[("symbol", symbol.to_owned()), ("limit", limit.to_string())],
            )
            .await
    }

    /// `DELETE /fapi/v1/allOpenOrders` for `symbol` (regular orders only).
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn cancel_all_open_orders(&self, symbol: &str) -> Result<CodeMsg, ExchangeError> {
        self.rest
            .call(
                &ep::ALL_OPEN_ORDERS_CANCEL,
                &[("symbol", symbol.to_owned())],
            )
            .await
    }

    /// `GET /fapi/v1/openAlgoOrders`, one symbol or all.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn open_algo_orders(
        &self,
        symbol: Option<&str>,
    ) -> Result<Vec<AlgoOrder>, ExchangeError> {
        let q: Vec<(&str, String)> = symbol
            .map(|s| ("symbol", s.to_owned()))
            .into_iter()
            .collect();
        self.rest
            .call(&ep::open_algo_orders(symbol.is_some()), &q)
            .await
    }

    /// `GET /fapi/v1/allAlgoOrders` for `symbol`, at most `limit`.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn all_algo_orders(
        &self,
        symbol: &str,
        limit: u32,
    ) -> Result<Vec<AlgoOrder>, ExchangeError> {
        self.rest
            .call(
                &ep::ALL_ALGO_ORDERS,
                &[("symbol", symbol.to_owned()), ("limit", limit.to_string())],
            )
            .await
    }

    /// `DELETE /fapi/v1/algoOpenOrders` for `symbol`.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn cancel_all_algo_open_orders(
        &self,
        symbol: &str,
    ) -> Result<CodeMsg, ExchangeError> {
        self.rest
            .call(
                &ep::ALGO_OPEN_ORDERS_CANCEL,
                &[("symbol", symbol.to_owned())],
            )
            .await
    }

    /// `GET /fapi/v1/userTrades` for `symbol` from `start_time`, at most `limit` (≤ 1000).
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn user_trades(
        &self,
        symbol: &str,
        start_time: Option<i64>,
        limit: u32,
    ) -> Result<Vec<UserTrade>, ExchangeError> {
        let mut q = vec![("symbol", symbol.to_owned())];
        if let Some(t) = start_time {
            q.push(("startTime", t.to_string()));
        }
        q.push(("limit", limit.to_string()));
        self.rest.call(&ep::USER_TRADES, &q).await
    }

    /// `GET /fapi/v1/userTrades` for `symbol` with trade ids from `from_id` (inclusive), at
    /// most `limit` (≤ 1000), oldest first: the incremental form a sync pages with.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn user_trades_from(
        &self,
        symbol: &str,
        from_id: i64,
        limit: u32,
    ) -> Result<Vec<UserTrade>, ExchangeError> {
        self.rest
            .call(
                &ep::USER_TRADES,
                &[
                    ("symbol", symbol.to_owned()),
                    ("fromId", from_id.to_string()),
                    ("limit", limit.to_string()),
                ],
            )
            .await
    }

    /// `GET /fapi/v1/allOrders` for `symbol` with order ids from `order_id` (inclusive), at
    /// most `limit` (≤ 1000), oldest first.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn all_orders_from(
        &self,
        symbol: &str,
        order_id: i64,
        limit: u32,
    ) -> Result<Vec<Order>, ExchangeError> {
        self.rest
            .call(
                &ep::ALL_ORDERS,
                &[
                    ("symbol", symbol.to_owned()),
                    ("orderId", order_id.to_string()),
                    ("limit", limit.to_string()),
                ],
            )
            .await
    }

    /// `GET /sapi/v1/account/apiRestrictions` (spot base URL).
    ///
    /// # Errors
    /// See [`ExchangeError`]; `Transport` when the environment has no spot API.
    pub async fn api_restrictions(&self) -> Result<ApiRestrictions, ExchangeError> {
        self.rest.call(&ep::API_RESTRICTIONS, &[]).await
    }
}

/// Turns a lookup's "no such order" into `Ok(None)` and keeps other failures.
fn found<T>(result: Result<T, ExchangeError>) -> Result<Option<T>, ExchangeError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.reject_kind() == Some(RejectKind::NoSuchOrder) => Ok(None),
        Err(e) => Err(e),
    }
}
