//! Orders, positions and the books they leave, as the client sees them.

use perpdesk_binance::Placed;
use perpdesk_core::{
    ClientOrderId, IncomeKind, MarginType, OrderKind, OrderRequest, PositionSide, Side, Symbol,
    WorkingType,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::{self, KEY, SECRET, START};

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").expect("symbol")
}

fn market(side: Side, qty: Decimal, id: &str) -> OrderRequest {
    OrderRequest {
        symbol: btc(),
        side,
        position_side: PositionSide::Both,
        kind: OrderKind::Market,
        quantity: Some(qty),
        reduce_only: false,
        close_position: false,
        client_order_id: ClientOrderId::new(id).expect("id"),
    }
}

#[tokio::test]
async fn exchange_info_gives_the_real_btcusdt_filters() {
    let sim = support::start().await;
    let filters = support::client(&sim, KEY, SECRET)
        .symbol_filters(&btc())
        .await
        .expect("filters");
    assert_eq!(filters.tick_size, dec!(0.1));
    assert_eq!(filters.step_size, dec!(0.001));
    assert_eq!(filters.min_notional, dec!(5));
    assert_eq!(filters.max_qty, dec!(1000));
    assert_eq!(filters.market_max_qty, dec!(120));
}

#[tokio::test]
async fn a_round_trip_leaves_books_that_add_up_to_the_last_decimal() {
    let sim = support::start().await;
    let client = support::client(&sim, KEY, SECRET);
    assert_eq!(client.set_leverage(&btc(), 10).await.expect("leverage"), 10);
    client
        .set_margin_type(&btc(), MarginType::Isolated)
        .await
        .expect("isolated");

    let Placed::Order(open) = client
        .raw()
        .place_order(&market(Side::Buy, dec!(0.010), "pd-1-e0"))
        .await
        .expect("open")
    else {
        panic!("a market order is a regular order");
    };
    assert_eq!(open.executed_qty, dec!(0.010));
    let positions = client.positions().await.expect("positions");
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0].quantity, dec!(0.010));

    // Six hours later (crossing a funding time), close it.
    support::advance(&sim, 6 * 3_600_000);
    client
        .raw()
        .place_order(&market(Side::Sell, dec!(0.010), "pd-1-x0"))
        .await
        .expect("close");
    assert!(client.positions().await.expect("positions").is_empty());

    let income = client
        .income_since(
            chrono::DateTime::from_timestamp_millis(START - 1).expect("time"),
            1000,
        )
        .await
        .expect("income");
    let sum = |kind: IncomeKind| {
        income
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.amount)
            .sum::<Decimal>()
    };
    let commission = sum(IncomeKind::Commission);
    let realized = sum(IncomeKind::RealizedPnl);
    let funding = sum(IncomeKind::FundingFee);
    assert!(commission < Decimal::ZERO, "commission is paid");
    assert_eq!(
        income
            .iter()
            .filter(|r| r.kind == IncomeKind::Commission)
            .count(),
        2
    );
    assert!(
        income
            .iter()
            .filter(|r| r.kind != IncomeKind::Transfer)
            .all(|r| r.trade_id.is_some() || r.kind == IncomeKind::FundingFee)
    );

    // Wallet = deposit + realized PnL + commission + funding, exactly.
    let balance = client
        .raw()
        .rest()
        .call::<serde_json::Value>(&perpdesk_binance::endpoints::BALANCE, &[])
        .await
        .expect("balance");
    let wallet: Decimal = balance[0]["balance"]
        .as_str()
        .expect("balance")
        .parse()
        .expect("decimal");
    assert_eq!(wallet, dec!(10000) + realized + commission + funding);
}

#[tokio::test]
async fn a_stop_loss_closes_the_position_when_the_replay_crosses_it() {
    let sim = support::start().await;
    let client = support::client(&sim, KEY, SECRET);
    let entry_price = sim
        .shared
        .exchange
        .lock()
        .expect("lock")
        .market
        .last_price("BTCUSDT", START)
        .expect("price");
    client
        .raw()
        .place_order(&market(Side::Buy, dec!(0.010), "pd-2-e0"))
        .await
        .expect("open");
    // A stop 0.5% under the entry: the hourly path will cross it within days.
    let stop = (entry_price * dec!(0.995)).round_dp(1);
    let sl = OrderRequest {
        side: Side::Sell,
        kind: OrderKind::StopMarket {
            stop_price: stop,
            working_type: WorkingType::ContractPrice,
        },
        quantity: None,
        close_position: true,
        client_order_id: ClientOrderId::new("pd-2-s0").expect("id"),
        ..market(Side::Sell, dec!(0.010), "pd-2-s0")
    };
    let Placed::Algo(algo) = client.raw().place_order(&sl).await.expect("stop placed") else {
        panic!("stops are algo orders")
    };
    assert_eq!(algo.client_algo_id, "pd-2-s0");

    let mut hours = 0;
    while !client.positions().await.expect("positions").is_empty() {
        support::advance(&sim, 3_600_000);
        hours += 1;
        assert!(hours < 24 * 60, "the replay never crossed {stop}");
    }
    let income = client
        .income_since(
            chrono::DateTime::from_timestamp_millis(START).expect("time"),
            1000,
        )
        .await
        .expect("income");
    let realized: Decimal = income
        .iter()
        .filter(|r| r.kind == IncomeKind::RealizedPnl)
        .map(|r| r.amount)
        .sum();
    assert_eq!(
        realized,
        ((stop - entry_price) * dec!(0.010)).round_dp(8),
        "filled at the stop"
    );
}

#[tokio::test]
async fn an_isolated_position_at_100x_is_liquidated_when_the_mark_price_falls_far_enough() {
    let sim = support::start().await;
    let client = support::client(&sim, KEY, SECRET);
    client.set_leverage(&btc(), 100).await.expect("leverage");
    client
        .set_margin_type(&btc(), MarginType::Isolated)
        .await
        .expect("isolated");
    client
        .raw()
        .place_order(&market(Side::Buy, dec!(0.010), "pd-3-e0"))
        .await
        .expect("open");
    let mut hours = 0;
    while !client.positions().await.expect("positions").is_empty() {
        support::advance(&sim, 3_600_000);
        hours += 1;
        assert!(hours < 24 * 90, "never liquidated");
    }
    let income = client
        .income_since(
            chrono::DateTime::from_timestamp_millis(START).expect("time"),
            1000,
        )
        .await
        .expect("income");
    assert!(
        income
            .iter()
            .any(|r| matches!(&r.kind, IncomeKind::InsuranceClear) && r.amount < Decimal::ZERO),
        "clearance fee booked"
    );
    let realized: Decimal = income
        .iter()
        .filter(|r| r.kind == IncomeKind::RealizedPnl)
        .map(|r| r.amount)
        .sum();
    // At 100x the position is gone before it loses more than its margin plus the fee band.
    assert!(
        realized < Decimal::ZERO && realized > dec!(-10),
        "loss {realized}"
    );
    let orders: serde_json::Value = client
        .raw()
        .rest()
        .call(
            &perpdesk_binance::endpoints::ALL_ORDERS,
            &[("symbol", "BTCUSDT".into())],
        )
        .await
        .expect("all orders");
    let liquidation = orders
        .as_array()
        .expect("array")
        .iter()
        .find(|o| o["type"] == "LIQUIDATION")
        .expect("a LIQUIDATION order");
    assert!(
        liquidation["clientOrderId"]
            .as_str()
            .expect("id")
            .starts_with("autoclose-")
    );
    assert_eq!(liquidation["status"], "FILLED");
}
