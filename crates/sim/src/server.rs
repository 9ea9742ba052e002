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
use crate::exchange::{Exchange, Permissions};
use crate::info;
use crate::market::SimClock;
use crate::params::{
    AllAlgoOrders, AllOrders, Amendments, BatchModify, BatchOrders, CancelBatch, Depth,
    FundingRate, Income, Klines, ModifyOrder, NewAlgoOrder, NewOrder, OrderLookup, OrderRef,
    Params, SetLeverage, SetMarginType, SetPositionMode, SymbolFilter, UserTrades,
};
use crate::replies::{self, account as account_reply, trading};

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
            let _ = self
                .events
                .send((account, Arc::new(replies::events::user_event(&event))));
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
            let event = replies::events::listen_key_expired(&k.key, now);
            let _ = self.events.send((k.account, Arc::new(event)));
        }
    }

    /// The exchange, locked, and the clock's time read under the lock (so a request never
    /// acts at a time before one the exchange has already processed).
    fn locked(&self) -> (std::sync::MutexGuard<'_, Exchange>, i64) {
        let ex = self.exchange();
        (ex, self.clock.now_ms())
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

fn authenticate(
    shared: &Shared,
    sec: Sec,
    headers: &HeaderMap,
    query: &str,
    body: &[u8],
) -> Result<Caller, ApiError> {
    let body = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad(-1100, "Illegal characters found in a parameter."))?;
    let params = Params::parse(query, body);
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

/// The router with every endpoint. Each handler parses its typed request, asks the exchange
/// (or the market data) and renders the reply.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/fapi/v1/ping",
            get(route!(Sec::None, 1, |_, _| Ok(replies::empty()))),
        )
        .route(
            "/fapi/v1/time",
            get(route!(Sec::None, 1, |s: &Shared, _| Ok(
                replies::server_time(s.clock.now_ms())
            ))),
        )
        .route(
            "/fapi/v1/exchangeInfo",
            get(route!(Sec::None, 1, |s: &Shared, _| {
                let (ex, now) = s.locked();
                Ok(info::exchange_info(&ex.market, now))
            })),
        )
        .route(
            "/fapi/v1/klines",
            get(route!(Sec::None, 5, |s: &Shared, c: &Caller| {
                let req = Klines::parse(&c.params)?;
                let (ex, now) = s.locked();
                info::klines(&ex.market, &req, now)
            })),
        )
        .route(
            "/fapi/v1/ticker/price",
            get(route!(Sec::None, 1, ticker_price)),
        )
        .route(
            "/fapi/v2/ticker/price",
            get(route!(Sec::None, 1, ticker_price)),
        )
        .route(
            "/fapi/v1/premiumIndex",
            get(route!(Sec::None, 1, |s: &Shared, c: &Caller| {
                let (ex, now) = s.locked();
                info::premium_index(&ex.market, &SymbolFilter::parse(&c.params), now)
            })),
        )
        .route(
            "/fapi/v1/fundingRate",
            get(route!(Sec::None, 1, |s: &Shared, c: &Caller| {
                let req = FundingRate::parse(&c.params)?;
                let (ex, now) = s.locked();
                info::funding_rate(&ex.market, &req, now)
            })),
        )
        .route(
            "/fapi/v1/allAlgoOrders",
            get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = AllAlgoOrders::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::algos(&ex.all_algo_orders(a, &req, now)?))
            })),
        )
        .route(
            "/fapi/v1/algoOpenOrders",
            axum::routing::delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let symbol = c.params.req("symbol")?;
                let (mut ex, now) = s.locked();
                ex.cancel_all_algo(a, symbol, now)?;
                Ok(replies::all_cancelled())
            })),
        )
        .route(
            "/fapi/v1/depth",
            get(route!(Sec::None, 5, |s: &Shared, c: &Caller| {
                let req = Depth::parse(&c.params)?;
                let (ex, now) = s.locked();
                info::depth(&ex.market, &req, now)
            })),
        )
        .route(
            "/fapi/v3/account",
            get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                account_view(s, c, false)
            })),
        )
        .route(
            "/fapi/v2/account",
            get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                account_view(s, c, true)
            })),
        )
        .route(
            "/fapi/v3/balance",
            get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let (mut ex, now) = s.locked();
                Ok(account_reply::balance(&ex.balance(a, now), now))
            })),
        )
        .route(
            "/fapi/v3/positionRisk",
            get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let filter = SymbolFilter::parse(&c.params);
                let (mut ex, now) = s.locked();
                Ok(account_reply::position_risk(&ex.position_risk(
                    a,
                    filter.get(),
                    now,
                )))
            })),
        )
        .route(
            "/fapi/v1/positionSide/dual",
            get(route!(Sec::Signed, 30, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                Ok(account_reply::position_mode(
                    s.exchange().accounts[a].dual_side,
                ))
            }))
            .post(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = SetPositionMode::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                ex.set_position_mode(a, req, now)?;
                Ok(replies::success())
            })),
        )
        .route(
            "/fapi/v1/ticker/24hr",
            get(route!(Sec::None, 1, |s: &Shared, c: &Caller| {
                let filter = SymbolFilter::parse(&c.params);
                // Weight 1 with a symbol, 40 for all of them.
                if filter.get().is_none() {
                    charge(s, 39).map_err(|(e, _)| e)?;
                }
                let (ex, now) = s.locked();
                info::ticker_24hr(&ex.market, &filter, now)
            })),
        )
        .route(
            "/fapi/v1/multiAssetsMargin",
            get(route!(Sec::Signed, 30, |_, c: &Caller| {
                account(c)?;
                Ok(account_reply::multi_assets_margin())
            })),
        )
        .route(
            "/fapi/v1/leverage",
            post(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = SetLeverage::parse(&c.params)?;
                let cap = s.exchange().set_leverage(a, &req)?;
                Ok(account_reply::leverage(&req.symbol, req.leverage, cap))
            })),
        )
        .route(
            "/fapi/v1/marginType",
            post(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = SetMarginType::parse(&c.params)?;
                s.exchange().set_margin_type(a, &req)?;
                Ok(replies::success())
            })),
        )
        .route(
            "/fapi/v1/order",
            // IP weight 0: new and modified orders count against the order limits instead.
            post(route!(Sec::Signed, 0, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = NewOrder::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::new_order(
                    &ex.new_order(a, &req, now)?,
                    req.resp_type,
                ))
            }))
            .get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = OrderLookup::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::order(ex.query_order(a, &req, now)?, true))
            }))
            .delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                // A cancel answers -2011 whatever kept it from finding the order.
                let req = OrderLookup::parse(&c.params).map_err(|_| ApiError::unknown_order())?;
                let (mut ex, now) = s.locked();
                Ok(trading::order(&ex.cancel_order(a, &req, now)?, true))
            }))
            .put(route!(Sec::Signed, 0, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = ModifyOrder::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::modified(&ex.modify_order(a, &req, now)?, &req))
            })),
        )
        .route(
            "/fapi/v1/orderAmendment",
            get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = Amendments::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::amendments(&ex.order_amendments(a, &req, now)?))
            })),
        )
        .route(
            "/fapi/v1/ticker/bookTicker",
            get(route!(Sec::None, 2, |s: &Shared, c: &Caller| {
                let filter = SymbolFilter::parse(&c.params);
                // Weight 2 with a symbol, 5 for all of them.
                if filter.get().is_none() {
                    charge(s, 3).map_err(|(e, _)| e)?;
                }
                let (ex, now) = s.locked();
                info::book_ticker(&ex.market, &filter, now)
            })),
        )
        .route(
            "/fapi/v1/openOrders",
            get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let filter = SymbolFilter::parse(&c.params);
                let (mut ex, now) = s.locked();
                Ok(trading::orders(&ex.open_orders(a, filter.get(), now)))
            })),
        )
        .route(
            "/fapi/v1/batchOrders",
            post(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = BatchOrders::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::batch_placed(&req, &ex.batch_orders(a, &req, now)))
            }))
            .put(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = BatchModify::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::batch_modified(
                    &req,
                    &ex.batch_modify(a, &req, now),
                ))
            }))
            .delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = CancelBatch::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(replies::batch(&ex.cancel_batch(a, &req, now)?, |o| {
                    trading::order(o, true)
                }))
            })),
        )
        .route(
            "/fapi/v1/leverageBracket",
            get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                account(c)?;
                let filter = SymbolFilter::parse(&c.params);
                let ex = s.exchange();
                match filter.get() {
                    Some(symbol) => Ok(account_reply::brackets(ex.spec(symbol)?)),
                    None => Ok(Value::Array(
                        ex.market
                            .symbols()
                            .into_iter()
                            .filter_map(|s| ex.market.spec(s))
                            .map(account_reply::brackets)
                            .collect(),
                    )),
                }
            })),
        )
        .route(
            "/fapi/v1/allOrders",
            get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = AllOrders::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::orders(&ex.all_orders(a, &req, now)?))
            })),
        )
        .route(
            "/fapi/v1/allOpenOrders",
            axum::routing::delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let symbol = c.params.req("symbol")?;
                let (mut ex, now) = s.locked();
                ex.cancel_all(a, symbol, now)?;
                Ok(replies::all_cancelled())
            })),
        )
        .route(
            "/fapi/v1/openAlgoOrders",
            get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let filter = SymbolFilter::parse(&c.params);
                let (mut ex, now) = s.locked();
                Ok(trading::algos(&ex.open_algo_orders(a, filter.get(), now)))
            })),
        )
        .route(
            "/fapi/v1/algoOrder",
            post(route!(Sec::Signed, 0, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = NewAlgoOrder::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::algo(&ex.new_algo_order(a, &req, now)?))
            }))
            .get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let by = OrderRef::algo(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::algo(ex.query_algo(a, &by, now)?))
            }))
            .delete(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                // A cancel answers -2011 whatever kept it from finding the order.
                let by = OrderRef::algo(&c.params).map_err(|_| ApiError::unknown_order())?;
                let (mut ex, now) = s.locked();
                Ok(trading::algo_cancelled(&ex.cancel_algo(a, &by, now)?))
            })),
        )
        .route(
            "/fapi/v1/userTrades",
            get(route!(Sec::Signed, 5, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = UserTrades::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(trading::trades(&ex.user_trades(a, &req, now)?))
            })),
        )
        .route(
            "/fapi/v1/income",
            get(route!(Sec::Signed, 30, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                let req = Income::parse(&c.params)?;
                let (mut ex, now) = s.locked();
                Ok(account_reply::income(&ex.income(a, &req, now)))
            })),
        )
        .route(
            "/sapi/v1/account/apiRestrictions",
            get(route!(Sec::Signed, 1, |s: &Shared, c: &Caller| {
                let a = account(c)?;
                Ok(account_reply::api_restrictions(
                    &s.exchange().accounts[a].permissions,
                ))
            })),
        )
        .route(
            "/fapi/v1/listenKey",
            post(route!(Sec::Key, 1, |s: &Shared, c: &Caller| listen_key(
                s,
                c,
                Method::POST
            )))
            .put(route!(Sec::Key, 1, |s: &Shared, c: &Caller| listen_key(
                s,
                c,
                Method::PUT
            )))
            .delete(route!(Sec::Key, 1, |s: &Shared, c: &Caller| listen_key(
                s,
                c,
                Method::DELETE
            ))),
        )
        .route("/private/ws", get(crate::streams::private))
        .route(
            "/private/ws/{listen_key}",
            get(crate::streams::private_path),
        )
        .route("/market/stream", get(crate::streams::market_combined))
        .route("/market/ws/{streams}", get(crate::streams::market_raw))
        .route("/admin/accounts", post(admin_account))
        .route("/admin/clock", post(admin_clock))
        .route("/admin/faults", post(admin_faults))
        .route("/admin/streams/drop", post(admin_drop_streams))
        .fallback(|| async {
            ApiError {
                status: 404,
                code: -1000,
                msg: "Unknown endpoint.".into(),
            }
            .into_response()
        })
        .with_state(shared)
}

/// `GET /fapi/v1/ticker/price` (v1 and v2).
fn ticker_price(s: &Shared, c: &Caller) -> Result<Value, ApiError> {
    let (ex, now) = s.locked();
    info::ticker_price(&ex.market, &SymbolFilter::parse(&c.params), now)
}

/// `GET /fapi/v3/account`, or v2 with its extra fields.
fn account_view(s: &Shared, c: &Caller, v2: bool) -> Result<Value, ApiError> {
    let a = account(c)?;
    let (mut ex, now) = s.locked();
    Ok(account_reply::account(&ex.account(a, now), v2, now))
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
            Ok(replies::listen_key(&key))
        }
        Method::PUT => existing
            .map(|k| {
                k.expires_ms = now + LISTEN_KEY_TTL_MS;
                replies::listen_key(&k.key)
            })
            .ok_or_else(|| ApiError::bad(-1125, "This listenKey does not exist.")),
        _ => {
            keys.retain(|k| k.account != a);
            Ok(replies::empty())
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
    axum::Json(json!({"apiKey": key, "balance": replies::dec(balance)})).into_response()
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
