//! The same indicators as the parent module, written into the caller's buffers as plain `f64`.
//!
//! For callers that run many indicators over long series (evaluation, benches, the pooled
//! model): no allocation, no `Option` (16 bytes a value instead of 8), no copy. `out[i]`
//! belongs to bar `i`, as in the parent module; bars before the indicator is defined hold
//! NaN, and a value TA-Lib itself computes as non-finite is left as it is (where the parent
//! module says `None`). Inputs are checked exactly as in the parent module, so a non-finite
//! output never comes from a non-finite input.
//!
//! Each output is written in place: TA-Lib's output for bar `lookback + j` goes straight to
//! `out[lookback + j]`, which is why each function asks TA-Lib for its lookback first.

use ta_lib::{Core, MAType, OutRange, RetCode};

use super::{
    bollinger_params, check_finite, check_same_len, hlc_checked, macd_periods, period,
    stochastic_periods,
};
use crate::SignalError;

/// Fills the heads of `outs` (the first `lookback` values) with NaN, lets `run` write the
/// tails, and NaN-fills whatever it left unwritten.
fn write_into<const K: usize>(
    name: &'static str,
    n: usize,
    lookback: Result<usize, RetCode>,
    mut outs: [&mut [f64]; K],
    run: impl FnOnce([&mut [f64]; K]) -> Result<OutRange, RetCode>,
) -> Result<(), SignalError> {
    for o in &outs {
        check_same_len(n, o.len())?;
    }
    let lb = lookback.map_err(|c| SignalError::talib(name, c))?;
    if n <= lb {
        for o in &mut outs {
            o.fill(f64::NAN);
        }
        return Ok(());
    }
    for o in &mut outs {
        o[..lb].fill(f64::NAN);
    }
    let range =
        run(outs.each_mut().map(|o| &mut o[lb..])).map_err(|c| SignalError::talib(name, c))?;
    // TA-Lib starts its output at its own lookback when asked from index 0; anything else
    // would put values on the wrong bars, so it is refused rather than shifted silently.
    if range.beg_idx != lb {
        return Err(SignalError::BadParam(format!(
            "{name}: TA-Lib began at bar {} where its lookback says {lb}",
            range.beg_idx
        )));
    }
    for o in &mut outs {
        o[lb + range.count.min(n - lb)..].fill(f64::NAN);
    }
    Ok(())
}

macro_rules! single_input_into {
    ($(#[$doc:meta])* $name:ident, $talib:ident, $lookback:ident, $label:literal, $min:expr) => {
        $(#[$doc])*
        ///
        /// # Errors
        /// [`SignalError::NotFinite`] for a NaN/infinite input, [`SignalError::BadParam`] for a
        /// period out of range, [`SignalError::LengthMismatch`] when `out` is not as long as
        /// `close`.
        pub fn $name(close: &[f64], period_len: usize, out: &mut [f64]) -> Result<(), SignalError> {
            let p = period("period", period_len, $min)?;
            check_finite("close", close)?;
            let core = Core::new();
            let n = close.len();
            write_into($label, n, core.$lookback(p), [out], |[o]| {
                core.$talib(0, n - 1, close, p, o)
            })
        }
    };
}

single_input_into!(
    /// [`super::sma`] into `out`.
    sma_into, sma, sma_lookback, "SMA", 1
);
single_input_into!(
    /// [`super::ema`] into `out`.
    ema_into, ema, ema_lookback, "EMA", 1
);
single_input_into!(
    /// [`super::rsi`] into `out`.
    rsi_into, rsi, rsi_lookback, "RSI", 2
);

/// The three outputs of [`macd_into`].
pub struct MacdOut<'a> {
    pub macd: &'a mut [f64],
    pub signal: &'a mut [f64],
    pub hist: &'a mut [f64],
}

/// [`super::macd`] into `out`.
///
/// # Errors
/// As [`sma_into`].
pub fn macd_into(
    close: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
    out: MacdOut<'_>,
) -> Result<(), SignalError> {
    let (f, s, g) = macd_periods(fast, slow, signal)?;
    check_finite("close", close)?;
    let core = Core::new();
    let n = close.len();
    write_into(
        "MACD",
        n,
        core.macd_lookback(f, s, g),
        [out.macd, out.signal, out.hist],
        |[m, sg, h]| core.macd(0, n - 1, close, f, s, g, m, sg, h),
    )
}

/// The three bands of [`bollinger_into`].
pub struct BandsOut<'a> {
    pub upper: &'a mut [f64],
    pub middle: &'a mut [f64],
    pub lower: &'a mut [f64],
}

