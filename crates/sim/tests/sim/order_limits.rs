//! The per-account new-order limits (`ORDERS` in exchangeInfo): counted per account on the
//! wall clock, reported in `X-MBX-ORDER-COUNT-10S`/`-1M` on successful orders, refused with
//! 429 -1015 past the limit without executing anything, and read by perpdesk's client as a
//! plain rejection of that order (queries go on, no IP-wide pause).
//!
//! The windows are wall-clock windows, so a burst may straddle a boundary; every assertion
//! below reads the counts the server reported rather than assuming where the burst fell.

use perpdesk_binance::Method;
use perpdesk_sim::server::Running;
use serde_json::Value;

use crate::support::{KEY, SECRET, WITHDRAW_KEY, last, send, signed, start};

/// A resting limit buy far below the market (it never fills), with a unique client id.
fn resting_buy(sim: &Running, n: usize) -> Vec<(&'static str, String)> {
    let price = (last(sim, "BTCUSDT") / rust_decimal::Decimal::from(2)).round_dp(1);
    vec![
        ("symbol", "BTCUSDT".into()),
        ("side", "BUY".into()),
        ("type", "LIMIT".into()),
        ("timeInForce", "GTC".into()),
        ("quantity", "0.002".into()),
        ("price", price.to_string()),
        ("newClientOrderId", format!("limit-test-{n}")),
    ]
}

async fn open_orders(sim: &Running, key: &str) -> usize {
    let reply = send(sim, reqwest::Method::GET, "/fapi/v1/openOrders", key, &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body.as_array().expect("array").len()
}

#[tokio::test]
async fn orders_past_the_ten_second_limit_are_refused_with_1015_and_not_placed() {
    let sim = start().await;
    sim.shared.set_order_limits(3, 1_000);
    let mut placed = 0;
    let mut refusal = None;
    for n in 0..8 {
        let reply = send(
            &sim,
            reqwest::Method::POST,
            "/fapi/v1/order",
            KEY,
            &resting_buy(&sim, n),
        )
        .await;
        if reply.status == 200 {
            placed += 1;
            let count = reply
                .count_10s
                .expect("a successful order carries its 10 s count");
            assert!(
                (1..=3).contains(&count),
                "10 s count {count} over the limit of 3"
            );
            assert_eq!(
                reply.count_1m,
                Some(placed),
                "the minute counts every order"
            );
        } else {
            refusal = Some(reply);
            break;
        }
    }
    // At most one window boundary falls inside a burst of a few milliseconds, so the fourth
    // to seventh order must meet the limit.
    let refusal = refusal.expect("the limit refused an order within 7");
    assert_eq!(refusal.status, 429);
    assert_eq!(refusal.body["code"], -1015);
    assert_eq!(
        refusal.body["msg"],
        "Too many new orders; current limit is 3 orders per 10 SECOND."
    );
    let retry = refusal.retry_after.expect("Retry-After");
    assert!((1..=10).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        refusal.count_10s, None,
        "a refused order carries no order count"
    );
    // The refused order does not exist; the other account's quota is its own.
    assert_eq!(open_orders(&sim, KEY).await, placed as usize);
    let other = send(
        &sim,
        reqwest::Method::POST,
        "/fapi/v1/order",
        WITHDRAW_KEY,
        &resting_buy(&sim, 99),
    )
    .await;
    assert_eq!(other.status, 200, "{}", other.body);
    assert_eq!(other.count_10s, Some(1));
}

#[tokio::test]
async fn the_minute_limit_counts_too_and_a_batch_counts_five_then_one() {
    let sim = start().await;
    sim.shared.set_order_limits(5, 2);
    let batch: Vec<Value> = (0..2)
        .map(|n| {
            let mut item = serde_json::Map::new();
            for (k, v) in resting_buy(&sim, 100 + n) {
                item.insert(k.to_owned(), Value::String(v));
            }
            Value::Object(item)
        })
        .collect();
    let reply = send(
        &sim,
        reqwest::Method::POST,
        "/fapi/v1/batchOrders",
        KEY,
        &[("batchOrders", Value::Array(batch).to_string())],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!((reply.count_10s, reply.count_1m), (Some(5), Some(1)));
    // The 10-second quota is used up unless its window just ended; the minute's is not.
    let next = send(
        &sim,
        reqwest::Method::POST,
        "/fapi/v1/order",
        KEY,
        &resting_buy(&sim, 1),
    )
    .await;
    if next.status == 200 {
        assert_eq!(
            next.count_10s,
            Some(1),
            "accepted only in a new 10 s window"
        );
        assert_eq!(next.count_1m, Some(2));
        let third = send(
            &sim,
            reqwest::Method::POST,
            "/fapi/v1/order",
            KEY,
            &resting_buy(&sim, 2),
        )
        .await;
        if third.count_1m.is_none() {
            assert_eq!(third.status, 429);
            assert_eq!(
                third.body["msg"],
                "Too many new orders; current limit is 2 orders per 1 MINUTE."
            );
        }
    } else {
        assert_eq!(next.status, 429);
        assert_eq!(next.body["code"], -1015);
    }
    // Cancels do not count: cancelling everything works at any count.
    let cancel = send(
        &sim,
        reqwest::Method::DELETE,
        "/fapi/v1/allOpenOrders",
        KEY,
        &[("symbol", "BTCUSDT".into())],
    )
    .await;
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    assert_eq!(open_orders(&sim, KEY).await, 0);
}

#[tokio::test]
async fn perpdesks_client_reads_1015_as_a_rejection_of_that_order_only() {
    let sim = start().await;
    sim.shared.set_order_limits(1, 1_000);
    let (rest, _) = crate::support::rest(&sim, KEY, SECRET);
    let place = perpdesk_binance::rest::Endpoint {
        places_order: true,
        weight: 0,
        ..signed(Method::Post, "/fapi/v1/order")
    };
    let mut codes = Vec::new();
    for n in 0..3 {
        let params = resting_buy(&sim, 200 + n);
        match rest.call::<Value>(&place, &params).await {
            Ok(_) => {}
            Err(perpdesk_binance::ExchangeError::Rejected { code, status, .. }) => {
                assert_eq!(status, 429);
                codes.push(code);
            }
            Err(other) => panic!("expected -1015 as a rejection, got {other:?}"),
        }
    }
    assert!(
        codes.contains(&-1015),
        "three orders at a limit of one: {codes:?}"
    );
    // No pause: the next query goes out at once and succeeds.
    let started = std::time::Instant::now();
    let positions = perpdesk_binance::Client::new(rest)
        .positions()
        .await
        .expect("positions");
    assert!(positions.is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}
