//! Response parsers under mutated and random input: an error is fine, a panic is not.
//!
//! `cargo test` runs a few hundred cases per property; a longer run is
//! `PROPTEST_CASES=100000 cargo test --release -p perpdesk-binance --test binance fuzz`.
//! Any failing input proptest finds is saved under `proptest-regressions/` and replayed first.

use perpdesk_binance::wire::ApiErrorPayload;
use perpdesk_binance::wire::account::{ApiRestrictions, Income, PositionRisk};
use perpdesk_binance::wire::algo::AlgoOrder;
use perpdesk_binance::wire::market::{ExchangeInfo, Kline};
use perpdesk_binance::wire::stream::{CombinedStream, MarketEvent, UserDataEvent};
use perpdesk_binance::wire::trade::Order;
use proptest::prelude::*;
use serde_json::Value;

/// Every payload in the golden fixtures, as text, read once.
fn corpus() -> &'static [String] {
    static CORPUS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(read_corpus)
}

fn read_corpus() -> Vec<String> {
    let mut out = Vec::new();
    let docs = crate::support::fixture("binance-docs.usds-futures.examples.json");
    for e in docs["examples"].as_array().expect("examples") {
        out.push(e["payload"].to_string());
    }
    let connector =
        crate::support::fixture("binance-connector-rust.usds-futures.rest-examples.json");
    collect_payloads(&connector, &mut out);
    assert!(out.len() > 50, "fixtures found: {}", out.len());
    out
}

fn collect_payloads(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "response" || k == "payload" {
                    out.push(v.to_string());
                } else {
                    collect_payloads(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_payloads(v, out)),
        _ => {}
    }
}

fn parse_everything(text: &str) {
    let _ = serde_json::from_str::<ExchangeInfo>(text);
    let _ = serde_json::from_str::<Vec<Kline>>(text);
    let _ = serde_json::from_str::<Order>(text);
    let _ = serde_json::from_str::<AlgoOrder>(text);
    let _ = serde_json::from_str::<Vec<PositionRisk>>(text);
    let _ = serde_json::from_str::<Vec<Income>>(text);
    let _ = serde_json::from_str::<ApiRestrictions>(text);
    let _ = serde_json::from_str::<UserDataEvent>(text);
    let _ = serde_json::from_str::<CombinedStream<MarketEvent>>(text);
    let _ = serde_json::from_str::<ApiErrorPayload>(text);
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, String),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            prop_oneof![
                Just("\"".to_owned()),
                Just("null".to_owned()),
                Just("-1e999".to_owned()),
                Just("[".to_owned()),
                Just("}".to_owned()),
                Just("\"NaN\"".to_owned()),
                Just("18446744073709551616".to_owned()),
                Just("\"\\u0000\"".to_owned()),
                ".{0,8}",
            ]
        )
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<usize>(), 0usize..16).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Truncate(i) => bytes.truncate(i % len),
            Mutation::Flip(i, b) => {
                if !bytes.is_empty() {
                    let at = i % bytes.len();
                    bytes[at] ^= b | 1;
                }
            }
            Mutation::Insert(i, s) => {
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, s.bytes());
            }
            Mutation::Delete(i, n) => {
                if !bytes.is_empty() {
                    let at = i % bytes.len();
                    let end = (at + n).min(bytes.len());
                    bytes.drain(at..end);
                }
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #[test]
    fn mutated_fixtures_never_panic_a_parser(pick in any::<usize>(), mutations in prop::collection::vec(mutation(), 1..6)) {
        let corpus = corpus();
        let text = apply(&corpus[pick % corpus.len()], &mutations);
        parse_everything(&text);
    }

    #[test]
    fn random_text_never_panics_a_parser(text in ".{0,200}") {
        parse_everything(&text);
    }
}
