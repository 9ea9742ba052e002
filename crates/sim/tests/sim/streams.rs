//! The sim's WebSocket streams through perpdesk-binance's stream clients and wire types.

use std::time::Duration;

use perpdesk_binance::streams::{MarketStream, StreamConfig, StreamEvent, UserStream};
use perpdesk_binance::wire::stream::{CombinedStream, MarketEvent, UserDataEvent};
use perpdesk_core::{ClientOrderId, OrderKind, OrderRequest, PositionSide, Side, Symbol};
use rust_decimal_macros::dec;
use tokio::sync::mpsc;

use crate::support::{self, KEY, SECRET};

async fn next<T: std::fmt::Debug>(rx: &mut mpsc::Receiver<StreamEvent<T>>) -> StreamEvent<T> {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("an event within 5 s")
        .expect("stream running")
}

#[tokio::test]
async fn a_fill_arrives_on_the_user_stream_as_order_and_account_updates() {
    let sim = support::start().await;
    let (rest, urls) = support::rest(&sim, KEY, SECRET);
    let (tx, mut rx) = mpsc::channel::<StreamEvent<UserDataEvent>>(64);
    let task = tokio::spawn(UserStream::new(rest, &urls.streams, StreamConfig::default()).run(tx));
    assert_eq!(next(&mut rx).await, StreamEvent::Connected { first: true });

    let client = support::client(&sim, KEY, SECRET);
    let order = OrderRequest {
        symbol: Symbol::new("BTCUSDT").expect("symbol"),
        side: Side::Buy,
        position_side: PositionSide::Both,
        kind: OrderKind::Market,
        quantity: Some(dec!(0.010)),
        reduce_only: false,
        close_position: false,
        client_order_id: ClientOrderId::new("pd-5-e0").expect("id"),
    };
    client.raw().place_order(&order).await.expect("placed");

    let (mut saw_trade, mut saw_account) = (false, false);
    while !(saw_trade && saw_account) {
        match next(&mut rx).await {
            StreamEvent::Message(UserDataEvent::OrderTradeUpdate(e)) => {
                assert_eq!(e.order.client_order_id, "pd-5-e0");
                saw_trade = true;
            }
            StreamEvent::Message(UserDataEvent::AccountUpdate(_)) => saw_account = true,
            StreamEvent::Message(UserDataEvent::Unknown(v)) => panic!("unknown event {v}"),
            StreamEvent::Malformed { error, raw } => panic!("malformed {error}: {raw}"),
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
async fn kline_and_mark_price_streams_parse_into_the_wire_types() {
    let sim = support::start().await;
    let ws = sim.url().replace("http://", "ws://");
    let (tx, mut rx) = mpsc::channel::<StreamEvent<CombinedStream<MarketEvent>>>(64);
    let names = vec![
        "BTCUSDT@kline_1h".to_owned(),
        "ethusdt@markPrice@1s".to_owned(),
    ];
    let task = tokio::spawn(MarketStream::new(&ws, &names, StreamConfig::default()).run(tx));
    assert_eq!(next(&mut rx).await, StreamEvent::Connected { first: true });
    let (mut kline, mut mark) = (false, false);
    while !(kline && mark) {
        match next(&mut rx).await {
            StreamEvent::Message(m) => match m.data {
                MarketEvent::Kline(k) => {
                    assert_eq!(m.stream, "btcusdt@kline_1h");
                    assert!(!k.kline.is_closed, "the current candle is still forming");
                    kline = true;
                }
                MarketEvent::MarkPriceUpdate(p) => {
                    assert_eq!(p.symbol, "ETHUSDT");
                    mark = true;
                }
                MarketEvent::Unknown(v) => panic!("unknown {v}"),
            },
            other => panic!("unexpected {other:?}"),
        }
    }
    drop(rx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops")
        .expect("task");
}

/// Skips messages until the stream reports something else.
async fn next_status<T: std::fmt::Debug>(
    rx: &mut mpsc::Receiver<StreamEvent<T>>,
) -> StreamEvent<T> {
    loop {
        match next(rx).await {
            StreamEvent::Message(_) => {}
            other => return other,
        }
    }
}

#[tokio::test]
async fn dropped_streams_end_like_a_network_drop_and_the_listen_key_survives() {
    let sim = support::start().await;
    let (rest, urls) = support::rest(&sim, KEY, SECRET);
    let stream = UserStream::new(rest.clone(), &urls.streams, StreamConfig::default());
    let key = stream.listen_key().await.expect("key");
    let (tx, mut rx) = mpsc::channel::<StreamEvent<UserDataEvent>>(64);
    let task = tokio::spawn(stream.run(tx));
    assert_eq!(next(&mut rx).await, StreamEvent::Connected { first: true });

    sim.shared.drop_streams();
    match next_status(&mut rx).await {
        StreamEvent::Disconnected { reason, .. } => {
            assert_ne!(reason, "listenKeyExpired", "a drop is not an expiry");
        }
        other => panic!("expected a disconnect, got {other:?}"),
    }
    assert_eq!(
        next_status(&mut rx).await,
        StreamEvent::Connected { first: false }
    );
    let again = UserStream::new(rest, &urls.streams, StreamConfig::default())
        .listen_key()
        .await
        .expect("key after the drop");
    assert_eq!(again, key, "the listenKey stays valid across a drop");

    let client = support::client(&sim, KEY, SECRET);
    let order = OrderRequest {
        symbol: Symbol::new("BTCUSDT").expect("symbol"),
        side: Side::Buy,
        position_side: PositionSide::Both,
        kind: OrderKind::Market,
        quantity: Some(dec!(0.010)),
        reduce_only: false,
        close_position: false,
        client_order_id: ClientOrderId::new("pd-drop-1").expect("id"),
    };
    client.raw().place_order(&order).await.expect("placed");
    loop {
        match next(&mut rx).await {
            StreamEvent::Message(UserDataEvent::OrderTradeUpdate(e)) => {
                assert_eq!(e.order.client_order_id, "pd-drop-1");
                break;
            }
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
async fn the_admin_drop_route_cuts_market_streams_which_reconnect() {
    let sim = support::start().await;
    let ws = sim.url().replace("http://", "ws://");
    let (tx, mut rx) = mpsc::channel::<StreamEvent<CombinedStream<MarketEvent>>>(256);
    let names = vec!["btcusdt@kline_1m".to_owned()];
    let task = tokio::spawn(MarketStream::new(&ws, &names, StreamConfig::default()).run(tx));
    assert_eq!(next(&mut rx).await, StreamEvent::Connected { first: true });
    // A kline proves the socket is live before the drop.
    assert!(matches!(next(&mut rx).await, StreamEvent::Message(_)));

    let text = reqwest::Client::new()
        .post(format!("{}/admin/streams/drop", sim.url()))
        .header(
            perpdesk_sim::server::ADMIN_TOKEN_HEADER,
            sim.shared.admin_token().expect("an admin token"),
        )
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    let reply: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(reply["dropped"], 1, "one socket was open: {reply}");
    assert!(matches!(
        next_status(&mut rx).await,
        StreamEvent::Disconnected { .. }
    ));
    assert_eq!(
        next_status(&mut rx).await,
        StreamEvent::Connected { first: false }
    );
    assert!(matches!(next(&mut rx).await, StreamEvent::Message(_)));
    drop(rx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops")
        .expect("task");
}
