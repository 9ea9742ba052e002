//! Streaming indicators: one closed candle in, that candle's value out, O(1) per update.
//!
//! The TA-Lib-backed streams buffer the first `lookback + 1` bars, then open a `ta-lib`
//! stream on them (one O(lookback) step) and from there update in O(1). Because both the
//! batch functions in [`crate::indicators`] and these streams start at the first bar, their
//! values are identical. Our own streams (VWAP, ROC, volatility, volume z-score) keep
//! running sums over a ring buffer and recompute those sums exactly once per window length,
//! so rounding error cannot accumulate over a long live session while updates stay O(1)
//! amortised. The batch forms of those four are these streams run over the series.
//!
//! Every `update` rejects a non-finite input with [`SignalError::NotFinite`] and leaves the
//! stream untouched, so the caller may retry with a corrected bar.

use std::collections::VecDeque;

use ta_lib::{Core, MAType};

use crate::SignalError;
use crate::indicators::{bandwidth, percent_b, period};

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn require_finite(series: &'static str, index: usize, xs: &[f64]) -> Result<(), SignalError> {
    if xs.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(SignalError::NotFinite { series, index })
    }
}

macro_rules! talib_close_stream {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $open:ident, $lookback:ident, $label:literal, $min:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            period: i32,
            need: usize,
            seen: usize,
            warm: Vec<f64>,
            inner: Option<$inner>,
        }

        impl $name {
            /// Creates the stream.
            ///
            /// # Errors
            /// [`SignalError::BadParam`] for a period out of range.
            pub fn new(period_len: usize) -> Result<Self, SignalError> {
                let period = period("period", period_len, $min)?;
                let need = Core::new()
                    .$lookback(period)
                    .map_err(|c| SignalError::talib($label, c))?
                    + 1;
                Ok(Self { period, need, seen: 0, warm: Vec::with_capacity(need), inner: None })
            }

            /// Feeds one closed bar; `None` while warming up.
            ///
            /// # Errors
            /// [`SignalError::NotFinite`] for a NaN/infinite close (the stream is unchanged).
            pub fn update(&mut self, close: f64) -> Result<Option<f64>, SignalError> {
                require_finite("close", self.seen, &[close])?;
                self.seen += 1;
                if let Some(s) = &mut self.inner {
                    return s.update(close).map(finite).map_err(|c| SignalError::talib($label, c));
                }
                self.warm.push(close);
                if self.warm.len() < self.need {
                    return Ok(None);
                }
                let (s, last) = Core::new()
                    .$open(&self.warm, self.period)
                    .map_err(|c| SignalError::talib($label, c))?;
                self.inner = Some(s);
                self.warm = Vec::new();
                Ok(finite(last))
            }
        }
    };
}

talib_close_stream!(
    /// Streaming [`crate::indicators::sma`].
    SmaStream, ta_lib::SmaStream, sma_open, sma_lookback, "SMA", 1
);
talib_close_stream!(
    /// Streaming [`crate::indicators::ema`].
    EmaStream, ta_lib::EmaStream, ema_open, ema_lookback, "EMA", 1
);
talib_close_stream!(
    /// Streaming [`crate::indicators::rsi`] (Wilder).
    RsiStream, ta_lib::RsiStream, rsi_open, rsi_lookback, "RSI", 2
);

/// A ta-lib stream over high/low/close, warmed up from its first `lookback + 1` bars.
macro_rules! talib_hlc_stream {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $open:ident, $lookback:ident, $label:literal, $min:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            period: i32,
            need: usize,
            seen: usize,
            warm: [Vec<f64>; 3],
            inner: Option<$inner>,
        }

        impl $name {
            /// Creates the stream.
            ///
            /// # Errors
            /// [`SignalError::BadParam`] for a period out of range.
            pub fn new(period_len: usize) -> Result<Self, SignalError> {
                let period = period("period", period_len, $min)?;
                let need = Core::new().$lookback(period).map_err(|c| SignalError::talib($label, c))? + 1;
                Ok(Self { period, need, seen: 0, warm: [Vec::new(), Vec::new(), Vec::new()], inner: None })
            }

            /// Feeds one closed bar; `None` while warming up.
            ///
            /// # Errors
            /// [`SignalError::NotFinite`] for a NaN/infinite input (the stream is unchanged).
            pub fn update(&mut self, high: f64, low: f64, close: f64) -> Result<Option<f64>, SignalError> {
                require_finite("high/low/close", self.seen, &[high, low, close])?;
                self.seen += 1;
                if let Some(s) = &mut self.inner {
                    return s.update(high, low, close).map(finite).map_err(|c| SignalError::talib($label, c));
                }
                let [h, l, c] = &mut self.warm;
                h.push(high);
                l.push(low);
                c.push(close);
                if c.len() < self.need {
                    return Ok(None);
                }
                let (s, last) =
                    Core::new().$open(h, l, c, self.period).map_err(|e| SignalError::talib($label, e))?;
                self.inner = Some(s);
                self.warm = [Vec::new(), Vec::new(), Vec::new()];
                Ok(finite(last))
            }
        }
    };
}

