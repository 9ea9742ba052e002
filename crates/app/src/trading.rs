//! One-click execution: preview, risk check, journal, send; and the reconciliation that
//! makes it exactly-once across timeouts and restarts.
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
//!
//! The parts: this file (preview, the click, the read views), `execution` (the type that
//! sends, over only the store, events and clock), `send` (the one way out, and protecting a
//! fill), `flatten` (closing and the kill switch), `reconcile` and `bench`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use perpdesk_binance::{ExitKind, PositionReport};
use perpdesk_core::journal::{Leg, client_order_id, parse_client_order_id, ticket_id};
use perpdesk_core::plan::{Bracket, Market, Plan, PlanError, plan, position_side_for};
use perpdesk_core::{
    ClientOrderId, MarginType, OrderKind, OrderRequest, OrderState, PositionSide, Preview,
    RiskApproved, RiskContext, Side, Symbol, TicketOrigin,
};
use perpdesk_store::JournalEntry;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::engine::lock;
use crate::session::Session;
use crate::{AppError, AppEvent, Engine};

mod bench;
mod execution;
mod flatten;
mod reconcile;
mod send;

pub use bench::ClickBench;
pub(crate) use execution::Execution;
pub use reconcile::ReconcileReport;

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
        let ticket_id = self.execution.fresh_ticket(origin, now).await?;
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
        self.execution
            .execute(&session, approved, ticket_id, now)
            .await
    }
}

impl Execution {
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
}

impl Engine {
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
}
