//! The profit-share rule (the original system's "自动7:3分润"): net realised profit is split
//! between the platform and the user, by default platform 70% / user 30%.
//!
//! Every closed trade is booked as one append-only row ([`book`]): the evidence. *When* its
//! share is decided depends on the [`ShareMode`] the row was booked under:
//! - [`ShareMode::Settlement`] (default; how performance fees are usually charged): nothing
//!   is decided at booking. Each settlement ([`settle`]) decides on the period's result:
//!   shareable = max(0, cumulative net now − the mark), and the mark moves only at a
//!   settlement that reaches a new high. Losses inside a period offset gains inside it, and a
//!   period that ends at or below the mark owes nothing.
//! - [`ShareMode::HighWaterMark`] (perpdesk before issue 20): each trade shares the part of
//!   the cumulative net that rises above the mark as it closes, so gains lost later in the
//!   same period have been shared already.
//! - [`ShareMode::PerTrade`] (the original system's literal rule): each profitable trade is
//!   split on its own; losses share nothing and are not carried forward.
//!
//! The mark ([`LedgerState::high_water_mark`]) is the cumulative net up to which profit has
//! been shared: it starts at 0 and never falls. One mark serves every mode, so switching
//! modes never shares the same money twice: a high-water-mark row or a settlement shares
//! exactly what it lifts the mark by, and a per-trade row lifts it by no more than its own
//! share (gains still waiting for a settlement keep waiting).
//!
//! Net profit of a trade = realised PnL − commission + funding (funding is signed: received
//! is positive). Rounding: the platform share is rounded toward zero to
//! [`ShareRatio::SCALE`] decimal places and the user receives the remainder, so the two
//! shares always add up to the shareable amount exactly and rounding never favours the
//! platform.
//!
//! A change of split or mode applies from the next booked row: every row records the ratio
//! and mode it was booked under, and a settlement decides with those of the period's newest
//! row, so the terms behind every number are in the ledger itself. `docs/profit-share.md`
//! works an example through; a test recomputes its tables with this code.

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::journal::{TicketOrigin, parse_client_order_id, ticket_origin};
use crate::pnl::RoundTrip;

/// The platform's fraction of shareable profit; the user receives the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct ShareRatio(Decimal);

/// Why a ratio is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("platform share must be between 0 and 1, got {0}")]
pub struct RatioError(pub Decimal);

impl ShareRatio {
    /// Decimal places of every share amount: USDT's smallest wallet unit on Binance.
    pub const SCALE: u32 = 8;

    /// Makes a ratio from the platform's fraction (0.7 for 70%).
    ///
    /// # Errors
    /// Returns [`RatioError`] outside [0, 1].
    pub fn new(platform: Decimal) -> Result<Self, RatioError> {
        if platform < Decimal::ZERO || platform > Decimal::ONE {
            return Err(RatioError(platform));
        }
        Ok(Self(platform))
    }

    /// Returns the platform's fraction.
    pub fn platform(self) -> Decimal {
        self.0
    }

    /// Returns the user's fraction.
    pub fn user(self) -> Decimal {
        Decimal::ONE - self.0
    }

    /// Splits `amount` into (platform, user) shares that add up to `amount` exactly.
    pub fn split(self, amount: Decimal) -> (Decimal, Decimal) {
        let platform =
            (amount * self.0).round_dp_with_strategy(Self::SCALE, RoundingStrategy::ToZero);
        (platform, amount - platform)
    }
}

impl Default for ShareRatio {
    fn default() -> Self {
        Self(Decimal::new(7, 1))
    }
}

impl TryFrom<Decimal> for ShareRatio {
    type Error = RatioError;
    fn try_from(d: Decimal) -> Result<Self, Self::Error> {
        Self::new(d)
    }
}

impl From<ShareRatio> for Decimal {
    fn from(r: ShareRatio) -> Self {
        r.0
    }
}

