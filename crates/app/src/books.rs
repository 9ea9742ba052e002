//! Profit-share booking: closed round trips from the stored fills and income, booked into
//! the append-only ledger by `core`'s rule, then settled period by period.
//!
//! Which trips are shared: those opened from a perpdesk *signal* ticket, read from the
//! opening fill's client order id (`pd-s…-en0`; see [`perpdesk_core::journal`]). Manual
//! perpdesk tickets (`pd-m…`) and orders placed elsewhere are shared only when
//! [`ShareSettings::include_manual`] is on. The origin travels in the exchange's own
//! records, so a re-synced database books the same trips.
//!
//! Order: trips are booked in closing-time order, continuing from the ledger's stored
//! state ([`Store::ledger_state`]); the ledger's `UNIQUE (account_id, trade_ref)` makes a
//! second booking of a trip impossible, so booking again is harmless. A trip that closed
//! before one already booked but reached the database later (a symbol synced late) is
//! booked after it: the high-water mark follows booking order, which is the order the
//! user saw the amounts owed.
//!
//! Rounding (from [`perpdesk_core::ledger`]): the platform share is the shareable amount
//! times the ratio rounded toward zero at 8 decimal places; the user receives the
//! remainder. Platform + user equals the shareable amount exactly, and rounding never
//! favours the platform.
//!
//! Settlement: [`settle`] closes the period at the newest booked row (an append-only
//! `profit_share_settlements` row) and decides the share above the mark; [`owed_now`] is
//! what that settlement would pay now, with the already closed trips booked first.

use chrono::{DateTime, NaiveDate, Utc};
use perpdesk_core::journal::parse_client_order_id;
use perpdesk_core::ledger::{
    RatioError, book, settle as settle_rows, statements as ledger_statements,
};
use perpdesk_core::pnl::round_trips;
use perpdesk_core::{
    ClosedTrade, Decision, LedgerState, Period, RoundTrip, ShareEntry, ShareMode, ShareRatio,
    ShareTotals, Statement, Symbol, TicketOrigin, ticket_origin,
};
use perpdesk_store::{Settlement, Store, StoreError};
use serde::{Deserialize, Serialize};

/// The profit-share settings of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShareSettings {
    /// The platform's fraction (0.7 by default); the user keeps the rest.
    pub platform_ratio: ShareRatio,
    /// When the share is decided: at settlement (default), per-trade high-water mark, or
    /// per trade.
    pub mode: ShareMode,
    /// Also share trips opened manually or outside perpdesk (off by default).
    pub include_manual: bool,
}

impl Default for ShareSettings {
    /// 70/30, decided at settlement (`core`'s defaults), signal trades only.
    fn default() -> Self {
        Self {
            platform_ratio: ShareRatio::default(),
            mode: ShareMode::default(),
            include_manual: false,
        }
    }
}

/// Why booking or settling failed.
#[derive(Debug, thiserror::Error)]
pub enum BooksError {
    /// The local database failed or holds an unreadable row.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A stored row's split is not a split, so no settlement can be worked out.
    #[error("ledger: {0}")]
    BadRatio(#[from] RatioError),
}

/// What the account owes if settled now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Owed {
    /// Booked rows after the last settlement (their own shares, decided at booking).
    pub booked: ShareTotals,
    /// Closed trips not booked yet, as booking them now would share them.
    pub pending: ShareTotals,
    /// What the settlement itself would decide above the mark; `None` when there is no
    /// row to settle.
    pub decision: Option<Decision>,
    /// What settling now would pay: `booked` + `pending` + `decision`.
    pub total: ShareTotals,
}

/// Says whether a round trip is shared under `include_manual`.
pub fn is_shared(trip: &RoundTrip, include_manual: bool) -> bool {
    let origin = trip
        .open_client_order_id
        .as_ref()
        .and_then(parse_client_order_id)
        .and_then(|(ticket, _, _)| ticket_origin(&ticket));
    origin == Some(TicketOrigin::Signal) || include_manual
}

/// The closed, shared, not yet booked trips, in booking order, and the state they start
/// from.
async fn unbooked(
    store: &Store,
    account_id: i64,
    settings: &ShareSettings,
) -> Result<(Vec<(Symbol, ClosedTrade)>, LedgerState), BooksError> {
    let fills = store.fills(account_id, i64::MIN, i64::MAX).await?;
    let income = store.income(account_id, i64::MIN, i64::MAX).await?;
    let booked = store.booked_trade_refs(account_id).await?;
    let mut trades: Vec<(Symbol, ClosedTrade)> = round_trips(&fills, &income)
        .into_iter()
        .filter(|t| is_shared(t, settings.include_manual))
        .filter_map(|t| Some((t.symbol.clone(), t.closed_trade()?)))
        .filter(|(_, t)| !booked.contains(&t.trade_ref))
        .collect();
    trades.sort_by(|a, b| (a.1.closed_at, &a.1.trade_ref).cmp(&(b.1.closed_at, &b.1.trade_ref)));
    Ok((trades, store.ledger_state(account_id).await?))
}

