//! The same indicators as the parent module, written into the caller's buffers as plain `f64`.
//!
//! For callers that run many indicators over long series (today the benches; the feature
//! code calls TA-Lib the same way into its own scratch): no allocation, no `Option` (16 bytes a value instead of 8), no copy. `out[i]`
//! belongs to bar `i`, as in the parent module; bars before the indicator is defined hold
//! NaN, and a value TA-Lib itself computes as non-finite is left as it is (where the parent
//! module says `None`).
//!
//! Inputs come as [`Finite`] series, checked once when made: a caller that runs nine
//! indicators over the same closes reads them for non-finite values once, not nine times
//! (over 1M candles a check is a fifth of a nanosecond a candle per series, as much as some
//! indicators cost). A non-finite output still never comes from a non-finite input.
//!
//! Each output is written in place: TA-Lib's output for bar `lookback + j` goes straight to
//! `out[lookback + j]`, which is why each function asks TA-Lib for its lookback first.
//! Stochastic and OBV are our own loops, not the crate's (its two cost more than TA-Lib C's);
//! they do TA-Lib's arithmetic in TA-Lib's order, so their values are the crate's to the bit.

use ta_lib::{Core, MAType, OutRange, RetCode};

use super::{
    bollinger_params, check_finite, check_same_len, macd_periods, period, stochastic_periods,
};
use crate::SignalError;

/// A series with no NaN or infinity in it, checked once when made.
#[derive(Debug, Clone, Copy)]
pub struct Finite<'a>(&'a [f64]);

impl<'a> Finite<'a> {
    /// Checks `xs`; `series` names it in the error.
    ///
    /// # Errors
    /// [`SignalError::NotFinite`] with the first bad index.
    pub fn new(series: &'static str, xs: &'a [f64]) -> Result<Self, SignalError> {
        check_finite(series, xs)?;
        Ok(Self(xs))
    }

    pub fn values(self) -> &'a [f64] {
        self.0
    }

    pub fn len(self) -> usize {
        self.0.len()
    }

    pub fn is_empty(self) -> bool {
        self.0.is_empty()
    }
}

/// High, low and close of the same bars.
type Hlc<'a> = (&'a [f64], &'a [f64], &'a [f64]);

