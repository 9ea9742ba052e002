//! The limit and trailing kinds of the algo service: STOP and TAKE_PROFIT become LIMIT orders
//! at their `price` when they trigger; TRAILING_STOP_MARKET follows the best price from its
//! activation and closes with a MARKET order `callbackRate` percent back from it.

use perpdesk_binance::Method::{Get, Post};
use perpdesk_binance::wire::algo::AlgoOrder;
use perpdesk_binance::{RestClient, endpoints};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;

use crate::support::{self, KEY, SECRET, code_of, signed};

type Params = Vec<(&'static str, String)>;

const DAY: i64 = 86_400_000;

async fn algo(rest: &RestClient, extra: Params) -> Result<Value, perpdesk_binance::ExchangeError> {
    let mut p: Params = vec![("algoType", "CONDITIONAL".into())];
    p.extend(extra);
    rest.call(&signed(Post, "/fapi/v1/algoOrder"), &p).await
}

async fn query_algo(rest: &RestClient, id: &Value) -> Value {
    rest.call(
        &signed(Get, "/fapi/v1/algoOrder"),
        &[("algoId", id.to_string())],
    )
    .await
    .expect("algo query")
}

async fn market_buy(rest: &RestClient, symbol: &str, qty: &str) {
    let _: Value = rest
        .call(
            &endpoints::ORDER_NEW,
            &[
                ("symbol", symbol.into()),
                ("side", "BUY".into()),
                ("type", "MARKET".into()),
                ("quantity", qty.into()),
            ],
        )
        .await
        .expect("market");
}

/// Lowest and highest last price of `symbol` over the next `ms`.
fn ahead(sim: &perpdesk_sim::Running, symbol: &str, ms: i64) -> (Decimal, Decimal) {
    let now = sim.shared.clock.now_ms();
    sim.shared
        .exchange
        .lock()
        .expect("lock")
        .market
        .price_range(symbol, now, now + ms)
        .expect("range")
}

fn tick(v: Decimal, tick: Decimal) -> Decimal {
    (v / tick).round() * tick
}

#[tokio::test]
async fn stop_and_take_profit_become_limit_orders_when_they_trigger() {
    let sim = support::start().await;
    let rest = support::client(&sim, KEY, SECRET).raw().rest().clone();
    market_buy(&rest, "BTCUSDT", "0.010").await;
    let last = support::last(&sim, "BTCUSDT");
    let (low, _) = ahead(&sim, "BTCUSDT", DAY);
    assert!(
        last - low > dec!(20),
        "the day ahead must fall for this test"
    );
    // A reduce-only STOP SELL halfway down to the day's low, its limit under the trigger: it
    // fills at the trigger, as a LIMIT order.
    let trigger = tick((last + low) / dec!(2), dec!(0.1));
    let stop = algo(
        &rest,
        vec![
            ("symbol", "BTCUSDT".into()),
            ("side", "SELL".into()),
            ("type", "STOP".into()),
            ("quantity", "0.010".into()),
            ("triggerPrice", trigger.to_string()),
            ("price", (trigger - dec!(50)).to_string()),
            ("reduceOnly", "true".into()),
            ("clientAlgoId", "stop-1".into()),
        ],
    )
    .await
    .expect("stop placed");
    assert_eq!(
        (stop["orderType"].as_str(), stop["price"].as_str()),
        (
            Some("STOP"),
            Some((trigger - dec!(50)).to_string().as_str())
        )
    );
    // An ETH TAKE_PROFIT BUY whose limit is far under its trigger rests on the book after it.
    let eth = support::last(&sim, "ETHUSDT");
    let (eth_low, _) = ahead(&sim, "ETHUSDT", DAY);
    assert!(
        eth - eth_low > dec!(2),
        "the day ahead must fall for this test"
    );
    let tp_trigger = tick((eth + eth_low) / dec!(2), dec!(0.01));
    let tp_price = tick(eth_low * dec!(0.97), dec!(0.01));
    let tp = algo(
        &rest,
        vec![
            ("symbol", "ETHUSDT".into()),
            ("side", "BUY".into()),
            ("type", "TAKE_PROFIT".into()),
            ("quantity", "0.010".into()),
            ("triggerPrice", tp_trigger.to_string()),
            ("price", tp_price.to_string()),
            ("timeInForce", "GTC".into()),
        ],
    )
    .await
    .expect("take profit placed");

    support::advance(&sim, DAY);
    let stop = query_algo(&rest, &stop["algoId"]).await;
    assert_eq!(stop["algoStatus"], "FINISHED");
    assert_eq!(stop["actualType"], "LIMIT");
    let placed: Value = rest
        .call(
            &endpoints::ORDER_QUERY,
            &[
                ("symbol", "BTCUSDT".into()),
                (
                    "orderId",
                    stop["actualOrderId"].as_str().expect("id").into(),
                ),
            ],
        )
        .await
        .expect("the triggered order");
    assert_eq!(
        (placed["type"].as_str(), placed["status"].as_str()),
        (Some("LIMIT"), Some("FILLED"))
    );
    assert_eq!(
        placed["avgPrice"]
            .as_str()
            .expect("avg")
            .parse::<Decimal>()
            .expect("decimal"),
        trigger
    );
    let positions: Vec<Value> = rest
        .call(&endpoints::POSITION_RISK, &[("symbol", "BTCUSDT".into())])
        .await
        .expect("positions");
    assert!(
        positions.is_empty(),
        "the stop closed the long: {positions:?}"
    );

    let tp = query_algo(&rest, &tp["algoId"]).await;
    assert_eq!(
        (tp["algoStatus"].as_str(), tp["actualType"].as_str()),
        (Some("FINISHED"), Some("LIMIT"))
    );
    let open: Vec<Value> = rest
        .call(&endpoints::OPEN_ORDERS, &[("symbol", "ETHUSDT".into())])
        .await
        .expect("open");
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0]["type"].as_str(), open[0]["price"].as_str()),
        (Some("LIMIT"), Some(tp_price.to_string().as_str()))
    );
    assert_eq!(
        open[0]["orderId"].to_string(),
        tp["actualOrderId"].as_str().expect("id")
    );
    let _: AlgoOrder = serde_json::from_value(tp).expect("parses as the wire type");
}

