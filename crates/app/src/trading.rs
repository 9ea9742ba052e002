//! One-click execution: preview, risk check, journal, send; and the reconciliation that
//! makes it exactly-once across timeouts and restarts.
//!
//! Over 800 lines for now: moving send/protect/flatten/kill/reconcile into an execution
//! module of their own is part of issue 19 item 3, not done yet.
//!
//! The order of a click:
//! 1. read the market (mark, balance, positions, position mode) and the symbol's rules;
//! 2. compute the preview (size rounded to the filters, liquidation, worst case);
//! 3. check the risk limits: only the `RiskApproved` bracket (the exact orders) goes on;
//! 4. journal all three legs (entry, stop-loss, take-profit) as intents, with
//!    deterministic client ids, **before** anything is sent;
//! 5. set margin type and leverage if they differ from what perpdesk last set;
//! 6. send the entry (looked up by its id on any unknown outcome, never resent blind);
//! 7. once the entry filled, send the stop-loss, then the take-profit, as `closePosition`
//!    algo orders; if the stop-loss cannot be placed the position is closed at once.
//!
//! A limit entry that rests keeps its TP/SL as journalled intents; [`Engine::reconcile`]
//! attaches them when it fills, the same code that re-places a missing stop after a crash.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use perpdesk_binance::{
    ExchangeError, ExitKind, ExitOrder, OpenOrder, OrderReport, PositionReport, RejectKind,
};
use perpdesk_core::journal::{Leg, client_order_id, parse_client_order_id, ticket_id};
use perpdesk_core::plan::{Bracket, Market, Plan, PlanError, plan, position_side_for};
use perpdesk_core::risk::approve_exit;
use perpdesk_core::{
    ClientOrderId, MarginType, OrderKind, OrderRequest, OrderState, PositionSide, Preview,
    RiskApproved, RiskContext, RiskLimits, Side, Symbol, TicketOrigin, WorkingType,
};
use perpdesk_store::JournalEntry;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::engine::lock;
use crate::session::Session;
use crate::{AppError, AppEvent, Engine};

/// Set while a kill switch turned on while locked still has positions to close at unlock.
const KILL_FLATTEN_PENDING: &str = "risk.kill_switch_flatten_pending";

pub use perpdesk_core::plan::{EntryType, TAKER_FEE_RATE, Ticket};

/// The risk check's verdict, shown in the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskVerdict {
    pub ok: bool,
    pub rule: Option<&'static str>,
    pub message: Option<String>,
}

/// The preview and the risk verdict, before the click.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewView {
    #[serde(flatten)]
    pub preview: Preview,
    pub risk: RiskVerdict,
    /// The position side the order would use (`BOTH` in one-way mode).
    pub position_side: PositionSide,
}

/// One journalled order as the UI lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderView {
    pub client_order_id: String,
    pub ticket: Option<String>,
    pub leg: Option<Leg>,
    pub symbol: String,
    pub side: Side,
    pub position_side: PositionSide,
    pub kind: &'static str,
    pub quantity: Option<Decimal>,
    pub price: Option<Decimal>,
    pub trigger_price: Option<Decimal>,
    pub state: OrderState,
    pub exchange_order_id: Option<i64>,
    pub updated_ms: i64,
}

impl OrderView {
    pub(crate) fn of(e: &JournalEntry) -> Self {
        let (price, trigger, kind) = match &e.request.kind {
            OrderKind::Market => (None, None, "MARKET"),
            OrderKind::Limit { price, .. } => (Some(*price), None, "LIMIT"),
            OrderKind::StopMarket { stop_price, .. } => (None, Some(*stop_price), "STOP_MARKET"),
            OrderKind::TakeProfitMarket { stop_price, .. } => {
                (None, Some(*stop_price), "TAKE_PROFIT_MARKET")
            }
        };
        let parsed = parse_client_order_id(&e.request.client_order_id);
        Self {
            client_order_id: e.request.client_order_id.to_string(),
            ticket: parsed.as_ref().map(|p| p.0.clone()),
            leg: parsed.map(|p| p.1),
            symbol: e.request.symbol.to_string(),
            side: e.request.side,
            position_side: e.request.position_side,
            kind,
            quantity: e.request.quantity,
            price,
            trigger_price: trigger,
            state: e.state,
            exchange_order_id: e.exchange_order_id,
            updated_ms: e.updated_at.timestamp_millis(),
        }
    }
}

