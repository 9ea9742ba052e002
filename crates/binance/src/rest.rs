//! The HTTP transport every REST call goes through: signing, server-time sync, rate-limit
//! pacing and the sorting of failures into [`ExchangeError`] variants.
//!
//! Over 800 lines on purpose: the signed query, the time offset and the failure sorting are
//! one sequence per request, and the redirect/URL-exposure rules must sit beside it to be
//! read as one.
//!
//! All parameters travel in the query string, for every method, as Binance's own connector
//! sends them; the body stays empty, so `totalParams` is the query string. `signature` is
//! always the last parameter.
//!
//! What leaves this machine goes only where the base URL says: redirects are never followed
//! (a followed redirect would carry `X-MBX-APIKEY` and, as `Referer`, the signed query to
//! whichever host the reply names), no `Referer` is sent, base URLs are `https` unless they
//! are loopback ([`crate::env::check_base_url`]), and no error keeps a signed query
//! ([`ExchangeError::without_signed_query`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

use crate::error::{ExchangeError, RejectKind, ban_end, body_snippet, strip_signed_query};
use crate::signing::{API_KEY_HEADER, Signer};

/// How an endpoint is authenticated (General Info, "Endpoint Security Type").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Public market data.
    None,
    /// API key header only (listenKey endpoints).
    ApiKey,
    /// API key, `timestamp`, `recvWindow` and `signature` (TRADE and USER_DATA).
    Signed,
}

/// The HTTP methods Binance uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
}

/// One REST endpoint as the contract describes it.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// The HTTP method.
    pub method: Method,
    /// The path, e.g. `/fapi/v1/order`.
    pub path: &'static str,
    /// How it is authenticated.
    pub security: Security,
    /// Its request weight (counted against `X-MBX-USED-WEIGHT-1M`).
    pub weight: u32,
    /// Whether it places orders: counted against the order limits, and a failure after
    /// sending means the order may exist.
    pub places_order: bool,
    /// Whether it is served by the spot base URL (`/sapi/...`).
    pub spot: bool,
}

/// Settings of the transport. The defaults follow Binance's documented limits with headroom.
#[derive(Debug, Clone)]
pub struct RestConfig {
    /// `recvWindow` sent with signed requests, in ms (Binance default 5000, max 60000).
    pub recv_window_ms: u64,
    /// Per-request timeout.
    pub timeout: Duration,
    /// `REQUEST_WEIGHT` limit (2400 per minute on USDⓈ-M), per IP.
    pub weight_limit: RateLimit,
    /// The short `ORDERS` limit (300 per 10 seconds on USDⓈ-M), per account.
    pub order_limit_short: RateLimit,
    /// The long `ORDERS` limit (1200 per minute on USDⓈ-M), per account.
    pub order_limit_long: RateLimit,
    /// Share of each limit the client allows itself, so requests from other tools on the same
    /// IP or account leave room before Binance starts refusing.
    pub headroom: f64,
    /// How long a measured server-time offset is trusted before it is measured again.
    pub time_resync: Duration,
    /// Responses larger than this are refused as malformed instead of filling memory.
    pub max_body_bytes: usize,
}

impl Default for RestConfig {
    fn default() -> Self {
        Self {
            recv_window_ms: 5_000,
            timeout: Duration::from_secs(10),
            weight_limit: RateLimit::per(Duration::from_secs(60), 2_400),
            order_limit_short: RateLimit::per(Duration::from_secs(10), 300),
            order_limit_long: RateLimit::per(Duration::from_secs(60), 1_200),
            headroom: 0.8,
            time_resync: Duration::from_secs(30 * 60),
            max_body_bytes: 32 * 1024 * 1024,
        }
    }
}

/// One of `exchangeInfo.rateLimits`: at most `limit` units per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// The counting window (Binance counts in fixed, aligned windows).
    pub window: Duration,
    /// Units allowed per window.
    pub limit: u32,
}

impl RateLimit {
    /// A limit of `limit` units per `window`.
    pub const fn per(window: Duration, limit: u32) -> Self {
        Self { window, limit }
    }

