//! The HTTP and WebSocket front of the simulator: Binance's paths, parameters, headers and
//! error bodies, over [`Exchange`].
//!
//! Besides Binance's paths it serves admin routes for tests and the CLI: `POST /admin/accounts`,
//! `/admin/clock`, `/admin/faults` and `/admin/streams/drop`. They have no authentication, which
//! is why the binary only binds loopback addresses.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::error::ApiError;
use crate::exchange::{Exchange, Params, Permissions};
use crate::market::SimClock;

/// Request weight allowed per minute from one IP (Binance: 2400).
const WEIGHT_LIMIT: u32 = 2400;
/// Requests past a 429 in the same minute that earn a ban (Binance bans "continuing" clients).
const BAN_AFTER_EXTRA: u32 = 200;
/// How long a ban lasts (Binance: 2 minutes to 3 days, growing with repeat offences).
const BAN_MS: i64 = 120_000;
/// New orders allowed per account in 10 seconds and in a minute: Binance's `ORDERS` limits
/// as exchangeInfo lists them (CONTRACT.md 3.2; the 10-second figure is the live one).
const ORDER_LIMIT_10S: u32 = 300;
const ORDER_LIMIT_1M: u32 = 1200;
/// A listenKey lives 60 minutes (of replay time) after its creation or last keepalive.
pub const LISTEN_KEY_TTL_MS: i64 = 60 * 60_000;

/// A live listenKey.
#[derive(Debug, Clone)]
struct ListenKey {
    key: String,
    account: usize,
    /// Replay time at which it expires unless kept alive.
    expires_ms: i64,
}

#[derive(Debug, Default)]
struct Limits {
    minute: i64,
    used: u32,
    banned_until: i64,
    /// New-order counts per account (Binance counts orders per account, weight per IP).
    orders: std::collections::HashMap<usize, OrderCount>,
}

/// One account's order counts in the current 10-second and 1-minute wall-clock windows.
#[derive(Debug, Default, Clone, Copy)]
struct OrderCount {
    ten_s_window: i64,
    ten_s: u32,
    minute_window: i64,
    minute: u32,
}

/// How much an endpoint counts against the order limits, per the contract's endpoint
/// table: (10-second count, 1-minute count). Batch placement counts 5 and 1 whatever the
/// number of items; cancels and queries count nothing.
fn order_weight(method: &Method, path: &str) -> Option<(u32, u32)> {
    match (method.as_str(), path) {
        ("POST" | "PUT", "/fapi/v1/order") | ("POST", "/fapi/v1/algoOrder") => Some((1, 1)),
        ("POST" | "PUT", "/fapi/v1/batchOrders") => Some((5, 1)),
        _ => None,
    }
}