/// What a click did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlacedTicket {
    pub ticket_id: String,
    pub entry: OrderView,
    pub stop_loss: Option<OrderView>,
    pub take_profit: Option<OrderView>,
    /// Things the user should know that did not stop the trade (a refused take-profit).
    pub warnings: Vec<String>,
}

/// An open position as the UI lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PositionView {
    pub symbol: String,
    pub position_side: PositionSide,
    /// `LONG` or `SHORT`, whatever the mode.
    pub side: &'static str,
    pub quantity: Decimal,
    pub entry_price: Decimal,
    pub mark_price: Decimal,
    pub unrealized_pnl: Decimal,
    pub liquidation_price: Option<Decimal>,
    pub notional: Decimal,
    /// Leverage and margin type as perpdesk last set them for the symbol (`None` for a
    /// position opened elsewhere: `positionRisk` v3 does not report them).
    pub leverage: Option<u32>,
    pub margin_type: Option<MarginType>,
    pub take_profit: Option<Decimal>,
    pub stop_loss: Option<Decimal>,
}

/// The market and account as one click sees them.
pub(crate) struct Snapshot {
    pub market: Market,
    pub positions: Vec<PositionReport>,
}

fn symbol(s: &str) -> Result<Symbol, AppError> {
    Symbol::new(s.trim()).map_err(|e| AppError::invalid("symbol", e.to_string()))
}

/// Plans `ticket` against the snapshot (pure; see `perpdesk_core::plan`).
fn plan_ticket(ticket: &Ticket, snapshot: &Snapshot, ticket_id: &str) -> Result<Plan, AppError> {
    plan(ticket, &snapshot.market, ticket_id).map_err(|e| match e {
        PlanError::Invalid { field, reason } => AppError::invalid(field, reason),
        PlanError::ClientOrderId(e) => AppError::Internal(format!("client order id: {e}")),
    })
}

/// Start of the UTC day of `t`: the risk rules count trades and losses per UTC day.
fn day_start(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(t, |d| d.and_utc())
}

impl Engine {
    /// Reads what a click needs to know from the exchange.
    pub(crate) async fn snapshot(
        &self,
        session: &Session,
        symbol: &Symbol,
    ) -> Result<Snapshot, AppError> {
        let rules = session.rules(symbol).await?;
        let account = session.client.account_snapshot(symbol).await?;
        Ok(Snapshot {
            market: Market {
                mark: account.mark_price,
                available: account.available,
                hedge_mode: account.hedge_mode,
                rules,
            },
            positions: account.positions,
        })
    }

    /// The risk rules' view of the account: open notional per symbol, entries journalled
    /// today and today's realised result from the exchange's own income records.
    pub(crate) async fn risk_context(
        &self,
        session: &Session,
        snapshot: &Snapshot,
        now: DateTime<Utc>,
    ) -> Result<RiskContext, AppError> {
        let mut open_notional = BTreeMap::new();
        for p in &snapshot.positions {
            *open_notional
                .entry(p.position.symbol.clone())
                .or_insert(Decimal::ZERO) += p.notional.abs();
        }
        let since = day_start(now);
        let trades_today = self
            .store
            .journal_entries_since(session.account.id, since)
            .await?;
        // The whole day: a busy account has more than one page of income rows.
        let income = session.client.income_from(since, |_| {}).await?;
        let realized_today = income
            .iter()
            .filter(|i| {
                matches!(
                    i.kind,
                    perpdesk_core::IncomeKind::RealizedPnl
                        | perpdesk_core::IncomeKind::Commission
                        | perpdesk_core::IncomeKind::FundingFee
                )
            })
            .map(|i| i.amount)
            .sum();
        Ok(RiskContext {
            open_notional,
            trades_today,
            realized_today,
        })
    }

