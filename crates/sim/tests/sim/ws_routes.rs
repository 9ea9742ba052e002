//! The WebSocket routes and live subscriptions, spoken to as a third-party client does: a plain
//! WebSocket and JSON (CONTRACT.md §0 "WebSocket stream URL split", §1 "Stream URL forms" and
//! "Stream rules", §6.2 market payloads). The subscription messages follow Binance's "Live
//! Subscribing/Unsubscribing" docs, which the contract notes do not cover.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use perpdesk_binance::streams::{StreamConfig, UserStream};
use perpdesk_core::{ClientOrderId, OrderKind, OrderRequest, PositionSide, Side, Symbol};
use perpdesk_sim::server::Running;
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::support::{self, KEY, SECRET};

/// A public REST reply of the simulator, as JSON.
async fn public_get(sim: &Running, path_and_query: &str) -> Value {
    let body = reqwest::get(format!("{}{path_and_query}", sim.url()))
        .await
        .expect("REST")
        .text()
        .await
        .expect("body");
    serde_json::from_str(&body).expect("JSON")
}

struct Ws(WebSocketStream<MaybeTlsStream<TcpStream>>);

impl Ws {
    async fn connect(sim: &Running, path: &str) -> Self {
        let url = format!("{}{path}", sim.url().replace("http://", "ws://"));
        let (socket, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .unwrap_or_else(|e| panic!("{path} accepts a connection: {e}"));
        Self(socket)
    }

    async fn send(&mut self, v: Value) {
        self.0
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("sent");
    }

    async fn send_text(&mut self, text: &str) {
        self.0
            .send(Message::Text(text.to_owned().into()))
            .await
            .expect("sent");
    }

    /// The next message, pings and pongs skipped; a loaded machine gets 10 s.
    async fn next(&mut self) -> Message {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(10), self.0.next())
                .await
                .expect("a message within 10 s")
                .expect("socket open")
                .expect("no socket error");
            if !matches!(m, Message::Ping(_) | Message::Pong(_)) {
                return m;
            }
        }
    }

    async fn next_json(&mut self) -> Value {
        match self.next().await {
            Message::Text(t) => serde_json::from_str(t.as_str()).expect("JSON"),
            other => panic!("expected text, got {other:?}"),
        }
    }

    /// The reply with `id`, skipping stream events before it.
    async fn reply(&mut self, id: u64) -> Value {
        loop {
            let v = self.next_json().await;
            if v["id"] == id {
                return v;
            }
            assert!(
                v.get("e").is_some() || v.get("stream").is_some(),
                "not an event: {v}"
            );
        }
    }

    async fn request(&mut self, method: &str, params: Value, id: u64) -> Value {
        self.send(json!({"method": method, "params": params, "id": id}))
            .await;
        self.reply(id).await
    }
}

fn event_type(v: &Value) -> &str {
    v["e"]
        .as_str()
        .or_else(|| v["data"]["e"].as_str())
        .unwrap_or_default()
}

#[tokio::test]
async fn subscribed_streams_flow_and_unsubscribed_ones_stop() {
    let sim = support::start().await;
    let mut ws = Ws::connect(&sim, "/market/ws").await;
    assert_eq!(
        ws.request("SUBSCRIBE", json!(["btcusdt@kline_1m"]), 1)
            .await,
        json!({"result": null, "id": 1})
    );
    let k = ws.next_json().await;
    assert_eq!(k["e"], "kline", "raw mode sends the bare event: {k}");
    assert_eq!(k["s"], "BTCUSDT");
    assert_eq!(
        ws.request("LIST_SUBSCRIPTIONS", Value::Null, 2).await,
        json!({"result": ["btcusdt@kline_1m"], "id": 2})
    );
    assert_eq!(
        ws.request("UNSUBSCRIBE", json!(["btcusdt@kline_1m"]), 3)
            .await,
        json!({"result": null, "id": 3})
    );
    // Klines come every 250 ms; two 1 s mark prices later, none may have followed.
    assert_eq!(
        ws.request("SUBSCRIBE", json!(["ethusdt@markPrice@1s"]), 4)
            .await["result"],
        Value::Null
    );
    for _ in 0..2 {
        let v = ws.next_json().await;
        assert_eq!(
            v["e"], "markPriceUpdate",
            "only the mark price flows now: {v}"
        );
        assert_eq!(v["s"], "ETHUSDT");
    }
    assert_eq!(
        ws.request("LIST_SUBSCRIPTIONS", Value::Null, 5).await,
        json!({"result": ["ethusdt@markPrice@1s"], "id": 5})
    );
}

