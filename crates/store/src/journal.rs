//! `orders_journal` and `order_events`: every order's intent, written before it is sent,
//! and each state change after, so a restart knows which orders to look up.

use chrono::{DateTime, Utc};
use perpdesk_core::{ClientOrderId, OrderKind, OrderRequest, OrderState};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::value::{from_json, from_name, json, ms, name, time};
use crate::{Result, Store, StoreError};

/// An order as the journal knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub id: i64,
    pub account_id: i64,
    /// The request exactly as it was about to be sent.
    pub request: OrderRequest,
    pub state: OrderState,
    /// The exchange's order id, once an answer carried it.
    pub exchange_order_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One recorded state change of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEvent {
    pub state: OrderState,
    /// What accompanied the change (the exchange's answer, an error message).
    pub detail: Option<serde_json::Value>,
    pub at: DateTime<Utc>,
}

/// The kind column: the exchange's word, for filtering without parsing the intent JSON.
fn kind_name(kind: &OrderKind) -> &'static str {
    match kind {
        OrderKind::Market => "MARKET",
        OrderKind::Limit { .. } => "LIMIT",
        OrderKind::StopMarket { .. } => "STOP_MARKET",
        OrderKind::TakeProfitMarket { .. } => "TAKE_PROFIT_MARKET",
    }
}

fn entry(row: &SqliteRow) -> Result<JournalEntry> {
    Ok(JournalEntry {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        request: from_json(row.try_get("intent")?)?,
        state: from_name(row.try_get("state")?)?,
        exchange_order_id: row.try_get("exchange_order_id")?,
        created_at: time(row.try_get("created_at")?)?,
        updated_at: time(row.try_get("updated_at")?)?,
    })
}

impl Store {
    /// Records an order's intent (state `INTENT`) before it is sent, and returns the
    /// journal id. Call this, and let it succeed, before the request leaves the machine.
    ///
    /// # Errors
    /// Returns [`StoreError::Conflict`] when the client order id was journalled already,
    /// [`StoreError::Sqlx`] otherwise (an unknown account violates the foreign key).
    pub async fn journal_intent(
        &self,
        account_id: i64,
        request: &OrderRequest,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        let ids = self.journal_intents(account_id, &[request], at).await?;
        ids.into_iter()
            .next()
            .ok_or_else(|| StoreError::invalid("no journal id returned"))
    }

