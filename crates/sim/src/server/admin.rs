//! The admin routes (loopback only, for tests and the CLI): accounts, the manual clock,
//! injected faults, and a network drop of every socket.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::Shared;
use crate::error::ApiError;
use crate::exchange::Permissions;
use crate::replies;

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
