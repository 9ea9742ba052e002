//! `fills` and `income`: the exchange's records, synced idempotently, and the PnL summary.

use std::collections::BTreeMap;

use perpdesk_core::{ClientOrderId, Fill, Income, IncomeKind, Symbol};
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use crate::value::{dec, e8, ms, position_side, position_side_str, side, side_str, symbol, time};
use crate::{Result, Store, StoreError};

/// Rows per multi-row INSERT: big enough that per-statement overhead vanishes, small
/// enough to stay far below SQLite's limit of 32,766 bound parameters (14 per fill).
const CHUNK: usize = 256;

/// How many synced rows were new; the rest were already stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    pub fills: u64,
    pub income: u64,
}

/// Realised PnL, commission and funding of one account over a time range.
///
/// Every total is an exact [`Decimal`] sum of the stored decimal text; commission and
/// funding are split by asset because they are not always paid in the same one (BNB
/// commission, USDC-margined contracts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PnlSummary {
    /// Number of fills in the range.
    pub fills: u64,
    /// Sum of the fills' realised PnL, in each contract's margin asset.
    pub realized_pnl: Decimal,
    /// Commission paid (positive), per asset.
    pub commission: BTreeMap<String, Decimal>,
    /// Funding received (positive) or paid (negative), per asset.
    pub funding: BTreeMap<String, Decimal>,
    /// Number of funding payments in the range.
    pub funding_events: u64,
}

impl PnlSummary {
    /// Returns realised PnL − commission + funding counting only amounts in `asset`.
    pub fn net_in(&self, asset: &str) -> Decimal {
        let zero = Decimal::ZERO;
        self.realized_pnl - self.commission.get(asset).copied().unwrap_or(zero)
            + self.funding.get(asset).copied().unwrap_or(zero)
    }
}

pub(crate) fn income_type(kind: &IncomeKind) -> &str {
    match kind {
        IncomeKind::RealizedPnl => "REALIZED_PNL",
        IncomeKind::Commission => "COMMISSION",
        IncomeKind::FundingFee => "FUNDING_FEE",
        IncomeKind::Transfer => "TRANSFER",
        IncomeKind::InsuranceClear => "INSURANCE_CLEAR",
        IncomeKind::Other(name) => name,
    }
}

fn income_kind(s: &str) -> IncomeKind {
    match s {
        "REALIZED_PNL" => IncomeKind::RealizedPnl,
        "COMMISSION" => IncomeKind::Commission,
        "FUNDING_FEE" => IncomeKind::FundingFee,
        "TRANSFER" => IncomeKind::Transfer,
        "INSURANCE_CLEAR" => IncomeKind::InsuranceClear,
        other => IncomeKind::Other(other.to_owned()),
    }
}

async fn insert_fills(conn: &mut SqliteConnection, account_id: i64, fills: &[Fill]) -> Result<u64> {
    let mut new = 0;
    for chunk in fills.chunks(CHUNK) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO fills (account_id, symbol, trade_id, order_id, client_order_id, side, \
             position_side, price, quantity, realized_pnl, commission, commission_asset, maker, time, \
             realized_pnl_e8, commission_e8) ",
        );
        q.push_values(chunk, |mut b, f| {
            b.push_bind(account_id)
                .push_bind(f.symbol.as_str())
                .push_bind(f.trade_id)
                .push_bind(f.order_id)
                .push_bind(f.client_order_id.as_ref().map(ClientOrderId::as_str))
                .push_bind(side_str(f.side))
                .push_bind(position_side_str(f.position_side))
                .push_bind(f.price.to_string())
                .push_bind(f.quantity.to_string())
                .push_bind(f.realized_pnl.to_string())
                .push_bind(f.commission.to_string())
                .push_bind(f.commission_asset.as_str())
                .push_bind(f.maker)
                .push_bind(ms(f.time))
                .push_bind(e8(f.realized_pnl))
                .push_bind(e8(f.commission));
        });
        q.push(" ON CONFLICT (account_id, symbol, trade_id) DO NOTHING");
        new += q.build().execute(&mut *conn).await?.rows_affected();
    }
    Ok(new)
}

