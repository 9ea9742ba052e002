//! Property tests of the ledger rule over any sequence of trades and settlements: what is
//! shared never exceeds the split of the highest settled result, a period that ends at or
//! below the mark owes nothing, the two shares always add up exactly, and switching modes
//! never shares the same money twice.

use perpdesk_core::ledger::{book, settle};
use perpdesk_core::{
    ClosedTrade, LedgerState, PeriodSettlement, ShareEntry, ShareMode, ShareRatio,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::btc;

#[derive(Debug, Clone)]
enum Step {
    /// A trade closing with this net, in 1e-4 USDT.
    Trade(i64),
    Settle,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            4 => (-1_000_000i64..1_000_000).prop_map(Step::Trade),
            1 => Just(Step::Settle),
        ],
        1..80,
    )
}

fn ratio() -> impl Strategy<Value = ShareRatio> {
    (0u32..=100).prop_map(|p| ShareRatio::new(Decimal::new(i64::from(p), 2)).expect("0..=1"))
}

fn mode() -> impl Strategy<Value = ShareMode> {
    prop_oneof![
        Just(ShareMode::Settlement),
        Just(ShareMode::HighWaterMark),
        Just(ShareMode::PerTrade),
    ]
}

/// Everything a run booked and settled.
#[derive(Debug, Default)]
struct Run {
    rows: Vec<ShareEntry>,
    /// How far each row lifted the mark.
    lifts: Vec<Decimal>,
    settlements: Vec<PeriodSettlement>,
    state: LedgerState,
    highest_cumulative: Decimal,
    highest_settled: Decimal,
}

fn run(steps: &[Step], ratio: ShareRatio, mode_of: impl Fn(usize) -> ShareMode) -> Run {
    let mut r = Run::default();
    let mut period: Vec<ShareEntry> = Vec::new();
    let mut booked = 0;
    for step in steps {
        match step {
            Step::Trade(n) => {
                let trade = ClosedTrade {
                    trade_ref: format!("{}:{booked}", btc()),
                    realized_pnl: Decimal::new(*n, 4),
                    commission: Decimal::ZERO,
                    funding: Decimal::ZERO,
                    closed_at: chrono::DateTime::UNIX_EPOCH,
                    trade_ids: vec![booked],
                    income_ids: Vec::new(),
                };
                let (e, next) = book(&r.state, &trade, ratio, mode_of(r.rows.len()));
                r.lifts.push(next.high_water_mark - r.state.high_water_mark);
                r.highest_cumulative = r.highest_cumulative.max(next.cumulative_net);
                r.state = next;
                r.rows.push(e.clone());
                period.push(e);
                booked += 1;
            }
            Step::Settle => {
                if let Some(s) = settle(&r.state, &period).expect("valid ratios") {
                    r.highest_settled = r.highest_settled.max(s.decision.cumulative_net);
                    r.state = r.state.settled(&s.decision);
                    r.settlements.push(s);
                    period.clear();
                }
            }
        }
    }
    r
}

fn assert_exact_split(
    shareable: Decimal,
    platform: Decimal,
    user: Decimal,
    ratio: ShareRatio,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(platform + user, shareable);
    prop_assert!(shareable >= Decimal::ZERO);
    let exact = shareable * ratio.platform();
    prop_assert!(platform <= exact, "rounding favoured the platform");
    prop_assert!(exact - platform < Decimal::new(1, ShareRatio::SCALE));
    Ok(())
}

