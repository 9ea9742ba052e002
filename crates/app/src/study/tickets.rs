//! A family's signal on one symbol at the account's equity, and the one-click ticket it
//! suggests: the volatility-targeted size and stop, capped by the risk limits, previewed.

use chrono::{DateTime, Duration, Utc};
use perpdesk_core::plan::{EntryType, Ticket};
use perpdesk_core::{MarginType, Side, Symbol};
use perpdesk_signal::SignalDirection;
use perpdesk_signal::sizing::{Limits, suggest};
use perpdesk_signal::study::LatestSignal;
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::Serialize;

use super::{RecordView, StudyError, shipped_strategy};
use crate::trading::PreviewView;
use crate::{AppError, Engine};

/// A family's signal for one symbol, with its size and stop at the account's equity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilySignalView {
    pub family: String,
    pub symbol: String,
    pub horizon_days: f64,
    /// `long`/`short` only where the family has an edge, else `flat`.
    pub direction: &'static str,
    /// The book's side whatever the verdict (`flat` without a position): shown as unproven.
    pub lean: &'static str,
    /// The book's signed weight (fraction of equity).
    pub weight: f64,
    pub annual_vol: Option<f64>,
    /// `|weight| × equity`, before the risk limits; `None` without an account.
    pub suggested_notional: Option<Decimal>,
    /// The equity the notional is computed at: the account's margin balance (wallet plus
    /// unrealised PnL, Binance's `totalMarginBalance`).
    pub equity: Option<Decimal>,
    /// The volatility stop from the last daily close, on the symbol's tick.
    pub stop_price: Option<Decimal>,
    pub stop_distance: Option<f64>,
    pub stop_capped: Option<bool>,
    /// The close the signal is for, UTC ms.
    pub time_ms: i64,
    /// When the app shows this family's next signal, UTC ms ([`shown_next_decision`]).
    pub next_decision_ms: i64,
    /// The family's record on the universe book (the verdict behind `direction`).
    pub record: RecordView,
    /// This symbol's share of the book (shown, never used to choose).
    pub symbol_sharpe: Option<f64>,
    pub symbol_max_drawdown: Option<f64>,
    pub symbol_trades: Option<usize>,
    pub symbol_buy_and_hold_sharpe: Option<f64>,
}

/// A one-click ticket made from a family's signal, with the preview of exactly that ticket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuggestedTicket {
    /// The ticket the preview was made of; the UI may change size and stop and preview again.
    pub ticket: Ticket,
    pub family: String,
    pub weight: f64,
    /// The equity the size targets: the margin balance (wallet plus unrealised PnL), not the
    /// available balance, which open positions' margin would shrink.
    pub equity: Decimal,
    /// `|weight| × equity` before the risk limits.
    pub target_notional: Decimal,
    /// The risk limits that made the ticket smaller or its stop closer (`max_position_notional`,
    /// `max_total_notional`, `max_stop_distance_pct`).
    pub capped_by: Vec<&'static str>,
    pub stop_distance: f64,
    /// True when the family has no edge: the size follows an unproven lean.
    pub unproven: bool,
    pub preview: PreviewView,
}

/// When the app shows a family's next signal: the family's own next decision, but never
/// before the next daily study, which is the only time the app recomputes signals. A 4h or
/// 1h family decides more often in its record, yet the row it shows is the one at the study's
/// close, so between studies its own next close would be a time already past.
pub(super) fn shown_next_decision(l: &LatestSignal) -> DateTime<Utc> {
    l.next_decision.max(l.time + Duration::days(1))
}

fn direction_name(d: SignalDirection) -> &'static str {
    match d {
        SignalDirection::Long => "long",
        SignalDirection::Short => "short",
        SignalDirection::Flat => "flat",
    }
}

fn lean_name(weight: f64) -> &'static str {
    if weight > 0.0 {
        "long"
    } else if weight < 0.0 {
        "short"
    } else {
        "flat"
    }
}

