//! `profit_share_settlements`, `profit_share_decisions` and `profit_share_statements`:
//! settlements of the profit-share ledger, what each decided above the mark, and the signed
//! statement of each. All three are append-only (triggers refuse UPDATE and DELETE), so a
//! paid period never silently reopens and a statement once given stays as it was.
//!
//! A settlement made before the settlement mode existed has no decision row: it paid the
//! sum of its rows' shares, and reads back with `decision: None` (its statement's rule is
//! [`SettlementRule::SumOfRows`]).

use chrono::{DateTime, Utc};
use perpdesk_core::ledger::settle;
use perpdesk_core::statement::{StatementInput, Terms};
use perpdesk_core::{
    Decision, LedgerState, SettlementRule, SettlementStatement, ShareEntry, ShareRatio,
    SignedStatement, Symbol,
};
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::ledger::{LedgerRow, rows_between, state_on};
use crate::value::{dec, from_name, ms, name, time};
use crate::{Result, Store, StoreError};

/// One settlement: the ledger rows through `through_ledger_id` (and after the previous
/// settlement) paid out, with their exact totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub id: i64,
    pub account_id: i64,
    /// The newest ledger row covered; rows with a higher id are owed in the next period.
    pub through_ledger_id: i64,
    pub entries: u64,
    pub net_pnl: Decimal,
    /// What the settlement pays: its rows' shares plus its decision's.
    pub shareable: Decimal,
    pub platform_share: Decimal,
    pub user_share: Decimal,
    pub settled_at: DateTime<Utc>,
    /// What the settlement decided above the mark; `None` for one made before settlements
    /// decided anything.
    pub decision: Option<Decision>,
}

impl Settlement {
    /// Returns the rule the settlement was made under.
    pub fn rule(&self) -> SettlementRule {
        if self.decision.is_some() {
            SettlementRule::AboveTheMark
        } else {
            SettlementRule::SumOfRows
        }
    }
}

const SETTLEMENT_COLUMNS: &str = "s.id, s.account_id, s.through_ledger_id, s.entries, s.net_pnl,
    s.shareable, s.platform_share, s.user_share, s.settled_at,
    d.platform_ratio AS d_platform_ratio, d.mode AS d_mode, d.cumulative_net AS d_cumulative_net,
    d.mark_before AS d_mark_before, d.shareable AS d_shareable,
    d.platform_share AS d_platform_share, d.user_share AS d_user_share,
    d.mark_after AS d_mark_after
    FROM profit_share_settlements s
    LEFT JOIN profit_share_decisions d ON d.settlement_id = s.id";

fn settlement(row: &SqliteRow) -> Result<Settlement> {
    let entries: i64 = row.try_get("entries")?;
    let ratio: Option<String> = row.try_get("d_platform_ratio")?;
    let decision = match ratio {
        None => None,
        Some(ratio) => {
            let d = |c: &str| -> Result<Decimal> { dec(row.try_get(c)?) };
            let ratio = ShareRatio::new(dec(&ratio)?)
                .map_err(|e| StoreError::invalid(format!("settlement decision: {e}")))?;
            Some(Decision {
                platform_ratio: ratio,
                mode: from_name(row.try_get("d_mode")?)?,
                cumulative_net: d("d_cumulative_net")?,
                mark_before: d("d_mark_before")?,
                shareable: d("d_shareable")?,
                platform_share: d("d_platform_share")?,
                user_share: d("d_user_share")?,
                mark_after: d("d_mark_after")?,
            })
        }
    };
    Ok(Settlement {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        through_ledger_id: row.try_get("through_ledger_id")?,
        entries: u64::try_from(entries)
            .map_err(|_| StoreError::invalid(format!("settlement entries {entries}")))?,
        net_pnl: dec(row.try_get("net_pnl")?)?,
        shareable: dec(row.try_get("shareable")?)?,
        platform_share: dec(row.try_get("platform_share")?)?,
        user_share: dec(row.try_get("user_share")?)?,
        settled_at: time(row.try_get("settled_at")?)?,
        decision,
    })
}

