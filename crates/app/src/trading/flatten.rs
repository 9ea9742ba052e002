//! Closing: flattening one position or all of them (the kill switch), and canceling
//! perpdesk's exit orders with a journalled record of each cancel.

use perpdesk_binance::{ExchangeError, ExitOrder, OpenOrder, RejectKind};
use perpdesk_core::journal::{Leg, client_order_id, ticket_id};
use perpdesk_core::risk::approve_exit;
use perpdesk_core::{
    ClientOrderId, OrderKind, OrderRequest, OrderState, PositionSide, RiskLimits, Side, Symbol,
    TicketOrigin,
};
use rust_decimal::Decimal;

use super::{Execution, symbol};
use crate::session::Session;
use crate::{AppError, AppEvent, Engine};

/// Set while a kill switch turned on while locked still has positions to close at unlock.
const KILL_FLATTEN_PENDING: &str = "risk.kill_switch_flatten_pending";

impl Execution {
    /// Closes one position at market with a journalled `Close` leg and cancels its TP/SL.
    pub(crate) async fn flatten(
        &self,
        session: &Session,
        symbol: &Symbol,
        position_side: PositionSide,
    ) -> Result<(), AppError> {
        let rows = session.client.position_reports(Some(symbol)).await?;
        let Some(row) = rows
            .iter()
            .map(|r| &r.position)
            .find(|p| p.position_side == position_side)
        else {
            return Ok(());
        };
        let amount = row.quantity;
        let side = match position_side {
            PositionSide::Long => Side::Sell,
            PositionSide::Short => Side::Buy,
            PositionSide::Both if amount > Decimal::ZERO => Side::Sell,
            PositionSide::Both => Side::Buy,
        };
        let now = self.now(Some(session));
        let ticket = ticket_id(
            TicketOrigin::Manual,
            now.timestamp_millis(),
            self.next_seq(),
        );
        let request = OrderRequest {
            symbol: symbol.clone(),
            side,
            position_side,
            kind: OrderKind::Market,
            quantity: Some(amount.abs()),
            reduce_only: position_side == PositionSide::Both,
            close_position: false,
            client_order_id: client_order_id(&ticket, Leg::Close, 0)
                .map_err(|e| AppError::Internal(e.to_string()))?,
        };
        // A close only shrinks risk: the exit rule passes it by design, and going through it
        // keeps "every order is approved" true without exceptions.
        let approved = approve_exit(request).map_err(AppError::Risk)?;
        self.store
            .journal_intent(session.account.id, approved.get(), now)
            .await?;
        self.send(session, &approved, Leg::Close).await?;
        let request = approved.into_inner();
        self.audit(
            "app",
            "order.close",
            serde_json::json!({"account": session.account.id, "symbol": symbol, "quantity": amount.abs(), "order": request.client_order_id}),
        )
        .await;
        self.cancel_exits(session, symbol, position_side).await?;
        self.events.emit(AppEvent::Positions {
            account_id: session.account.id,
        });
        Ok(())
    }

    /// Cancels perpdesk's open TP/SL algo orders of one position side.
    async fn cancel_exits(
        &self,
        session: &Session,
        symbol: &Symbol,
        position_side: PositionSide,
    ) -> Result<(), AppError> {
        let open = session.client.open_exits(Some(symbol)).await?;
        for a in open.iter().filter(|a| {
            a.position_side == position_side
                && a.client_id
                    .starts_with(perpdesk_core::journal::CLIENT_ID_PREFIX)
        }) {
            self.cancel_algo(session, a).await?;
        }
        Ok(())
    }

    pub(super) async fn cancel_algo(
        &self,
        session: &Session,
        a: &ExitOrder,
    ) -> Result<(), AppError> {
        let result = session.client.cancel_exit(a.algo_id).await;
        self.record_cancel(session, result, &a.client_id, a.algo_id)
            .await
    }

    async fn cancel_regular(&self, session: &Session, o: &OpenOrder) -> Result<(), AppError> {
        let result = session.client.cancel_order(&o.symbol, o.order_id).await;
        self.record_cancel(session, result, &o.client_order_id, o.order_id)
            .await
    }

    /// Journals a cancel. "No such order" counts as done: the order triggered, filled or was
    /// canceled meanwhile, and the goal (nothing left working) is reached either way.
    async fn record_cancel(
        &self,
        session: &Session,
        result: Result<(), ExchangeError>,
        client_id: &str,
        exchange_id: i64,
    ) -> Result<(), AppError> {
        match result {
            Ok(()) => {}
            Err(e) if e.reject_kind() == Some(RejectKind::NoSuchOrder) => {}
            Err(e) => return Err(e.into()),
        }
        if let Ok(id) = ClientOrderId::new(client_id)
            && let Some(j) = self.store.journal_entry(&id).await?
            && !j.state.is_terminal()
        {
            self.store
                .journal_transition(
                    &id,
                    OrderState::Canceled,
                    Some(exchange_id),
                    None,
                    self.now(Some(session)),
                )
                .await?;
        }
        Ok(())
    }
}

