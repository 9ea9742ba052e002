//! Rules every request meets before an endpoint reads it: each parameter once, and nothing
//! after `signature`. A request that breaks one is refused and changes nothing.

use perpdesk_binance::HmacSigner;
use perpdesk_binance::signing::signed_query;
use perpdesk_sim::server::Running;
use serde_json::Value;

use crate::support::{self, KEY, SECRET};

/// Asserts `KEY`'s account holds no order, trade or position.
fn untouched(sim: &Running) {
    let ex = sim.shared.exchange.lock().expect("lock");
    let account = &ex.accounts[ex.account_index(KEY).expect("KEY's account")];
    assert!(account.orders.is_empty(), "{:?}", account.orders);
    assert!(account.trades.is_empty(), "{:?}", account.trades);
    assert!(
        account.positions.values().all(|p| p.amount.is_zero()),
        "{:?}",
        account.positions
    );
}

fn market_buy() -> Vec<(&'static str, String)> {
    vec![
        ("symbol", "BTCUSDT".into()),
        ("side", "BUY".into()),
        ("type", "MARKET".into()),
        ("quantity", "0.010".into()),
    ]
}

/// Binance refuses a parameter sent twice with -1101 "Duplicate values for a parameter
/// detected." (CONTRACT.md, error table, TOO_MANY_PARAMETERS); which value was meant is
/// unknown, so nothing executes.
#[tokio::test]
async fn a_parameter_sent_twice_is_refused_with_1101_and_nothing_executes() {
    let sim = support::start().await;
    let mut twice = market_buy();
    twice.push(("quantity", "0.020".into()));
    let reply = support::send(&sim, reqwest::Method::POST, "/fapi/v1/order", KEY, &twice).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["code"], -1101);
    assert_eq!(
        reply.body["msg"],
        "Duplicate values for a parameter detected."
    );
    untouched(&sim);

    // The same order with each parameter once is placed.
    let once = support::send(
        &sim,
        reqwest::Method::POST,
        "/fapi/v1/order",
        KEY,
        &market_buy(),
    )
    .await;
    assert_eq!(once.status, 200, "{}", once.body);
    assert!(once.body["orderId"].as_i64().is_some(), "{}", once.body);
}

/// `signature` must be the last parameter of the query or the body (CONTRACT.md 2.2): Binance
/// signs everything sent but the signature, so a parameter after it is unsigned and the
/// request fails the signature check with -1022 "Signature for this request is not valid."
/// (CONTRACT.md, error table, INVALID_SIGNATURE). Before, an appended `&reduceOnly=true` took
/// effect unsigned (issue 16 item 12).
#[tokio::test]
async fn a_parameter_after_the_signature_is_refused_with_1022_and_nothing_executes() {
    let sim = support::start().await;
    let signed = signed_query(
        &market_buy(),
        5_000,
        sim.shared.clock.now_ms(),
        &HmacSigner::new(KEY, SECRET),
    );
    let post = |query: String| {
        let url = format!("{}/fapi/v1/order?{query}", sim.url());
        async move {
            let reply = reqwest::Client::new()
                .post(url)
                .header("X-MBX-APIKEY", KEY)
                .send()
                .await
                .expect("sent");
            let status = reply.status().as_u16();
            let body: Value =
                serde_json::from_str(&reply.text().await.expect("body")).expect("json");
            (status, body)
        }
    };

    let (status, body) = post(format!("{signed}&reduceOnly=true")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], -1022);
    assert_eq!(body["msg"], "Signature for this request is not valid.");
    untouched(&sim);

    // In a form body too: the signature closes the body.
    let reply = reqwest::Client::new()
        .post(format!("{}/fapi/v1/order", sim.url()))
        .header("X-MBX-APIKEY", KEY)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("{signed}&reduceOnly=true"))
        .send()
        .await
        .expect("sent");
    let body: Value = serde_json::from_str(&reply.text().await.expect("body")).expect("json");
    assert_eq!(body["code"], -1022, "{body}");
    untouched(&sim);

    // The request as signed is placed.
    let (status, body) = post(signed).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["orderId"].as_i64().is_some(), "{body}");
}