talib_hlc_stream!(
    /// Streaming [`crate::indicators::atr`] (Wilder).
    AtrStream, ta_lib::AtrStream, atr_open, atr_lookback, "ATR", 1
);
talib_hlc_stream!(
    /// Streaming [`crate::indicators::adx`].
    AdxStream, ta_lib::AdxStream, adx_open, adx_lookback, "ADX", 2
);

/// One MACD reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    pub macd: f64,
    pub signal: f64,
    pub hist: f64,
}

/// Streaming [`crate::indicators::macd`].
#[derive(Debug, Clone)]
pub struct MacdStream {
    periods: (i32, i32, i32),
    need: usize,
    seen: usize,
    warm: Vec<f64>,
    inner: Option<ta_lib::MacdStream>,
}

fn macd_value((macd, signal, hist): (f64, f64, f64)) -> Option<MacdValue> {
    (macd.is_finite() && signal.is_finite() && hist.is_finite()).then_some(MacdValue {
        macd,
        signal,
        hist,
    })
}

impl MacdStream {
    /// Creates the stream.
    ///
    /// # Errors
    /// [`SignalError::BadParam`] for periods out of range.
    pub fn new(fast: usize, slow: usize, signal: usize) -> Result<Self, SignalError> {
        let periods = (
            period("fast", fast, 2)?,
            period("slow", slow, 2)?,
            period("signal", signal, 1)?,
        );
        let need = Core::new()
            .macd_lookback(periods.0, periods.1, periods.2)
            .map_err(|c| SignalError::talib("MACD", c))?
            + 1;
        Ok(Self {
            periods,
            need,
            seen: 0,
            warm: Vec::new(),
            inner: None,
        })
    }

    /// Feeds one closed bar; `None` while warming up.
    ///
    /// # Errors
    /// [`SignalError::NotFinite`] for a NaN/infinite close (the stream is unchanged).
    pub fn update(&mut self, close: f64) -> Result<Option<MacdValue>, SignalError> {
        require_finite("close", self.seen, &[close])?;
        self.seen += 1;
        if let Some(s) = &mut self.inner {
            return s
                .update(close)
                .map(macd_value)
                .map_err(|c| SignalError::talib("MACD", c));
        }
        self.warm.push(close);
        if self.warm.len() < self.need {
            return Ok(None);
        }
        let (f, sl, sg) = self.periods;
        let (s, last) = Core::new()
            .macd_open(&self.warm, f, sl, sg)
            .map_err(|c| SignalError::talib("MACD", c))?;
        self.inner = Some(s);
        self.warm = Vec::new();
        Ok(macd_value(last))
    }
}

/// One Bollinger reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BollingerValue {
    pub upper: f64,
    pub middle: f64,
    pub lower: f64,
    pub percent_b: f64,
    /// `None` when the middle band is zero.
    pub bandwidth: Option<f64>,
}

/// Streaming [`crate::indicators::bollinger`].
#[derive(Debug, Clone)]
pub struct BollingerStream {
    period: i32,
    k: f64,
    need: usize,
    seen: usize,
    warm: Vec<f64>,
    inner: Option<ta_lib::BbandsStream>,
}