/// [`super::bollinger`]'s three bands into `out` (%b and bandwidth follow from them with
/// [`super::percent_b`] and [`super::bandwidth`]).
///
/// # Errors
/// As [`sma_into`], and [`SignalError::BadParam`] for a `k` that is not finite and positive.
pub fn bollinger_into(
    close: &[f64],
    period_len: usize,
    k: f64,
    out: BandsOut<'_>,
) -> Result<(), SignalError> {
    let p = bollinger_params(period_len, k)?;
    check_finite("close", close)?;
    let core = Core::new();
    let n = close.len();
    write_into(
        "BBANDS",
        n,
        core.bbands_lookback(p, k, k, MAType::SMA),
        [out.upper, out.middle, out.lower],
        |[u, m, l]| core.bbands(0, n - 1, close, p, k, k, MAType::SMA, u, m, l),
    )
}

/// [`super::atr`] into `out`.
///
/// # Errors
/// [`SignalError::LengthMismatch`], [`SignalError::NotFinite`], or [`SignalError::BadParam`].
pub fn atr_into(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period_len: usize,
    out: &mut [f64],
) -> Result<(), SignalError> {
    let p = period("period", period_len, 1)?;
    hlc_checked(high, low, close)?;
    let core = Core::new();
    let n = close.len();
    write_into("ATR", n, core.atr_lookback(p), [out], |[o]| {
        core.atr(0, n - 1, high, low, close, p, o)
    })
}

/// [`super::adx`] into `out`.
///
/// # Errors
/// [`SignalError::LengthMismatch`], [`SignalError::NotFinite`], or [`SignalError::BadParam`].
pub fn adx_into(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period_len: usize,
    out: &mut [f64],
) -> Result<(), SignalError> {
    let p = period("period", period_len, 2)?;
    hlc_checked(high, low, close)?;
    let core = Core::new();
    let n = close.len();
    write_into("ADX", n, core.adx_lookback(p), [out], |[o]| {
        core.adx(0, n - 1, high, low, close, p, o)
    })
}

/// [`super::stochastic`]'s %K and %D into `k` and `d`.
///
/// # Errors
/// [`SignalError::LengthMismatch`], [`SignalError::NotFinite`], or [`SignalError::BadParam`].
#[allow(clippy::too_many_arguments)]
pub fn stochastic_into(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    fast_k: usize,
    slow_k: usize,
    slow_d: usize,
    k: &mut [f64],
    d: &mut [f64],
) -> Result<(), SignalError> {
    let (fk, sk, sd) = stochastic_periods(fast_k, slow_k, slow_d)?;
    hlc_checked(high, low, close)?;
    let core = Core::new();
    let n = close.len();
    write_into(
        "STOCH",
        n,
        core.stoch_lookback(fk, sk, MAType::SMA, sd, MAType::SMA),
        [k, d],
        |[ko, dout]| {
            core.stoch(
                0,
                n - 1,
                high,
                low,
                close,
                fk,
                sk,
                MAType::SMA,
                sd,
                MAType::SMA,
                ko,
                dout,
            )
        },
    )
}

/// [`super::obv`] into `out`.
///
/// # Errors
/// [`SignalError::LengthMismatch`] or [`SignalError::NotFinite`].
pub fn obv_into(close: &[f64], volume: &[f64], out: &mut [f64]) -> Result<(), SignalError> {
    check_same_len(close.len(), volume.len())?;
    check_finite("close", close)?;
    check_finite("volume", volume)?;
    let core = Core::new();
    let n = close.len();
    write_into("OBV", n, core.obv_lookback(), [out], |[o]| {
        core.obv(0, n - 1, close, volume, o)
    })
}