/// The three series as slices, once they are known to be of one length.
fn hlc<'a>(high: Finite<'a>, low: Finite<'a>, close: Finite<'a>) -> Result<Hlc<'a>, SignalError> {
    check_same_len(high.len(), low.len())?;
    check_same_len(high.len(), close.len())?;
    Ok((high.0, low.0, close.0))
}

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
        /// [`SignalError::BadParam`] for a period out of range,
        /// [`SignalError::LengthMismatch`] when `out` is not as long as `close`.
        pub fn $name(close: Finite<'_>, period_len: usize, out: &mut [f64]) -> Result<(), SignalError> {
            let p = period("period", period_len, $min)?;
            let close = close.0;
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
    close: Finite<'_>,
    fast: usize,
    slow: usize,
    signal: usize,
    out: MacdOut<'_>,
) -> Result<(), SignalError> {
    let (f, s, g) = macd_periods(fast, slow, signal)?;
    let close = close.0;
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
    close: Finite<'_>,
    period_len: usize,
    k: f64,
    out: BandsOut<'_>,
) -> Result<(), SignalError> {
    let p = bollinger_params(period_len, k)?;
    let close = close.0;
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
/// [`SignalError::LengthMismatch`] or [`SignalError::BadParam`].
pub fn atr_into(
    high: Finite<'_>,
    low: Finite<'_>,
    close: Finite<'_>,
    period_len: usize,
    out: &mut [f64],
) -> Result<(), SignalError> {
    let p = period("period", period_len, 1)?;
    let (high, low, close) = hlc(high, low, close)?;
    let core = Core::new();
    let n = close.len();
    write_into("ATR", n, core.atr_lookback(p), [out], |[o]| {
        core.atr(0, n - 1, high, low, close, p, o)
    })
}

/// [`super::adx`] into `out`.
///
/// # Errors
/// [`SignalError::LengthMismatch`] or [`SignalError::BadParam`].
pub fn adx_into(
    high: Finite<'_>,
    low: Finite<'_>,
    close: Finite<'_>,
    period_len: usize,
    out: &mut [f64],
) -> Result<(), SignalError> {
    let p = period("period", period_len, 2)?;
    let (high, low, close) = hlc(high, low, close)?;
    let core = Core::new();
    let n = close.len();
    write_into("ADX", n, core.adx_lookback(p), [out], |[o]| {
        core.adx(0, n - 1, high, low, close, p, o)
    })
}

/// [`super::stochastic`]'s %K and %D into `k` and `d`.
///
/// TA-Lib's STOCH with SMA smoothing, in one pass over blocks of bars: each block's lowest
/// lows and highest highs, then its fast %K, then both moving averages fed one value at a
/// time with TA-Lib's sums in TA-Lib's order (the window's extremes are exact whichever way
/// they are found). The crate's STOCH writes fast %K to a fresh buffer, smooths it into
/// another and copies; TA-Lib C does the same and costs twice this.
///
/// # Errors
/// [`SignalError::LengthMismatch`] or [`SignalError::BadParam`].
#[allow(clippy::too_many_arguments)]
pub fn stochastic_into(
    high: Finite<'_>,
    low: Finite<'_>,
    close: Finite<'_>,
    fast_k: usize,
    slow_k: usize,
    slow_d: usize,
    k: &mut [f64],
    d: &mut [f64],
) -> Result<(), SignalError> {
    stochastic_periods(fast_k, slow_k, slow_d)?;
    let (high, low, close) = hlc(high, low, close)?;
    let n = close.len();
    check_same_len(n, k.len())?;
    check_same_len(n, d.len())?;
    let lookback = (fast_k - 1) + (slow_k - 1) + (slow_d - 1);
    if n <= lookback {
        k.fill(f64::NAN);
        d.fill(f64::NAN);
        return Ok(());
    }
    k[..lookback].fill(f64::NAN);
    d[..lookback].fill(f64::NAN);

    const BLOCK: usize = 256;
    let (mut slow, mut signal) = (SmaStage::new(slow_k), SmaStage::new(slow_d));
    let (mut lo, mut hi, mut fast) = ([0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK]);
    let mut long_window = (fast_k > SHORT_WINDOW).then(|| LongWindow::new(fast_k));
    // `t0` is the block's first bar; the first bar with a full fast window is `fast_k - 1`.
    let mut t0 = fast_k - 1;
    while t0 < n {
        let m = BLOCK.min(n - t0);
        let (lo, hi, fast) = (&mut lo[..m], &mut hi[..m], &mut fast[..m]);
        match &mut long_window {
            None => short_window_extremes(low, high, fast_k, t0, lo, hi),
            Some(w) => w.extremes(low, high, t0, lo, hi),
        }
        for ((f, &c), (&a, &b)) in fast
            .iter_mut()
            .zip(&close[t0..t0 + m])
            .zip(lo.iter().zip(hi.iter()))
        {
            // TA-Lib's test for a window with no range, and its 0 there.
            let flat = (b - a).abs() <= 1e-14 * (b.abs() + a.abs());
            let v = (c - a) / (b - a) * 100.0;
            *f = if flat { 0.0 } else { v };
        }
        for (t, &f) in (t0..).zip(fast.iter()) {
            if let Some(sk) = slow.push(f)
                && let Some(sd) = signal.push(sk)
            {
                k[t] = sk;
                d[t] = sd;
            }
        }
        t0 += m;
    }
    Ok(())
}

/// Up to this many bars the window's extremes are found by comparing every bar of it.
const SHORT_WINDOW: usize = 32;

/// The lowest low and highest high of the `w` bars ending at each of bars `t0..t0 + lo.len()`.
///
/// Across bars, not along one window: each of the `w - 1` steps is a vector min/max with no
/// branch, which beats any bookkeeping at the short windows indicators use, and grows with
/// `w`, hence [`LongWindow`] past [`SHORT_WINDOW`].
fn short_window_extremes(
    low: &[f64],
    high: &[f64],
    w: usize,
    t0: usize,
    lo: &mut [f64],
    hi: &mut [f64],
) {
    let m = lo.len();
    let (lows, highs) = (&low[t0 + 1 - w..t0 + m], &high[t0 + 1 - w..t0 + m]);
    lo.copy_from_slice(&lows[..m]);
    hi.copy_from_slice(&highs[..m]);
    for j in 1..w {
        for ((a, b), (&x, &y)) in lo
            .iter_mut()
            .zip(hi.iter_mut())
            .zip(lows[j..j + m].iter().zip(&highs[j..j + m]))
        {
            *a = if x < *a { x } else { *a };
            *b = if y > *b { y } else { *b };
        }
    }
}

/// Window extremes for long windows: a queue of the bars that can still be the window's
/// lowest low (lows rising from its front) and one for the highest high, each bar entering
/// and leaving each queue once, so the cost per bar does not grow with the window.
struct LongWindow {
    w: usize,
    lows: std::collections::VecDeque<usize>,
    highs: std::collections::VecDeque<usize>,
    next: usize,
}

impl LongWindow {
    fn new(w: usize) -> Self {
        Self {
            w,
            lows: std::collections::VecDeque::with_capacity(w),
            highs: std::collections::VecDeque::with_capacity(w),
            next: 0,
        }
    }

    fn extremes(&mut self, low: &[f64], high: &[f64], t0: usize, lo: &mut [f64], hi: &mut [f64]) {
        for (t, (a, b)) in (t0..).zip(lo.iter_mut().zip(hi.iter_mut())) {
            // Bars before the first full window enter the queues on the first call.
            while self.next <= t {
                let i = self.next;
                while self.lows.back().is_some_and(|&j| low[j] >= low[i]) {
                    self.lows.pop_back();
                }
                self.lows.push_back(i);
                while self.highs.back().is_some_and(|&j| high[j] <= high[i]) {
                    self.highs.pop_back();
                }
                self.highs.push_back(i);
                self.next += 1;
            }
            let first = t + 1 - self.w;
            while self.lows.front().is_some_and(|&j| j < first) {
                self.lows.pop_front();
            }
            while self.highs.front().is_some_and(|&j| j < first) {
                self.highs.pop_front();
            }
            *a = low[*self.lows.front().expect("bar t is queued")];
            *b = high[*self.highs.front().expect("bar t is queued")];
        }
    }
}

/// TA-Lib's simple moving average fed one value at a time: the window's first `p - 1` values
/// summed, then per value the new one added, the average taken, the oldest subtracted, the
/// same sums in the same order as the batch form. TA-Lib copies instead of averaging over one
/// value, and so does this.
struct SmaStage {
    ring: Vec<f64>,
    pos: usize,
    seen: usize,
    total: f64,
    p: f64,
}

impl SmaStage {
    fn new(period: usize) -> Self {
        Self {
            ring: vec![0.0; period - 1],
            pos: 0,
            seen: 0,
            total: 0.0,
            p: period as f64,
        }
    }

    #[inline(always)]
    fn push(&mut self, x: f64) -> Option<f64> {
        let Some(slot) = self.ring.get_mut(self.pos) else {
            return Some(x);
        };
        let oldest = std::mem::replace(slot, x);
        self.pos += 1;
        if self.pos == self.ring.len() {
            self.pos = 0;
        }
        self.total += x;
        if self.seen < self.ring.len() {
            self.seen += 1;
            return None;
        }
        let sum = self.total;
        self.total -= oldest;
        Some(sum / self.p)
    }
}

/// [`super::obv`] into `out`.
///
/// Our loop, not the crate's: one addend is picked per bar (`+v`, `-v` or `-0.0`) and added
/// once, so the running total is a single add per bar and the pick stays off that chain
/// (0.65 ns a candle against the crate's 0.85 into the same buffer, on the bench's series);
/// `-0.0` is the addend for an unchanged price because it leaves every value, `-0.0`
/// included, as it was.
///
/// # Errors
/// [`SignalError::LengthMismatch`].
pub fn obv_into(close: Finite<'_>, volume: Finite<'_>, out: &mut [f64]) -> Result<(), SignalError> {
    let (close, volume) = (close.0, volume.0);
    check_same_len(close.len(), volume.len())?;
    check_same_len(close.len(), out.len())?;
    let (Some(&first), Some(&v0)) = (close.first(), volume.first()) else {
        return Ok(());
    };
    let (mut obv, mut prev) = (v0, first);
    for ((o, &c), &v) in out.iter_mut().zip(close).zip(volume) {
        let step = if c > prev {
            v
        } else if c < prev {
            -v
        } else {
            -0.0
        };
        obv += step;
        *o = obv;
        prev = c;
    }
    Ok(())
}
