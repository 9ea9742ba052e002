//! `profit_share_ledger`: the append-only profit-share book, linked to the fills and
//! income each row derives from. Triggers refuse UPDATE and DELETE; corrections are new
//! rows. Settlements, their decisions and statements are in `settlements`.
//!
//! A row's [`ShareMode`] is stored in two columns: `mode`, the mark rule
//! (`high_water_mark` or `per_trade`, the only names the original CHECK allows), and
//! `share_decided`, when the share is decided (`at_booking`, the default every row booked
//! before the settlement mode has, or `at_settlement`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use perpdesk_core::{LedgerState, ShareEntry, ShareMode, Symbol};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use crate::value::{dec, ms, symbol, time};
use crate::{Result, Store, StoreError};

/// The stored (`mode`, `share_decided`) of a mode.
pub(crate) fn stored_mode(mode: ShareMode) -> (&'static str, &'static str) {
    match mode {
        ShareMode::Settlement => ("high_water_mark", "at_settlement"),
        ShareMode::HighWaterMark => ("high_water_mark", "at_booking"),
        ShareMode::PerTrade => ("per_trade", "at_booking"),
    }
}

/// Reads a mode back from its stored (`mode`, `share_decided`).
pub(crate) fn read_mode(mode: &str, decided: &str) -> Result<ShareMode> {
    match (mode, decided) {
        ("high_water_mark", "at_settlement") => Ok(ShareMode::Settlement),
        ("high_water_mark", "at_booking") => Ok(ShareMode::HighWaterMark),
        ("per_trade", "at_booking") => Ok(ShareMode::PerTrade),
        other => Err(StoreError::invalid(format!("ledger mode {other:?}"))),
    }
}

/// A stored ledger row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub id: i64,
    pub account_id: i64,
    pub symbol: Symbol,
    pub entry: ShareEntry,
    pub booked_at: DateTime<Utc>,
}

fn ledger_row(row: &SqliteRow, trade_ids: Vec<i64>, income_ids: Vec<i64>) -> Result<LedgerRow> {
    Ok(LedgerRow {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        symbol: symbol(row.try_get("symbol")?)?,
        entry: ShareEntry {
            trade_ref: row.try_get("trade_ref")?,
            total_pnl: dec(row.try_get("total_pnl")?)?,
            shareable: dec(row.try_get("shareable")?)?,
            platform_share: dec(row.try_get("platform_share")?)?,
            user_share: dec(row.try_get("user_share")?)?,
            platform_ratio: dec(row.try_get("platform_ratio")?)?,
            mode: read_mode(row.try_get("mode")?, row.try_get("share_decided")?)?,
            cumulative_net_after: dec(row.try_get("cumulative_net_after")?)?,
            high_water_mark_after: dec(row.try_get("high_water_mark_after")?)?,
            time: time(row.try_get("time")?)?,
            trade_ids,
            income_ids,
        },
        booked_at: time(row.try_get("booked_at")?)?,
    })
}

/// Ledger rows per multi-row statement: 14 parameters each stays far below SQLite's
/// parameter limit, and 100 rows cut a 20,000-row booking from 120,000 statements (one
/// per row and per link) to a few hundred.
const ENTRY_CHUNK: usize = 100;

