//! The profit-share rule (the original system's "自动7:3分润"): net realised profit is split
//! between the platform and the user, by default platform 70% / user 30%.
//!
//! Two modes:
//! - [`ShareMode::HighWaterMark`] (default, the market norm): the basis is the account's
//!   cumulative net profit; a share accrues only on the part above its previous peak, so a
//!   loss must be earned back before anything more is shared.
//! - [`ShareMode::PerTrade`] (the original system's literal rule): each profitable trade is
//!   split on its own; losing trades share nothing and are not carried forward.
//!
//! Net profit of a trade = realised PnL − commission + funding (funding is signed: received
//! is positive). Rounding: the platform share is rounded toward zero to
//! [`ShareRatio::SCALE`] decimal places and the user receives the remainder, so the two
//! shares always add up to the shareable amount exactly and rounding never favours the
//! platform.
//!
//! Worked example (70/30, high-water mark, starting at zero):
//!
//! | trade | net     | cumulative | mark before | shareable | platform | user  |
//! |-------|---------|------------|-------------|-----------|----------|-------|
//! | A     | +100    | 100        | 0           | 100       | 70       | 30    |
//! | B     | −40     | 60         | 100         | 0         | 0        | 0     |
//! | C     | +50     | 110        | 100         | 10        | 7        | 3     |

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

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

/// How the basis of the share is computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareMode {
    #[default]
    HighWaterMark,
    PerTrade,
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
    /// The highest `cumulative_net` ever reached (never below zero).
    pub high_water_mark: Decimal,
}