impl BollingerStream {
    /// Creates the stream.
    ///
    /// # Errors
    /// [`SignalError::BadParam`] for a period below 2 or a non-positive `k`.
    pub fn new(period_len: usize, k: f64) -> Result<Self, SignalError> {
        let period = period("period", period_len, 2)?;
        if !(k.is_finite() && k > 0.0) {
            return Err(SignalError::BadParam(format!(
                "k must be positive, got {k}"
            )));
        }
        let need = Core::new()
            .bbands_lookback(period, k, k, MAType::SMA)
            .map_err(|c| SignalError::talib("BBANDS", c))?
            + 1;
        Ok(Self {
            period,
            k,
            need,
            seen: 0,
            warm: Vec::new(),
            inner: None,
        })
    }

    fn value(close: f64, (upper, middle, lower): (f64, f64, f64)) -> Option<BollingerValue> {
        (upper.is_finite() && middle.is_finite() && lower.is_finite()).then(|| BollingerValue {
            upper,
            middle,
            lower,
            percent_b: percent_b(close, upper, lower),
            bandwidth: bandwidth(upper, middle, lower),
        })
    }

    /// Feeds one closed bar; `None` while warming up.
    ///
    /// # Errors
    /// [`SignalError::NotFinite`] for a NaN/infinite close (the stream is unchanged).
    pub fn update(&mut self, close: f64) -> Result<Option<BollingerValue>, SignalError> {
        require_finite("close", self.seen, &[close])?;
        self.seen += 1;
        if let Some(s) = &mut self.inner {
            let bands = s
                .update(close)
                .map_err(|c| SignalError::talib("BBANDS", c))?;
            return Ok(Self::value(close, bands));
        }
        self.warm.push(close);
        if self.warm.len() < self.need {
            return Ok(None);
        }
        let (s, last) = Core::new()
            .bbands_open(&self.warm, self.period, self.k, self.k, MAType::SMA)
            .map_err(|c| SignalError::talib("BBANDS", c))?;
        self.inner = Some(s);
        self.warm = Vec::new();
        Ok(Self::value(close, last))
    }
}

/// A fixed-length window with running sums that are recomputed from scratch once per
/// window length, bounding rounding drift at O(1) amortised cost.
#[derive(Debug, Clone)]
struct Window {
    cap: usize,
    xs: VecDeque<f64>,
    sum: f64,
    sum_sq: f64,
    since_exact: usize,
}

impl Window {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            xs: VecDeque::with_capacity(cap + 1),
            sum: 0.0,
            sum_sq: 0.0,
            since_exact: 0,
        }
    }

    fn push(&mut self, x: f64) {
        self.xs.push_back(x);
        self.sum += x;
        self.sum_sq += x * x;
        if self.xs.len() > self.cap
            && let Some(old) = self.xs.pop_front()
        {
            self.sum -= old;
            self.sum_sq -= old * old;
        }
        self.since_exact += 1;
        if self.since_exact >= self.cap {
            self.sum = self.xs.iter().sum();
            self.sum_sq = self.xs.iter().map(|v| v * v).sum();
            self.since_exact = 0;
        }
    }

    fn full(&self) -> bool {
        self.xs.len() == self.cap
    }

    fn mean(&self) -> f64 {
        self.sum / self.cap as f64
    }

    /// Variance with `cap - ddof` in the denominator, clamped at 0 against rounding.
    fn variance(&self, ddof: usize) -> f64 {
        let n = self.cap as f64;
        ((self.sum_sq - self.sum * self.sum / n) / (n - ddof as f64)).max(0.0)
    }
}

/// Streaming [`crate::indicators::rolling_volatility`].
#[derive(Debug, Clone)]
pub struct RollingVolStream {
    prev: Option<f64>,
    seen: usize,
    returns: Window,
}

impl RollingVolStream {
    /// Creates the stream.
    ///
    /// # Errors
    /// [`SignalError::BadParam`] for a window below 2 or above
    /// [`crate::indicators::MAX_PERIOD`].
    pub fn new(window: usize) -> Result<Self, SignalError> {
        period("window", window, 2)?;
        Ok(Self {
            prev: None,
            seen: 0,
            returns: Window::new(window),
        })
    }

