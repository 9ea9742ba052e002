//! Market and user-data WebSocket connections that stay up: reconnect with backoff, keep the
//! listenKey alive, and tell the caller after every reconnect so it can resync over REST
//! (events sent while the socket was down are gone).
//!
//! These are futures the caller drives (`run(sink)`); the app decides where they run, so
//! this crate spawns no long-lived task of its own.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::error::{ExchangeError, RejectKind};
use crate::rest::{Endpoint, Method, RestClient, Security};

/// What a stream tells its caller.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent<T> {
    /// The socket is (re)connected. After a reconnect (`first == false`) anything sent while
    /// it was down was missed: resync orders, positions or candles over REST.
    Connected {
        /// `true` for the first connection of this stream.
        first: bool,
    },
    /// A message from the exchange.
    Message(T),
    /// A message that did not parse; kept so it can be logged and reported.
    Malformed {
        /// The parser's complaint.
        error: String,
        /// The raw text (at most 500 characters).
        raw: String,
    },
    /// The socket dropped; a reconnect follows after `retry_in`.
    Disconnected {
        /// Why.
        reason: String,
        /// The backoff before the next attempt.
        retry_in: Duration,
    },
}

/// Reconnect and keepalive settings.
#[derive(Debug, Clone, Copy)]
pub struct StreamConfig {
    /// The first reconnect delay, doubled after each failure.
    pub backoff_min: Duration,
    /// The longest reconnect delay.
    pub backoff_max: Duration,
    /// How often the listenKey is extended (Binance: valid 60 min; extend every 30).
    pub keepalive: Duration,
    /// Binance closes every connection after 24 h; reconnect a little before that.
    pub max_connection_age: Duration,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            keepalive: Duration::from_secs(30 * 60),
            max_connection_age: Duration::from_secs(23 * 3600 + 50 * 60),
        }
    }
}

/// `POST /fapi/v1/listenKey`: creates (or returns the current) user-data stream key.
pub const LISTEN_KEY_CREATE: Endpoint = Endpoint {
    method: Method::Post,
    path: "/fapi/v1/listenKey",
    security: Security::ApiKey,
    weight: 1,
    places_order: false,
    spot: false,
};
/// `PUT /fapi/v1/listenKey`: extends the key by 60 minutes.
pub const LISTEN_KEY_KEEPALIVE: Endpoint = Endpoint {
    method: Method::Put,
    path: "/fapi/v1/listenKey",
    security: Security::ApiKey,
    weight: 1,
    places_order: false,
    spot: false,
};
/// `DELETE /fapi/v1/listenKey`: closes the user-data stream.
pub const LISTEN_KEY_CLOSE: Endpoint = Endpoint {
    method: Method::Delete,
    path: "/fapi/v1/listenKey",
    security: Security::ApiKey,
    weight: 1,
    places_order: false,
    spot: false,
};

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListenKeyReply {
    listen_key: String,
}

/// The `/market` route URL for combined `streams`. Symbols are lowercased, as Binance
/// requires; the stream type after `@` keeps its case (`markPrice`).
pub fn market_url(streams_base: &str, streams: &[String]) -> String {
    let names: Vec<String> = streams
        .iter()
        .map(|s| match s.split_once('@') {
            Some((symbol, kind)) => format!("{}@{kind}", symbol.to_lowercase()),
            None => s.to_lowercase(),
        })
        .collect();
    format!(
        "{}/market/stream?streams={}",
        streams_base.trim_end_matches('/'),
        names.join("/")
    )
}

/// The `/private` route URL for a listenKey.
pub fn private_url(streams_base: &str, listen_key: &str) -> String {
    format!(
        "{}/private/ws?listenKey={listen_key}",
        streams_base.trim_end_matches('/')
    )
}

/// `reason` with every copy of the listen key replaced. The key is a bearer token for the
/// account's private stream, and a reason travels on to the log, the UI and the caller; a
/// server's close frame or error text may echo the URL that carries it.
fn without_key(reason: &str, listen_key: &str) -> String {
    if listen_key.is_empty() {
        return reason.to_owned();
    }
    reason.replace(listen_key, "<listenKey>")
}

