//! Hedge-mode accounting invariants as property tests, in process: whatever sequence of
//! opening and closing orders on either side, each side's position is the signed sum of its
//! own fills and never crosses zero, the books add up, and a saved state reads back equal.

use std::sync::OnceLock;

use perpdesk_sim::exchange::{Exchange, Permissions, PositionSide, Side, Snapshot, TimeInForce};
use perpdesk_sim::market::MarketData;
use perpdesk_sim::params::{NewOrder, SetPositionMode};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::support::{self, START};

fn market() -> &'static MarketData {
    static MARKET: OnceLock<MarketData> = OnceLock::new();
    MARKET.get_or_init(|| {
        MarketData::load_dir(&support::data_dir(), &["BTCUSDT", "ETHUSDT"]).expect("data")
    })
}

const SYMBOLS: [&str; 2] = ["BTCUSDT", "ETHUSDT"];

#[derive(Debug, Clone)]
enum Step {
    /// A market order: symbol index, buy?, LONG side?, quantity in thousandths.
    Market(usize, bool, bool, u32),
    /// A resting limit order `offset` per mille away from the market.
    Limit(usize, bool, bool, u32, u32),
    /// Cancel every open order of a symbol.
    CancelAll(usize),
    /// Let the replay run for this many minutes.
    Wait(u32),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..2usize, any::<bool>(), any::<bool>(), 1..40u32)
            .prop_map(|(s, b, l, q)| Step::Market(s, b, l, q)),
        (0..2usize, any::<bool>(), any::<bool>(), 1..40u32, 1..30u32)
            .prop_map(|(s, b, l, q, o)| Step::Limit(s, b, l, q, o)),
        (0..2usize).prop_map(Step::CancelAll),
        (1..2_000u32).prop_map(Step::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn hedge_books_add_up_per_side(steps in prop::collection::vec(step(), 1..40)) {
        let mut ex = Exchange::new(market().clone(), START);
        let deposit = Decimal::new(50_000, 0);
        ex.add_account("k", "s", deposit, Permissions::default(), START);
        ex.set_position_mode(0, SetPositionMode { dual: true }, START)
            .expect("hedge mode");
        let mut now = START;
        for s in &steps {
            match *s {
                Step::Market(i, buy, long, q) => {
                    let qty = Decimal::new(i64::from(q), 3);
                    let side = if buy { Side::Buy } else { Side::Sell };
                    let ps = if long { PositionSide::Long } else { PositionSide::Short };
                    // Refusals (margin, notional, closing more than held) change nothing.
                    let _ = ex.new_order(0, &NewOrder::market(SYMBOLS[i], side, qty).on(ps), now);
                }
                Step::Limit(i, buy, long, q, off) => {
                    let last = ex.market.last_price(SYMBOLS[i], now).expect("price");
                    let f = Decimal::new(i64::from(off), 3);
                    let price = if buy { last * (Decimal::ONE - f) } else { last * (Decimal::ONE + f) };
                    let side = if buy { Side::Buy } else { Side::Sell };
                    let ps = if long { PositionSide::Long } else { PositionSide::Short };
                    let _ = ex.new_order(0, &NewOrder::limit(SYMBOLS[i], side, Decimal::new(i64::from(q), 3), price.round_dp(1), TimeInForce::Gtc).on(ps), now);
                }
                Step::CancelAll(i) => { ex.cancel_all(0, SYMBOLS[i], now).expect("a listed symbol"); }
                Step::Wait(m) => {
                    now += i64::from(m) * 60_000;
                    ex.advance(now);
                }
            }
        }
        let a = &ex.accounts[0];
        let income: Decimal = a.income.iter().map(|r| r.income).sum();
        prop_assert_eq!(a.wallet, income, "wallet vs income history");
        let trades_pnl: Decimal = a.trades.iter().map(|t| t.realized_pnl).sum();
        let income_pnl: Decimal = a.income.iter().filter(|r| r.income_type == "REALIZED_PNL").map(|r| r.income).sum();
        prop_assert_eq!(trades_pnl, income_pnl);
        for symbol in SYMBOLS {
            for ps in [PositionSide::Long, PositionSide::Short] {
                let filled: Decimal = a.trades.iter()
                    .filter(|t| t.symbol == symbol && t.position_side == ps)
                    .map(|t| if t.side == Side::Buy { t.qty } else { -t.qty })
                    .sum();
                let amount = a.positions.get(&(symbol.to_owned(), ps)).map_or(Decimal::ZERO, |p| p.amount);
                prop_assert_eq!(amount, filled, "{} {:?}", symbol, ps);
                // A side never crosses zero: closing fills are capped at the position.
                match ps {
                    PositionSide::Long => prop_assert!(amount >= Decimal::ZERO),
                    _ => prop_assert!(amount <= Decimal::ZERO),
                }
            }
            prop_assert!(a.positions.get(&(symbol.to_owned(), PositionSide::Both)).is_none_or(|p| p.amount.is_zero()));
        }
        // Every order names a hedge side.
        prop_assert!(a.orders.iter().all(|o| o.position_side != PositionSide::Both));
        // The state survives a JSON round trip exactly.
        let snapshot = ex.snapshot();
        let json = serde_json::to_string(&snapshot).expect("serializes");
        let back: Snapshot = serde_json::from_str(&json).expect("deserializes");
        prop_assert_eq!(&back, &snapshot);
        let restored = Exchange::from_snapshot(market().clone(), back).expect("restores");
        prop_assert_eq!(restored.snapshot(), snapshot);
    }
}