/// A settled period as its statement needs it: the settlement, where it opened and the
/// rows it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledPeriod {
    pub settlement: Settlement,
    /// 1 for the account's first settlement.
    pub sequence: u64,
    /// The settlement before it, if any.
    pub previous: Option<Settlement>,
    /// The ledger's state after the previous settlement (zero before the first).
    pub opening: LedgerState,
    /// The terms of the newest row the previous settlement covered.
    pub opening_terms: Option<Terms>,
    /// The rows the settlement covers, oldest first, with their source ids.
    pub rows: Vec<LedgerRow>,
}

impl SettledPeriod {
    /// Builds the period's statement (see [`SettlementStatement::build`]) and checks that it
    /// pays exactly what the stored settlement paid.
    ///
    /// # Errors
    /// [`StoreError::InvalidData`] when the stored rows do not follow from the ledger's rule
    /// or the statement's totals differ from the stored settlement's.
    pub fn statement(&self, account: &str, include_manual: bool) -> Result<SettlementStatement> {
        let rows: Vec<(Symbol, ShareEntry)> = self
            .rows
            .iter()
            .map(|r| (r.symbol.clone(), r.entry.clone()))
            .collect();
        let s = &self.settlement;
        let statement = SettlementStatement::build(&StatementInput {
            account,
            sequence: self.sequence,
            period_start: self.previous.as_ref().map(|p| p.settled_at),
            settled_at: s.settled_at,
            include_manual,
            opening: self.opening.clone(),
            opening_terms: self.opening_terms,
            rows: &rows,
            rule: s.rule(),
        })
        .map_err(|e| StoreError::invalid(format!("settlement {}: {e}", s.id)))?;
        let t = &statement.totals;
        let stored = (
            s.entries,
            s.net_pnl,
            s.shareable,
            s.platform_share,
            s.user_share,
        );
        let built = (
            t.trades,
            t.net_pnl,
            t.shareable,
            t.platform_share,
            t.user_share,
        );
        if stored != built || statement.decision != s.decision {
            return Err(StoreError::invalid(format!(
                "settlement {} paid {stored:?} and decided {:?}; its rows give {built:?} and {:?}",
                s.id, s.decision, statement.decision
            )));
        }
        Ok(statement)
    }
}

impl Store {
    /// Settles every ledger row of the account not covered by an earlier settlement, as of
    /// `settled_at`, and returns the new settlement; `None` when nothing was unsettled
    /// (nothing is written then).
    ///
    /// The settlement pays the rows' own shares plus what it decides above the mark
    /// ([`perpdesk_core::ledger::settle`]), with the split and mode of the newest row. The
    /// read and the inserts share one transaction, so a row booked meanwhile is either in
    /// this settlement or left for the next, never in both.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`], or [`StoreError::InvalidData`] for an unreadable row
    /// or a stored split that is not one.
    pub async fn settle_ledger(
        &self,
        account_id: i64,
        settled_at: DateTime<Utc>,
    ) -> Result<Option<Settlement>> {
        let mut tx = self.write_tx().await?;
        let (after,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(MAX(through_ledger_id), 0) FROM profit_share_settlements
             WHERE account_id = ?",
        )
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
        let rows = rows_between(&mut tx, account_id, after, i64::MAX).await?;
        let state = state_on(&mut tx, account_id).await?;
        let entries: Vec<ShareEntry> = rows.iter().map(|r| r.entry.clone()).collect();
        let Some(through) = rows.last().map(|r| r.id) else {
            return Ok(None);
        };
        let settled = settle(&state, &entries)
            .map_err(|e| StoreError::invalid(format!("ledger row {through}: {e}")))?
            .expect("the period has rows");
        let t = &settled.totals;
        let done = sqlx::query(
            "INSERT INTO profit_share_settlements (account_id, through_ledger_id, entries,
                 net_pnl, shareable, platform_share, user_share, settled_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(account_id)
        .bind(through)
        .bind(i64::try_from(rows.len()).unwrap_or(i64::MAX))
        .bind(t.net_pnl.to_string())
        .bind(t.shareable.to_string())
        .bind(t.platform_share.to_string())
        .bind(t.user_share.to_string())
        .bind(ms(settled_at))
        .execute(&mut *tx)
        .await?;
        let id = done.last_insert_rowid();
        let d = &settled.decision;
        sqlx::query(
            "INSERT INTO profit_share_decisions (settlement_id, platform_ratio, mode,
                 cumulative_net, mark_before, shareable, platform_share, user_share, mark_after)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(d.platform_ratio.platform().to_string())
        .bind(name(&d.mode)?)
        .bind(d.cumulative_net.to_string())
        .bind(d.mark_before.to_string())
        .bind(d.shareable.to_string())
        .bind(d.platform_share.to_string())
        .bind(d.user_share.to_string())
        .bind(d.mark_after.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(Settlement {
            id,
            account_id,
            through_ledger_id: through,
            entries: t.trades,
            net_pnl: t.net_pnl,
            shareable: t.shareable,
            platform_share: t.platform_share,
            user_share: t.user_share,
            settled_at,
            decision: Some(settled.decision),
        }))
    }

    /// Returns the account's settlements, oldest first.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn settlements(&self, account_id: i64) -> Result<Vec<Settlement>> {
        sqlx::query(&format!(
            "SELECT {SETTLEMENT_COLUMNS} WHERE s.account_id = ? ORDER BY s.id"
        ))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(settlement)
        .collect()
    }

