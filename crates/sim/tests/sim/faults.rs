//! Injected faults against perpdesk-binance's exactly-once placement: the order the exchange
//! executed is found, never placed twice; the one it refused is not placed at all.

use std::sync::Arc;
use std::time::Duration;

use perpdesk_binance::idempotent::LookupPolicy;
use perpdesk_binance::rest::LocalClock;
use perpdesk_binance::{
    BaseUrls, Client, ExchangeError, HmacSigner, Placed, RestClient, RestConfig, endpoints,
};
use perpdesk_core::{ClientOrderId, OrderKind, OrderRequest, PositionSide, Side, Symbol};
use perpdesk_sim::faults::{FaultKind, FaultRule, Faults};
use perpdesk_sim::server::Running;
use rust_decimal_macros::dec;
use serde_json::Value;

use crate::support::{self, KEY, SECRET};

fn client(sim: &Running, timeout: Duration) -> Client {
    let urls = BaseUrls {
        rest: sim.url(),
        spot_rest: None,
        streams: String::new(),
    };
    let shared = sim.shared.clone();
    let clock: LocalClock = Arc::new(move || shared.clock.now_ms());
    let config = RestConfig {
        timeout,
        ..RestConfig::default()
    };
    let rest = RestClient::with_clock(
        &urls,
        Some(Arc::new(HmacSigner::new(KEY, SECRET))),
        config,
        clock,
    )
    .expect("client");
    Client::new(Arc::new(rest)).with_lookup_policy(LookupPolicy {
        attempts: 3,
        first_pause: Duration::from_millis(20),
        resends: 1,
    })
}

fn buy(id: &str) -> OrderRequest {
    OrderRequest {
        symbol: Symbol::new("BTCUSDT").expect("symbol"),
        side: Side::Buy,
        position_side: PositionSide::Both,
        kind: OrderKind::Market,
        quantity: Some(dec!(0.010)),
        reduce_only: false,
        close_position: false,
        client_order_id: ClientOrderId::new(id).expect("id"),
    }
}

fn on_new_order(kind: FaultKind) -> Faults {
    Faults::new(
        42,
        vec![FaultRule {
            path: "/fapi/v1/order".into(),
            method: Some("POST".into()),
            kind,
            probability: 1.0,
            count: Some(1),
        }],
    )
}

async fn orders(client: &Client) -> Vec<Value> {
    let all: Value = client
        .raw()
        .rest()
        .call(&endpoints::ALL_ORDERS, &[("symbol", "BTCUSDT".into())])
        .await
        .expect("all orders");
    all.as_array().expect("array").clone()
}

#[tokio::test]
async fn a_503_after_the_order_executed_is_resolved_by_lookup_and_placed_once() {
    let sim = support::start().await;
    sim.shared
        .set_faults(on_new_order(FaultKind::UnknownAfterExecute));
    let client = client(&sim, Duration::from_secs(10));
    let placed = client
        .raw()
        .place_order(&buy("pd-7-e0"))
        .await
        .expect("found by lookup");
    assert!(
        matches!(placed, Placed::Order(ref o) if o.client_order_id == "pd-7-e0"),
        "{placed:?}"
    );
    assert_eq!(orders(&client).await.len(), 1, "executed exactly once");
}

#[tokio::test]
async fn a_timeout_after_the_order_executed_is_resolved_by_lookup_and_placed_once() {
    let sim = support::start().await;
    sim.shared
        .set_faults(on_new_order(FaultKind::TimeoutAfterExecute { ms: 1_500 }));
    let client = client(&sim, Duration::from_millis(400));
    client
        .raw()
        .place_order(&buy("pd-8-e0"))
        .await
        .expect("found by lookup");
    assert_eq!(orders(&client).await.len(), 1, "executed exactly once");
}

#[tokio::test]
async fn a_503_before_execution_places_nothing() {
    let sim = support::start().await;
    sim.shared
        .set_faults(on_new_order(FaultKind::UnavailableBeforeExecute));
    let client = client(&sim, Duration::from_secs(10));
    let err = client
        .raw()
        .place_order(&buy("pd-9-e0"))
        .await
        .expect_err("unavailable");
    assert!(
        matches!(err, ExchangeError::Unavailable { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(orders(&client).await.is_empty());
    // The fault fired once; the same order now goes through.
    client
        .raw()
        .place_order(&buy("pd-9-e0"))
        .await
        .expect("placed on retry");
    assert_eq!(orders(&client).await.len(), 1);
}

#[tokio::test]
async fn a_429_storm_is_ridden_out_by_the_client() {
    let sim = support::start().await;
    sim.shared.set_faults(Faults::new(
        3,
        vec![FaultRule {
            path: "/fapi/v3/positionRisk".into(),
            method: None,
            kind: FaultKind::RateLimited,
            probability: 1.0,
            count: Some(1),
        }],
    ));
    let client = client(&sim, Duration::from_secs(10));
    assert!(
        client
            .positions()
            .await
            .expect("after one back-off")
            .is_empty()
    );
}
