//! Lookup-before-resend after an unknown order outcome, against the stub server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use perpdesk_binance::idempotent::{LookupPolicy, place_exactly_once};
use perpdesk_binance::{
    BaseUrls, Endpoint, ExchangeError, Method, RestClient, RestConfig, Security,
};
use serde_json::{Value, json};

use crate::stub::{self, Scripted};

const PLACE: Endpoint = Endpoint {
    method: Method::Post,
    path: "/test/scripted",
    security: Security::None,
    weight: 1,
    places_order: true,
    spot: false,
};
const QUERY: Endpoint = Endpoint {
    method: Method::Get,
    path: "/test/scripted",
    security: Security::None,
    weight: 1,
    places_order: false,
    spot: false,
};

fn fast() -> LookupPolicy {
    LookupPolicy {
        attempts: 3,
        first_pause: Duration::from_millis(10),
        resends: 1,
    }
}

fn unknown_503() -> Scripted {
    Scripted::json(
        503,
        json!({"code": -1000, "msg": "Unknown error, please check your request or try again later."}),
    )
}

async fn run(
    client: &RestClient,
    places: &AtomicUsize,
    lookups: &AtomicUsize,
) -> Result<Value, ExchangeError> {
    place_exactly_once(
        || {
            places.fetch_add(1, Ordering::SeqCst);
            async {
                client
                    .call::<Value>(&PLACE, &[("newClientOrderId", "pd-7-e0".into())])
                    .await
            }
        },
        || {
            lookups.fetch_add(1, Ordering::SeqCst);
            async {
                client
                    .call::<Value>(&QUERY, &[("origClientOrderId", "pd-7-e0".into())])
                    .await
                    .map(Some)
            }
        },
        fast(),
    )
    .await
}

fn client(stub: &stub::Stub) -> RestClient {
    let urls = BaseUrls {
        rest: stub.url(),
        spot_rest: None,
        streams: String::new(),
    };
    RestClient::new(&urls, None, RestConfig::default()).expect("client")
}

#[tokio::test]
async fn an_order_that_did_arrive_is_found_and_not_sent_again() {
    let stub = stub::start().await;
    stub.state.push(unknown_503());
    stub.state.push(Scripted::json(
        200,
        json!({"clientOrderId": "pd-7-e0", "status": "NEW"}),
    ));
    let (places, lookups) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let order = run(&client(&stub), &places, &lookups).await.expect("found");
    assert_eq!(order["clientOrderId"], "pd-7-e0");
    assert_eq!(places.load(Ordering::SeqCst), 1, "placed once");
    assert_eq!(lookups.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_order_the_exchange_never_saw_is_sent_again_with_the_same_id() {
    let stub = stub::start().await;
    stub.state.push(unknown_503());
    stub.state.push(Scripted::json(
        400,
        json!({"code": -2013, "msg": "Order does not exist."}),
    ));
    stub.state.push(Scripted::json(
        200,
        json!({"clientOrderId": "pd-7-e0", "status": "NEW"}),
    ));
    let (places, lookups) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let order = run(&client(&stub), &places, &lookups)
        .await
        .expect("placed on resend");
    assert_eq!(order["status"], "NEW");
    assert_eq!(places.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn when_lookups_keep_failing_the_outcome_stays_unknown_and_nothing_is_resent() {
    let stub = stub::start().await;
    stub.state.push(unknown_503());
    for _ in 0..3 {
        stub.state
            .push(Scripted::raw(502, b"<html>Bad Gateway</html>"));
    }
    let (places, lookups) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let err = run(&client(&stub), &places, &lookups)
        .await
        .expect_err("unknown");
    assert!(
        matches!(err, ExchangeError::UnknownExecution { .. }),
        "{err:?}"
    );
    assert_eq!(
        places.load(Ordering::SeqCst),
        1,
        "never resent without a definite not-found"
    );
    assert_eq!(lookups.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_rejection_is_returned_as_is_without_a_lookup() {
    let stub = stub::start().await;
    stub.state.push(Scripted::json(
        400,
        json!({"code": -2019, "msg": "Margin is insufficient."}),
    ));
    let (places, lookups) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let err = run(&client(&stub), &places, &lookups)
        .await
        .expect_err("rejected");
    assert_eq!(
        err.reject_kind(),
        Some(perpdesk_binance::RejectKind::InsufficientMargin)
    );
    assert_eq!(lookups.load(Ordering::SeqCst), 0);
}