/// Books every closed, shared round trip of the account not booked yet, and returns the
/// new ledger rows (oldest first). `booked_at` is recorded on each row.
///
/// All rows of a call are written in one transaction: all or none.
///
/// # Errors
/// [`BooksError::Store`]; nothing is booked then.
pub async fn book_ledger(
    store: &Store,
    account_id: i64,
    settings: &ShareSettings,
    booked_at: DateTime<Utc>,
) -> Result<Vec<ShareEntry>, BooksError> {
    // One retry: a Conflict means another booking run moved the ledger between our read
    // and our write, and recomputing from its state is exactly what is wanted.
    let mut retried = false;
    loop {
        let (trades, from) = unbooked(store, account_id, settings).await?;
        let mut state = from.clone();
        let mut rows = Vec::with_capacity(trades.len());
        for (symbol, trade) in trades {
            let (entry, next) = book(&state, &trade, settings.platform_ratio, settings.mode);
            state = next;
            rows.push((symbol, entry));
        }
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        match store
            .append_share_entries(account_id, &from, &rows, booked_at)
            .await
        {
            Ok(_) => return Ok(rows.into_iter().map(|(_, e)| e).collect()),
            Err(StoreError::Conflict(_)) if !retried => retried = true,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Returns what settling now would pay: the booked rows since the last settlement and the
/// closed shared trips not booked yet (booked here in memory, not written), settled by the
/// same rule [`settle`] applies ([`perpdesk_core::ledger::settle`]: the rows' own shares
/// plus max(0, cumulative net − mark) split with the newest row's terms).
///
/// # Errors
/// [`BooksError::Store`]; [`BooksError::BadRatio`] for a stored split that is not one.
pub async fn owed_now(
    store: &Store,
    account_id: i64,
    settings: &ShareSettings,
) -> Result<Owed, BooksError> {
    let after = last_settled_id(store, account_id).await?;
    let mut rows: Vec<ShareEntry> = store
        .share_entries_after(account_id, after)
        .await?
        .into_iter()
        .map(|r| r.entry)
        .collect();
    let booked = ShareTotals::of(&rows);
    let (trades, mut state) = unbooked(store, account_id, settings).await?;
    let mut pending_rows = Vec::with_capacity(trades.len());
    for (_, trade) in &trades {
        let (entry, next) = book(&state, trade, settings.platform_ratio, settings.mode);
        state = next;
        pending_rows.push(entry);
    }
    let pending = ShareTotals::of(&pending_rows);
    rows.extend(pending_rows);
    let settled = settle_rows(&state, &rows)?;
    Ok(Owed {
        booked,
        pending,
        decision: settled.as_ref().map(|s| s.decision.clone()),
        total: settled.map(|s| s.totals).unwrap_or_default(),
    })
}

async fn last_settled_id(store: &Store, account_id: i64) -> Result<i64, BooksError> {
    Ok(store
        .settlements(account_id)
        .await?
        .last()
        .map_or(0, |s| s.through_ledger_id))
}

/// Settles every booked, unsettled ledger row as of `at`; `None` when there was nothing to
/// settle. Book first ([`book_ledger`]) to include trips closed since the last sync.
///
/// # Errors
/// [`BooksError::Store`].
pub async fn settle(
    store: &Store,
    account_id: i64,
    at: DateTime<Utc>,
) -> Result<Option<Settlement>, BooksError> {
    Ok(store.settle_ledger(account_id, at).await?)
}

/// Groups the account's ledger rows into statements of `period` (UTC), oldest first.
///
/// # Errors
/// [`BooksError::Store`].
pub async fn statements(
    store: &Store,
    account_id: i64,
    period: Period,
) -> Result<Vec<Statement>, BooksError> {
    let rows = store.share_entries(account_id).await?;
    let entries: Vec<ShareEntry> = rows.into_iter().map(|r| r.entry).collect();
    Ok(ledger_statements(&entries, period))
}

/// Renders the statement of the `period` starting on `start` as CSV (see
/// [`Statement::to_csv`]); `None` when that period has no ledger rows.
///
/// # Errors
/// [`BooksError::Store`].
pub async fn statement_csv(
    store: &Store,
    account_id: i64,
    period: Period,
    start: NaiveDate,
) -> Result<Option<String>, BooksError> {
    Ok(statements(store, account_id, period)
        .await?
        .into_iter()
        .find(|s| s.start == start)
        .map(|s| s.to_csv()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_to_seventy_thirty_at_settlement() {
        let s: ShareSettings = serde_json::from_str("{}").expect("defaults");
        assert_eq!(
            s.platform_ratio.platform(),
            rust_decimal::Decimal::new(7, 1)
        );
        assert_eq!(s.mode, ShareMode::Settlement);
        assert!(!s.include_manual);
        let per_trade: ShareSettings =
            serde_json::from_str(r#"{"platform_ratio":"0.5","mode":"per_trade"}"#)
                .expect("per trade");
        assert_eq!(per_trade.mode, ShareMode::PerTrade);
        assert!(serde_json::from_str::<ShareSettings>(r#"{"platform_ratio":"1.5"}"#).is_err());
        assert!(serde_json::from_str::<ShareSettings>(r#"{"ratio":"0.5"}"#).is_err());
    }
}