#[tokio::test]
async fn bad_control_messages_get_binance_error_replies_and_change_nothing() {
    let sim = support::start().await;
    let mut ws = Ws::connect(&sim, "/market/ws").await;
    ws.send_text("{not json").await;
    assert_eq!(ws.next_json().await["code"], 3);
    ws.send(json!({"method": "SUBSCRIBES", "params": [], "id": 7}))
        .await;
    let v = ws.next_json().await;
    assert_eq!(
        (v["code"].clone(), v["id"].clone()),
        (json!(2), json!(7)),
        "{v}"
    );
    assert!(
        v["msg"]
            .as_str()
            .expect("msg")
            .contains("LIST_SUBSCRIPTIONS")
    );
    // An id is an unsigned integer or a short string (Binance's own SDK sends a UUID); a
    // longer string, a negative number or an object is refused.
    let uuid = "f6414197-5904-497d-a5f6-19f44a87ca2a";
    ws.send(json!({"method": "LIST_SUBSCRIPTIONS", "id": uuid}))
        .await;
    assert_eq!(ws.next_json().await, json!({"result": [], "id": uuid}));
    for bad in [json!(format!("{uuid}0")), json!(-1), json!({"n": 1})] {
        ws.send(json!({"method": "LIST_SUBSCRIPTIONS", "id": bad}))
            .await;
        let v = ws.next_json().await;
        assert_eq!(v["code"], 2, "{bad}: {v}");
        assert!(
            v["msg"].as_str().expect("msg").contains("unsigned integer"),
            "{v}"
        );
    }
    ws.send(json!({"params": [], "id": 8})).await;
    assert_eq!(ws.next_json().await["code"], 2);

    // One bad name refuses the whole request: the good one is not added either.
    let v = ws
        .request(
            "SUBSCRIBE",
            json!(["btcusdt@kline_1m", "nosuchusdt@kline_1m"]),
            9,
        )
        .await;
    assert_eq!(v["code"], 2, "{v}");
    assert_eq!(
        ws.request("SUBSCRIBE", json!(["btcusdt@kline_7x"]), 10)
            .await["code"],
        2
    );
    assert_eq!(
        ws.request("LIST_SUBSCRIPTIONS", Value::Null, 11).await,
        json!({"result": [], "id": 11})
    );
    assert_eq!(
        ws.request("SET_PROPERTY", json!(["combined", "yes"]), 12)
            .await,
        json!({"code": 1, "msg": "Invalid value type: expected Boolean", "id": 12})
    );
    assert_eq!(
        ws.request("GET_PROPERTY", json!(["colour"]), 13).await,
        json!({"code": 0, "msg": "Unknown property", "id": 13})
    );
}

#[tokio::test]
async fn the_combined_property_wraps_events_with_their_stream_name() {
    let sim = support::start().await;
    let mut ws = Ws::connect(&sim, "/market/ws").await;
    assert_eq!(
        ws.request("GET_PROPERTY", json!(["combined"]), 1).await,
        json!({"result": false, "id": 1})
    );
    assert_eq!(
        ws.request("SET_PROPERTY", json!(["combined", true]), 2)
            .await,
        json!({"result": null, "id": 2})
    );
    assert_eq!(
        ws.request("GET_PROPERTY", json!(["combined"]), 3).await,
        json!({"result": true, "id": 3})
    );
    ws.request("SUBSCRIBE", json!(["ethusdt@kline_1h"]), 4)
        .await;
    let v = ws.next_json().await;
    assert_eq!(v["stream"], "ethusdt@kline_1h", "{v}");
    assert_eq!(v["data"]["e"], "kline");
}

