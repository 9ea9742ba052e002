//! Who is calling: the API key of `X-MBX-APIKEY`, and for signed endpoints the HMAC-SHA256
//! signature over the query and body as received, the timestamp and the recvWindow against
//! the replay clock, measured in wall time as a real exchange would.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Shared;
use crate::error::ApiError;
use crate::params::Params;

/// Security types, as the contract names them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Sec {
    None,
    Key,
    Signed,
}

/// The authenticated caller: account index (signed and key endpoints).
pub(super) struct Caller {
    pub(super) account: Option<usize>,
    pub(super) params: Params,
}

pub(super) fn authenticate(
    shared: &Shared,
    sec: Sec,
    headers: &HeaderMap,
    query: &str,
    body: &[u8],
) -> Result<Caller, ApiError> {
    let body = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad(-1100, "Illegal characters found in a parameter."))?;
    let params = Params::parse(query, body)?;
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
        let total = format!("{}{}", signed_part(query)?, signed_part(body)?);
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
        // Binance judges the window in wall time, the time a request takes to travel. The
        // replay clock runs `speed` times faster, so 100 ms of client delay at 60x is 6 s of
        // replay time; measured in replay time every request of a busy client would fail.
        let speed = shared.clock.speed();
        let wall_ms = |replay_ms: i64| replay_ms as f64 / speed;
        let server = shared.clock.now_ms();
        if wall_ms(timestamp.saturating_sub(server)) >= 1_000.0 {
            return Err(ApiError::bad(
                -1021,
                "Timestamp for this request was 1000ms ahead of the server's time.",
            ));
        }
        if wall_ms(server.saturating_sub(timestamp)) > recv_window as f64 {
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

/// `part` (the query or the body) without its `signature=…` pair, which must come last
/// (CONTRACT.md 2.2): a parameter after it is not covered by the signature, so the request is
/// refused as an invalid signature (-1022) rather than acted on unsigned. Empty pieces (a
/// trailing `&`) are not parameters.
fn signed_part(part: &str) -> Result<&str, ApiError> {
    let mut pieces = part.split('&');
    let mut end = 0;
    while let Some(piece) = pieces.next() {
        if piece.split('=').next() == Some("signature") {
            if pieces.any(|rest| !rest.is_empty()) {
                return Err(ApiError::bad_signature());
            }
            return Ok(part[..end].strip_suffix('&').unwrap_or(&part[..end]));
        }
        end += piece.len() + 1;
    }
    Ok(part)
}

pub(super) fn account(c: &Caller) -> Result<usize, ApiError> {
    c.account.ok_or_else(ApiError::rejected_key)
}