    /// Feeds one close; `None` until `window` returns (`window + 1` closes) have been seen.
    ///
    /// # Errors
    /// [`SignalError::NotFinite`] for a non-finite close or a log return that is not finite
    /// (a zero or negative close).
    pub fn update(&mut self, close: f64) -> Result<Option<f64>, SignalError> {
        require_finite("close", self.seen, &[close])?;
        if let Some(prev) = self.prev {
            let r = (close / prev).ln();
            require_finite("log return", self.seen, &[r])?;
            self.returns.push(r);
        }
        self.prev = Some(close);
        self.seen += 1;
        Ok(self.returns.full().then(|| self.returns.variance(1).sqrt()))
    }
}

/// Streaming [`crate::indicators::volume_zscore`].
#[derive(Debug, Clone)]
pub struct VolumeZStream {
    seen: usize,
    vols: Window,
}

impl VolumeZStream {
    /// Creates the stream.
    ///
    /// # Errors
    /// [`SignalError::BadParam`] for a window below 2 or above
    /// [`crate::indicators::MAX_PERIOD`].
    pub fn new(window: usize) -> Result<Self, SignalError> {
        period("window", window, 2)?;
        Ok(Self {
            seen: 0,
            vols: Window::new(window),
        })
    }

    /// Feeds one volume; `None` until the window is full.
    ///
    /// # Errors
    /// [`SignalError::NotFinite`] for a non-finite volume.
    pub fn update(&mut self, volume: f64) -> Result<Option<f64>, SignalError> {
        require_finite("volume", self.seen, &[volume])?;
        self.seen += 1;
        self.vols.push(volume);
        if !self.vols.full() {
            return Ok(None);
        }
        let sd = self.vols.variance(0).sqrt();
        // Relative threshold: a window of equal volumes leaves rounding-level variance,
        // which must read as "ordinary volume", not as a huge z-score.
        if sd <= 1e-12 * self.vols.mean().abs().max(1.0) {
            return Ok(Some(0.0));
        }
        Ok(finite((volume - self.vols.mean()) / sd))
    }
}

/// Streaming [`crate::indicators::roc`].
#[derive(Debug, Clone)]
pub struct RocStream {
    seen: usize,
    closes: VecDeque<f64>,
    period: usize,
}

impl RocStream {
    /// Creates the stream.
    ///
    /// # Errors
    /// [`SignalError::BadParam`] for a period of 0.
    pub fn new(period_len: usize) -> Result<Self, SignalError> {
        period("period", period_len, 1)?;
        Ok(Self {
            seen: 0,
            closes: VecDeque::with_capacity(period_len + 1),
            period: period_len,
        })
    }

    /// Feeds one close; `None` for the first `period` closes and where the old close is 0.
    ///
    /// # Errors
    /// [`SignalError::NotFinite`] for a non-finite close.
    pub fn update(&mut self, close: f64) -> Result<Option<f64>, SignalError> {
        require_finite("close", self.seen, &[close])?;
        self.seen += 1;
        self.closes.push_back(close);
        if self.closes.len() <= self.period {
            return Ok(None);
        }
        Ok(self
            .closes
            .pop_front()
            .and_then(|old| finite(close / old - 1.0)))
    }
}

/// Streaming [`crate::indicators::vwap`].
#[derive(Debug, Clone)]
pub struct VwapStream {
    seen: usize,
    pv: Window,
    v: Window,
}

impl VwapStream {
    /// Creates the stream.
    ///
    /// # Errors
    /// [`SignalError::BadParam`] for a window of 0 or above
    /// [`crate::indicators::MAX_PERIOD`].
    pub fn new(window: usize) -> Result<Self, SignalError> {
        period("window", window, 1)?;
        Ok(Self {
            seen: 0,
            pv: Window::new(window),
            v: Window::new(window),
        })
    }

    /// Feeds one bar; `None` until the window is full and where its volume is zero.
    ///
    /// # Errors
    /// [`SignalError::NotFinite`] for a non-finite input.
    pub fn update(
        &mut self,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
    ) -> Result<Option<f64>, SignalError> {
        require_finite(
            "high/low/close/volume",
            self.seen,
            &[high, low, close, volume],
        )?;
        self.seen += 1;
        let typical = (high + low + close) / 3.0;
        self.pv.push(typical * volume);
        self.v.push(volume);
        if !self.v.full() || self.v.sum <= 0.0 {
            return Ok(None);
        }
        Ok(finite(self.pv.sum / self.v.sum))
    }
}