#[tokio::test]
async fn every_routed_and_legacy_url_form_connects_and_takes_subscriptions() {
    let sim = support::start().await;
    for path in [
        "/ws",
        "/stream",
        "/market/ws",
        "/market/stream",
        "/public/ws",
        "/public/stream",
        "/market/ws/1",
        "/private/ws",
        "/private/stream",
    ] {
        let mut ws = Ws::connect(&sim, path).await;
        assert_eq!(
            ws.request("LIST_SUBSCRIPTIONS", Value::Null, 1).await,
            json!({"result": [], "id": 1}),
            "{path} starts with no streams"
        );
    }
    let mut ws = Ws::connect(&sim, "/ws/btcusdt@kline_1m").await;
    assert_eq!(
        ws.request("LIST_SUBSCRIPTIONS", Value::Null, 1).await,
        json!({"result": ["btcusdt@kline_1m"], "id": 1})
    );

    // Several raw streams in the path, as the docs' `/public/ws/a/b` example.
    let mut ws = Ws::connect(&sim, "/market/ws/btcusdt@kline_1m/ethusdt@markPrice@1s").await;
    let (mut kline, mut mark) = (false, false);
    while !(kline && mark) {
        let v = ws.next_json().await;
        match event_type(&v) {
            "kline" => kline = true,
            "markPriceUpdate" => mark = true,
            other => panic!("unexpected {other}: {v}"),
        }
    }

    let mut ws = Ws::connect(&sim, "/market/stream").await;
    ws.request("SUBSCRIBE", json!(["btcusdt@markPrice@1s"]), 1)
        .await;
    let v = ws.next_json().await;
    assert_eq!(v["stream"], "btcusdt@markPrice@1s", "combined form: {v}");
    assert_eq!(v["data"]["e"], "markPriceUpdate");
}

#[tokio::test]
async fn legacy_routes_take_market_subscriptions_but_deliver_none() {
    let sim = support::start().await;
    let mut legacy = Ws::connect(&sim, "/ws").await;
    let mut market = Ws::connect(&sim, "/market/ws").await;
    assert_eq!(
        legacy
            .request("SUBSCRIBE", json!(["btcusdt@kline_1m"]), 1)
            .await,
        json!({"result": null, "id": 1})
    );
    market
        .request("SUBSCRIBE", json!(["btcusdt@kline_1m"]), 1)
        .await;
    // Four updates on /market span at least 750 ms of 250 ms ticks on the legacy socket too.
    for _ in 0..4 {
        assert_eq!(market.next_json().await["e"], "kline");
    }
    legacy
        .send(json!({"method": "LIST_SUBSCRIPTIONS", "id": 2}))
        .await;
    assert_eq!(
        legacy.next_json().await,
        json!({"result": ["btcusdt@kline_1m"], "id": 2}),
        "no kline reached the legacy socket before this reply"
    );
}

#[tokio::test]
async fn the_public_route_refuses_market_class_streams() {
    let sim = support::start().await;
    let mut ws = Ws::connect(&sim, "/public/ws").await;
    let v = ws
        .request("SUBSCRIBE", json!(["btcusdt@kline_1m"]), 1)
        .await;
    assert_eq!(v["code"], 2, "{v}");
    assert!(v["msg"].as_str().expect("msg").contains("/market"), "{v}");
    let url = format!(
        "{}/public/ws/btcusdt@markPrice",
        sim.url().replace("http://", "ws://")
    );
    assert!(
        tokio_tungstenite::connect_async(url.as_str())
            .await
            .is_err(),
        "the URL form is refused at the handshake"
    );
}

