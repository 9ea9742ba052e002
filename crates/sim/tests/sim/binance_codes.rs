//! Refusals a third-party client meets answer with the code in Binance's error table
//! (CONTRACT.md section 5, "Error codes"), and change nothing (issue 17, error codes and
//! "accepted but must be refused").

use perpdesk_binance::Method::{Get, Post, Put};
use perpdesk_binance::RestClient;
use perpdesk_sim::server::Running;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;

use crate::support::{self, KEY, SECRET, code_of, signed};

type Params = Vec<(&'static str, String)>;

async fn post(
    rest: &RestClient,
    path: &'static str,
    p: Params,
) -> Result<Value, perpdesk_binance::ExchangeError> {
    rest.call(&signed(Post, path), &p).await
}

/// A BUY LIMIT of 0.010 BTC that rests (10% under the last price), with `extra` added.
fn resting_buy(sim: &Running, extra: &[(&'static str, &str)]) -> Params {
    let price = (support::last(sim, "BTCUSDT") * dec!(0.9)).round_dp(1);
    let mut p: Params = vec![
        ("symbol", "BTCUSDT".into()),
        ("side", "BUY".into()),
        ("type", "LIMIT".into()),
        ("timeInForce", "GTC".into()),
        ("quantity", "0.010".into()),
        ("price", price.to_string()),
    ];
    p.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    p
}

/// A SELL STOP_MARKET of 0.010 BTC 10% under the last price, with `extra` added.
fn stop(sim: &Running, extra: &[(&'static str, &str)]) -> Params {
    let trigger = (support::last(sim, "BTCUSDT") * dec!(0.9)).round_dp(1);
    let mut p: Params = vec![
        ("algoType", "CONDITIONAL".into()),
        ("symbol", "BTCUSDT".into()),
        ("side", "SELL".into()),
        ("type", "STOP_MARKET".into()),
        ("triggerPrice", trigger.to_string()),
    ];
    p.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    p
}

fn without(mut p: Params, name: &str) -> Params {
    p.retain(|(k, _)| *k != name);
    p
}

/// How many orders and algo orders `KEY`'s account holds.
fn held(sim: &Running) -> (usize, usize) {
    let ex = sim.shared.exchange.lock().expect("lock");
    let a = &ex.accounts[ex.account_index(KEY).expect("KEY's account")];
    (a.orders.len(), a.algo_orders.len())
}

/// CONTRACT.md 4.3: `newClientOrderId` is "a unique id among open orders"; a duplicate is
/// -4116 "clientOrderId is duplicated" (DUPLICATED_CLIENT_ORDER_ID), on the order endpoint
/// and for `clientAlgoId` on the algo service. A finished order's id may be used again.
#[tokio::test]
async fn a_client_id_of_an_open_order_is_refused_with_4116() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let first = resting_buy(&sim, &[("newClientOrderId", "dup-1")]);
    post(&rest, "/fapi/v1/order", first.clone())
        .await
        .expect("placed");
    assert_eq!(
        code_of(post(&rest, "/fapi/v1/order", first.clone()).await),
        -4116
    );

    post(
        &rest,
        "/fapi/v1/algoOrder",
        stop(&sim, &[("quantity", "0.010"), ("clientAlgoId", "dup-2")]),
    )
    .await
    .expect("algo placed");
    let again = stop(&sim, &[("quantity", "0.010"), ("clientAlgoId", "dup-2")]);
    assert_eq!(
        code_of(post(&rest, "/fapi/v1/algoOrder", again).await),
        -4116
    );
    assert_eq!(held(&sim), (1, 1), "the refusals left nothing");

    // Once cancelled, the id is free again.
    let _: Value = rest
        .call(
            &signed(perpdesk_binance::Method::Delete, "/fapi/v1/order"),
            &[
                ("symbol", "BTCUSDT".into()),
                ("origClientOrderId", "dup-1".into()),
            ],
        )
        .await
        .expect("cancelled");
    post(&rest, "/fapi/v1/order", first)
        .await
        .expect("placed again");
}

/// CONTRACT.md 4.3: client ids match `^[.A-Z:/a-z0-9_-]{1,36}$`; a longer or malformed one
/// is -4015 (INVALID_CL_ORD_ID_LEN, "Client order id length should not be more than 36
/// chars" / "Client order id is not valid.").
#[tokio::test]
async fn a_malformed_or_37_character_client_id_is_refused_with_4015() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let long = "a".repeat(37);
    let refused = post(
        &rest,
        "/fapi/v1/order",
        resting_buy(&sim, &[("newClientOrderId", &long)]),
    )
    .await;
    match refused {
        Err(perpdesk_binance::ExchangeError::Rejected { code, msg, .. }) => {
            assert_eq!(code, -4015);
            assert_eq!(
                msg,
                "Client order id length should not be more than 36 chars"
            );
        }
        other => panic!("expected -4015, got {other:?}"),
    }
    let bad = resting_buy(&sim, &[("newClientOrderId", "has space")]);
    assert_eq!(code_of(post(&rest, "/fapi/v1/order", bad).await), -4015);
    let algo = stop(&sim, &[("quantity", "0.010"), ("clientAlgoId", &long)]);
    assert_eq!(
        code_of(post(&rest, "/fapi/v1/algoOrder", algo).await),
        -4015
    );
    // 36 characters is the longest id Binance takes.
    let longest = "b".repeat(36);
    post(
        &rest,
        "/fapi/v1/order",
        resting_buy(&sim, &[("newClientOrderId", &longest)]),
    )
    .await
    .expect("36 characters are fine");
    assert_eq!(held(&sim), (1, 0));
}

/// CONTRACT.md error table: -4003 QTY_LESS_THAN_ZERO for a quantity of zero or below and
/// -4001 PRICE_LESS_THAN_ZERO for a negative price, on new, modified and algo orders.
#[tokio::test]
async fn a_quantity_not_above_zero_is_4003_and_a_negative_price_4001() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    for qty in ["0", "-0.010"] {
        let p = without(resting_buy(&sim, &[]), "quantity");
        let mut p = p;
        p.push(("quantity", qty.into()));
        assert_eq!(
            code_of(post(&rest, "/fapi/v1/order", p).await),
            -4003,
            "quantity {qty}"
        );
        let algo = stop(&sim, &[("quantity", qty)]);
        assert_eq!(
            code_of(post(&rest, "/fapi/v1/algoOrder", algo).await),
            -4003,
            "algo quantity {qty}"
        );
    }
    let mut negative = without(resting_buy(&sim, &[]), "price");
    negative.push(("price", "-100".into()));
    assert_eq!(
        code_of(post(&rest, "/fapi/v1/order", negative).await),
        -4001
    );

    let placed = post(&rest, "/fapi/v1/order", resting_buy(&sim, &[]))
        .await
        .expect("placed");
    let modify = |qty: &str, price: &str| -> Params {
        vec![
            ("symbol", "BTCUSDT".into()),
            ("orderId", placed["orderId"].to_string()),
            ("side", "BUY".into()),
            ("quantity", qty.into()),
            ("price", price.into()),
        ]
    };
    let price = placed["price"].as_str().expect("price").to_owned();
    let put = |p: Params| {
        let rest = rest.clone();
        async move { rest.call(&signed(Put, "/fapi/v1/order"), &p).await }
    };
    assert_eq!(code_of(put(modify("0", &price)).await), -4003);
    assert_eq!(code_of(put(modify("0.010", "-1")).await), -4001);
    assert_eq!(held(&sim), (1, 0));
}

/// CONTRACT.md error table: -4137 QUANTITY_EXISTS_WITH_CLOSE_POSITION, "Quantity must be
/// zero with closePosition equals true".
#[tokio::test]
async fn close_position_with_a_quantity_is_refused_with_4137() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let both = stop(&sim, &[("closePosition", "true"), ("quantity", "0.010")]);
    assert_eq!(
        code_of(post(&rest, "/fapi/v1/algoOrder", both).await),
        -4137
    );
    post(
        &rest,
        "/fapi/v1/algoOrder",
        stop(&sim, &[("closePosition", "true")]),
    )
    .await
    .expect("closePosition alone is placed");
    assert_eq!(held(&sim), (0, 1));
}

/// CONTRACT.md 4 (endpoint 4): depth `limit` is one of 5, 10, 20, 50, 100, 500, 1000;
/// another is -4021 INVALID_DEPTH_LIMIT.
#[tokio::test]
async fn a_depth_limit_binance_does_not_serve_is_refused_with_4021() {
    let sim = support::start().await;
    let get = |limit: &str| {
        let url = format!("{}/fapi/v1/depth?symbol=BTCUSDT&limit={limit}", sim.url());
        async move {
            let r = reqwest::get(url).await.expect("sent");
            (
                r.status().as_u16(),
                serde_json::from_str::<Value>(&r.text().await.expect("body")).expect("json"),
            )
        }
    };
    let (status, body) = get("7").await;
    assert_eq!(
        (status, body["code"].as_i64()),
        (400, Some(-4021)),
        "{body}"
    );
    assert_eq!(body["msg"], "'7' is not valid depth limit.");
    let (status, body) = get("10").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bids"].as_array().expect("bids").len(), 10);
}

/// CONTRACT.md 4.3 enums: `newOrderRespType` is ACK or RESULT; anything else is -1136
/// INVALID_NEW_ORDER_RESP_TYPE.
#[tokio::test]
async fn a_response_type_other_than_ack_or_result_is_refused_with_1136() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let xml = resting_buy(&sim, &[("newOrderRespType", "XML")]);
    assert_eq!(code_of(post(&rest, "/fapi/v1/order", xml).await), -1136);
    assert_eq!(held(&sim), (0, 0));
    let ack = resting_buy(&sim, &[("newOrderRespType", "ACK")]);
    post(&rest, "/fapi/v1/order", ack)
        .await
        .expect("ACK is placed");
}

