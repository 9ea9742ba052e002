//! The in-process part of a click, exposed for the benches only.

use chrono::{DateTime, Utc};
use perpdesk_core::{OrderRequest, RiskContext, RiskLimits};

use super::{Snapshot, Ticket, plan_ticket, symbol};
use crate::{AppError, Engine};

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