/// The `/public` class over the synthetic book (CONTRACT.md §0, the URL split): a REST
/// snapshot plus the diff events after it, applied as Binance's "manage a local order book"
/// steps say, is the REST book at the last event; the book ticker and partial depth are its
/// top; `/market` refuses the class and the legacy route delivers it.
#[tokio::test]
async fn a_rest_snapshot_plus_the_depth_diffs_is_the_book_and_the_public_class_flows() {
    let sim = support::start().await;
    let mut ws = Ws::connect(&sim, "/public/stream").await;
    assert_eq!(
        ws.request(
            "SUBSCRIBE",
            json!([
                "btcusdt@depth",
                "btcusdt@bookTicker",
                "btcusdt@depth5@500ms"
            ]),
            1
        )
        .await,
        json!({"result": null, "id": 1})
    );
    let rest_book = |v: &Value| -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let side = |s: &Value| {
            s.as_array()
                .expect("levels")
                .iter()
                .map(|l| {
                    (
                        l[0].as_str().expect("p").to_owned(),
                        l[1].as_str().expect("q").to_owned(),
                    )
                })
                .collect()
        };
        (side(&v["bids"]), side(&v["asks"]))
    };
    let depth = || public_get(&sim, "/fapi/v1/depth?symbol=BTCUSDT&limit=1000");
    // The diff subscription starts on the connection's first tick after it, the tick that
    // also sends the first book ticker: wait for that, then take the snapshot.
    while ws.next_json().await["stream"] != "btcusdt@bookTicker" {}
    sim.shared.clock.advance(250).expect("clock");
    let snapshot = depth().await;
    let last_update_id = snapshot["lastUpdateId"].as_i64().expect("lastUpdateId");
    let (mut bids, mut asks) = rest_book(&snapshot);
    let apply = |book: &mut BTreeMap<String, String>, side: &Value| {
        for l in side.as_array().expect("levels") {
            let (p, q) = (
                l[0].as_str().expect("p").to_owned(),
                l[1].as_str().expect("q"),
            );
            if q.parse::<f64>().expect("qty") == 0.0 {
                book.remove(&p);
            } else {
                book.insert(p, q.to_owned());
            }
        }
    };
    let (mut previous_u, mut top_seen, mut partial_seen) = (None::<i64>, false, false);
    // Across several seconds of the exchange's clock: the price path moves and the synthetic
    // sizes change every second.
    for _ in 0..8 {
        sim.shared.clock.advance(400).expect("clock");
        let now = sim.shared.clock.now_ms();
        loop {
            let v = ws.next_json().await;
            let data = &v["data"];
            match v["stream"].as_str().expect("combined form") {
                "btcusdt@depth" => {
                    let (first, last) = (
                        data["U"].as_i64().expect("U"),
                        data["u"].as_i64().expect("u"),
                    );
                    if last < last_update_id {
                        continue;
                    }
                    match previous_u {
                        None => assert!(
                            first <= last_update_id + 1 && last_update_id <= last,
                            "{data}"
                        ),
                        Some(u) => assert_eq!(data["pu"].as_i64(), Some(u), "{data}"),
                    }
                    previous_u = Some(last);
                    apply(&mut bids, &data["b"]);
                    apply(&mut asks, &data["a"]);
                    if last == now {
                        break;
                    }
                }
                "btcusdt@bookTicker" => {
                    assert_eq!(data["e"], "bookTicker");
                    top_seen = true;
                }
                "btcusdt@depth5@500ms" => {
                    assert_eq!(data["b"].as_array().map(Vec::len), Some(5), "{data}");
                    partial_seen = true;
                }
                other => panic!("unexpected stream {other}: {v}"),
            }
        }
    }
    let (want_bids, want_asks) = rest_book(&depth().await);
    assert_eq!(
        (bids, asks),
        (want_bids, want_asks),
        "the local book is the REST book"
    );
    assert!(top_seen && partial_seen);

    let mut market = Ws::connect(&sim, "/market/ws").await;
    let v = market
        .request("SUBSCRIBE", json!(["btcusdt@depth"]), 1)
        .await;
    assert_eq!(v["code"], 2, "{v}");
    assert!(v["msg"].as_str().expect("msg").contains("/public"), "{v}");
    let mut legacy = Ws::connect(&sim, "/ws").await;
    legacy
        .request("SUBSCRIBE", json!(["btcusdt@bookTicker"]), 1)
        .await;
    assert_eq!(legacy.next_json().await["e"], "bookTicker");
}