/// When and how a row's share is decided. Each row records the mode it was booked under.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareMode {
    /// Decided at settlement, on the period's result above the mark (the default).
    #[default]
    Settlement,
    /// Decided as each trade closes, on the part of the cumulative net above the mark.
    HighWaterMark,
    /// Decided as each trade closes, on the trade's own profit (the original system's rule).
    PerTrade,
}

impl ShareMode {
    /// Returns true when rows of this mode leave their share to the next settlement.
    pub fn decides_at_settlement(self) -> bool {
        self == Self::Settlement
    }
}

/// A closed trade's outcome, with the exchange records it derives from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedTrade {
    /// Our id for the round trip (stable across re-syncs).
    pub trade_ref: String,
    pub realized_pnl: Decimal,
    /// Commission paid, as a positive number.
    pub commission: Decimal,
    /// Funding received (positive) or paid (negative) while the position was open.
    pub funding: Decimal,
    pub closed_at: DateTime<Utc>,
    /// Binance trade ids of the fills that opened and closed the position.
    pub trade_ids: Vec<i64>,
    /// Binance income `tranId`s (realised PnL, commission, funding) behind the numbers.
    pub income_ids: Vec<i64>,
}

impl ClosedTrade {
    /// Returns realised PnL − commission + funding.
    pub fn net(&self) -> Decimal {
        self.realized_pnl - self.commission + self.funding
    }
}

/// The ledger's running state for one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerState {
    /// Sum of net profit of every trade booked so far.
    pub cumulative_net: Decimal,
    /// The mark: the cumulative net up to which profit has been shared. Starts at 0 and
    /// never falls; under [`ShareMode::Settlement`] it moves only at a settlement.
    pub high_water_mark: Decimal,
}

impl LedgerState {
    /// Returns the amount shared when a row with net profit `net` is booked under `mode`,
    /// and the state after it. This is the whole per-row rule; [`book`] dresses it as a row.
    pub fn book_net(&self, net: Decimal, mode: ShareMode) -> (Decimal, LedgerState) {
        let cumulative = self.cumulative_net + net;
        let mark = self.high_water_mark;
        let (shareable, mark_after) = match mode {
            ShareMode::Settlement => (Decimal::ZERO, mark),
            ShareMode::HighWaterMark => {
                let above = (cumulative - mark).max(Decimal::ZERO);
                (above, mark + above)
            }
            ShareMode::PerTrade => {
                let own = net.max(Decimal::ZERO);
                // Lifting the mark to a new high means that profit is shared. The trade's
                // own share is all this row pays, so the mark rises by at most that much:
                // gains booked earlier and still waiting for a settlement keep waiting.
                // With nothing waiting (every ledger booked before the settlement mode
                // existed) this is max(mark, cumulative), the rule those rows were booked by.
                (own, mark.max(cumulative.min(mark + own)))
            }
        };
        (
            shareable,
            LedgerState {
                cumulative_net: cumulative,
                high_water_mark: mark_after,
            },
        )
    }

    /// Returns what a settlement would decide now, with `ratio` and `mode` as the terms it
    /// records: the part of the cumulative net above the mark, split by `ratio`.
    pub fn decide(&self, ratio: ShareRatio, mode: ShareMode) -> Decision {
        let shareable = (self.cumulative_net - self.high_water_mark).max(Decimal::ZERO);
        let (platform, user) = ratio.split(shareable);
        Decision {
            platform_ratio: ratio,
            mode,
            cumulative_net: self.cumulative_net,
            mark_before: self.high_water_mark,
            shareable,
            platform_share: platform,
            user_share: user,
            mark_after: self.high_water_mark + shareable,
        }
    }

    /// Returns the state after a settlement that decided `decision`.
    pub fn settled(&self, decision: &Decision) -> LedgerState {
        LedgerState {
            cumulative_net: self.cumulative_net,
            high_water_mark: self.high_water_mark.max(decision.mark_after),
        }
    }
}