    /// The `(intervalNum)(intervalLetter)` suffix Binance puts on the usage headers, e.g.
    /// `1m` in `X-MBX-USED-WEIGHT-1M` (header names are case-insensitive).
    pub fn header_suffix(&self) -> String {
        let secs = self.window.as_secs().max(1);
        match secs {
            s if s % 86_400 == 0 => format!("{}d", s / 86_400),
            s if s % 3_600 == 0 => format!("{}h", s / 3_600),
            s if s % 60 == 0 => format!("{}m", s / 60),
            s => format!("{s}s"),
        }
    }
}

/// The machine's clock in UTC milliseconds. Replaceable so tests can run with a skewed clock.
pub type LocalClock = Arc<dyn Fn() -> i64 + Send + Sync>;

fn system_clock() -> LocalClock {
    Arc::new(|| Utc::now().timestamp_millis())
}

/// A fixed-length counting window (one minute of weight, ten seconds of orders, ...).
#[derive(Debug)]
struct Window {
    len_ms: i64,
    budget: u32,
    index: i64,
    used: u32,
}

impl Window {
    fn new(limit: RateLimit, headroom: f64) -> Self {
        // Headroom is a fraction in (0, 1]; the cast saturates and the max keeps at least 1.
        let budget = ((f64::from(limit.limit) * headroom.clamp(0.05, 1.0)) as u32).max(1);
        let len_ms = i64::try_from(limit.window.as_millis())
            .unwrap_or(60_000)
            .max(1);
        Self {
            len_ms,
            budget,
            index: i64::MIN,
            used: 0,
        }
    }

    fn roll(&mut self, now_ms: i64) {
        let index = now_ms.div_euclid(self.len_ms);
        if index != self.index {
            self.index = index;
            self.used = 0;
        }
    }

    /// How long to wait before `cost` fits, or `None` if it fits now.
    ///
    /// Nothing is sent in the last tenth of a window (at most a second): a request booked
    /// there could reach the exchange after the window turned and be counted in the next
    /// one, on top of that window's full budget.
    fn wait_for(&mut self, now_ms: i64, cost: u32) -> Option<i64> {
        self.roll(now_ms);
        let window_end = (self.index + 1) * self.len_ms;
        let guard = (self.len_ms / 10).min(1_000);
        if window_end - now_ms <= guard {
            return Some(window_end - now_ms);
        }
        if self.used.saturating_add(cost) > self.budget && self.used > 0 {
            Some(window_end - now_ms)
        } else {
            None
        }
    }

    fn take(&mut self, cost: u32) {
        self.used = self.used.saturating_add(cost);
    }

    /// The exchange's own count is the truth, but requests still in flight are not in it
    /// yet, so the larger of the two is kept.
    fn observe(&mut self, now_ms: i64, used: u32) {
        self.roll(now_ms);
        self.used = self.used.max(used);
    }
}

#[derive(Debug)]
struct Limits {
    weight: Window,
    orders_short: Window,
    orders_long: Window,
    /// After a 429, nothing is sent before this moment. A monotonic instant rather than the
    /// server-time estimate: the pause is real time, whatever the clocks say.
    paused_until: Option<tokio::time::Instant>,
    banned_until: Option<Option<DateTime<Utc>>>,
}

/// A Binance REST client: one per base URL and key.
pub struct RestClient {
    http: reqwest::Client,
    rest_base: String,
    spot_base: Option<String>,
    signer: Option<Arc<dyn Signer>>,
    config: RestConfig,
    local_clock: LocalClock,
    offset_ms: AtomicI64,
    synced_at_ms: AtomicI64,
    limits: Mutex<Limits>,
    sync_lock: Mutex<()>,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("rest_base", &self.rest_base)
            .field("keyed", &self.signer.is_some())
            .finish_non_exhaustive()
    }
}

/// The outcome of one HTTP exchange before it is judged.
struct RawResponse {
    status: u16,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

impl RestClient {
    /// Creates a client for `urls`, signing with `signer` when given.
    ///
    /// # Errors
    /// [`ExchangeError::Transport`] when a base URL is not `https://` (streams: `wss://`)
    /// and not loopback ([`crate::env::check_base_url`]), or when the HTTP stack cannot be
    /// built (no TLS roots).
    pub fn new(
        urls: &crate::env::BaseUrls,
        signer: Option<Arc<dyn Signer>>,
        config: RestConfig,
    ) -> Result<Self, ExchangeError> {
        Self::with_clock(urls, signer, config, system_clock())
    }

