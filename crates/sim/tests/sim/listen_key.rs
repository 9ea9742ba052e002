//! listenKey lifetime: 60 minutes of replay time without a keepalive ends the key with a
//! `listenKeyExpired` event, and the client's user stream renews it.

use std::time::Duration;

use perpdesk_binance::streams::{StreamConfig, StreamEvent, UserStream};
use perpdesk_binance::wire::Side;
use perpdesk_binance::wire::stream::UserDataEvent;
use perpdesk_binance::wire::trade::NewOrderRequest;
use rust_decimal_macros::dec;
use tokio::sync::mpsc;

use crate::support::{self, KEY, SECRET};

#[tokio::test]
async fn an_expired_listen_key_is_announced_and_the_stream_renews_it() {
    let sim = support::start().await;
    let (rest, urls) = support::rest(&sim, KEY, SECRET);
    let stream = UserStream::new(rest.clone(), &urls.streams, StreamConfig::default());
    let first_key = stream.listen_key().await.expect("key");
    let (tx, mut rx) = mpsc::channel::<StreamEvent<UserDataEvent>>(64);
    let task = tokio::spawn(stream.run(tx));
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("an event within 10 s")
            .expect("stream running")
    };
    assert_eq!(next().await, StreamEvent::Connected { first: true });

    // 59 minutes: still alive. A keepalive (POST returns the same key) extends it.
    sim.shared.clock.advance(59 * 60_000).expect("clock");
    sim.shared.tick();
    let again = UserStream::new(rest.clone(), &urls.streams, StreamConfig::default())
        .listen_key()
        .await
        .expect("same key");
    assert_eq!(again, first_key);
    sim.shared.clock.advance(59 * 60_000).expect("clock");
    sim.shared.tick();

    // Past 60 minutes since the keepalive: the key expires and the client gets a new one.
    sim.shared.clock.advance(2 * 60_000).expect("clock");
    sim.shared.tick();
    match next().await {
        StreamEvent::Disconnected { reason, .. } => assert_eq!(reason, "listenKeyExpired"),
        other => panic!("expected the expiry, got {other:?}"),
    }
    assert_eq!(next().await, StreamEvent::Connected { first: false });
    let renewed = UserStream::new(rest.clone(), &urls.streams, StreamConfig::default())
        .listen_key()
        .await
        .expect("renewed key");
    assert_ne!(renewed, first_key);

    // Events flow on the renewed key.
    let client = support::client(&sim, KEY, SECRET);
    client
        .raw()
        .new_order(&NewOrderRequest::market("BTCUSDT", Side::Buy, dec!(0.010)))
        .await
        .expect("order");
    loop {
        match next().await {
            StreamEvent::Message(UserDataEvent::OrderTradeUpdate(_)) => break,
            StreamEvent::Message(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    drop(rx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops")
        .expect("task");
}

#[tokio::test]
async fn the_expiry_event_is_binances_shape() {
    let sim = support::start().await;
    let http = reqwest::Client::new();
    let text = http
        .post(format!("{}/fapi/v1/listenKey", sim.url()))
        .header("X-MBX-APIKEY", KEY)
        .send()
        .await
        .expect("post")
        .text()
        .await
        .expect("body");
    let reply: serde_json::Value = serde_json::from_str(&text).expect("json");
    let key = reply["listenKey"].as_str().expect("key").to_owned();
    let mut events = perpdesk_sim::server::subscribe(&sim.shared);
    sim.shared.clock.advance(60 * 60_000).expect("clock");
    sim.shared.tick();
    let (_, event) = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let (account, event) = events.recv().await.expect("event");
            if event["e"] == "listenKeyExpired" {
                return (account, event);
            }
        }
    })
    .await
    .expect("expiry within 5 s");
    assert_eq!(event["listenKey"], key.as_str());
    assert_eq!(event["E"], sim.shared.clock.now_ms().to_string().as_str());
    let parsed: UserDataEvent = serde_json::from_value((*event).clone()).expect("parses");
    assert!(matches!(parsed, UserDataEvent::ListenKeyExpired(ref e) if e.listen_key == key));
    // The key is gone: a keepalive is refused with -1125.
    let put = http
        .put(format!("{}/fapi/v1/listenKey", sim.url()))
        .header("X-MBX-APIKEY", KEY)
        .send()
        .await
        .expect("put");
    let body: serde_json::Value =
        serde_json::from_str(&put.text().await.expect("body")).expect("json");
    assert_eq!(body["code"], -1125);
}
