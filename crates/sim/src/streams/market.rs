//! Market-data connections on `/market`, `/public` and the legacy `/ws`, `/stream` forms.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::book::{self, BookStream, DiffState};
use super::control::{MAX_STREAMS, Subscriptions};
use crate::error::ApiError;
use crate::replies::events as reply;
use crate::server::Shared;

/// Which routed endpoint a connection came in on (CONTRACT.md §0, the 2026 URL split).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/market`: klines, mark price and the other regular market streams.
    Market,
    /// `/public`: the high-frequency class (book ticker, depth, trades).
    Public,
    /// The un-routed `/ws` and `/stream`: they take SUBSCRIBE but deliver only the public class.
    Legacy,
}

/// One market-data stream the simulator serves: `/market`-class unless [`Self::is_public`].
#[derive(Debug, Clone)]
enum MarketStream {
    Kline {
        symbol: String,
        interval: String,
    },
    MarkPrice {
        symbol: String,
        every_ms: u64,
    },
    /// `!markPrice@arr[@1s]`: every listed symbol's update in one array.
    AllMarkPrices {
        every_ms: u64,
    },
    /// `<symbol>@ticker`, pushed every 500 ms.
    Ticker {
        symbol: String,
    },
    /// `!ticker@arr`: every listed symbol's 24 h ticker, pushed every 1000 ms.
    AllTickers,
    /// `<symbol>@miniTicker`: the 24 h ticker's prices and volumes, pushed every 2 s (ccxt's
    /// `watchTicker` on USDⓈ-M).
    MiniTicker {
        symbol: String,
    },
    /// `!miniTicker@arr`: every listed symbol's mini ticker, pushed every 1000 ms.
    AllMiniTickers,
    /// `<symbol>@aggTrade`: pushed as fills happen, not on the tick.
    AggTrade {
        symbol: String,
    },
    /// `/public`: `<symbol>@trade`, pushed as fills happen.
    Trade {
        symbol: String,
    },
    /// `<symbol>@forceOrder`, or every symbol's (`!forceOrder@arr`): liquidations as they
    /// happen.
    ForceOrder {
        symbol: Option<String>,
    },
    /// `/public`: `!bookTicker`, every listed symbol's best bid and ask, one event each.
    AllBookTickers,
    /// `/public`: the book ticker and depth streams.
    Book {
        symbol: String,
        stream: BookStream,
    },
}

impl MarketStream {
    /// Whether it belongs to the `/public` (high-frequency) class.
    fn is_public(&self) -> bool {
        matches!(
            self,
            MarketStream::Trade { .. } | MarketStream::Book { .. } | MarketStream::AllBookTickers
        )
    }

    /// Whether a connection on `route` delivers it: the market class only on `/market`, the
    /// public class on `/public` and the legacy routes.
    fn delivered_on(&self, route: Route) -> bool {
        match route {
            Route::Market => !self.is_public(),
            Route::Public | Route::Legacy => self.is_public(),
        }
    }
}

fn known_symbol(s: &Shared, symbol: &str) -> bool {
    s.exchange
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .market
        .spec(symbol)
        .is_some()
}