/// Inserts ledger rows and their source links on `conn` (inside the caller's transaction),
/// in input order. Returns each row's new id, or `None` for a `trade_ref` already booked
/// for the account (whose links are left as they were).
///
/// # Errors
/// [`StoreError::InvalidData`] when a referenced fill or income row is not in the
/// database; the caller's transaction must then be dropped.
async fn insert_entries(
    conn: &mut SqliteConnection,
    account_id: i64,
    entries: &[(&Symbol, &ShareEntry)],
    booked_at: DateTime<Utc>,
) -> Result<Vec<Option<i64>>> {
    let mut ids = Vec::with_capacity(entries.len());
    for chunk in entries.chunks(ENTRY_CHUNK) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO profit_share_ledger (account_id, symbol, trade_ref, total_pnl, shareable,
                 platform_share, user_share, platform_ratio, mode, share_decided,
                 cumulative_net_after, high_water_mark_after, time, booked_at) ",
        );
        q.push_values(chunk, |mut b, (symbol, entry)| {
            let (mode, decided) = stored_mode(entry.mode);
            b.push_bind(account_id)
                .push_bind(symbol.as_str().to_owned())
                .push_bind(entry.trade_ref.clone())
                .push_bind(entry.total_pnl.to_string())
                .push_bind(entry.shareable.to_string())
                .push_bind(entry.platform_share.to_string())
                .push_bind(entry.user_share.to_string())
                .push_bind(entry.platform_ratio.to_string())
                .push_bind(mode)
                .push_bind(decided)
                .push_bind(entry.cumulative_net_after.to_string())
                .push_bind(entry.high_water_mark_after.to_string())
                .push_bind(ms(entry.time))
                .push_bind(ms(booked_at));
        });
        // SQLite does not promise RETURNING rows in insertion order, so they are matched
        // back by trade_ref (unique per account).
        q.push(" ON CONFLICT (account_id, trade_ref) DO NOTHING RETURNING id, trade_ref");
        let inserted: HashMap<String, i64> = q
            .build_query_as::<(i64, String)>()
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(id, trade_ref)| (trade_ref, id))
            .collect();
        let chunk_ids: Vec<Option<i64>> = chunk
            .iter()
            .map(|(_, e)| inserted.get(&e.trade_ref).copied())
            .collect();
        link_sources(&mut *conn, account_id, chunk, &chunk_ids).await?;
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

/// Links the rows of `chunk` that were inserted (`ids[i]` is `Some`) to the fills and
/// income they derive from, two statements per chunk, and checks that every referenced
/// source exists.
async fn link_sources(
    conn: &mut SqliteConnection,
    account_id: i64,
    chunk: &[(&Symbol, &ShareEntry)],
    ids: &[Option<i64>],
) -> Result<()> {
    let mut fills: Vec<(i64, &str, i64, &str)> = Vec::new();
    let mut income: Vec<(i64, i64, &str)> = Vec::new();
    for ((symbol, entry), id) in chunk.iter().zip(ids) {
        let Some(id) = *id else { continue };
        let distinct_trades: HashSet<i64> = entry.trade_ids.iter().copied().collect();
        let mut trades: Vec<i64> = distinct_trades.into_iter().collect();
        trades.sort_unstable();
        fills.extend(
            trades
                .into_iter()
                .map(|t| (id, symbol.as_str(), t, entry.trade_ref.as_str())),
        );
        let distinct_trans: HashSet<i64> = entry.income_ids.iter().copied().collect();
        let mut trans: Vec<i64> = distinct_trans.into_iter().collect();
        trans.sort_unstable();
        income.extend(trans.into_iter().map(|t| (id, t, entry.trade_ref.as_str())));
    }
    // Several rows per source tuple are bound per statement; keep each statement's
    // parameters well under SQLite's limit.
    for part in fills.chunks(1000) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO profit_share_fills (ledger_id, fill_id)
             SELECT v.column1, f.id FROM (",
        );
        q.push_values(part, |mut b, (id, symbol, trade_id, _)| {
            b.push_bind(*id)
                .push_bind((*symbol).to_owned())
                .push_bind(*trade_id);
        });
        // CROSS JOIN keeps the tuples as the outer loop (one index seek each): left to
        // itself, SQLite's planner scanned all of the account's income and probed the
        // tuples instead (1.2 s for 300 links against 60,000 rows).
        q.push(") AS v CROSS JOIN fills f ON f.account_id = ")
            .push_bind(account_id)
            .push(" AND f.symbol = v.column2 AND f.trade_id = v.column3");
        // (account, symbol, trade id) is unique, so each tuple links at most one fill:
        // fewer rows than tuples means a source is missing.
        let linked = q.build().execute(&mut *conn).await?.rows_affected();
        if linked != part.len() as u64 {
            let missing = first_missing_fill(conn, account_id, part).await?;
            return Err(StoreError::invalid(match missing {
                Some((_, symbol, trade_id, trade_ref)) => {
                    format!("ledger row {trade_ref}: fill {symbol} #{trade_id} is not synced")
                }
                None => format!("ledger rows linked {linked} of {} fills", part.len()),
            }));
        }
    }
    for part in income.chunks(1000) {
        // A tranId is unique per income type, so one id may name several rows (the
        // realised PnL and commission of one trade); all of them are sources.
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO profit_share_income (ledger_id, income_id)
             SELECT v.column1, i.id FROM (",
        );
        q.push_values(part, |mut b, (id, tran_id, _)| {
            b.push_bind(*id).push_bind(*tran_id);
        });
        q.push(") AS v CROSS JOIN income i ON i.account_id = ")
            .push_bind(account_id)
            .push(" AND i.tran_id = v.column2");
        q.build().execute(&mut *conn).await?;
        let mut check: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT v.column1 FROM (");
        check.push_values(part.iter().enumerate(), |mut b, (i, (_, tran_id, _))| {
            b.push_bind(i as i64).push_bind(*tran_id);
        });
        check
            .push(") AS v WHERE NOT EXISTS (SELECT 1 FROM income i WHERE i.account_id = ")
            .push_bind(account_id)
            .push(" AND i.tran_id = v.column2) LIMIT 1");
        let missing: Option<(i64,)> = check.build_query_as().fetch_optional(&mut *conn).await?;
        if let Some((i,)) = missing {
            let (_, tran_id, trade_ref) = part[usize::try_from(i).unwrap_or_default()];
            return Err(StoreError::invalid(format!(
                "ledger row {trade_ref}: income tranId {tran_id} is not synced"
            )));
        }
    }
    Ok(())
}

