//! Reconciliation: resolving what the journal does not know for sure after a timeout or a
//! restart, and repairing protection (a missing stop is re-placed).

use perpdesk_binance::{ExitKind, OrderReport};
use perpdesk_core::journal::{Leg, client_order_id, parse_client_order_id, ticket_id};
use perpdesk_core::risk::approve_exit;
use perpdesk_core::{
    OrderKind, OrderRequest, OrderState, PositionSide, RiskLimits, Side, Symbol, TicketOrigin,
    WorkingType,
};
use perpdesk_store::JournalEntry;
use rust_decimal::Decimal;
use serde::Serialize;

use super::Execution;
use crate::session::Session;
use crate::{AppError, AppEvent, Engine};

impl Engine {
    /// Resolves everything the journal does not know for sure, and repairs protection:
    /// - orders sent without a known outcome are looked up by client id;
    /// - an entry that never reached the exchange is given up (a stale click is never
    ///   sent late);
    /// - take-profit/stop-loss intents of a filled entry are sent; those of an entry that
    ///   will not fill are given up;
    /// - perpdesk's TP/SL orders left on a flat position are canceled;
    /// - an open position without a stop-loss gets one (when stops are mandatory).
    ///
    /// # Errors
    /// Exchange or store errors; what was repaired before the error stays repaired and a
    /// later pass continues.
    pub async fn reconcile(&self, account_id: i64) -> Result<ReconcileReport, AppError> {
        let session = self.session(account_id).await?;
        let _one_at_a_time = self.exec.lock().await;
        // Read before the pass, not during it: execution holds no settings of its own.
        let limits = self.risk_limits().await?;
        self.execution.reconcile(&session, &limits).await
    }
}

impl Execution {
    /// One reconciliation pass over `session` (see [`Engine::reconcile`]); `limits` decide
    /// whether a position without a stop gets one.
    pub(super) async fn reconcile(
        &self,
        session: &Session,
        limits: &RiskLimits,
    ) -> Result<ReconcileReport, AppError> {
        let account_id = session.account.id;
        let mut report = ReconcileReport::default();
        // 1. Look up every order whose fate is unknown.
        for e in self.store.journal_unresolved(account_id).await? {
            if e.state.needs_lookup() {
                let state = self.look_up(session, &e).await?;
                report.looked_up += 1;
                tracing::info!(order = %e.request.client_order_id, %state, "reconciled by lookup");
            }
        }
        // Orders the journal thinks are working may have filled, triggered or been canceled
        // since (a target hit while the app was closed): ask about those no longer listed.
        let (open_orders, open_exits) = tokio::try_join!(
            session.client.open_orders(),
            session.client.open_exits(None)
        )?;
        for e in self.store.journal_working(account_id).await? {
            let id = e.request.client_order_id.as_str();
            let listed = open_orders.iter().any(|o| o.client_order_id == id)
                || open_exits.iter().any(|a| a.client_id == id);
            if !listed {
                self.look_up(session, &e).await?;
                report.looked_up += 1;
            }
        }
        // 2. Decide for every leg still not sent.
        let positions = session.client.positions().await?;
        let is_open = |s: &Symbol, ps: PositionSide| {
            positions
                .iter()
                .any(|p| p.symbol == *s && p.position_side == ps)
        };
        let now = self.now(Some(session));
        for e in self.store.journal_unresolved(account_id).await? {
            let Some((ticket, leg, _)) = parse_client_order_id(&e.request.client_order_id) else {
                continue;
            };
            if e.state != OrderState::Intent {
                continue;
            }
            // An entry or close never sent is given up; so is a protective leg whose entry did
            // not fill and is not resting; a protective leg of a filled, open entry is sent now.
            let abandon = match leg {
                Leg::Entry | Leg::Close => true,
                Leg::StopLoss | Leg::TakeProfit => {
                    let entry_id = client_order_id(&ticket, Leg::Entry, 0)
                        .map_err(|err| AppError::Internal(err.to_string()))?;
                    let entry = self.store.journal_entry(&entry_id).await?;
                    let entry_state = entry.as_ref().map(|x| x.state);
                    let filled = matches!(
                        entry_state,
                        Some(OrderState::Filled | OrderState::PartiallyFilled)
                    );
                    let waiting = matches!(entry_state, Some(OrderState::New));
                    if filled && is_open(&e.request.symbol, e.request.position_side) {
                        let sent = match approve_exit(e.request.clone()) {
                            Ok(exit) => self.send(session, &exit, leg).await,
                            Err(refusal) => Err(AppError::Risk(refusal)),
                        };
                        match sent {
                            Ok(_) => report.placed += 1,
                            Err(err) if leg == Leg::StopLoss => {
                                tracing::error!(error = %err, "stop-loss refused on reconcile; closing");
                                self.flatten(session, &e.request.symbol, e.request.position_side)
                                    .await?;
                                report.flattened += 1;
                            }
                            Err(err) => {
                                tracing::warn!(error = %err, "take-profit refused on reconcile");
                            }
                        }
                        false
                    } else {
                        !waiting
                    }
                }
            };
            if abandon {
                self.store
                    .journal_transition(
                        &e.request.client_order_id,
                        OrderState::Abandoned,
                        None,
                        None,
                        now,
                    )
                    .await?;
                report.abandoned += 1;
            }
        }
        // 3. Orphaned exits and missing stops, from the exchange's own lists.
        let positions = session.client.positions().await?;
        let algos = session.client.open_exits(None).await?;
        for a in &algos {
            let ours = a
                .client_id
                .starts_with(perpdesk_core::journal::CLIENT_ID_PREFIX);
            let open = positions
                .iter()
                .any(|p| p.symbol == a.symbol && p.position_side == a.position_side);
            if ours && a.close_position && !open {
                self.cancel_algo(session, a).await?;
                report.orphans_canceled += 1;
            }
        }
        if limits.require_stop_loss {
            for p in &positions {
                let ps = p.position_side;
                let has_stop = algos.iter().any(|a| {
                    a.symbol == p.symbol
                        && a.position_side == ps
                        && a.kind == ExitKind::StopMarket
                        && a.awaiting_trigger
                });
                if !has_stop {
                    self.replace_stop(session, p, limits).await?;
                    report.stops_replaced += 1;
                }
            }
        }
        if report != ReconcileReport::default() {
            self.events.emit(AppEvent::Positions { account_id });
        }
        Ok(report)
    }