    /// The pre-trade preview with the risk verdict; nothing is sent or written.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for a ticket that cannot be sized; exchange and vault
    /// errors. A risk refusal is not an error here: it is the verdict.
    pub async fn preview_order(&self, ticket: &Ticket) -> Result<PreviewView, AppError> {
        let session = self.active_session().await?;
        let symbol = symbol(&ticket.symbol)?;
        let snapshot = self.snapshot(&session, &symbol).await?;
        let now = self.now(Some(&session));
        let limits = self.risk_limits().await?;
        let context = self.risk_context(&session, &snapshot, now).await?;
        let position_side = position_side_for(ticket.side, snapshot.market.hedge_mode);
        let plan = plan_ticket(ticket, &snapshot, "preview")?;
        // The same rules the click's approval applies, on the same intent: a refusal is the
        // verdict, and the numbers still show so the user sees what to change.
        let risk = match limits.check(&context, &plan.intent()) {
            Ok(()) => RiskVerdict {
                ok: true,
                rule: None,
                message: None,
            },
            Err(refusal) => RiskVerdict {
                ok: false,
                rule: Some(refusal.rule()),
                message: Some(refusal.to_string()),
            },
        };
        Ok(PreviewView {
            preview: plan.preview,
            risk,
            position_side,
        })
    }

    /// [`Engine::place_order`] from a UI: a live account needs `confirm_live`.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for an unconfirmed live order; as `place_order`.
    pub async fn place_order_confirmed(
        &self,
        ticket: &Ticket,
        confirm_live: bool,
    ) -> Result<PlacedTicket, AppError> {
        if self.active_environment().await? == Some(perpdesk_store::Environment::Live)
            && !confirm_live
        {
            return Err(AppError::invalid(
                "confirmLive",
                "this order uses real money on a live account: confirm it",
            ));
        }
        self.place_order(ticket).await
    }

    /// One click: checks, journals and sends the entry, then protects it with SL and TP.
    ///
    /// # Errors
    /// [`AppError::Risk`] before anything is sent; [`AppError::InvalidInput`] for a bad
    /// ticket; exchange errors. When the stop-loss is refused the position is closed at
    /// once and the error says so.
    pub async fn place_order(&self, ticket: &Ticket) -> Result<PlacedTicket, AppError> {
        let session = self.active_session().await?;
        self.require_verified(session.account.id).await?;
        let _one_at_a_time = self.exec.lock().await;
        let symbol = symbol(&ticket.symbol)?;
        let snapshot = self.snapshot(&session, &symbol).await?;
        let now = self.now(Some(&session));
        let limits = self.risk_limits().await?;
        let context = self.risk_context(&session, &snapshot, now).await?;
        let origin = if ticket.signal_id.is_some() {
            TicketOrigin::Signal
        } else {
            TicketOrigin::Manual
        };
        let ticket_id = self.fresh_ticket(origin, now).await?;
        let plan = plan_ticket(ticket, &snapshot, &ticket_id)?;
        let approved = match limits.approve(&context, plan) {
            Ok(approved) => approved,
            Err(refusal) => {
                self.events.emit(AppEvent::Risk {
                    rule: refusal.rule().to_owned(),
                    message: refusal.to_string(),
                });
                return Err(AppError::Risk(refusal));
            }
        };
        self.execute(&session, approved, ticket_id, now).await
    }

    /// A ticket id no journalled order uses. Ids are made from the exchange's time, and a
    /// paper replay's clock can stand still across a restart, so the id is checked rather
    /// than assumed fresh.
    pub(crate) async fn fresh_ticket(
        &self,
        origin: TicketOrigin,
        now: DateTime<Utc>,
    ) -> Result<String, AppError> {
        for _ in 0..64 {
            let id = ticket_id(origin, now.timestamp_millis(), self.next_seq());
            let entry = client_order_id(&id, Leg::Entry, 0)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let close = client_order_id(&id, Leg::Close, 0)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            if self.store.journal_entry(&entry).await?.is_none()
                && self.store.journal_entry(&close).await?.is_none()
            {
                return Ok(id);
            }
        }
        Err(AppError::Internal("no free ticket id".into()))
    }