/// Finds, for the error message only, the first fill tuple of `part` with no stored fill.
async fn first_missing_fill<'a>(
    conn: &mut SqliteConnection,
    account_id: i64,
    part: &[(i64, &'a str, i64, &'a str)],
) -> Result<Option<(i64, &'a str, i64, &'a str)>> {
    for tuple in part {
        let found: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM fills WHERE account_id = ? AND symbol = ? AND trade_id = ?",
        )
        .bind(account_id)
        .bind(tuple.1)
        .bind(tuple.2)
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_none() {
            return Ok(Some(*tuple));
        }
    }
    Ok(None)
}

impl Store {
    /// Appends a ledger row for a round trip on `symbol`, linking it to the stored fills
    /// (by `entry.trade_ids`) and income (by `entry.income_ids`) it derives from.
    ///
    /// Returns the new row's id, or `None` when this `trade_ref` was booked already for
    /// the account: booking is idempotent and the first row stands.
    ///
    /// # Errors
    /// Returns [`StoreError::InvalidData`] when a referenced fill or income row has not
    /// been synced (nothing is written then), [`StoreError::Sqlx`] otherwise.
    pub async fn append_share_entry(
        &self,
        account_id: i64,
        symbol: &Symbol,
        entry: &ShareEntry,
        booked_at: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let mut tx = self.write_tx().await?;
        let ids = insert_entries(&mut tx, account_id, &[(symbol, entry)], booked_at).await?;
        tx.commit().await?;
        Ok(ids.into_iter().next().flatten())
    }

    /// Appends several ledger rows, in order, in one transaction, provided the ledger's
    /// running state is still `from` (the state the rows were computed from). Returns the
    /// new rows' ids. Booking a large history this way is one commit instead of one per row.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the ledger moved since `from` was read or a row's
    /// `trade_ref` is booked already (another booking run got there first: recompute and
    /// retry); otherwise as [`Store::append_share_entry`]. Nothing is written on error.
    pub async fn append_share_entries(
        &self,
        account_id: i64,
        from: &LedgerState,
        entries: &[(Symbol, ShareEntry)],
        booked_at: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        let mut tx = self.write_tx().await?;
        let current = state_on(&mut tx, account_id).await?;
        if &current != from {
            return Err(StoreError::Conflict(format!(
                "ledger of account {account_id} moved while booking"
            )));
        }
        let rows: Vec<(&Symbol, &ShareEntry)> = entries.iter().map(|(s, e)| (s, e)).collect();
        let inserted = insert_entries(&mut tx, account_id, &rows, booked_at).await?;
        let mut ids = Vec::with_capacity(inserted.len());
        for ((_, entry), id) in entries.iter().zip(inserted) {
            let id = id.ok_or_else(|| {
                StoreError::Conflict(format!("ledger row {} is booked already", entry.trade_ref))
            })?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Returns an account's ledger rows with their source ids, oldest first.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn share_entries(&self, account_id: i64) -> Result<Vec<LedgerRow>> {
        self.share_entries_after(account_id, 0).await
    }

    /// Returns an account's ledger rows whose id is above `after_id`, oldest first: the
    /// rows a settlement through `after_id` has not yet covered.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn share_entries_after(
        &self,
        account_id: i64,
        after_id: i64,
    ) -> Result<Vec<LedgerRow>> {
        let mut conn = self.pool.acquire().await?;
        rows_between(&mut conn, account_id, after_id, i64::MAX).await
    }