impl Engine {
    /// Closes a position from the UI.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for a bad symbol; exchange errors.
    pub async fn close_position(
        &self,
        symbol_name: &str,
        position_side: PositionSide,
    ) -> Result<(), AppError> {
        let session = self.active_session().await?;
        let symbol = symbol(symbol_name)?;
        let _one_at_a_time = self.exec.lock().await;
        self.execution
            .flatten(&session, &symbol, position_side)
            .await
    }

    /// Turns the kill switch on (flattening every position and canceling every open order
    /// first) or off. On works locked or not; off loosens safety and needs the vault
    /// unlocked and `password` ([`Engine::set_risk_limits`]).
    ///
    /// While locked there is no session to trade with (locking closed them, and their keys
    /// are sealed): the switch is saved, new orders are blocked at once, and closing the
    /// positions waits for the next unlock, where it runs before anything else
    /// ([`Engine::vault_unlock`]); the log, the audit and a risk event say so.
    ///
    /// # Errors
    /// Exchange errors while flattening; the switch is saved on before flattening starts,
    /// so no new order can slip in while it runs. For off, as [`Engine::set_risk_limits`].
    pub async fn set_kill_switch(
        &self,
        on: bool,
        password: Option<perpdesk_vault::SecretString>,
    ) -> Result<RiskLimits, AppError> {
        let mut limits = self.risk_limits().await?;
        limits.kill_switch = on;
        let limits = self.set_risk_limits(limits, password).await?;
        if !on {
            self.store
                .put_setting(KILL_FLATTEN_PENDING, &false, self.now(None))
                .await?;
            return Ok(limits);
        }
        if self.vault().is_err() {
            self.store
                .put_setting(KILL_FLATTEN_PENDING, &true, self.now(None))
                .await?;
            tracing::warn!(
                "kill switch on while locked: new orders blocked; positions close at the next unlock"
            );
            self.audit(
                "user",
                "risk.kill_switch",
                serde_json::json!({"on": true, "flatten": "at_unlock"}),
            )
            .await;
            self.events.emit(AppEvent::Risk {
                rule: "kill_switch".into(),
                message: "kill switch on: new orders blocked; positions are closed when the vault is unlocked".into(),
            });
            return Ok(limits);
        }
        let closed = self.flatten_everything().await?;
        self.audit(
            "user",
            "risk.kill_switch",
            serde_json::json!({"on": true, "closed": closed}),
        )
        .await;
        self.events.emit(AppEvent::Risk {
            rule: "kill_switch".into(),
            message: format!("kill switch on: {closed} position(s) closed, new orders blocked"),
        });
        Ok(limits)
    }

    /// Closes every position of the active account and cancels perpdesk's open orders;
    /// returns how many positions it closed.
    async fn flatten_everything(&self) -> Result<usize, AppError> {
        let session = self.active_session().await?;
        let _one_at_a_time = self.exec.lock().await;
        let positions = session.client.positions().await?;
        for p in &positions {
            self.execution
                .flatten(&session, &p.symbol, p.position_side)
                .await?;
        }
        let open = session.client.open_orders().await?;
        for o in open.iter().filter(|o| {
            o.client_order_id
                .starts_with(perpdesk_core::journal::CLIENT_ID_PREFIX)
        }) {
            self.execution.cancel_regular(&session, o).await?;
        }
        Ok(positions.len())
    }

    /// At unlock, first: closes the positions of a kill switch turned on while locked. A
    /// failure is logged and reported, and the flattening is tried again at the next
    /// unlock; the switch itself keeps every new order out meanwhile.
    pub(crate) async fn flatten_if_killed_while_locked(&self) {
        let pending = self
            .store
            .setting::<bool>(KILL_FLATTEN_PENDING)
            .await
            .ok()
            .flatten()
            .unwrap_or(false);
        if !pending {
            return;
        }
        let still_on = self.risk_limits().await.is_ok_and(|l| l.kill_switch);
        let outcome = if still_on {
            self.flatten_everything().await
        } else {
            Ok(0)
        };
        match outcome {
            Ok(closed) => {
                if let Err(e) = self
                    .store
                    .put_setting(KILL_FLATTEN_PENDING, &false, self.now(None))
                    .await
                {
                    tracing::error!(error = %e, "clearing the kill switch's pending flattening failed");
                }
                if still_on {
                    tracing::warn!(closed, "kill switch: positions closed at unlock");
                    self.audit(
                        "app",
                        "risk.kill_switch",
                        serde_json::json!({"on": true, "closed": closed, "at": "unlock"}),
                    )
                    .await;
                    self.events.emit(AppEvent::Risk {
                        rule: "kill_switch".into(),
                        message: format!(
                            "kill switch on: {closed} position(s) closed at unlock, new orders blocked"
                        ),
                    });
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "kill switch: closing the positions at unlock failed; tried again at the next unlock");
                self.events.emit(AppEvent::Risk {
                    rule: "kill_switch".into(),
                    message: format!(
                        "kill switch on, but closing the positions failed: {e}; close them by hand"
                    ),
                });
            }
        }
    }
}
