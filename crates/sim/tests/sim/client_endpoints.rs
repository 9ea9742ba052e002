//! The endpoints third-party clients call that answered 404 -1000 before (issue 17,
//! missing endpoints), each against the connector's example reply in the fixtures
//! (CONTRACT.md section 7) and for what it does.

use perpdesk_binance::Method::{Delete, Get, Post};
use perpdesk_binance::RestClient;
use perpdesk_sim::server::Running;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;

use crate::conformance::same_shape_as_fixture;
use crate::support::{self, KEY, SECRET, code_of, signed};

type Params = Vec<(&'static str, String)>;

async fn call(
    rest: &RestClient,
    method: perpdesk_binance::Method,
    path: &'static str,
    p: &[(&'static str, &str)],
) -> Result<Value, perpdesk_binance::ExchangeError> {
    let p: Params = p.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    rest.call(&signed(method, path), &p).await
}

/// A resting BUY LIMIT of 0.010 BTC at half the last price.
fn resting(sim: &Running) -> Params {
    let price = (support::last(sim, "BTCUSDT") / dec!(2)).round_dp(1);
    vec![
        ("symbol", "BTCUSDT".into()),
        ("side", "BUY".into()),
        ("type", "LIMIT".into()),
        ("timeInForce", "GTC".into()),
        ("quantity", "0.010".into()),
        ("price", price.to_string()),
    ]
}

async fn place(rest: &RestClient, p: &Params) -> Value {
    rest.call(&signed(Post, "/fapi/v1/order"), p)
        .await
        .expect("placed")
}

fn open_count(sim: &Running) -> usize {
    let ex = sim.shared.exchange.lock().expect("lock");
    ex.accounts[ex.account_index(KEY).expect("account")]
        .open_orders()
        .count()
}

/// CONTRACT.md 4, endpoint 27: `GET /fapi/v1/openOrder` returns an order while it is open
/// and -2013 once it is not.
#[tokio::test]
async fn open_order_finds_an_open_order_and_not_a_cancelled_one() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let placed = place(&rest, &resting(&sim)).await;
    let id = placed["orderId"].to_string();
    let found = call(
        &rest,
        Get,
        "/fapi/v1/openOrder",
        &[("symbol", "BTCUSDT"), ("orderId", &id)],
    )
    .await
    .expect("open");
    assert_eq!(
        (found["orderId"].clone(), found["status"].as_str()),
        (placed["orderId"].clone(), Some("NEW"))
    );
    same_shape_as_fixture("GET", "/fapi/v1/openOrder", &found);
    call(
        &rest,
        Delete,
        "/fapi/v1/order",
        &[("symbol", "BTCUSDT"), ("orderId", &id)],
    )
    .await
    .expect("cancelled");
    let gone = call(
        &rest,
        Get,
        "/fapi/v1/openOrder",
        &[("symbol", "BTCUSDT"), ("orderId", &id)],
    )
    .await;
    assert_eq!(code_of(gone), -2013);
}

/// CONTRACT.md 4, endpoint 32: `countdownCancelAll` cancels every open order of the symbol
/// when the countdown runs out unrenewed; renewing pushes it back and 0 stops it.
#[tokio::test]
async fn countdown_cancel_all_cancels_when_not_renewed() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    place(&rest, &resting(&sim)).await;
    let set = call(
        &rest,
        Post,
        "/fapi/v1/countdownCancelAll",
        &[("symbol", "BTCUSDT"), ("countdownTime", "60000")],
    )
    .await
    .expect("set");
    assert_eq!(
        (set["symbol"].as_str(), set["countdownTime"].as_str()),
        (Some("BTCUSDT"), Some("60000"))
    );
    same_shape_as_fixture("POST", "/fapi/v1/countdownCancelAll", &set);
    support::advance(&sim, 40_000);
    call(
        &rest,
        Post,
        "/fapi/v1/countdownCancelAll",
        &[("symbol", "BTCUSDT"), ("countdownTime", "60000")],
    )
    .await
    .expect("renewed");
    support::advance(&sim, 40_000);
    assert_eq!(open_count(&sim), 1, "renewed 40 s ago: still counting");
    support::advance(&sim, 21_000);
    assert_eq!(open_count(&sim), 0, "ran out: cancelled");

    place(&rest, &resting(&sim)).await;
    call(
        &rest,
        Post,
        "/fapi/v1/countdownCancelAll",
        &[("symbol", "BTCUSDT"), ("countdownTime", "1000")],
    )
    .await
    .expect("set");
    call(
        &rest,
        Post,
        "/fapi/v1/countdownCancelAll",
        &[("symbol", "BTCUSDT"), ("countdownTime", "0")],
    )
    .await
    .expect("stopped");
    support::advance(&sim, 5_000);
    assert_eq!(open_count(&sim), 1, "a stopped countdown cancels nothing");
}

/// `commissionRate`, `symbolConfig` and `accountConfig` report the account as it is: the
/// fees charged, each symbol's margin type and leverage, the position mode.
#[tokio::test]
async fn commission_symbol_and_account_config_report_the_account() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let rates = call(
        &rest,
        Get,
        "/fapi/v1/commissionRate",
        &[("symbol", "BTCUSDT")],
    )
    .await
    .expect("rates");
    assert_eq!(
        (
            rates["makerCommissionRate"].as_str(),
            rates["takerCommissionRate"].as_str()
        ),
        (Some("0.0002"), Some("0.0005"))
    );
    same_shape_as_fixture("GET", "/fapi/v1/commissionRate", &rates);

    call(
        &rest,
        Post,
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "7")],
    )
    .await
    .expect("leverage");
    call(
        &rest,
        Post,
        "/fapi/v1/marginType",
        &[("symbol", "BTCUSDT"), ("marginType", "ISOLATED")],
    )
    .await
    .expect("isolated");
    let config = call(
        &rest,
        Get,
        "/fapi/v1/symbolConfig",
        &[("symbol", "BTCUSDT")],
    )
    .await
    .expect("config");
    same_shape_as_fixture("GET", "/fapi/v1/symbolConfig", &config);
    let row = &config[0];
    assert_eq!(
        (row["marginType"].as_str(), row["leverage"].as_i64()),
        (Some("ISOLATED"), Some(7)),
        "{config}"
    );
    assert!(
        row["maxNotionalValue"]
            .as_str()
            .is_some_and(|v| v.parse::<Decimal>().is_ok())
    );
    let all = call(&rest, Get, "/fapi/v1/symbolConfig", &[])
        .await
        .expect("all");
    assert_eq!(
        all.as_array().expect("rows").len(),
        2,
        "BTCUSDT and ETHUSDT: {all}"
    );

    call(
        &rest,
        Post,
        "/fapi/v1/positionSide/dual",
        &[("dualSidePosition", "true")],
    )
    .await
    .expect("hedge");
    let account = call(&rest, Get, "/fapi/v1/accountConfig", &[])
        .await
        .expect("account");
    same_shape_as_fixture("GET", "/fapi/v1/accountConfig", &account);
    assert_eq!(account["dualSidePosition"], true);
}

