//! Changing and cancelling resting orders: `PUT /fapi/v1/order`, `GET /fapi/v1/orderAmendment`,
//! `PUT` and `DELETE /fapi/v1/batchOrders`, over HTTP with perpdesk-binance's transport.

use perpdesk_binance::Method::{Delete, Get, Post, Put};
use perpdesk_binance::wire::stream::UserDataEvent;
use perpdesk_binance::wire::trade::OrderAmendment;
use perpdesk_binance::{RestClient, endpoints};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{Value, json};

use crate::support::{self, KEY, SECRET, code_of, signed};

type Params = Vec<(&'static str, String)>;

async fn call(
    rest: &RestClient,
    method: perpdesk_binance::Method,
    path: &'static str,
    p: Params,
) -> Result<Value, perpdesk_binance::ExchangeError> {
    rest.call(&signed(method, path), &p).await
}

/// Places a resting LIMIT order of 0.010 BTC at `price` with client id `id`.
async fn limit(rest: &RestClient, side: &str, price: Decimal, id: &str, tif: &str) -> Value {
    call(
        rest,
        Post,
        "/fapi/v1/order",
        vec![
            ("symbol", "BTCUSDT".into()),
            ("side", side.into()),
            ("type", "LIMIT".into()),
            ("timeInForce", tif.into()),
            ("quantity", "0.010".into()),
            ("price", price.to_string()),
            ("newClientOrderId", id.into()),
        ],
    )
    .await
    .expect("placed")
}

fn modify(order_id: &Value, side: &str, qty: &str, price: Decimal) -> Params {
    vec![
        ("symbol", "BTCUSDT".into()),
        ("orderId", order_id.to_string()),
        ("side", side.into()),
        ("quantity", qty.into()),
        ("price", price.to_string()),
    ]
}

fn below(last: Decimal, pct: Decimal) -> Decimal {
    (last * (Decimal::ONE - pct / Decimal::ONE_HUNDRED)).round_dp(1)
}

#[tokio::test]
async fn a_limit_order_is_modified_in_place_and_its_history_kept() {
    let sim = support::start().await;
    let rest = support::client(&sim, KEY, SECRET).raw().rest().clone();
    let mut events = perpdesk_sim::server::subscribe(&sim.shared);
    let last = support::last(&sim, "BTCUSDT");
    let (p1, p2) = (below(last, dec!(3)), below(last, dec!(4)));
    let placed = limit(&rest, "BUY", p1, "mod-1", "GTC").await;
    let id = placed["orderId"].clone();

    let mut params = modify(&id, "BUY", "0.020", p2);
    params.push(("modifyId", "7".into()));
    let reply = call(&rest, Put, "/fapi/v1/order", params)
        .await
        .expect("modified");
    assert_eq!(reply["orderId"], id);
    assert_eq!(reply["status"], "NEW");
    assert_eq!(reply["price"], p2.to_string());
    assert_eq!(reply["origQty"], "0.02");
    assert_eq!(
        (reply["pair"].as_str(), reply["modifyId"].as_i64()),
        (Some("BTCUSDT"), Some(7))
    );
    let queried = call(
        &rest,
        Get,
        "/fapi/v1/order",
        vec![("symbol", "BTCUSDT".into()), ("orderId", id.to_string())],
    )
    .await
    .expect("query");
    assert_eq!(
        (queried["price"].clone(), queried["origQty"].clone()),
        (json!(p2.to_string()), json!("0.02"))
    );

    let amended = support::event(&mut events, |e| {
        e["e"] == "ORDER_TRADE_UPDATE" && e["o"]["x"] == "AMENDMENT"
    })
    .await;
    assert_eq!(amended["o"]["X"], "NEW");
    assert_eq!(amended["o"]["p"], p2.to_string());
    assert_eq!(amended["o"]["q"], "0.02");
    let mut problems = Vec::new();
    let docs = crate::conformance::docs_example("ORDER_TRADE_UPDATE");
    crate::conformance::same_shape("AMENDMENT", &docs, &amended, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(matches!(
        serde_json::from_value::<UserDataEvent>(amended).expect("parses"),
        UserDataEvent::OrderTradeUpdate(_)
    ));

    let history: Vec<OrderAmendment> = rest
        .call(
            &signed(Get, "/fapi/v1/orderAmendment"),
            &[("symbol", "BTCUSDT".into()), ("orderId", id.to_string())],
        )
        .await
        .expect("history");
    assert_eq!(history.len(), 1);
    let h = &history[0];
    assert_eq!(
        (h.order_id, h.client_order_id.as_str()),
        (id.as_i64().expect("id"), "mod-1")
    );
    assert_eq!(
        (h.amendment.price.before, h.amendment.price.after),
        (p1, p2)
    );
    assert_eq!(
        (h.amendment.orig_qty.before, h.amendment.orig_qty.after),
        (dec!(0.01), dec!(0.02))
    );
    assert_eq!(h.amendment.count, 1);

    // The same values again change nothing; an unknown id, a bad tick or a cap breach are
    // refused with Binance's codes and leave the order as it is.
    assert_eq!(
        code_of(
            call(
                &rest,
                Put,
                "/fapi/v1/order",
                modify(&id, "BUY", "0.020", p2)
            )
            .await
        ),
        -5027
    );
    assert_eq!(
        code_of(
            call(
                &rest,
                Put,
                "/fapi/v1/order",
                modify(&json!(999_999_999), "BUY", "0.020", p1)
            )
            .await
        ),
        -2013
    );
    assert_eq!(
        code_of(
            call(
                &rest,
                Put,
                "/fapi/v1/order",
                modify(&id, "BUY", "0.020", p1 + dec!(0.05))
            )
            .await
        ),
        -4014
    );
    assert_eq!(
        code_of(
            call(
                &rest,
                Put,
                "/fapi/v1/order",
                modify(&id, "BUY", "0.0205", p1)
            )
            .await
        ),
        -1111
    );
    assert_eq!(
        code_of(
            call(
                &rest,
                Put,
                "/fapi/v1/order",
                modify(&id, "BUY", "0.020", (last * dec!(1.2)).round_dp(1))
            )
            .await
        ),
        -4016
    );
    let mut both = modify(&id, "BUY", "0.020", p1);
    both.push(("priceMatch", "OPPONENT".into()));
    assert_eq!(
        code_of(call(&rest, Put, "/fapi/v1/order", both).await),
        -5037
    );
    let queried = call(
        &rest,
        Get,
        "/fapi/v1/order",
        vec![("symbol", "BTCUSDT".into()), ("orderId", id.to_string())],
    )
    .await
    .expect("query");
    assert_eq!(
        (queried["price"].clone(), queried["origQty"].clone()),
        (json!(p2.to_string()), json!("0.02"))
    );
    let history: Vec<Value> = rest
        .call(
            &signed(Get, "/fapi/v1/orderAmendment"),
            &[
                ("symbol", "BTCUSDT".into()),
                ("origClientOrderId", "mod-1".into()),
            ],
        )
        .await
        .expect("history");
    assert_eq!(history.len(), 1, "refusals are not amendments");
}

#[tokio::test]
async fn filled_orders_cannot_be_modified_and_a_crossing_change_fills_or_cancels() {
    let sim = support::start().await;
    let client = support::client(&sim, KEY, SECRET);
    let rest = client.raw().rest().clone();
    let last = support::last(&sim, "BTCUSDT");
    let market = call(
        &rest,
        Post,
        "/fapi/v1/order",
        vec![
            ("symbol", "BTCUSDT".into()),
            ("side", "BUY".into()),
            ("type", "MARKET".into()),
            ("quantity", "0.010".into()),
        ],
    )
    .await
    .expect("market");
    assert_eq!(
        code_of(
            call(
                &rest,
                Put,
                "/fapi/v1/order",
                modify(&market["orderId"], "BUY", "0.020", below(last, dec!(3)))
            )
            .await
        ),
        -2013
    );

    // priceMatch OPPONENT moves a resting buy to the best ask: it takes at once.
    let resting = limit(&rest, "BUY", below(last, dec!(3)), "mod-x", "GTC").await;
    let trades_before = client
        .raw()
        .user_trades("BTCUSDT", None, 100)
        .await
        .expect("trades")
        .len();
    let filled = call(
        &rest,
        Put,
        "/fapi/v1/order",
        vec![
            ("symbol", "BTCUSDT".into()),
            ("origClientOrderId", "mod-x".into()),
            ("side", "BUY".into()),
            ("quantity", "0.010".into()),
            ("priceMatch", "OPPONENT".into()),
        ],
    )
    .await
    .expect("modified");
    assert_eq!(filled["orderId"], resting["orderId"]);
    assert_eq!(filled["status"], "FILLED");
    let (_, asks) = sim.shared.exchange.lock().expect("lock").market.depth(
        "BTCUSDT",
        sim.shared.clock.now_ms(),
        1,
    );
    assert_eq!(
        filled["price"],
        asks[0].0.normalize().to_string(),
        "the best ask"
    );
    let trades = client
        .raw()
        .user_trades("BTCUSDT", None, 100)
        .await
        .expect("trades");
    assert_eq!(trades.len(), trades_before + 1);
    assert!(
        !trades.last().expect("trade").maker,
        "a crossing change takes"
    );

    // A post-only order that would take after the change is cancelled instead.
    let gtx = limit(
        &rest,
        "SELL",
        (last * dec!(1.03)).round_dp(1),
        "mod-gtx",
        "GTX",
    )
    .await;
    let cancelled = call(
        &rest,
        Put,
        "/fapi/v1/order",
        modify(&gtx["orderId"], "SELL", "0.010", below(last, dec!(1))),
    )
    .await
    .expect("answered");
    assert_eq!(cancelled["status"], "CANCELED");
    assert!(
        client
            .raw()
            .open_orders(Some("BTCUSDT"))
            .await
            .expect("open")
            .is_empty()
    );
    // A wrong side or a non-LIMIT order is refused.
    let sell = limit(
        &rest,
        "SELL",
        (last * dec!(1.03)).round_dp(1),
        "mod-s",
        "GTC",
    )
    .await;
    assert_eq!(
        code_of(
            call(
                &rest,
                Put,
                "/fapi/v1/order",
                modify(&sell["orderId"], "BUY", "0.010", below(last, dec!(3)))
            )
            .await
        ),
        -1130
    );
}

#[tokio::test]
async fn batch_modify_and_batch_cancel_answer_per_item_in_input_order() {
    let sim = support::start().await;
    let rest = support::client(&sim, KEY, SECRET).raw().rest().clone();
    let last = support::last(&sim, "BTCUSDT");
    let a = limit(&rest, "BUY", below(last, dec!(3)), "bc-1", "GTC").await;
    limit(&rest, "BUY", below(last, dec!(4)), "bc-2", "GTC").await;
    let c = limit(&rest, "BUY", below(last, dec!(5)), "bc-3", "GTC").await;

    let batch = json!([
        {"symbol": "BTCUSDT", "orderId": a["orderId"], "side": "BUY", "quantity": "0.010", "price": below(last, dec!(6)).to_string()},
        {"symbol": "BTCUSDT", "orderId": 999_999_999, "side": "BUY", "quantity": "0.010", "price": below(last, dec!(6)).to_string()},
    ]);
    let reply = call(
        &rest,
        Put,
        "/fapi/v1/batchOrders",
        vec![("batchOrders", batch.to_string())],
    )
    .await
    .expect("batch");
    let items = reply.as_array().expect("array");
    assert_eq!(items.len(), 2);
    assert_eq!(
        (items[0]["orderId"].clone(), items[0]["price"].clone()),
        (
            a["orderId"].clone(),
            json!(below(last, dec!(6)).to_string())
        )
    );
    assert_eq!(items[1]["code"], -2013);
    let six = Value::Array(vec![batch[0].clone(); 6]);
    assert_eq!(
        code_of(
            call(
                &rest,
                Put,
                "/fapi/v1/batchOrders",
                vec![("batchOrders", six.to_string())]
            )
            .await
        ),
        -4082
    );

    // ccxt sends the list names in lower case; unknown ids fail alone.
    let reply = call(
        &rest,
        Delete,
        "/fapi/v1/batchOrders",
        vec![
            ("symbol", "BTCUSDT".into()),
            (
                "origclientorderidlist",
                json!(["bc-1", "nope", "bc-2"]).to_string(),
            ),
        ],
    )
    .await
    .expect("cancelled");
    let items = reply.as_array().expect("array");
    assert_eq!(items.len(), 3);
    assert_eq!(
        (
            items[0]["clientOrderId"].as_str(),
            items[0]["status"].as_str()
        ),
        (Some("bc-1"), Some("CANCELED"))
    );
    assert_eq!(items[1]["code"], -2011);
    assert_eq!(
        (
            items[2]["clientOrderId"].as_str(),
            items[2]["status"].as_str()
        ),
        (Some("bc-2"), Some("CANCELED"))
    );
    // Cancelling again: both are no longer open.
    let reply = call(
        &rest,
        Delete,
        "/fapi/v1/batchOrders",
        vec![
            ("symbol", "BTCUSDT".into()),
            (
                "orderIdList",
                json!([a["orderId"], c["orderId"]]).to_string(),
            ),
        ],
    )
    .await
    .expect("cancelled");
    assert_eq!(reply[0]["code"], -2011);
    assert_eq!(reply[1]["status"], "CANCELED");
    let open: Vec<Value> = rest.call(&endpoints::OPEN_ORDERS, &[]).await.expect("open");
    assert!(open.is_empty());

    let eleven: Vec<i64> = (1..=11).collect();
    assert_eq!(
        code_of(
            call(
                &rest,
                Delete,
                "/fapi/v1/batchOrders",
                vec![
                    ("symbol", "BTCUSDT".into()),
                    ("orderIdList", json!(eleven).to_string())
                ]
            )
            .await
        ),
        -4032
    );
    assert_eq!(
        code_of(
            call(
                &rest,
                Delete,
                "/fapi/v1/batchOrders",
                vec![("symbol", "BTCUSDT".into())]
            )
            .await
        ),
        -1102
    );
    assert_eq!(
        code_of(
            call(
                &rest,
                Delete,
                "/fapi/v1/batchOrders",
                vec![("symbol", "BTCUSDT".into()), ("orderIdList", "[1,".into())]
            )
            .await
        ),
        -1130
    );
}
