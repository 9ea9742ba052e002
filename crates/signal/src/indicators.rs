//! Batch indicators: one value per input bar, `None` until the indicator's window is full.
//!
//! The classic indicators delegate to the `ta-lib` crate (the pure-Rust port of TA-Lib) so
//! that RSI, ATR and ADX use Wilder's smoothing exactly as TA-Lib, TradingView and Binance's
//! charts do. TA-Lib's EMA-family values depend on where the series starts (the seed is the
//! first window's SMA), so every function here starts at index 0; the streaming forms in
//! [`crate::stream`] do the same and therefore agree with these to the bit.
//!
//! Outputs are aligned with the input (`out[i]` belongs to bar `i`) and never contain NaN or
//! infinity: a non-finite result becomes `None`.

pub mod plain;

use ta_lib::{Core, MAType, OutRange};

use crate::SignalError;
use crate::stream::{RocStream, RollingVolStream, VolumeZStream, VwapStream};

/// One optional value per input bar.
pub type Series = Vec<Option<f64>>;

/// MACD line, signal line and histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct Macd {
    pub macd: Series,
    pub signal: Series,
    pub hist: Series,
}

/// Bollinger Bands with the two derived measures the features use.
#[derive(Debug, Clone, PartialEq)]
pub struct Bollinger {
    pub upper: Series,
    pub middle: Series,
    pub lower: Series,
    /// `(close - lower) / (upper - lower)`; 0.5 when the bands collapse (flat window).
    pub percent_b: Series,
    /// `(upper - lower) / middle`.
    pub bandwidth: Series,
}

/// Slow stochastic %K and %D (SMA-smoothed, as TA-Lib's default).
#[derive(Debug, Clone, PartialEq)]
pub struct Stochastic {
    pub k: Series,
    pub d: Series,
}

pub(crate) fn check_finite(series: &'static str, xs: &[f64]) -> Result<(), SignalError> {
    // An early-exit scan does not vectorise and cost as much as a fast indicator; a
    // branch-free test per block does, and the exact index is looked up only on failure.
    const BLOCK: usize = 256;
    let bad_block = xs
        .chunks(BLOCK)
        .position(|b| b.iter().fold(false, |bad, x| bad | !x.is_finite()));
    match bad_block {
        None => Ok(()),
        Some(b) => {
            let start = b * BLOCK;
            let offset = xs[start..]
                .iter()
                .position(|x| !x.is_finite())
                .expect("the block holds a non-finite value");
            Err(SignalError::NotFinite {
                series,
                index: start + offset,
            })
        }
    }
}

pub(crate) fn check_same_len(a: usize, b: usize) -> Result<(), SignalError> {
    if a == b {
        Ok(())
    } else {
        Err(SignalError::LengthMismatch { a, b })
    }
}

/// The longest period or window any indicator here takes: TA-Lib's own limit, and ours for
/// the rolling windows TA-Lib does not provide. A window is memory: a stream keeps its last
/// `window` values, so a larger one (a config typo, `usize::MAX`) would be an allocation
/// the process cannot survive rather than an error.
pub const MAX_PERIOD: usize = 100_000;

/// `p` as TA-Lib takes it, once it is between `min` and [`MAX_PERIOD`].
pub(crate) fn period(name: &str, p: usize, min: usize) -> Result<i32, SignalError> {
    if p < min {
        return Err(SignalError::BadParam(format!(
            "{name} must be at least {min}, got {p}"
        )));
    }
    if p > MAX_PERIOD {
        return Err(SignalError::BadParam(format!(
            "{name} must be at most {MAX_PERIOD} bars, got {p}"
        )));
    }
    i32::try_from(p).map_err(|_| SignalError::BadParam(format!("{name} {p} is too large")))
}

/// MACD's three periods as TA-Lib takes them (one rule for both forms).
fn macd_periods(fast: usize, slow: usize, signal: usize) -> Result<(i32, i32, i32), SignalError> {
    Ok((
        period("fast", fast, 2)?,
        period("slow", slow, 2)?,
        period("signal", signal, 1)?,
    ))
}

/// Bollinger's period as TA-Lib takes it, after checking the band width `k`.
fn bollinger_params(period_len: usize, k: f64) -> Result<i32, SignalError> {
    let p = period("period", period_len, 2)?;
    if !(k.is_finite() && k > 0.0) {
        return Err(SignalError::BadParam(format!(
            "k must be positive, got {k}"
        )));
    }
    Ok(p)
}