    /// Records several intents (the legs of one ticket) in one transaction: all or none.
    ///
    /// # Errors
    /// As [`Store::journal_intent`]; on any error nothing is written.
    pub async fn journal_intents(
        &self,
        account_id: i64,
        requests: &[&OrderRequest],
        at: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        let mut tx = self.write_tx().await?;
        let ids = insert_intents(&mut tx, account_id, requests, at).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Moves an order to `next`, appending the change to its events.
    ///
    /// The change must be legal by [`OrderState::can_become`]; `exchange_order_id`, when
    /// given, is recorded too.
    ///
    /// # Errors
    /// Returns [`StoreError::InvalidData`] for an unknown order, [`StoreError::Conflict`]
    /// for an illegal change or when another writer changed the order meanwhile,
    /// [`StoreError::Sqlx`] otherwise.
    pub async fn journal_transition(
        &self,
        client_order_id: &ClientOrderId,
        next: OrderState,
        exchange_order_id: Option<i64>,
        detail: Option<&serde_json::Value>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let current = self
            .journal_entry(client_order_id)
            .await?
            .ok_or_else(|| StoreError::invalid(format!("no journalled order {client_order_id}")))?;
        perpdesk_core::journal::transition(client_order_id, current.state, next)
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        let mut tx = self.write_tx().await?;
        // Compare-and-set on the state read above: a concurrent writer makes this match
        // nothing instead of silently overwriting its change.
        let done = sqlx::query(
            "UPDATE orders_journal
             SET state = ?, updated_at = ?, exchange_order_id = COALESCE(?, exchange_order_id)
             WHERE id = ? AND state = ?",
        )
        .bind(name(&next)?)
        .bind(ms(at))
        .bind(exchange_order_id)
        .bind(current.id)
        .bind(name(&current.state)?)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "order {client_order_id} changed while moving it to {next}"
            )));
        }
        sqlx::query("INSERT INTO order_events (journal_id, state, detail, at) VALUES (?, ?, ?, ?)")
            .bind(current.id)
            .bind(name(&next)?)
            .bind(detail.map(json).transpose()?)
            .bind(ms(at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Returns the journal entry of one order, if any.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn journal_entry(
        &self,
        client_order_id: &ClientOrderId,
    ) -> Result<Option<JournalEntry>> {
        let row = sqlx::query("SELECT * FROM orders_journal WHERE client_order_id = ?")
            .bind(client_order_id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(entry).transpose()
    }

    /// Returns an order's state changes, oldest first (the first is always `INTENT`).
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn journal_events(&self, client_order_id: &ClientOrderId) -> Result<Vec<OrderEvent>> {
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "SELECT e.state, e.detail, e.at FROM order_events e
             JOIN orders_journal j ON j.id = e.journal_id
             WHERE j.client_order_id = ? ORDER BY e.id",
        )
        .bind(client_order_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(state, detail, at)| {
                Ok(OrderEvent {
                    state: from_name(&state)?,
                    detail: detail.as_deref().map(from_json).transpose()?,
                    at: time(at)?,
                })
            })
            .collect()
    }

    /// Returns an account's orders whose outcome is not known locally: written but maybe
    /// not sent (`INTENT`), sent without an answer (`SENT`) or `UNKNOWN`. After a restart
    /// each must be looked up by client order id before anything else is sent.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn journal_unresolved(&self, account_id: i64) -> Result<Vec<JournalEntry>> {
        sqlx::query(
            "SELECT * FROM orders_journal
             WHERE account_id = ? AND state IN ('INTENT', 'SENT', 'UNKNOWN') ORDER BY id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(entry)
        .collect()
    }
}
impl Store {
    /// Returns the client order ids the journal recorded for `order_ids` (exchange order
    /// ids) of `account_id`; ids the journal never saw are absent from the map.
    ///
    /// Sync uses this before asking the exchange, because `userTrades` does not carry the
    /// client order id and old orders may no longer be listed by `allOrders`.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable id.
    pub async fn journal_client_ids(
        &self,
        account_id: i64,
        order_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, ClientOrderId>> {
        let mut out = std::collections::HashMap::with_capacity(order_ids.len());
        // Bounded chunks keep each statement far below SQLite's bound-parameter limit.
        for chunk in order_ids.chunks(500) {
            let mut q: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(
                "SELECT exchange_order_id, client_order_id FROM orders_journal
                 WHERE account_id = ",
            );
            q.push_bind(account_id).push(" AND exchange_order_id IN (");
            let mut ids = q.separated(", ");
            for id in chunk {
                ids.push_bind(*id);
            }
            q.push(")");
            for row in q.build().fetch_all(&self.pool).await? {
                let order_id: i64 = row.try_get(0)?;
                let coid: &str = row.try_get(1)?;
                let coid =
                    ClientOrderId::new(coid).map_err(|e| StoreError::invalid(e.to_string()))?;
                out.insert(order_id, coid);
            }
        }
        Ok(out)
    }

    /// Counts the entry orders (client ids `pd-<ticket>-en…`) journalled since `since`: the
    /// "trades today" of the risk rules. Counted from intents, so an order whose outcome is
    /// still unknown counts too (the limit must hold whether or not it executed).
    ///
    /// # Errors
    /// [`StoreError::Sqlx`].
    pub async fn journal_entries_since(
        &self,
        account_id: i64,
        since: DateTime<Utc>,
    ) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM orders_journal
             WHERE account_id = ? AND created_at >= ? AND client_order_id LIKE 'pd-%-en%'
               AND state NOT IN ('NOT_FOUND', 'ABANDONED', 'REJECTED')",
        )
        .bind(account_id)
        .bind(ms(since))
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Returns the journalled orders of an account, newest first, at most `limit`.
    ///
    /// # Errors
    /// [`StoreError::Sqlx`] or [`StoreError::InvalidData`].
    pub async fn journal_recent(&self, account_id: i64, limit: u32) -> Result<Vec<JournalEntry>> {
        sqlx::query("SELECT * FROM orders_journal WHERE account_id = ? ORDER BY id DESC LIMIT ?")
            .bind(account_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(entry)
            .collect()
    }

    /// Returns the orders the journal believes are working on the exchange (`NEW`,
    /// `PARTIALLY_FILLED`), oldest first, however old: reconciliation must see every one.
    ///
    /// # Errors
    /// [`StoreError::Sqlx`] or [`StoreError::InvalidData`].
    pub async fn journal_working(&self, account_id: i64) -> Result<Vec<JournalEntry>> {
        sqlx::query(
            "SELECT * FROM orders_journal
             WHERE account_id = ? AND state IN ('NEW', 'PARTIALLY_FILLED') ORDER BY id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(entry)
        .collect()
    }
}

/// Writes the intents and their first events inside `tx` (the caller commits or drops it).
async fn insert_intents(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    account_id: i64,
    requests: &[&OrderRequest],
    at: DateTime<Utc>,
) -> Result<Vec<i64>> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let state = name(&OrderState::Intent)?;
    let mut intents = Vec::with_capacity(requests.len());
    for request in requests {
        intents.push(json(request)?);
    }
    // One statement for all legs of a ticket (a click writes three): the journal write
    // sits on the click path, and each statement is a round trip to SQLite's thread.
    let mut q: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(
        "INSERT INTO orders_journal (client_order_id, account_id, symbol, side, kind, quantity,
                 price, trigger_price, state, intent, created_at, updated_at) ",
    );
    q.push_values(requests.iter().zip(intents), |mut b, (request, intent)| {
        let (price, trigger) = match &request.kind {
            OrderKind::Market => (None, None),
            OrderKind::Limit { price, .. } => (Some(price.to_string()), None),
            OrderKind::StopMarket { stop_price, .. }
            | OrderKind::TakeProfitMarket { stop_price, .. } => {
                (None, Some(stop_price.to_string()))
            }
        };
        b.push_bind(request.client_order_id.as_str().to_owned())
            .push_bind(account_id)
            .push_bind(request.symbol.as_str().to_owned())
            .push_bind(crate::value::side_str(request.side))
            .push_bind(kind_name(&request.kind))
            .push_bind(request.quantity.map(|q| q.to_string()))
            .push_bind(price)
            .push_bind(trigger)
            .push_bind(state.clone())
            .push_bind(intent)
            .push_bind(ms(at))
            .push_bind(ms(at));
    });
    // SQLite does not promise RETURNING rows in insertion order: matched by client id.
    q.push(" ON CONFLICT (client_order_id) DO NOTHING RETURNING id, client_order_id");
    let inserted: std::collections::HashMap<String, i64> = q
        .build_query_as::<(i64, String)>()
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|(id, coid)| (coid, id))
        .collect();
    // A client id twice in one batch inserts once: as much a conflict as one journalled before.
    let mut ids = Vec::with_capacity(requests.len());
    for request in requests {
        let id = inserted
            .get(request.client_order_id.as_str())
            .copied()
            .ok_or_else(|| {
                StoreError::Conflict(format!(
                    "order {} is journalled already",
                    request.client_order_id
                ))
            })?;
        if ids.contains(&id) {
            return Err(StoreError::Conflict(format!(
                "order {} appears twice in one ticket",
                request.client_order_id
            )));
        }
        ids.push(id);
    }
    let mut events: sqlx::QueryBuilder<sqlx::Sqlite> =
        sqlx::QueryBuilder::new("INSERT INTO order_events (journal_id, state, detail, at) ");
    events.push_values(&ids, |mut b, id| {
        b.push_bind(*id)
            .push_bind(state.clone())
            .push_bind(None::<String>)
            .push_bind(ms(at));
    });
    events.build().execute(&mut **tx).await?;
    Ok(ids)
}