/// Everything the handlers share.
pub struct Shared {
    /// The exchange, behind one lock: every request sees a consistent state.
    pub exchange: Mutex<Exchange>,
    /// The replay clock; it is also the server time `GET /fapi/v1/time` reports.
    pub clock: SimClock,
    limits: Mutex<Limits>,
    /// Request weight allowed per minute; Binance's 2400 unless a load test raises it.
    weight_limit: std::sync::atomic::AtomicU32,
    /// New orders allowed per account per 10 seconds and per minute.
    order_limits: Mutex<(u32, u32)>,
    listen_keys: Mutex<Vec<ListenKey>>,
    /// Injected faults (tests).
    faults: Mutex<crate::faults::Faults>,
    /// User-data events fanned out to `/private` sockets: (account index, event).
    events: tokio::sync::broadcast::Sender<(usize, Arc<Value>)>,
    /// Bumped by [`Shared::drop_streams`]; every open socket watches it and ends when it moves.
    drops: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Shared {
    /// Shares `exchange` driven by `clock`.
    pub fn new(exchange: Exchange, clock: SimClock) -> Arc<Self> {
        Arc::new(Self {
            exchange: Mutex::new(exchange),
            clock,
            limits: Mutex::new(Limits::default()),
            weight_limit: std::sync::atomic::AtomicU32::new(WEIGHT_LIMIT),
            order_limits: Mutex::new((ORDER_LIMIT_10S, ORDER_LIMIT_1M)),
            listen_keys: Mutex::new(Vec::new()),
            faults: Mutex::new(crate::faults::Faults::default()),
            events: tokio::sync::broadcast::channel(4096).0,
            drops: tokio::sync::watch::channel(0).0,
        })
    }

    /// Ends every open WebSocket (user data and market) at once, as a network drop would: the
    /// connection is cut without a close frame. ListenKeys stay valid, so a client that
    /// reconnects with the same key gets its events again.
    pub fn drop_streams(&self) {
        self.drops.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that changes when [`Shared::drop_streams`] is called; sockets hold one each.
    pub(crate) fn stream_drops(&self) -> tokio::sync::watch::Receiver<u64> {
        self.drops.subscribe()
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: crate::faults::Faults) {
        *self
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = faults;
    }

    /// Changes the per-minute weight limit (load tests measure the engine, not the limiter).
    pub fn set_weight_limit(&self, limit: u32) {
        self.weight_limit
            .store(limit, std::sync::atomic::Ordering::Relaxed);
    }

    /// Changes the new-order limits per account (per 10 seconds, per minute); load tests and
    /// the app's paper exchange raise them.
    pub fn set_order_limits(&self, per_10s: u32, per_minute: u32) {
        *self
            .order_limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (per_10s, per_minute);
    }

    /// Saves the exchange's state at the clock's time to `path` (atomically; see
    /// [`Exchange::save`]).
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn save(&self, path: &std::path::Path) -> Result<(), crate::exchange::StateError> {
        self.tick();
        self.exchange().save(path)
    }

    /// Moves the exchange to the clock's time and pushes the events it produced.
    pub fn tick(&self) {
        let now = self.clock.now_ms();
        let events = {
            let mut ex = self.exchange();
            ex.advance(now);
            std::mem::take(&mut ex.outbox)
        };
        for (account, event) in events {
            // No subscriber is fine: nobody is listening to that account.
            let _ = self.events.send((account, Arc::new(event)));
        }
        self.expire_listen_keys(now);
    }

    /// Drops the listenKeys not kept alive for 60 minutes and tells their sockets with a
    /// `listenKeyExpired` event (the socket closes after it), as Binance does.
    fn expire_listen_keys(&self, now: i64) {
        let expired: Vec<ListenKey> = {
            let mut keys = self
                .listen_keys
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let (gone, live): (Vec<ListenKey>, Vec<ListenKey>) =
                keys.drain(..).partition(|k| k.expires_ms <= now);
            *keys = live;
            gone
        };
        for k in expired {
            // The docs' example sends `E` as a string.
            let event = json!({"e": "listenKeyExpired", "E": now.to_string(), "listenKey": k.key});
            let _ = self.events.send((k.account, Arc::new(event)));
        }
    }

    fn exchange(&self) -> std::sync::MutexGuard<'_, Exchange> {
        // A panic while holding the lock would leave a half-applied change; the exchange
        // applies changes only after all checks, so the state is still consistent to read.
        self.exchange
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Security types, as the contract names them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sec {
    None,
    Key,
    Signed,
}

fn wall_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Counts weight per wall-clock minute; 429 above the limit, 418 for clients that keep going.
/// A limit refusal: the error and, for 429, the seconds to wait.
type Refusal = (ApiError, Option<i64>);

fn charge(shared: &Shared, weight: u32) -> Result<u32, Refusal> {
    let now = wall_ms();
    let mut l = shared
        .limits
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if l.banned_until > now {
        let msg = format!(
            "Way too many requests; IP banned until {}. Please use the websocket for live updates to avoid bans.",
            l.banned_until
        );
        return Err((
            ApiError {
                status: 418,
                code: -1003,
                msg,
            },
            None,
        ));
    }
    let minute = now.div_euclid(60_000);
    if minute != l.minute {
        l.minute = minute;
        l.used = 0;
    }
    l.used += weight;
    let limit = shared
        .weight_limit
        .load(std::sync::atomic::Ordering::Relaxed);
    if l.used > limit.saturating_add(BAN_AFTER_EXTRA) {
        l.banned_until = now + BAN_MS;
    }
    if l.used > limit {
        let retry = 60 - (now.rem_euclid(60_000) / 1000);
        let msg = format!(
            "Too many requests; current limit is {limit} requests per minute. Please use the websocket for live updates to avoid polling the API."
        );
        return Err((
            ApiError {
                status: 429,
                code: -1003,
                msg,
            },
            Some(retry),
        ));
    }
    Ok(l.used)
}

/// Counts an order request of `account` in the current windows: the counts after it, or
/// Binance's 429 -1015 when either limit would be passed (the request is then not counted
/// and not executed). Windows run on the wall clock, like the weight's.
fn count_orders(
    shared: &Shared,
    account: usize,
    (ten_s, minute): (u32, u32),
) -> Result<(u32, u32), Refusal> {
    let now = wall_ms();
    let (limit_10s, limit_1m) = *shared
        .order_limits
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut l = shared
        .limits
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let c = l.orders.entry(account).or_default();
    let (w10, w60) = (now.div_euclid(10_000), now.div_euclid(60_000));
    if c.ten_s_window != w10 {
        c.ten_s_window = w10;
        c.ten_s = 0;
    }
    if c.minute_window != w60 {
        c.minute_window = w60;
        c.minute = 0;
    }
    let refusal = if c.ten_s.saturating_add(ten_s) > limit_10s {
        Some((limit_10s, "10 SECOND", 10 - now.rem_euclid(10_000) / 1000))
    } else if c.minute.saturating_add(minute) > limit_1m {
        Some((limit_1m, "1 MINUTE", 60 - now.rem_euclid(60_000) / 1000))
    } else {
        None
    };
    if let Some((limit, interval, retry)) = refusal {
        let msg = format!("Too many new orders; current limit is {limit} orders per {interval}.");
        return Err((
            ApiError {
                status: 429,
                code: -1015,
                msg,
            },
            Some(retry),
        ));
    }
    c.ten_s += ten_s;
    c.minute += minute;
    Ok((c.ten_s, c.minute))
}

/// The authenticated caller: account index (signed and key endpoints).
struct Caller {
    account: Option<usize>,
    params: Params,
}

fn parse_pairs(raw: &str, into: &mut Params) {
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        // The query string wins over the body when both carry a parameter.
        into.0
            .entry(k.into_owned())
            .or_insert_with(|| v.into_owned());
    }
}

fn authenticate(
    shared: &Shared,
    sec: Sec,
    headers: &HeaderMap,
    query: &str,
    body: &[u8],
) -> Result<Caller, ApiError> {
    let body = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad(-1100, "Illegal characters found in a parameter."))?;
    let mut params = Params::default();
    parse_pairs(query, &mut params);
    parse_pairs(body, &mut params);
    if sec == Sec::None {
        return Ok(Caller {
            account: None,
            params,
        });
    }
    let key = headers
        .get("X-MBX-APIKEY")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(ApiError::bad_key_format)?;
    let ex = shared.exchange();
    let account = ex.account_index(key).ok_or_else(ApiError::rejected_key)?;
    if sec == Sec::Signed {
        let signature = params
            .get("signature")
            .ok_or_else(|| ApiError::mandatory("signature"))?
            .to_owned();
        // Binance signs the bytes as sent: the query then the body, minus the signature itself.
        let strip = |s: &str| -> String {
            s.rsplit_once("&signature=")
                .map(|(a, _)| a.to_owned())
                .or_else(|| s.strip_prefix("signature=").map(|_| String::new()))
                .unwrap_or_else(|| s.to_owned())
        };
        let total = format!("{}{}", strip(query), strip(body));
        let mut mac = Hmac::<Sha256>::new_from_slice(ex.accounts[account].secret.as_bytes())
            .map_err(|_| ApiError::bad_signature())?;
        mac.update(total.as_bytes());
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if !expected.eq_ignore_ascii_case(&signature) {
            return Err(ApiError::bad_signature());
        }
        let timestamp: i64 = params
            .req("timestamp")?
            .parse()
            .map_err(|_| ApiError::invalid("timestamp"))?;
        let recv_window: i64 = match params.get("recvWindow") {
            Some(v) => v.parse().map_err(|_| ApiError::invalid("recvWindow"))?,
            None => 5_000,
        };
        if !(1..=60_000).contains(&recv_window) {
            return Err(ApiError::invalid("recvWindow"));
        }
        let server = shared.clock.now_ms();
        if timestamp >= server + 1_000 {
            return Err(ApiError::bad(
                -1021,
                "Timestamp for this request was 1000ms ahead of the server's time.",
            ));
        }
        if server - timestamp > recv_window {
            return Err(ApiError::bad(
                -1021,
                "Timestamp for this request is outside of the recvWindow.",
            ));
        }
    }
    Ok(Caller {
        account: Some(account),
        params,
    })
}

/// Runs `f` for an endpoint with its security and weight, and adds Binance's headers.
#[allow(clippy::too_many_arguments)] // every argument is one part of the HTTP request
async fn endpoint(
    shared: &Shared,
    sec: Sec,
    weight: u32,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    query: Option<String>,
    body: &Bytes,
    f: impl FnOnce(&Shared, &Caller) -> Result<Value, ApiError>,
) -> Response {
    use crate::faults::FaultKind;
    let fault = shared
        .faults
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .decide(method.as_str(), path);
    match fault {
        Some(FaultKind::Latency { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await
        }
        Some(FaultKind::UnavailableBeforeExecute) => {
            return ApiError {
                status: 503,
                code: -1001,
                msg: "Service Unavailable.".into(),
            }
            .into_response();
        }
        Some(FaultKind::RateLimited) => {
            let msg = "Too many requests; current limit is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API.";
            let mut r = ApiError {
                status: 429,
                code: -1003,
                msg: msg.into(),
            }
            .into_response();
            r.headers_mut().insert("Retry-After", HeaderValue::from(1));
            return r;
        }
        _ => {}
    }
    let used = match charge(shared, weight) {
        Ok(used) => used,
        Err((error, retry_after)) => {
            let mut r = error.into_response();
            if let Some(secs) = retry_after {
                r.headers_mut()
                    .insert("Retry-After", HeaderValue::from(secs));
            }
            return r;
        }
    };
    let mut order_counts = None;
    let mut retry_after = None;
    let outcome = authenticate(shared, sec, headers, query.as_deref().unwrap_or(""), body)
        .and_then(|caller| {
            if let (Some(weight), Some(account)) = (order_weight(method, path), caller.account) {
                let counts = count_orders(shared, account, weight).map_err(|(e, retry)| {
                    retry_after = retry;
                    e
                })?;
                order_counts = Some(counts);
            }
            f(shared, &caller)
        });
    shared.tick();
    let outcome_ok = outcome.is_ok();
    let mut response = match outcome {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert("X-MBX-USED-WEIGHT-1M", HeaderValue::from(used));
    if let Some(secs) = retry_after {
        headers.insert("Retry-After", HeaderValue::from(secs));
    }
    // Binance sends the order counts on successful orders only.
    if let Some((ten_s, minute)) = order_counts.filter(|_| outcome_ok) {
        headers.insert("X-MBX-ORDER-COUNT-10S", HeaderValue::from(ten_s));
        headers.insert("X-MBX-ORDER-COUNT-1M", HeaderValue::from(minute));
    }
    match fault {
        Some(FaultKind::UnknownAfterExecute) => ApiError {
            status: 503,
            code: -1000,
            msg: "Unknown error, please check your request or try again later.".into(),
        }
        .into_response(),
        Some(FaultKind::TimeoutAfterExecute { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            response
        }
        _ => response,
    }
}

fn account(c: &Caller) -> Result<usize, ApiError> {
    c.account.ok_or_else(ApiError::rejected_key)
}

macro_rules! route {
    ($sec:expr, $weight:expr, $f:expr) => {
        |State(s): State<Arc<Shared>>,
         method: Method,
         uri: axum::http::Uri,
         headers: HeaderMap,
         RawQuery(q): RawQuery,
         body: Bytes| async move {
            endpoint(
                &s,
                $sec,
                $weight,
                &method,
                uri.path(),
                &headers,
                q,
                &body,
                $f,
            )
            .await
        }
    };
}

fn dec(v: Decimal) -> String {
    v.normalize().to_string()
}

/// The router with every endpoint.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/fapi/v1/ping", get(route!(Sec::None, 1, |_, _| Ok(json!({})))))
        .route("/fapi/v1/time", get(route!(Sec::None, 1, |s: &Shared, _| Ok(json!({"serverTime": s.clock.now_ms()})))))
        .route("/fapi/v1/exchangeInfo", get(route!(Sec::None, 1, |s: &Shared, _| Ok(crate::info::exchange_info(&s.exchange().market, s.clock.now_ms())))))
        .route("/fapi/v1/klines", get(route!(Sec::None, 5, |s: &Shared, c: &Caller| crate::info::klines(&s.exchange().market, &c.params, s.clock.now_ms()))))
        .route("/fapi/v1/ticker/price", get(route!(Sec::None, 1, |s: &Shared, c: &Caller| crate::info::ticker_price(&s.exchange().market, &c.params, s.clock.now_ms()))))
        .route("/fapi/v2/ticker/price", get(route!(Sec::None, 1, |s: &Shared, c: &Caller| crate::info::ticker_price(&s.exchange().market, &c.params, s.clock.now_ms()))))
        .route("/fapi/v1/premiumIndex", get(route!(Sec::None, 1, |s: &Shared, c: &Caller| crate::info::premium_index(&s.exchange().market, &c.params, s.clock.now_ms()))))
        .route("/fapi/v1/fundingRate", get(route!(Sec::None, 1, |s: &Shared, c: &Caller| crate::info::funding_rate(&s.exchange().market, &c.params, s.clock.now_ms()))))
        .route("/fapi/v1/allAlgoOrders", get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
            let a = account(c)?;
            let symbol = c.params.req("symbol")?;
            s.exchange().spec(symbol)?;
            let limit = match c.params.get("limit") { Some(v) => v.parse::<usize>().map_err(|_| ApiError::invalid("limit"))?.clamp(1, 1000), None => 500 };
            Ok(s.exchange().all_algo_orders(a, symbol, limit, s.clock.now_ms()))
        })))
        .route("/fapi/v1/algoOpenOrders", axum::routing::delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
            let a = account(c)?;
            let symbol = c.params.req("symbol")?;
            s.exchange().spec(symbol)?;
            Ok(s.exchange().cancel_all_algo(a, symbol, s.clock.now_ms()))
        })))
        .route("/fapi/v1/depth", get(route!(Sec::None, 5, |s: &Shared, c: &Caller| crate::info::depth(&s.exchange().market, &c.params, s.clock.now_ms()))))
        .route("/fapi/v3/account", get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| { let a = account(c)?; Ok(s.exchange().account(a, false, s.clock.now_ms())) })))
        .route("/fapi/v2/account", get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| { let a = account(c)?; Ok(s.exchange().account(a, true, s.clock.now_ms())) })))
        .route("/fapi/v3/balance", get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| { let a = account(c)?; Ok(s.exchange().balance(a, s.clock.now_ms())) })))
        .route("/fapi/v3/positionRisk", get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| { let a = account(c)?; Ok(s.exchange().position_risk(a, c.params.get("symbol"), s.clock.now_ms())) })))
        .route(
            "/fapi/v1/positionSide/dual",
            get(route!(Sec::Signed, 30, |s: &Shared, c: &Caller| { let a = account(c)?; Ok(json!({"dualSidePosition": s.exchange().accounts[a].dual_side})) }))
                .post(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| { let a = account(c)?; s.exchange().set_position_mode(a, &c.params, s.clock.now_ms()) })),
        )
        .route("/fapi/v1/ticker/24hr", get(route!(Sec::None, 1, |s: &Shared, c: &Caller| {
            // Weight 1 with a symbol, 40 for all of them.
            if c.params.get("symbol").is_none() {
                charge(s, 39).map_err(|(e, _)| e)?;
            }
            crate::info::ticker_24hr(&s.exchange().market, &c.params, s.clock.now_ms())
        })))
        .route("/fapi/v1/multiAssetsMargin", get(route!(Sec::Signed, 30, |_, c: &Caller| { account(c)?; Ok(json!({"multiAssetsMargin": false})) })))
        .route("/fapi/v1/leverage", post(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| { let a = account(c)?; s.exchange().set_leverage(a, &c.params) })))
        .route("/fapi/v1/marginType", post(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| { let a = account(c)?; s.exchange().set_margin_type(a, &c.params) })))
        .route(
            "/fapi/v1/order",
            // IP weight 0: new and modified orders count against the order limits instead.
            post(route!(Sec::Signed, 0, |s: &Shared, c: &Caller| { let a = account(c)?; s.exchange().new_order(a, &c.params, s.clock.now_ms()) }))
                .get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| { let a = account(c)?; s.exchange().query_order(a, &c.params, s.clock.now_ms()) }))
                .delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| { let a = account(c)?; s.exchange().cancel_order(a, &c.params, s.clock.now_ms()) }))
                .put(route!(Sec::Signed, 0, |s: &Shared, c: &Caller| { let a = account(c)?; s.exchange().modify_order(a, &c.params, s.clock.now_ms()) })),
        )
        .route("/fapi/v1/orderAmendment", get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| { let a = account(c)?; s.exchange().order_amendments(a, &c.params, s.clock.now_ms()) })))
        .route("/fapi/v1/ticker/bookTicker", get(route!(Sec::None, 2, |s: &Shared, c: &Caller| {
            // Weight 2 with a symbol, 5 for all of them.
            if c.params.get("symbol").is_none() {
                charge(s, 3).map_err(|(e, _)| e)?;
            }
            crate::info::book_ticker(&s.exchange().market, &c.params, s.clock.now_ms())
        })))
        .route("/fapi/v1/openOrders", get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| { let a = account(c)?; Ok(s.exchange().open_orders(a, c.params.get("symbol"), s.clock.now_ms())) })))
        .route(
            "/fapi/v1/batchOrders",
            post(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                s.exchange().batch_orders(a, &c.params, s.clock.now_ms())
            }))
            .put(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                s.exchange().batch_modify(a, &c.params, s.clock.now_ms())
            }))
            .delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                s.exchange().cancel_batch(a, &c.params, s.clock.now_ms())
            })),
        )
        .route(
            "/fapi/v1/leverageBracket",
            get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                account(c)?;
                s.exchange().leverage_bracket(c.params.get("symbol"))
            })),
        )
        .route("/fapi/v1/allOrders", get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| { let a = account(c)?; s.exchange().all_orders(a, &c.params, s.clock.now_ms()) })))
        .route("/fapi/v1/allOpenOrders", axum::routing::delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
            let a = account(c)?;
            let symbol = c.params.req("symbol")?;
            s.exchange().spec(symbol)?;
            Ok(s.exchange().cancel_all(a, symbol, s.clock.now_ms()))
        })))
        .route("/fapi/v1/openAlgoOrders", get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| { let a = account(c)?; Ok(s.exchange().open_algo_orders(a, c.params.get("symbol"), s.clock.now_ms())) })))
        .route(
            "/fapi/v1/algoOrder",
            post(route!(Sec::Signed, 0, |s: &Shared, c: &Caller| { let a = account(c)?; s.exchange().new_algo_order(a, &c.params, s.clock.now_ms()) }))
                .get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| { let a = account(c)?; s.exchange().query_algo(a, &c.params, s.clock.now_ms()) }))
                .delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| { let a = account(c)?; s.exchange().cancel_algo(a, &c.params, s.clock.now_ms()) })),
        )
        .route("/fapi/v1/userTrades", get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| { let a = account(c)?; s.exchange().user_trades(a, &c.params, s.clock.now_ms()) })))
        .route("/fapi/v1/income", get(route!(Sec::Signed, 30, |s: &Shared, c: &Caller| {
            let a = account(c)?;
            let start = match c.params.get("startTime") { Some(v) => v.parse().map_err(|_| ApiError::invalid("startTime"))?, None => 0 };
            let limit = match c.params.get("limit") { Some(v) => v.parse::<usize>().map_err(|_| ApiError::invalid("limit"))?.clamp(1, 1000), None => 100 };
            Ok(s.exchange().income(a, start, c.params.get("incomeType"), limit, s.clock.now_ms()))
        })))
        .route("/sapi/v1/account/apiRestrictions", get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
            let a = account(c)?;
            let ex = s.exchange();
            let p: Permissions = ex.accounts[a].permissions;
            Ok(json!({
                "ipRestrict": p.ip_restrict, "createTime": 1_700_000_000_000_i64, "enableReading": p.reading,
                "enableWithdrawals": p.withdrawals, "enableInternalTransfer": false, "enableMargin": false,
                "enableFutures": p.futures, "permitsUniversalTransfer": false, "enableVanillaOptions": false,
                "enableFixApiTrade": false, "enableFixReadOnly": false, "enableSpotAndMarginTrading": false,
                "enablePortfolioMarginTrading": false,
            }))
        })))
        .route(
            "/fapi/v1/listenKey",
            post(route!(Sec::Key, 1, |s: &Shared, c: &Caller| listen_key(s, c, Method::POST)))
                .put(route!(Sec::Key, 1, |s: &Shared, c: &Caller| listen_key(s, c, Method::PUT)))
                .delete(route!(Sec::Key, 1, |s: &Shared, c: &Caller| listen_key(s, c, Method::DELETE))),
        )
        .route("/private/ws", get(crate::streams::private))
        .route("/private/ws/{listen_key}", get(crate::streams::private_path))
        .route("/market/stream", get(crate::streams::market_combined))
        .route("/market/ws/{streams}", get(crate::streams::market_raw))
        .route("/admin/accounts", post(admin_account))
        .route("/admin/clock", post(admin_clock))
        .route("/admin/faults", post(admin_faults))
        .route("/admin/streams/drop", post(admin_drop_streams))
        .fallback(|| async { ApiError { status: 404, code: -1000, msg: "Unknown endpoint.".into() }.into_response() })
        .with_state(shared)
}