/// Rounds a stop to the tick towards the entry, so rounding never widens it past a limit.
fn stop_on_tick(stop: f64, long: bool, tick: Decimal) -> Option<Decimal> {
    let p = Decimal::from_f64(stop)?;
    if tick.is_zero() {
        return Some(p.round_dp(8));
    }
    let units = p / tick;
    let units = if long { units.ceil() } else { units.floor() };
    Some((units * tick).normalize())
}

impl Engine {
    /// Every family's signal for `symbol` with its size at the account's equity, stop and
    /// record.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for a bad symbol; `NotFound` while the study is computing
    /// or when the study's universe does not hold the symbol.
    pub async fn family_signals(&self, symbol: &str) -> Result<Vec<FamilySignalView>, AppError> {
        let symbol =
            Symbol::new(symbol.trim()).map_err(|e| AppError::invalid("symbol", e.to_string()))?;
        let report = self.study_report()?;
        let session = self.active_session().await.ok();
        let equity = match &session {
            Some(s) => s.client.margin_balance().await.ok(),
            None => None,
        };
        let tick = match &session {
            Some(s) => s.rules(&symbol).await.ok().map(|r| r.filters.tick_size),
            None => None,
        };
        let mut out = Vec::new();
        for f in &report.families {
            let Some(l) = f.latest.iter().find(|l| l.symbol == symbol.as_str()) else {
                continue;
            };
            let per = f.per_symbol.iter().find(|p| p.symbol == symbol.as_str());
            let notional =
                equity.and_then(|e| Decimal::from_f64(l.weight.abs()).map(|w| (e * w).round_dp(2)));
            out.push(FamilySignalView {
                family: f.id.clone(),
                symbol: l.symbol.clone(),
                horizon_days: f.horizon_days,
                direction: direction_name(l.direction),
                lean: lean_name(l.weight),
                weight: l.weight,
                annual_vol: l.annual_vol,
                suggested_notional: notional.filter(|n| !n.is_zero()),
                equity,
                stop_price: l.stop.and_then(|s| {
                    stop_on_tick(s.price, l.weight > 0.0, tick.unwrap_or(Decimal::ZERO))
                }),
                stop_distance: l.stop.map(|s| s.distance),
                stop_capped: l.stop.map(|s| s.capped),
                time_ms: l.time.timestamp_millis(),
                next_decision_ms: shown_next_decision(l).timestamp_millis(),
                record: RecordView::of(&f.verdict),
                symbol_sharpe: per.map(|p| p.stats.sharpe),
                symbol_max_drawdown: per.map(|p| p.stats.max_drawdown),
                symbol_trades: per.map(|p| p.trades),
                symbol_buy_and_hold_sharpe: per.map(|p| p.buy_and_hold.sharpe),
            });
        }
        if out.is_empty() {
            return Err(AppError::NotFound(format!(
                "family signals of {symbol} (not in the study's universe)"
            )));
        }
        Ok(out)
    }