    /// Returns the `trade_ref` of every ledger row of the account, so a booking run can
    /// skip round trips already booked without loading their sources.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] when SQLite refuses.
    pub async fn booked_trade_refs(&self, account_id: i64) -> Result<HashSet<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT trade_ref FROM profit_share_ledger WHERE account_id = ?")
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Returns the ledger's running state after its newest row (zero for an empty ledger),
    /// which is what the next booking continues from.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn ledger_state(&self, account_id: i64) -> Result<LedgerState> {
        let mut conn = self.pool.acquire().await?;
        state_on(&mut conn, account_id).await
    }
}

/// Returns an account's ledger rows with `after_id < id <= through_id`, oldest first, with
/// their source ids, read on `conn`.
pub(crate) async fn rows_between(
    conn: &mut SqliteConnection,
    account_id: i64,
    after_id: i64,
    through_id: i64,
) -> Result<Vec<LedgerRow>> {
    let rows = sqlx::query(
        "SELECT * FROM profit_share_ledger WHERE account_id = ? AND id > ? AND id <= ?
         ORDER BY id",
    )
    .bind(account_id)
    .bind(after_id)
    .bind(through_id)
    .fetch_all(&mut *conn)
    .await?;
    // The sources of all rows in two queries (not two per row): a statement over 20,000
    // rows would otherwise cost 40,000 round trips.
    let mut trades: HashMap<i64, Vec<i64>> = HashMap::new();
    let fill_links: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT l.ledger_id, f.trade_id FROM profit_share_fills l
         JOIN profit_share_ledger p ON p.id = l.ledger_id
         JOIN fills f ON f.id = l.fill_id
         WHERE p.account_id = ? AND p.id > ? AND p.id <= ? ORDER BY l.ledger_id, f.trade_id",
    )
    .bind(account_id)
    .bind(after_id)
    .bind(through_id)
    .fetch_all(&mut *conn)
    .await?;
    for (ledger_id, trade_id) in fill_links {
        trades.entry(ledger_id).or_default().push(trade_id);
    }
    let mut trans: HashMap<i64, Vec<i64>> = HashMap::new();
    let income_links: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT DISTINCT l.ledger_id, i.tran_id FROM profit_share_income l
         JOIN profit_share_ledger p ON p.id = l.ledger_id
         JOIN income i ON i.id = l.income_id
         WHERE p.account_id = ? AND p.id > ? AND p.id <= ? ORDER BY l.ledger_id, i.tran_id",
    )
    .bind(account_id)
    .bind(after_id)
    .bind(through_id)
    .fetch_all(&mut *conn)
    .await?;
    for (ledger_id, tran_id) in income_links {
        trans.entry(ledger_id).or_default().push(tran_id);
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        out.push(ledger_row(
            row,
            trades.remove(&id).unwrap_or_default(),
            trans.remove(&id).unwrap_or_default(),
        )?);
    }
    Ok(out)
}

