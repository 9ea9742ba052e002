//! Sending: the one path an order leaves perpdesk by (journalled and approved first), the
//! protection of a filled entry, and the margin settings an entry needs.

use chrono::{DateTime, Utc};
use perpdesk_binance::{ExchangeError, OrderReport};
use perpdesk_core::journal::Leg;
use perpdesk_core::{MarginType, OrderRequest, OrderState, RiskApproved, Symbol};

use super::Execution;
use crate::engine::lock;
use crate::session::Session;
use crate::{AppError, AppEvent};

impl Execution {
    /// Places the stop-loss and take-profit of a filled entry; closes the position if the
    /// stop-loss cannot be placed.
    pub(super) async fn protect(
        &self,
        session: &Session,
        entry: &OrderRequest,
        stop_loss: Option<RiskApproved<OrderRequest>>,
        take_profit: Option<RiskApproved<OrderRequest>>,
        warnings: &mut Vec<String>,
    ) -> Result<(), AppError> {
        if let Some(sl) = &stop_loss
            && let Err(e) = self.send(session, sl, Leg::StopLoss).await
        {
            let why = e.to_string();
            tracing::error!(error = %why, order = %sl.get().client_order_id, "stop-loss refused; closing the position");
            let closed = self
                .flatten(session, &entry.symbol, entry.position_side)
                .await;
            if let Some(tp) = &take_profit {
                self.abandon(&[tp.get()], self.now(Some(session))).await;
            }
            let message = match closed {
                Ok(()) => format!(
                    "the stop-loss could not be placed ({why}); the position was closed at market"
                ),
                Err(close) => format!(
                    "the stop-loss could not be placed ({why}) and closing the position failed ({close}): close it by hand now"
                ),
            };
            self.events.emit(AppEvent::Risk {
                rule: "require_stop_loss".into(),
                message: message.clone(),
            });
            return Err(AppError::Conflict(message));
        }
        if let Some(tp) = &take_profit
            && let Err(e) = self.send(session, tp, Leg::TakeProfit).await
        {
            warnings.push(format!("the take-profit could not be placed: {e}"));
        }
        Ok(())
    }

    /// Sends one journalled, approved order and records the outcome. Returns the exchange's
    /// state. The only way an order leaves perpdesk: it takes nothing but an approval.
    pub(super) async fn send(
        &self,
        session: &Session,
        approved: &RiskApproved<OrderRequest>,
        leg: Leg,
    ) -> Result<OrderState, AppError> {
        let request = approved.get();
        let id = &request.client_order_id;
        let account = session.account.id;
        self.store
            .journal_transition(id, OrderState::Sent, None, None, self.now(Some(session)))
            .await?;
        let result = session.client.place_order(approved).await;
        let now = self.now(Some(session));
        match result {
            Ok(OrderReport {
                state,
                exchange_id,
                record,
            }) => {
                self.store
                    .journal_transition(id, state, Some(exchange_id), Some(&record), now)
                    .await?;
                self.emit_order(account, request, leg, state, "");
                Ok(state)
            }
            Err(ExchangeError::UnknownExecution { endpoint, detail }) => {
                // Lookups failed too: the order may exist. Reconciliation resolves it by id.
                let note = serde_json::json!({ "error": detail });
                self.store
                    .journal_transition(id, OrderState::Unknown, None, Some(&note), now)
                    .await?;
                self.emit_order(account, request, leg, OrderState::Unknown, &detail);
                Err(AppError::Exchange(ExchangeError::UnknownExecution {
                    endpoint,
                    detail: format!("{detail}; perpdesk will look the order up and reconcile it"),
                }))
            }
            Err(e @ ExchangeError::Rejected { .. }) => {
                let note = serde_json::json!({ "error": e.to_string() });
                self.store
                    .journal_transition(id, OrderState::Rejected, None, Some(&note), now)
                    .await?;
                self.emit_order(account, request, leg, OrderState::Rejected, &e.to_string());
                Err(e.into())
            }
            Err(e) => {
                // Refused before sending (rate limit, ban, no connection): it never reached
                // the exchange, so the click is given up rather than sent late.
                let note = serde_json::json!({ "error": e.to_string() });
                self.store
                    .journal_transition(id, OrderState::NotFound, None, Some(&note), now)
                    .await?;
                self.store
                    .journal_transition(id, OrderState::Abandoned, None, None, now)
                    .await?;
                self.emit_order(account, request, leg, OrderState::Abandoned, &e.to_string());
                Err(e.into())
            }
        }
    }

    fn emit_order(&self, account: i64, r: &OrderRequest, leg: Leg, state: OrderState, msg: &str) {
        self.events.emit(AppEvent::Order {
            account_id: account,
            symbol: r.symbol.to_string(),
            client_order_id: r.client_order_id.to_string(),
            leg,
            state,
            message: msg.to_owned(),
        });
    }

    /// Marks never-sent legs as given up.
    pub(super) async fn abandon(&self, legs: &[&OrderRequest], now: DateTime<Utc>) {
        for leg in legs {
            if let Err(e) = self
                .store
                .journal_transition(&leg.client_order_id, OrderState::Abandoned, None, None, now)
                .await
            {
                tracing::warn!(error = %e, order = %leg.client_order_id, "could not abandon a leg");
            }
        }
    }

    /// Sets margin type and leverage when they differ from what perpdesk last set.
    pub(super) async fn ensure_margin(
        &self,
        session: &Session,
        symbol: &Symbol,
        leverage: u32,
        margin_type: MarginType,
    ) -> Result<(), AppError> {
        let current = lock(&session.margin).get(symbol).copied();
        if current.map(|c| c.1) != Some(margin_type) {
            session
                .client
                .set_margin_type(symbol, margin_type)
                .await
                .map_err(|e| match e.reject_kind() {
                    Some(_) => AppError::Conflict(format!(
                        "cannot switch {symbol} to {margin_type:?} margin: {e}"
                    )),
                    None => e.into(),
                })?;
        }
        if current.map(|c| c.0) != Some(leverage) {
            session.client.set_leverage(symbol, leverage).await?;
        }
        lock(&session.margin).insert(symbol.clone(), (leverage, margin_type));
        Ok(())
    }
}