/// The account that owns `key`, if the key is live.
pub(crate) fn listen_key_owner(s: &Shared, key: &str) -> Option<usize> {
    let keys = s
        .listen_keys
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    keys.iter().find(|k| k.key == key).map(|k| k.account)
}

/// Subscribes to user-data events: (account index, event) as the `/private` sockets get them.
pub fn subscribe(s: &Shared) -> tokio::sync::broadcast::Receiver<(usize, Arc<Value>)> {
    s.events.subscribe()
}

fn listen_key(s: &Shared, c: &Caller, method: Method) -> Result<Value, ApiError> {
    let a = account(c)?;
    let mut keys = s
        .listen_keys
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let now = s.clock.now_ms();
    let existing = keys.iter_mut().find(|k| k.account == a);
    match method {
        Method::POST => {
            // Binance returns the account's live key if there is one, extended by 60 minutes.
            let key = match existing {
                Some(k) => {
                    k.expires_ms = now + LISTEN_KEY_TTL_MS;
                    k.key.clone()
                }
                None => {
                    let key = format!("simlistenkey{a}x{now}");
                    keys.push(ListenKey {
                        key: key.clone(),
                        account: a,
                        expires_ms: now + LISTEN_KEY_TTL_MS,
                    });
                    key
                }
            };
            Ok(json!({"listenKey": key}))
        }
        Method::PUT => existing
            .map(|k| {
                k.expires_ms = now + LISTEN_KEY_TTL_MS;
                json!({"listenKey": k.key})
            })
            .ok_or_else(|| ApiError::bad(-1125, "This listenKey does not exist.")),
        _ => {
            keys.retain(|k| k.account != a);
            Ok(json!({}))
        }
    }
}