/// One append-only ledger row, as the original `profit_shares` table plus its sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareEntry {
    pub trade_ref: String,
    /// The trade's net profit (the original `total_pnl`).
    pub total_pnl: Decimal,
    /// The part of it that is shared (above the mark in high-water-mark mode).
    pub shareable: Decimal,
    pub platform_share: Decimal,
    pub user_share: Decimal,
    pub platform_ratio: Decimal,
    pub mode: ShareMode,
    pub cumulative_net_after: Decimal,
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
    let cumulative = state.cumulative_net + net;
    let (shareable, mark) = match mode {
        ShareMode::HighWaterMark => {
            let above = (cumulative - state.high_water_mark).max(Decimal::ZERO);
            (above, state.high_water_mark.max(cumulative))
        }
        ShareMode::PerTrade => (
            net.max(Decimal::ZERO),
            state.high_water_mark.max(cumulative),
        ),
    };
    let (platform, user) = ratio.split(shareable);
    let next = LedgerState {
        cumulative_net: cumulative,
        high_water_mark: mark,
    };
    let entry = ShareEntry {
        trade_ref: trade.trade_ref.clone(),
        total_pnl: net,
        shareable,
        platform_share: platform,
        user_share: user,
        platform_ratio: ratio.platform(),
        mode,
        cumulative_net_after: cumulative,
        high_water_mark_after: mark,
        time: trade.closed_at,
        trade_ids: trade.trade_ids.clone(),
        income_ids: trade.income_ids.clone(),
    };
    (entry, next)
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
    use proptest::prelude::*;
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

    #[test]
    fn worked_example_from_the_docs() {
        let r = ShareRatio::default();
        let s0 = LedgerState::default();
        let (a, s1) = book(
            &s0,
            &trade("A", dec!(100), dec!(0), dec!(0)),
            r,
            ShareMode::HighWaterMark,
        );
        assert_eq!((a.platform_share, a.user_share), (dec!(70), dec!(30)));
        let (b, s2) = book(
            &s1,
            &trade("B", dec!(-40), dec!(0), dec!(0)),
            r,
            ShareMode::HighWaterMark,
        );
        assert_eq!((b.shareable, b.platform_share), (dec!(0), dec!(0)));
        let (c, s3) = book(
            &s2,
            &trade("C", dec!(50), dec!(0), dec!(0)),
            r,
            ShareMode::HighWaterMark,
        );
        assert_eq!(
            (c.shareable, c.platform_share, c.user_share),
            (dec!(10), dec!(7), dec!(3))
        );
        assert_eq!(s3.high_water_mark, dec!(110));
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
        let r = ShareRatio::default();
        let (_, s) = book(
            &LedgerState::default(),
            &trade("A", dec!(-50), dec!(0), dec!(0)),
            r,
            ShareMode::PerTrade,
        );
        let (e, _) = book(
            &s,
            &trade("B", dec!(20), dec!(0), dec!(0)),
            r,
            ShareMode::PerTrade,
        );
        assert_eq!(e.shareable, dec!(20));
        assert_eq!(e.platform_share, dec!(14));
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

    /// The rows of the Markdown table that follows `<!-- table: {name} -->` in `doc`, each
    /// as its trimmed cells (the header and the separator line left out).
    fn doc_table<'a>(doc: &'a str, name: &str) -> Vec<Vec<&'a str>> {
        let marker = format!("<!-- table: {name} -->");
        let at = doc
            .find(&marker)
            .unwrap_or_else(|| panic!("{marker} in docs/profit-share.md"));
        doc[at + marker.len()..]
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

    fn doc_dec(cell: &str) -> Decimal {
        cell.parse()
            .unwrap_or_else(|e| panic!("{cell:?} in docs/profit-share.md: {e}"))
    }

    fn doc_time(cell: &str) -> DateTime<Utc> {
        chrono::NaiveDateTime::parse_from_str(cell, "%Y-%m-%d %H:%M")
            .unwrap_or_else(|e| panic!("{cell:?} in docs/profit-share.md: {e}"))
            .and_utc()
    }

    /// docs/profit-share.md's worked example, read from the page itself: its fills and
    /// funding rows go through the round-trip and ledger code the app books with, and every
    /// number in its tables must come out exactly.
    #[test]
    fn the_worked_example_in_the_user_docs_holds() {
        use crate::{Fill, Income, IncomeKind, PositionSide, Side, Symbol};
        const DOC: &str = include_str!("../../../docs/profit-share.md");
        let btc = Symbol::new("BTCUSDT").unwrap();
        let fills: Vec<Fill> = doc_table(DOC, "fills")
            .iter()
            .map(|r| Fill {
                symbol: btc.clone(),
                trade_id: r[0].parse().unwrap(),
                order_id: r[0].parse().unwrap(),
                client_order_id: None,
                side: if r[2] == "BUY" { Side::Buy } else { Side::Sell },
                position_side: PositionSide::Both,
                price: doc_dec(r[4]),
                quantity: doc_dec(r[3]),
                realized_pnl: doc_dec(r[5]),
                commission: doc_dec(r[6]),
                commission_asset: "USDT".into(),
                maker: false,
                time: doc_time(r[1]),
            })
            .collect();
        let funding: Vec<Income> = doc_table(DOC, "funding")
            .iter()
            .map(|r| Income {
                tran_id: r[0].parse().unwrap(),
                symbol: Some(btc.clone()),
                kind: IncomeKind::FundingFee,
                amount: doc_dec(r[2]),
                asset: "USDT".into(),
                trade_id: None,
                info: "FUNDING_FEE".into(),
                time: doc_time(r[1]),
            })
            .collect();
        let trips = crate::pnl::round_trips(&fills, &funding);
        let rows = doc_table(DOC, "trades");
        assert_eq!(trips.len(), rows.len(), "one table row per round trip");
        let ratio = ShareRatio::default();
        let mut state = LedgerState::default();
        let mut entries = Vec::new();
        for (trip, row) in trips.iter().zip(&rows) {
            let ids: Vec<i64> = row[1]
                .split(',')
                .map(|i| i.trim().parse().unwrap())
                .collect();
            assert_eq!(trip.trade_ids, ids, "{row:?}");
            let closed = trip.closed_trade().expect("closed");
            assert_eq!(closed.realized_pnl, doc_dec(row[2]), "realized PnL {row:?}");
            assert_eq!(closed.commission, doc_dec(row[3]), "commission {row:?}");
            assert_eq!(closed.funding, doc_dec(row[4]), "funding {row:?}");
            assert_eq!(closed.net(), doc_dec(row[5]), "net {row:?}");
            assert_eq!(state.high_water_mark, doc_dec(row[7]), "HWM before {row:?}");
            let (e, next) = book(&state, &closed, ratio, ShareMode::HighWaterMark);
            assert_eq!(
                e.cumulative_net_after,
                doc_dec(row[6]),
                "cumulative {row:?}"
            );
            assert_eq!(e.shareable, doc_dec(row[8]), "shareable {row:?}");
            assert_eq!(e.platform_share, doc_dec(row[9]), "platform {row:?}");
            assert_eq!(e.user_share, doc_dec(row[10]), "user {row:?}");
            state = next;
            entries.push(e);
        }
        let weeks = statements(&entries, crate::pnl::Period::Week);
        let week_rows = doc_table(DOC, "weekly");
        assert_eq!(weeks.len(), week_rows.len());
        for (w, row) in weeks.iter().zip(&week_rows) {
            assert_eq!(w.start.to_string(), row[0]);
            assert_eq!(w.totals.trades.to_string(), row[1]);
            assert_eq!(w.totals.net_pnl, doc_dec(row[2]), "{row:?}");
            assert_eq!(w.totals.shareable, doc_dec(row[3]), "{row:?}");
            assert_eq!(w.totals.platform_share, doc_dec(row[4]), "{row:?}");
            assert_eq!(w.totals.user_share, doc_dec(row[5]), "{row:?}");
        }
        let months = statements(&entries, crate::pnl::Period::Month);
        assert_eq!(months.len(), 1, "the example fits in November");
        let modes = doc_table(DOC, "modes");
        for (mode, row) in [ShareMode::HighWaterMark, ShareMode::PerTrade]
            .into_iter()
            .zip(&modes)
        {
            let mut state = LedgerState::default();
            let mut booked = Vec::new();
            for trip in &trips {
                let (e, next) = book(&state, &trip.closed_trade().unwrap(), ratio, mode);
                state = next;
                booked.push(e);
            }
            let totals = ShareTotals::of(&booked);
            assert_eq!(totals.net_pnl, doc_dec(row[1]), "{row:?}");
            assert_eq!(totals.shareable, doc_dec(row[2]), "{row:?}");
            assert_eq!(totals.platform_share, doc_dec(row[3]), "{row:?}");
            assert_eq!(totals.user_share, doc_dec(row[4]), "{row:?}");
            if mode == ShareMode::HighWaterMark {
                assert_eq!(totals, months[0].totals);
                assert_eq!(totals.shareable, state.high_water_mark);
            }
        }
    }

    proptest! {
        #[test]
        fn shares_sum_to_profit_above_the_mark(
            nets in prop::collection::vec(-1_000_000i64..1_000_000, 1..80),
            ratio_pct in 0u32..=100,
        ) {
            let ratio = ShareRatio::new(Decimal::new(i64::from(ratio_pct), 2)).unwrap();
            let mut state = LedgerState::default();
            let mut entries = Vec::new();
            for (i, n) in nets.iter().enumerate() {
                let t = trade(&i.to_string(), Decimal::new(*n, 4), Decimal::ZERO, Decimal::ZERO);
                let (e, s) = book(&state, &t, ratio, ShareMode::HighWaterMark);
                prop_assert_eq!(e.platform_share + e.user_share, e.shareable);
                prop_assert!(e.shareable >= Decimal::ZERO);
                if e.total_pnl <= Decimal::ZERO {
                    prop_assert_eq!(e.shareable, Decimal::ZERO);
                }
                let exact = e.shareable * ratio.platform();
                prop_assert!(e.platform_share <= exact);
                prop_assert!(exact - e.platform_share < Decimal::new(1, ShareRatio::SCALE));
                state = s;
                entries.push(e);
            }
            let totals = ShareTotals::of(&entries);
            // Everything shared is exactly the final high-water mark: profit above every
            // earlier peak, counted once.
            prop_assert_eq!(totals.shareable, state.high_water_mark);
            prop_assert_eq!(totals.net_pnl, state.cumulative_net);
        }
    }
}
