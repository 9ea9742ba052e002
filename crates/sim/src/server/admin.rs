//! The admin routes (loopback only, for tests and the CLI): accounts, the manual clock,
//! injected faults, and a network drop of every socket.
//!
//! Any local process can reach a loopback port, and so can a web page whose name a DNS
//! rebinding points at 127.0.0.1; what these routes do (mint balances, rewind the clock, inject
//! faults) must be theirs only who started the server. [`guard`] asks for the server's random
//! token and a `Host` that names loopback before any of them runs.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::Shared;
use crate::error::ApiError;
use crate::exchange::Permissions;
use crate::replies;

/// The header that carries [`Shared::admin_token`] on every `/admin/*` request.
pub const ADMIN_TOKEN_HEADER: &str = "X-PERPDESK-ADMIN-TOKEN";

/// Whether a `Host` value (`name[:port]`, `[v6]:port`) names this machine's loopback.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or("", |(ip, _)| ip),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Runs an admin route only for a request with a loopback `Host` and the admin token.
pub(super) async fn guard(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    if !host.is_some_and(loopback_host) {
        return ApiError {
            status: 403,
            code: -1002,
            msg: "admin requests must be addressed to a loopback host".into(),
        }
        .into_response();
    }
    let token = req
        .headers()
        .get(ADMIN_TOKEN_HEADER)
        .and_then(|t| t.to_str().ok());
    let allowed = match (token, s.admin_token()) {
        (Some(given), Some(expected)) => super::token::same_secret(given, expected),
        _ => false,
    };
    if !allowed {
        return ApiError {
            status: 401,
            code: -1002,
            msg: format!("admin requests need the server's token in {ADMIN_TOKEN_HEADER}"),
        }
        .into_response();
    }
    next.run(req).await
}

/// `POST /admin/accounts` (loopback only, for tests and the CLI): `{apiKey, secret, balance, enableWithdrawals?}`.
pub(super) async fn admin_account(
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
pub(super) async fn admin_faults(
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
pub(super) async fn admin_drop_streams(State(s): State<Arc<Shared>>) -> Response {
    let open = s.drops.receiver_count();
    s.drop_streams();
    axum::Json(json!({"dropped": open})).into_response()
}

/// `POST /admin/clock` `{advanceMs}` or `{setMs}`: moves a manual clock (tests).
pub(super) async fn admin_clock(
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

#[cfg(test)]
mod tests {
    use super::loopback_host;

    #[test]
    fn only_loopback_names_pass_the_host_check() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:8765",
            "127.3.4.5:1",
            "localhost:8765",
            "LOCALHOST",
            "[::1]:8765",
            "[::1]",
        ] {
            assert!(loopback_host(host), "{host}");
        }
        for host in [
            "evil.example:8765",
            "evil.example",
            "10.0.0.1:8765",
            "localhost.evil.example",
            "127.0.0.1.nip.io:8765",
            "[::2]:8765",
            "[::1",
            "",
        ] {
            assert!(!loopback_host(host), "{host}");
        }
    }
}