/// `POST /admin/accounts` (loopback only, for tests and the CLI): `{apiKey, secret, balance, enableWithdrawals?}`.
async fn admin_account(
    State(s): State<Arc<Shared>>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let (Some(key), Some(secret)) = (body["apiKey"].as_str(), body["secret"].as_str()) else {
        return ApiError::bad(-1102, "apiKey and secret are required").into_response();
    };
    let balance: Decimal = body["balance"]
        .as_str()
        .and_then(|b| b.parse().ok())
        .unwrap_or(Decimal::new(10_000, 0));
    let permissions = Permissions {
        withdrawals: body["enableWithdrawals"].as_bool().unwrap_or(false),
        ..Permissions::default()
    };
    let mut ex = s.exchange();
    if ex.account_index(key).is_some() {
        return ApiError::bad(-1130, "an account with this apiKey exists").into_response();
    }
    ex.add_account(key, secret, balance, permissions, s.clock.now_ms());
    axum::Json(json!({"apiKey": key, "balance": dec(balance)})).into_response()
}

/// `POST /admin/faults` `{seed, rules: [{path, method?, kind, ms?, probability?, count?}]}`:
/// replaces the injected faults (an empty list clears them).
async fn admin_faults(
    State(s): State<Arc<Shared>>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let seed = body["seed"].as_u64().unwrap_or(0);
    match serde_json::from_value::<Vec<crate::faults::FaultRule>>(body["rules"].clone()) {
        Ok(rules) => {
            let n = rules.len();
            s.set_faults(crate::faults::Faults::new(seed, rules));
            axum::Json(json!({"rules": n, "seed": seed})).into_response()
        }
        Err(e) => ApiError::bad(-1130, format!("bad fault rules: {e}")).into_response(),
    }
}

