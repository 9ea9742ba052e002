//! Exchange → local database sync: fills, income and positions of one account, fetched
//! incrementally and stored idempotently, then booked into the profit-share ledger.
//!
//! The exchange is the source of truth and the database a growing copy of it: Binance keeps
//! income for about three months and trades for six, we never delete. A run does, in order:
//!
//! 1. **positions** (`positionRisk`) first, so every fill that changed them is already
//!    listed by the `userTrades` calls that follow (a close between the two calls shows up
//!    in the next run, never gets lost between them);
//! 2. **fills**, per symbol, from the newest stored trade id + 1 (`fromId`), 1000 per page;
//!    `userTrades` does not carry the client order id, so it is taken from the order
//!    journal or, for orders perpdesk did not place, from `allOrders`;
//! 3. **income** of every type from the newest stored income time (`startTime`, inclusive),
//!    1000 per page; rows already stored at that instant are dropped before storing;
//! 4. one [`Store::sync_batch`] for everything (one transaction, multi-row inserts), so a
//!    failed run stores nothing and the ledger never sees fills without their income;
//! 5. a position snapshot, only when the positions' shape changed;
//! 6. when new rows were stored, [`book_ledger`] for the closed, shared round trips not
//!    booked yet.
//!
//! A second run with nothing new on the exchange writes nothing. Positions closed outside
//! perpdesk and forced closes (liquidation, ADL, insurance clearance) are returned in the
//! [`SyncReport`] so the engine can alert.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use perpdesk_binance::{Client, ExchangeError};
use perpdesk_core::journal::CLIENT_ID_PREFIX;
use perpdesk_core::{
    ClientOrderId, Fill, Income, IncomeKind, MarginType, Position, PositionSide, Symbol,
};
use perpdesk_store::{PositionSnapshot, Store, StoreError};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::books::{BooksError, ShareSettings, book_ledger};

/// Binance's largest page for `userTrades`, `income` and `allOrders`.
pub const PAGE: u32 = perpdesk_binance::client::PAGE;

/// How far back the first income sync of an account reaches: Binance keeps about three
/// months of income, so asking for more returns nothing more.
const INCOME_HISTORY_DAYS: i64 = 90;

/// Client order id prefixes Binance gives the orders of a forced close.
const LIQUIDATION_PREFIX: &str = "autoclose-";
const ADL_PREFIX: &str = "adl_autoclose";

/// Why a sync stopped. Nothing of the run is stored when it fails before the batch write.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The exchange refused or could not be reached; retry later.
    #[error("exchange: {0}")]
    Exchange(#[from] ExchangeError),
    /// The local database failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The exchange sent a value perpdesk cannot represent (an unknown side, a bad symbol).
    #[error("unreadable {what} from the exchange: {detail}")]
    Decode {
        /// Which record.
        what: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// The fills and income were stored, but booking the ledger failed.
    #[error("ledger booking: {0}")]
    Books(#[from] BooksError),
}

fn decode(what: &'static str, detail: impl ToString) -> SyncError {
    SyncError::Decode {
        what,
        detail: detail.to_string(),
    }
}

/// Where a running sync is, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum SyncProgress {
    /// Reading positions.
    Positions,
    /// Trades of `symbol` fetched so far in this run.
    Trades { symbol: Symbol, fetched: u64 },
    /// Income rows fetched so far in this run.
    Income { fetched: u64 },
    /// Writing what was fetched.
    Storing { fills: u64, income: u64 },
    /// Booking closed round trips into the ledger.
    Booking,
}

/// Why a position was closed without a perpdesk order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ForcedCause {
    /// A liquidation order (`autoclose-…`).
    Liquidation,
    /// Auto-deleveraging (`adl_autoclose…`).
    Adl,
    /// An `INSURANCE_CLEAR` income row: the clearance fee of a liquidation.
    InsuranceClear,
}

/// A forced close the exchange made: one per liquidation/ADL order, plus one per insurance
/// clearance fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForcedClose {
    pub symbol: Symbol,
    pub cause: ForcedCause,
    /// The exchange's order id (liquidation/ADL) or the income `tranId` (clearance).
    pub exchange_id: i64,
    /// Closed quantity (liquidation/ADL) or the fee paid, negative (clearance).
    pub amount: Decimal,
    pub time: DateTime<Utc>,
}

