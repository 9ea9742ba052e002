//! Every endpoint-named method of perpdesk-binance's raw client against the sim: each call
//! succeeds and its reply parses into the client's wire type.

use perpdesk_binance::wire::trade::{BatchOrderResult, NewOrderRequest, OrderRef};
use perpdesk_binance::wire::{NewOrderRespType, Side, TimeInForce};
use rust_decimal_macros::dec;

use crate::support::{self, KEY, SECRET};

#[tokio::test]
async fn the_raw_client_covers_the_served_endpoints() {
    let sim = support::start().await;
    let client = support::client(&sim, KEY, SECRET);
    let raw = client.raw();
    raw.ping().await.expect("ping");
    assert_eq!(
        raw.time().await.expect("time").server_time,
        sim.shared.clock.now_ms()
    );
    assert_eq!(
        raw.exchange_info()
            .await
            .expect("exchangeInfo")
            .symbols
            .len(),
        2
    );
    assert_eq!(
        raw.klines("BTCUSDT", "1h", None, None, 24)
            .await
            .expect("klines")
            .len(),
        24
    );
    let price = raw.ticker_price("BTCUSDT").await.expect("ticker").price;
    assert!(
        raw.premium_index("BTCUSDT")
            .await
            .expect("premiumIndex")
            .mark_price
            > dec!(0)
    );
    assert!(
        !raw.funding_rate("BTCUSDT", None, 10)
            .await
            .expect("funding")
            .is_empty()
    );
    let book = raw.depth("BTCUSDT", 5).await.expect("depth");
    assert_eq!((book.bids.len(), book.asks.len()), (5, 5));
    assert_eq!(
        raw.account().await.expect("account").total_wallet_balance,
        dec!(10000)
    );
    assert_eq!(
        raw.balance().await.expect("balance")[0].balance,
        dec!(10000)
    );
    assert!(
        !raw.position_side_dual()
            .await
            .expect("dual")
            .dual_side_position
    );
    assert!(
        !raw.multi_assets_margin()
            .await
            .expect("multi")
            .multi_assets_margin
    );
    assert_eq!(
        raw.leverage_bracket(Some("BTCUSDT"))
            .await
            .expect("brackets")
            .len(),
        1
    );

    let mut market = NewOrderRequest::market("BTCUSDT", Side::Buy, dec!(0.010));
    market.new_order_resp_type = Some(NewOrderRespType::Result);
    let resting = NewOrderRequest::limit(
        "BTCUSDT",
        Side::Buy,
        dec!(0.010),
        (price * dec!(0.97)).round_dp(1),
        TimeInForce::Gtc,
    );
    let placed = raw.batch_orders(&[market, resting]).await.expect("batch");
    assert!(
        placed
            .iter()
            .all(|r| matches!(r, BatchOrderResult::Order(_))),
        "{placed:?}"
    );
    assert_eq!(
        raw.open_orders(Some("BTCUSDT")).await.expect("open").len(),
        1
    );
    assert_eq!(raw.all_orders("BTCUSDT", 10).await.expect("all").len(), 2);
    raw.cancel_all_open_orders("BTCUSDT")
        .await
        .expect("cancel all");
    assert!(raw.open_orders(None).await.expect("open").is_empty());
    assert_eq!(
        raw.user_trades("BTCUSDT", None, 10)
            .await
            .expect("trades")
            .len(),
        1
    );
    assert_eq!(raw.position_risk(None).await.expect("positions").len(), 1);
    assert!(
        raw.income(support::START - 1, 100)
            .await
            .expect("income")
            .len()
            >= 2
    );
    assert!(
        raw.open_algo_orders(None)
            .await
            .expect("algo open")
            .is_empty()
    );
    assert!(
        raw.all_algo_orders("BTCUSDT", 10)
            .await
            .expect("algo all")
            .is_empty()
    );
    raw.cancel_all_algo_open_orders("BTCUSDT")
        .await
        .expect("algo cancel all");
    let err = raw
        .query_order("BTCUSDT", &OrderRef::ClientOrderId("nope".into()))
        .await
        .expect_err("no such order");
    assert_eq!(
        err.reject_kind(),
        Some(perpdesk_binance::RejectKind::NoSuchOrder)
    );
}