    /// Sends an approved bracket: journals every leg, sets the margin, sends the entry and
    /// protects it. Only the risk check makes a `RiskApproved<Bracket>`.
    pub(crate) async fn execute(
        &self,
        session: &Session,
        approved: RiskApproved<Bracket>,
        ticket_id: String,
        now: DateTime<Utc>,
    ) -> Result<PlacedTicket, AppError> {
        let bracket = approved.get();
        let account = session.account.id;
        let (stop_price, target_price) = bracket.triggers();
        let mut audit = serde_json::json!({
            "account": account,
            "ticket": ticket_id,
            "symbol": bracket.entry.symbol,
            "side": bracket.entry.side,
            "quantity": bracket.entry.quantity.unwrap_or_default(),
            "leverage": bracket.leverage,
            "stop_loss": stop_price,
            "take_profit": target_price,
        });
        // Every leg is journalled before the first byte leaves: after a crash the journal
        // knows the stop price of a position whose stop was never sent.
        self.store
            .journal_intents(account, &bracket.legs(), now)
            .await?;
        if let Err(e) = self
            .ensure_margin(
                session,
                &bracket.entry.symbol,
                bracket.leverage,
                bracket.margin_type,
            )
            .await
        {
            self.abandon(&bracket.legs(), now).await;
            return Err(e);
        }
        let legs = approved.into_legs();
        let entry = legs.entry.get().clone();
        let (stop_id, target_id) = (
            legs.stop_loss
                .as_ref()
                .map(|o| o.get().client_order_id.clone()),
            legs.take_profit
                .as_ref()
                .map(|o| o.get().client_order_id.clone()),
        );
        let entry_state = match self.send(session, &legs.entry, Leg::Entry).await {
            Ok(state) => state,
            Err(e) => {
                let exits: Vec<&OrderRequest> = legs
                    .stop_loss
                    .iter()
                    .chain(legs.take_profit.iter())
                    .map(RiskApproved::get)
                    .collect();
                self.abandon(&exits, now).await;
                return Err(e);
            }
        };
        let mut warnings = Vec::new();
        if entry_state == OrderState::Filled || entry_state == OrderState::PartiallyFilled {
            self.protect(
                session,
                &entry,
                legs.stop_loss,
                legs.take_profit,
                &mut warnings,
            )
            .await?;
        } else if entry_state == OrderState::New {
            warnings.push(
                "the entry rests on the book; its stop-loss and take-profit are placed when it fills"
                    .to_owned(),
            );
        }
        self.events.emit(AppEvent::Positions {
            account_id: account,
        });
        audit["entry_state"] = serde_json::json!(entry_state);
        self.audit("user", "order.ticket", audit).await;
        let entry_view = self
            .order_view(&entry.client_order_id)
            .await?
            .ok_or_else(|| AppError::Internal("the entry vanished from the journal".into()))?;
        let stop_loss = match &stop_id {
            Some(id) => self.order_view(id).await?,
            None => None,
        };
        let take_profit = match &target_id {
            Some(id) => self.order_view(id).await?,
            None => None,
        };
        Ok(PlacedTicket {
            ticket_id,
            entry: entry_view,
            stop_loss,
            take_profit,
            warnings,
        })
    }

    async fn order_view(&self, id: &ClientOrderId) -> Result<Option<OrderView>, AppError> {
        Ok(self
            .store
            .journal_entry(id)
            .await?
            .map(|e| OrderView::of(&e)))
    }