/// The ledger's running state now, read on `conn`: the cumulative net after the newest row
/// and the mark, the higher of that row's and the newest settlement decision's (the mark
/// never falls, so the higher of the two is the later).
pub(crate) async fn state_on(conn: &mut SqliteConnection, account_id: i64) -> Result<LedgerState> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT cumulative_net_after, high_water_mark_after FROM profit_share_ledger
         WHERE account_id = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(account_id)
    .fetch_optional(&mut *conn)
    .await?;
    let decided: Option<(String,)> = sqlx::query_as(
        "SELECT d.mark_after FROM profit_share_decisions d
         JOIN profit_share_settlements s ON s.id = d.settlement_id
         WHERE s.account_id = ? ORDER BY s.id DESC LIMIT 1",
    )
    .bind(account_id)
    .fetch_optional(&mut *conn)
    .await?;
    let mut state = match row {
        None => LedgerState::default(),
        Some((cumulative, mark)) => LedgerState {
            cumulative_net: dec(&cumulative)?,
            high_water_mark: dec(&mark)?,
        },
    };
    if let Some((mark,)) = decided {
        state.high_water_mark = state.high_water_mark.max(dec(&mark)?);
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use perpdesk_core::{Fill, PositionSide, ShareMode, Side};
    use rust_decimal_macros::dec;

    use super::*;
    use crate::{Environment, NewAccount};

    fn at(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(ms).single().expect("time")
    }

    async fn booked() -> (Store, i64, i64) {
        let store = Store::open_in_memory().await.expect("store");
        let account = store
            .create_account(
                &NewAccount {
                    name: "a".into(),
                    environment: Environment::Paper,
                    api_key_id: "k".into(),
                    secret_sealed: "sealed".into(),
                },
                at(0),
            )
            .await
            .expect("account");
        let sym = Symbol::new("BTCUSDT").expect("symbol");
        let fill = Fill {
            symbol: sym.clone(),
            trade_id: 7,
            order_id: 1,
            client_order_id: None,
            side: Side::Sell,
            position_side: PositionSide::Both,
            price: dec!(100),
            quantity: dec!(1),
            realized_pnl: dec!(10),
            commission: dec!(0.1),
            commission_asset: "USDT".into(),
            maker: false,
            time: at(10),
        };
        store.sync_batch(account, &[fill], &[]).await.expect("sync");
        let entry = ShareEntry {
            trade_ref: "t1".into(),
            total_pnl: dec!(9.9),
            shareable: dec!(9.9),
            platform_share: dec!(6.93),
            user_share: dec!(2.97),
            platform_ratio: dec!(0.7),
            mode: ShareMode::HighWaterMark,
            cumulative_net_after: dec!(9.9),
            high_water_mark_after: dec!(9.9),
            time: at(10),
            trade_ids: vec![7],
            income_ids: vec![],
        };
        let id = store
            .append_share_entry(account, &sym, &entry, at(11))
            .await
            .expect("book")
            .expect("new row");
        (store, account, id)
    }

    #[tokio::test]
    async fn ledger_refuses_update_and_delete() {
        let (store, _, id) = booked().await;
        for sql in [
            "UPDATE profit_share_ledger SET platform_share = '0' WHERE id = ?",
            "DELETE FROM profit_share_ledger WHERE id = ?",
            "UPDATE profit_share_fills SET fill_id = fill_id WHERE ledger_id = ?",
            "DELETE FROM profit_share_fills WHERE ledger_id = ?",
        ] {
            let err = sqlx::query(sql)
                .bind(id)
                .execute(&store.pool)
                .await
                .expect_err(sql);
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        let rows = store.share_entries(1).await.expect("rows");
        assert_eq!(rows[0].entry.platform_share, dec!(6.93));
    }

    #[tokio::test]
    async fn booking_is_idempotent_and_keeps_sources() {
        let (store, account, _) = booked().await;
        let rows = store.share_entries(account).await.expect("rows");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].entry.trade_ids, vec![7]);
        let sym = rows[0].symbol.clone();
        let again = store
            .append_share_entry(account, &sym, &rows[0].entry, at(12))
            .await
            .expect("rebook");
        assert_eq!(again, None);
        let state = store.ledger_state(account).await.expect("state");
        assert_eq!(state.high_water_mark, dec!(9.9));

        let mut orphan = rows[0].entry.clone();
        orphan.trade_ref = "t2".into();
        orphan.trade_ids = vec![8];
        assert!(matches!(
            store
                .append_share_entry(account, &sym, &orphan, at(13))
                .await,
            Err(StoreError::InvalidData(_))
        ));
        assert_eq!(store.share_entries(account).await.expect("rows").len(), 1);
    }

    #[tokio::test]
    async fn settlements_refuse_update_and_delete() {
        let (store, account, _) = booked().await;
        let settled = store
            .settle_ledger(account, at(20))
            .await
            .expect("settle")
            .expect("one row");
        for sql in [
            "UPDATE profit_share_settlements SET platform_share = '0' WHERE id = ?",
            "DELETE FROM profit_share_settlements WHERE id = ?",
        ] {
            let err = sqlx::query(sql)
                .bind(settled.id)
                .execute(&store.pool)
                .await
                .expect_err(sql);
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        assert_eq!(
            store.settlements(account).await.expect("list"),
            vec![settled]
        );
    }
}
