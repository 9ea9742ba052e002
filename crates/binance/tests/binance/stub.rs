//! A small stand-in for Binance's REST server, for the transport tests: it checks signatures
//! and timestamps as the contract says, keeps its own clock, enforces a weight limit and can
//! be told to answer the next calls with scripted failures.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hmac::{Hmac, Mac};
use perpdesk_binance::{BaseUrls, HmacSigner, RestClient, RestConfig};
use serde_json::json;
use sha2::Sha256;

pub const API_KEY: &str = "stub-key";
pub const SECRET: &str = "stub-secret";

/// In a scripted body, replaced by the path and query the stub received: a server (or a
/// proxy's error page) that echoes the request back, signature and all.
pub const ECHO_URI: &str = "%URI%";

/// A reply the stub gives instead of the normal one.
pub struct Scripted {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Scripted {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![],
            body: body.to_string().into_bytes(),
        }
    }
    pub fn raw(status: u16, body: &[u8]) -> Self {
        Self {
            status,
            headers: vec![],
            body: body.to_vec(),
        }
    }
    pub fn header(mut self, name: &'static str, value: impl ToString) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }
}

#[derive(Default)]
pub struct StubState {
    /// Added to the machine clock to make the stub's "server time".
    pub clock_shift_ms: AtomicI64,
    pub time_calls: AtomicUsize,
    pub calls: AtomicUsize,
    pub script: Mutex<VecDeque<Scripted>>,
    /// (window index, weight used) for the weight limit on /fapi/v1/ping.
    weight: Mutex<(i64, u32)>,
    /// Weight allowed per window on /fapi/v1/ping.
    pub ping_limit: AtomicUsize,
    /// The length of the stub's weight window, in ms.
    pub ping_window_ms: AtomicI64,
    pub rate_limited: AtomicUsize,
    /// Per WebSocket connection, the text frames to send; `HOLD` keeps the socket open after.
    pub ws_script: Mutex<VecDeque<Vec<String>>>,
    /// The path and query of every WebSocket connection, in order.
    pub ws_connects: Mutex<Vec<String>>,
    /// `METHOD /path?query` of every request to a scripted route, in order.
    pub requests: Mutex<Vec<String>>,
    pub listen_keys_created: AtomicUsize,
    pub listen_key_keepalives: AtomicUsize,
    pub listen_key_closes: AtomicUsize,
}

/// Ends a WebSocket script without closing the socket.
pub const HOLD: &str = "__hold__";
/// A scripted frame: close the socket with a reason that echoes the request's path and query,
/// as a server naming the stream it refuses would.
pub const CLOSE_ECHOING_URL: &str = "__close_echoing_url__";

impl StubState {
    pub fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis() + self.clock_shift_ms.load(Ordering::SeqCst)
    }
    pub fn push(&self, reply: Scripted) {
        self.script.lock().expect("script lock").push_back(reply);
    }
    fn next_scripted(&self, uri: &axum::http::Uri) -> Option<Response> {
        let reply = self.script.lock().expect("script lock").pop_front()?;
        let body = String::from_utf8_lossy(&reply.body).replace(ECHO_URI, &uri.to_string());
        let mut response = (
            StatusCode::from_u16(reply.status).expect("valid status"),
            body.into_bytes(),
        )
            .into_response();
        for (k, v) in reply.headers {
            response
                .headers_mut()
                .insert(k, HeaderValue::from_str(&v).expect("header value"));
        }
        Some(response)
    }
}

pub struct Stub {
    pub addr: SocketAddr,
    pub state: Arc<StubState>,
}

impl Stub {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Base URLs pointing every REST call at the stub.
    pub fn urls(&self) -> BaseUrls {
        BaseUrls {
            rest: self.url(),
            spot_rest: None,
            streams: format!("ws://{}", self.addr),
        }
    }

    /// A transport signing with the stub's key pair.
    pub fn signed_rest(&self) -> RestClient {
        RestClient::new(
            &self.urls(),
            Some(Arc::new(HmacSigner::new(API_KEY, SECRET))),
            RestConfig::default(),
        )
        .expect("client builds")
    }
}

pub async fn start() -> Stub {
    let state = Arc::new(StubState::default());
    state.ping_limit.store(usize::MAX, Ordering::SeqCst);
    state.ping_window_ms.store(1_000, Ordering::SeqCst);
    let app = Router::new()
        .route("/fapi/v1/time", get(time))
        .route("/fapi/v1/ping", get(ping))
        .route("/test/signed", get(signed).post(signed))
        .route("/test/scripted", get(scripted).post(scripted))
        .route(
            "/fapi/v1/order",
            get(scripted).post(scripted).delete(scripted),
        )
        .route(
            "/fapi/v1/algoOrder",
            get(scripted).post(scripted).delete(scripted),
        )
        .route("/fapi/v1/marginType", axum::routing::post(scripted))
        .route("/fapi/v1/leverage", axum::routing::post(scripted))
        .route("/fapi/v1/klines", get(scripted))
        .route("/fapi/v3/positionRisk", get(scripted))
        .route("/fapi/v1/income", get(scripted))
        .route(
            "/fapi/v1/listenKey",
            axum::routing::post(listen_key)
                .put(listen_key)
                .delete(listen_key),
        )
        .route("/market/stream", get(websocket))
        .route("/private/ws", get(websocket))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("stub server") });
    Stub { addr, state }
}

async fn time(State(s): State<Arc<StubState>>) -> Response {
    s.time_calls.fetch_add(1, Ordering::SeqCst);
    axum::Json(json!({"serverTime": s.now_ms()})).into_response()
}