/// One append-only ledger row, as the original `profit_shares` table plus its sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareEntry {
    pub trade_ref: String,
    /// The trade's net profit (the original `total_pnl`).
    pub total_pnl: Decimal,
    /// The part shared when the row was booked (always 0 under [`ShareMode::Settlement`],
    /// whose share the settlement decides).
    pub shareable: Decimal,
    pub platform_share: Decimal,
    pub user_share: Decimal,
    pub platform_ratio: Decimal,
    pub mode: ShareMode,
    pub cumulative_net_after: Decimal,
    /// The mark after this row.
    pub high_water_mark_after: Decimal,
    pub time: DateTime<Utc>,
    pub trade_ids: Vec<i64>,
    pub income_ids: Vec<i64>,
}

/// Books one closed trade: returns the ledger row and the new state.
pub fn book(
    state: &LedgerState,
    trade: &ClosedTrade,
    ratio: ShareRatio,
    mode: ShareMode,
) -> (ShareEntry, LedgerState) {
    let net = trade.net();
    let (shareable, next) = state.book_net(net, mode);
    let (platform, user) = ratio.split(shareable);
    let entry = ShareEntry {
        trade_ref: trade.trade_ref.clone(),
        total_pnl: net,
        shareable,
        platform_share: platform,
        user_share: user,
        platform_ratio: ratio.platform(),
        mode,
        cumulative_net_after: next.cumulative_net,
        high_water_mark_after: next.high_water_mark,
        time: trade.closed_at,
        trade_ids: trade.trade_ids.clone(),
        income_ids: trade.income_ids.clone(),
    };
    (entry, next)
}

/// Says whether a round trip is shared: trips opened from a perpdesk signal ticket always
/// are, manual and outside trips only with `include_manual`. The origin is read from the
/// opening fill's client order id, which the exchange keeps, so anyone holding the
/// exchange's records reaches the same answer.
pub fn is_shared(trip: &RoundTrip, include_manual: bool) -> bool {
    let origin = trip
        .open_client_order_id
        .as_ref()
        .and_then(parse_client_order_id)
        .and_then(|(ticket, _, _)| ticket_origin(&ticket));
    origin == Some(TicketOrigin::Signal) || include_manual
}

/// What a settlement decides itself, on top of the shares its rows decided when booked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The split applied: the one the period's newest row was booked with.
    pub platform_ratio: ShareRatio,
    /// The newest row's mode, recorded as the terms in force.
    pub mode: ShareMode,
    /// The cumulative net at the settlement.
    pub cumulative_net: Decimal,
    /// The mark after the period's rows, before deciding.
    pub mark_before: Decimal,
    /// max(0, `cumulative_net` − `mark_before`).
    pub shareable: Decimal,
    pub platform_share: Decimal,
    pub user_share: Decimal,
    /// `mark_before` + `shareable`: the mark moves only when the period ends above it.
    pub mark_after: Decimal,
}

/// A settlement worked out: the period's rows, what the settlement decides, and the sum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodSettlement {
    /// The rows' own shares (decided when they were booked).
    pub rows: ShareTotals,
    pub decision: Decision,
    /// `rows` plus the decision: what the settlement pays.
    pub totals: ShareTotals,
}

/// Settles a period: `rows` are the ledger rows since the last settlement (oldest first)
/// and `state` the ledger's state after them. Returns `None` when there are no rows (no
/// trade since the last settlement: nothing can be owed, since a settlement leaves the
/// mark at or above the cumulative net).
///
/// # Errors
/// [`RatioError`] when the newest row's stored ratio is not a valid split.
pub fn settle(
    state: &LedgerState,
    rows: &[ShareEntry],
) -> Result<Option<PeriodSettlement>, RatioError> {
    let Some(newest) = rows.last() else {
        return Ok(None);
    };
    let decision = state.decide(ShareRatio::new(newest.platform_ratio)?, newest.mode);
    let row_totals = ShareTotals::of(rows);
    let totals = ShareTotals {
        shareable: row_totals.shareable + decision.shareable,
        platform_share: row_totals.platform_share + decision.platform_share,
        user_share: row_totals.user_share + decision.user_share,
        ..row_totals.clone()
    };
    Ok(Some(PeriodSettlement {
        rows: row_totals,
        decision,
        totals,
    }))
}