    /// Like [`RestClient::new`] with a custom local clock (tests run with a skewed one).
    ///
    /// # Errors
    /// As [`RestClient::new`].
    pub fn with_clock(
        urls: &crate::env::BaseUrls,
        signer: Option<Arc<dyn Signer>>,
        config: RestConfig,
        local_clock: LocalClock,
    ) -> Result<Self, ExchangeError> {
        for url in std::iter::once(&urls.rest).chain(&urls.spot_rest) {
            crate::env::check_base_url(url, false).map_err(|detail| ExchangeError::Transport {
                endpoint: "(client)",
                detail,
            })?;
        }
        // The streams base is checked here too, so one refusal covers the whole set the app
        // builds from; empty means this set has no streams.
        if !urls.streams.is_empty() {
            crate::env::check_base_url(&urls.streams, true).map_err(|detail| {
                ExchangeError::Transport {
                    endpoint: "(client)",
                    detail,
                }
            })?;
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("perpdesk/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .build()
            .map_err(|e| ExchangeError::Transport {
                endpoint: "(client)",
                detail: e.to_string(),
            })?;
        let limits = Limits {
            weight: Window::new(config.weight_limit, config.headroom),
            orders_short: Window::new(config.order_limit_short, config.headroom),
            orders_long: Window::new(config.order_limit_long, config.headroom),
            paused_until: None,
            banned_until: None,
        };
        Ok(Self {
            http,
            rest_base: urls.rest.trim_end_matches('/').to_owned(),
            spot_base: urls
                .spot_rest
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_owned()),
            signer,
            config,
            local_clock,
            offset_ms: AtomicI64::new(0),
            synced_at_ms: AtomicI64::new(i64::MIN),
            limits: Mutex::new(limits),
            sync_lock: Mutex::new(()),
        })
    }

    /// Returns the estimated exchange time in ms (local clock plus the measured offset).
    pub fn server_now_ms(&self) -> i64 {
        (self.local_clock)() + self.offset_ms.load(Ordering::Acquire)
    }

    /// Returns the measured difference between the exchange's clock and ours, in ms.
    pub fn time_offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Acquire)
    }

    /// Whether this environment has a spot API (`/sapi/...`); the demo has none.
    pub fn has_spot_api(&self) -> bool {
        self.spot_base.is_some()
    }

    /// Measures the exchange's clock against ours with `GET /fapi/v1/time`.
    ///
    /// # Errors
    /// Any failure of the time request.
    pub async fn sync_time(&self) -> Result<i64, ExchangeError> {
        let _one_at_a_time = self.sync_lock.lock().await;
        let before = (self.local_clock)();
        let time: ServerTime = self.send_once(&TIME, &[]).await?;
        let after = (self.local_clock)();
        // Assume the server read its clock halfway through the round trip.
        let offset = time.server_time - (before + (after - before) / 2);
        self.offset_ms.store(offset, Ordering::Release);
        self.synced_at_ms.store(after, Ordering::Release);
        tracing::debug!(
            offset_ms = offset,
            rtt_ms = after - before,
            "server time synced"
        );
        Ok(offset)
    }

    async fn ensure_time_synced(&self) -> Result<(), ExchangeError> {
        let synced_at = self.synced_at_ms.load(Ordering::Acquire);
        let age = (self.local_clock)().saturating_sub(synced_at);
        let max_age = i64::try_from(self.config.time_resync.as_millis()).unwrap_or(i64::MAX);
        if synced_at == i64::MIN || age > max_age {
            self.sync_time().await?;
        }
        Ok(())
    }