/// A position that was open at the previous snapshot, is flat now, and whose closing fill
/// was not a perpdesk order (the Binance app, another bot, a lost order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClosedOutside {
    pub symbol: Symbol,
    pub position_side: PositionSide,
    /// The signed size at the previous snapshot.
    pub previous_quantity: Decimal,
    /// The fill that made it flat, when this run fetched it.
    pub closing_trade_id: Option<i64>,
    /// That fill's client order id, when known.
    pub closing_client_order_id: Option<ClientOrderId>,
    pub time: Option<DateTime<Utc>>,
}

/// What one sync run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Fills stored by this run (already stored ones are not counted).
    pub new_fills: u64,
    /// Income rows stored by this run.
    pub new_income: u64,
    /// Ledger rows booked by this run.
    pub new_ledger_rows: u64,
    /// Whether a new position snapshot was stored.
    pub positions_changed: bool,
    pub closed_outside: Vec<ClosedOutside>,
    pub forced_closes: Vec<ForcedClose>,
    /// Orders (symbol, order id) of new fills whose client order id neither the journal
    /// nor `allOrders` knew; their fills are stored without one and count as external.
    pub unresolved_orders: Vec<(Symbol, i64)>,
}

/// Syncs `account_id` with the exchange behind `client` for `symbols`, then books the
/// ledger with `settings`. `now` is the exchange's current time (the snapshot time, and the
/// reach of the first income sync). `progress` is called from the running task.
///
/// # Errors
/// [`SyncError::Exchange`] or [`SyncError::Decode`] before anything is stored;
/// [`SyncError::Store`] when the database fails; [`SyncError::Books`] when the records were
/// stored but booking failed (call [`book_ledger`] to catch up).
pub async fn sync_account(
    client: &Client,
    store: &Store,
    account_id: i64,
    symbols: &[Symbol],
    settings: &ShareSettings,
    now: DateTime<Utc>,
    progress: impl Fn(SyncProgress),
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();

    progress(SyncProgress::Positions);
    let previous = store.latest_positions(account_id).await?;
    let current = client.positions().await?;

    let mut fills = Vec::new();
    for symbol in symbols {
        let new = fetch_trades(client, store, account_id, symbol, &progress).await?;
        fills.extend(new);
    }
    report.unresolved_orders = resolve_client_ids(client, store, account_id, &mut fills).await?;

    let income = fetch_income(client, store, account_id, now, &progress).await?;

    report.forced_closes = forced_closes(&fills, &income);
    report.closed_outside = closed_outside(&previous, &current, symbols, &fills);

    if !fills.is_empty() || !income.is_empty() {
        progress(SyncProgress::Storing {
            fills: fills.len() as u64,
            income: income.len() as u64,
        });
        let counts = store.sync_batch(account_id, &fills, &income).await?;
        report.new_fills = counts.fills;
        report.new_income = counts.income;
    }

    if let Some(snapshot) = snapshot_if_changed(&previous, &current) {
        store.snapshot_positions(account_id, &snapshot, now).await?;
        report.positions_changed = true;
    }

    // Only new rows can close a round trip, and booking reads the account's whole history
    // (a second or so at 100,000 fills), so a run with nothing new skips it. After a
    // `SyncError::Books` or a change of settings, call `book_ledger` directly.
    if report.new_fills > 0 || report.new_income > 0 {
        progress(SyncProgress::Booking);
        report.new_ledger_rows = book_ledger(store, account_id, settings, now).await?.len() as u64;
    }
    Ok(report)
}

/// Fetches the trades of `symbol` above the newest stored one, oldest first.
async fn fetch_trades(
    client: &Client,
    store: &Store,
    account_id: i64,
    symbol: &Symbol,
    progress: &impl Fn(SyncProgress),
) -> Result<Vec<Fill>, SyncError> {
    let from = store
        .last_trade_id(account_id, symbol)
        .await?
        .map_or(0, |id| id + 1);
    Ok(client
        .fills_from(symbol, from, |fetched| {
            progress(SyncProgress::Trades {
                symbol: symbol.clone(),
                fetched: fetched as u64,
            });
        })
        .await?)
}

