//! The domain client: core orders to the right endpoint with the right parameters, placed
//! exactly once.

use std::sync::Arc;
use std::time::Duration;

use perpdesk_binance::idempotent::LookupPolicy;
use perpdesk_binance::{Client, Placed};
use perpdesk_core::{
    ClientOrderId, MarginType, OrderKind, OrderRequest, PositionSide, Side, Symbol, WorkingType,
};
use rust_decimal_macros::dec;
use serde_json::{Value, json};

use crate::stub::{self, Scripted, Stub};

fn client(stub: &Stub) -> Client {
    Client::new(Arc::new(stub.signed_rest())).with_lookup_policy(LookupPolicy {
        attempts: 2,
        first_pause: Duration::from_millis(10),
        resends: 1,
    })
}

fn docs_payload(name: &str) -> Value {
    let doc = crate::support::fixture("binance-docs.usds-futures.examples.json");
    doc["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no example {name}"))["payload"]
        .clone()
}

fn order(kind: OrderKind, id: &str) -> OrderRequest {
    OrderRequest {
        symbol: Symbol::new("BTCUSDT").expect("symbol"),
        side: Side::Buy,
        position_side: PositionSide::Both,
        kind,
        quantity: Some(dec!(0.010)),
        reduce_only: false,
        close_position: false,
        client_order_id: ClientOrderId::new(id).expect("id"),
    }
}

fn params(request: &str) -> Vec<(String, String)> {
    let query = request.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn names(request: &str) -> Vec<String> {
    params(request).into_iter().map(|(k, _)| k).collect()
}

#[tokio::test]
async fn a_market_order_lost_in_a_503_is_found_by_its_client_id_not_sent_twice() {
    let stub = stub::start().await;
    stub.state.push(Scripted::json(503, json!({"code": -1000, "msg": "Unknown error, please check your request or try again later."})));
    let mut placed = docs_payload("POST /fapi/v1/order (New Order)");
    placed["clientOrderId"] = json!("pd-42-e0");
    stub.state.push(Scripted::json(200, placed));

    let result = client(&stub)
        .raw()
        .place_order(&order(OrderKind::Market, "pd-42-e0"))
        .await
        .expect("found");
    let Placed::Order(o) = result else {
        panic!("a market order is a regular order")
    };
    assert_eq!(o.client_order_id, "pd-42-e0");

    let requests = stub.state.requests.lock().expect("lock").clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(requests[0].starts_with("POST /fapi/v1/order?"));
    assert_eq!(
        names(&requests[0]),
        [
            "symbol",
            "side",
            "positionSide",
            "type",
            "quantity",
            "newClientOrderId",
            "newOrderRespType",
            "recvWindow",
            "timestamp",
            "signature"
        ]
    );
    let sent: std::collections::HashMap<_, _> = params(&requests[0]).into_iter().collect();
    assert_eq!(sent["type"], "MARKET");
    assert_eq!(sent["quantity"], "0.01");
    assert_eq!(sent["newOrderRespType"], "RESULT");
    assert!(
        requests[1].starts_with("GET /fapi/v1/order?symbol=BTCUSDT&origClientOrderId=pd-42-e0&")
    );
}

#[tokio::test]
async fn a_stop_loss_goes_to_the_algo_endpoint_with_a_client_algo_id() {
    let stub = stub::start().await;
    let mut placed = docs_payload("POST /fapi/v1/algoOrder (New Algo Order)");
    placed["clientAlgoId"] = json!("pd-42-s0");
    stub.state.push(Scripted::json(200, placed));
    let mut stop = order(
        OrderKind::StopMarket {
            stop_price: dec!(41000.0),
            working_type: WorkingType::MarkPrice,
        },
        "pd-42-s0",
    );
    stop.side = Side::Sell;
    stop.quantity = None;
    stop.close_position = true;

    let result = client(&stub)
        .raw()
        .place_order(&stop)
        .await
        .expect("placed");
    let Placed::Algo(a) = result else {
        panic!("a stop is an algo order")
    };
    assert_eq!(a.client_algo_id, "pd-42-s0");
    let requests = stub.state.requests.lock().expect("lock").clone();
    assert!(
        requests[0].starts_with("POST /fapi/v1/algoOrder?"),
        "{requests:?}"
    );
    let sent: std::collections::HashMap<_, _> = params(&requests[0]).into_iter().collect();
    assert_eq!(sent["algoType"], "CONDITIONAL");
    assert_eq!(sent["type"], "STOP_MARKET");
    assert_eq!(sent["triggerPrice"], "41000");
    assert_eq!(sent["workingType"], "MARK_PRICE");
    assert_eq!(sent["closePosition"], "true");
    assert_eq!(sent["clientAlgoId"], "pd-42-s0");
    assert!(
        !sent.contains_key("quantity") && !sent.contains_key("reduceOnly"),
        "closePosition excludes both"
    );
}

#[tokio::test]
async fn margin_type_already_set_counts_as_done() {
    let stub = stub::start().await;
    stub.state.push(Scripted::json(
        400,
        json!({"code": -4046, "msg": "No need to change margin type."}),
    ));
    client(&stub)
        .set_margin_type(
            &Symbol::new("BTCUSDT").expect("symbol"),
            MarginType::Isolated,
        )
        .await
        .expect("no change needed is fine");
    let requests = stub.state.requests.lock().expect("lock").clone();
    assert!(
        requests[0].starts_with("POST /fapi/v1/marginType?symbol=BTCUSDT&marginType=ISOLATED&"),
        "{requests:?}"
    );
}

#[tokio::test]
async fn the_client_sends_an_approved_exit_and_reports_it_in_domain_terms() {
    let stub = stub::start().await;
    let mut placed = docs_payload("POST /fapi/v1/algoOrder (New Algo Order)");
    placed["clientAlgoId"] = json!("pd-42-s1");
    placed["algoStatus"] = json!("NEW");
    stub.state.push(Scripted::json(200, placed.clone()));
    let mut stop = order(
        OrderKind::StopMarket {
            stop_price: dec!(41000.0),
            working_type: WorkingType::MarkPrice,
        },
        "pd-42-s1",
    );
    stop.side = Side::Sell;
    stop.quantity = None;
    stop.close_position = true;
    let approved = perpdesk_core::approve_exit(stop).expect("a closing stop is an exit");
    let report = client(&stub).place_order(&approved).await.expect("placed");
    assert_eq!(report.state, perpdesk_core::OrderState::New);
    assert_eq!(Some(report.exchange_id), placed["algoId"].as_i64());
    assert_eq!(report.record["clientAlgoId"], "pd-42-s1");
    let requests = stub.state.requests.lock().expect("lock").clone();
    assert!(
        requests[0].starts_with("POST /fapi/v1/algoOrder?"),
        "{requests:?}"
    );
}
