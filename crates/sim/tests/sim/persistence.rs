//! Paper-mode persistence: the exchange saved mid-session (atomically) and loaded into a new
//! server answers every account query identically, and trading continues from there.

use perpdesk_binance::Endpoint;
use perpdesk_binance::endpoints;
use perpdesk_binance::wire::algo::NewAlgoOrderRequest;
use perpdesk_binance::wire::trade::{NewOrderRequest, OrderRef};
use perpdesk_binance::wire::{OrderType, PositionSide, Side, TimeInForce};
use perpdesk_sim::exchange::{Exchange, StateError};
use perpdesk_sim::server::Running;
use perpdesk_sim::testing::{self, TestSim};
use rust_decimal_macros::dec;
use serde_json::Value;

use crate::support::{self, KEY, SECRET};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("perpdesk-sim-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

async fn resume(path: &std::path::Path) -> Running {
    TestSim::resume(Exchange::load(testing::market(), path).expect("loads"))
        .start()
        .await
}

/// Query parameters of one call.
type Query = Vec<(&'static str, String)>;

/// Every account-side reply of `sim`, raw JSON.
async fn books(sim: &Running) -> Vec<(String, Value)> {
    let rest = support::client(sim, KEY, SECRET).raw().rest().clone();
    let sym = || ("symbol", "BTCUSDT".to_owned());
    let calls: Vec<(&str, Endpoint, Query)> = vec![
        ("account", endpoints::ACCOUNT, vec![]),
        ("balance", endpoints::BALANCE, vec![]),
        ("positionRisk", endpoints::POSITION_RISK, vec![]),
        ("dual", endpoints::POSITION_SIDE_DUAL_GET, vec![]),
        ("openOrders", endpoints::OPEN_ORDERS, vec![]),
        ("allOrders", endpoints::ALL_ORDERS, vec![sym()]),
        ("openAlgoOrders", endpoints::OPEN_ALGO_ORDERS, vec![]),
        ("allAlgoOrders", endpoints::ALL_ALGO_ORDERS, vec![sym()]),
        ("userTrades", endpoints::USER_TRADES, vec![sym()]),
        (
            "income",
            endpoints::INCOME,
            vec![("startTime", "0".into()), ("limit", "1000".into())],
        ),
    ];
    let mut out = Vec::new();
    for (name, endpoint, params) in calls {
        let v: Value = rest
            .call(&endpoint, &params)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((name.to_owned(), v));
    }
    out
}

#[tokio::test]
async fn a_saved_session_loads_into_a_new_server_identically_and_trading_continues() {
    let dir = scratch("session");
    let path = dir.join("paper.json");
    let sim = support::start().await;
    let raw = support::client(&sim, KEY, SECRET).raw().clone();
    raw.change_position_side_dual(true).await.expect("hedge");
    let mut long = NewOrderRequest::market("BTCUSDT", Side::Buy, dec!(0.020));
    long.position_side = Some(PositionSide::Long);
    raw.new_order(&long).await.expect("long");
    let price = raw.ticker_price("BTCUSDT").await.expect("price").price;
    let mut resting = NewOrderRequest::limit(
        "BTCUSDT",
        Side::Buy,
        dec!(0.010),
        (price * dec!(0.8)).round_dp(1),
        TimeInForce::Gtc,
    );
    resting.position_side = Some(PositionSide::Long);
    resting.new_client_order_id = Some("keep-me".into());
    raw.new_order(&resting).await.expect("resting");
    let mut stop = NewAlgoOrderRequest::conditional("BTCUSDT", Side::Sell, OrderType::StopMarket);
    stop.position_side = Some(PositionSide::Long);
    stop.trigger_price = Some((price * dec!(0.7)).round_dp(1));
    stop.close_position = Some(true);
    stop.client_algo_id = Some("keep-stop".into());
    raw.new_algo_order(&stop).await.expect("stop");
    // Across a funding time, so the income has FUNDING_FEE rows too.
    support::advance(&sim, 9 * 3_600_000);

    sim.shared.save(&path).expect("saved");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["paper.json"],
        "no temporary file is left behind"
    );
    let saved = sim.shared.exchange.lock().expect("lock").snapshot();

    let resumed = resume(&path).await;
    assert_eq!(resumed.shared.clock.now_ms(), sim.shared.clock.now_ms());
    assert_eq!(
        resumed.shared.exchange.lock().expect("lock").snapshot(),
        saved
    );
    let before = books(&sim).await;
    let after = books(&resumed).await;
    for ((name, a), (_, b)) in before.iter().zip(&after) {
        assert_eq!(a, b, "{name} differs after loading");
    }
    let income = &after.iter().find(|(n, _)| n == "income").expect("income").1;
    assert!(
        income
            .as_array()
            .expect("rows")
            .iter()
            .any(|r| r["incomeType"] == "FUNDING_FEE"),
        "{income}"
    );

    // Trading continues on the loaded server: the resting order is there to cancel, the
    // position closes, and new ids follow the saved ones.
    let raw2 = support::client(&resumed, KEY, SECRET).raw().clone();
    let cancelled = raw2
        .cancel_order("BTCUSDT", &OrderRef::ClientOrderId("keep-me".into()))
        .await
        .expect("cancel the saved order");
    let mut close = NewOrderRequest::market("BTCUSDT", Side::Sell, dec!(0.020));
    close.position_side = Some(PositionSide::Long);
    let closed = raw2.new_order(&close).await.expect("close");
    assert!(closed.order_id > cancelled.order_id);
    assert!(
        raw2.position_risk(None)
            .await
            .expect("positions")
            .is_empty()
    );
    // The stop expires when it triggers with nothing to close; it is still open now.
    assert_eq!(raw2.open_algo_orders(None).await.expect("algo").len(), 1);
    // The original server is untouched by what the copy did.
    assert_eq!(raw.open_orders(None).await.expect("open").len(), 1);

    // Saving again replaces the file in place.
    resumed.shared.save(&path).expect("saved again");
    let reloaded = Exchange::load(testing::market(), &path).expect("reloads");
    assert_eq!(
        reloaded.snapshot(),
        resumed.shared.exchange.lock().expect("lock").snapshot()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn damaged_or_foreign_state_files_are_refused_with_a_reason() {
    let dir = scratch("bad");
    let half = dir.join("half.json");
    std::fs::write(&half, b"{\"version\": 1, \"accounts\": [").expect("write");
    assert!(matches!(
        Exchange::load(testing::market(), &half),
        Err(StateError::Format { .. })
    ));
    let sim = support::start().await;
    let good = dir.join("good.json");
    sim.shared.save(&good).expect("saved");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&good).expect("read")).expect("json");
    v["version"] = Value::from(99);
    let other = dir.join("other.json");
    std::fs::write(&other, serde_json::to_vec(&v).expect("json")).expect("write");
    let err = Exchange::load(testing::market(), &other).expect_err("other version");
    assert!(err.to_string().contains("version 99"), "{err}");
    assert!(matches!(
        Exchange::load(testing::market(), &dir.join("missing.json")),
        Err(StateError::Io { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
