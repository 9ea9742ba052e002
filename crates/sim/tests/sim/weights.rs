//! Request weights that grow with what a request asks for, and the MAX_NUM_ORDERS cap
//! (issue 17, limits). Each weight is read from `X-MBX-USED-WEIGHT-1M` of the first request
//! a fresh simulator serves, which is that request's weight whatever minute it falls in.

use perpdesk_sim::exchange::{Side, TimeInForce};
use perpdesk_sim::params::NewOrder;
use rust_decimal_macros::dec;

use crate::support::{self, KEY, START};

/// The weight `path?query` is charged, as the first request of a fresh simulator; `signed`
/// requests carry `query`'s parameters, a timestamp and a signature.
async fn weight_of(path: &str, query: &str, signed: bool) -> u32 {
    let sim = support::start().await;
    let query = if signed {
        let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let params: Vec<(&str, String)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        perpdesk_binance::signing::signed_query(
            &params,
            5_000,
            sim.shared.clock.now_ms(),
            &perpdesk_binance::HmacSigner::new(KEY, support::SECRET),
        )
    } else {
        query.to_owned()
    };
    let reply = reqwest::Client::new()
        .get(format!("{}{path}?{query}", sim.url()))
        .header("X-MBX-APIKEY", KEY)
        .send()
        .await
        .expect("sent");
    assert_eq!(reply.status().as_u16(), 200, "{path}?{query}");
    reply
        .headers()
        .get("X-MBX-USED-WEIGHT-1M")
        .expect("weight header")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("a number")
}

/// CONTRACT.md 4, endpoints 4 and 5: depth weighs 2 (5–50 levels), 5 (100), 10 (500, the
/// default), 20 (1000); klines 1 (limit under 100), 2 (under 500), 5 (to 1000, the default
/// 500 included), 10 (more). The same table serves mark and index price klines.
#[tokio::test]
async fn depth_and_klines_weigh_more_with_a_larger_limit() {
    for (query, weight) in [
        ("symbol=BTCUSDT&limit=5", 2),
        ("symbol=BTCUSDT&limit=50", 2),
        ("symbol=BTCUSDT&limit=100", 5),
        ("symbol=BTCUSDT", 10),
        ("symbol=BTCUSDT&limit=1000", 20),
    ] {
        assert_eq!(
            weight_of("/fapi/v1/depth", query, false).await,
            weight,
            "depth {query}"
        );
    }
    for (query, weight) in [
        ("symbol=BTCUSDT&interval=1h&limit=99", 1),
        ("symbol=BTCUSDT&interval=1h&limit=100", 2),
        ("symbol=BTCUSDT&interval=1h", 5),
        ("symbol=BTCUSDT&interval=1h&limit=1000", 5),
        ("symbol=BTCUSDT&interval=1h&limit=1500", 10),
    ] {
        assert_eq!(
            weight_of("/fapi/v1/klines", query, false).await,
            weight,
            "klines {query}"
        );
    }
}

/// CONTRACT.md 4, endpoints 6–9, 26 and 38: leaving out `symbol` asks for every symbol and
/// weighs more (ticker/price 2, 24hr 40, bookTicker 5, premiumIndex 10, openOrders and
/// openAlgoOrders 40), and the header shows the whole weight.
#[tokio::test]
async fn symbol_less_forms_weigh_what_binance_charges() {
    for (path, one, all) in [
        ("/fapi/v1/ticker/price", 1, 2),
        ("/fapi/v2/ticker/price", 1, 2),
        ("/fapi/v1/ticker/24hr", 1, 40),
        ("/fapi/v1/ticker/bookTicker", 2, 5),
        ("/fapi/v1/premiumIndex", 1, 10),
    ] {
        assert_eq!(
            weight_of(path, "symbol=BTCUSDT", false).await,
            one,
            "{path} with a symbol"
        );
        assert_eq!(weight_of(path, "", false).await, all, "{path} for all");
    }
    // perpdesk-binance paces by the same weights (it counted the symbol-less forms as 1).
    for (path, endpoint) in [
        (
            "/fapi/v1/openOrders",
            perpdesk_binance::endpoints::open_orders as fn(bool) -> _,
        ),
        (
            "/fapi/v1/openAlgoOrders",
            perpdesk_binance::endpoints::open_algo_orders,
        ),
    ] {
        assert_eq!(
            weight_of(path, "symbol=BTCUSDT", true).await,
            1,
            "{path} with a symbol"
        );
        assert_eq!(weight_of(path, "", true).await, 40, "{path} for all");
        assert_eq!(
            (endpoint(true).weight, endpoint(false).weight),
            (1, 40),
            "{path}: the client's table"
        );
        assert_eq!(endpoint(false).path, path);
    }
}

/// CONTRACT.md 4.1, filters: MAX_NUM_ORDERS (200 in exchangeInfo) caps an account's open
/// orders per symbol; one more is -2025 "Reach max open order limit." and is not placed.
/// Other symbols are not affected, and a cancel makes room.
#[tokio::test]
async fn the_two_hundred_and_first_open_order_of_a_symbol_is_refused_with_2025() {
    let sim = support::start_with(|ex| {
        let a = ex.account_index(KEY).expect("KEY's account");
        let price = (ex.market.last_price("BTCUSDT", START).expect("price") / dec!(2)).round_dp(1);
        for _ in 0..200 {
            let order = NewOrder::limit("BTCUSDT", Side::Buy, dec!(0.002), price, TimeInForce::Gtc);
            ex.new_order(a, &order, START).expect("resting");
        }
    })
    .await;
    let price = (support::last(&sim, "BTCUSDT") / dec!(2)).round_dp(1);
    let btc = vec![
        ("symbol", "BTCUSDT".into()),
        ("side", "BUY".into()),
        ("type", "LIMIT".into()),
        ("timeInForce", "GTC".into()),
        ("quantity", "0.002".into()),
        ("price", price.to_string()),
    ];
    let refused = support::send(&sim, reqwest::Method::POST, "/fapi/v1/order", KEY, &btc).await;
    assert_eq!(
        (refused.status, refused.body["code"].as_i64()),
        (400, Some(-2025)),
        "{}",
        refused.body
    );
    assert_eq!(refused.body["msg"], "Reach max open order limit.");
    let open = support::send(&sim, reqwest::Method::GET, "/fapi/v1/openOrders", KEY, &[]).await;
    assert_eq!(open.body.as_array().expect("array").len(), 200);

    let eth_price = (support::last(&sim, "ETHUSDT") / dec!(2)).round_dp(2);
    let eth = vec![
        ("symbol", "ETHUSDT".into()),
        ("side", "BUY".into()),
        ("type", "LIMIT".into()),
        ("timeInForce", "GTC".into()),
        ("quantity", "0.010".into()),
        ("price", eth_price.to_string()),
    ];
    let placed = support::send(&sim, reqwest::Method::POST, "/fapi/v1/order", KEY, &eth).await;
    assert_eq!(placed.status, 200, "{}", placed.body);

    let first = open.body[0]["orderId"].to_string();
    let cancel = vec![("symbol", "BTCUSDT".into()), ("orderId", first)];
    let cancelled = support::send(
        &sim,
        reqwest::Method::DELETE,
        "/fapi/v1/order",
        KEY,
        &cancel,
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let room = support::send(&sim, reqwest::Method::POST, "/fapi/v1/order", KEY, &btc).await;
    assert_eq!(room.status, 200, "{}", room.body);
}
