//! Rules every request meets before an endpoint reads it: each parameter once, nothing
//! after `signature`, a timestamp inside recvWindow in wall time. A request that breaks one
//! is refused and changes nothing.

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

/// Sends a signed `GET /fapi/v3/positionRisk` stamped `timestamp` (replay ms) and returns
/// the HTTP status and body.
async fn positions_stamped(sim: &Running, timestamp: i64) -> (u16, Value) {
    let query = signed_query(&[], 5_000, timestamp, &HmacSigner::new(KEY, SECRET));
    let reply = reqwest::Client::new()
        .get(format!("{}/fapi/v3/positionRisk?{query}", sim.url()))
        .header("X-MBX-APIKEY", KEY)
        .send()
        .await
        .expect("sent");
    let status = reply.status().as_u16();
    let body: Value = serde_json::from_str(&reply.text().await.expect("body")).expect("json");
    (status, body)
}

/// The replay clock of paper mode runs 60 times real time, so a client's few hundred
/// milliseconds between stamping and the server reading its clock are tens of seconds of
/// replay time. Binance judges `recvWindow` (and the 1 s "ahead" margin) in wall time, and
/// so does the sim: a request 300 ms late or 500 ms early in wall time is accepted, one 30 s
/// outside in wall time is still refused with -1021 (issue 18: "timestamp rejected" warnings
/// on a returning start).
#[tokio::test]
async fn the_recv_window_is_judged_in_wall_time_under_a_fast_replay_clock() {
    let speed = 60.0;
    let sim = perpdesk_sim::testing::TestSim::new()
        .account(KEY, SECRET, rust_decimal::Decimal::new(10_000, 0))
        .accelerated(speed)
        .start()
        .await;
    let replay = |wall_ms: i64| (wall_ms as f64 * speed) as i64;

    let late = sim.shared.clock.now_ms() - replay(300);
    let (status, body) = positions_stamped(&sim, late).await;
    assert_eq!(status, 200, "300 ms late in wall time: {body}");
    let early = sim.shared.clock.now_ms() + replay(500);
    let (status, body) = positions_stamped(&sim, early).await;
    assert_eq!(status, 200, "500 ms early in wall time: {body}");

    let stale = sim.shared.clock.now_ms() - replay(30_000);
    let (status, body) = positions_stamped(&sim, stale).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], -1021);
    assert_eq!(
        body["msg"],
        "Timestamp for this request is outside of the recvWindow."
    );
    let ahead = sim.shared.clock.now_ms() + replay(30_000);
    let (status, body) = positions_stamped(&sim, ahead).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], -1021);
    assert_eq!(
        body["msg"],
        "Timestamp for this request was 1000ms ahead of the server's time."
    );
}
