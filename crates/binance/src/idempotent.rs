//! Placing an order exactly once when the network cannot say whether it arrived.
//!
//! Every order carries a client id chosen by the caller. When the outcome of a placement is
//! unknown (5xx, timeout after sending, -1006/-1007), the order is looked up by that id; only
//! a definite "no such order" (-2013) allows sending it again, with the same id. A lookup that
//! keeps failing leaves the outcome unknown for the caller (the user stream or the next sync
//! settles it): resending then could open a second position.

use std::future::Future;
use std::time::Duration;

use crate::error::{ExchangeError, RejectKind};

/// How hard to try to learn the outcome of an order before giving up.
#[derive(Debug, Clone, Copy)]
pub struct LookupPolicy {
    /// Lookups after an unknown outcome.
    pub attempts: u32,
    /// Pause before the first lookup, doubled after each failed one; the exchange may still
    /// be processing the order.
    pub first_pause: Duration,
    /// Placements after a definite "not found" (with the same client id).
    pub resends: u32,
}

impl Default for LookupPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_pause: Duration::from_millis(250),
            resends: 1,
        }
    }
}

/// Places an order with `place` and, on an unknown outcome, settles it with `lookup`.
///
/// `lookup` returns `Ok(None)` only when the exchange says the order does not exist.
///
/// # Errors
/// The placement's own error when it was rejected; [`ExchangeError::UnknownExecution`] when
/// the outcome could not be learned.
pub async fn place_exactly_once<T, P, PF, L, LF>(
    mut place: P,
    mut lookup: L,
    policy: LookupPolicy,
) -> Result<T, ExchangeError>
where
    P: FnMut() -> PF,
    PF: Future<Output = Result<T, ExchangeError>>,
    L: FnMut() -> LF,
    LF: Future<Output = Result<Option<T>, ExchangeError>>,
{
    let mut resends_left = policy.resends;
    loop {
        let unknown = match place().await {
            Err(err @ ExchangeError::UnknownExecution { .. }) => err,
            settled => return settled,
        };
        tracing::warn!(error = %unknown, "order outcome unknown; looking it up by client id");
        let mut pause = policy.first_pause;
        let mut found_absent = false;
        for _ in 0..policy.attempts {
            tokio::time::sleep(pause).await;
            pause = pause.saturating_mul(2);
            match lookup().await {
                Ok(Some(order)) => return Ok(order),
                Ok(None) => {
                    found_absent = true;
                    break;
                }
                Err(err) if err.reject_kind() == Some(RejectKind::NoSuchOrder) => {
                    found_absent = true;
                    break;
                }
                Err(err) => tracing::warn!(error = %err, "order lookup failed; trying again"),
            }
        }
        if !found_absent || resends_left == 0 {
            return Err(unknown);
        }
        resends_left -= 1;
        tracing::info!("the exchange has no such order; sending it again with the same client id");
    }
}
