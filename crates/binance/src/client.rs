//! The two client layers over [`RestClient`]:
//! - [`Raw`] has one method per endpoint, named after it, taking and returning wire types;
//! - [`Client`] has one method per operation the app performs, speaking `perpdesk-core`'s
//!   domain types, and places orders exactly once (see [`crate::idempotent`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use perpdesk_core as core;
use rust_decimal::Decimal;
use serde_json::Value;

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
    ExchangeInfo, FundingRate, Kline, OrderBook, PremiumIndex, ServerTime, SymbolFilter,
    SymbolInfo, Ticker24hr, TickerPrice,
};
use crate::wire::trade::{BatchOrderResult, NewOrderRequest, Order, OrderRef, UserTrade};
use crate::wire::{self, AlgoType, CodeMsg, IncomeType, NewOrderRespType, OneOrMany, OrderType};

/// Endpoint-named calls. Every method documents its endpoint; parameters keep Binance's names.
#[derive(Debug, Clone)]
pub struct Raw {
    rest: Arc<RestClient>,
}

impl Raw {
    /// Wraps a transport.
    pub fn new(rest: Arc<RestClient>) -> Self {
        Self { rest }
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
        self.rest.call(&ep::OPEN_ORDERS, &q).await
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
        self.rest.call(&ep::OPEN_ALGO_ORDERS, &q).await
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

/// An order as placed: regular (limit, market) or algo (stop, take-profit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// A `/fapi/v1/order` order.
    Order(Order),
    /// A `/fapi/v1/algoOrder` order.
    Algo(AlgoOrder),
}

/// What a key may do, from `apiRestrictions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPermissions {
    /// Futures trading is enabled.
    pub futures: bool,
    /// Reading is enabled.
    pub reading: bool,
    /// Withdrawals are enabled: perpdesk refuses such a key.
    pub withdrawals: bool,
    /// The key is restricted to listed IPs.
    pub ip_restricted: bool,
}

/// Operation-named calls in the domain's terms.
#[derive(Debug, Clone)]
pub struct Client {
    raw: Raw,
    lookup: LookupPolicy,
}

impl Client {
    /// Wraps a transport with the default lookup policy.
    pub fn new(rest: Arc<RestClient>) -> Self {
        Self {
            raw: Raw::new(rest),
            lookup: LookupPolicy::default(),
        }
    }

    /// Changes how hard an unknown order outcome is looked up.
    #[must_use]
    pub fn with_lookup_policy(mut self, lookup: LookupPolicy) -> Self {
        self.lookup = lookup;
        self
    }

    /// The endpoint-named layer.
    pub fn raw(&self) -> &Raw {
        &self.raw
    }

    /// Places `order` exactly once: conditional kinds go to the algo endpoint, the rest to
    /// the order endpoint, both with the order's client id; an unknown outcome is looked up
    /// by that id before anything is sent again.
    ///
    /// # Errors
    /// [`ExchangeError::Rejected`] when Binance refused it; `UnknownExecution` when its fate
    /// could not be learned (the caller must not place it again under another id).
    pub async fn place_order(&self, order: &core::OrderRequest) -> Result<Placed, ExchangeError> {
        let symbol = order.symbol.as_str().to_owned();
        let id = order.client_order_id.as_str().to_owned();
        if order.kind.is_conditional() {
            let request = algo_request(order);
            let reference = AlgoOrderRef::ClientAlgoId(id);
            place_exactly_once(
                || async { self.raw.new_algo_order(&request).await.map(Placed::Algo) },
                || async {
                    found(
                        self.raw
                            .query_algo_order(&reference)
                            .await
                            .map(Placed::Algo),
                    )
                },
                self.lookup,
            )
            .await
        } else {
            let request = order_request(order);
            let reference = OrderRef::ClientOrderId(id);
            place_exactly_once(
                || async { self.raw.new_order(&request).await.map(Placed::Order) },
                || async {
                    found(
                        self.raw
                            .query_order(&symbol, &reference)
                            .await
                            .map(Placed::Order),
                    )
                },
                self.lookup,
            )
            .await
        }
    }