/// Why a connection ended.
enum Ended {
    /// The caller dropped the receiver: stop for good.
    CallerGone,
    /// Reconnect (with the reason), maybe with a new listenKey.
    Reconnect(String),
    /// The listenKey is no longer valid: get a new one, then reconnect.
    NewKey(String),
}

async fn send<T>(sink: &mpsc::Sender<StreamEvent<T>>, event: StreamEvent<T>) -> bool {
    sink.send(event).await.is_ok()
}

fn parse<T: DeserializeOwned>(text: &str) -> StreamEvent<T> {
    match serde_json::from_str(text) {
        Ok(message) => StreamEvent::Message(message),
        Err(e) => StreamEvent::Malformed {
            error: e.to_string(),
            raw: text.chars().take(500).collect(),
        },
    }
}

/// Reads one connection until it ends. `on_text` may ask for a new key (listenKeyExpired).
async fn pump<T: DeserializeOwned>(
    url: &str,
    config: StreamConfig,
    sink: &mpsc::Sender<StreamEvent<T>>,
    first: &mut bool,
    delay: &mut Duration,
    keepalive: Option<(&RestClient, &str)>,
    expired: impl Fn(&str) -> bool,
) -> Ended {
    let (socket, _) = match tokio_tungstenite::connect_async(url).await {
        Ok(ok) => ok,
        Err(e) => return Ended::Reconnect(format!("connect: {e}")),
    };
    if !send(sink, StreamEvent::Connected { first: *first }).await {
        return Ended::CallerGone;
    }
    *first = false;
    *delay = config.backoff_min;
    let (mut write, mut read) = socket.split();
    let age_limit = tokio::time::sleep(config.max_connection_age);
    tokio::pin!(age_limit);
    let mut keepalive_tick = tokio::time::interval_at(
        tokio::time::Instant::now() + config.keepalive,
        config.keepalive,
    );
    loop {
        tokio::select! {
            frame = read.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    if expired(text.as_str()) {
                        return Ended::NewKey("listenKeyExpired".into());
                    }
                    if !send(sink, parse(text.as_str())).await {
                        return Ended::CallerGone;
                    }
                }
                Some(Ok(Message::Ping(payload))) => {
                    // tungstenite queues the pong; flushing sends it now rather than with the next write.
                    let _ = write.send(Message::Pong(payload)).await;
                }
                Some(Ok(Message::Close(frame))) => {
                    return Ended::Reconnect(format!("closed by server: {frame:?}"));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Ended::Reconnect(format!("read: {e}")),
                None => return Ended::Reconnect("stream ended".into()),
            },
            _ = keepalive_tick.tick(), if keepalive.is_some() => {
                if let Some((rest, _key)) = keepalive {
                    match rest.call::<serde_json::Value>(&LISTEN_KEY_KEEPALIVE, &[]).await {
                        Ok(_) => tracing::debug!("listenKey extended"),
                        Err(e) if e.reject_kind() == Some(RejectKind::InvalidListenKey) => {
                            return Ended::NewKey(format!("keepalive: {e}"));
                        }
                        Err(e) => tracing::warn!(error = %e, "listenKey keepalive failed; retrying next tick"),
                    }
                }
            },
            () = &mut age_limit => {
                let _ = write.send(Message::Close(None)).await;
                return Ended::Reconnect("24-hour connection limit".into());
            },
            () = sink.closed() => return Ended::CallerGone,
        }
    }
}

async fn backoff<T>(
    sink: &mpsc::Sender<StreamEvent<T>>,
    reason: String,
    delay: &mut Duration,
    config: StreamConfig,
) -> bool {
    let retry_in = *delay;
    *delay = (*delay * 2).min(config.backoff_max);
    tracing::warn!(%reason, ?retry_in, "stream disconnected");
    if !send(sink, StreamEvent::Disconnected { reason, retry_in }).await {
        return false;
    }
    tokio::time::sleep(retry_in).await;
    true
}

/// Market streams (klines, mark price, ...) on the `/market` route, combined on one socket.
#[derive(Debug, Clone)]
pub struct MarketStream {
    url: String,
    config: StreamConfig,
}

impl MarketStream {
    /// A combined stream of `streams` (e.g. `btcusdt@kline_1h`, `btcusdt@markPrice@1s`).
    pub fn new(streams_base: &str, streams: &[String], config: StreamConfig) -> Self {
        Self {
            url: market_url(streams_base, streams),
            config,
        }
    }

