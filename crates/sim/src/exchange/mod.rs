//! The exchange's state and matching: accounts, orders, fills, positions, income.
//!
//! One-way or hedge position mode (`dualSidePosition`: positions kept per symbol and
//! `LONG`/`SHORT`, SELL LONG and BUY SHORT close), cross or isolated margin, MARKET and LIMIT
//! orders (GTC, IOC, FOK, GTX), reduce-only, client-id uniqueness, modification of resting
//! LIMIT orders (`PUT /fapi/v1/order`, with an amendment history), batch place, modify and
//! cancel with per-item results, conditional orders through the algo service (STOP_MARKET,
//! TAKE_PROFIT_MARKET; STOP and TAKE_PROFIT, which become LIMIT orders when they trigger;
//! TRAILING_STOP_MARKET, which follows the best price along the replayed path), funding,
//! liquidation, and MARGIN_CALL once per crossing of [`MARGIN_CALL_RATIO`]. History queries
//! (`userTrades`, `allOrders`) follow Binance's 7-day window and `fromId`/`orderId` paging.
//! Every state change happens under one lock, after every check has passed, so a refused
//! request changes nothing. The state (everything but the market data) saves to and loads
//! from a JSON [`Snapshot`], written atomically.
//!
//! Requests come in typed ([`crate::params`]) and results go out as the state's own types
//! or the views here; [`crate::replies`] renders both as Binance's JSON, and the user-data
//! events queued in [`Exchange::outbox`] as its stream events.
//!
//! - `state`: accounts, orders, algo orders, positions, trades, income; the vocabulary.
//! - `book`: the matching engine: takers, resting orders, executions.
//! - `orders`: the order endpoints and the history queries.
//! - `algo`: conditional orders, their triggers and the trailing stop.
//! - `margin`: positions, leverage, margin type and mode, funding, liquidation, MARGIN_CALL.
//! - `countdown`: `countdownCancelAll`, the dead-man switch.
//! - `risk`: isolated wallet, liquidation and break-even prices, isolated margin changes.
//! - `events`: the user-data events of the outbox.
//! - `snapshot`: save and load.

mod algo;
mod book;
mod countdown;
mod events;
mod margin;
mod orders;
mod risk;
mod snapshot;
mod state;

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use crate::error::ApiError;
use crate::market::{MarketData, SymbolSpec};
use crate::params::OrderRef;

pub use book::Execution;
pub use events::{MarginCallRow, UserEvent};
pub use margin::{AccountView, BalanceView, MARGIN_CALL_RATIO, PositionRow};
pub use risk::{MarginAdjust, MarginChange, SymbolConfig};
pub use snapshot::{SNAPSHOT_VERSION, Snapshot, StateError};
pub use state::{
    Account, AlgoKind, AlgoOrder, Amendment, Code, Fees, IncomeRow, Listed, OrderType, Permissions,
    Position, PositionKey, PositionSide, Side, SimOrder, Slippage, SymbolSettings, TimeInForce,
    Trade, WorkingType,
};

/// The whole exchange.
#[derive(Debug)]
pub struct Exchange {
    pub market: MarketData,
    pub fees: Fees,
    /// Taker fills' distance from the replayed price (a run's setting, not saved state).
    pub slippage: Slippage,
    pub accounts: Vec<Account>,
    next_id: i64,
    /// The sim time up to which resting orders, triggers and funding have been processed.
    processed_to: i64,
    /// User-data events (account index, event) waiting to be pushed to `/private` sockets.
    pub outbox: Vec<(usize, UserEvent)>,
}

/// The index of the order `by` names in `items` (on `symbol` when given): by id, or the
/// latest with that client id. Ids only grow, so every history is sorted by id.
fn locate<T: Listed>(items: &[T], by: &OrderRef, symbol: Option<&str>) -> Option<usize> {
    let on_symbol = |o: &T| symbol.is_none_or(|s| o.symbol() == s);
    match by {
        OrderRef::Id(id) => items
            .binary_search_by_key(id, T::id)
            .ok()
            .filter(|&i| on_symbol(&items[i])),
        OrderRef::Client(cid) => items
            .iter()
            .rposition(|o| o.client_id() == cid && on_symbol(o)),
    }
}

impl Exchange {
    /// An exchange over `market` with no accounts.
    pub fn new(market: MarketData, start_ms: i64) -> Self {
        // Cuts a freshly loaded market to its window; a read error is logged and met again
        // at the first step.
        let _ = market.keep_window(start_ms, start_ms);
        Self {
            market,
            fees: Fees::default(),
            slippage: Slippage::default(),
            accounts: Vec::new(),
            next_id: 1,
            processed_to: start_ms,
            outbox: Vec::new(),
        }
    }

    fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// Adds an account with `balance` USDT.
    pub fn add_account(
        &mut self,
        api_key: &str,
        secret: &str,
        balance: Decimal,
        permissions: Permissions,
        now: i64,
    ) {
        let tran_id = self.id();
        self.accounts.push(Account {
            api_key: api_key.to_owned(),
            secret: secret.to_owned(),
            permissions,
            wallet: balance,
            dual_side: false,
            positions: BTreeMap::new(),
            settings: BTreeMap::new(),
            orders: Vec::new(),
            open: Vec::new(),
            algo_orders: Vec::new(),
            trades: Vec::new(),
            amendments: Vec::new(),
            margin_changes: Vec::new(),
            countdowns: BTreeMap::new(),
            margin_called_cross: false,
            margin_called_isolated: BTreeSet::new(),
            income: vec![IncomeRow {
                tran_id,
                symbol: String::new(),
                income_type: "TRANSFER",
                income: balance,
                info: "TRANSFER".into(),
                time: now,
                trade_id: None,
            }],
        });
    }

    /// Finds the account of `api_key`.
    pub fn account_index(&self, api_key: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a.api_key == api_key)
    }

    /// The spec of `symbol`, or -1121.
    pub fn spec(&self, symbol: &str) -> Result<&SymbolSpec, ApiError> {
        self.market.spec(symbol).ok_or_else(ApiError::bad_symbol)
    }

    fn last(&self, symbol: &str, now: i64) -> Result<Decimal, ApiError> {
        self.market
            .try_last_price(symbol, now)
            .map_err(|e| ApiError::unavailable(&e))?
            .ok_or_else(|| {
                ApiError::bad(-1121, "No market data for this symbol at the current time.")
            })
    }

    /// The mark price of `symbol` now, or `last` where the data has none.
    fn mark_or(&self, symbol: &str, now: i64, last: Decimal) -> Decimal {
        self.market.mark_price(symbol, now).unwrap_or(last)
    }

    /// Processes the market from the last processed time to `now`: resting limit orders,
    /// algo triggers and funding, in time order per step.
    ///
    /// First the market's window of candles in memory is moved to `now`
    /// ([`MarketData::keep_window`]); when the files it needs cannot be read nothing is
    /// processed (logged), so no fill, trigger or funding is skipped: the next call that can
    /// read them processes the whole span.
    pub fn advance(&mut self, now: i64) {
        let from = self.processed_to.min(now);
        if self.market.keep_window(from, now).is_err() {
            return;
        }
        if now <= self.processed_to {
            return;
        }
        self.processed_to = now;
        for acct in 0..self.accounts.len() {
            self.match_resting(acct, from, now);
            self.run_countdowns(acct, now);
            self.trigger_algos(acct, from, now);
            self.apply_funding(acct, from, now);
            self.liquidate(acct, from, now);
        }
    }
}