async fn ping(State(s): State<Arc<StubState>>) -> Response {
    s.calls.fetch_add(1, Ordering::SeqCst);
    let limit = u32::try_from(s.ping_limit.load(Ordering::SeqCst)).unwrap_or(u32::MAX);
    let window = s
        .now_ms()
        .div_euclid(s.ping_window_ms.load(Ordering::SeqCst));
    let used = {
        let mut w = s.weight.lock().expect("weight lock");
        if w.0 != window {
            *w = (window, 0);
        }
        w.1 += 1;
        w.1
    };
    if used > limit {
        s.rate_limited.fetch_add(1, Ordering::SeqCst);
        let body = json!({"code": -1003, "msg": "Too many requests; current limit is 1000 requests per 2 seconds."});
        return (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    }
    let mut response = axum::Json(json!({})).into_response();
    response.headers_mut().insert(
        "X-MBX-USED-WEIGHT-2S",
        HeaderValue::from_str(&used.to_string()).expect("number"),
    );
    response
}

fn reject(code: i64, msg: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"code": code, "msg": msg})),
    )
        .into_response()
}

/// Verifies a signed request exactly as the contract describes: HMAC over the raw query
/// (without the trailing signature), the key header, and the timestamp window.
async fn signed(
    State(s): State<Arc<StubState>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    RawQuery(query): RawQuery,
) -> Response {
    s.calls.fetch_add(1, Ordering::SeqCst);
    if let Some(r) = s.next_scripted(&uri) {
        return r;
    }
    let query = query.unwrap_or_default();
    if headers.get("X-MBX-APIKEY").and_then(|v| v.to_str().ok()) != Some(API_KEY) {
        return reject(-2015, "Invalid API-key, IP, or permissions for action.");
    }
    let Some((payload, signature)) = query.rsplit_once("&signature=") else {
        return reject(
            -1102,
            "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
        );
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(payload.as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if !expected.eq_ignore_ascii_case(signature) {
        return reject(-1022, "Signature for this request is not valid.");
    }
    let param = |name: &str| {
        payload
            .split('&')
            .find_map(|kv| kv.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
            .and_then(|v| v.parse::<i64>().ok())
    };
    let (Some(timestamp), recv_window) = (param("timestamp"), param("recvWindow").unwrap_or(5_000))
    else {
        return reject(
            -1102,
            "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
        );
    };
    let server = s.now_ms();
    if !(timestamp < server + 1_000 && server - timestamp <= recv_window) {
        return reject(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        );
    }
    axum::Json(json!({"ok": true, "timestamp": timestamp})).into_response()
}

async fn scripted(
    State(s): State<Arc<StubState>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> Response {
    s.calls.fetch_add(1, Ordering::SeqCst);
    s.requests
        .lock()
        .expect("requests lock")
        .push(format!("{method} {uri}"));
    s.next_scripted(&uri)
        .unwrap_or_else(|| axum::Json(json!({"ok": true})).into_response())
}

async fn listen_key(
    State(s): State<Arc<StubState>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    if headers.get("X-MBX-APIKEY").and_then(|v| v.to_str().ok()) != Some(API_KEY) {
        return reject(-2015, "Invalid API-key, IP, or permissions for action.");
    }
    if let Some(r) = s.next_scripted(&uri) {
        return r;
    }
    match method {
        axum::http::Method::POST => {
            let n = s.listen_keys_created.fetch_add(1, Ordering::SeqCst) + 1;
            axum::Json(json!({"listenKey": format!("key{n}")})).into_response()
        }
        axum::http::Method::PUT => {
            s.listen_key_keepalives.fetch_add(1, Ordering::SeqCst);
            let n = s.listen_keys_created.load(Ordering::SeqCst);
            axum::Json(json!({"listenKey": format!("key{n}")})).into_response()
        }
        _ => {
            s.listen_key_closes.fetch_add(1, Ordering::SeqCst);
            axum::Json(json!({})).into_response()
        }
    }
}

async fn websocket(
    State(s): State<Arc<StubState>>,
    uri: axum::http::Uri,
    ws: axum::extract::ws::WebSocketUpgrade,
) -> Response {
    use axum::extract::ws::Message;
    s.ws_connects
        .lock()
        .expect("connects lock")
        .push(uri.to_string());
    let frames = s
        .ws_script
        .lock()
        .expect("ws script lock")
        .pop_front()
        .unwrap_or_else(|| vec![HOLD.to_owned()]);
    ws.on_upgrade(move |mut socket| async move {
        for frame in frames {
            if frame == CLOSE_ECHOING_URL {
                let close = axum::extract::ws::CloseFrame {
                    code: 1008,
                    reason: format!("refused {uri}").into(),
                };
                let _ = socket.send(Message::Close(Some(close))).await;
                return;
            }
            if frame == HOLD {
                // Keep the socket open (answering pings) until the client goes away.
                while let Some(Ok(_)) = socket.recv().await {}
                return;
            }
            if socket.send(Message::Text(frame.into())).await.is_err() {
                return;
            }
        }
        let _ = socket.send(Message::Close(None)).await;
    })
}

/// What a [`recorder`] received: `METHOD /path?query` and the headers of each request.
pub type Received = Arc<Mutex<Vec<(String, HeaderMap)>>>;

/// A second server that answers every request with `{"ok": true}` and records it: the place a
/// redirect would send the client to, so a test can see whether anything arrived.
pub async fn recorder() -> (SocketAddr, Received) {
    let received: Received = Arc::default();
    let log = received.clone();
    let app = Router::new().fallback(
        move |method: axum::http::Method, uri: axum::http::Uri, headers: HeaderMap| {
            let log = log.clone();
            async move {
                log.lock()
                    .expect("recorder lock")
                    .push((format!("{method} {uri}"), headers));
                axum::Json(json!({"ok": true, "serverTime": 0}))
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("recorder") });
    (addr, received)
}