/// Totals of a set of ledger rows, such as one settlement period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareTotals {
    pub trades: u64,
    pub net_pnl: Decimal,
    pub shareable: Decimal,
    pub platform_share: Decimal,
    pub user_share: Decimal,
}

impl ShareTotals {
    /// Sums ledger rows.
    pub fn of<'a>(entries: impl IntoIterator<Item = &'a ShareEntry>) -> Self {
        entries.into_iter().fold(Self::default(), |mut t, e| {
            t.trades += 1;
            t.net_pnl += e.total_pnl;
            t.shareable += e.shareable;
            t.platform_share += e.platform_share;
            t.user_share += e.user_share;
            t
        })
    }
}

/// The ledger rows of one settlement period with their totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub period: crate::pnl::Period,
    /// First day of the period (UTC).
    pub start: chrono::NaiveDate,
    pub totals: ShareTotals,
    pub entries: Vec<ShareEntry>,
}

/// Groups ledger rows into settlement statements, oldest first.
pub fn statements(entries: &[ShareEntry], period: crate::pnl::Period) -> Vec<Statement> {
    let mut by_start: std::collections::BTreeMap<chrono::NaiveDate, Vec<ShareEntry>> =
        std::collections::BTreeMap::new();
    for e in entries {
        by_start
            .entry(period.start_of(e.time))
            .or_default()
            .push(e.clone());
    }
    by_start
        .into_iter()
        .map(|(start, entries)| Statement {
            period,
            start,
            totals: ShareTotals::of(&entries),
            entries,
        })
        .collect()
}

impl Statement {
    /// Renders the statement as CSV: one row per ledger entry, then a totals row.
    ///
    /// Amounts are written exactly as stored (no float formatting); ids that tie a row to
    /// the exchange's records are `;`-separated inside one column.
    pub fn to_csv(&self) -> String {
        fn ids(v: &[i64]) -> String {
            v.iter().map(i64::to_string).collect::<Vec<_>>().join(";")
        }
        let mut out = String::from(
            "time_utc,trade_ref,total_pnl,shareable,platform_share,user_share,platform_ratio,mode,high_water_mark_after,trade_ids,income_ids\n",
        );
        for e in &self.entries {
            let mode = match e.mode {
                ShareMode::Settlement => "settlement",
                ShareMode::HighWaterMark => "high_water_mark",
                ShareMode::PerTrade => "per_trade",
            };
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{}\n",
                e.time.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                csv_field(&e.trade_ref),
                e.total_pnl,
                e.shareable,
                e.platform_share,
                e.user_share,
                e.platform_ratio,
                mode,
                e.high_water_mark_after,
                ids(&e.trade_ids),
                ids(&e.income_ids),
            ));
        }
        let t = &self.totals;
        out.push_str(&format!(
            "TOTAL {},{} trades,{},{},{},{},,,,,\n",
            self.start, t.trades, t.net_pnl, t.shareable, t.platform_share, t.user_share
        ));
        out
    }
}

