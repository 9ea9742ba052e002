//! Requests built by the raw client against ccxt's static request fixtures for the USDⓈ-M
//! endpoints we implement: same path, method and parameters (names and values). The
//! per-request noise is left out of the comparison: `timestamp`, `recvWindow` and
//! `signature` (ccxt's keys are unknown) and ccxt's own `newClientOrderId` broker prefix.

use std::collections::BTreeMap;
use std::sync::Arc;

use perpdesk_binance::Raw;
use perpdesk_binance::wire::algo::{AlgoOrderRef, NewAlgoOrderRequest};
use perpdesk_binance::wire::trade::{NewOrderRequest, OrderRef};
use perpdesk_binance::wire::{AlgoType, NewOrderRespType, OrderType, Side, TimeInForce};
use rust_decimal_macros::dec;
use serde_json::Value;

use crate::stub::{self, Stub};

const NOISE: [&str; 4] = ["timestamp", "recvWindow", "signature", "newClientOrderId"];

/// (HTTP method, path, parameters) of a ccxt fixture entry. The fixture names ccxt's method,
/// not the HTTP one, so the test states the HTTP method the docs give for the endpoint.
fn ccxt(method: &str, description: &str, http: &str) -> (String, String, BTreeMap<String, String>) {
    let doc = crate::support::fixture("ccxt/request/binance.json");
    let entry = doc["methods"][method]
        .as_array()
        .expect("method in fixture")
        .iter()
        .find(|e| e["description"] == description)
        .unwrap_or_else(|| panic!("no ccxt entry {method} / {description}"))
        .clone();
    let url = entry["url"].as_str().expect("url");
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let path = base.split_once(".com").map_or(base, |(_, p)| p).to_owned();
    // POST bodies are in `output`; GET/DELETE parameters are in the URL.
    let raw = match &entry["output"] {
        Value::String(body) => body.clone(),
        _ => query.to_owned(),
    };
    (http.to_owned(), path, params(&raw))
}

fn params(raw: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .filter(|(k, _)| !NOISE.contains(&k.as_str()))
        .collect()
}

async fn raw(stub: &Stub) -> Raw {
    Raw::new(Arc::new(stub.signed_rest()))
}

/// (method, path, parameters) of the one request the stub recorded.
fn sent(stub: &Stub) -> (String, String, BTreeMap<String, String>) {
    let requests = stub.state.requests.lock().expect("lock").clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let (method, uri) = requests[0].split_once(' ').expect("method and uri");
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    (method.to_owned(), path.to_owned(), params(query))
}

fn assert_same(
    ours: (String, String, BTreeMap<String, String>),
    theirs: (String, String, BTreeMap<String, String>),
) {
    assert_eq!(ours.1, theirs.1, "path");
    assert_eq!(ours.0, theirs.0, "method");
    assert_eq!(ours.2, theirs.2, "parameters");
}

#[tokio::test]
async fn market_order_matches_ccxt() {
    let stub = stub::start().await;
    let mut order = NewOrderRequest::market("LTCUSDT", Side::Buy, dec!(0.1));
    order.new_order_resp_type = Some(NewOrderRespType::Result);
    let _ = raw(&stub).await.new_order(&order).await;
    assert_same(
        sent(&stub),
        ccxt("createOrder", "Swap market buy order", "POST"),
    );
}

#[tokio::test]
async fn limit_order_matches_ccxt() {
    let stub = stub::start().await;
    let mut order = NewOrderRequest::limit(
        "LTCUSDT",
        Side::Sell,
        dec!(0.2),
        dec!(100),
        TimeInForce::Gtc,
    );
    order.new_order_resp_type = Some(NewOrderRespType::Result);
    let _ = raw(&stub).await.new_order(&order).await;
    assert_same(sent(&stub), ccxt("createOrder", "Swap limit sell", "POST"));
}

#[tokio::test]
async fn conditional_order_goes_to_algo_order_like_ccxt() {
    let stub = stub::start().await;
    let order = NewAlgoOrderRequest {
        algo_type: AlgoType::Conditional,
        symbol: "LTCUSDT".into(),
        side: Side::Buy,
        position_side: None,
        order_type: OrderType::Stop,
        time_in_force: None,
        quantity: Some(dec!(0.21)),
        price: Some(dec!(51)),
        trigger_price: Some(dec!(101)),
        working_type: None,
        price_match: None,
        close_position: None,
        price_protect: None,
        reduce_only: None,
        activate_price: None,
        callback_rate: None,
        client_algo_id: None,
        new_order_resp_type: Some(NewOrderRespType::Result),
        self_trade_prevention_mode: None,
        good_till_date: None,
    };
    let _ = raw(&stub).await.new_algo_order(&order).await;
    assert_same(
        sent(&stub),
        ccxt("createOrder", "Swap limit buy with triggerPrice", "POST"),
    );
}

#[tokio::test]
async fn leverage_and_margin_type_match_ccxt() {
    let stub = stub::start().await;
    let _ = raw(&stub).await.change_initial_leverage("LTCUSDT", 5).await;
    assert_same(
        sent(&stub),
        ccxt("setLeverage", "Swap linear setLeverage", "POST"),
    );
    let stub = stub::start().await;
    let _ = raw(&stub)
        .await
        .change_margin_type("BTCUSDT", "CROSSED")
        .await;
    assert_same(
        sent(&stub),
        ccxt("setMarginMode", "Set margin mode to cross", "POST"),
    );
}

#[tokio::test]
async fn order_lookups_and_cancels_match_ccxt() {
    let stub = stub::start().await;
    let _ = raw(&stub)
        .await
        .cancel_order("BTCUSDT", &OrderRef::ClientOrderId("myswap".into()))
        .await;
    assert_same(
        sent(&stub),
        ccxt(
            "cancelOrder",
            "cancel swap order with clientOrderId",
            "DELETE",
        ),
    );

    let stub = stub::start().await;
    let _ = raw(&stub)
        .await
        .query_order("LTCUSDT", &OrderRef::OrderId(652_124_757))
        .await;
    assert_same(sent(&stub), ccxt("fetchOrder", "Swap fetchOrder", "GET"));

    // The algo endpoints take only algoId or clientAlgoId (CONTRACT.md 4.4); ccxt also sends
    // `symbol`, which the docs do not list, so it is left out of the comparison.
    let stub = stub::start().await;
    let _ = raw(&stub)
        .await
        .cancel_algo_order(&AlgoOrderRef::AlgoId(3386))
        .await;
    let mut theirs = ccxt(
        "cancelOrder",
        "linear swap conditional cancelOrder",
        "DELETE",
    );
    theirs.2.remove("symbol");
    assert_same(sent(&stub), theirs);
}

#[tokio::test]
async fn klines_positions_and_income_match_ccxt() {
    let stub = stub::start().await;
    let _ = raw(&stub)
        .await
        .klines("BTCUSDT", "1m", Some(1_699_381_234_000), None, 5)
        .await;
    assert_same(
        sent(&stub),
        ccxt("fetchOHLCV", "Fetch OHLCV - linear", "GET"),
    );

    let stub = stub::start().await;
    let _ = raw(&stub).await.position_risk(None).await;
    assert_same(
        sent(&stub),
        ccxt("fetchPositions", "fetch default positions", "GET"),
    );
}