    /// Calls `endpoint` with `params` and parses the reply as `T`.
    ///
    /// Signed calls sync the server time first when needed; a -1021 (timestamp outside
    /// recvWindow) re-syncs and retries once; a 429 waits (`Retry-After` or the end of the
    /// window) and retries once. Orders are never resent after an unknown outcome: that is
    /// [`ExchangeError::UnknownExecution`] for the caller to resolve by lookup.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn call<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
    ) -> Result<T, ExchangeError> {
        if endpoint.security == Security::Signed {
            self.ensure_time_synced().await?;
        }
        match self.send_once(endpoint, params).await {
            Err(ExchangeError::Rejected { code, .. })
                if RejectKind::from_code(code) == RejectKind::InvalidTimestamp =>
            {
                tracing::warn!(
                    endpoint = endpoint.path,
                    "timestamp rejected; resyncing the clock"
                );
                self.sync_time().await?;
                self.send_once(endpoint, params).await
            }
            Err(ExchangeError::RateLimited { retry_after, .. }) => {
                tracing::warn!(
                    endpoint = endpoint.path,
                    ?retry_after,
                    "rate limited; backing off once"
                );
                tokio::time::sleep(retry_after).await;
                self.send_once(endpoint, params).await
            }
            other => other,
        }
    }

    /// Builds the query string: the caller's parameters in order, then recvWindow,
    /// timestamp and signature for signed endpoints.
    fn query(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
    ) -> Result<String, ExchangeError> {
        if endpoint.security == Security::Signed {
            let signer = self.signer.as_ref().ok_or(ExchangeError::NoCredentials {
                endpoint: endpoint.path,
            })?;
            return Ok(crate::signing::signed_query(
                params,
                self.config.recv_window_ms,
                self.server_now_ms(),
                signer.as_ref(),
            ));
        }
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            q.append_pair(k, v);
        }
        Ok(q.finish())
    }

    /// Waits for room in the rate-limit windows, then books the request's cost.
    async fn pace(&self, endpoint: &Endpoint) -> Result<(), ExchangeError> {
        loop {
            let wait_ms = {
                let mut limits = self.limits.lock().await;
                if let Some(until) = limits.banned_until {
                    let still = until.is_none_or(|t| t.timestamp_millis() > self.server_now_ms());
                    if still {
                        return Err(ExchangeError::IpBanned { until });
                    }
                    limits.banned_until = None;
                }
                let now = self.server_now_ms();
                let mut wait = limits.paused_until.map_or(0, |t| {
                    let left = t.saturating_duration_since(tokio::time::Instant::now());
                    i64::try_from(left.as_millis()).unwrap_or(i64::MAX)
                });
                if wait == 0 {
                    let w = limits.weight.wait_for(now, endpoint.weight);
                    let o1 = endpoint
                        .places_order
                        .then(|| limits.orders_short.wait_for(now, 1))
                        .flatten();
                    let o2 = endpoint
                        .places_order
                        .then(|| limits.orders_long.wait_for(now, 1))
                        .flatten();
                    wait = [w, o1, o2].into_iter().flatten().max().unwrap_or(0);
                }
                if wait == 0 {
                    limits.weight.take(endpoint.weight);
                    if endpoint.places_order {
                        limits.orders_short.take(1);
                        limits.orders_long.take(1);
                    }
                    return Ok(());
                }
                wait
            };
            tracing::debug!(
                endpoint = endpoint.path,
                wait_ms,
                "pacing before the rate limit"
            );
            tokio::time::sleep(Duration::from_millis(
                u64::try_from(wait_ms).unwrap_or(0) + 5,
            ))
            .await;
        }
    }

    async fn observe_headers(&self, headers: &reqwest::header::HeaderMap) {
        let read =
            |name: String| -> Option<u32> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let c = &self.config;
        let weight = read(format!(
            "x-mbx-used-weight-{}",
            c.weight_limit.header_suffix()
        ));
        let short = read(format!(
            "x-mbx-order-count-{}",
            c.order_limit_short.header_suffix()
        ));
        let long = read(format!(
            "x-mbx-order-count-{}",
            c.order_limit_long.header_suffix()
        ));
        let now = self.server_now_ms();
        let mut limits = self.limits.lock().await;
        if let Some(used) = weight {
            limits.weight.observe(now, used);
        }
        if let Some(used) = short {
            limits.orders_short.observe(now, used);
        }
        if let Some(used) = long {
            limits.orders_long.observe(now, used);
        }
    }

    async fn exchange(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
    ) -> Result<RawResponse, ExchangeError> {
        let base = if endpoint.spot {
            self.spot_base.as_deref().ok_or(ExchangeError::Transport {
                endpoint: endpoint.path,
                detail: "this environment has no spot API".into(),
            })?
        } else {
            &self.rest_base
        };
        let query = self.query(endpoint, params)?;
        let url = if query.is_empty() {
            format!("{base}{}", endpoint.path)
        } else {
            format!("{base}{}?{query}", endpoint.path)
        };
        let method = match endpoint.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut request = self.http.request(method, url);
        if endpoint.security != Security::None {
            let signer = self.signer.as_ref().ok_or(ExchangeError::NoCredentials {
                endpoint: endpoint.path,
            })?;
            request = request.header(API_KEY_HEADER, signer.api_key());
        }
        self.pace(endpoint).await?;
        let mut response = request
            .send()
            .await
            .map_err(|e| Self::send_failure(endpoint, e))?;
        self.observe_headers(response.headers()).await;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > self.config.max_body_bytes {
                        return Err(ExchangeError::decode(
                            endpoint.path,
                            status,
                            format!("body larger than {} bytes", self.config.max_body_bytes),
                            &body,
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(Self::send_failure(endpoint, e)),
            }
        }
        Ok(RawResponse {
            status,
            retry_after,
            body,
        })
    }

    /// Sorts a transport failure: before the request left, nothing happened; after it left,
    /// an order may exist.
    fn send_failure(endpoint: &Endpoint, e: reqwest::Error) -> ExchangeError {
        let sent = !e.is_connect() && !e.is_builder();
        let timed_out = e.is_timeout();
        let detail = transport_detail(e);
        if sent && endpoint.places_order {
            ExchangeError::UnknownExecution {
                endpoint: endpoint.path,
                detail,
            }
        } else if timed_out {
            ExchangeError::Unavailable {
                endpoint: endpoint.path,
                status: 0,
                detail: format!("timed out: {detail}"),
            }
        } else {
            ExchangeError::Transport {
                endpoint: endpoint.path,
                detail,
            }
        }
    }

    async fn send_once<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
    ) -> Result<T, ExchangeError> {
        let outcome = match self.exchange(endpoint, params).await {
            Ok(raw) => self.judge(endpoint, raw).await,
            Err(e) => Err(e),
        };
        outcome.map_err(ExchangeError::without_signed_query)
    }

    async fn judge<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        raw: RawResponse,
    ) -> Result<T, ExchangeError> {
        let path = endpoint.path;
        let status = raw.status;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&raw.body)
                .map_err(|e| ExchangeError::decode(path, status, e, &raw.body));
        }
        let payload: Option<ErrorPayload> = serde_json::from_slice(&raw.body).ok();
        // Too many new orders counts the account's orders, not the IP's weight: that order
        // was refused (nothing executed), but queries and cancels may go on, so no pause.
        if let Some(p) = payload
            .as_ref()
            .filter(|p| status == 429 && p.code == -1015)
        {
            return Err(ExchangeError::Rejected {
                endpoint: path,
                status,
                code: p.code,
                msg: p.msg.clone(),
            });
        }
        match status {
            429 => {
                let wait = match raw.retry_after {
                    Some(d) => d,
                    None => {
                        let now = self.server_now_ms();
                        Duration::from_millis(
                            u64::try_from(60_000 - now.rem_euclid(60_000)).unwrap_or(1_000),
                        )
                    }
                };
                let mut limits = self.limits.lock().await;
                limits.paused_until = Some(tokio::time::Instant::now() + wait);
                Err(ExchangeError::RateLimited {
                    endpoint: path,
                    retry_after: wait,
                })
            }
            418 => {
                let until = payload.as_ref().and_then(|p| ban_end(&p.msg)).or_else(|| {
                    raw.retry_after.and_then(|d| {
                        DateTime::from_timestamp_millis(
                            self.server_now_ms() + i64::try_from(d.as_millis()).unwrap_or(0),
                        )
                    })
                });
                self.limits.lock().await.banned_until = Some(until);
                tracing::error!(
                    ?until,
                    "Binance banned this IP; all requests stop until then"
                );
                Err(ExchangeError::IpBanned { until })
            }
            403 => Err(ExchangeError::Firewall { endpoint: path }),
            // Binance never redirects an API call; a redirect comes from something else on the
            // path and was not followed (see the module doc). The Location is left out: it is
            // the other host's choice and may repeat the signed query.
            300..=399 => {
                let detail = format!(
                    "redirected elsewhere (HTTP {status}); exchange requests never follow redirects"
                );
                if endpoint.places_order {
                    Err(ExchangeError::UnknownExecution {
                        endpoint: path,
                        detail,
                    })
                } else {
                    Err(ExchangeError::Unavailable {
                        endpoint: path,
                        status,
                        detail,
                    })
                }
            }
            408 | 500..=599 => {
                let detail = payload
                    .as_ref()
                    .map_or_else(|| body_snippet(&raw.body, 200), |p| p.msg.clone());
                // Binance documents two 503 messages that mean "not executed"; anything else
                // after an order was sent may have executed.
                let not_executed = detail.contains("Service Unavailable")
                    || detail.contains("unable to process your request");
                if endpoint.places_order && !not_executed {
                    Err(ExchangeError::UnknownExecution {
                        endpoint: path,
                        detail: format!("HTTP {status}: {detail}"),
                    })
                } else {
                    Err(ExchangeError::Unavailable {
                        endpoint: path,
                        status,
                        detail,
                    })
                }
            }
            _ => match payload {
                Some(p)
                    if endpoint.places_order
                        && RejectKind::from_code(p.code) == RejectKind::ExecutionUnknown =>
                {
                    Err(ExchangeError::UnknownExecution {
                        endpoint: path,
                        detail: format!("{}: {}", p.code, p.msg),
                    })
                }
                Some(p) => Err(ExchangeError::Rejected {
                    endpoint: path,
                    status,
                    code: p.code,
                    msg: p.msg,
                }),
                None => Err(ExchangeError::decode(
                    path,
                    status,
                    "error without {code, msg}",
                    &raw.body,
                )),
            },
        }
    }
}