    /// The one-click ticket of `family`'s signal on `symbol`: the side of the book's weight,
    /// the notional that targets the strategy's volatility at the account's margin balance
    /// (wallet plus unrealised PnL) and the volatility stop from the current mark
    /// (`sizing::suggest`), both capped by the risk limits, and the preview of exactly that
    /// ticket with the risk verdict. Nothing is sent.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for a bad symbol, an unknown family, or a book that holds no
    /// position in the symbol; `NotFound` while the study computes; exchange, vault errors.
    pub async fn suggest_ticket(
        &self,
        symbol: &str,
        family: &str,
    ) -> Result<SuggestedTicket, AppError> {
        let sym =
            Symbol::new(symbol.trim()).map_err(|e| AppError::invalid("symbol", e.to_string()))?;
        let report = self.study_report()?;
        let f = report
            .families
            .iter()
            .find(|f| f.id == family)
            .ok_or_else(|| AppError::invalid("family", format!("no family {family}")))?;
        let l: &LatestSignal = f
            .latest
            .iter()
            .find(|l| l.symbol == sym.as_str())
            .ok_or_else(|| {
                AppError::invalid("symbol", format!("{sym} is not in the study's universe"))
            })?;
        if l.weight == 0.0 {
            return Err(AppError::invalid(
                "family",
                format!("{family} holds no position in {sym}: nothing to size"),
            ));
        }
        let sigma_annual = l.annual_vol.ok_or_else(|| {
            AppError::invalid(
                "family",
                format!(
                    "{family} has no volatility estimate of {sym} on its bars: nothing to size"
                ),
            )
        })?;
        let strategy = shipped_strategy().map_err(StudyError::from)?.strategy;
        let session = self.active_session().await?;
        let rules = session.rules(&sym).await?;
        let (account, equity) = tokio::try_join!(
            session.client.account_snapshot(&sym),
            session.client.margin_balance()
        )?;
        let risk = self.risk_limits().await?;
        let mark = account
            .mark_price
            .to_f64()
            .ok_or_else(|| AppError::Internal(format!("mark price {}", account.mark_price)))?;
        let limits = Limits {
            max_stop_distance: (risk.max_stop_distance_pct / Decimal::ONE_HUNDRED)
                .to_f64()
                .filter(|d| *d > 0.0 && *d < 1.0),
            ..strategy.limits
        };
        let s = suggest(
            l.weight,
            equity,
            mark,
            sigma_annual / strategy.vol_target.bars_per_year.sqrt(),
            strategy.stop_sigma_multiple,
            f.horizon_days,
            &limits,
        )
        .map_err(|e| AppError::invalid("family", e.to_string()))?;
        let mut capped_by = Vec::new();
        let open: Decimal = account.positions.iter().map(|p| p.notional.abs()).sum();
        let mut notional = s.notional;
        if notional > risk.max_position_notional {
            notional = risk.max_position_notional;
            capped_by.push("max_position_notional");
        }
        let room = (risk.max_total_notional - open).max(Decimal::ZERO);
        if notional > room {
            notional = room;
            capped_by.push("max_total_notional");
        }
        if s.stop.capped {
            capped_by.push("max_stop_distance_pct");
        }
        let long = l.weight > 0.0;
        let stop = stop_on_tick(s.stop.price, long, rules.filters.tick_size)
            .ok_or_else(|| AppError::Internal(format!("stop price {}", s.stop.price)))?;
        // The least leverage that lets the available balance carry the notional, within the
        // limit: a volatility-sized position is not meant to be levered further.
        let leverage = if account.available > Decimal::ZERO {
            (notional / account.available)
                .ceil()
                .to_u32()
                .unwrap_or(u32::MAX)
                .clamp(1, risk.max_leverage.max(1))
        } else {
            1
        };
        let ticket = Ticket {
            symbol: sym.to_string(),
            side: if long { Side::Buy } else { Side::Sell },
            sizing: perpdesk_core::Sizing::FixedNotional {
                usdt: notional.round_dp(2),
            },
            leverage,
            margin_type: MarginType::Isolated,
            order_type: EntryType::default(),
            price: None,
            take_profit: None,
            stop_loss: Some(stop),
            signal_id: Some(l.time.timestamp_millis()),
        };
        let preview = self.preview_order(&ticket).await?;
        Ok(SuggestedTicket {
            ticket,
            family: f.id.clone(),
            weight: l.weight,
            equity,
            target_notional: s.notional,
            capped_by,
            stop_distance: s.stop.distance,
            unproven: !f.verdict.edge,
            preview,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_is_rounded_towards_the_entry() {
        let tick = Decimal::new(1, 1);
        assert_eq!(stop_on_tick(95.04, true, tick), Some(Decimal::new(951, 1)));
        assert_eq!(
            stop_on_tick(105.06, false, tick),
            Some(Decimal::new(1050, 1))
        );
    }
}