/// v2 `balance` answers as v3 does; v2 `positionRisk` lists every symbol, flat ones too
/// (CONTRACT.md 4.2: v3 lists only symbols with a position).
#[tokio::test]
async fn v2_balance_and_position_risk_are_served() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let v2 = call(&rest, Get, "/fapi/v2/balance", &[]).await.expect("v2");
    let v3 = call(&rest, Get, "/fapi/v3/balance", &[]).await.expect("v3");
    assert_eq!(v2[0]["balance"], v3[0]["balance"]);
    same_shape_as_fixture("GET", "/fapi/v2/balance", &v2);
    let risk = call(&rest, Get, "/fapi/v2/positionRisk", &[])
        .await
        .expect("v2 risk");
    same_shape_as_fixture("GET", "/fapi/v2/positionRisk", &risk);
    let symbols: Vec<&str> = risk
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["symbol"].as_str().expect("symbol"))
        .collect();
    assert_eq!(symbols, ["BTCUSDT", "ETHUSDT"]);
    assert!(
        risk.as_array()
            .expect("rows")
            .iter()
            .all(|r| r["positionAmt"] == "0" && r["liquidationPrice"] == "0")
    );
    assert_eq!(
        code_of(
            call(
                &rest,
                Get,
                "/fapi/v2/positionRisk",
                &[("symbol", "NOPEUSDT")]
            )
            .await
        ),
        -1121
    );
}