async fn insert_income(
    conn: &mut SqliteConnection,
    account_id: i64,
    income: &[Income],
) -> Result<u64> {
    let mut new = 0;
    for chunk in income.chunks(CHUNK) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO income (account_id, tran_id, income_type, symbol, amount, asset, \
             trade_id, info, time, amount_e8) ",
        );
        q.push_values(chunk, |mut b, i| {
            b.push_bind(account_id)
                .push_bind(i.tran_id)
                .push_bind(income_type(&i.kind))
                .push_bind(i.symbol.as_ref().map(|s| s.as_str()))
                .push_bind(i.amount.to_string())
                .push_bind(i.asset.as_str())
                .push_bind(i.trade_id)
                .push_bind(i.info.as_str())
                .push_bind(ms(i.time))
                .push_bind(e8(i.amount));
        });
        q.push(" ON CONFLICT (account_id, income_type, tran_id) DO NOTHING");
        new += q.build().execute(&mut *conn).await?.rows_affected();
    }
    Ok(new)
}

fn fill(row: &SqliteRow) -> Result<Fill> {
    let coid: Option<&str> = row.try_get("client_order_id")?;
    Ok(Fill {
        symbol: symbol(row.try_get("symbol")?)?,
        trade_id: row.try_get("trade_id")?,
        order_id: row.try_get("order_id")?,
        client_order_id: coid
            .map(ClientOrderId::new)
            .transpose()
            .map_err(|e| StoreError::invalid(e.to_string()))?,
        side: side(row.try_get("side")?)?,
        position_side: position_side(row.try_get("position_side")?)?,
        price: dec(row.try_get("price")?)?,
        quantity: dec(row.try_get("quantity")?)?,
        realized_pnl: dec(row.try_get("realized_pnl")?)?,
        commission: dec(row.try_get("commission")?)?,
        commission_asset: row.try_get("commission_asset")?,
        maker: row.try_get("maker")?,
        time: time(row.try_get("time")?)?,
    })
}

fn income(row: &SqliteRow) -> Result<Income> {
    let sym: Option<&str> = row.try_get("symbol")?;
    Ok(Income {
        tran_id: row.try_get("tran_id")?,
        symbol: sym.map(symbol).transpose()?,
        kind: income_kind(row.try_get("income_type")?),
        amount: dec(row.try_get("amount")?)?,
        asset: row.try_get("asset")?,
        trade_id: row.try_get("trade_id")?,
        info: row.try_get("info")?,
        time: time(row.try_get("time")?)?,
    })
}

impl Store {
    /// Stores a sync batch of fills and income in one transaction: either all new rows are
    /// stored or none. Rows already present are skipped, so re-syncing an overlapping
    /// window is harmless.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] when SQLite refuses (an unknown `account_id` violates
    /// its foreign key); nothing of the batch is stored then.
    pub async fn sync_batch(
        &self,
        account_id: i64,
        fills: &[Fill],
        income: &[Income],
    ) -> Result<SyncCounts> {
        let mut tx = self.write_tx().await?;
        let counts = SyncCounts {
            fills: insert_fills(&mut tx, account_id, fills).await?,
            income: insert_income(&mut tx, account_id, income).await?,
        };
        tx.commit().await?;
        Ok(counts)
    }

    /// Returns an account's fills with `from_ms <= time < to_ms`, oldest first.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn fills(&self, account_id: i64, from_ms: i64, to_ms: i64) -> Result<Vec<Fill>> {
        sqlx::query(
            "SELECT * FROM fills WHERE account_id = ? AND time >= ? AND time < ?
             ORDER BY time, id",
        )
        .bind(account_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(fill)
        .collect()
    }