    /// Sets the symbol's leverage and returns what the exchange applied.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn set_leverage(
        &self,
        symbol: &core::Symbol,
        leverage: u32,
    ) -> Result<u32, ExchangeError> {
        Ok(self
            .raw
            .change_initial_leverage(symbol.as_str(), leverage)
            .await?
            .leverage)
    }

    /// Sets the symbol's margin type; "no need to change" (-4046) counts as success.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn set_margin_type(
        &self,
        symbol: &core::Symbol,
        margin_type: core::MarginType,
    ) -> Result<(), ExchangeError> {
        let wire = match margin_type {
            core::MarginType::Isolated => "ISOLATED",
            core::MarginType::Cross => "CROSSED",
        };
        match self.raw.change_margin_type(symbol.as_str(), wire).await {
            Ok(_) => Ok(()),
            Err(e) if e.reject_kind() == Some(RejectKind::NoChangeNeeded) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Open positions (non-zero amounts) across all symbols, in the domain's terms.
    ///
    /// `positionRisk` v3 does not report leverage: it is 0 ("not reported") unless the reply
    /// carries it; the margin type comes from the reply or, failing that, from whether the
    /// position holds isolated margin.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `Decode` when a row names an invalid symbol.
    pub async fn positions(&self) -> Result<Vec<core::Position>, ExchangeError> {
        self.raw
            .position_risk(None)
            .await?
            .iter()
            .filter(|p| !p.position_amt.is_zero())
            .map(position)
            .collect()
    }

    /// Income rows (realized PnL, commission, funding, ...) from `since`, oldest first.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `Decode` when a row names an invalid symbol.
    pub async fn income_since(
        &self,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<core::Income>, ExchangeError> {
        let rows = self.raw.income(since.timestamp_millis(), limit).await?;
        rows.into_iter().map(income).collect()
    }

    /// Closed-or-forming candles of `symbol` at `interval`.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn candles(
        &self,
        symbol: &core::Symbol,
        interval: &str,
        limit: u32,
    ) -> Result<Vec<core::Candle>, ExchangeError> {
        let rows = self
            .raw
            .klines(symbol.as_str(), interval, None, None, limit)
            .await?;
        rows.iter().map(candle).collect()
    }

    /// The trading filters of `symbol`.
    ///
    /// # Errors
    /// `Decode` when the symbol is unknown or lacks a filter perpdesk needs.
    pub async fn symbol_filters(
        &self,
        symbol: &core::Symbol,
    ) -> Result<core::SymbolFilters, ExchangeError> {
        let info = self.raw.exchange_info().await?;
        let s = info
            .symbols
            .iter()
            .find(|s| s.symbol == symbol.as_str())
            .ok_or_else(|| {
                ExchangeError::decode(
                    ep::EXCHANGE_INFO.path,
                    200,
                    format!("no symbol {symbol}"),
                    b"",
                )
            })?;
        filters(s)
    }

    /// What the bound key may do.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn key_permissions(&self) -> Result<KeyPermissions, ExchangeError> {
        let r = self.raw.api_restrictions().await?;
        Ok(KeyPermissions {
            futures: r.enable_futures,
            reading: r.enable_reading,
            withdrawals: r.enable_withdrawals,
            ip_restricted: r.ip_restrict,
        })
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

fn side(s: core::Side) -> wire::Side {
    match s {
        core::Side::Buy => wire::Side::Buy,
        core::Side::Sell => wire::Side::Sell,
    }
}

fn position_side(s: core::PositionSide) -> wire::PositionSide {
    match s {
        core::PositionSide::Both => wire::PositionSide::Both,
        core::PositionSide::Long => wire::PositionSide::Long,
        core::PositionSide::Short => wire::PositionSide::Short,
    }
}

fn working_type(w: core::WorkingType) -> wire::WorkingType {
    match w {
        core::WorkingType::MarkPrice => wire::WorkingType::MarkPrice,
        core::WorkingType::ContractPrice => wire::WorkingType::ContractPrice,
    }
}

fn time_in_force(t: core::TimeInForce) -> wire::TimeInForce {
    match t {
        core::TimeInForce::Gtc => wire::TimeInForce::Gtc,
        core::TimeInForce::Ioc => wire::TimeInForce::Ioc,
        core::TimeInForce::Fok => wire::TimeInForce::Fok,
        core::TimeInForce::Gtx => wire::TimeInForce::Gtx,
    }
}

/// `reduceOnly` is refused in hedge mode, where the position side already says it.
fn reduce_only(order: &core::OrderRequest) -> Option<bool> {
    (order.reduce_only && order.position_side == core::PositionSide::Both && !order.close_position)
        .then_some(true)
}

fn order_request(order: &core::OrderRequest) -> NewOrderRequest {
    let quantity = order.quantity.unwrap_or(Decimal::ZERO);
    let mut request = match order.kind {
        core::OrderKind::Limit {
            price,
            time_in_force: tif,
        } => NewOrderRequest::limit(
            order.symbol.as_str(),
            side(order.side),
            quantity,
            price,
            time_in_force(tif),
        ),
        _ => NewOrderRequest::market(order.symbol.as_str(), side(order.side), quantity),
    };
    request.position_side = Some(position_side(order.position_side));
    request.reduce_only = reduce_only(order);
    request.new_client_order_id = Some(order.client_order_id.as_str().to_owned());
    // RESULT makes market orders answer with their fill, saving a query.
    request.new_order_resp_type = Some(NewOrderRespType::Result);
    request
}

fn algo_request(order: &core::OrderRequest) -> NewAlgoOrderRequest {
    let (order_type, trigger, working) = match order.kind {
        core::OrderKind::StopMarket {
            stop_price,
            working_type: w,
        } => (OrderType::StopMarket, stop_price, w),
        core::OrderKind::TakeProfitMarket {
            stop_price,
            working_type: w,
        } => (OrderType::TakeProfitMarket, stop_price, w),
        // Only conditional kinds reach this function (see place_order).
        _ => (
            OrderType::StopMarket,
            Decimal::ZERO,
            core::WorkingType::MarkPrice,
        ),
    };
    NewAlgoOrderRequest {
        algo_type: AlgoType::Conditional,
        symbol: order.symbol.as_str().to_owned(),
        side: side(order.side),
        position_side: Some(position_side(order.position_side)),
        order_type,
        time_in_force: None,
        quantity: if order.close_position {
            None
        } else {
            order.quantity
        },
        price: None,
        trigger_price: Some(trigger),
        working_type: Some(working_type(working)),
        price_match: None,
        close_position: order.close_position.then_some(true),
        // Binance's protection against triggering on a wild last price.
        price_protect: Some(true),
        reduce_only: reduce_only(order),
        activate_price: None,
        callback_rate: None,
        client_algo_id: Some(order.client_order_id.as_str().to_owned()),
        new_order_resp_type: None,
        self_trade_prevention_mode: None,
        good_till_date: None,
    }
}

fn millis(t: i64, path: &'static str) -> Result<DateTime<Utc>, ExchangeError> {
    DateTime::from_timestamp_millis(t)
        .ok_or_else(|| ExchangeError::decode(path, 200, format!("time {t} out of range"), b""))
}

fn income(row: Income) -> Result<core::Income, ExchangeError> {
    let path = ep::INCOME.path;
    let symbol = if row.symbol.is_empty() {
        None
    } else {
        Some(core::Symbol::new(&row.symbol).map_err(|e| ExchangeError::decode(path, 200, e, b""))?)
    };
    let kind = match &row.income_type {
        IncomeType::RealizedPnl => core::IncomeKind::RealizedPnl,
        IncomeType::Commission => core::IncomeKind::Commission,
        IncomeType::FundingFee => core::IncomeKind::FundingFee,
        IncomeType::Transfer => core::IncomeKind::Transfer,
        IncomeType::InsuranceClear => core::IncomeKind::InsuranceClear,
        other => core::IncomeKind::Other(other.to_string()),
    };
    Ok(core::Income {
        tran_id: row.tran_id,
        symbol,
        kind,
        amount: row.income,
        asset: row.asset,
        trade_id: row.trade_id.parse().ok(),
        info: row.info,
        time: millis(row.time, path)?,
    })
}

/// A `positionRisk` row as the domain's position.
pub fn position(p: &PositionRisk) -> Result<core::Position, ExchangeError> {
    let path = ep::POSITION_RISK.path;
    let isolated = p.isolated_margin.unwrap_or_default();
    let isolated_wallet = p.isolated_wallet.unwrap_or_default();
    let margin_type = match &p.margin_type {
        Some(wire::PositionMarginType::Isolated) => core::MarginType::Isolated,
        Some(wire::PositionMarginType::Cross) => core::MarginType::Cross,
        _ if !isolated.is_zero() || !isolated_wallet.is_zero() => core::MarginType::Isolated,
        _ => core::MarginType::Cross,
    };
    let position_side = match &p.position_side {
        wire::PositionSide::Both => core::PositionSide::Both,
        wire::PositionSide::Long => core::PositionSide::Long,
        wire::PositionSide::Short => core::PositionSide::Short,
        other => {
            return Err(ExchangeError::decode(
                path,
                200,
                format!("unknown position side {other}"),
                b"",
            ));
        }
    };
    Ok(core::Position {
        symbol: core::Symbol::new(&p.symbol)
            .map_err(|e| ExchangeError::decode(path, 200, e, b""))?,
        position_side,
        quantity: p.position_amt,
        entry_price: p.entry_price,
        mark_price: p.mark_price,
        leverage: p.leverage.unwrap_or(0),
        margin_type,
        isolated_margin: isolated,
        liquidation_price: p.liquidation_price,
        updated_at: millis(p.update_time, path)?,
    })
}

fn candle(k: &Kline) -> Result<core::Candle, ExchangeError> {
    Ok(core::Candle {
        open_time: millis(k.open_time, "/fapi/v1/klines")?,
        open: k.open,
        high: k.high,
        low: k.low,
        close: k.close,
        volume: k.volume,
    })
}

fn filters(s: &SymbolInfo) -> Result<core::SymbolFilters, ExchangeError> {
    let missing = |what: &str| {
        ExchangeError::decode(
            ep::EXCHANGE_INFO.path,
            200,
            format!("{} has no {what}", s.symbol),
            b"",
        )
    };
    let price = s.price_filter().ok_or_else(|| missing("PRICE_FILTER"))?;
    let lot = s.lot_size().ok_or_else(|| missing("LOT_SIZE"))?;
    let market = s.market_lot_size().unwrap_or(lot);
    let percent = s
        .filters
        .iter()
        .find_map(|f| match f {
            SymbolFilter::PercentPrice(p) => Some(p),
            _ => None,
        })
        .ok_or_else(|| missing("PERCENT_PRICE"))?;
    Ok(core::SymbolFilters {
        tick_size: price.tick_size,
        min_price: price.min_price,
        max_price: price.max_price,
        step_size: lot.step_size,
        min_qty: lot.min_qty,
        max_qty: lot.max_qty,
        market_step_size: market.step_size,
        market_min_qty: market.min_qty,
        market_max_qty: market.max_qty,
        min_notional: s.min_notional().ok_or_else(|| missing("MIN_NOTIONAL"))?,
        multiplier_up: percent.multiplier_up,
        multiplier_down: percent.multiplier_down,
    })
}