#[tokio::test]
async fn limit_and_trailing_kinds_refuse_the_parameters_they_do_not_take() {
    let sim = support::start().await;
    let rest = support::client(&sim, KEY, SECRET).raw().rest().clone();
    let last = support::last(&sim, "BTCUSDT");
    let base = |kind: &str| -> Params {
        vec![
            ("symbol", "BTCUSDT".into()),
            ("side", "SELL".into()),
            ("type", kind.into()),
            ("quantity", "0.010".into()),
        ]
    };
    let below = tick(last * dec!(0.95), dec!(0.1));
    let above = tick(last * dec!(1.05), dec!(0.1));
    let with = |kind: &str, extra: &[(&'static str, String)]| {
        let mut p = base(kind);
        p.extend(extra.iter().cloned());
        p
    };
    let cases: Vec<(Params, i64)> = vec![
        (with("STOP", &[("triggerPrice", below.to_string())]), -1102),
        (
            with(
                "STOP",
                &[
                    ("triggerPrice", below.to_string()),
                    ("price", below.to_string()),
                    ("timeInForce", "DAY".into()),
                ],
            ),
            -1115,
        ),
        (
            with(
                "STOP_MARKET",
                &[
                    ("triggerPrice", below.to_string()),
                    ("price", below.to_string()),
                ],
            ),
            -1106,
        ),
        (with("TRAILING_STOP_MARKET", &[]), -1102),
        (
            with("TRAILING_STOP_MARKET", &[("callbackRate", "0.05".into())]),
            -1130,
        ),
        (
            with("TRAILING_STOP_MARKET", &[("callbackRate", "20.5".into())]),
            -1130,
        ),
        (
            with(
                "TRAILING_STOP_MARKET",
                &[
                    ("callbackRate", "1".into()),
                    ("activatePrice", below.to_string()),
                ],
            ),
            -2021,
        ),
        (
            with(
                "TRAILING_STOP_MARKET",
                &[
                    ("callbackRate", "1".into()),
                    ("triggerPrice", above.to_string()),
                ],
            ),
            -1106,
        ),
    ];
    for (params, code) in cases {
        assert_eq!(
            code_of(algo(&rest, params.clone()).await),
            code,
            "{params:?}"
        );
    }
    let open: Vec<Value> = rest
        .call(&endpoints::OPEN_ALGO_ORDERS, &[])
        .await
        .expect("open");
    assert!(open.is_empty(), "refusals place nothing");
    let placed = algo(
        &rest,
        with(
            "TRAILING_STOP_MARKET",
            &[
                ("callbackRate", "1.5".into()),
                ("activatePrice", above.to_string()),
            ],
        ),
    )
    .await
    .expect("placed");
    assert_eq!(
        (
            placed["callbackRate"].as_str(),
            placed["activatePrice"].as_str()
        ),
        (Some("1.5"), Some(above.to_string().as_str()))
    );
}

#[tokio::test]
async fn a_trailing_stop_closes_callback_rate_back_from_the_best_price_after_activation() {
    let sim = support::start().await;
    let rest = support::client(&sim, KEY, SECRET).raw().rest().clone();
    market_buy(&rest, "BTCUSDT", "0.020").await;
    let placed_at = sim.shared.clock.now_ms();
    let last = support::last(&sim, "BTCUSDT");
    let activate = tick(last * dec!(1.01), dec!(0.1));
    let plain = algo(
        &rest,
        vec![
            ("symbol", "BTCUSDT".into()),
            ("side", "SELL".into()),
            ("type", "TRAILING_STOP_MARKET".into()),
            ("quantity", "0.010".into()),
            ("callbackRate", "1".into()),
            ("reduceOnly", "true".into()),
        ],
    )
    .await
    .expect("trailing");
    let activated = algo(
        &rest,
        vec![
            ("symbol", "BTCUSDT".into()),
            ("side", "SELL".into()),
            ("type", "TRAILING_STOP_MARKET".into()),
            ("quantity", "0.010".into()),
            ("callbackRate", "0.5".into()),
            ("activatePrice", activate.to_string()),
            ("reduceOnly", "true".into()),
        ],
    )
    .await
    .expect("trailing with activation");

    let mut done = Vec::new();
    for (order, rate) in [(&plain, dec!(1)), (&activated, dec!(0.5))] {
        let id = order["algoId"].as_i64().expect("algo id");
        let mut waited = 0;
        // 15-second steps, so the step it fires in ends where it fired and the best price up
        // to its trigger time is the one it trailed.
        while sim.shared.exchange.lock().expect("lock").accounts[0]
            .algo_orders
            .iter()
            .any(|o| o.algo_id == id && o.status == "NEW")
        {
            support::advance(&sim, 15_000);
            waited += 15_000;
            assert!(waited < 20 * DAY, "the trailing stop never fired");
        }
        let fired = query_algo(&rest, &order["algoId"]).await;
        assert_eq!(
            (fired["algoStatus"].as_str(), fired["actualType"].as_str()),
            (Some("FINISHED"), Some("MARKET"))
        );
        let fired_at = fired["triggerTime"].as_i64().expect("trigger time");
        let (_, best) = sim
            .shared
            .exchange
            .lock()
            .expect("lock")
            .market
            .price_range("BTCUSDT", placed_at, fired_at)
            .expect("range");
        let order: Value = rest
            .call(
                &endpoints::ORDER_QUERY,
                &[
                    ("symbol", "BTCUSDT".into()),
                    (
                        "orderId",
                        fired["actualOrderId"].as_str().expect("id").into(),
                    ),
                ],
            )
            .await
            .expect("the closing order");
        assert_eq!(
            (
                order["type"].as_str(),
                order["status"].as_str(),
                order["reduceOnly"].as_bool()
            ),
            (Some("MARKET"), Some("FILLED"), Some(true))
        );
        let price: Decimal = order["avgPrice"]
            .as_str()
            .expect("avg")
            .parse()
            .expect("decimal");
        assert_eq!(
            price,
            tick(
                best * (Decimal::ONE - rate / Decimal::ONE_HUNDRED),
                dec!(0.1)
            ),
            "best {best}"
        );
        done.push((fired_at, best));
    }
    assert!(
        done[1].1 >= activate,
        "it only trails once the price reached {activate}"
    );
    let positions: Vec<Value> = rest
        .call(&endpoints::POSITION_RISK, &[("symbol", "BTCUSDT".into())])
        .await
        .expect("positions");
    assert!(positions.is_empty(), "both halves closed: {positions:?}");
}

/// CONTRACT.md 6.1 (ALGO_UPDATE, `X`): a triggered algo order goes NEW → TRIGGERING →
/// TRIGGERED → FINISHED. TRIGGERED names the matching-engine order in `ai`, and the order's
/// own ORDER_TRADE_UPDATE comes before FINISHED (issue 17: it went NEW → FINISHED).
#[tokio::test]
async fn a_triggered_algo_order_reports_triggering_and_triggered_before_finished() {
    let sim = support::start().await;
    let rest = support::client(&sim, KEY, SECRET).raw().rest().clone();
    let mut events = perpdesk_sim::server::subscribe(&sim.shared);
    market_buy(&rest, "BTCUSDT", "0.010").await;
    let last = support::last(&sim, "BTCUSDT");
    let (low, _) = ahead(&sim, "BTCUSDT", DAY);
    assert!(
        last - low > dec!(20),
        "the day ahead must fall for this test"
    );
    let trigger = tick((last + low) / dec!(2), dec!(0.1));
    let stop = algo(
        &rest,
        vec![
            ("symbol", "BTCUSDT".into()),
            ("side", "SELL".into()),
            ("type", "STOP_MARKET".into()),
            ("triggerPrice", trigger.to_string()),
            ("closePosition", "true".into()),
        ],
    )
    .await
    .expect("stop placed");
    support::advance(&sim, DAY);
    let id = stop["algoId"].clone();
    let mut seen = Vec::new();
    loop {
        let e = support::event(&mut events, |e| {
            (e["e"] == "ALGO_UPDATE" && e["o"]["aid"] == id) || e["e"] == "ORDER_TRADE_UPDATE"
        })
        .await;
        if e["e"] == "ORDER_TRADE_UPDATE" {
            if e["o"]["o"] == "MARKET" && e["o"]["S"] == "SELL" {
                seen.push(format!("order {}", e["o"]["X"].as_str().expect("status")));
            }
            continue;
        }
        let status = e["o"]["X"].as_str().expect("status").to_owned();
        if status == "TRIGGERED" {
            assert!(
                e["o"]["ai"].as_str().is_some_and(|ai| !ai.is_empty()),
                "TRIGGERED names the placed order: {e}"
            );
        }
        seen.push(status.clone());
        if status == "FINISHED" {
            break;
        }
    }
    assert_eq!(
        seen,
        ["NEW", "TRIGGERING", "TRIGGERED", "order FILLED", "FINISHED"]
    );
}
