//! WebSocket streams against the stub: reconnect with a resync signal, malformed frames,
//! listenKey keepalive and renewal.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use perpdesk_binance::streams::{MarketStream, StreamConfig, StreamEvent, UserStream};
use perpdesk_binance::{BaseUrls, HmacSigner, RestClient, RestConfig};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::stub::{self, API_KEY, HOLD, SECRET};

fn fast() -> StreamConfig {
    StreamConfig {
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        keepalive: Duration::from_millis(150),
        ..StreamConfig::default()
    }
}

async fn next<T: std::fmt::Debug>(rx: &mut mpsc::Receiver<StreamEvent<T>>) -> StreamEvent<T> {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("an event within 5 s")
        .expect("stream still running")
}

#[tokio::test]
async fn a_market_stream_reconnects_and_says_so_so_the_caller_can_resync() {
    let stub = stub::start().await;
    let kline = json!({"stream": "btcusdt@kline_1h", "data": {"e": "kline", "k": {"x": true}}});
    stub.state
        .ws_script
        .lock()
        .expect("lock")
        .push_back(vec![kline.to_string(), "not json".into()]);
    stub.state
        .ws_script
        .lock()
        .expect("lock")
        .push_back(vec![kline.to_string(), HOLD.into()]);
    let ws_base = format!("ws://{}", stub.addr);
    let (tx, mut rx) = mpsc::channel::<StreamEvent<Value>>(16);
    let task =
        tokio::spawn(MarketStream::new(&ws_base, &["BTCUSDT@kline_1h".into()], fast()).run(tx));

    assert_eq!(next(&mut rx).await, StreamEvent::Connected { first: true });
    match next(&mut rx).await {
        StreamEvent::Message(v) => assert_eq!(v["data"]["k"]["x"], true),
        other => panic!("expected the kline, got {other:?}"),
    }
    assert!(matches!(next(&mut rx).await, StreamEvent::Malformed { raw, .. } if raw == "not json"));
    assert!(matches!(
        next(&mut rx).await,
        StreamEvent::Disconnected { .. }
    ));
    assert_eq!(next(&mut rx).await, StreamEvent::Connected { first: false });
    assert!(matches!(next(&mut rx).await, StreamEvent::Message(_)));
    let connects = stub.state.ws_connects.lock().expect("lock").clone();
    assert_eq!(connects, vec!["/market/stream?streams=btcusdt@kline_1h"; 2]);
    drop(rx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops when the caller leaves")
        .expect("task");
}

#[tokio::test]
async fn the_user_stream_keeps_its_key_alive_and_renews_it_when_it_expires() {
    let stub = stub::start().await;
    let urls = BaseUrls {
        rest: stub.url(),
        spot_rest: None,
        streams: format!("ws://{}", stub.addr),
    };
    let rest = Arc::new(
        RestClient::new(
            &urls,
            Some(Arc::new(HmacSigner::new(API_KEY, SECRET))),
            RestConfig::default(),
        )
        .expect("client"),
    );
    let expired = json!({"e": "listenKeyExpired", "E": 1_736_996_475_556_i64, "listenKey": "key1"});
    stub.state
        .ws_script
        .lock()
        .expect("lock")
        .push_back(vec![HOLD.into()]);
    let (tx, mut rx) = mpsc::channel::<StreamEvent<Value>>(16);
    let task = tokio::spawn(UserStream::new(rest, &urls.streams, fast()).run(tx));

    assert_eq!(next(&mut rx).await, StreamEvent::Connected { first: true });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        stub.state.listen_key_keepalives.load(Ordering::SeqCst) >= 2,
        "keepalive every 150 ms"
    );

    let first_socket = stub.state.ws_connects.lock().expect("lock")[0].clone();
    assert_eq!(first_socket, "/private/ws?listenKey=key1");
    drop(rx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops")
        .expect("task");
    assert_eq!(
        stub.state.listen_key_closes.load(Ordering::SeqCst),
        1,
        "the key is closed on the way out"
    );

    // A new stream whose first socket announces the key's expiry must fetch a new key and
    // reconnect with it.
    stub.state.ws_connects.lock().expect("lock").clear();
    stub.state
        .ws_script
        .lock()
        .expect("lock")
        .push_back(vec![expired.to_string()]);
    stub.state
        .ws_script
        .lock()
        .expect("lock")
        .push_back(vec![HOLD.into()]);

    let (tx, mut rx) = mpsc::channel::<StreamEvent<Value>>(16);
    let rest = Arc::new(
        RestClient::new(
            &urls,
            Some(Arc::new(HmacSigner::new(API_KEY, SECRET))),
            RestConfig::default(),
        )
        .expect("client"),
    );
    let task = tokio::spawn(UserStream::new(rest, &urls.streams, fast()).run(tx));
    assert_eq!(next(&mut rx).await, StreamEvent::Connected { first: true });
    assert!(
        matches!(next(&mut rx).await, StreamEvent::Disconnected { reason, .. } if reason == "listenKeyExpired")
    );
    assert_eq!(next(&mut rx).await, StreamEvent::Connected { first: false });
    let connects = stub.state.ws_connects.lock().expect("lock").clone();
    assert_eq!(
        connects,
        vec![
            "/private/ws?listenKey=key2".to_owned(),
            "/private/ws?listenKey=key3".to_owned()
        ]
    );
    drop(rx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops")
        .expect("task");
}

/// A user stream on the stub's REST side whose sockets go to `streams` (the stub's own
/// WebSocket route unless given).
fn user_stream(stub: &stub::Stub, streams: Option<String>) -> UserStream {
    let urls = BaseUrls {
        rest: stub.url(),
        spot_rest: None,
        streams: streams.unwrap_or_else(|| format!("ws://{}", stub.addr)),
    };
    let rest = Arc::new(
        RestClient::new(
            &urls,
            Some(Arc::new(HmacSigner::new(API_KEY, SECRET))),
            RestConfig::default(),
        )
        .expect("client"),
    );
    UserStream::new(rest, &urls.streams, fast())
}

/// The first disconnect reason of a user stream, with the stream stopped afterwards.
async fn first_disconnect(stream: UserStream) -> String {
    let (tx, mut rx) = mpsc::channel::<StreamEvent<Value>>(16);
    let task = tokio::spawn(stream.run(tx));
    let reason = loop {
        if let StreamEvent::Disconnected { reason, .. } = next(&mut rx).await {
            break reason;
        }
    };
    drop(rx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops")
        .expect("task");
    reason
}

// The listen key is the bearer token of the account's private stream: its URL must stay out
// of every reason, which goes on to the log and the UI (issue 16, item 7's stream half).

#[tokio::test]
async fn a_failing_connect_never_puts_the_listen_key_in_its_reason() {
    let stub = stub::start().await;
    // A port nobody listens on: bound, then released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let reason = first_disconnect(user_stream(&stub, Some(format!("ws://{closed}")))).await;
    assert!(reason.starts_with("connect: "), "{reason}");
    assert!(
        !reason.contains("key1") && !reason.contains("listenKey="),
        "{reason}"
    );
}

#[tokio::test]
async fn a_server_that_echoes_the_stream_url_never_puts_the_listen_key_in_the_reason() {
    let stub = stub::start().await;
    stub.state
        .ws_script
        .lock()
        .expect("lock")
        .push_back(vec![stub::CLOSE_ECHOING_URL.into()]);
    let reason = first_disconnect(user_stream(&stub, None)).await;
    // The server did echo it: the reason names the route, with the key blanked out.
    assert!(
        reason.contains("/private/ws?listenKey=<listenKey>"),
        "{reason}"
    );
    assert!(!reason.contains("key1"), "{reason}");
}
