//! Hedge mode (`dualSidePosition`): a long and a short on one symbol at once, each closed by
//! its own side, with per-side books, codes, algo orders and user-stream events.

use std::time::Duration;

use perpdesk_binance::ExchangeError;
use perpdesk_binance::streams::{StreamConfig, StreamEvent, UserStream};
use perpdesk_binance::wire::algo::NewAlgoOrderRequest;
use perpdesk_binance::wire::stream::UserDataEvent;
use perpdesk_binance::wire::trade::{NewOrderRequest, OrderRef};
use perpdesk_binance::wire::{
    IncomeType, NewOrderRespType, OrderStatus, OrderType, PositionSide, Side, TimeInForce,
    WorkingType,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tokio::sync::mpsc;

use crate::support::{self, KEY, SECRET, START};

fn code<T: std::fmt::Debug>(r: Result<T, ExchangeError>) -> i64 {
    match r {
        Err(ExchangeError::Rejected { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn order(side: Side, ps: Option<PositionSide>, qty: Decimal, id: &str) -> NewOrderRequest {
    let mut o = NewOrderRequest::market("BTCUSDT", side, qty);
    o.position_side = ps;
    o.new_client_order_id = Some(id.into());
    o.new_order_resp_type = Some(NewOrderRespType::Result);
    o
}

#[tokio::test]
async fn the_position_mode_switch_uses_binances_codes() {
    let sim = support::start().await;
    let client = support::client(&sim, KEY, SECRET);
    let raw = client.raw();
    assert!(
        !raw.position_side_dual()
            .await
            .expect("mode")
            .dual_side_position
    );
    assert_eq!(code(raw.change_position_side_dual(false).await), -4059);

    // A position blocks the switch (-4068), an open order too (-4067).
    raw.new_order(&order(Side::Buy, None, dec!(0.010), "m-e0"))
        .await
        .expect("one-way order");
    assert_eq!(code(raw.change_position_side_dual(true).await), -4068);
    raw.new_order(&order(Side::Sell, None, dec!(0.010), "m-x0"))
        .await
        .expect("flat again");
    let price = raw.ticker_price("BTCUSDT").await.expect("price").price;
    let resting = NewOrderRequest::limit(
        "BTCUSDT",
        Side::Buy,
        dec!(0.010),
        (price * dec!(0.95)).round_dp(1),
        TimeInForce::Gtc,
    );
    let rest_order = raw.new_order(&resting).await.expect("resting");
    assert_eq!(code(raw.change_position_side_dual(true).await), -4067);
    raw.cancel_order("BTCUSDT", &OrderRef::OrderId(rest_order.order_id))
        .await
        .expect("cancel");
    // A resting algo order blocks it as well.
    let mut stop = NewAlgoOrderRequest::conditional("BTCUSDT", Side::Sell, OrderType::StopMarket);
    stop.trigger_price = Some((price * dec!(0.9)).round_dp(1));
    stop.quantity = Some(dec!(0.010));
    stop.reduce_only = Some(true);
    let algo = raw.new_algo_order(&stop).await.expect("algo");
    assert_eq!(code(raw.change_position_side_dual(true).await), -4067);
    raw.cancel_algo_order(&perpdesk_binance::wire::algo::AlgoOrderRef::AlgoId(
        algo.algo_id,
    ))
    .await
    .expect("cancel algo");

    let switched = raw.change_position_side_dual(true).await.expect("switch");
    assert_eq!((switched.code, switched.msg.as_str()), (200, "success"));
    assert!(
        raw.position_side_dual()
            .await
            .expect("mode")
            .dual_side_position
    );
    assert_eq!(code(raw.change_position_side_dual(true).await), -4059);
    // One-way orders are refused in hedge mode, hedge orders in one-way mode.
    assert_eq!(
        code(
            raw.new_order(&order(Side::Buy, None, dec!(0.010), "h-0"))
                .await
        ),
        -4061
    );
    assert_eq!(
        code(
            raw.new_order(&order(
                Side::Buy,
                Some(PositionSide::Both),
                dec!(0.010),
                "h-1"
            ))
            .await
        ),
        -4061
    );
    raw.change_position_side_dual(false).await.expect("back");
    assert_eq!(
        code(
            raw.new_order(&order(
                Side::Buy,
                Some(PositionSide::Long),
                dec!(0.010),
                "h-2"
            ))
            .await
        ),
        -4061
    );
}

#[tokio::test]
async fn a_long_and_a_short_on_one_symbol_are_opened_and_closed_side_by_side() {
    let sim = support::start().await;
    let client = support::client(&sim, KEY, SECRET);
    let raw = client.raw();
    raw.change_position_side_dual(true)
        .await
        .expect("hedge mode");
    let long = || Some(PositionSide::Long);
    let short = || Some(PositionSide::Short);

    // reduceOnly is not a hedge-mode parameter; closing needs a position to close.
    let mut reduce = order(Side::Sell, long(), dec!(0.010), "r-0");
    reduce.reduce_only = Some(true);
    assert_eq!(code(raw.new_order(&reduce).await), -1106);
    assert_eq!(
        code(
            raw.new_order(&order(Side::Sell, long(), dec!(0.010), "c-0"))
                .await
        ),
        -2022
    );
    assert_eq!(
        code(
            raw.new_order(&order(Side::Buy, short(), dec!(0.010), "c-1"))
                .await
        ),
        -2022
    );

    let open_long = raw
        .new_order(&order(Side::Buy, long(), dec!(0.010), "hl-e0"))
        .await
        .expect("open long");
    let open_short = raw
        .new_order(&order(Side::Sell, short(), dec!(0.020), "hs-e0"))
        .await
        .expect("open short");
    assert_eq!(open_long.status, OrderStatus::Filled);
    assert_eq!(open_long.position_side, PositionSide::Long);
    assert_eq!(open_short.position_side, PositionSide::Short);

    let rows = raw.position_risk(Some("BTCUSDT")).await.expect("positions");
    let amounts: Vec<(PositionSide, Decimal)> = rows
        .iter()
        .map(|r| (r.position_side.clone(), r.position_amt))
        .collect();
    assert_eq!(
        amounts,
        vec![
            (PositionSide::Long, dec!(0.010)),
            (PositionSide::Short, dec!(-0.020))
        ]
    );
    assert_eq!(code(raw.change_position_side_dual(false).await), -4068);

    support::advance(&sim, 3_600_000);
    // A close larger than its side's position is refused; the other side is untouched.
    assert_eq!(
        code(
            raw.new_order(&order(Side::Buy, short(), dec!(0.030), "c-2"))
                .await
        ),
        -2022
    );
    let close_long = raw
        .new_order(&order(Side::Sell, long(), dec!(0.010), "hl-x0"))
        .await
        .expect("close long");
    let rows = raw.position_risk(None).await.expect("positions");
    assert_eq!(
        rows.len(),
        2,
        "both sides listed while one is open: {rows:?}"
    );
    assert_eq!(rows[0].position_amt, dec!(0));
    assert_eq!(rows[1].position_amt, dec!(-0.020));
    let close_short = raw
        .new_order(&order(Side::Buy, short(), dec!(0.020), "hs-x0"))
        .await
        .expect("close short");
    assert!(raw.position_risk(None).await.expect("positions").is_empty());

    // Trades carry their position side and realize PnL against their own side's entry.
    let trades = raw.user_trades("BTCUSDT", None, 10).await.expect("trades");
    assert_eq!(trades.len(), 4);
    let by_order = |id: i64| trades.iter().find(|t| t.order_id == id).expect("trade");
    let (el, xl) = (by_order(open_long.order_id), by_order(close_long.order_id));
    let (es, xs) = (
        by_order(open_short.order_id),
        by_order(close_short.order_id),
    );
    assert_eq!(
        [&el, &xl, &es, &xs].map(|t| t.position_side.clone()),
        [
            PositionSide::Long,
            PositionSide::Long,
            PositionSide::Short,
            PositionSide::Short
        ]
    );
    assert_eq!(el.realized_pnl, dec!(0));
    assert_eq!(es.realized_pnl, dec!(0));
    assert_eq!(
        xl.realized_pnl,
        ((xl.price - el.price) * dec!(0.010)).round_dp(8)
    );
    assert_eq!(
        xs.realized_pnl,
        ((es.price - xs.price) * dec!(0.020)).round_dp(8)
    );
    for t in &trades {
        assert_eq!(t.commission, (t.qty * t.price * dec!(0.0005)).round_dp(8));
    }

    // Income: one REALIZED_PNL per closing trade (when non-zero), one COMMISSION per trade,
    // and the rows add up to the wallet.
    let income = raw.income(START - 1, 100).await.expect("income");
    let pnl: Vec<_> = income
        .iter()
        .filter(|r| r.income_type == IncomeType::RealizedPnl)
        .collect();
    let expected_pnl: Vec<_> = [&xl, &xs]
        .into_iter()
        .filter(|t| !t.realized_pnl.is_zero())
        .map(|t| (t.id.to_string(), t.realized_pnl))
        .collect();
    assert_eq!(
        pnl.iter()
            .map(|r| (r.trade_id.clone(), r.income))
            .collect::<Vec<_>>(),
        expected_pnl
    );
    let fees: Decimal = income
        .iter()
        .filter(|r| r.income_type == IncomeType::Commission)
        .map(|r| r.income)
        .sum();
    assert_eq!(fees, -trades.iter().map(|t| t.commission).sum::<Decimal>());
    let wallet = raw.account().await.expect("account").total_wallet_balance;
    assert_eq!(wallet, income.iter().map(|r| r.income).sum::<Decimal>());
    assert_eq!(
        wallet,
        dec!(10000) + xl.realized_pnl + xs.realized_pnl
            - trades.iter().map(|t| t.commission).sum::<Decimal>()
    );
}

#[tokio::test]
async fn close_position_stops_work_per_side_in_hedge_mode() {
    let sim = support::start().await;
    let client = support::client(&sim, KEY, SECRET);
    let raw = client.raw();
    raw.change_position_side_dual(true)
        .await
        .expect("hedge mode");
    raw.new_order(&order(
        Side::Buy,
        Some(PositionSide::Long),
        dec!(0.010),
        "a-l",
    ))
    .await
    .expect("long");
    raw.new_order(&order(
        Side::Sell,
        Some(PositionSide::Short),
        dec!(0.010),
        "a-s",
    ))
    .await
    .expect("short");

    // A trigger between the next day's low and the price now: both orders will fire.
    let (now_price, low) = {
        let ex = sim.shared.exchange.lock().expect("lock");
        let now = sim.shared.clock.now_ms();
        let price = ex.market.last_price("BTCUSDT", now).expect("price");
        let (low, _) = ex
            .market
            .price_range("BTCUSDT", now, now + 86_400_000)
            .expect("range");
        (price, low)
    };
    assert!(
        now_price - low > dec!(1),
        "the day goes below the price now"
    );
    let trigger = ((now_price + low) / dec!(2)).round_dp(1);
    let stop = |side: Side, ps: PositionSide, t: OrderType, id: &str| {
        let mut o = NewAlgoOrderRequest::conditional("BTCUSDT", side, t);
        o.position_side = Some(ps);
        o.trigger_price = Some(trigger);
        o.close_position = Some(true);
        o.working_type = Some(WorkingType::ContractPrice);
        o.client_algo_id = Some(id.into());
        o
    };
    // closePosition must close the side it names; positionSide is required; no reduceOnly.
    assert_eq!(
        code(
            raw.new_algo_order(&stop(
                Side::Buy,
                PositionSide::Long,
                OrderType::StopMarket,
                "x0"
            ))
            .await
        ),
        -1128
    );
    let mut bare = stop(Side::Sell, PositionSide::Long, OrderType::StopMarket, "x1");
    bare.position_side = None;
    assert_eq!(code(raw.new_algo_order(&bare).await), -4061);
    let mut reduce = stop(Side::Sell, PositionSide::Long, OrderType::StopMarket, "x2");
    reduce.close_position = None;
    reduce.quantity = Some(dec!(0.010));
    reduce.reduce_only = Some(true);
    assert_eq!(code(raw.new_algo_order(&reduce).await), -1106);

    let sl = raw
        .new_algo_order(&stop(
            Side::Sell,
            PositionSide::Long,
            OrderType::StopMarket,
            "sl-long",
        ))
        .await
        .expect("stop the long");
    let tp = raw
        .new_algo_order(&stop(
            Side::Buy,
            PositionSide::Short,
            OrderType::TakeProfitMarket,
            "tp-short",
        ))
        .await
        .expect("take profit on the short");
    assert_eq!(sl.position_side, PositionSide::Long);
    assert_eq!(tp.position_side, PositionSide::Short);

    support::advance(&sim, 86_400_000);
    assert!(raw.position_risk(None).await.expect("positions").is_empty());
    let trades = raw.user_trades("BTCUSDT", None, 10).await.expect("trades");
    assert_eq!(trades.len(), 4);
    let closes: Vec<_> = trades.iter().filter(|t| t.price == trigger).collect();
    assert_eq!(closes.len(), 2, "{trades:?}");
    assert!(
        closes
            .iter()
            .any(|t| t.position_side == PositionSide::Long && t.side == Side::Sell)
    );
    assert!(
        closes
            .iter()
            .any(|t| t.position_side == PositionSide::Short && t.side == Side::Buy)
    );
}

#[tokio::test]
async fn hedge_mode_user_events_name_the_position_side() {
    let sim = support::start().await;
    let (rest, urls) = support::rest(&sim, KEY, SECRET);
    let (tx, mut rx) = mpsc::channel::<StreamEvent<UserDataEvent>>(64);
    let task = tokio::spawn(UserStream::new(rest, &urls.streams, StreamConfig::default()).run(tx));
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("an event within 5 s")
            .expect("stream running")
    };
    assert_eq!(next().await, StreamEvent::Connected { first: true });

    let client = support::client(&sim, KEY, SECRET);
    client
        .raw()
        .change_position_side_dual(true)
        .await
        .expect("hedge");
    client
        .raw()
        .new_order(&order(
            Side::Sell,
            Some(PositionSide::Short),
            dec!(0.010),
            "ev-s",
        ))
        .await
        .expect("short");
    let (mut saw_order, mut saw_account) = (false, false);
    while !(saw_order && saw_account) {
        match next().await {
            StreamEvent::Message(UserDataEvent::OrderTradeUpdate(e)) => {
                assert_eq!(e.order.position_side, PositionSide::Short);
                saw_order = true;
            }
            StreamEvent::Message(UserDataEvent::AccountUpdate(e)) => {
                let p = &e.update.positions[0];
                assert_eq!(p.position_side, PositionSide::Short);
                assert_eq!(p.position_amt, dec!(-0.010));
                saw_account = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    drop(rx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops")
        .expect("task");
}