/// The slow stochastic's three periods as TA-Lib takes them.
fn stochastic_periods(
    fast_k: usize,
    slow_k: usize,
    slow_d: usize,
) -> Result<(i32, i32, i32), SignalError> {
    Ok((
        period("fast_k", fast_k, 1)?,
        period("slow_k", slow_k, 1)?,
        period("slow_d", slow_d, 1)?,
    ))
}

/// Largest scratch (in f64s) a thread keeps between calls: 3 outputs of 1M+ candles.
const SCRATCH_KEEP: usize = 1 << 22;

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on `k * len` f64s of ta-lib output space, reused across calls on this thread.
///
/// A fresh buffer per call cost more than most indicators: 1M candles is 8 MB per output
/// that the allocator zeroes and the kernel faults in, page by page, on every call.
pub(crate) fn with_scratch<R>(k: usize, len: usize, f: impl FnOnce(&mut [f64]) -> R) -> R {
    let need = k * len;
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < need {
                buf.resize(need, 0.0);
            }
            let r = f(&mut buf[..need]);
            if buf.len() > SCRATCH_KEEP {
                *buf = Vec::new();
            }
            r
        }
        // Only a re-entrant call (none today) lands here; it pays for its own buffer.
        Err(_) => f(&mut vec![0.0; need]),
    })
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Scatters ta-lib's compact output back onto bar indices, in one pass over fresh memory.
fn spread(n: usize, range: OutRange, buf: &[f64]) -> Series {
    let beg = range.beg_idx.min(n);
    let mut out = Vec::with_capacity(n);
    out.resize(beg, None);
    out.extend(buf[..range.count.min(n - beg)].iter().map(|&v| finite(v)));
    out.resize(n, None);
    out
}

fn hlc_checked(high: &[f64], low: &[f64], close: &[f64]) -> Result<(), SignalError> {
    check_same_len(high.len(), low.len())?;
    check_same_len(high.len(), close.len())?;
    check_finite("high", high)?;
    check_finite("low", low)?;
    check_finite("close", close)
}