/// CONTRACT.md 4.3 enums: `selfTradePreventionMode` is EXPIRE_TAKER, EXPIRE_MAKER or
/// EXPIRE_BOTH (and NONE on algo orders); another is -5039 INVALID_SELF_TRADE_PREVENTION_MODE.
/// A valid mode is kept and shown; the defaults are EXPIRE_MAKER and, for algo orders, NONE.
#[tokio::test]
async fn an_unknown_self_trade_prevention_mode_is_refused_with_5039() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let odd = resting_buy(&sim, &[("selfTradePreventionMode", "EXPIRE_SOMETIMES")]);
    assert_eq!(code_of(post(&rest, "/fapi/v1/order", odd).await), -5039);
    let odd = stop(
        &sim,
        &[("quantity", "0.010"), ("selfTradePreventionMode", "BOTH")],
    );
    assert_eq!(code_of(post(&rest, "/fapi/v1/algoOrder", odd).await), -5039);
    assert_eq!(held(&sim), (0, 0));

    let taker = post(
        &rest,
        "/fapi/v1/order",
        resting_buy(&sim, &[("selfTradePreventionMode", "EXPIRE_TAKER")]),
    )
    .await
    .expect("placed");
    assert_eq!(taker["selfTradePreventionMode"], "EXPIRE_TAKER");
    let plain = post(&rest, "/fapi/v1/order", resting_buy(&sim, &[]))
        .await
        .expect("placed");
    assert_eq!(plain["selfTradePreventionMode"], "EXPIRE_MAKER");
    let algo = post(
        &rest,
        "/fapi/v1/algoOrder",
        stop(&sim, &[("quantity", "0.010")]),
    )
    .await
    .expect("algo placed");
    assert_eq!(algo["selfTradePreventionMode"], "NONE");
}

