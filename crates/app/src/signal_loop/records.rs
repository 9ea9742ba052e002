//! A signal as a stored row and back, whole, so a restart shows recent signals in full.

use perpdesk_core::{Interval, Symbol};
use perpdesk_signal::{FEATURE_NAMES, Signal, SignalDirection};

use super::{SignalLoopError, utc};

/// The stored row keeps the whole signal (levels, lean, record) and its feature values in
/// the `features` JSON, so a restart can show recent signals in full.
pub(super) fn stored_signal(
    symbol: &Symbol,
    interval: Interval,
    s: &Signal,
    values: &[f64; perpdesk_signal::N_FEATURES],
    now_ms: i64,
) -> Result<perpdesk_store::Signal, SignalLoopError> {
    let features: serde_json::Map<String, serde_json::Value> = FEATURE_NAMES
        .iter()
        .zip(values)
        .map(|(name, v)| ((*name).to_owned(), serde_json::json!(v)))
        .collect();
    Ok(perpdesk_store::Signal {
        symbol: symbol.clone(),
        interval,
        candle_open_time: s.time,
        model_version: s.model_version.clone(),
        direction: match s.direction {
            SignalDirection::Long => perpdesk_store::Direction::Long,
            SignalDirection::Short => perpdesk_store::Direction::Short,
            SignalDirection::Flat => perpdesk_store::Direction::Flat,
        },
        probability: s.probability,
        features: Some(serde_json::json!({ "signal": s, "features": features })),
        // The exchange's clock, so a paper replay records replay time.
        created_at: utc(now_ms, symbol)?,
    })
}

pub(super) fn restored_signal(row: &perpdesk_store::Signal) -> Option<Signal> {
    let json = row.features.as_ref()?.get("signal")?.clone();
    serde_json::from_value(json).ok()
}