    /// Returns an account's income with `from_ms <= time < to_ms`, oldest first.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn income(&self, account_id: i64, from_ms: i64, to_ms: i64) -> Result<Vec<Income>> {
        sqlx::query(
            "SELECT * FROM income WHERE account_id = ? AND time >= ? AND time < ?
             ORDER BY time, id",
        )
        .bind(account_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(income)
        .collect()
    }

    /// Returns the time (ms) of the newest stored fill of `account_id`, where an
    /// incremental sync resumes.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] when SQLite refuses.
    pub async fn last_fill_time(&self, account_id: i64) -> Result<Option<i64>> {
        let row: (Option<i64>,) =
            sqlx::query_as("SELECT MAX(time) FROM fills WHERE account_id = ?")
                .bind(account_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(row.0)
    }

    /// Returns the highest stored trade id of `account_id` on `symbol`: an incremental
    /// `userTrades` sync asks for trade ids above it (Binance numbers trades per symbol).
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] when SQLite refuses.
    pub async fn last_trade_id(&self, account_id: i64, symbol: &Symbol) -> Result<Option<i64>> {
        let row: (Option<i64>,) =
            sqlx::query_as("SELECT MAX(trade_id) FROM fills WHERE account_id = ? AND symbol = ?")
                .bind(account_id)
                .bind(symbol.as_str())
                .fetch_one(&self.pool)
                .await?;
        Ok(row.0)
    }