/// Quotes a CSV field when it holds a separator, a quote or a line break, and defuses
/// spreadsheet formulas (a leading `=`, `+`, `-` or `@`).
fn csv_field(s: &str) -> String {
    let defused = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    fn trade(id: &str, pnl: Decimal, fee: Decimal, funding: Decimal) -> ClosedTrade {
        ClosedTrade {
            trade_ref: id.into(),
            realized_pnl: pnl,
            commission: fee,
            funding,
            closed_at: Utc.timestamp_millis_opt(1_700_000_000_000).unwrap(),
            trade_ids: vec![1, 2],
            income_ids: vec![10, 11, 12],
        }
    }

    /// Books trades with these nets under `mode`, returning the rows and the final state.
    fn book_all(
        state: &LedgerState,
        nets: &[Decimal],
        mode: ShareMode,
    ) -> (Vec<ShareEntry>, LedgerState) {
        let mut state = state.clone();
        let mut rows = Vec::new();
        for (i, n) in nets.iter().enumerate() {
            let (e, next) = book(
                &state,
                &trade(&format!("t{i}"), *n, Decimal::ZERO, Decimal::ZERO),
                ShareRatio::default(),
                mode,
            );
            rows.push(e);
            state = next;
        }
        (rows, state)
    }

    #[test]
    fn high_water_mark_mode_shares_each_new_high_as_the_trade_closes() {
        let (rows, state) = book_all(
            &LedgerState::default(),
            &[dec!(100), dec!(-40), dec!(50)],
            ShareMode::HighWaterMark,
        );
        assert_eq!(
            (rows[0].platform_share, rows[0].user_share),
            (dec!(70), dec!(30))
        );
        assert_eq!(
            (rows[1].shareable, rows[1].platform_share),
            (dec!(0), dec!(0))
        );
        assert_eq!(
            (
                rows[2].shareable,
                rows[2].platform_share,
                rows[2].user_share
            ),
            (dec!(10), dec!(7), dec!(3))
        );
        assert_eq!(state.high_water_mark, dec!(110));
    }

    #[test]
    fn settlement_mode_decides_nothing_at_booking_and_everything_at_settlement() {
        let (rows, state) = book_all(
            &LedgerState::default(),
            &[dec!(100), dec!(-40), dec!(50)],
            ShareMode::Settlement,
        );
        for r in &rows {
            assert_eq!(
                (r.shareable, r.platform_share, r.user_share),
                (dec!(0), dec!(0), dec!(0))
            );
            assert_eq!(
                r.high_water_mark_after,
                dec!(0),
                "the mark waits for the settlement"
            );
        }
        let settled = settle(&state, &rows).unwrap().expect("three rows");
        let d = &settled.decision;
        assert_eq!((d.cumulative_net, d.mark_before), (dec!(110), dec!(0)));
        assert_eq!(
            (d.shareable, d.platform_share, d.user_share),
            (dec!(110), dec!(77), dec!(33))
        );
        assert_eq!(d.mark_after, dec!(110));
        assert_eq!(settled.totals.platform_share, dec!(77));
        assert_eq!(settled.totals.trades, 3);
        assert_eq!(settled.totals.net_pnl, dec!(110));
        assert_eq!(state.settled(d).high_water_mark, dec!(110));
        assert_eq!(settle(&state, &[]).unwrap(), None);
    }

    #[test]
    fn a_period_whose_early_gains_are_lost_later_owes_nothing() {
        let opening = LedgerState {
            cumulative_net: dec!(20),
            high_water_mark: dec!(20),
        };
        let (rows, state) = book_all(&opening, &[dec!(15), dec!(-18)], ShareMode::Settlement);
        assert_eq!(
            rows[0].cumulative_net_after,
            dec!(35),
            "above the mark in the middle"
        );
        let settled = settle(&state, &rows).unwrap().expect("rows");
        assert_eq!(settled.decision.shareable, dec!(0));
        assert_eq!(settled.totals.platform_share, dec!(0));
        assert_eq!(settled.decision.mark_after, dec!(20), "the mark stays");
        // The per-trade high-water mark would have shared the 15 already.
        let (hwm_rows, _) = book_all(&opening, &[dec!(15), dec!(-18)], ShareMode::HighWaterMark);
        assert_eq!(ShareTotals::of(&hwm_rows).shareable, dec!(15));
    }

    /// issue 20's measured replay (2022-06-25 → 06-28): 23 trades, net −10.78 over the
    /// period after reaching 13.22, owed 9.25 under the per-trade high-water mark. Built
    /// here from synthetic trades of the same shape: up to 13.22 in eleven trades, then down
    /// to −10.78 in twelve.
    #[test]
    fn the_measured_replay_owes_nothing_when_decided_at_settlement() {
        let mut nets = vec![
            dec!(2.5),
            dec!(-0.8),
            dec!(3.1),
            dec!(1.42),
            dec!(-1.2),
            dec!(2.9),
        ];
        nets.extend([dec!(0.6), dec!(-0.5), dec!(2.2), dec!(1.5), dec!(1.5)]);
        nets.extend([
            dec!(-3.1),
            dec!(1.2),
            dec!(-4.4),
            dec!(-2.05),
            dec!(0.9),
            dec!(-6.3),
        ]);
        nets.extend([
            dec!(-1.75),
            dec!(2.2),
            dec!(-3.9),
            dec!(-1.6),
            dec!(-3.4),
            dec!(-1.80),
        ]);
        assert_eq!(nets.len(), 23);
        let (hwm, hwm_state) = book_all(&LedgerState::default(), &nets, ShareMode::HighWaterMark);
        assert_eq!(hwm_state.cumulative_net, dec!(-10.78));
        assert_eq!(hwm_state.high_water_mark, dec!(13.22));
        let owed = settle(&hwm_state, &hwm).unwrap().expect("rows").totals;
        assert_eq!(
            owed.platform_share,
            dec!(9.254),
            "the bug: a loss of 10.78 owes 9.25"
        );

        let (rows, state) = book_all(&LedgerState::default(), &nets, ShareMode::Settlement);
        let owed = settle(&state, &rows).unwrap().expect("rows");
        assert_eq!(owed.totals.net_pnl, dec!(-10.78));
        assert_eq!(owed.totals.shareable, dec!(0));
        assert_eq!(owed.totals.platform_share, dec!(0));
        assert_eq!(owed.totals.user_share, dec!(0));
        assert_eq!(owed.decision.mark_after, dec!(0));
    }

    #[test]
    fn net_counts_commission_and_funding() {
        let t = trade("A", dec!(12.5), dec!(1.2), dec!(-0.3));
        assert_eq!(t.net(), dec!(11.0));
        let (e, _) = book(
            &LedgerState::default(),
            &t,
            ShareRatio::default(),
            ShareMode::HighWaterMark,
        );
        assert_eq!(e.platform_share, dec!(7.7));
        assert_eq!(e.user_share, dec!(3.3));
    }

    #[test]
    fn per_trade_mode_shares_each_win_and_ignores_losses() {
        let (rows, state) = book_all(
            &LedgerState::default(),
            &[dec!(-50), dec!(20)],
            ShareMode::PerTrade,
        );
        assert_eq!(rows[1].shareable, dec!(20));
        assert_eq!(rows[1].platform_share, dec!(14));
        assert_eq!(state.high_water_mark, dec!(0), "still 30 below the start");
    }

    #[test]
    fn a_per_trade_row_leaves_gains_waiting_for_a_settlement_waiting() {
        let (mut rows, state) =
            book_all(&LedgerState::default(), &[dec!(30)], ShareMode::Settlement);
        let (e, state) = book(
            &state,
            &trade("pt", dec!(10), Decimal::ZERO, Decimal::ZERO),
            ShareRatio::default(),
            ShareMode::PerTrade,
        );
        assert_eq!(e.shareable, dec!(10));
        assert_eq!(
            state.high_water_mark,
            dec!(10),
            "lifted by its own share only"
        );
        rows.push(e);
        let settled = settle(&state, &rows).unwrap().expect("rows");
        assert_eq!(settled.decision.shareable, dec!(30), "the waiting 30, once");
        assert_eq!(settled.totals.shareable, dec!(40));
        assert_eq!(settled.decision.mark_after, dec!(40));
    }

    #[test]
    fn a_high_water_mark_row_shares_what_was_waiting_and_the_settlement_nothing_more() {
        let (mut rows, state) =
            book_all(&LedgerState::default(), &[dec!(30)], ShareMode::Settlement);
        let (e, state) = book(
            &state,
            &trade("h", dec!(5), Decimal::ZERO, Decimal::ZERO),
            ShareRatio::default(),
            ShareMode::HighWaterMark,
        );
        assert_eq!(e.shareable, dec!(35));
        rows.push(e);
        let settled = settle(&state, &rows).unwrap().expect("rows");
        assert_eq!(settled.decision.shareable, dec!(0));
        assert_eq!(settled.totals.shareable, dec!(35));
    }

    #[test]
    fn a_settlement_decides_with_the_newest_rows_split() {
        let (mut rows, state) =
            book_all(&LedgerState::default(), &[dec!(10)], ShareMode::Settlement);
        let (e, state) = book(
            &state,
            &trade("b", dec!(10), Decimal::ZERO, Decimal::ZERO),
            ShareRatio::new(dec!(0.5)).unwrap(),
            ShareMode::Settlement,
        );
        rows.push(e);
        let settled = settle(&state, &rows).unwrap().expect("rows");
        assert_eq!(settled.decision.platform_ratio.platform(), dec!(0.5));
        assert_eq!(settled.decision.platform_share, dec!(10));
        rows[1].platform_ratio = dec!(1.5);
        assert!(
            settle(&state, &rows).is_err(),
            "a stored ratio that is no split"
        );
    }

    #[test]
    fn rows_booked_before_the_settlement_mode_book_the_same_today() {
        // Old ledgers only held these two modes, whose rows keep the mark at or above the
        // cumulative net; the rule then reduces to the one they were booked by.
        let nets = [dec!(5), dec!(-8), dec!(4), dec!(6), dec!(-1), dec!(9)];
        for mode in [ShareMode::HighWaterMark, ShareMode::PerTrade] {
            let (rows, _) = book_all(&LedgerState::default(), &nets, mode);
            let mut old = LedgerState::default();
            for r in &rows {
                let cumulative = old.cumulative_net + r.total_pnl;
                let mark = old.high_water_mark.max(cumulative);
                let shareable = match mode {
                    ShareMode::PerTrade => r.total_pnl.max(Decimal::ZERO),
                    _ => (cumulative - old.high_water_mark).max(Decimal::ZERO),
                };
                assert_eq!(
                    (r.shareable, r.high_water_mark_after),
                    (shareable, mark),
                    "{mode:?}"
                );
                old = LedgerState {
                    cumulative_net: cumulative,
                    high_water_mark: mark,
                };
            }
        }
    }

    #[test]
    fn rounding_never_favours_the_platform() {
        let r = ShareRatio::new(dec!(0.7)).unwrap();
        let (p, u) = r.split(dec!(0.000000019));
        assert_eq!(p, dec!(0.00000001));
        assert_eq!(p + u, dec!(0.000000019));
        assert!(ShareRatio::new(dec!(1.1)).is_err());
        assert!(ShareRatio::new(dec!(-0.1)).is_err());
    }

    #[test]
    fn modes_keep_their_stored_names() {
        for (mode, name) in [
            (ShareMode::Settlement, "\"settlement\""),
            (ShareMode::HighWaterMark, "\"high_water_mark\""),
            (ShareMode::PerTrade, "\"per_trade\""),
        ] {
            assert_eq!(serde_json::to_string(&mode).unwrap(), name);
        }
        assert_eq!(ShareMode::default(), ShareMode::Settlement);
    }

    #[test]
    fn statements_group_by_period_and_export_csv() {
        let r = ShareRatio::default();
        let mut state = LedgerState::default();
        let mut entries = Vec::new();
        for (i, (h, net)) in [(0i64, dec!(10)), (30, dec!(5)), (24 * 40, dec!(1))]
            .iter()
            .enumerate()
        {
            let mut t = trade(&format!("t{i}"), *net, dec!(0), dec!(0));
            t.closed_at += chrono::Duration::hours(*h);
            let (e, s) = book(&state, &t, r, ShareMode::HighWaterMark);
            state = s;
            entries.push(e);
        }
        let months = statements(&entries, crate::pnl::Period::Month);
        assert_eq!(months.len(), 2);
        assert_eq!(months[0].totals.platform_share, dec!(10.5));
        let csv = months[0].to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[1].starts_with(
            "2023-11-14T22:13:20.000Z,t0,10,10,7.0,3.0,0.7,high_water_mark,10,1;2,10;11;12"
        ));
        assert!(lines[3].starts_with("TOTAL 2023-11-01,2 trades,15,15,10.5,4.5"));
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
