//! Training labels: the direction of the forward return, with a fee-aware dead zone.
//!
//! We label by forward return over a fixed horizon rather than by triple barrier: it is
//! simple, has no path-dependent parameters to tune, and is exactly what the signal's
//! horizon promises. A move smaller than the round-trip cost (entry + exit taker fee plus
//! slippage each way) could not have been traded for a profit in either direction, so it is
//! labelled [`Direction::Flat`] rather than forced into up or down; the binary model trains
//! on the up/down rows only.

use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::indicators::check_finite;

/// The direction of a forward move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    Down,
    Flat,
    Up,
}

/// How labels are made.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LabelSpec {
    /// Bars ahead.
    pub horizon: usize,
    /// A simple forward return within `[-dead_zone, dead_zone]` is `Flat`.
    pub dead_zone: f64,
}

impl LabelSpec {
    /// A dead zone equal to the round trip's cost: `2 × (taker_fee + slippage)`, both as
    /// fractions of notional (Binance USDⓈ-M's default taker fee is 0.0005).
    ///
    /// # Errors
    /// [`SignalError::BadParam`] for a zero horizon or a negative/non-finite cost.
    pub fn fee_aware(horizon: usize, taker_fee: f64, slippage: f64) -> Result<Self, SignalError> {
        if horizon == 0 {
            return Err(SignalError::BadParam("horizon must be at least 1".into()));
        }
        let dead_zone = 2.0 * (taker_fee + slippage);
        if !(taker_fee.is_finite() && slippage.is_finite() && taker_fee >= 0.0 && slippage >= 0.0) {
            return Err(SignalError::BadParam(format!(
                "fee {taker_fee} and slippage {slippage} must be finite and non-negative"
            )));
        }
        Ok(Self { horizon, dead_zone })
    }
}

/// Labels each bar by `close[t + horizon] / close[t] - 1`; `None` for the last `horizon`
/// bars, whose future is not in the data.
///
/// # Errors
/// [`SignalError::NotFinite`] for a non-finite close, [`SignalError::InvalidCandle`] for a
/// non-positive one, [`SignalError::BadParam`] for a zero horizon or negative dead zone.
pub fn forward_labels(
    close: &[f64],
    spec: LabelSpec,
) -> Result<Vec<Option<Direction>>, SignalError> {
    check_finite("close", close)?;
    if spec.horizon == 0 || !(spec.dead_zone.is_finite() && spec.dead_zone >= 0.0) {
        return Err(SignalError::BadParam(format!("bad label spec {spec:?}")));
    }
    if let Some(index) = close.iter().position(|&c| c <= 0.0) {
        return Err(SignalError::InvalidCandle {
            index,
            reason: "close is not positive".into(),
        });
    }
    Ok((0..close.len())
        .map(|t| {
            let future = *close.get(t + spec.horizon)?;
            let r = future / close[t] - 1.0;
            Some(if r > spec.dead_zone {
                Direction::Up
            } else if r < -spec.dead_zone {
                Direction::Down
            } else {
                Direction::Flat
            })
        })
        .collect())
}