    /// Returns the period a settlement of the account covers, read in one transaction;
    /// `None` when the account has no such settlement.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn settled_period(
        &self,
        account_id: i64,
        settlement_id: i64,
    ) -> Result<Option<SettledPeriod>> {
        let mut tx = self.pool.begin().await?;
        let all: Vec<Settlement> = sqlx::query(&format!(
            "SELECT {SETTLEMENT_COLUMNS} WHERE s.account_id = ? AND s.id <= ? ORDER BY s.id"
        ))
        .bind(account_id)
        .bind(settlement_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(settlement)
        .collect::<Result<_>>()?;
        let Some((settlement, earlier)) = all.split_last() else {
            return Ok(None);
        };
        if settlement.id != settlement_id {
            return Ok(None);
        }
        let previous = earlier.last().cloned();
        let (opening, opening_terms) = match &previous {
            None => (LedgerState::default(), None),
            Some(p) => {
                let through = p.through_ledger_id;
                let last = rows_between(&mut tx, account_id, through - 1, through)
                    .await?
                    .pop()
                    .ok_or_else(|| {
                        StoreError::invalid(format!("settlement {}: row {through} is gone", p.id))
                    })?;
                // The mark never falls, so the highest decided is the latest.
                let decided = earlier
                    .iter()
                    .filter_map(|s| s.decision.as_ref().map(|d| d.mark_after))
                    .max()
                    .unwrap_or(Decimal::ZERO);
                let ratio = ShareRatio::new(last.entry.platform_ratio)
                    .map_err(|e| StoreError::invalid(format!("ledger row {through}: {e}")))?;
                (
                    LedgerState {
                        cumulative_net: last.entry.cumulative_net_after,
                        high_water_mark: last.entry.high_water_mark_after.max(decided),
                    },
                    Some(Terms {
                        mode: last.entry.mode,
                        platform_ratio: ratio,
                    }),
                )
            }
        };
        let after = previous.as_ref().map_or(0, |p| p.through_ledger_id);
        let rows = rows_between(&mut tx, account_id, after, settlement.through_ledger_id).await?;
        tx.commit().await?;
        Ok(Some(SettledPeriod {
            settlement: settlement.clone(),
            sequence: all.len() as u64,
            previous,
            opening,
            opening_terms,
            rows,
        }))
    }

    /// Stores the signed statement of a settlement of the account, once.
    ///
    /// # Errors
    /// [`StoreError::InvalidData`] when the account has no such settlement or the statement
    /// is not of it (sequence, time or totals differ); [`StoreError::Conflict`] when the
    /// settlement has a statement already; [`StoreError::Sqlx`] otherwise.
    pub async fn append_statement(
        &self,
        account_id: i64,
        settlement_id: i64,
        signed: &SignedStatement,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let period = self
            .settled_period(account_id, settlement_id)
            .await?
            .ok_or_else(|| {
                StoreError::invalid(format!(
                    "account {account_id} has no settlement {settlement_id}"
                ))
            })?;
        let (s, t) = (&period.settlement, &signed.statement.totals);
        let of_it = signed.statement.sequence == period.sequence
            && signed.statement.settled_at_ms == ms(s.settled_at)
            && (
                t.trades,
                t.net_pnl,
                t.shareable,
                t.platform_share,
                t.user_share,
            ) == (
                s.entries,
                s.net_pnl,
                s.shareable,
                s.platform_share,
                s.user_share,
            );
        if !of_it {
            return Err(StoreError::invalid(format!(
                "the statement is not of settlement {settlement_id}"
            )));
        }
        let done = sqlx::query(
            "INSERT INTO profit_share_statements (settlement_id, signed, key_fingerprint,
                 created_at)
             VALUES (?, ?, ?, ?) ON CONFLICT (settlement_id) DO NOTHING",
        )
        .bind(settlement_id)
        .bind(
            serde_json::to_string(signed)
                .map_err(|e| StoreError::invalid(format!("statement: {e}")))?,
        )
        .bind(signed.public_key.fingerprint())
        .bind(ms(at))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "settlement {settlement_id} has a statement already"
            )));
        }
        Ok(())
    }

    /// Returns the signed statement of a settlement of the account, if one was stored.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable one.
    pub async fn statement(
        &self,
        account_id: i64,
        settlement_id: i64,
    ) -> Result<Option<SignedStatement>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT t.signed FROM profit_share_statements t
             JOIN profit_share_settlements s ON s.id = t.settlement_id
             WHERE s.account_id = ? AND t.settlement_id = ?",
        )
        .bind(account_id)
        .bind(settlement_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(json,)| {
            SignedStatement::from_json(&json)
                .map_err(|e| StoreError::invalid(format!("statement {settlement_id}: {e}")))
        })
        .transpose()
    }

    /// Returns the ids of the account's settlements that have no statement yet, oldest
    /// first (a statement is signed after its settlement is written, so a crash between the
    /// two leaves one to sign at the next start).
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] when SQLite refuses.
    pub async fn settlements_without_statement(&self, account_id: i64) -> Result<Vec<i64>> {
        let ids: Vec<(i64,)> = sqlx::query_as(
            "SELECT s.id FROM profit_share_settlements s
             LEFT JOIN profit_share_statements t ON t.settlement_id = s.id
             WHERE s.account_id = ? AND t.settlement_id IS NULL ORDER BY s.id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use chrono::TimeZone;
    use perpdesk_core::ledger::book;
    use perpdesk_core::{ClosedTrade, ShareMode};
    use rust_decimal_macros::dec;
    use sqlx::migrate::Migrator;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

    use super::*;
    use crate::store::MIGRATOR;

    fn at(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(ms).single().expect("time")
    }

    /// A database as perpdesk left it before version 5: a 70/30 high-water-mark ledger of
    /// a win and a loss, settled once (rows and settlement written as that build wrote
    /// them).
    async fn version_4_ledger(path: &std::path::Path) {
        let pool = SqlitePool::connect_with(
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true),
        )
        .await
        .expect("pool");
        Migrator {
            migrations: Cow::Owned(
                MIGRATOR
                    .iter()
                    .filter(|m| m.version <= 4)
                    .cloned()
                    .collect(),
            ),
            ..Migrator::DEFAULT
        }
        .run(&pool)
        .await
        .expect("version 4");
        for sql in [
            "INSERT INTO exchange_accounts (name, environment, api_key_id, secret_sealed, created_at)
             VALUES ('old', 'paper', 'k', 'sealed', 1)",
            "INSERT INTO profit_share_ledger (account_id, symbol, trade_ref, total_pnl, shareable,
                 platform_share, user_share, platform_ratio, mode, cumulative_net_after,
                 high_water_mark_after, time, booked_at)
             VALUES (1, 'BTCUSDT', 'BTCUSDT:Both:1', '10', '10', '7.0', '3.0', '0.7',
                     'high_water_mark', '10', '10', 100, 101),
                    (1, 'BTCUSDT', 'BTCUSDT:Both:3', '-4', '0', '0', '0', '0.7',
                     'high_water_mark', '6', '10', 200, 201)",
            "INSERT INTO profit_share_settlements (account_id, through_ledger_id, entries, net_pnl,
                 shareable, platform_share, user_share, settled_at)
             VALUES (1, 2, 2, '6', '10', '7.0', '3.0', 300)",
        ] {
            sqlx::query(sql).execute(&pool).await.expect(sql);
        }
        pool.close().await;
    }

    #[tokio::test]
    async fn a_ledger_settled_before_version_5_reads_under_the_rule_it_was_made_by() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        version_4_ledger(&path).await;
        let store = Store::open(&path).await.expect("upgrade");

        let rows = store.share_entries(1).await.expect("rows");
        assert!(
            rows.iter()
                .all(|r| r.entry.mode == ShareMode::HighWaterMark)
        );
        let old = store.settlements(1).await.expect("settlements");
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].decision, None);
        assert_eq!(old[0].rule(), SettlementRule::SumOfRows);
        let period = store.settled_period(1, old[0].id).await.expect("read");
        let period = period.expect("the settlement");
        assert_eq!(period.sequence, 1);
        let statement = period.statement("old", false).expect("builds");
        assert_eq!(statement.rule, SettlementRule::SumOfRows);
        assert_eq!(statement.totals.platform_share, dec!(7.0));

        // The next trade is booked at settlement: the settlement decides above the mark of
        // 10 that the old rows left, and its statement shows the change of mode.
        let state = store.ledger_state(1).await.expect("state");
        assert_eq!(
            (state.cumulative_net, state.high_water_mark),
            (dec!(6), dec!(10))
        );
        let trade = ClosedTrade {
            trade_ref: "BTCUSDT:Both:5".into(),
            realized_pnl: dec!(9),
            commission: dec!(0),
            funding: dec!(0),
            closed_at: at(400),
            trade_ids: Vec::new(),
            income_ids: Vec::new(),
        };
        let (entry, _) = book(&state, &trade, ShareRatio::default(), ShareMode::Settlement);
        let symbol = Symbol::new("BTCUSDT").expect("symbol");
        store
            .append_share_entries(1, &state, &[(symbol, entry)], at(401))
            .await
            .expect("book");
        let new = store
            .settle_ledger(1, at(500))
            .await
            .expect("settle")
            .expect("one row");
        let d = new.decision.clone().expect("decided");
        assert_eq!((d.cumulative_net, d.mark_before), (dec!(15), dec!(10)));
        assert_eq!(
            (d.shareable, d.platform_share, d.user_share),
            (dec!(5), dec!(3.5), dec!(1.5))
        );
        assert_eq!(new.platform_share, dec!(3.5));
        let period = store
            .settled_period(1, new.id)
            .await
            .expect("read")
            .expect("the settlement");
        assert_eq!(period.sequence, 2);
        assert_eq!(
            (
                period.opening.cumulative_net,
                period.opening.high_water_mark
            ),
            (dec!(6), dec!(10))
        );
        let statement = period.statement("old", false).expect("builds");
        assert_eq!(statement.rule, SettlementRule::AboveTheMark);
        assert_eq!(statement.changes.len(), 1);
        assert_eq!(statement.changes[0].from.mode, ShareMode::HighWaterMark);
        assert_eq!(statement.changes[0].to.mode, ShareMode::Settlement);
        assert_eq!(
            store.ledger_state(1).await.expect("state").high_water_mark,
            dec!(15)
        );
        let raw: (String, String) = sqlx::query_as(
            "SELECT mode, share_decided FROM profit_share_ledger WHERE trade_ref = 'BTCUSDT:Both:5'",
        )
        .fetch_one(&store.pool)
        .await
        .expect("raw");
        assert_eq!(raw, ("high_water_mark".into(), "at_settlement".into()));
        for sql in [
            "UPDATE profit_share_decisions SET platform_share = '0'",
            "DELETE FROM profit_share_decisions",
            "UPDATE profit_share_ledger SET share_decided = 'at_booking'",
        ] {
            let err = sqlx::query(sql).execute(&store.pool).await.expect_err(sql);
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        let err = sqlx::query(
            "INSERT INTO profit_share_ledger (account_id, symbol, trade_ref, total_pnl, shareable,
                 platform_share, user_share, platform_ratio, mode, share_decided,
                 cumulative_net_after, high_water_mark_after, time, booked_at)
             VALUES (1, 'BTCUSDT', 'x', '1', '0', '0', '0', '0.7', 'per_trade', 'at_settlement',
                     '16', '15', 600, 601)",
        )
        .execute(&store.pool)
        .await
        .expect_err("per trade cannot wait for a settlement");
        assert!(err.to_string().contains("CHECK"), "{err}");
    }
}
