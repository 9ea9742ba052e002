//! Accounting invariants as property tests, on the exchange in process (no HTTP, so many
//! cases run): whatever sequence of orders and clock steps, the books add up exactly.

use std::sync::OnceLock;

use perpdesk_sim::exchange::{Exchange, Permissions, Side, TimeInForce};
use perpdesk_sim::market::MarketData;
use perpdesk_sim::params::NewOrder;
use perpdesk_sim::replies;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::support::{self, START};

fn market() -> &'static MarketData {
    static MARKET: OnceLock<MarketData> = OnceLock::new();
    MARKET.get_or_init(|| {
        MarketData::load_dir(&support::data_dir(), &["BTCUSDT", "ETHUSDT"]).expect("data")
    })
}

#[derive(Debug, Clone)]
enum Step {
    /// A market order: symbol index, buy?, quantity in thousandths.
    Market(usize, bool, u32),
    /// A resting limit order `offset` per mille away from the market.
    Limit(usize, bool, u32, u32),
    /// Cancel every open order of a symbol.
    CancelAll(usize),
    /// Let the replay run for this many minutes.
    Wait(u32),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..2usize, any::<bool>(), 1..40u32).prop_map(|(s, b, q)| Step::Market(s, b, q)),
        (0..2usize, any::<bool>(), 1..40u32, 1..30u32)
            .prop_map(|(s, b, q, o)| Step::Limit(s, b, q, o)),
        (0..2usize).prop_map(Step::CancelAll),
        (1..2_000u32).prop_map(Step::Wait),
    ]
}

const SYMBOLS: [&str; 2] = ["BTCUSDT", "ETHUSDT"];

fn dec(v: &Value) -> Decimal {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("decimal string expected, got {v}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn books_add_up_after_any_sequence(steps in prop::collection::vec(step(), 1..40)) {
        let mut ex = Exchange::new(market().clone(), START);
        let deposit = Decimal::new(50_000, 0);
        ex.add_account("k", "s", deposit, Permissions::default(), START);
        let mut now = START;
        for s in &steps {
            match *s {
                Step::Market(i, buy, q) => {
                    let qty = Decimal::new(i64::from(q), 3);
                    let side = if buy { Side::Buy } else { Side::Sell };
                    // Refusals (margin, notional) are fine; they must simply change nothing.
                    let _ = ex.new_order(0, &NewOrder::market(SYMBOLS[i], side, qty), now);
                }
                Step::Limit(i, buy, q, off) => {
                    let last = ex.market.last_price(SYMBOLS[i], now).expect("price");
                    let f = Decimal::new(i64::from(off), 3);
                    let price = if buy { last * (Decimal::ONE - f) } else { last * (Decimal::ONE + f) };
                    let side = if buy { Side::Buy } else { Side::Sell };
                    let _ = ex.new_order(0, &NewOrder::limit(SYMBOLS[i], side, Decimal::new(i64::from(q), 3), price.round_dp(1), TimeInForce::Gtc), now);
                }
                Step::CancelAll(i) => { ex.cancel_all(0, SYMBOLS[i], now).expect("a listed symbol"); }
                Step::Wait(m) => {
                    now += i64::from(m) * 60_000;
                    ex.advance(now);
                }
            }
        }
        let a = &ex.accounts[0];
        // Wallet = deposit + every income row (realized PnL, commission, funding, fees).
        let income: Decimal = a.income.iter().map(|r| r.income).sum();
        prop_assert_eq!(a.wallet, income, "wallet vs income history");
        prop_assert_eq!(a.income[0].income, deposit);
        // Realized PnL and commission in the income history equal the trades'.
        let trades_pnl: Decimal = a.trades.iter().map(|t| t.realized_pnl).sum();
        let trades_fee: Decimal = a.trades.iter().map(|t| t.commission).sum();
        let income_pnl: Decimal = a.income.iter().filter(|r| r.income_type == "REALIZED_PNL").map(|r| r.income).sum();
        let income_fee: Decimal = a.income.iter().filter(|r| r.income_type == "COMMISSION").map(|r| r.income).sum();
        prop_assert_eq!(trades_pnl, income_pnl);
        prop_assert_eq!(-trades_fee, income_fee);
        // Positions equal the signed sum of fills.
        for symbol in SYMBOLS {
            let filled: Decimal = a.trades.iter().filter(|t| t.symbol == symbol)
                .map(|t| if t.side == perpdesk_sim::exchange::Side::Buy { t.qty } else { -t.qty }).sum();
            let position: Decimal = a.positions.iter().filter(|((s, _), _)| s == symbol).map(|(_, p)| p.amount).sum();
            prop_assert_eq!(position, filled, "position of {}", symbol);
        }
        // No order is both filled and cancelled; the open index holds exactly the open orders.
        for (i, o) in a.orders.iter().enumerate() {
            prop_assert!(o.executed_qty <= o.orig_qty);
            if o.status == "CANCELED" { prop_assert!(o.executed_qty < o.orig_qty || o.orig_qty.is_zero()); }
            prop_assert_eq!(a.open.contains(&i), o.status == "NEW" || o.status == "PARTIALLY_FILLED");
        }
        // The REST view agrees with the state to the last decimal.
        let balance = replies::account::balance(&ex.balance(0, now), now);
        prop_assert_eq!(dec(&balance[0]["balance"]), ex.accounts[0].wallet);
    }
}
