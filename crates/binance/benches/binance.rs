//! Speed of the hot paths: signing an order, parsing klines and exchangeInfo.
//! Targets (issue 3): sign + serialize a new order ≤ 5 µs; 1,500 klines ≤ 1 ms;
//! exchangeInfo with ~400 symbols ≤ 20 ms.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use perpdesk_binance::signing::{HmacSigner, signed_query};
use perpdesk_binance::wire::market::{ExchangeInfo, Kline};
use perpdesk_binance::wire::trade::NewOrderRequest;
use perpdesk_binance::wire::{NewOrderRespType, Side, TimeInForce};
use rust_decimal_macros::dec;
use serde_json::Value;

fn shared_dir() -> PathBuf {
    std::env::var_os("PERPDESK_SHARED").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
        PathBuf::from,
    )
}

fn sign_new_order(c: &mut Criterion) {
    let signer = HmacSigner::new(
        "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83",
        "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9",
    );
    let mut order = NewOrderRequest::limit(
        "BTCUSDT",
        Side::Buy,
        dec!(0.002),
        dec!(43250.10),
        TimeInForce::Gtc,
    );
    order.new_client_order_id = Some("pd-1f3a9c-e0".into());
    order.new_order_resp_type = Some(NewOrderRespType::Result);
    c.bench_function("sign + serialize new order", |b| {
        b.iter(|| {
            signed_query(
                &black_box(&order).to_query(),
                5_000,
                black_box(1_764_000_000_000),
                &signer,
            )
        });
    });
}

/// 1,500 klines shaped as Binance sends them (strings for prices, numbers for times).
fn klines_json() -> String {
    let mut rows = Vec::with_capacity(1_500);
    let mut price = 43_000.0_f64;
    for i in 0..1_500_i64 {
        let open_time = 1_700_000_000_000 + i * 3_600_000;
        let close = price + ((i * 7919) % 400 - 200) as f64 / 10.0;
        rows.push(format!(
            "[{open_time},\"{price:.1}\",\"{:.1}\",\"{:.1}\",\"{close:.1}\",\"{:.3}\",{},\"{:.5}\",{},\"{:.3}\",\"{:.5}\",\"0\"]",
            price.max(close) + 12.3,
            price.min(close) - 9.8,
            1_234.567 + i as f64,
            open_time + 3_599_999,
            52_345_678.123_45 + i as f64,
            10_000 + i,
            617.283 + i as f64,
            26_172_839.061_72 + i as f64,
        ));
        price = close;
    }
    format!("[{}]", rows.join(","))
}

/// The documented exchangeInfo with its one symbol repeated as 400 symbols.
fn exchange_info_json() -> String {
    let path = shared_dir().join("binance/fixtures/binance-docs.usds-futures.examples.json");
    let doc: Value = serde_json::from_slice(&std::fs::read(path).expect("fixtures")).expect("json");
    let mut info = doc["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .find(|e| e["name"] == "GET /fapi/v1/exchangeInfo")
        .expect("exchangeInfo example")["payload"]
        .clone();
    let template = info["symbols"][0].clone();
    let symbols: Vec<Value> = (0..400)
        .map(|i| {
            let mut s = template.clone();
            s["symbol"] = Value::String(format!("SYM{i}USDT"));
            s["pair"] = Value::String(format!("SYM{i}USDT"));
            s
        })
        .collect();
    info["symbols"] = Value::Array(symbols);
    info.to_string()
}

fn parse(c: &mut Criterion) {
    let klines = klines_json();
    let parsed: Vec<Kline> = serde_json::from_str(&klines).expect("klines parse");
    assert_eq!(parsed.len(), 1_500);
    c.bench_function("parse 1500 klines", |b| {
        b.iter(|| serde_json::from_str::<Vec<Kline>>(black_box(&klines)).expect("parse"));
    });
    let info = exchange_info_json();
    let parsed: ExchangeInfo = serde_json::from_str(&info).expect("exchangeInfo parses");
    assert_eq!(parsed.symbols.len(), 400);
    c.bench_function("parse exchangeInfo 400 symbols", |b| {
        b.iter(|| serde_json::from_str::<ExchangeInfo>(black_box(&info)).expect("parse"));
    });
}

criterion_group!(benches, sign_new_order, parse);
criterion_main!(benches);
