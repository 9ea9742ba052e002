//! Integration tests of perpdesk-core's profit share through its public API: the user
//! docs' worked example recomputed from the page itself, property tests of the ledger rule,
//! and signed settlement statements with the platform's verifier.

mod ledger_props;
mod profit_share_doc;
mod statements;

use chrono::{DateTime, Utc};
use perpdesk_core::journal::{Leg, client_order_id, ticket_id};
use perpdesk_core::ledger::{book, settle};
use perpdesk_core::pnl::round_trips;
use perpdesk_core::statement::{StatementInput, Terms};
use perpdesk_core::{
    ClosedTrade, Fill, Income, IncomeKind, LedgerState, PeriodSettlement, PositionSide,
    SettlementRule, SettlementStatement, ShareEntry, ShareMode, ShareRatio, Side, Symbol,
    TicketOrigin,
};
use rust_decimal::Decimal;

/// The user documentation whose example the tests recompute.
pub const DOC: &str = include_str!("../../../../docs/profit-share.md");

/// The rows of the Markdown table that follows `<!-- table: {name} -->` in the doc, each as
/// its trimmed cells (the header and the separator line left out).
pub fn doc_table(name: &str) -> Vec<Vec<&'static str>> {
    let marker = format!("<!-- table: {name} -->");
    let at = DOC
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker} in docs/profit-share.md"));
    DOC[at + marker.len()..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect()
        })
        .collect()
}

pub fn doc_dec(cell: &str) -> Decimal {
    cell.parse()
        .unwrap_or_else(|e| panic!("{cell:?} in docs/profit-share.md: {e}"))
}

pub fn doc_time(cell: &str) -> DateTime<Utc> {
    chrono::NaiveDateTime::parse_from_str(cell, "%Y-%m-%d %H:%M")
        .unwrap_or_else(|e| panic!("{cell:?} in docs/profit-share.md: {e}"))
        .and_utc()
}

pub fn btc() -> Symbol {
    Symbol::new("BTCUSDT").expect("symbol")
}

/// The doc example's fills and funding rows, as the exchange reports them. Every opening
/// fill carries a signal ticket's client order id, as a trade opened from a signal does.
pub fn example_records() -> (Vec<Fill>, Vec<Income>) {
    let mut flat = true;
    let mut position = Decimal::ZERO;
    let fills = doc_table("fills")
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let side = if r[2] == "BUY" { Side::Buy } else { Side::Sell };
            let time = doc_time(r[1]);
            let ticket = ticket_id(TicketOrigin::Signal, time.timestamp_millis(), 0);
            let leg = if flat { Leg::Entry } else { Leg::Close };
            let quantity = doc_dec(r[3]);
            position += side.sign() * quantity;
            flat = position.is_zero();
            Fill {
                symbol: btc(),
                trade_id: r[0].parse().expect("trade id"),
                order_id: 5000 + i64::try_from(i).expect("small"),
                client_order_id: Some(client_order_id(&ticket, leg, 0).expect("client id")),
                side,
                position_side: PositionSide::Both,
                price: doc_dec(r[4]),
                quantity,
                realized_pnl: doc_dec(r[5]),
                commission: doc_dec(r[6]),
                commission_asset: "USDT".into(),
                maker: false,
                time,
            }
        })
        .collect();
    let funding = doc_table("funding")
        .iter()
        .map(|r| Income {
            tran_id: r[0].parse().expect("income id"),
            symbol: Some(btc()),
            kind: IncomeKind::FundingFee,
            amount: doc_dec(r[2]),
            asset: "USDT".into(),
            trade_id: None,
            info: "FUNDING_FEE".into(),
            time: doc_time(r[1]),
        })
        .collect();
    (fills, funding)
}

/// The doc example's closed trades, in closing order.
pub fn example_trades() -> Vec<ClosedTrade> {
    let (fills, funding) = example_records();
    let mut trades: Vec<ClosedTrade> = round_trips(&fills, &funding)
        .iter()
        .filter_map(|t| t.closed_trade())
        .collect();
    trades.sort_by_key(|t| t.closed_at);
    trades
}

/// When the doc example settles.
pub fn example_settlement_times() -> Vec<DateTime<Utc>> {
    doc_table("settlements")
        .iter()
        .map(|r| doc_time(r[0]))
        .collect()
}

/// One settled period, as the store would hand it to the statement builder.
#[derive(Debug, Clone)]
pub struct SettledPeriod {
    pub sequence: u64,
    pub period_start: Option<DateTime<Utc>>,
    pub settled_at: DateTime<Utc>,
    pub opening: LedgerState,
    pub opening_terms: Option<Terms>,
    pub rows: Vec<(Symbol, ShareEntry)>,
    pub settlement: PeriodSettlement,
}

impl SettledPeriod {
    /// The period's statement under the rule settlements are made by now.
    pub fn statement(&self, account: &str, include_manual: bool) -> SettlementStatement {
        SettlementStatement::build(&StatementInput {
            account,
            sequence: self.sequence,
            period_start: self.period_start,
            settled_at: self.settled_at,
            include_manual,
            opening: self.opening.clone(),
            opening_terms: self.opening_terms,
            rows: &self.rows,
            rule: SettlementRule::AboveTheMark,
        })
        .expect("a ledger booked by the rule builds its statement")
    }
}

/// Books `trades` (closing order) with `terms(i)` for the i-th, settling at each of
/// `times` the rows that closed before it; a period without rows is skipped.
pub fn book_and_settle(
    trades: &[ClosedTrade],
    times: &[DateTime<Utc>],
    terms: impl Fn(usize) -> (ShareRatio, ShareMode),
) -> Vec<SettledPeriod> {
    let mut state = LedgerState::default();
    let mut opening = state.clone();
    let mut opening_terms = None;
    let mut rows: Vec<(Symbol, ShareEntry)> = Vec::new();
    let mut periods: Vec<SettledPeriod> = Vec::new();
    let mut next = trades.iter().enumerate().peekable();
    for at in times {
        while let Some((i, t)) = next.next_if(|(_, t)| t.closed_at <= *at) {
            let (ratio, mode) = terms(i);
            let (entry, after) = book(&state, t, ratio, mode);
            state = after;
            rows.push((btc(), entry));
        }
        let entries: Vec<ShareEntry> = rows.iter().map(|(_, e)| e.clone()).collect();
        let Some(settlement) = settle(&state, &entries).expect("valid ratios") else {
            continue;
        };
        state = state.settled(&settlement.decision);
        let newest = entries.last().expect("a settlement has rows");
        let closing_terms = Terms {
            mode: newest.mode,
            platform_ratio: ShareRatio::new(newest.platform_ratio).expect("ratio"),
        };
        periods.push(SettledPeriod {
            sequence: periods.len() as u64 + 1,
            period_start: periods.last().map(|p| p.settled_at),
            settled_at: *at,
            opening: opening.clone(),
            opening_terms,
            rows: std::mem::take(&mut rows),
            settlement,
        });
        opening = state.clone();
        opening_terms = Some(closing_terms);
    }
    periods
}
