//! Refusals carry Binance's code and change nothing.

use perpdesk_binance::{HmacSigner, RejectKind, endpoints};
use perpdesk_core::{
    ClientOrderId, OrderKind, OrderRequest, PositionSide, Side, Symbol, WorkingType,
};
use rust_decimal_macros::dec;
use serde_json::Value;

use crate::support::{self, KEY, SECRET, WITHDRAW_KEY};

fn order(kind: OrderKind, qty: rust_decimal::Decimal) -> OrderRequest {
    OrderRequest {
        symbol: Symbol::new("BTCUSDT").expect("symbol"),
        side: Side::Buy,
        position_side: PositionSide::Both,
        kind,
        quantity: Some(qty),
        reduce_only: false,
        close_position: false,
        client_order_id: ClientOrderId::new("pd-9-e0").expect("id"),
    }
}

#[tokio::test]
async fn refusals_use_binances_codes_and_leave_no_trace() {
    let sim = support::start().await;
    let client = support::client(&sim, KEY, SECRET);
    let too_big = client
        .raw()
        .place_order(&order(OrderKind::Market, dec!(50)))
        .await
        .expect_err("margin");
    assert_eq!(too_big.reject_kind(), Some(RejectKind::InsufficientMargin));
    let too_fine = client
        .raw()
        .place_order(&order(OrderKind::Market, dec!(0.0101)))
        .await
        .expect_err("precision");
    assert_eq!(too_fine.reject_kind(), Some(RejectKind::Precision));
    // ETHUSDT's minimum notional is 5 USDT; 0.001 ETH is worth about 3.
    let eth = OrderRequest {
        symbol: Symbol::new("ETHUSDT").expect("symbol"),
        ..order(OrderKind::Market, dec!(0.001))
    };
    let too_small = client.raw().place_order(&eth).await.expect_err("notional");
    assert_eq!(too_small.reject_kind(), Some(RejectKind::MinNotional));
    let wrong_side = OrderRequest {
        position_side: PositionSide::Long,
        ..order(OrderKind::Market, dec!(0.01))
    };
    assert_eq!(
        client
            .raw()
            .place_order(&wrong_side)
            .await
            .expect_err("one-way")
            .reject_kind(),
        Some(RejectKind::PositionSideMismatch)
    );

    // A stop sent to the regular endpoint is refused with -4120, as Binance does since 2025-12-09.
    let stop = client
        .raw()
        .rest()
        .call::<Value>(
            &endpoints::ORDER_NEW,
            &[
                ("symbol", "BTCUSDT".into()),
                ("side", "SELL".into()),
                ("type", "STOP_MARKET".into()),
                ("quantity", "0.01".into()),
                ("stopPrice", "30000".into()),
            ],
        )
        .await
        .expect_err("algo only");
    assert_eq!(stop.reject_kind(), Some(RejectKind::AlgoOnlyType));

    let missing = client
        .raw()
        .rest()
        .call::<Value>(&endpoints::ORDER_NEW, &[("symbol", "BTCUSDT".into())])
        .await
        .expect_err("missing");
    assert!(
        matches!(
            missing,
            perpdesk_binance::ExchangeError::Rejected { code: -1102, .. }
        ),
        "{missing:?}"
    );

    assert!(client.positions().await.expect("positions").is_empty());
    let open: Value = client
        .raw()
        .rest()
        .call(&endpoints::OPEN_ORDERS, &[])
        .await
        .expect("open orders");
    assert_eq!(open, Value::Array(vec![]));
    let trades: Value = client
        .raw()
        .rest()
        .call(&endpoints::USER_TRADES, &[("symbol", "BTCUSDT".into())])
        .await
        .expect("trades");
    assert_eq!(trades, Value::Array(vec![]));
}

#[tokio::test]
async fn bad_keys_signatures_and_stale_timestamps_are_refused() {
    let sim = support::start().await;
    let wrong_secret = support::client(&sim, KEY, "not-the-secret");
    let err = wrong_secret.positions().await.expect_err("bad signature");
    assert_eq!(err.reject_kind(), Some(RejectKind::InvalidSignature));
    let unknown = support::client(&sim, "nobody", SECRET);
    assert_eq!(
        unknown
            .positions()
            .await
            .expect_err("unknown key")
            .reject_kind(),
        Some(RejectKind::Unauthorized)
    );

    // A request signed with a timestamp 10 s old (a client that never synced its clock) is
    // refused with -1021. perpdesk's own transport always syncs first, so sign it by hand.
    let stale = sim.shared.clock.now_ms() - 10_000;
    let query =
        perpdesk_binance::signing::signed_query(&[], 5_000, stale, &HmacSigner::new(KEY, SECRET));
    let reply = reqwest::Client::new()
        .get(format!("{}/fapi/v3/positionRisk?{query}", sim.url()))
        .header("X-MBX-APIKEY", KEY)
        .send()
        .await
        .expect("sent");
    assert_eq!(reply.status(), 400);
    let body: Value = serde_json::from_str(&reply.text().await.expect("body")).expect("json");
    assert_eq!(body["code"], -1021);
}

#[tokio::test]
async fn a_key_that_can_withdraw_is_reported_as_such() {
    let sim = support::start().await;
    let perms = support::client(&sim, WITHDRAW_KEY, SECRET)
        .key_permissions()
        .await
        .expect("permissions");
    assert!(perms.withdrawals);
    let safe = support::client(&sim, KEY, SECRET)
        .key_permissions()
        .await
        .expect("permissions");
    assert!(!safe.withdrawals && safe.futures && safe.reading);
}

#[tokio::test]
async fn a_stop_that_would_trigger_at_once_is_refused() {
    let sim = support::start().await;
    let client = support::client(&sim, KEY, SECRET);
    let price = sim
        .shared
        .exchange
        .lock()
        .expect("lock")
        .market
        .last_price("BTCUSDT", support::START)
        .expect("price");
    let above = OrderRequest {
        side: Side::Sell,
        kind: OrderKind::StopMarket {
            stop_price: (price * dec!(1.01)).round_dp(1),
            working_type: WorkingType::ContractPrice,
        },
        ..order(OrderKind::Market, dec!(0.01))
    };
    let err = client
        .raw()
        .place_order(&above)
        .await
        .expect_err("immediate trigger");
    assert_eq!(err.reject_kind(), Some(RejectKind::WouldImmediatelyTrigger));
}
