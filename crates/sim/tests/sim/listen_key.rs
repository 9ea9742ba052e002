//! listenKey lifetime: 60 minutes of real time (of the manual clock these tests move, or
//! 60 × the replay's speed in replay time) without a keepalive ends the key with a
//! `listenKeyExpired` event, and the client's user stream renews it.

use std::sync::Arc;
use std::time::Duration;

use perpdesk_binance::streams::{StreamConfig, StreamEvent, UserStream};
use perpdesk_binance::wire::Side;
use perpdesk_binance::wire::stream::UserDataEvent;
use perpdesk_binance::wire::trade::NewOrderRequest;
use perpdesk_sim::market::ClockMode;
use rust_decimal_macros::dec;
use tokio::sync::mpsc;

use crate::support::{self, KEY, SECRET};

#[tokio::test]
async fn an_expired_listen_key_is_announced_and_the_stream_renews_it() {
    let sim = support::start().await;
    let (rest, urls) = support::rest(&sim, KEY, SECRET);
    let (first_key, mut rx, task) = connected_stream(&rest, &urls).await;

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
    match next(&mut rx).await {
        StreamEvent::Disconnected { reason, .. } => assert_eq!(reason, "listenKeyExpired"),
        other => panic!("expected the expiry, got {other:?}"),
    }
    assert_eq!(next(&mut rx).await, StreamEvent::Connected { first: false });
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
        match next(&mut rx).await {
            StreamEvent::Message(UserDataEvent::OrderTradeUpdate(_)) => break,
            StreamEvent::Message(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    stop(rx, task).await;
}

#[tokio::test]
async fn the_expiry_event_is_binances_shape() {
    let sim = support::start().await;
    let key = new_listen_key(&sim, KEY).await;
    let mut events = perpdesk_sim::server::subscribe(&sim.shared);
    sim.shared.clock.advance(60 * 60_000).expect("clock");
    sim.shared.tick();
    let event = expiry(&mut events).await;
    assert_eq!(event["listenKey"], key.as_str());
    assert_eq!(event["E"], sim.shared.clock.now_ms().to_string().as_str());
    let parsed: UserDataEvent = serde_json::from_value((*event).clone()).expect("parses");
    assert!(matches!(parsed, UserDataEvent::ListenKeyExpired(ref e) if e.listen_key == key));
    // The key is gone: a keepalive is refused with -1125.
    assert_eq!(keepalive(&sim, KEY).await["code"], -1125);
}

/// A listenKey is a lease of 60 minutes of real time, which a client keeps alive by its own
/// clock every 30 minutes. On a replay 60 times faster than real time that is 60 hours of
/// replay: counted in replay minutes, the key expired once a real minute and the app's user
/// stream dropped, renewed its key and resynced each time.
#[tokio::test]
async fn a_key_lives_60_real_minutes_on_a_replay_at_any_speed() {
    const HOUR: i64 = 3_600_000;
    let sim = support::start().await;
    sim.shared
        .clock
        .set_mode(ClockMode::Accelerated { speed: 60.0 })
        .expect("speed");
    let key = new_listen_key(&sim, KEY).await;
    let mut events = perpdesk_sim::server::subscribe(&sim.shared);
    let made = sim.shared.clock.now_ms();

    // 59 real minutes later (59 replay hours, a fast-forwarded day among them) the key is
    // alive: a keepalive extends it.
    sim.shared.clock.set(made + 59 * HOUR).expect("jump");
    sim.shared.tick();
    let body = keepalive(&sim, KEY).await;
    assert_eq!(body["listenKey"], key.as_str(), "kept alive: {body}");

    // 61 real minutes after the keepalive: expired, and the key's socket is told.
    sim.shared.clock.set(made + 120 * HOUR).expect("jump");
    sim.shared.tick();
    assert_eq!(expiry(&mut events).await["listenKey"], key.as_str());
}

/// `PUT /fapi/v1/listenKey` for `key`'s account (a keepalive), its reply parsed.
async fn keepalive(sim: &perpdesk_sim::server::Running, key: &str) -> serde_json::Value {
    let put = reqwest::Client::new()
        .put(format!("{}/fapi/v1/listenKey", sim.url()))
        .header("X-MBX-APIKEY", key)
        .send()
        .await
        .expect("put");
    serde_json::from_str(&put.text().await.expect("body")).expect("json")
}

/// The next `listenKeyExpired` the exchange pushes, within 5 s.
async fn expiry(
    events: &mut tokio::sync::broadcast::Receiver<(usize, Arc<serde_json::Value>)>,
) -> Arc<serde_json::Value> {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let (_, event) = events.recv().await.expect("event");
            if event["e"] == "listenKeyExpired" {
                return event;
            }
        }
    })
    .await
    .expect("expiry within 5 s")
}