    /// Returns the time (ms) of the newest stored income row of `account_id`, where an
    /// incremental income sync resumes.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] when SQLite refuses.
    pub async fn last_income_time(&self, account_id: i64) -> Result<Option<i64>> {
        let row: (Option<i64>,) =
            sqlx::query_as("SELECT MAX(time) FROM income WHERE account_id = ?")
                .bind(account_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(row.0)
    }

    /// Sums realised PnL, commission and funding of `account_id` over
    /// `from_ms <= time < to_ms`.
    ///
    /// Exactness: every amount is also stored as an integer count of 1e-8 units
    /// (`*_e8` columns) when that is exact, and SQLite adds those with integer `SUM()`,
    /// which is exact and fails loudly on overflow. Amounts with more than 8 decimals have
    /// no shadow; those rows (and any group that would overflow) are summed in Rust over
    /// [`Decimal`] from the TEXT column. SQL never sums the TEXT itself, which would go
    /// through floating point.
    ///
    /// Speed: the fill scan is served entirely by the covering index
    /// `fills_account_time (account_id, time, commission_asset, realized_pnl_e8,
    /// commission_e8)`; funding uses the range index `income_account_type_time
    /// (account_id, income_type, time, asset, amount_e8)`.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for a value that is not
    /// a decimal.
    pub async fn pnl_summary(
        &self,
        account_id: i64,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<PnlSummary> {
        let mut s = PnlSummary::default();
        let fast: std::result::Result<Vec<AssetGroup>, _> = sqlx::query_as(
            "SELECT commission_asset, COUNT(*), SUM(realized_pnl_e8), SUM(commission_e8),
                        COUNT(*) - MIN(COUNT(realized_pnl_e8), COUNT(commission_e8))
                 FROM fills WHERE account_id = ? AND time >= ? AND time < ?
                 GROUP BY commission_asset",
        )
        .bind(account_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await;
        let slow_fills = match fast {
            Ok(groups) => {
                let mut unscaled = false;
                for (asset, count, realized, commission, missing) in groups {
                    s.fills += count as u64;
                    s.realized_pnl += Decimal::new(realized.unwrap_or(0), 8);
                    *s.commission.entry(asset).or_default() +=
                        Decimal::new(commission.unwrap_or(0), 8);
                    unscaled |= missing > 0;
                }
                // Only rows without a complete shadow are left for Rust to add.
                unscaled.then_some(" AND (realized_pnl_e8 IS NULL OR commission_e8 IS NULL)")
            }
            Err(e) if is_overflow(&e) => {
                s = PnlSummary::default();
                Some("")
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(filter) = slow_fills {
            let counted = s.fills > 0;
            let rows = sqlx::query(&format!(
                "SELECT realized_pnl, commission, commission_asset, realized_pnl_e8, commission_e8
                 FROM fills WHERE account_id = ? AND time >= ? AND time < ?{filter}"
            ))
            .bind(account_id)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&self.pool)
            .await?;
            for row in &rows {
                let asset: &str = row.try_get(2)?;
                let realized_e8: Option<i64> = row.try_get(3)?;
                let commission_e8: Option<i64> = row.try_get(4)?;
                // In the partial pass, a value whose shadow exists was already summed.
                if !counted || realized_e8.is_none() {
                    s.realized_pnl += dec(row.try_get(0)?)?;
                }
                if !counted || commission_e8.is_none() {
                    *s.commission.entry(asset.to_owned()).or_default() += dec(row.try_get(1)?)?;
                }
            }
            if !counted {
                s.fills = rows.len() as u64;
            }
        }

        let rows = sqlx::query(
            "SELECT amount, asset, amount_e8 FROM income
             WHERE account_id = ? AND income_type = 'FUNDING_FEE' AND time >= ? AND time < ?",
        )
        .bind(account_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?;
        // Funding is paid at most every hour per symbol: few rows, so Rust sums them all.
        for row in &rows {
            let asset: &str = row.try_get(1)?;
            let amount_e8: Option<i64> = row.try_get(2)?;
            let amount = match amount_e8 {
                Some(units) => Decimal::new(units, 8),
                None => dec(row.try_get(0)?)?,
            };
            *s.funding.entry(asset.to_owned()).or_default() += amount;
        }
        s.funding_events = rows.len() as u64;

        s.realized_pnl = s.realized_pnl.normalize();
        for v in s.commission.values_mut().chain(s.funding.values_mut()) {
            *v = v.normalize();
        }
        Ok(s)
    }
}

/// One commission asset's fills in a summary: asset, fill count, realised PnL and
/// commission in 1e-8 units, and how many fills lack a shadow value.
type AssetGroup = (String, i64, Option<i64>, Option<i64>, i64);

/// SQLite's integer `SUM()` raises this instead of wrapping or rounding.
fn is_overflow(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.message().contains("integer overflow"))
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn shadow_units_are_exact_or_absent() {
        assert_eq!(e8(dec!(0.00000001)), Some(1));
        assert_eq!(e8(dec!(-123456789.12345678)), Some(-12_345_678_912_345_678));
        assert_eq!(e8(dec!(0.100000000000)), Some(10_000_000));
        assert_eq!(e8(dec!(0.000000001)), None);
        assert_eq!(e8(dec!(79228162514264337593543950335)), None);
    }

    #[tokio::test]
    async fn pnl_summary_reads_only_the_covering_indexes() {
        let store = Store::open_in_memory().await.expect("store");
        for (sql, index) in [
            (
                "EXPLAIN QUERY PLAN SELECT commission_asset, COUNT(*), SUM(realized_pnl_e8),
                     SUM(commission_e8), COUNT(*) - MIN(COUNT(realized_pnl_e8), COUNT(commission_e8))
                 FROM fills WHERE account_id = 1 AND time >= 0 AND time < 10
                 GROUP BY commission_asset",
                "USING COVERING INDEX fills_account_time",
            ),
            (
                "EXPLAIN QUERY PLAN SELECT amount, asset, amount_e8 FROM income
                 WHERE account_id = 1 AND income_type = 'FUNDING_FEE' AND time >= 0 AND time < 10",
                "USING INDEX income_account_type_time",
            ),
        ] {
            let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sql)
                .fetch_all(&store.pool)
                .await
                .expect("plan");
            let text: Vec<_> = plan.into_iter().map(|r| r.3).collect();
            assert!(text.iter().any(|d| d.contains(index)), "{text:?}");
        }
    }
}