    /// Looks one order up by its client id and records what the exchange says.
    async fn look_up(&self, session: &Session, e: &JournalEntry) -> Result<OrderState, AppError> {
        let found = session.client.order_report(&e.request).await?;
        let now = self.now(Some(session));
        let client_id = &e.request.client_order_id;
        match found {
            Some(OrderReport {
                state,
                exchange_id,
                record,
            }) => {
                self.store
                    .journal_transition(client_id, state, Some(exchange_id), Some(&record), now)
                    .await?;
                Ok(state)
            }
            None => {
                self.store
                    .journal_transition(client_id, OrderState::NotFound, None, None, now)
                    .await?;
                // It never arrived. A late entry is not what was clicked, so it is given
                // up; a missing stop-loss is re-placed under a new attempt number by the
                // "position without a stop" repair below, which knows the current position.
                self.store
                    .journal_transition(client_id, OrderState::Abandoned, None, None, now)
                    .await?;
                Ok(OrderState::Abandoned)
            }
        }
    }

    /// Places a stop-loss for a position that has none: at the stop the ticket journalled
    /// if there is one, else at the farthest distance the risk limits allow.
    async fn replace_stop(
        &self,
        session: &Session,
        p: &perpdesk_core::Position,
        limits: &RiskLimits,
    ) -> Result<(), AppError> {
        let symbol = p.symbol.clone();
        let ps = p.position_side;
        let long = match ps {
            PositionSide::Long => true,
            PositionSide::Short => false,
            PositionSide::Both => p.quantity > Decimal::ZERO,
        };
        let recent = self.store.journal_recent(session.account.id, 500).await?;
        // Only a stop of this position's direction is a candidate: in one-way mode the
        // newest stop on the symbol may be an earlier short's, above a long's market.
        let exit_side = if long { Side::Sell } else { Side::Buy };
        let previous = recent.iter().find(|e| {
            e.request.symbol == symbol
                && e.request.position_side == ps
                && e.request.side == exit_side
                && matches!(
                    parse_client_order_id(&e.request.client_order_id),
                    Some((_, Leg::StopLoss, _))
                )
        });
        let rules = session.rules(&symbol).await?;
        let (ticket, attempt, stop) = match previous.and_then(|e| {
            let (t, _, a) = parse_client_order_id(&e.request.client_order_id)?;
            match e.request.kind {
                OrderKind::StopMarket { stop_price, .. } if (stop_price < p.mark_price) == long => {
                    Some((t, a + 1, stop_price))
                }
                _ => None,
            }
        }) {
            Some(found) => found,
            None => {
                let distance = p.entry_price * limits.max_stop_distance_pct / Decimal::ONE_HUNDRED;
                let stop = if long {
                    p.entry_price - distance
                } else {
                    p.entry_price + distance
                };
                let now = self.now(Some(session));
                (
                    ticket_id(
                        TicketOrigin::Manual,
                        now.timestamp_millis(),
                        self.next_seq(),
                    ),
                    0,
                    stop,
                )
            }
        };
        let stop = rules.filters.round_price(stop);
        let request = OrderRequest {
            symbol: symbol.clone(),
            side: if long { Side::Sell } else { Side::Buy },
            position_side: ps,
            kind: OrderKind::StopMarket {
                stop_price: stop,
                working_type: WorkingType::MarkPrice,
            },
            quantity: None,
            reduce_only: false,
            close_position: true,
            client_order_id: client_order_id(&ticket, Leg::StopLoss, attempt)
                .map_err(|e| AppError::Internal(e.to_string()))?,
        };
        let approved = approve_exit(request).map_err(AppError::Risk)?;
        self.store
            .journal_intent(session.account.id, approved.get(), self.now(Some(session)))
            .await?;
        if let Err(e) = self.send(session, &approved, Leg::StopLoss).await {
            // The stop would trigger at once (price already through it): the position is
            // beyond its stop, so it is closed rather than left naked.
            tracing::error!(error = %e, %symbol, "re-placing the stop failed; closing");
            self.flatten(session, &symbol, ps).await?;
        }
        Ok(())
    }
}

/// What one reconciliation pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    pub looked_up: u32,
    pub placed: u32,
    pub abandoned: u32,
    pub orphans_canceled: u32,
    pub stops_replaced: u32,
    pub flattened: u32,
}