proptest! {
    #[test]
    fn at_settlement_nothing_is_shared_beyond_the_highest_settled_result(
        steps in steps(),
        ratio in ratio(),
    ) {
        let r = run(&steps, ratio, |_| ShareMode::Settlement);
        for e in &r.rows {
            prop_assert_eq!(e.shareable, Decimal::ZERO, "nothing decided at booking");
        }
        let mut shared = Decimal::ZERO;
        let mut platform = Decimal::ZERO;
        for s in &r.settlements {
            let d = &s.decision;
            assert_exact_split(d.shareable, d.platform_share, d.user_share, ratio)?;
            assert_exact_split(
                s.totals.shareable,
                s.totals.platform_share,
                s.totals.user_share,
                ratio,
            )?;
            if d.cumulative_net <= d.mark_before {
                prop_assert_eq!(s.totals.shareable, Decimal::ZERO);
                prop_assert_eq!(s.totals.platform_share, Decimal::ZERO);
                prop_assert_eq!(d.mark_after, d.mark_before, "the mark stays");
            }
            shared += s.totals.shareable;
            platform += s.totals.platform_share;
        }
        let best = r.highest_settled.max(Decimal::ZERO);
        prop_assert_eq!(shared, best, "exactly the highest settled result, once");
        prop_assert!(platform <= ratio.platform() * best);
        prop_assert_eq!(r.state.high_water_mark, best);
    }

    #[test]
    fn the_per_trade_high_water_mark_shares_the_highest_result_once(
        steps in steps(),
        ratio in ratio(),
    ) {
        let r = run(&steps, ratio, |_| ShareMode::HighWaterMark);
        let mut shared = Decimal::ZERO;
        for e in &r.rows {
            assert_exact_split(e.shareable, e.platform_share, e.user_share, ratio)?;
            if e.total_pnl <= Decimal::ZERO {
                prop_assert_eq!(e.shareable, Decimal::ZERO);
            }
            shared += e.shareable;
        }
        for s in &r.settlements {
            prop_assert_eq!(s.decision.shareable, Decimal::ZERO, "rows decided it all");
        }
        prop_assert_eq!(shared, r.highest_cumulative.max(Decimal::ZERO));
        prop_assert_eq!(r.state.high_water_mark, r.highest_cumulative.max(Decimal::ZERO));
    }

    #[test]
    fn per_trade_shares_every_win_on_its_own_and_nothing_else(
        steps in steps(),
        ratio in ratio(),
    ) {
        let r = run(&steps, ratio, |_| ShareMode::PerTrade);
        for e in &r.rows {
            prop_assert_eq!(e.shareable, e.total_pnl.max(Decimal::ZERO));
            assert_exact_split(e.shareable, e.platform_share, e.user_share, ratio)?;
        }
        for s in &r.settlements {
            prop_assert_eq!(s.decision.shareable, Decimal::ZERO);
            prop_assert_eq!(s.totals.shareable, s.rows.shareable);
        }
        prop_assert_eq!(r.state.high_water_mark, r.highest_cumulative.max(Decimal::ZERO));
    }

    #[test]
    fn switching_modes_never_shares_the_same_money_twice(
        steps in steps(),
        ratio in ratio(),
        modes in prop::collection::vec(mode(), 80),
    ) {
        let r = run(&steps, ratio, |i| modes[i]);
        // The mark rises by exactly what high-water-mark rows and settlements share, and
        // by at most what per-trade rows share; it never passes the best result reached.
        let mut lifted = Decimal::ZERO;
        for (e, lift) in r.rows.iter().zip(&r.lifts) {
            prop_assert!(*lift >= Decimal::ZERO, "the mark never falls");
            assert_exact_split(e.shareable, e.platform_share, e.user_share, ratio)?;
            match e.mode {
                ShareMode::Settlement => prop_assert_eq!(*lift, Decimal::ZERO),
                ShareMode::HighWaterMark => prop_assert_eq!(*lift, e.shareable),
                ShareMode::PerTrade => prop_assert!(*lift <= e.shareable),
            }
            lifted += lift;
        }
        for s in &r.settlements {
            let d = &s.decision;
            assert_exact_split(d.shareable, d.platform_share, d.user_share, d.platform_ratio)?;
            prop_assert_eq!(d.mark_after - d.mark_before, d.shareable);
            lifted += d.shareable;
        }
        prop_assert_eq!(r.state.high_water_mark, lifted);
        prop_assert!(r.state.high_water_mark <= r.highest_cumulative.max(Decimal::ZERO));
    }
}
