//! The two client layers over [`RestClient`]:
//! - [`Raw`] (`raw.rs`) has one method per endpoint, named after it, taking and returning wire
//!   types;
//! - [`Client`] (here) has one method per operation the app performs, speaking
//!   `perpdesk-core`'s types and the small reports of `domain.rs`, with every wire → domain
//!   mapping and every pager in this module and `convert.rs`, once.
//!
//! The app reaches the exchange only through [`Client`]; it never names [`Raw`] or the wire
//! types (a test in `crates/app` checks).

mod convert;
mod domain;
mod raw;
mod records;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use perpdesk_core as core;
use rust_decimal::Decimal;
use tokio::sync::mpsc;

pub use convert::position;
pub use domain::{
    AccountSnapshot, DayTicker, ExitKind, ExitOrder, FundingRate, KeyPermissions, OpenOrder,
    OrderReport, Placed, PositionReport,
};
pub use raw::Raw;
pub use records::{ExchangeRecords, OrderClientId, RECORDS_FORMAT, RecordsError};

use crate::endpoints as ep;
use crate::error::{ExchangeError, RejectKind};
use crate::idempotent::LookupPolicy;
use crate::rest::RestClient;
use crate::streams::{StreamConfig, StreamEvent, UserStream};
use crate::wire::stream::UserDataEvent;

/// Binance's largest page of `userTrades`, `income` and `allOrders`.
pub const PAGE: u32 = 1000;

/// Binance's largest page of klines.
pub const KLINES_PAGE: u32 = 1500;

/// Binance's largest page of funding rates.
pub const FUNDING_PAGE: u32 = 1000;

/// Operation-named calls in the domain's terms.
#[derive(Debug, Clone)]
pub struct Client {
    raw: Raw,
}

impl Client {
    /// Wraps a transport with the default lookup policy.
    pub fn new(rest: Arc<RestClient>) -> Self {
        Self {
            raw: Raw::new(rest),
        }
    }

    /// Changes how hard an unknown order outcome is looked up.
    #[must_use]
    pub fn with_lookup_policy(mut self, lookup: LookupPolicy) -> Self {
        self.raw.set_lookup_policy(lookup);
        self
    }

    /// The endpoint-named layer, for tools and tests that drive an exchange directly.
    pub fn raw(&self) -> &Raw {
        &self.raw
    }

    /// Places an approved order exactly once: conditional kinds go to the algo endpoint, the
    /// rest to the order endpoint, both with the order's client id; an unknown outcome is
    /// looked up by that id before anything is sent again (see [`Raw::place_order`]).
    ///
    /// It takes only a [`core::RiskApproved`] order, which only `perpdesk_core::risk` makes,
    /// so an order the risk check did not see does not compile here.
    ///
    /// # Errors
    /// [`ExchangeError::Rejected`] when Binance refused it; `UnknownExecution` when its fate
    /// could not be learned (the caller must not place it again under another id).
    pub async fn place_order(
        &self,
        order: &core::RiskApproved<core::OrderRequest>,
    ) -> Result<OrderReport, ExchangeError> {
        Ok(self.raw.place_order(order.get()).await?.report())
    }