/// `order/test` runs every check of a new order and places nothing: a valid order is
/// answered, a refused one gets the code the order endpoint gives.
#[tokio::test]
async fn order_test_checks_like_an_order_and_places_nothing() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let tested: Value = rest
        .call(&signed(Post, "/fapi/v1/order/test"), &resting(&sim))
        .await
        .expect("valid");
    assert_eq!(tested["status"], "NEW");
    assert_eq!(open_count(&sim), 0);
    let too_big: Params = vec![
        ("symbol", "BTCUSDT".into()),
        ("side", "BUY".into()),
        ("type", "MARKET".into()),
        ("quantity", "50".into()),
    ];
    let refused = rest
        .call(&signed(Post, "/fapi/v1/order/test"), &too_big)
        .await;
    let placed: Result<Value, _> = rest.call(&signed(Post, "/fapi/v1/order"), &too_big).await;
    assert_eq!(code_of(refused), -2019);
    assert_eq!(code_of(placed), -2019);
    let ex = sim.shared.exchange.lock().expect("lock");
    assert!(
        ex.accounts[ex.account_index(KEY).expect("account")]
            .orders
            .is_empty()
    );
}

/// `markPriceKlines` and `indexPriceKlines` (`pair`) are kline rows of the mark price: the
/// forming candle closes at the mark price now, and the volume columns are zero.
#[tokio::test]
async fn mark_and_index_price_klines_follow_the_mark_price() {
    let sim = support::start().await;
    let mark = sim
        .shared
        .exchange
        .lock()
        .expect("lock")
        .market
        .mark_price("BTCUSDT", sim.shared.clock.now_ms())
        .expect("mark");
    for (path, instrument) in [
        ("/fapi/v1/markPriceKlines", "symbol"),
        ("/fapi/v1/indexPriceKlines", "pair"),
    ] {
        let url = format!(
            "{}{path}?{instrument}=BTCUSDT&interval=1h&limit=3",
            sim.url()
        );
        let text = reqwest::get(url)
            .await
            .expect("sent")
            .text()
            .await
            .expect("body");
        let rows: Value = serde_json::from_str(&text).expect("json");
        let rows = rows.as_array().unwrap_or_else(|| panic!("{path}: {text}"));
        assert_eq!(rows.len(), 3, "{path}");
        let last = rows.last().expect("a row");
        assert_eq!(last.as_array().expect("row").len(), 12);
        let close: Decimal = last[4].as_str().expect("close").parse().expect("decimal");
        assert_eq!(close, mark, "{path}: {last}");
        assert_eq!(last[5], "0");
    }
}