/// `POST /admin/streams/drop`: cuts every open WebSocket, as a network drop does (tests of
/// reconnect and resync).
async fn admin_drop_streams(State(s): State<Arc<Shared>>) -> Response {
    let open = s.drops.receiver_count();
    s.drop_streams();
    axum::Json(json!({"dropped": open})).into_response()
}

/// `POST /admin/clock` `{advanceMs}` or `{setMs}`: moves a manual clock (tests).
async fn admin_clock(
    State(s): State<Arc<Shared>>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let result = if let Some(ms) = body["advanceMs"].as_i64() {
        s.clock.advance(ms).map_err(|e| e.to_string())
    } else if let Some(ms) = body["setMs"].as_i64() {
        s.clock.set(ms).map_err(|e| e.to_string())
    } else {
        Err("advanceMs or setMs is required".into())
    };
    match result {
        Ok(()) => {
            s.tick();
            axum::Json(json!({"now": s.clock.now_ms()})).into_response()
        }
        Err(e) => ApiError::bad(-1130, e).into_response(),
    }
}

/// A running simulator.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state, for in-process tests.
    pub shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `shared` on `addr` (use `127.0.0.1:0` for a free port).
///
/// # Errors
/// When the address cannot be bound.
pub async fn serve(shared: Arc<Shared>, addr: SocketAddr) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let app = router(shared.clone());
    let ticking = shared.clone();
    let task = tokio::spawn(async move {
        // Binance pushes user events as they happen; a quarter second is the sim's heartbeat
        // for resting orders, triggers, funding and liquidations between requests.
        let ticker = async move {
            let mut every = tokio::time::interval(std::time::Duration::from_millis(250));
            loop {
                every.tick().await;
                ticking.tick();
            }
        };
        tokio::select! {
            served = axum::serve(listener, app) => if let Err(e) = served {
                tracing::error!(error = %e, "simulator server stopped");
            },
            () = ticker => {}
        }
    });
    Ok(Running { addr, shared, task })
}
