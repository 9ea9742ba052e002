//! WebSocket streams at the 2026 URL layout: `/private` for user data (by listenKey) and
//! `/market` for klines and mark price, in raw (`/ws/<name>`) and combined
//! (`/stream?streams=a/b`, wrapped as `{stream, data}`) modes.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::replies::events as reply;
use crate::server::{Shared, listen_key_owner, subscribe};

/// `GET /private/ws?listenKey=<key>`.
pub async fn private(
    State(s): State<Arc<Shared>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let key = q.get("listenKey").cloned().unwrap_or_default();
    user_socket(s, &key, ws)
}

/// `GET /private/ws/<listenKey>`.
pub async fn private_path(
    State(s): State<Arc<Shared>>,
    Path(key): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    user_socket(s, &key, ws)
}

fn user_socket(s: Arc<Shared>, key: &str, ws: WebSocketUpgrade) -> Response {
    let Some(account) = listen_key_owner(&s, key) else {
        return ApiError::bad(-1125, "This listenKey does not exist.").into_response();
    };
    let mut events = subscribe(&s);
    let mut drops = s.stream_drops();
    let mut deletions = s.key_deletions();
    let key = key.to_owned();
    ws.on_upgrade(move |mut socket: WebSocket| async move {
        loop {
            tokio::select! {
                // A dropped network sends no close frame: ending here drops the connection.
                _ = drops.changed() => return,
                // A deleted key ends its sockets: whoever held it reads nothing more.
                changed = deletions.changed() => {
                    if changed.is_err() || listen_key_owner(&s, &key) != Some(account) {
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                }
                event = events.recv() => match event {
                    Ok((owner, event)) if owner == account => {
                        // listenKeyExpired goes to the sockets of that key only, and ends them.
                        let expired = event["e"] == "listenKeyExpired";
                        if expired && event["listenKey"] != key.as_str() {
                            continue;
                        }
                        if socket.send(Message::Text(event.to_string().into())).await.is_err() {
                            return;
                        }
                        if expired {
                            let _ = socket.send(Message::Close(None)).await;
                            return;
                        }
                    }
                    Ok(_) => {}
                    // A slow reader lost events; Binance would drop it, so close and let it resync.
                    Err(_) => {
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                },
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                },
            }
        }
    })
}

/// One subscribed market stream.
#[derive(Debug, Clone)]
enum MarketStream {
    Kline {
        name: String,
        symbol: String,
        interval: String,
    },
    MarkPrice {
        name: String,
        symbol: String,
        every_ms: u64,
    },
}

fn parse_stream(s: &Shared, name: &str) -> Result<MarketStream, ApiError> {
    let (symbol, kind) = name
        .split_once('@')
        .ok_or_else(|| ApiError::invalid("streams"))?;
    let symbol = symbol.to_uppercase();
    if s.exchange
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .market
        .spec(&symbol)
        .is_none()
    {
        return Err(ApiError::bad_symbol());
    }
    if let Some(interval) = kind.strip_prefix("kline_") {
        if crate::market::interval_ms(interval).is_none() {
            return Err(ApiError::bad(-1120, "Invalid interval."));
        }
        return Ok(MarketStream::Kline {
            name: name.to_owned(),
            symbol,
            interval: interval.to_owned(),
        });
    }
    match kind {
        "markPrice" => Ok(MarketStream::MarkPrice {
            name: name.to_owned(),
            symbol,
            every_ms: 3_000,
        }),
        "markPrice@1s" => Ok(MarketStream::MarkPrice {
            name: name.to_owned(),
            symbol,
            every_ms: 1_000,
        }),
        _ => Err(ApiError::invalid("streams")),
    }
}

/// `GET /market/stream?streams=a/b/c`.
pub async fn market_combined(
    State(s): State<Arc<Shared>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let names = q.get("streams").cloned().unwrap_or_default();
    market_socket(s, &names, true, ws)
}

/// `GET /market/ws/<stream>[/<stream>...]`.
pub async fn market_raw(
    State(s): State<Arc<Shared>>,
    Path(names): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    market_socket(s, &names, false, ws)
}

fn market_socket(s: Arc<Shared>, names: &str, combined: bool, ws: WebSocketUpgrade) -> Response {
    let streams: Result<Vec<MarketStream>, ApiError> = names
        .split('/')
        .filter(|n| !n.is_empty())
        .map(|n| parse_stream(&s, n))
        .collect();
    let streams = match streams {
        Ok(v) if !v.is_empty() && v.len() <= 200 => v,
        Ok(_) => return ApiError::invalid("streams").into_response(),
        Err(e) => return e.into_response(),
    };
    let mut drops = s.stream_drops();
    ws.on_upgrade(move |mut socket: WebSocket| async move {
        // Binance pushes kline updates every 250 ms and mark price every 1 or 3 s.
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let mut elapsed_ms: u64 = 0;
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let now = s.clock.now_ms();
                    for stream in &streams {
                        let (name, data) = match stream {
                            MarketStream::Kline { name, symbol, interval } => match kline_event(&s, symbol, interval, now) {
                                Some(d) => (name, d),
                                None => continue,
                            },
                            MarketStream::MarkPrice { name, symbol, every_ms } => {
                                if !elapsed_ms.is_multiple_of(*every_ms) {
                                    continue;
                                }
                                match mark_event(&s, symbol, now) {
                                    Some(d) => (name, d),
                                    None => continue,
                                }
                            }
                        };
                        let frame = if combined { json!({"stream": name, "data": data}) } else { data };
                        if socket.send(Message::Text(frame.to_string().into())).await.is_err() {
                            return;
                        }
                    }
                    elapsed_ms += 250;
                }
                _ = drops.changed() => return,
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                },
            }
        }
    })
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
