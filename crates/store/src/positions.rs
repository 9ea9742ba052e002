//! `position_snapshots`: positions as the exchange reported them at a moment.

use chrono::{DateTime, Utc};
use perpdesk_core::Position;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::value::{dec, from_name, ms, name, position_side, position_side_str, symbol, time};
use crate::{Result, Store, StoreError};

/// A stored position with the moment it was snapshotted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionSnapshot {
    pub account_id: i64,
    pub position: Position,
    pub taken_at: DateTime<Utc>,
}

fn snapshot(row: &SqliteRow) -> Result<PositionSnapshot> {
    let leverage: i64 = row.try_get("leverage")?;
    Ok(PositionSnapshot {
        account_id: row.try_get("account_id")?,
        position: Position {
            symbol: symbol(row.try_get("symbol")?)?,
            position_side: position_side(row.try_get("position_side")?)?,
            quantity: dec(row.try_get("quantity")?)?,
            entry_price: dec(row.try_get("entry_price")?)?,
            mark_price: dec(row.try_get("mark_price")?)?,
            leverage: u32::try_from(leverage)
                .map_err(|_| StoreError::invalid(format!("leverage {leverage}")))?,
            margin_type: from_name(row.try_get("margin_type")?)?,
            isolated_margin: dec(row.try_get("isolated_margin")?)?,
            liquidation_price: dec(row.try_get("liquidation_price")?)?,
            updated_at: time(row.try_get("updated_at")?)?,
        },
        taken_at: time(row.try_get("taken_at")?)?,
    })
}

impl Store {
    /// Stores the account's positions as of `taken_at`, all in one transaction. An empty
    /// slice is a valid snapshot of a flat account but stores nothing.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] when SQLite refuses (unknown account).
    pub async fn snapshot_positions(
        &self,
        account_id: i64,
        positions: &[Position],
        taken_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for p in positions {
            sqlx::query(
                "INSERT INTO position_snapshots (account_id, symbol, position_side, quantity,
                     entry_price, mark_price, leverage, margin_type, isolated_margin,
                     liquidation_price, updated_at, taken_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(account_id)
            .bind(p.symbol.as_str())
            .bind(position_side_str(p.position_side))
            .bind(p.quantity.to_string())
            .bind(p.entry_price.to_string())
            .bind(p.mark_price.to_string())
            .bind(i64::from(p.leverage))
            .bind(name(&p.margin_type)?)
            .bind(p.isolated_margin.to_string())
            .bind(p.liquidation_price.to_string())
            .bind(ms(p.updated_at))
            .bind(ms(taken_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Returns the positions of the account's most recent snapshot.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn latest_positions(&self, account_id: i64) -> Result<Vec<PositionSnapshot>> {
        sqlx::query(
            "SELECT * FROM position_snapshots
             WHERE account_id = ?1
               AND taken_at = (SELECT MAX(taken_at) FROM position_snapshots WHERE account_id = ?1)
             ORDER BY symbol, position_side",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(snapshot)
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use perpdesk_core::{MarginType, PositionSide};
    use rust_decimal_macros::dec;

    use super::*;
    use crate::{Environment, NewAccount};

    #[tokio::test]
    async fn latest_snapshot_wins() {
        let store = Store::open_in_memory().await.expect("store");
        let t = |ms| Utc.timestamp_millis_opt(ms).single().expect("time");
        let acc = store
            .create_account(
                &NewAccount {
                    name: "a".into(),
                    environment: Environment::Live,
                    api_key_id: "k".into(),
                    secret_sealed: "s".into(),
                },
                t(0),
            )
            .await
            .expect("account");
        let p = Position {
            symbol: perpdesk_core::Symbol::new("BTCUSDT").expect("symbol"),
            position_side: PositionSide::Both,
            quantity: dec!(-0.005),
            entry_price: dec!(65000.1),
            mark_price: dec!(64990.55),
            leverage: 20,
            margin_type: MarginType::Isolated,
            isolated_margin: dec!(16.25002500),
            liquidation_price: dec!(68000),
            updated_at: t(5),
        };
        store
            .snapshot_positions(acc, std::slice::from_ref(&p), t(10))
            .await
            .expect("first");
        let mut later = p.clone();
        later.mark_price = dec!(64000);
        store
            .snapshot_positions(acc, &[later.clone()], t(20))
            .await
            .expect("second");
        let latest = store.latest_positions(acc).await.expect("latest");
        assert_eq!(latest.len(), 1);
        assert_eq!(latest[0].position, later);
        assert_eq!(latest[0].taken_at, t(20));
        assert!(
            store
                .snapshot_positions(acc + 1, &[p], t(30))
                .await
                .is_err()
        );
    }
}
