//! MARGIN_CALL on the user stream: sent when a position's margin ratio rises through the
//! margin-call level, once per crossing, on a synthetic price path so the crossings are known.

use std::time::Duration;

use perpdesk_binance::endpoints;
use perpdesk_binance::wire::stream::UserDataEvent;
use perpdesk_sim::exchange::MARGIN_CALL_RATIO;
use perpdesk_sim::market::data::CandleRow;
use perpdesk_sim::market::{MarketData, SymbolSpec};
use perpdesk_sim::testing::TestSim;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;

use crate::support::{self, KEY, SECRET};

const HOUR: i64 = 3_600_000;
const T0: i64 = 1_700_000_000_000 - 1_700_000_000_000 % HOUR;

/// Flat hourly candles at `prices`, one per hour from `T0`.
fn path(prices: &[Decimal]) -> Vec<CandleRow> {
    prices
        .iter()
        .enumerate()
        .map(|(i, &p)| CandleRow {
            open_time_ms: T0 + i64::try_from(i).expect("hours") * HOUR,
            open: p,
            high: p,
            low: p,
            close: p,
            volume: dec!(1),
        })
        .collect()
}

#[tokio::test]
async fn a_margin_call_is_sent_once_per_crossing_of_the_level() {
    // 0.010 BTC long at 40,000 with 20x isolated: 20 USDT of margin, 0.4 % maintenance. At
    // 38,190 the margin left is 1.9 against 1.5276 maintenance (80.4 %): a margin call, not a
    // liquidation; 39,000 brings it back to 15.6 %; 38,100 liquidates.
    let prices = [
        dec!(40000),
        dec!(40000),
        dec!(38190),
        dec!(38190),
        dec!(38190),
        dec!(39000),
        dec!(38190),
        dec!(38190),
        dec!(38100),
        dec!(38100),
        dec!(38100),
        dec!(38100),
    ];
    let market =
        MarketData::from_rows(SymbolSpec::btcusdt(), &path(&prices), None, &[], Vec::new())
            .expect("market");
    let sim = TestSim::on(market, T0 + 60_000)
        .account(KEY, SECRET, dec!(1000))
        .start()
        .await;
    let client = support::client(&sim, KEY, SECRET);
    let rest = client.raw().rest().clone();
    let _: Value = rest
        .call(
            &endpoints::LEVERAGE,
            &[("symbol", "BTCUSDT".into()), ("leverage", "20".into())],
        )
        .await
        .expect("leverage");
    let _: Value = rest
        .call(
            &endpoints::MARGIN_TYPE,
            &[
                ("symbol", "BTCUSDT".into()),
                ("marginType", "ISOLATED".into()),
            ],
        )
        .await
        .expect("isolated");
    let mut events = perpdesk_sim::server::subscribe(&sim.shared);
    let _: Value = rest
        .call(
            &endpoints::ORDER_NEW,
            &[
                ("symbol", "BTCUSDT".into()),
                ("side", "BUY".into()),
                ("type", "MARKET".into()),
                ("quantity", "0.010".into()),
            ],
        )
        .await
        .expect("long");

    // Minute steps through ten hours: the ratio sits above the level for hours at a time.
    for _ in 0..600 {
        sim.shared.clock.advance(60_000).expect("clock");
        sim.shared.tick();
    }
    let mut calls = Vec::new();
    let mut liquidated_at = None;
    while let Ok(Ok((_, e))) = tokio::time::timeout(Duration::from_millis(200), events.recv()).await
    {
        if e["e"] == "MARGIN_CALL" {
            calls.push((*e).clone());
        }
        if e["e"] == "ORDER_TRADE_UPDATE" && e["o"]["o"] == "LIQUIDATION" {
            liquidated_at = e["E"].as_i64();
        }
    }
    let hour_of = |e: &Value| (e["E"].as_i64().expect("time") - T0) / HOUR;
    assert_eq!(
        calls.iter().map(hour_of).collect::<Vec<_>>(),
        vec![2, 6],
        "one call per crossing: {calls:?}"
    );
    let liquidated_at = liquidated_at.expect("liquidated at 38,100");
    assert!(
        calls
            .iter()
            .all(|c| c["E"].as_i64().expect("time") < liquidated_at)
    );
    let p = &calls[0]["p"][0];
    assert_eq!(
        (p["s"].as_str(), p["ps"].as_str(), p["mt"].as_str()),
        (Some("BTCUSDT"), Some("BOTH"), Some("ISOLATED"))
    );
    assert_eq!(
        (p["pa"].as_str(), p["mp"].as_str(), p["iw"].as_str()),
        (Some("0.01"), Some("38190"), Some("20"))
    );
    let (up, mm): (Decimal, Decimal) = (
        p["up"].as_str().expect("up").parse().expect("up"),
        p["mm"].as_str().expect("mm").parse().expect("mm"),
    );
    assert_eq!((up, mm), (dec!(-18.1), dec!(1.5276)));
    assert!(mm >= (dec!(20) + up) * MARGIN_CALL_RATIO);
    assert!(
        calls[0].get("cw").is_none(),
        "cw only comes with a cross margin call"
    );
    match serde_json::from_value::<UserDataEvent>(calls[0].clone()).expect("parses") {
        UserDataEvent::MarginCall(m) => assert_eq!(m.positions.len(), 1),
        other => panic!("not a margin call: {other:?}"),
    }
}

#[tokio::test]
async fn a_cross_margin_call_carries_the_cross_wallet() {
    // 25 USDT of wallet behind a 0.010 BTC cross long at 20x: the wallet is the margin.
    // At 37,700 the equity left is about 1.8 against 1.508 of maintenance (84 %).
    let prices = [
        dec!(40000),
        dec!(40000),
        dec!(37700),
        dec!(37700),
        dec!(37700),
    ];
    let market =
        MarketData::from_rows(SymbolSpec::btcusdt(), &path(&prices), None, &[], Vec::new())
            .expect("market");
    let sim = TestSim::on(market, T0 + 60_000)
        .account(KEY, SECRET, dec!(25))
        .start()
        .await;
    let rest = support::client(&sim, KEY, SECRET).raw().rest().clone();
    let mut events = perpdesk_sim::server::subscribe(&sim.shared);
    let _: Value = rest
        .call(
            &endpoints::ORDER_NEW,
            &[
                ("symbol", "BTCUSDT".into()),
                ("side", "BUY".into()),
                ("type", "MARKET".into()),
                ("quantity", "0.010".into()),
            ],
        )
        .await
        .expect("long");
    for _ in 0..180 {
        sim.shared.clock.advance(60_000).expect("clock");
        sim.shared.tick();
    }
    let call = support::event(&mut events, |e| e["e"] == "MARGIN_CALL").await;
    let wallet = sim.shared.exchange.lock().expect("lock").accounts[0].wallet;
    assert_eq!(
        call["cw"].as_str(),
        Some(wallet.normalize().to_string().as_str())
    );
    assert_eq!(call["p"][0]["mt"], "CROSSED");
    let mut problems = Vec::new();
    let docs = crate::conformance::docs_example("MARGIN_CALL");
    crate::conformance::same_shape("MARGIN_CALL", &docs, &call, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    while let Ok(Ok((_, e))) = tokio::time::timeout(Duration::from_millis(200), events.recv()).await
    {
        assert_ne!(
            e["e"], "MARGIN_CALL",
            "only one call while the ratio stays above the level"
        );
    }
}