async fn listen_key(sim: &Running) -> String {
    let (rest, urls) = support::rest(sim, KEY, SECRET);
    UserStream::new(rest, &urls.streams, StreamConfig::default())
        .listen_key()
        .await
        .expect("listen key")
}

async fn buy(sim: &Running, id: &str) {
    let order = OrderRequest {
        symbol: Symbol::new("BTCUSDT").expect("symbol"),
        side: Side::Buy,
        position_side: PositionSide::Both,
        kind: OrderKind::Market,
        quantity: Some(dec!(0.010)),
        reduce_only: false,
        close_position: false,
        client_order_id: ClientOrderId::new(id).expect("id"),
    };
    support::client(sim, KEY, SECRET)
        .raw()
        .place_order(&order)
        .await
        .expect("placed");
}

#[tokio::test]
async fn a_bare_private_socket_subscribes_a_listen_key_live() {
    let sim = support::start().await;
    let key = listen_key(&sim).await;
    let mut ws = Ws::connect(&sim, "/private/ws").await;
    let v = ws.request("SUBSCRIBE", json!(["no-such-key"]), 1).await;
    assert_eq!(v["code"], 2, "{v}");
    assert_eq!(
        ws.request("SUBSCRIBE", json!([key]), 2).await,
        json!({"result": null, "id": 2})
    );
    buy(&sim, "pd-ws-live-1").await;
    loop {
        let v = ws.next_json().await;
        if v["e"] == "ORDER_TRADE_UPDATE" {
            assert_eq!(v["o"]["c"], "pd-ws-live-1");
            break;
        }
    }
}

#[tokio::test]
async fn the_private_stream_form_wraps_events_with_the_listen_key_and_filters_them() {
    let sim = support::start().await;
    let key = listen_key(&sim).await;
    let path = format!("/private/stream?streams={key}&events=ORDER_TRADE_UPDATE");
    let mut ws = Ws::connect(&sim, &path).await;
    buy(&sim, "pd-ws-comb-1").await;
    let v = ws.next_json().await;
    assert_eq!(v["stream"], key.as_str(), "{v}");
    assert_eq!(
        v["data"]["e"], "ORDER_TRADE_UPDATE",
        "ACCOUNT_UPDATE is filtered out"
    );
    // The fill's ACCOUNT_UPDATE came between; the next frame is the second order's update.
    buy(&sim, "pd-ws-comb-2").await;
    let v = ws.next_json().await;
    assert_eq!(v["data"]["e"], "ORDER_TRADE_UPDATE", "{v}");
}