/// CONTRACT.md 4.3 enums: `priceMatch` is "not together with `price`" (-5037
/// INVALID_PRICE_MATCH) and only for LIMIT kinds (-5038). Without `price`, the order is
/// priced from the book: QUEUE_5 is the fifth price of its own side (where it rests; the
/// best bid is the last price, which the simulator fills at once).
#[tokio::test]
async fn price_match_with_a_price_is_refused_with_5037_and_without_takes_the_books_price() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let both = resting_buy(&sim, &[("priceMatch", "QUEUE")]);
    assert_eq!(code_of(post(&rest, "/fapi/v1/order", both).await), -5037);
    let market: Params = vec![
        ("symbol", "BTCUSDT".into()),
        ("side", "BUY".into()),
        ("type", "MARKET".into()),
        ("quantity", "0.010".into()),
        ("priceMatch", "OPPONENT".into()),
    ];
    assert_eq!(code_of(post(&rest, "/fapi/v1/order", market).await), -5038);
    assert_eq!(held(&sim), (0, 0));

    let url = format!("{}/fapi/v1/depth?symbol=BTCUSDT&limit=5", sim.url());
    let text = reqwest::get(url)
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    let book: Value = serde_json::from_str(&text).expect("json");
    let fifth_bid: Decimal = book["bids"][4][0]
        .as_str()
        .expect("bid")
        .parse()
        .expect("price");
    let queued = without(resting_buy(&sim, &[("priceMatch", "QUEUE_5")]), "price");
    let placed = post(&rest, "/fapi/v1/order", queued).await.expect("placed");
    assert_eq!(placed["priceMatch"], "QUEUE_5");
    let price: Decimal = placed["price"]
        .as_str()
        .expect("price")
        .parse()
        .expect("price");
    assert_eq!(price, fifth_bid);
    let queried: Value = rest
        .call(
            &signed(Get, "/fapi/v1/order"),
            &[
                ("symbol", "BTCUSDT".into()),
                ("orderId", placed["orderId"].to_string()),
            ],
        )
        .await
        .expect("query");
    assert_eq!(queried["status"], "NEW");
}

