//! User-data connections on `/private`: events of the accounts whose listenKeys the
//! connection holds, from the URL or subscribed live.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};

use super::control::Subscriptions;
use crate::error::ApiError;
use crate::server::{Shared, listen_key_owner, subscribe};

type Params = Query<HashMap<String, String>>;

/// `GET /private/ws[?listenKey=<key>][&events=A/B]`; without a key, SUBSCRIBE one later.
pub async fn private(
    State(s): State<Arc<Shared>>,
    Query(q): Params,
    ws: WebSocketUpgrade,
) -> Response {
    let keys = q.get("listenKey").cloned().unwrap_or_default();
    open(s, &keys, q.get("events"), false, ws)
}

/// `GET /private/ws/<listenKey>`.
pub async fn private_path(
    State(s): State<Arc<Shared>>,
    Path(key): Path<String>,
    Query(q): Params,
    ws: WebSocketUpgrade,
) -> Response {
    open(s, &key, q.get("events"), false, ws)
}

/// `GET /private/stream[?streams=<key>[/<key>…]]` (or `?listenKey=`): the combined form, each
/// event wrapped as `{stream: <listenKey>, data}`.
pub async fn private_stream(
    State(s): State<Arc<Shared>>,
    Query(q): Params,
    ws: WebSocketUpgrade,
) -> Response {
    let keys = q
        .get("streams")
        .or_else(|| q.get("listenKey"))
        .cloned()
        .unwrap_or_default();
    open(s, &keys, q.get("events"), true, ws)
}

fn resolve(s: &Shared, key: &str) -> Result<usize, String> {
    listen_key_owner(s, key).ok_or_else(|| format!("listenKey `{key}` does not exist"))
}

fn open(
    s: Arc<Shared>,
    keys: &str,
    events: Option<&String>,
    combined: bool,
    ws: WebSocketUpgrade,
) -> Response {
    let mut held = Vec::new();
    for key in keys.split('/').filter(|k| !k.is_empty()) {
        let Some(account) = listen_key_owner(&s, key) else {
            return ApiError::bad(-1125, "This listenKey does not exist.").into_response();
        };
        held.push((key.to_owned(), account));
    }
    // `events=A/B` keeps only those event types (CONTRACT.md §1, user data URL forms).
    let only: Option<HashSet<String>> = events.map(|e| {
        e.split('/')
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect()
    });
    let subs = Subscriptions::new(held, combined);
    ws.on_upgrade(move |socket| run(s, subs, only, socket))
}

async fn run(
    s: Arc<Shared>,
    mut subs: Subscriptions<usize>,
    only: Option<HashSet<String>>,
    mut socket: WebSocket,
) {
    let mut events = subscribe(&s);
    let mut drops = s.stream_drops();
    let mut deletions = s.key_deletions();
    loop {
        tokio::select! {
            // A dropped network sends no close frame: ending here drops the connection.
            _ = drops.changed() => return,
            // A deleted key ends its subscription; a connection left with none is closed, so
            // whoever held the key reads nothing more.
            changed = deletions.changed() => {
                let before = subs.items.len();
                subs.items.retain(|(key, account)| listen_key_owner(&s, key) == Some(*account));
                if changed.is_err() || (before > 0 && subs.items.is_empty()) {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            }
            event = events.recv() => match event {
                Ok((owner, event)) => {
                    let kind = event["e"].as_str().unwrap_or_default();
                    let expired = kind == "listenKeyExpired";
                    if !expired && only.as_ref().is_some_and(|o| !o.contains(kind)) {
                        continue;
                    }
                    let mut frames = Vec::new();
                    for (key, account) in &subs.items {
                        // listenKeyExpired goes to the subscriptions of that key only.
                        if *account != owner || (expired && event["listenKey"] != key.as_str()) {
                            continue;
                        }
                        frames.push(subs.frame(key, (*event).clone()));
                    }
                    for frame in frames {
                        if socket.send(Message::Text(frame.into())).await.is_err() {
                            return;
                        }
                    }
                    if expired {
                        let before = subs.items.len();
                        subs.items.retain(|(key, _)| event["listenKey"] != key.as_str());
                        if before > 0 && subs.items.is_empty() {
                            let _ = socket.send(Message::Close(None)).await;
                            return;
                        }
                    }
                }
                // A slow reader lost events; Binance would drop it, so close and let it resync.
                Err(_) => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            },
            incoming = socket.recv() => {
                if !super::on_incoming(&mut socket, incoming, |text| subs.apply(text, |k| resolve(&s, k))).await {
                    return;
                }
            }
        }
    }
}