/// Fills in the client order id of each fill: from the journal for perpdesk's own orders,
/// else from `allOrders`. Returns the orders neither knew.
async fn resolve_client_ids(
    client: &Client,
    store: &Store,
    account_id: i64,
    fills: &mut [Fill],
) -> Result<Vec<(Symbol, i64)>, SyncError> {
    let order_ids: Vec<i64> = fills
        .iter()
        .map(|f| f.order_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut known: HashMap<i64, ClientOrderId> =
        store.journal_client_ids(account_id, &order_ids).await?;

    let mut missing: BTreeMap<Symbol, BTreeSet<i64>> = BTreeMap::new();
    for f in fills.iter().filter(|f| !known.contains_key(&f.order_id)) {
        missing
            .entry(f.symbol.clone())
            .or_default()
            .insert(f.order_id);
    }
    let mut unresolved = Vec::new();
    for (symbol, ids) in missing {
        // Binance refuses order queries beyond its retention; those fills are stored without
        // a client id (and reported) rather than blocking every later sync of the account.
        known.extend(client.client_order_ids(&symbol, &ids).await?);
        unresolved.extend(
            ids.into_iter()
                .filter(|id| !known.contains_key(id))
                .map(|id| (symbol.clone(), id)),
        );
    }
    for f in fills.iter_mut() {
        f.client_order_id = known.get(&f.order_id).cloned();
    }
    Ok(unresolved)
}

/// Fetches income rows from the newest stored one's time, minus those already stored.
async fn fetch_income(
    client: &Client,
    store: &Store,
    account_id: i64,
    now: DateTime<Utc>,
    progress: &impl Fn(SyncProgress),
) -> Result<Vec<Income>, SyncError> {
    let cursor = store.last_income_time(account_id).await?;
    let start = match cursor {
        Some(ms) => ms,
        None => (now - Duration::days(INCOME_HISTORY_DAYS))
            .timestamp_millis()
            .max(0),
    };
    // `startTime` is inclusive and several rows share a millisecond (a fill's PnL and
    // commission), so the rows at the cursor are fetched again; these are the stored ones.
    let mut seen: HashSet<(String, i64)> = HashSet::new();
    if let Some(ms) = cursor {
        for i in store.income(account_id, ms, ms + 1).await? {
            seen.insert((kind_key(&i.kind), i.tran_id));
        }
    }
    let since =
        DateTime::from_timestamp_millis(start).ok_or_else(|| decode("income cursor", start))?;
    let page = client
        .income_from(since, |fetched| {
            progress(SyncProgress::Income {
                fetched: fetched as u64,
            });
        })
        .await?;
    Ok(page
        .into_iter()
        .filter(|i| !seen.contains(&(kind_key(&i.kind), i.tran_id)))
        .collect())
}

fn kind_key(kind: &IncomeKind) -> String {
    match kind {
        IncomeKind::Other(name) => name.clone(),
        known => format!("{known:?}"),
    }
}

fn forced_closes(fills: &[Fill], income: &[Income]) -> Vec<ForcedClose> {
    let mut by_order: BTreeMap<(Symbol, i64), ForcedClose> = BTreeMap::new();
    for f in fills {
        let Some(coid) = &f.client_order_id else {
            continue;
        };
        let cause = if coid.as_str().starts_with(ADL_PREFIX) {
            ForcedCause::Adl
        } else if coid.as_str().starts_with(LIQUIDATION_PREFIX) {
            ForcedCause::Liquidation
        } else {
            continue;
        };
        by_order
            .entry((f.symbol.clone(), f.order_id))
            .and_modify(|c| {
                c.amount += f.quantity;
                c.time = c.time.max(f.time);
            })
            .or_insert_with(|| ForcedClose {
                symbol: f.symbol.clone(),
                cause,
                exchange_id: f.order_id,
                amount: f.quantity,
                time: f.time,
            });
    }
    let mut out: Vec<ForcedClose> = by_order.into_values().collect();
    out.extend(
        income
            .iter()
            .filter(|i| i.kind == IncomeKind::InsuranceClear)
            .filter_map(|i| {
                Some(ForcedClose {
                    symbol: i.symbol.clone()?,
                    cause: ForcedCause::InsuranceClear,
                    exchange_id: i.tran_id,
                    amount: i.amount,
                    time: i.time,
                })
            }),
    );
    out.sort_by_key(|c| c.time);
    out
}

fn is_forced(coid: &ClientOrderId) -> bool {
    coid.as_str().starts_with(LIQUIDATION_PREFIX) || coid.as_str().starts_with(ADL_PREFIX)
}

fn is_perpdesk(coid: &ClientOrderId) -> bool {
    coid.as_str()
        .strip_prefix(CLIENT_ID_PREFIX)
        .is_some_and(|rest| rest.starts_with('-'))
}

fn closed_outside(
    previous: &[PositionSnapshot],
    current: &[Position],
    symbols: &[Symbol],
    fills: &[Fill],
) -> Vec<ClosedOutside> {
    let open_now: HashSet<(&Symbol, PositionSide)> = current
        .iter()
        .map(|p| (&p.symbol, p.position_side))
        .collect();
    let mut out = Vec::new();
    for snap in previous {
        let p = &snap.position;
        if p.quantity.is_zero()
            || !symbols.contains(&p.symbol)
            || open_now.contains(&(&p.symbol, p.position_side))
        {
            continue;
        }
        // The newest fill of the position is the one that made it flat.
        let closing = fills
            .iter()
            .filter(|f| f.symbol == p.symbol && f.position_side == p.position_side)
            .max_by_key(|f| (f.time, f.trade_id));
        let by_us_or_forced = closing
            .and_then(|f| f.client_order_id.as_ref())
            .is_some_and(|c| is_perpdesk(c) || is_forced(c));
        if by_us_or_forced {
            continue;
        }
        out.push(ClosedOutside {
            symbol: p.symbol.clone(),
            position_side: p.position_side,
            previous_quantity: p.quantity,
            closing_trade_id: closing.map(|f| f.trade_id),
            closing_client_order_id: closing.and_then(|f| f.client_order_id.clone()),
            time: closing.map(|f| f.time),
        });
    }
    out
}

/// Returns the snapshot to store when the positions' shape (sides, sizes, entry prices,
/// leverage, margin) differs from the previous one; mark prices alone do not count, or
/// every run would write. A position that went flat is stored with quantity zero, so the
/// next run does not see it open again and report its close twice.
fn snapshot_if_changed(
    previous: &[PositionSnapshot],
    current: &[Position],
) -> Option<Vec<Position>> {
    type Shape = (Symbol, PositionSide, Decimal, Decimal, u32, MarginType);
    fn shape(p: &Position) -> Shape {
        (
            p.symbol.clone(),
            p.position_side,
            p.quantity.normalize(),
            p.entry_price.normalize(),
            p.leverage,
            p.margin_type,
        )
    }
    let before: BTreeSet<Shape> = previous
        .iter()
        .map(|s| &s.position)
        .filter(|p| !p.quantity.is_zero())
        .map(shape)
        .collect();
    let after: BTreeSet<Shape> = current.iter().map(shape).collect();
    if before == after {
        return None;
    }
    let mut snapshot = current.to_vec();
    for s in previous {
        let p = &s.position;
        let still_open = current
            .iter()
            .any(|c| c.symbol == p.symbol && c.position_side == p.position_side);
        if !p.quantity.is_zero() && !still_open {
            snapshot.push(Position {
                quantity: Decimal::ZERO,
                ..p.clone()
            });
        }
    }
    Some(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_perpdesk_orders_from_forced_and_foreign_ones() {
        let id = |s: &str| ClientOrderId::new(s).expect("valid id");
        assert!(is_perpdesk(&id("pd-s1abc-en0")));
        assert!(!is_perpdesk(&id("pdx-1")));
        assert!(!is_perpdesk(&id("web_1234")));
        assert!(is_forced(&id("autoclose-1646092800000")));
        assert!(is_forced(&id("adl_autoclose")));
        assert!(!is_forced(&id("pd-s1abc-cl0")));
    }
}