/// The words of a transport error and of every error under it (reqwest's own text is
/// generic; the reason, e.g. "Connection refused", is further down), without the request's
/// URL: `without_url` drops reqwest's copy, and the strip catches a layer below that repeats
/// it.
fn transport_detail(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        // hyper and reqwest often wrap an error and print its words again.
        if !detail.contains(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        source = s.source();
    }
    strip_signed_query(&detail).into_owned()
}

#[derive(serde::Deserialize)]
struct ErrorPayload {
    code: i64,
    msg: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServerTime {
    server_time: i64,
}

/// `GET /fapi/v1/time`, used by the clock sync.
pub const TIME: Endpoint = Endpoint {
    method: Method::Get,
    path: "/fapi/v1/time",
    security: Security::None,
    weight: 1,
    places_order: false,
    spot: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_waits_until_the_next_period_when_full() {
        let mut w = Window::new(RateLimit::per(Duration::from_secs(60), 10), 1.0);
        assert_eq!(w.wait_for(120_000, 6), None);
        w.take(6);
        assert_eq!(w.wait_for(150_000, 5), Some(30_000));
        assert_eq!(w.wait_for(180_000, 5), None, "a new minute starts empty");
    }

    #[test]
    fn nothing_is_sent_in_the_last_second_of_a_window() {
        let mut w = Window::new(RateLimit::per(Duration::from_secs(60), 10), 1.0);
        assert_eq!(w.wait_for(59_500, 1), Some(500));
        assert_eq!(w.wait_for(58_999, 1), None);
    }

    #[test]
    fn a_window_trusts_the_larger_of_its_count_and_the_exchange_count() {
        let mut w = Window::new(RateLimit::per(Duration::from_secs(60), 100), 1.0);
        w.roll(0);
        w.take(10);
        w.observe(1, 40);
        assert_eq!(w.used, 40);
        w.observe(2, 5);
        assert_eq!(w.used, 40);
    }

    #[test]
    fn header_suffixes_follow_binance_interval_letters() {
        assert_eq!(
            RateLimit::per(Duration::from_secs(60), 1).header_suffix(),
            "1m"
        );
        assert_eq!(
            RateLimit::per(Duration::from_secs(10), 1).header_suffix(),
            "10s"
        );
        assert_eq!(
            RateLimit::per(Duration::from_secs(86_400), 1).header_suffix(),
            "1d"
        );
    }

    #[test]
    fn headroom_keeps_a_share_of_the_limit_free() {
        let w = Window::new(RateLimit::per(Duration::from_secs(60), 2_400), 0.8);
        assert_eq!(w.budget, 1_920);
    }
}