macro_rules! single_input {
    ($(#[$doc:meta])* $name:ident, $label:literal, $min:expr) => {
        $(#[$doc])*
        ///
        /// # Errors
        /// [`SignalError::NotFinite`] for a NaN/infinite input, [`SignalError::BadParam`] for a
        /// period out of range.
        pub fn $name(close: &[f64], period_len: usize) -> Result<Series, SignalError> {
            let p = period("period", period_len, $min)?;
            check_finite("close", close)?;
            if close.is_empty() {
                return Ok(Vec::new());
            }
            let n = close.len();
            with_scratch(1, n, |buf| {
                let range = Core::new()
                    .$name(0, n - 1, close, p, buf)
                    .map_err(|c| SignalError::talib($label, c))?;
                Ok(spread(n, range, buf))
            })
        }
    };
}

single_input!(
    /// Simple moving average over `period_len` bars.
    sma, "SMA", 1
);
single_input!(
    /// Exponential moving average (α = 2/(n+1)), seeded with the first window's SMA as TA-Lib does.
    ema, "EMA", 1
);
single_input!(
    /// Relative strength index with Wilder's smoothing, 0..=100.
    rsi, "RSI", 2
);

/// MACD(fast, slow, signal) of the closes, EMA-based as TA-Lib's `MACD`.
///
/// # Errors
/// [`SignalError::NotFinite`] for a NaN/infinite input, [`SignalError::BadParam`] for periods
/// out of range.
pub fn macd(close: &[f64], fast: usize, slow: usize, signal: usize) -> Result<Macd, SignalError> {
    let (f, s, g) = macd_periods(fast, slow, signal)?;
    check_finite("close", close)?;
    let n = close.len();
    if n == 0 {
        return Ok(Macd {
            macd: Vec::new(),
            signal: Vec::new(),
            hist: Vec::new(),
        });
    }
    with_scratch(3, n, |buf| {
        let (m, rest) = buf.split_at_mut(n);
        let (sg, h) = rest.split_at_mut(n);
        let range = Core::new()
            .macd(0, n - 1, close, f, s, g, m, sg, h)
            .map_err(|c| SignalError::talib("MACD", c))?;
        Ok(Macd {
            macd: spread(n, range, m),
            signal: spread(n, range, sg),
            hist: spread(n, range, h),
        })
    })
}

pub(crate) fn percent_b(close: f64, upper: f64, lower: f64) -> f64 {
    let width = upper - lower;
    // A flat window collapses the bands; the close then sits exactly on them, which is
    // the middle of the band in every sense that matters to a model.
    if width > 0.0 {
        (close - lower) / width
    } else {
        0.5
    }
}

pub(crate) fn bandwidth(upper: f64, middle: f64, lower: f64) -> Option<f64> {
    let b = (upper - lower) / middle;
    b.is_finite().then_some(b)
}

/// Bollinger Bands: SMA(`period_len`) ± `k` population standard deviations, plus %B and bandwidth.
///
/// # Errors
/// [`SignalError::NotFinite`] for a NaN/infinite input, [`SignalError::BadParam`] for a
/// period below 2 or a non-positive `k`.
pub fn bollinger(close: &[f64], period_len: usize, k: f64) -> Result<Bollinger, SignalError> {
    let p = bollinger_params(period_len, k)?;
    check_finite("close", close)?;
    let n = close.len();
    if n == 0 {
        return Ok(Bollinger {
            upper: Vec::new(),
            middle: Vec::new(),
            lower: Vec::new(),
            percent_b: Vec::new(),
            bandwidth: Vec::new(),
        });
    }
    with_scratch(3, n, |buf| {
        let (u, rest) = buf.split_at_mut(n);
        let (m, l) = rest.split_at_mut(n);
        let range = Core::new()
            .bbands(0, n - 1, close, p, k, k, MAType::SMA, u, m, l)
            .map_err(|c| SignalError::talib("BBANDS", c))?;
        Ok(bollinger_series(close, range, u, m, l))
    })
}

/// All five Bollinger series in one pass over ta-lib's bands.
fn bollinger_series(close: &[f64], range: OutRange, u: &[f64], m: &[f64], l: &[f64]) -> Bollinger {
    let n = close.len();
    let beg = range.beg_idx.min(n);
    let count = range.count.min(n - beg);
    let fresh = || {
        let mut v = Vec::with_capacity(n);
        v.resize(beg, None);
        v
    };
    let mut b = Bollinger {
        upper: fresh(),
        middle: fresh(),
        lower: fresh(),
        percent_b: fresh(),
        bandwidth: fresh(),
    };
    let bands = u[..count].iter().zip(&m[..count]).zip(&l[..count]);
    for (&c, ((&u, &m), &l)) in close[beg..beg + count].iter().zip(bands) {
        let (fu, fm, fl) = (finite(u), finite(m), finite(l));
        b.upper.push(fu);
        b.middle.push(fm);
        b.lower.push(fl);
        let all = fu.is_some() && fm.is_some() && fl.is_some();
        b.percent_b.push(all.then(|| percent_b(c, u, l)));
        b.bandwidth
            .push(if all { bandwidth(u, m, l) } else { None });
    }
    for s in [
        &mut b.upper,
        &mut b.middle,
        &mut b.lower,
        &mut b.percent_b,
        &mut b.bandwidth,
    ] {
        s.resize(n, None);
    }
    b
}

/// Average true range with Wilder's smoothing.
///
/// # Errors
/// [`SignalError::LengthMismatch`], [`SignalError::NotFinite`], or [`SignalError::BadParam`].
pub fn atr(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period_len: usize,
) -> Result<Series, SignalError> {
    hlc_series("ATR", 1, high, low, close, period_len, |core, n, p, buf| {
        core.atr(0, n - 1, high, low, close, p, buf)
    })
}

/// Average directional index (Wilder), 0..=100.
///
/// # Errors
/// [`SignalError::LengthMismatch`], [`SignalError::NotFinite`], or [`SignalError::BadParam`].
pub fn adx(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period_len: usize,
) -> Result<Series, SignalError> {
    hlc_series("ADX", 2, high, low, close, period_len, |core, n, p, buf| {
        core.adx(0, n - 1, high, low, close, p, buf)
    })
}

/// Runs a one-output ta-lib indicator over high/low/close after the shared input checks.
fn hlc_series(
    name: &'static str,
    min_period: usize,
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period_len: usize,
    run: impl FnOnce(&Core, usize, i32, &mut [f64]) -> Result<OutRange, ta_lib::RetCode>,
) -> Result<Series, SignalError> {
    let p = period("period", period_len, min_period)?;
    hlc_checked(high, low, close)?;
    let n = close.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    with_scratch(1, n, |buf| {
        let range = run(&Core::new(), n, p, buf).map_err(|c| SignalError::talib(name, c))?;
        Ok(spread(n, range, buf))
    })
}

/// Slow stochastic: raw %K over `fast_k` bars, smoothed by SMA(`slow_k`), %D = SMA(`slow_d`) of it.
///
/// # Errors
/// [`SignalError::LengthMismatch`], [`SignalError::NotFinite`], or [`SignalError::BadParam`].
pub fn stochastic(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    fast_k: usize,
    slow_k: usize,
    slow_d: usize,
) -> Result<Stochastic, SignalError> {
    let (fk, sk, sd) = stochastic_periods(fast_k, slow_k, slow_d)?;
    hlc_checked(high, low, close)?;
    let n = close.len();
    if n == 0 {
        return Ok(Stochastic {
            k: Vec::new(),
            d: Vec::new(),
        });
    }
    with_scratch(2, n, |buf| {
        let (k, d) = buf.split_at_mut(n);
        let range = Core::new()
            .stoch(
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
                k,
                d,
            )
            .map_err(|c| SignalError::talib("STOCH", c))?;
        Ok(Stochastic {
            k: spread(n, range, k),
            d: spread(n, range, d),
        })
    })
}

/// On-balance volume, starting from the first bar's volume as TA-Lib does.
///
/// # Errors
/// [`SignalError::LengthMismatch`] or [`SignalError::NotFinite`].
pub fn obv(close: &[f64], volume: &[f64]) -> Result<Series, SignalError> {
    check_same_len(close.len(), volume.len())?;
    check_finite("close", close)?;
    check_finite("volume", volume)?;
    let n = close.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    with_scratch(1, n, |buf| {
        let range = Core::new()
            .obv(0, n - 1, close, volume, buf)
            .map_err(|c| SignalError::talib("OBV", c))?;
        Ok(spread(n, range, buf))
    })
}

/// Rolling VWAP over the last `window` bars, using the typical price `(h + l + c) / 3`.
///
/// `None` where the window's volume is zero: there is no traded price to average.
///
/// # Errors
/// [`SignalError::LengthMismatch`], [`SignalError::NotFinite`], or [`SignalError::BadParam`].
pub fn vwap(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    window: usize,
) -> Result<Series, SignalError> {
    hlc_checked(high, low, close)?;
    check_same_len(close.len(), volume.len())?;
    check_finite("volume", volume)?;
    let mut s = VwapStream::new(window)?;
    (0..close.len())
        .map(|i| s.update(high[i], low[i], close[i], volume[i]))
        .collect()
}

/// Rate of change over `period_len` bars as a fraction: `close[t] / close[t-n] - 1`.
///
/// TA-Lib's `ROC` is the same times 100; a fraction composes with the other features.
/// `None` where the older close is zero.
///
/// # Errors
/// [`SignalError::NotFinite`] or [`SignalError::BadParam`].
pub fn roc(close: &[f64], period_len: usize) -> Result<Series, SignalError> {
    check_finite("close", close)?;
    let mut s = RocStream::new(period_len)?;
    close.iter().map(|&c| s.update(c)).collect()
}

/// Log return over `period_len` bars: `ln(close[t] / close[t-n])`.
///
/// `None` where either close is not positive.
///
/// # Errors
/// [`SignalError::NotFinite`] or [`SignalError::BadParam`].
pub fn log_return(close: &[f64], period_len: usize) -> Result<Series, SignalError> {
    check_finite("close", close)?;
    if period_len == 0 {
        return Err(SignalError::BadParam("period must be at least 1".into()));
    }
    Ok((0..close.len())
        .map(|t| {
            let prev = *close.get(t.checked_sub(period_len)?)?;
            let r = (close[t] / prev).ln();
            r.is_finite().then_some(r)
        })
        .collect())
}

/// Rolling volatility: sample standard deviation of the last `window` one-bar log returns
/// (not annualised).
///
/// # Errors
/// [`SignalError::NotFinite`] or [`SignalError::BadParam`] (window below 2).
pub fn rolling_volatility(close: &[f64], window: usize) -> Result<Series, SignalError> {
    check_finite("close", close)?;
    let mut s = RollingVolStream::new(window)?;
    close.iter().map(|&c| s.update(c)).collect()
}

/// Volume z-score: `(v[t] - mean) / std` over the last `window` volumes including `t`
/// (population std). 0 when the window's volume is constant.
///
/// # Errors
/// [`SignalError::NotFinite`] or [`SignalError::BadParam`] (window below 2).
pub fn volume_zscore(volume: &[f64], window: usize) -> Result<Series, SignalError> {
    check_finite("volume", volume)?;
    let mut s = VolumeZStream::new(window)?;
    volume.iter().map(|&v| s.update(v)).collect()
}
