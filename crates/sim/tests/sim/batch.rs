//! `POST /fapi/v1/batchOrders` and `GET /fapi/v1/leverageBracket`, parsed with
//! perpdesk-binance's wire types.

use perpdesk_binance::endpoints;
use perpdesk_binance::wire::trade::BatchOrderResult;
use perpdesk_binance::wire::{OneOrMany, account::LeverageBracket};
use serde_json::{Value, json};

use crate::support::{self, KEY, SECRET};

#[tokio::test]
async fn a_batch_answers_each_order_in_input_order() {
    let sim = support::start().await;
    let rest = support::client(&sim, KEY, SECRET).raw().rest().clone();
    let batch = json!([
        {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010", "newClientOrderId": "b-0"},
        {"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET", "quantity": "0.010", "stopPrice": "30000"},
        {"symbol": "ETHUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.010", "reduceOnly": "true"},
    ]);
    let reply: Vec<BatchOrderResult> = rest
        .call(
            &endpoints::BATCH_ORDERS,
            &[("batchOrders", batch.to_string())],
        )
        .await
        .expect("batch answered");
    assert_eq!(reply.len(), 3);
    match &reply[0] {
        BatchOrderResult::Order(o) => assert_eq!(o.client_order_id, "b-0"),
        other => panic!("first should be placed: {other:?}"),
    }
    match (&reply[1], &reply[2]) {
        (BatchOrderResult::Error(a), BatchOrderResult::Error(b)) => {
            assert_eq!(a.code, -4120, "conditional types are algo-only");
            assert_eq!(b.code, -2022, "reduce-only without a position");
        }
        other => panic!("expected two errors: {other:?}"),
    }
    let six = Value::Array(vec![
        json!({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"});
        6
    ]);
    let err = rest
        .call::<Value>(
            &endpoints::BATCH_ORDERS,
            &[("batchOrders", six.to_string())],
        )
        .await
        .expect_err("too many");
    assert!(
        matches!(
            err,
            perpdesk_binance::ExchangeError::Rejected { code: -4082, .. }
        ),
        "{err:?}"
    );
    let trades: Value = rest
        .call(&endpoints::USER_TRADES, &[("symbol", "BTCUSDT".into())])
        .await
        .expect("trades");
    assert_eq!(
        trades.as_array().map(Vec::len),
        Some(1),
        "only the first batch's market order traded"
    );
}

#[tokio::test]
async fn leverage_brackets_come_as_numbers_one_object_per_symbol() {
    let sim = support::start().await;
    let rest = support::client(&sim, KEY, SECRET).raw().rest().clone();
    let one: OneOrMany<LeverageBracket> = rest
        .call(
            &endpoints::LEVERAGE_BRACKET,
            &[("symbol", "BTCUSDT".into())],
        )
        .await
        .expect("one");
    let all: OneOrMany<LeverageBracket> = rest
        .call(&endpoints::LEVERAGE_BRACKET, &[])
        .await
        .expect("all");
    let one = one.into_vec();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].symbol, "BTCUSDT");
    assert!(!one[0].brackets.is_empty());
    assert_eq!(all.into_vec().len(), 2);
}