/// CONTRACT.md 4.3: a GTD order needs `goodTillDate` (-1102), more than 600 s ahead (-5040);
/// Binance keeps its whole seconds. It works like GTC until that date and then expires
/// (ORDER_TRADE_UPDATE EXPIRED); exchangeInfo lists GTD, which was refused with -1115.
#[tokio::test]
async fn a_gtd_order_rests_until_its_date_and_then_expires() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let mut events = perpdesk_sim::server::subscribe(&sim.shared);
    let gtd = |at: Option<i64>| {
        let mut p = resting(&sim);
        p.retain(|(k, _)| *k != "timeInForce");
        p.push(("timeInForce", "GTD".into()));
        if let Some(at) = at {
            p.push(("goodTillDate", at.to_string()));
        }
        p
    };
    let now = sim.shared.clock.now_ms();
    let missing: Result<Value, _> = rest.call(&signed(Post, "/fapi/v1/order"), &gtd(None)).await;
    assert_eq!(code_of(missing), -1102);
    let soon: Result<Value, _> = rest
        .call(&signed(Post, "/fapi/v1/order"), &gtd(Some(now + 500_000)))
        .await;
    assert_eq!(code_of(soon), -5040);
    assert_eq!(open_count(&sim), 0);

    let placed = place(&rest, &gtd(Some(now + 3_600_123))).await;
    let until = now + 3_600_123 - (now + 3_600_123).rem_euclid(1000);
    assert_eq!(
        (
            placed["timeInForce"].as_str(),
            placed["goodTillDate"].as_i64()
        ),
        (Some("GTD"), Some(until))
    );
    support::advance(&sim, 1_800_000);
    assert_eq!(open_count(&sim), 1, "before its date it rests");
    support::advance(&sim, 1_900_000);
    assert_eq!(open_count(&sim), 0, "after its date it is gone");
    let expired = support::event(&mut events, |e| {
        e["e"] == "ORDER_TRADE_UPDATE"
            && e["o"]["X"] == "EXPIRED"
            && e["o"]["i"] == placed["orderId"]
    })
    .await;
    assert_eq!(expired["o"]["f"], "GTD");
    assert_eq!(expired["o"]["gtd"].as_i64(), Some(until));
}

/// CONTRACT.md 4, `GET /fapi/v1/income`: `symbol` keeps that symbol's rows only (a transfer has
/// none), `startTime`/`endTime` bound the rows inclusively, and with neither the last 7 days
/// are returned (the official connector's `get_income_history(symbol=…)` found the transfer
/// and every symbol's rows before).
#[tokio::test]
async fn income_is_filtered_by_symbol_and_window_and_defaults_to_the_last_seven_days() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let market = |side: &str| {
        vec![
            ("symbol", "BTCUSDT".to_owned()),
            ("side", side.to_owned()),
            ("type", "MARKET".to_owned()),
            ("quantity", "0.010".to_owned()),
        ]
    };
    // The transfer is stamped when the account is made; trade a second later.
    sim.shared.clock.advance(1_000).expect("clock");
    let opened = sim.shared.clock.now_ms();
    place(&rest, &market("BUY")).await;
    let types = |rows: &Value| -> Vec<(String, String)> {
        rows.as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    r["incomeType"].as_str().expect("type").to_owned(),
                    r["symbol"].as_str().expect("symbol").to_owned(),
                )
            })
            .collect()
    };
    let all = call(&rest, Get, "/fapi/v1/income", &[]).await.expect("all");
    assert_eq!(
        types(&all),
        [("TRANSFER", ""), ("COMMISSION", "BTCUSDT")].map(|(t, s)| (t.to_owned(), s.to_owned())),
        "{all}"
    );
    let btc = call(&rest, Get, "/fapi/v1/income", &[("symbol", "BTCUSDT")])
        .await
        .expect("btc");
    assert_eq!(
        types(&btc),
        [("COMMISSION".to_owned(), "BTCUSDT".to_owned())]
    );
    let eth = call(&rest, Get, "/fapi/v1/income", &[("symbol", "ETHUSDT")])
        .await
        .expect("eth");
    assert_eq!(eth, serde_json::json!([]));
    let before = (opened - 1).to_string();
    let until_open = call(&rest, Get, "/fapi/v1/income", &[("endTime", &before)])
        .await
        .expect("until open");
    assert_eq!(types(&until_open), [("TRANSFER".to_owned(), String::new())]);

    sim.shared.clock.advance(8 * 86_400_000).expect("clock");
    let recent = call(&rest, Get, "/fapi/v1/income", &[("incomeType", "TRANSFER")])
        .await
        .expect("recent");
    assert_eq!(recent, serde_json::json!([]), "older than 7 days");
    let since = call(
        &rest,
        Get,
        "/fapi/v1/income",
        &[("startTime", "0"), ("incomeType", "TRANSFER")],
    )
    .await
    .expect("since 0");
    assert_eq!(types(&since), [("TRANSFER".to_owned(), String::new())]);
}