/// `POST /fapi/v1/listenKey` for `key`'s account, as a client sends it.
async fn new_listen_key(sim: &perpdesk_sim::server::Running, key: &str) -> String {
    let text = reqwest::Client::new()
        .post(format!("{}/fapi/v1/listenKey", sim.url()))
        .header("X-MBX-APIKEY", key)
        .send()
        .await
        .expect("post")
        .text()
        .await
        .expect("body");
    let reply: serde_json::Value = serde_json::from_str(&text).expect("json");
    reply["listenKey"].as_str().expect("key").to_owned()
}

/// A listen key is all a `/private` socket shows to read an account's fills, so it cannot be
/// derivable from the account and the time (it was `simlistenkey<account>x<ms>`, and another
/// account read a foreign stream within 6 ms; issue 16 item 12): 64 random letters and
/// digits, as Binance's, different for every account and every new key.
#[tokio::test]
async fn listen_keys_are_64_random_characters() {
    let sim = support::start().await;
    let mine = new_listen_key(&sim, KEY).await;
    let theirs = new_listen_key(&sim, support::WITHDRAW_KEY).await;
    for key in [&mine, &theirs] {
        assert_eq!(key.len(), 64, "{key}");
        assert!(key.bytes().all(|c| c.is_ascii_alphanumeric()), "{key}");
    }
    assert_ne!(mine, theirs);
    // The same instant, the same account, after a delete: still a key nobody could guess.
    let deleted = reqwest::Client::new()
        .delete(format!("{}/fapi/v1/listenKey", sim.url()))
        .header("X-MBX-APIKEY", KEY)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 200);
    let again = new_listen_key(&sim, KEY).await;
    assert_eq!(again.len(), 64);
    assert_ne!(again, mine);
}

/// Deleting a listen key (`DELETE /fapi/v1/listenKey`, as a client does when it signs out)
/// ends the sockets opened with it: whoever held the key reads nothing more. The client then
/// sees a disconnect and comes back only with a new key.
#[tokio::test]
async fn a_deleted_listen_key_closes_its_sockets() {
    let sim = support::start().await;
    let (rest, urls) = support::rest(&sim, KEY, SECRET);
    let (first_key, mut rx, task) = connected_stream(&rest, &urls).await;

    let deleted = reqwest::Client::new()
        .delete(format!("{}/fapi/v1/listenKey", sim.url()))
        .header("X-MBX-APIKEY", KEY)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 200);
    assert!(
        matches!(next(&mut rx).await, StreamEvent::Disconnected { .. }),
        "the socket of the deleted key ends"
    );
    assert_eq!(next(&mut rx).await, StreamEvent::Connected { first: false });
    let renewed = new_listen_key(&sim, KEY).await;
    assert_ne!(renewed, first_key);
    stop(rx, task).await;
}

type Events = mpsc::Receiver<StreamEvent<UserDataEvent>>;

/// A user stream on a fresh listen key, connected: its first key, its events and its task.
async fn connected_stream(
    rest: &std::sync::Arc<perpdesk_binance::RestClient>,
    urls: &perpdesk_binance::BaseUrls,
) -> (String, Events, tokio::task::JoinHandle<()>) {
    let stream = UserStream::new(rest.clone(), &urls.streams, StreamConfig::default());
    let first_key = stream.listen_key().await.expect("key");
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(stream.run(tx));
    assert_eq!(next(&mut rx).await, StreamEvent::Connected { first: true });
    (first_key, rx, task)
}

/// The stream's next event, waiting up to 10 s.
async fn next(rx: &mut Events) -> StreamEvent<UserDataEvent> {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10 s")
        .expect("stream running")
}

/// Ends the stream by dropping its receiver and waits for its task to finish.
async fn stop(rx: Events, task: tokio::task::JoinHandle<()>) {
    drop(rx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops")
        .expect("task");
}