/// Resolves a stream name, or says why it is refused.
fn parse_stream(s: &Shared, route: Route, name: &str) -> Result<MarketStream, String> {
    let all = match name {
        "!markPrice@arr" => Some(MarketStream::AllMarkPrices { every_ms: 3_000 }),
        "!markPrice@arr@1s" => Some(MarketStream::AllMarkPrices { every_ms: 1_000 }),
        "!ticker@arr" => Some(MarketStream::AllTickers),
        "!miniTicker@arr" => Some(MarketStream::AllMiniTickers),
        "!forceOrder@arr" => Some(MarketStream::ForceOrder { symbol: None }),
        "!bookTicker" => Some(MarketStream::AllBookTickers),
        _ => None,
    };
    if let Some(stream) = all {
        return on_market(route, name, stream);
    }
    let (symbol, kind) = name
        .split_once('@')
        .ok_or_else(|| format!("invalid stream name `{name}`"))?;
    let symbol = symbol.to_uppercase();
    if !known_symbol(s, &symbol) {
        return Err(format!("unknown symbol in stream `{name}`"));
    }
    let stream = if let Some(interval) = kind.strip_prefix("kline_") {
        if crate::market::interval_ms(interval).is_none() {
            return Err(format!("invalid interval in stream `{name}`"));
        }
        MarketStream::Kline {
            symbol,
            interval: interval.to_owned(),
        }
    } else {
        match kind {
            "markPrice" => MarketStream::MarkPrice {
                symbol,
                every_ms: 3_000,
            },
            "markPrice@1s" => MarketStream::MarkPrice {
                symbol,
                every_ms: 1_000,
            },
            "ticker" => MarketStream::Ticker { symbol },
            "trade" => MarketStream::Trade { symbol },
            "forceOrder" => MarketStream::ForceOrder {
                symbol: Some(symbol),
            },
            "miniTicker" => MarketStream::MiniTicker { symbol },
            "aggTrade" => MarketStream::AggTrade { symbol },
            _ => match BookStream::parse(kind) {
                Some(stream) => MarketStream::Book { symbol, stream },
                None => return Err(format!("stream `{name}` is not served by perpdesk-sim")),
            },
        }
    };
    on_market(route, name, stream)
}

fn on_market(route: Route, name: &str, stream: MarketStream) -> Result<MarketStream, String> {
    match (route, stream.is_public()) {
        (Route::Public, false) => Err(format!(
            "stream `{name}` is served on the /market route, not /public"
        )),
        (Route::Market, true) => Err(format!(
            "stream `{name}` is served on the /public route, not /market"
        )),
        _ => Ok(stream),
    }
}