    /// Runs until `sink` is dropped, reconnecting as needed. Messages are the combined-stream
    /// wrapper `{stream, data}` parsed as `T`.
    pub async fn run<T: DeserializeOwned>(self, sink: mpsc::Sender<StreamEvent<T>>) {
        let mut first = true;
        let mut delay = self.config.backoff_min;
        loop {
            match pump(
                &self.url,
                self.config,
                &sink,
                &mut first,
                &mut delay,
                None,
                |_| false,
            )
            .await
            {
                Ended::CallerGone => return,
                Ended::Reconnect(reason) | Ended::NewKey(reason) => {
                    if !backoff(&sink, reason, &mut delay, self.config).await {
                        return;
                    }
                }
            }
        }
    }
}

/// The user-data stream on the `/private` route, with its listenKey kept alive.
#[derive(Debug, Clone)]
pub struct UserStream {
    rest: Arc<RestClient>,
    streams_base: String,
    config: StreamConfig,
}

impl UserStream {
    /// A user-data stream for the account of `rest`'s key.
    pub fn new(rest: Arc<RestClient>, streams_base: &str, config: StreamConfig) -> Self {
        Self {
            rest,
            streams_base: streams_base.trim_end_matches('/').to_owned(),
            config,
        }
    }

    /// Creates (or fetches) the listenKey.
    ///
    /// # Errors
    /// Any REST failure.
    pub async fn listen_key(&self) -> Result<String, ExchangeError> {
        let reply: ListenKeyReply = self.rest.call(&LISTEN_KEY_CREATE, &[]).await?;
        Ok(reply.listen_key)
    }

    /// Runs until `sink` is dropped: keeps the key alive every `keepalive`, gets a new key on
    /// `listenKeyExpired` or -1125, and reconnects with backoff.
    ///
    /// The key is asked for before every connection. Binance returns the account's key while
    /// it is valid (extending it) and a new one once it has expired, which it may have while
    /// the socket was down (a network drop, a laptop asleep past 60 minutes): reconnecting
    /// with the old key would then be refused for good.
    pub async fn run<T: DeserializeOwned>(self, sink: mpsc::Sender<StreamEvent<T>>) {
        let mut first = true;
        let mut delay = self.config.backoff_min;
        loop {
            let key = match self.listen_key().await {
                Ok(k) => k,
                Err(e) => {
                    if !backoff(&sink, format!("listenKey: {e}"), &mut delay, self.config).await {
                        return;
                    }
                    continue;
                }
            };
            let url = private_url(&self.streams_base, &key);
            let ended = match pump(
                &url,
                self.config,
                &sink,
                &mut first,
                &mut delay,
                Some((&self.rest, &key)),
                |text| text.contains("\"listenKeyExpired\""),
            )
            .await
            {
                Ended::Reconnect(reason) => Ended::Reconnect(without_key(&reason, &key)),
                Ended::NewKey(reason) => Ended::NewKey(without_key(&reason, &key)),
                Ended::CallerGone => Ended::CallerGone,
            };
            match ended {
                Ended::CallerGone => {
                    if let Err(e) = self
                        .rest
                        .call::<serde_json::Value>(&LISTEN_KEY_CLOSE, &[])
                        .await
                    {
                        tracing::debug!(error = %e, "closing the listenKey failed; it expires on its own");
                    }
                    return;
                }
                Ended::NewKey(reason) => {
                    tracing::info!(%reason, "getting a new listenKey");
                    if !send(
                        &sink,
                        StreamEvent::Disconnected {
                            reason,
                            retry_in: Duration::ZERO,
                        },
                    )
                    .await
                    {
                        return;
                    }
                }
                Ended::Reconnect(reason) => {
                    if !backoff(&sink, reason, &mut delay, self.config).await {
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn market_urls_use_the_market_route_and_lowercase_names() {
        assert_eq!(
            market_url(
                "wss://fstream.binance.com/",
                &["BTCUSDT@kline_1h".into(), "ethusdt@markPrice@1s".into()]
            ),
            "wss://fstream.binance.com/market/stream?streams=btcusdt@kline_1h/ethusdt@markPrice@1s"
        );
        assert_eq!(
            private_url("wss://x", "abc"),
            "wss://x/private/ws?listenKey=abc"
        );
    }
}