#[tokio::test]
async fn a_clean_close_is_answered_with_a_close_frame() {
    let sim = support::start().await;
    let key = listen_key(&sim).await;
    for path in [
        "/market/ws/btcusdt@kline_1m".to_owned(),
        "/ws".to_owned(),
        format!("/private/ws?listenKey={key}"),
    ] {
        let mut ws = Ws::connect(&sim, &path).await;
        ws.0.send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        })))
        .await
        .expect("close sent");
        loop {
            match ws.next().await {
                Message::Close(frame) => {
                    assert_eq!(frame.map(|f| f.code), Some(CloseCode::Normal), "{path}");
                    break;
                }
                Message::Text(_) => {}
                other => panic!("{path}: unexpected {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn ticker_and_all_market_mark_price_streams_flow_on_the_market_route() {
    let sim = support::start().await;
    let mut ws = Ws::connect(&sim, "/market/stream").await;
    assert_eq!(
        ws.request(
            "SUBSCRIBE",
            json!(["btcusdt@ticker", "!markPrice@arr@1s", "!ticker@arr"]),
            1
        )
        .await,
        json!({"result": null, "id": 1})
    );
    let rest = public_get(&sim, "/fapi/v1/ticker/24hr?symbol=BTCUSDT").await;
    let (mut ticker, mut marks, mut tickers) = (false, false, false);
    while !(ticker && marks && tickers) {
        let v = ws.next_json().await;
        match v["stream"].as_str().expect("combined form") {
            "btcusdt@ticker" => {
                let t = &v["data"];
                assert_eq!(
                    (t["e"].as_str(), t["s"].as_str()),
                    (Some("24hrTicker"), Some("BTCUSDT"))
                );
                // The clock is manual, so the stream and REST see the same 24 h window.
                assert_eq!(t["c"], rest["lastPrice"], "{t}");
                assert_eq!(t["o"], rest["openPrice"]);
                assert_eq!(t["v"], rest["volume"]);
                ticker = true;
            }
            "!markPrice@arr@1s" => {
                let all = v["data"].as_array().expect("an array of updates");
                assert!(all.iter().all(|m| m["e"] == "markPriceUpdate"), "{v}");
                for sym in ["BTCUSDT", "ETHUSDT"] {
                    assert!(all.iter().any(|m| m["s"] == sym), "{sym} in {v}");
                }
                marks = true;
            }
            "!ticker@arr" => {
                let all = v["data"].as_array().expect("an array of tickers");
                assert!(
                    all.iter()
                        .any(|t| t["s"] == "ETHUSDT" && t["e"] == "24hrTicker")
                );
                tickers = true;
            }
            other => panic!("unexpected stream {other}: {v}"),
        }
    }
}

/// `<symbol>@miniTicker` (what ccxt's `watchTicker` subscribes on USDⓈ-M) and
/// `!miniTicker@arr`: the 24 h ticker's prices and volumes, as REST's 24 h ticker has them.
#[tokio::test]
async fn mini_ticker_streams_carry_the_24h_tickers_prices_and_volumes() {
    let sim = support::start().await;
    let mut ws = Ws::connect(&sim, "/market/stream").await;
    assert_eq!(
        ws.request(
            "SUBSCRIBE",
            json!(["btcusdt@miniTicker", "!miniTicker@arr"]),
            1
        )
        .await,
        json!({"result": null, "id": 1})
    );
    let rest = public_get(&sim, "/fapi/v1/ticker/24hr?symbol=BTCUSDT").await;
    let (mut one, mut all) = (false, false);
    while !(one && all) {
        let v = ws.next_json().await;
        match v["stream"].as_str().expect("combined form") {
            "btcusdt@miniTicker" => {
                let t = &v["data"];
                let mut keys: Vec<&str> = t
                    .as_object()
                    .expect("object")
                    .keys()
                    .map(String::as_str)
                    .collect();
                keys.sort_unstable();
                assert_eq!(keys, ["E", "c", "e", "h", "l", "o", "q", "s", "v"], "{t}");
                assert_eq!(
                    (t["e"].as_str(), t["s"].as_str()),
                    (Some("24hrMiniTicker"), Some("BTCUSDT"))
                );
                for (stream, rest_name) in [
                    ("c", "lastPrice"),
                    ("o", "openPrice"),
                    ("h", "highPrice"),
                    ("l", "lowPrice"),
                    ("v", "volume"),
                    ("q", "quoteVolume"),
                ] {
                    assert_eq!(t[stream], rest[rest_name], "{stream}: {t}");
                }
                one = true;
            }
            "!miniTicker@arr" => {
                let rows = v["data"].as_array().expect("an array of mini tickers");
                for sym in ["BTCUSDT", "ETHUSDT"] {
                    assert!(
                        rows.iter()
                            .any(|t| t["s"] == sym && t["e"] == "24hrMiniTicker"),
                        "{sym} in {v}"
                    );
                }
                all = true;
            }
            other => panic!("unexpected stream {other}: {v}"),
        }
    }
}

#[tokio::test]
async fn agg_trades_print_the_accounts_fills_as_they_happen() {
    let sim = support::start().await;
    let mut ws = Ws::connect(&sim, "/market/ws").await;
    assert_eq!(
        ws.request("SUBSCRIBE", json!(["btcusdt@aggTrade"]), 1)
            .await,
        json!({"result": null, "id": 1})
    );
    let key = listen_key(&sim).await;
    let mut user = Ws::connect(&sim, &format!("/private/ws/{key}")).await;
    buy(&sim, "pd-ws-agg-1").await;
    let fill = loop {
        let v = user.next_json().await;
        if v["e"] == "ORDER_TRADE_UPDATE" && v["o"]["x"] == "TRADE" {
            break v;
        }
    };
    let a = ws.next_json().await;
    assert_eq!(a["e"], "aggTrade", "{a}");
    assert_eq!(a["s"], "BTCUSDT");
    assert_eq!(a["p"], fill["o"]["L"]);
    assert_eq!(a["q"], fill["o"]["l"]);
    assert_eq!(a["a"], fill["o"]["t"]);
    assert_eq!(a["T"], fill["o"]["T"]);
    assert_eq!(
        a["m"], false,
        "a market buy takes the ask: the buyer is not the maker"
    );
}

#[tokio::test]
async fn one_connection_carries_thirty_symbols_streams_up_to_binances_two_hundred() {
    use perpdesk_sim::market::MarketData;
    use perpdesk_sim::testing::{START, TestSim, data_dir};

    // 30 symbols, as a watchlist of the whole paper universe: BTCUSDT's and ETHUSDT's
    // series under 30 names.
    let names: Vec<String> = (0..30).map(|i| format!("W{i:02}USDT")).collect();
    let pairs: Vec<(&str, &str)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), if i % 2 == 0 { "BTCUSDT" } else { "ETHUSDT" }))
        .collect();
    let market = MarketData::load_dir_as(&data_dir(), &pairs).expect("loads");
    let sim = TestSim::on(market, START).start().await;
    let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let streams: Vec<String> = lower
        .iter()
        .flat_map(|s| [format!("{s}@kline_1h"), format!("{s}@markPrice@1s")])
        .collect();
    let mut ws = Ws::connect(
        &sim,
        &format!("/market/stream?streams={}", streams.join("/")),
    )
    .await;
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < names.len() {
        let v = ws.next_json().await;
        seen.insert(v["data"]["s"].as_str().expect("a symbol").to_owned());
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), names);
    // 60 streams so far; 140 more make Binance's 200 a connection may carry.
    let more: Vec<String> = lower
        .iter()
        .flat_map(|s| ["1m", "3m", "5m", "15m", "30m"].map(|iv| format!("{s}@kline_{iv}")))
        .take(140)
        .collect();
    assert_eq!(
        ws.request("SUBSCRIBE", json!(more), 1).await,
        json!({"result": null, "id": 1})
    );
    let refused = ws
        .request("SUBSCRIBE", json!([format!("{}@kline_2h", lower[0])]), 2)
        .await;
    assert_eq!(refused["code"], 2, "{refused}");
    assert!(
        refused["msg"].as_str().is_some_and(|m| m.contains("200")),
        "{refused}"
    );
    let listed = ws.request("LIST_SUBSCRIPTIONS", Value::Null, 3).await;
    assert_eq!(listed["result"].as_array().map(Vec::len), Some(200));
}