/// The streams named in a URL (`a/b/c`); ccxt's `/market/ws/<n>` puts a connection counter
/// where a stream name would go, so a bare number names nothing.
fn url_streams(
    s: &Shared,
    route: Route,
    names: &str,
) -> Result<Vec<(String, MarketStream)>, ApiError> {
    let streams: Vec<(String, MarketStream)> = names
        .split('/')
        .filter(|n| !n.is_empty() && !n.bytes().all(|b| b.is_ascii_digit()))
        .map(|n| {
            parse_stream(s, route, n)
                .map(|m| (n.to_owned(), m))
                .map_err(|why| {
                    ApiError::bad(
                        -1130,
                        format!("Data sent for parameter 'streams' is not valid: {why}."),
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    if streams.len() > MAX_STREAMS {
        return Err(ApiError::invalid("streams"));
    }
    Ok(streams)
}

fn open(
    s: Arc<Shared>,
    route: Route,
    names: &str,
    combined: bool,
    ws: WebSocketUpgrade,
) -> Response {
    match url_streams(&s, route, names) {
        Ok(streams) => ws
            .on_upgrade(move |socket| run(s, route, Subscriptions::new(streams, combined), socket)),
        Err(e) => e.into_response(),
    }
}

type Streams = Query<HashMap<String, String>>;

fn query_streams(q: &Streams) -> String {
    q.get("streams").cloned().unwrap_or_default()
}

/// `GET /market/stream[?streams=a/b/c]`.
pub async fn market_combined(
    State(s): State<Arc<Shared>>,
    q: Streams,
    ws: WebSocketUpgrade,
) -> Response {
    open(s, Route::Market, &query_streams(&q), true, ws)
}

/// `GET /market/ws/<stream>[/<stream>…]` (or ccxt's `/market/ws/<n>`).
pub async fn market_raw(
    State(s): State<Arc<Shared>>,
    Path(names): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    open(s, Route::Market, &names, false, ws)
}

/// `GET /market/ws`: no streams yet, SUBSCRIBE later.
pub async fn market_bare(State(s): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    open(s, Route::Market, "", false, ws)
}

/// `GET /public/stream[?streams=…]`.
pub async fn public_combined(
    State(s): State<Arc<Shared>>,
    q: Streams,
    ws: WebSocketUpgrade,
) -> Response {
    open(s, Route::Public, &query_streams(&q), true, ws)
}

/// `GET /public/ws/<stream>[/<stream>…]`.
pub async fn public_raw(
    State(s): State<Arc<Shared>>,
    Path(names): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    open(s, Route::Public, &names, false, ws)
}

/// `GET /public/ws`.
pub async fn public_bare(State(s): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    open(s, Route::Public, "", false, ws)
}

/// `GET /stream[?streams=…]` (legacy, un-routed).
pub async fn legacy_combined(
    State(s): State<Arc<Shared>>,
    q: Streams,
    ws: WebSocketUpgrade,
) -> Response {
    open(s, Route::Legacy, &query_streams(&q), true, ws)
}

/// `GET /ws/<stream>[/<stream>…]` (legacy, un-routed).
pub async fn legacy_raw(
    State(s): State<Arc<Shared>>,
    Path(names): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    open(s, Route::Legacy, &names, false, ws)
}

/// `GET /ws` (legacy, un-routed).
pub async fn legacy_bare(State(s): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    open(s, Route::Legacy, "", false, ws)
}

async fn run(
    s: Arc<Shared>,
    route: Route,
    mut subs: Subscriptions<MarketStream>,
    mut socket: WebSocket,
) {
    let mut drops = s.stream_drops();
    let mut fills = crate::server::subscribe(&s);
    // Binance pushes kline updates every 250 ms and mark price every 1 or 3 s.
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut elapsed_ms: u64 = 0;
    // Each diff-depth subscription's last event, by stream name.
    let mut diffs: HashMap<String, DiffState> = HashMap::new();
    sync_diffs(&s, &subs, &mut diffs);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now = s.clock.now_ms();
                for (name, stream) in &subs.items {
                    if !stream.delivered_on(route) {
                        continue;
                    }
                    let Some(data) = event(&s, stream, diffs.get_mut(name), now, elapsed_ms) else { continue };
                    // `!bookTicker` pushes each symbol's update as its own event.
                    let frames = match (stream, data) {
                        (MarketStream::AllBookTickers, Value::Array(each)) => each,
                        (_, data) => vec![data],
                    };
                    for data in frames {
                        if socket.send(Message::Text(subs.frame(name, data).into())).await.is_err() {
                            return;
                        }
                    }
                }
                elapsed_ms += 250;
            }
            fill = fills.recv() => match fill {
                Ok((_, update)) => {
                    let prints = [reply::agg_trade(&update), reply::trade(&update), reply::force_order(&update)];
                    for (name, stream) in &subs.items {
                        let print = match stream {
                            MarketStream::AggTrade { symbol } => prints[0].as_ref().filter(|t| t["s"] == symbol.as_str()),
                            MarketStream::Trade { symbol } => prints[1].as_ref().filter(|t| t["s"] == symbol.as_str()),
                            MarketStream::ForceOrder { symbol } => prints[2]
                                .as_ref()
                                .filter(|t| symbol.as_ref().is_none_or(|s| t["o"]["s"] == s.as_str())),
                            _ => None,
                        };
                        let Some(print) = print.filter(|_| stream.delivered_on(route)) else { continue };
                        if socket.send(Message::Text(subs.frame(name, print.clone()).into())).await.is_err() {
                            return;
                        }
                    }
                }
                // A slow reader lost trades; Binance would drop it, so close and let it
                // resubscribe. Without a trade subscription nothing was lost.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    if subs.items.iter().any(|(_, m)| matches!(m, MarketStream::AggTrade { .. } | MarketStream::Trade { .. } | MarketStream::ForceOrder { .. })) {
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            // A dropped network sends no close frame: ending here drops the connection.
            _ = drops.changed() => return,
            incoming = socket.recv() => {
                let apply = |text: &str| {
                    let reply = subs.apply(text, |n| parse_stream(&s, route, n));
                    sync_diffs(&s, &subs, &mut diffs);
                    reply
                };
                if !super::on_incoming(&mut socket, incoming, apply).await {
                    return;
                }
            }
        }
    }
}

/// Keeps one state per diff-depth subscription: a new one starts now (see
/// [`DiffState::new`]), an unsubscribed one is forgotten.
fn sync_diffs(
    s: &Shared,
    subs: &Subscriptions<MarketStream>,
    diffs: &mut HashMap<String, DiffState>,
) {
    diffs.retain(|name, _| subs.items.iter().any(|(n, _)| n == name));
    let now = s.clock.now_ms();
    for (name, stream) in &subs.items {
        if !matches!(
            stream,
            MarketStream::Book {
                stream: BookStream::Diff { .. },
                ..
            }
        ) {
            continue;
        }
        if !diffs.contains_key(name) {
            diffs.insert(name.clone(), DiffState::new(now));
        }
    }
}

fn event(
    s: &Shared,
    stream: &MarketStream,
    diff: Option<&mut DiffState>,
    now: i64,
    elapsed_ms: u64,
) -> Option<Value> {
    let every_ms = match stream {
        MarketStream::Kline { .. } => 250,
        MarketStream::MarkPrice { every_ms, .. } | MarketStream::AllMarkPrices { every_ms } => {
            *every_ms
        }
        MarketStream::Ticker { .. } => 500,
        MarketStream::AllTickers | MarketStream::AllMiniTickers => 1_000,
        MarketStream::MiniTicker { .. } => 2_000,
        MarketStream::Book { stream, .. } => stream.every_ms(),
        MarketStream::AllBookTickers => 250,
        MarketStream::AggTrade { .. }
        | MarketStream::Trade { .. }
        | MarketStream::ForceOrder { .. } => {
            return None;
        }
    };
    if !elapsed_ms.is_multiple_of(every_ms) {
        return None;
    }
    match stream {
        MarketStream::Kline { symbol, interval } => kline_event(s, symbol, interval, now),
        MarketStream::MarkPrice { symbol, .. } => mark_event(s, symbol, now),
        MarketStream::Ticker { symbol } => ticker_event(s, symbol, now),
        MarketStream::AllMarkPrices { .. } => every_symbol(s, now, |sym| mark_event(s, sym, now)),
        MarketStream::AllTickers => every_symbol(s, now, |sym| ticker_event(s, sym, now)),
        MarketStream::MiniTicker { symbol } => mini_ticker_event(s, symbol, now),
        MarketStream::AllMiniTickers => every_symbol(s, now, |sym| mini_ticker_event(s, sym, now)),
        MarketStream::Book { symbol, stream } => {
            let ex = s
                .exchange
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            book::event(&ex.market, symbol, stream, diff, now)
        }
        MarketStream::AllBookTickers => {
            let ex = s
                .exchange
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let all: Vec<Value> = ex
                .market
                .symbols_at(now)
                .into_iter()
                .filter_map(|sym| book::event(&ex.market, sym, &BookStream::Ticker, None, now))
                .collect();
            (!all.is_empty()).then_some(Value::Array(all))
        }
        MarketStream::AggTrade { .. }
        | MarketStream::Trade { .. }
        | MarketStream::ForceOrder { .. } => None,
    }
}

/// One array of `each` over the symbols listed at `now`; nothing while none has data.
fn every_symbol(s: &Shared, now: i64, each: impl Fn(&str) -> Option<Value>) -> Option<Value> {
    let symbols: Vec<String> = s
        .exchange
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .market
        .symbols_at(now)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let all: Vec<Value> = symbols.iter().filter_map(|sym| each(sym)).collect();
    (!all.is_empty()).then_some(Value::Array(all))
}

fn ticker_event(s: &Shared, symbol: &str, now: i64) -> Option<Value> {
    let ex = s
        .exchange
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Some(reply::ticker_24hr(&ex.market.ticker_24h(symbol, now)?, now))
}

fn mini_ticker_event(s: &Shared, symbol: &str, now: i64) -> Option<Value> {
    let ex = s
        .exchange
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Some(reply::mini_ticker(&ex.market.ticker_24h(symbol, now)?, now))
}

fn kline_event(s: &Shared, symbol: &str, interval: &str, now: i64) -> Option<Value> {
    let ex = s
        .exchange
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let rows = ex
        .market
        .klines(symbol, interval, None, Some(now), 1, now)
        .ok()?;
    Some(reply::kline(symbol, interval, rows.last()?, now))
}

fn mark_event(s: &Shared, symbol: &str, now: i64) -> Option<Value> {
    let ex = s
        .exchange
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mark = ex.market.mark_price(symbol, now)?;
    let next = ex.market.next_funding_time_of(symbol, now);
    Some(reply::mark_price(
        symbol,
        mark,
        ex.market.funding_rate(symbol, next),
        next,
        now,
    ))
}