    /// Places the stop-loss and take-profit of a filled entry; closes the position if the
    /// stop-loss cannot be placed.
    async fn protect(
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
    async fn send(
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
    async fn abandon(&self, legs: &[&OrderRequest], now: DateTime<Utc>) {
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
    async fn ensure_margin(
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

    async fn cancel_algo(&self, session: &Session, a: &ExitOrder) -> Result<(), AppError> {
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
        self.flatten(&session, &symbol, position_side).await
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
            self.flatten(&session, &p.symbol, p.position_side).await?;
        }
        let open = session.client.open_orders().await?;
        for o in open.iter().filter(|o| {
            o.client_order_id
                .starts_with(perpdesk_core::journal::CLIENT_ID_PREFIX)
        }) {
            self.cancel_regular(&session, o).await?;
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

    /// Open positions with their TP/SL, read from the exchange.
    ///
    /// # Errors
    /// Exchange and vault errors.
    pub async fn positions(&self) -> Result<Vec<PositionView>, AppError> {
        let session = self.active_session().await?;
        let (positions, exits) = tokio::try_join!(
            session.client.position_reports(None),
            session.client.open_exits(None)
        )?;
        let margins: std::collections::HashMap<Symbol, (u32, MarginType)> =
            lock(&session.margin).clone();
        Ok(positions
            .iter()
            .map(|r| {
                let p = &r.position;
                let trigger = |kind: ExitKind| {
                    exits
                        .iter()
                        .find(|a| {
                            a.symbol == p.symbol
                                && a.position_side == p.position_side
                                && a.kind == kind
                        })
                        .and_then(|a| a.trigger_price)
                };
                let long = match p.position_side {
                    PositionSide::Long => true,
                    PositionSide::Short => false,
                    PositionSide::Both => p.quantity > Decimal::ZERO,
                };
                PositionView {
                    symbol: p.symbol.to_string(),
                    position_side: p.position_side,
                    side: if long { "LONG" } else { "SHORT" },
                    quantity: p.quantity.abs(),
                    entry_price: p.entry_price,
                    mark_price: p.mark_price,
                    unrealized_pnl: r.unrealized_pnl,
                    liquidation_price: (!p.liquidation_price.is_zero())
                        .then_some(p.liquidation_price),
                    notional: r.notional.abs(),
                    leverage: margins.get(&p.symbol).map(|m| m.0),
                    margin_type: margins.get(&p.symbol).map(|m| m.1),
                    take_profit: trigger(ExitKind::TakeProfitMarket),
                    stop_loss: trigger(ExitKind::StopMarket),
                }
            })
            .collect())
    }

    /// The journalled orders of the active account, newest first.
    ///
    /// # Errors
    /// Store errors.
    pub async fn orders(&self, limit: u32) -> Result<Vec<OrderView>, AppError> {
        let id = self.active_account_id().await?;
        Ok(self
            .store
            .journal_recent(id, limit.clamp(1, 5000))
            .await?
            .iter()
            .map(OrderView::of)
            .collect())
    }

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
        let mut report = ReconcileReport::default();
        // 1. Look up every order whose fate is unknown.
        for e in self.store.journal_unresolved(account_id).await? {
            if e.state.needs_lookup() {
                let state = self.look_up(&session, &e).await?;
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
                self.look_up(&session, &e).await?;
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
        let now = self.now(Some(&session));
        for e in self.store.journal_unresolved(account_id).await? {
            let Some((ticket, leg, _)) = parse_client_order_id(&e.request.client_order_id) else {
                continue;
            };
            if e.state != OrderState::Intent {
                continue;
            }
            match leg {
                Leg::Entry | Leg::Close => {
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
                            Ok(exit) => self.send(&session, &exit, leg).await,
                            Err(refusal) => Err(AppError::Risk(refusal)),
                        };
                        match sent {
                            Ok(_) => report.placed += 1,
                            Err(err) if leg == Leg::StopLoss => {
                                tracing::error!(error = %err, "stop-loss refused on reconcile; closing");
                                self.flatten(&session, &e.request.symbol, e.request.position_side)
                                    .await?;
                                report.flattened += 1;
                            }
                            Err(err) => {
                                tracing::warn!(error = %err, "take-profit refused on reconcile");
                            }
                        }
                    } else if !waiting {
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
                self.cancel_algo(&session, a).await?;
                report.orphans_canceled += 1;
            }
        }
        let limits = self.risk_limits().await?;
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
                    self.replace_stop(&session, p, &limits).await?;
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

/// The in-process part of a click, read once for the benches (`benches/engine.rs`): the
/// snapshot, limits and risk context that `place_order` reads from the exchange first.
#[doc(hidden)]
pub struct ClickBench {
    account_id: i64,
    snapshot: Snapshot,
    limits: RiskLimits,
    context: RiskContext,
}

impl Engine {
    /// Reads what a click on `symbol` needs, as `place_order` does (benches only).
    #[doc(hidden)]
    pub async fn click_bench(&self, symbol_name: &str) -> Result<ClickBench, AppError> {
        let session = self.active_session().await?;
        let symbol = symbol(symbol_name)?;
        let snapshot = self.snapshot(&session, &symbol).await?;
        let limits = self.risk_limits().await?;
        let context = self
            .risk_context(&session, &snapshot, self.now(Some(&session)))
            .await?;
        Ok(ClickBench {
            account_id: session.account.id,
            snapshot,
            limits,
            context,
        })
    }

    /// Sizes, risk-checks and journals `ticket` exactly as `place_order` does before its
    /// first request, sends nothing, and returns the entry order (benches only).
    #[doc(hidden)]
    pub async fn click_bench_prepare(
        &self,
        bench: &ClickBench,
        ticket: &Ticket,
        ticket_id: &str,
        now: DateTime<Utc>,
    ) -> Result<OrderRequest, AppError> {
        let plan = plan_ticket(ticket, &bench.snapshot, ticket_id)?;
        let approved = bench
            .limits
            .approve(&bench.context, plan)
            .map_err(AppError::Risk)?;
        self.store
            .journal_intents(bench.account_id, &approved.get().legs(), now)
            .await?;
        Ok(approved.into_inner().entry)
    }
}