    /// What the exchange says about the order `order` was placed as, found by its client id;
    /// `None` when it has no such order.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn order_report(
        &self,
        order: &core::OrderRequest,
    ) -> Result<Option<OrderReport>, ExchangeError> {
        Ok(self.raw.find_order(order).await?.map(|p| p.report()))
    }

    /// Open regular orders on every symbol.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `Decode` for a row naming an invalid symbol.
    pub async fn open_orders(&self) -> Result<Vec<OpenOrder>, ExchangeError> {
        self.raw
            .open_orders(None)
            .await?
            .iter()
            .map(convert::open_order)
            .collect()
    }

    /// Open conditional orders (stops, take-profits) of one symbol or all.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `Decode` for an unreadable side, position side or symbol.
    pub async fn open_exits(
        &self,
        symbol: Option<&core::Symbol>,
    ) -> Result<Vec<ExitOrder>, ExchangeError> {
        self.raw
            .open_algo_orders(symbol.map(core::Symbol::as_str))
            .await?
            .iter()
            .map(convert::exit_order)
            .collect()
    }

    /// Cancels a regular order by its exchange id.
    ///
    /// # Errors
    /// See [`ExchangeError`]; -2011 (`RejectKind::NoSuchOrder`) when it is already closed.
    pub async fn cancel_order(
        &self,
        symbol: &core::Symbol,
        order_id: i64,
    ) -> Result<(), ExchangeError> {
        self.raw
            .cancel_order(
                symbol.as_str(),
                &crate::wire::trade::OrderRef::OrderId(order_id),
            )
            .await
            .map(drop)
    }

    /// Cancels a conditional order by its `algoId`.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `RejectKind::NoSuchOrder` when it is already gone.
    pub async fn cancel_exit(&self, algo_id: i64) -> Result<(), ExchangeError> {
        self.raw
            .cancel_algo_order(&crate::wire::algo::AlgoOrderRef::AlgoId(algo_id))
            .await
            .map(drop)
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
        match self
            .raw
            .change_margin_type(symbol.as_str(), convert::margin_type(margin_type))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.reject_kind() == Some(RejectKind::NoChangeNeeded) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The exchange's time as this client estimates it (local clock plus the measured
    /// offset); no request.
    pub fn now(&self) -> DateTime<Utc> {
        let ms = self.raw.rest().server_now_ms();
        DateTime::from_timestamp_millis(ms).unwrap_or_else(Utc::now)
    }

    /// The exchange's time, asked now (`GET /fapi/v1/time`).
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn server_time(&self) -> Result<DateTime<Utc>, ExchangeError> {
        let t = self.raw.time().await?;
        convert::millis(t.server_time, crate::rest::TIME.path)
    }

    /// How far the exchange's clock is ahead of this machine's (negative: behind). The
    /// client corrects for it; a large one means the computer's clock is wrong.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn clock_offset(&self) -> Result<TimeDelta, ExchangeError> {
        let t = self.raw.time().await?;
        let rest = self.raw.rest();
        let local = rest.server_now_ms() - rest.time_offset_ms();
        Ok(TimeDelta::milliseconds(t.server_time - local))
    }

    /// Reaches the exchange without a key (`GET /fapi/v1/ping`).
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn ping(&self) -> Result<(), ExchangeError> {
        self.raw.ping().await
    }

    /// The available balance of `asset` (zero when the account holds none): a signed read.
    ///
    /// # Errors
    /// See [`ExchangeError`]; a refused signature is `Rejected`.
    pub async fn available_balance(&self, asset: &str) -> Result<Decimal, ExchangeError> {
        Ok(self
            .raw
            .balance()
            .await?
            .iter()
            .find(|b| b.asset == asset)
            .map_or(Decimal::ZERO, |b| b.available_balance))
    }

    /// The account's margin balance: wallet balance plus the unrealised PnL of every position
    /// (`totalMarginBalance` of `GET /fapi/v3/account`), the equity a position is sized at.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn margin_balance(&self) -> Result<Decimal, ExchangeError> {
        Ok(self.raw.account().await?.total_margin_balance)
    }

    /// Whether the account is in hedge mode (`LONG`/`SHORT`) rather than one-way (`BOTH`).
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn hedge_mode(&self) -> Result<bool, ExchangeError> {
        Ok(self.raw.position_side_dual().await?.dual_side_position)
    }

    /// Whether multi-assets margin is on.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn multi_assets_mode(&self) -> Result<bool, ExchangeError> {
        Ok(self.raw.multi_assets_margin().await?.multi_assets_margin)
    }

    /// Whether [`Client::key_permissions`] can be asked at all: the demo environment has no
    /// spot API, so there the permissions cannot be read.
    pub fn has_spot_api(&self) -> bool {
        self.raw.rest().has_spot_api()
    }

    /// What the bound key may do.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `Transport` when the environment has no spot API.
    pub async fn key_permissions(&self) -> Result<KeyPermissions, ExchangeError> {
        let r = self.raw.api_restrictions().await?;
        Ok(KeyPermissions {
            futures: r.enable_futures,
            reading: r.enable_reading,
            withdrawals: r.enable_withdrawals,
            ip_restricted: r.ip_restrict,
        })
    }

    /// The mark price of `symbol`, the available USDT, the open positions and the position
    /// mode, read together: what one click needs to know.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `Decode` when a position cannot be read.
    pub async fn account_snapshot(
        &self,
        symbol: &core::Symbol,
    ) -> Result<AccountSnapshot, ExchangeError> {
        let (mark, available, positions, hedge_mode) = tokio::try_join!(
            self.raw.premium_index(symbol.as_str()),
            self.available_balance("USDT"),
            self.position_reports(None),
            self.hedge_mode(),
        )?;
        Ok(AccountSnapshot {
            mark_price: mark.mark_price,
            available,
            positions,
            hedge_mode,
        })
    }

    /// Open positions (non-zero amounts) across all symbols, in the domain's terms.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `Decode` when a row cannot be read (see `convert.rs` for why
    /// that is strict).
    pub async fn positions(&self) -> Result<Vec<core::Position>, ExchangeError> {
        self.raw
            .position_risk(None)
            .await?
            .iter()
            .filter(|p| !p.position_amt.is_zero())
            .map(position)
            .collect()
    }

    /// Open positions of one symbol or all, with the exchange's notional and unrealised PnL.
    ///
    /// # Errors
    /// As [`Client::positions`].
    pub async fn position_reports(
        &self,
        symbol: Option<&core::Symbol>,
    ) -> Result<Vec<PositionReport>, ExchangeError> {
        self.raw
            .position_risk(symbol.map(core::Symbol::as_str))
            .await?
            .iter()
            .filter(|p| !p.position_amt.is_zero())
            .map(convert::position_report)
            .collect()
    }

    /// One page of income rows (realized PnL, commission, funding, ...) from `since`,
    /// oldest first.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `Decode` when a row names an invalid symbol.
    pub async fn income_since(
        &self,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<core::Income>, ExchangeError> {
        let rows = self.raw.income(since.timestamp_millis(), limit).await?;
        rows.into_iter().map(convert::income).collect()
    }

    /// Every income row from `since` (inclusive), oldest first, paged.
    ///
    /// Pages restart at the last row's millisecond, because rows sharing it (a fill's PnL and
    /// commission) may straddle the cut, and rows already seen are dropped by their exchange
    /// key; a full page within one millisecond cannot be paged by time, so the next page
    /// starts past it. `progress` gets the number of rows fetched so far after each page.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn income_from(
        &self,
        since: DateTime<Utc>,
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<core::Income>, ExchangeError> {
        let mut out = Vec::new();
        let mut seen: HashSet<(String, i64)> = HashSet::new();
        let mut start = since;
        loop {
            let page = self.income_since(start, PAGE).await?;
            let full = page.len() >= PAGE as usize;
            let Some(last) = page.last().map(|i| i.time) else {
                break;
            };
            for row in page {
                if seen.insert((income_key(&row.kind), row.tran_id)) {
                    out.push(row);
                }
            }
            progress(out.len());
            if !full {
                break;
            }
            start = if last > start {
                last
            } else {
                start + TimeDelta::milliseconds(1)
            };
        }
        Ok(out)
    }

    /// Every trade of `symbol` with an id from `from_id` (inclusive), oldest first, paged;
    /// the client order id of each is `None` (see [`Client::client_order_ids`]). `progress`
    /// gets the number of fills fetched so far after each page.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `Decode` for a row that cannot be read.
    pub async fn fills_from(
        &self,
        symbol: &core::Symbol,
        from_id: i64,
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<core::Fill>, ExchangeError> {
        let mut from = from_id;
        let mut out: Vec<core::Fill> = Vec::new();
        loop {
            let page = self
                .raw
                .user_trades_from(symbol.as_str(), from, PAGE)
                .await?;
            let full = page.len() >= PAGE as usize;
            // An exchange that ignores `fromId` (a proxy, an old simulator) would repeat old
            // trades; filtering keeps the cursor moving forward either way.
            let mut new: Vec<core::Fill> = page
                .iter()
                .filter(|t| t.id >= from)
                .map(convert::fill)
                .collect::<Result<_, _>>()?;
            let Some(last) = new.iter().map(|f| f.trade_id).max() else {
                break;
            };
            new.sort_by_key(|f| f.trade_id);
            out.extend(new);
            progress(out.len());
            if !full {
                break;
            }
            from = last + 1;
        }
        Ok(out)
    }

    /// The client order ids of `order_ids` (orders of `symbol`), from `allOrders` paged by
    /// order id. Orders it does not find are missing from the map; an order query Binance
    /// refuses (beyond its retention) ends the search with what was found.
    ///
    /// # Errors
    /// See [`ExchangeError`] (a rejection is not an error here, see above).
    pub async fn client_order_ids(
        &self,
        symbol: &core::Symbol,
        order_ids: &BTreeSet<i64>,
    ) -> Result<HashMap<i64, core::ClientOrderId>, ExchangeError> {
        let mut known = HashMap::new();
        let (Some(&first), Some(&last)) = (order_ids.first(), order_ids.last()) else {
            return Ok(known);
        };
        let mut from = first;
        loop {
            let page = match self.raw.all_orders_from(symbol.as_str(), from, PAGE).await {
                Ok(page) => page,
                Err(ExchangeError::Rejected { .. }) => break,
                Err(e) => return Err(e),
            };
            let full = page.len() >= PAGE as usize;
            let mut newest = None;
            for o in &page {
                newest = newest.max(Some(o.order_id));
                if order_ids.contains(&o.order_id)
                    && let Ok(coid) = core::ClientOrderId::new(&o.client_order_id)
                {
                    known.insert(o.order_id, coid);
                }
            }
            match newest {
                Some(n) if full && n < last && n >= from => from = n + 1,
                _ => break,
            }
        }
        Ok(known)
    }

    /// Closed-or-forming candles of `symbol` at `interval` (the newest `limit`).
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
        rows.iter().map(convert::candle).collect()
    }

    /// Up to `limit` candles of `symbol` opening at or after `from`, keeping only those
    /// closed before `before` (a candle still forming is never returned).
    ///
    /// # Errors
    /// See [`ExchangeError`]; `Decode` for an unreadable time.
    pub async fn closed_candles(
        &self,
        symbol: &core::Symbol,
        interval: core::Interval,
        from: DateTime<Utc>,
        limit: u32,
        before: DateTime<Utc>,
    ) -> Result<Vec<core::Candle>, ExchangeError> {
        let before_ms = before.timestamp_millis();
        self.raw
            .klines(
                symbol.as_str(),
                interval.as_str(),
                Some(from.timestamp_millis()),
                None,
                limit,
            )
            .await?
            .iter()
            .filter(|k| k.close_time < before_ms)
            .map(convert::candle)
            .collect()
    }

    /// Every candle of `symbol` opening at or after `from` and closed before `before`,
    /// paged forward, oldest first.
    ///
    /// # Errors
    /// As [`Client::closed_candles`].
    pub async fn closed_candles_since(
        &self,
        symbol: &core::Symbol,
        interval: core::Interval,
        from: DateTime<Utc>,
        before: DateTime<Utc>,
    ) -> Result<Vec<core::Candle>, ExchangeError> {
        let step = interval.duration();
        let mut from = from;
        let mut out = Vec::new();
        loop {
            let page = self
                .closed_candles(symbol, interval, from, KLINES_PAGE, before)
                .await?;
            let full = page.len() == KLINES_PAGE as usize;
            let Some(last) = page.last() else { break };
            from = last.open_time + step;
            out.extend(page);
            if !full || from + step > before {
                break;
            }
        }
        Ok(out)
    }

    /// The funding rates of `symbol` settled from `from` (inclusive) up to `until`
    /// (inclusive), paged forward, oldest first.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `Decode` for an unreadable time.
    pub async fn funding_since(
        &self,
        symbol: &core::Symbol,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<FundingRate>, ExchangeError> {
        let until_ms = until.timestamp_millis();
        let mut from_ms = from.timestamp_millis();
        let mut rates = Vec::new();
        loop {
            let page = self
                .raw
                .funding_rate(symbol.as_str(), Some(from_ms), FUNDING_PAGE)
                .await?;
            let full = page.len() == FUNDING_PAGE as usize;
            let Some(last) = page.last().map(|r| r.funding_time) else {
                break;
            };
            for r in page.iter().filter(|r| r.funding_time <= until_ms) {
                rates.push(convert::funding_rate(r)?);
            }
            if !full || last >= until_ms {
                break;
            }
            from_ms = last + 1;
        }
        Ok(rates)
    }

    /// Rolling 24-hour statistics of `symbol`.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn day_ticker(&self, symbol: &core::Symbol) -> Result<DayTicker, ExchangeError> {
        let t = self.raw.ticker_24hr(symbol.as_str()).await?;
        Ok(DayTicker {
            last_price: t.last_price,
            change_pct: t.price_change_percent,
        })
    }

    /// Every symbol the exchange lists (names that are not valid symbols are left out: nothing
    /// could ask for them).
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn listed_symbols(&self) -> Result<Vec<core::Symbol>, ExchangeError> {
        let info = self.raw.exchange_info().await?;
        Ok(info
            .symbols
            .iter()
            .filter_map(|s| core::Symbol::new(&s.symbol).ok())
            .collect())
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
        convert::filters(s)
    }

    /// The filters and maintenance brackets of `symbol`; `None` when the exchange does not
    /// list it.
    ///
    /// # Errors
    /// See [`ExchangeError`]; `Decode` when a listed symbol lacks a filter perpdesk needs.
    pub async fn symbol_rules(
        &self,
        symbol: &core::Symbol,
    ) -> Result<Option<core::SymbolRules>, ExchangeError> {
        let info = self.raw.exchange_info().await?;
        let Some(s) = info.symbols.iter().find(|s| s.symbol == symbol.as_str()) else {
            return Ok(None);
        };
        let filters = convert::filters(s)?;
        let brackets = self
            .raw
            .leverage_bracket(Some(symbol.as_str()))
            .await?
            .iter()
            .find(|b| b.symbol == symbol.as_str())
            .map(convert::brackets)
            .unwrap_or_default();
        Ok(Some(core::SymbolRules { filters, brackets }))
    }

    /// Runs the account's user-data stream at `streams_base` (listenKey, keepalive,
    /// reconnects) until `sink` closes; see [`UserStream`].
    pub async fn run_user_stream(
        &self,
        streams_base: &str,
        config: StreamConfig,
        sink: mpsc::Sender<StreamEvent<UserDataEvent>>,
    ) {
        UserStream::new(self.raw.rest().clone(), streams_base, config)
            .run(sink)
            .await;
    }
}

/// The exchange's key of an income row is its `tranId` within its type.
fn income_key(kind: &core::IncomeKind) -> String {
    match kind {
        core::IncomeKind::Other(name) => name.clone(),
        known => format!("{known:?}"),
    }
}
