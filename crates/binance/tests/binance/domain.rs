//! The domain operations of `Client`: pagers, strict readings and the reports the app gets
//! instead of wire types.

use std::sync::Arc;

use chrono::DateTime;
use perpdesk_binance::{Client, ExchangeError};
use perpdesk_core::{Interval, PositionSide, Symbol};
use rust_decimal_macros::dec;
use serde_json::{Value, json};

use crate::stub::{self, Scripted, Stub};

fn client(stub: &Stub) -> Client {
    Client::new(Arc::new(stub.signed_rest()))
}

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").expect("symbol")
}

fn income_row(tran_id: i64, time: i64, kind: &str) -> Value {
    json!({"symbol": "BTCUSDT", "incomeType": kind, "income": "-0.01000000", "asset": "USDT",
           "info": kind, "time": time, "tranId": tran_id, "tradeId": "2059192"})
}

fn position_row(side: &str, amount: &str) -> Value {
    json!({"symbol": "BTCUSDT", "positionSide": side, "positionAmt": amount,
           "entryPrice": "30000.0", "breakEvenPrice": "0.0", "markPrice": "30100.0",
           "unRealizedProfit": "1.00000000", "liquidationPrice": "0", "isolatedMargin": "0",
           "notional": "301.00000000", "marginAsset": "USDT", "isolatedWallet": "0",
           "initialMargin": "60.2", "maintMargin": "1.204", "positionInitialMargin": "60.2",
           "openOrderInitialMargin": "0", "adl": 0, "bidNotional": "0", "askNotional": "0",
           "updateTime": 1_646_092_800_000_i64})
}

fn query_value(request: &str, name: &str) -> Option<String> {
    let query = request.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn income_pages_restart_at_the_last_millisecond_and_drop_rows_seen_twice() {
    let stub = stub::start().await;
    let t0 = 1_646_092_800_000_i64;
    // A full page whose last two rows share the millisecond the next page starts at.
    let first: Vec<Value> = (0..1000)
        .map(|i| income_row(i, t0 + i.min(998), "COMMISSION"))
        .collect();
    let second = vec![
        income_row(998, t0 + 998, "COMMISSION"),
        income_row(999, t0 + 998, "COMMISSION"),
        income_row(999, t0 + 998, "REALIZED_PNL"),
        income_row(1000, t0 + 1500, "FUNDING_FEE"),
    ];
    stub.state.push(Scripted::json(200, Value::Array(first)));
    stub.state.push(Scripted::json(200, Value::Array(second)));
    let mut progress = Vec::new();
    let rows = client(&stub)
        .income_from(DateTime::from_timestamp_millis(t0).expect("time"), |n| {
            progress.push(n)
        })
        .await
        .expect("income");
    assert_eq!(
        rows.len(),
        1002,
        "1000 + a realized PnL sharing a tranId + funding"
    );
    assert_eq!(progress, [1000, 1002]);
    let requests = stub.state.requests.lock().expect("lock").clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(
        query_value(&requests[1], "startTime"),
        Some((t0 + 998).to_string())
    );
}

#[tokio::test]
async fn a_position_with_an_unknown_position_side_is_refused_not_read_as_both() {
    let stub = stub::start().await;
    stub.state.push(Scripted::json(
        200,
        json!([
            position_row("BOTH", "0.010"),
            position_row("MIDDLE", "0.010")
        ]),
    ));
    let err = client(&stub)
        .positions()
        .await
        .expect_err("an unreadable side stops the read");
    assert!(
        matches!(err, ExchangeError::Decode { ref detail, .. } if detail.contains("MIDDLE")),
        "{err:?}"
    );

    stub.state.push(Scripted::json(
        200,
        json!([position_row("LONG", "0.010"), position_row("SHORT", "0")]),
    ));
    let reports = client(&stub)
        .position_reports(None)
        .await
        .expect("positions");
    assert_eq!(reports.len(), 1, "flat rows are not positions");
    assert_eq!(reports[0].position.position_side, PositionSide::Long);
    assert_eq!(reports[0].notional, dec!(301));
    assert_eq!(reports[0].unrealized_pnl, dec!(1));
}

#[tokio::test]
async fn closed_candles_never_include_the_one_still_forming() {
    let stub = stub::start().await;
    let hour = 3_600_000_i64;
    let t0 = 1_646_092_800_000_i64;
    let kline = |open: i64| {
        json!([
            open,
            "1.0",
            "2.0",
            "0.5",
            "1.5",
            "10",
            open + hour - 1,
            "15",
            3,
            "5",
            "7.5",
            "0"
        ])
    };
    stub.state
        .push(Scripted::json(200, json!([kline(t0), kline(t0 + hour)])));
    let candles = client(&stub)
        .closed_candles(
            &btc(),
            Interval::H1,
            DateTime::from_timestamp_millis(t0).expect("time"),
            10,
            DateTime::from_timestamp_millis(t0 + hour + 30_000).expect("time"),
        )
        .await
        .expect("candles");
    assert_eq!(candles.len(), 1);
    assert_eq!(candles[0].open_time.timestamp_millis(), t0);
    assert_eq!(candles[0].close, dec!(1.5));
}