/// CONTRACT.md 4.2 (`leverageBracket`): values are JSON numbers, and the notional bounds are
/// integers (`"notionalCap": 10000`); the official SDK's models reject `50000.0`.
#[tokio::test]
async fn leverage_brackets_send_notional_bounds_as_integers() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let all: Value = rest
        .call(&signed(Get, "/fapi/v1/leverageBracket"), &[])
        .await
        .expect("brackets");
    let symbols = all.as_array().expect("an array");
    assert!(!symbols.is_empty());
    for symbol in symbols {
        for b in symbol["brackets"].as_array().expect("brackets") {
            for field in ["notionalCap", "notionalFloor"] {
                assert!(b[field].is_i64(), "{field} is an integer: {b}");
            }
            assert!(b["maintMarginRatio"].is_number(), "{b}");
        }
    }
    let text = serde_json::to_string(&all).expect("text");
    assert!(!text.contains("\"notionalCap\":50000.0"), "{text}");
}

/// A request the router cannot take still answers Binance's JSON `{code, msg}` (CONTRACT.md
/// 3.1, "4XX … Body `{"code":<neg int>,"msg":"…"}`"): a method a path does not serve (405,
/// -1020 UNSUPPORTED_OPERATION), a body past the limit (413) and a long target (414), both
/// -1101 TOO_MANY_PARAMETERS (Binance's table has no code of their own).
#[tokio::test]
async fn method_body_and_target_refusals_are_json_with_binance_codes() {
    let sim = support::start().await;
    let http = reqwest::Client::new();
    let check = |r: reqwest::Response, status: u16, code: i64| async move {
        assert_eq!(r.status().as_u16(), status);
        let json = r
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().expect("ascii").starts_with("application/json"));
        assert!(json, "{status} is JSON");
        let body: Value = serde_json::from_str(&r.text().await.expect("body")).expect("json");
        assert_eq!(body["code"], code, "{body}");
        assert!(
            body["msg"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    };
    let patch = http
        .patch(format!("{}/fapi/v1/order", sim.url()))
        .send()
        .await
        .expect("sent");
    check(patch, 405, -1020).await;
    let get_leverage = http
        .get(format!("{}/fapi/v1/leverage", sim.url()))
        .send()
        .await
        .expect("sent");
    check(get_leverage, 405, -1020).await;
    let big = http
        .post(format!("{}/fapi/v1/order", sim.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "symbol=BTCUSDT&junk={}",
            "x".repeat(3 * 1024 * 1024)
        ))
        .send()
        .await
        .expect("sent");
    check(big, 413, -1101).await;
    let long = http
        .get(format!(
            "{}/fapi/v1/time?junk={}",
            sim.url(),
            "x".repeat(20_000)
        ))
        .send()
        .await
        .expect("sent");
    check(long, 414, -1101).await;
}
