//! The user-data stream's listen keys: one per account, created or extended by `POST`,
//! extended by `PUT`, deleted by `DELETE /fapi/v1/listenKey`, and expired (with a
//! `listenKeyExpired` event) when not kept alive for 60 minutes of real time.
//!
//! A key is a lease between the exchange and a client, which keeps it alive by its own clock
//! (every 30 minutes); on Binance that clock and the exchange's are the same. The replay's
//! clock may run faster or slower than real time, so a lease counts on it at its speed: 60
//! minutes × speed of replay time (60 hours on the paper default of 60×; 60 minutes of a
//! manual clock, which tests move). Counted in replay minutes, a 60× replay expired every key
//! once a real minute, and the app's user stream dropped, renewed and resynced each time.
//!
//! A key is the only thing a `/private` socket shows to read an account's orders and fills,
//! so it is 64 random letters and digits (as Binance's are), and a deleted key closes the
//! sockets opened with it.

use std::sync::Arc;

use axum::http::Method;
use serde_json::Value;

use super::Shared;
use super::auth::{Caller, account};
use super::token::random_alnum;
use crate::error::ApiError;
use crate::market::clock::SimClock;
use crate::replies;

/// A listenKey lives 60 minutes of real time after its creation or last keepalive.
pub const LISTEN_KEY_TTL_MS: i64 = 60 * 60_000;

/// [`LISTEN_KEY_TTL_MS`] of real time in the replay's time: times the clock's speed (1 for a
/// manual clock).
fn lease_ms(clock: &SimClock) -> i64 {
    // Speeds are finite and positive (the clock refuses others); the product is far inside
    // i64 for any speed the clock takes, and saturates past it.
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let ms = (LISTEN_KEY_TTL_MS as f64 * clock.speed()).round() as i64;
    ms.max(1)
}

/// A live listenKey.
#[derive(Debug, Clone)]
pub(super) struct ListenKey {
    key: String,
    account: usize,
    /// Replay time at which it expires unless kept alive ([`lease_ms`] after the last).
    expires_ms: i64,
}

impl Shared {
    /// Drops the listenKeys whose lease ran out and tells their sockets with a
    /// `listenKeyExpired` event (the socket closes after it), as Binance does.
    pub(super) fn expire_listen_keys(&self, now: i64) {
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
}

/// The account that owns `key`, if the key is live.
pub(crate) fn listen_key_owner(s: &Shared, key: &str) -> Option<usize> {
    let keys = s
        .listen_keys
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    keys.iter().find(|k| k.key == key).map(|k| k.account)
}

pub(super) fn listen_key(s: &Shared, c: &Caller, method: Method) -> Result<Value, ApiError> {
    let a = account(c)?;
    let mut keys = s
        .listen_keys
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let now = s.clock.now_ms();
    let expires_ms = now.saturating_add(lease_ms(&s.clock));
    let existing = keys.iter_mut().find(|k| k.account == a);
    match method {
        Method::POST => {
            // Binance returns the account's live key if there is one, extended by 60 minutes.
            let key = match existing {
                Some(k) => {
                    k.expires_ms = expires_ms;
                    k.key.clone()
                }
                None => {
                    let key = random_alnum(64).map_err(|e| {
                        tracing::error!(error = %e, "no randomness for a listen key");
                        ApiError {
                            status: 500,
                            code: -1000,
                            msg: "An unknown error occurred while processing the request.".into(),
                        }
                    })?;
                    keys.push(ListenKey {
                        key: key.clone(),
                        account: a,
                        expires_ms,
                    });
                    key
                }
            };
            Ok(replies::listen_key(&key))
        }
        Method::PUT => existing
            .map(|k| {
                k.expires_ms = expires_ms;
                replies::listen_key(&k.key)
            })
            .ok_or_else(|| ApiError::bad(-1125, "This listenKey does not exist.")),
        _ => {
            keys.retain(|k| k.account != a);
            drop(keys);
            s.key_deletions.send_modify(|n| *n = n.wrapping_add(1));
            Ok(replies::empty())
        }
    }
}
