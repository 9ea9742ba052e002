//! The model's inputs: a documented, versioned feature set computed from candles.
//!
//! # Feature set version 2
//!
//! Every feature is scale-free, so one model can be read across symbols and price levels:
//!
//! | # | name | definition |
//! |---|---|---|
//! | 0 | `ret_1` | `ln(close[t] / close[t-1])` |
//! | 1 | `ret_4` | `ln(close[t] / close[t-4])` |
//! | 2 | `ret_24` | `ln(close[t] / close[t-24])` |
//! | 3 | `rsi14` | RSI(14, Wilder) / 100 |
//! | 4 | `bb_pct_b` | Bollinger(20, 2) %B |
//! | 5 | `bb_bandwidth` | Bollinger(20, 2) `(upper - lower) / middle` |
//! | 6 | `atr14_rel` | ATR(14, Wilder) / close |
//! | 7 | `macd_hist_rel` | MACD(12, 26, 9) histogram / close |
//! | 8 | `adx14` | ADX(14) / 100 |
//! | 9 | `volume_z20` | volume z-score over 20 bars |
//! | 10 | `vol24` | std of the last 24 one-bar log returns |
//! | 11 | `funding_bp` | the last **settled** funding rate at or before the candle's open time, in basis points (×10⁴) |
//!
//! Version 2 added `funding_bp`. Funding is known only once it settles (every 8 h on
//! Binance USDⓈ-M), so the row of candle `t` takes the newest settlement whose time is at
//! or before `t`'s open time: a rate settling during or after the candle is not used, even
//! though the row is only read at its close. Without a funding series (spot data, or a
//! series that starts later) the value is the 0.01% per 8 h the backtest also assumes
//! ([`crate::backtest::DEFAULT_FUNDING_RATE`]), so such a column is constant and carries no
//! signal rather than a wrong one. Models of version 1 are refused (their saved JSON says
//! `feature_set_version: 1`; see [`crate::SignalError::FeatureVersion`]).
//!
//! A row exists for candle `t` only when every feature is defined; the first is at index
//! [`WARMUP`] (MACD's lookback is the longest). Each value at `t` is computed from candles
//! `0..=t` only: the no-look-ahead property the tests check. Changing any definition above
//! must bump [`FEATURE_SET_VERSION`], because saved models refuse other versions.

use chrono::{DateTime, Utc};
use perpdesk_core::{Candle, Interval};
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::backtest::{DEFAULT_FUNDING_RATE, FundingRates};
use ta_lib::{Core, MAType};

use crate::indicators::{self, check_finite, check_same_len};
use crate::stream::{
    AdxStream, AtrStream, BollingerStream, MacdStream, RollingVolStream, RsiStream, VolumeZStream,
};

/// Version of the feature definitions in this module.
pub const FEATURE_SET_VERSION: u32 = 2;

/// Number of features per row.
pub const N_FEATURES: usize = 12;

/// Feature names, in column order.
pub const FEATURE_NAMES: [&str; N_FEATURES] = [
    "ret_1",
    "ret_4",
    "ret_24",
    "rsi14",
    "bb_pct_b",
    "bb_bandwidth",
    "atr14_rel",
    "macd_hist_rel",
    "adx14",
    "volume_z20",
    "vol24",
    "funding_bp",
];

/// Index of the first candle that has a full feature row.
pub const WARMUP: usize = 33;

/// Candles as parallel f64 columns: the crate's only conversion from exact decimals.
///
/// Indicator arithmetic is statistics, not money, so f64 is adequate here.
#[derive(Debug, Clone, PartialEq)]
pub struct Ohlcv {
    pub open_time: Vec<DateTime<Utc>>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
}

fn to_f64(
    series: &'static str,
    index: usize,
    d: rust_decimal::Decimal,
) -> Result<f64, SignalError> {
    d.to_f64()
        .filter(|v| v.is_finite())
        .ok_or(SignalError::NotFinite { series, index })
}

impl Ohlcv {
    /// Converts and checks candles of one symbol and interval.
    ///
    /// The candles must be strictly ascending by open time, exactly one `interval` apart
    /// (a gap is an error, not something to interpolate: the caller decides whether to
    /// split the series), and each must pass [`Candle::validate`].
    ///
    /// # Errors
    /// [`SignalError::Unsorted`], [`SignalError::Duplicate`], [`SignalError::Gap`],
    /// [`SignalError::InvalidCandle`], or [`SignalError::NotFinite`].
    pub fn from_candles(candles: &[Candle], interval: Interval) -> Result<Self, SignalError> {
        let n = candles.len();
        let mut out = Ohlcv {
            open_time: Vec::with_capacity(n),
            open: Vec::with_capacity(n),
            high: Vec::with_capacity(n),
            low: Vec::with_capacity(n),
            close: Vec::with_capacity(n),
            volume: Vec::with_capacity(n),
        };
        let step = interval.duration();
        for (index, c) in candles.iter().enumerate() {
            if let Some(&prev) = out.open_time.last() {
                let open_time = c.open_time;
                if open_time == prev {
                    return Err(SignalError::Duplicate { index, open_time });
                }
                if open_time < prev {
                    return Err(SignalError::Unsorted { index, open_time });
                }
                if open_time - prev != step {
                    let missing = (open_time - prev).num_minutes() / interval.minutes() - 1;
                    return Err(SignalError::Gap {
                        index,
                        open_time,
                        missing: missing.max(1),
                    });
                }
            }
            c.validate().map_err(|e| SignalError::InvalidCandle {
                index,
                reason: e.to_string(),
            })?;
            out.open_time.push(c.open_time);
            out.open.push(to_f64("open", index, c.open)?);
            out.high.push(to_f64("high", index, c.high)?);
            out.low.push(to_f64("low", index, c.low)?);
            out.close.push(to_f64("close", index, c.close)?);
            out.volume.push(to_f64("volume", index, c.volume)?);
        }
        Ok(out)
    }

    /// Number of candles.
    pub fn len(&self) -> usize {
        self.close.len()
    }

    /// Whether there are no candles.
    pub fn is_empty(&self) -> bool {
        self.close.is_empty()
    }

    fn check(&self) -> Result<(), SignalError> {
        let n = self.close.len();
        for len in [
            self.open_time.len(),
            self.open.len(),
            self.high.len(),
            self.low.len(),
            self.volume.len(),
        ] {
            check_same_len(n, len)?;
        }
        check_finite("open", &self.open)?;
        check_finite("high", &self.high)?;
        check_finite("low", &self.low)?;
        check_finite("close", &self.close)?;
        check_finite("volume", &self.volume)?;
        match self.close.iter().position(|&c| c <= 0.0) {
            Some(index) => Err(SignalError::InvalidCandle {
                index,
                reason: "close is not positive".into(),
            }),
            None => Ok(()),
        }
    }
}

/// Features for one candle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureRow {
    /// Index of the candle in the input.
    pub index: usize,
    pub open_time: DateTime<Utc>,
    /// Values in [`FEATURE_NAMES`] order; always finite.
    pub values: [f64; N_FEATURES],
}

/// A feature matrix, tagged with the version of the definitions that produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    pub version: u32,
    pub rows: Vec<FeatureRow>,
}

/// Computes the feature set from candles without a funding series (see the module docs).
///
/// # Errors
/// Everything [`Ohlcv::from_candles`] rejects, and [`SignalError::TooFewCandles`] below
/// `WARMUP + 1` candles.
pub fn features_from_candles(
    candles: &[Candle],
    interval: Interval,
) -> Result<Features, SignalError> {
    compute_features(&Ohlcv::from_candles(candles, interval)?)
}

/// Computes the feature set from f64 columns without a funding series: `funding_bp` is
/// the default rate on every row (see the module docs).
///
/// # Errors
/// As [`compute_features_with_funding`].
pub fn compute_features(x: &Ohlcv) -> Result<Features, SignalError> {
    compute_features_with_funding(x, &FundingRates::default())
}

/// Computes the feature set from f64 columns and the settled funding rates (see the module
/// docs).
///
/// # Errors
/// [`SignalError::LengthMismatch`], [`SignalError::NotFinite`],
/// [`SignalError::InvalidCandle`] for a non-positive close, and
/// [`SignalError::TooFewCandles`] below `WARMUP + 1` candles.
pub fn compute_features_with_funding(
    x: &Ohlcv,
    funding: &FundingRates,
) -> Result<Features, SignalError> {
    x.check()?;
    let n = x.len();
    if n <= WARMUP {
        return Err(SignalError::TooFewCandles {
            needed: WARMUP + 1,
            got: n,
        });
    }
    let (h, l, c) = (&x.high, &x.low, &x.close);
    // Straight into ta-lib's compact buffers (value for bar t at t - beg): going through
    // the per-bar `Option` series of `indicators` would triple the memory traffic. The
    // buffers are the thread's reused scratch: page-faulting fresh ones was most of this
    // function's time.
    indicators::with_scratch(10, n, |buf| {
        let mut parts = buf.chunks_exact_mut(n);
        let mut next = || parts.next().expect("ten buffers of n");
        let (rsi, up, mid, lo, atr) = (next(), next(), next(), next(), next());
        let (m, ms, mh, adx, lnc) = (next(), next(), next(), next(), next());
        let core = Core::new();
        let last = n - 1;
        let talib = |name: &'static str| move |e| SignalError::talib(name, e);
        let rsi_r = core.rsi(0, last, c, 14, rsi).map_err(talib("RSI"))?;
        let bb_r = core
            .bbands(0, last, c, 20, 2.0, 2.0, MAType::SMA, up, mid, lo)
            .map_err(talib("BBANDS"))?;
        let atr_r = core.atr(0, last, h, l, c, 14, atr).map_err(talib("ATR"))?;
        let macd_r = core
            .macd(0, last, c, 12, 26, 9, m, ms, mh)
            .map_err(talib("MACD"))?;
        let adx_r = core.adx(0, last, h, l, c, 14, adx).map_err(talib("ADX"))?;
        for (slot, v) in lnc.iter_mut().zip(c) {
            *slot = v.ln();
        }
        Ok(feature_rows(
            x,
            funding,
            Outputs {
                rsi: (rsi, rsi_r),
                up: (up, bb_r),
                mid: (mid, bb_r),
                lo: (lo, bb_r),
                atr: (atr, atr_r),
                mh: (mh, macd_r),
                adx: (adx, adx_r),
                lnc,
            },
        ))
    })
}

/// ta-lib's compact outputs with their ranges, and the log closes.
struct Outputs<'a> {
    rsi: (&'a [f64], ta_lib::OutRange),
    up: (&'a [f64], ta_lib::OutRange),
    mid: (&'a [f64], ta_lib::OutRange),
    lo: (&'a [f64], ta_lib::OutRange),
    atr: (&'a [f64], ta_lib::OutRange),
    mh: (&'a [f64], ta_lib::OutRange),
    adx: (&'a [f64], ta_lib::OutRange),
    lnc: &'a [f64],
}

fn feature_rows(x: &Ohlcv, funding: &FundingRates, o: Outputs<'_>) -> Features {
    let n = x.len();
    let (c, v, lnc) = (&x.close, &x.volume, o.lnc);
    let at = |(buf, r): (&[f64], ta_lib::OutRange), t: usize| -> Option<f64> {
        let k = t.checked_sub(r.beg_idx)?;
        if k < r.count {
            buf.get(k).copied()
        } else {
            None
        }
    };
    let mut rows = Vec::with_capacity(n - WARMUP);
    // Open times are strictly increasing (checked), so the funding lookups walk forward.
    let mut settled = funding.cursor();
    let (no_funding, default_bp) = (funding.is_empty(), funding_bp(None));
    for t in WARMUP..n {
        let close = c[t];
        let (u, mi, lw) = (at(o.up, t), at(o.mid, t), at(o.lo, t));
        let bands = u.zip(mi).zip(lw);
        let vals = [
            Some(lnc[t] - lnc[t - 1]),
            Some(lnc[t] - lnc[t - 4]),
            Some(lnc[t] - lnc[t - 24]),
            at(o.rsi, t).map(|r| r / 100.0),
            bands.map(|((u, _), l)| indicators::percent_b(close, u, l)),
            bands.and_then(|((u, m), l)| indicators::bandwidth(u, m, l)),
            at(o.atr, t).map(|a| a / close),
            at(o.mh, t).map(|m| m / close),
            at(o.adx, t).map(|a| a / 100.0),
            Some(window_zscore(&v[t + 1 - 20..=t])),
            Some(window_sample_std_of_diffs(&lnc[t - 24..=t])),
            Some(if no_funding {
                default_bp
            } else {
                funding_bp(settled.at(x.open_time[t]))
            }),
        ];
        let mut values = [0.0; N_FEATURES];
        let mut complete = true;
        for (slot, v) in values.iter_mut().zip(vals) {
            match v.filter(|v| v.is_finite()) {
                Some(v) => *slot = v,
                None => complete = false,
            }
        }
        if complete {
            rows.push(FeatureRow {
                index: t,
                open_time: x.open_time[t],
                values,
            });
        }
    }
    Features {
        version: FEATURE_SET_VERSION,
        rows,
    }
}

/// The funding feature's value for a settled rate (or none known).
fn funding_bp(rate: Option<f64>) -> f64 {
    rate.unwrap_or(DEFAULT_FUNDING_RATE) * 1e4
}

/// z-score of the window's last value against the window (population std); 0 for a flat
/// window, as [`VolumeZStream`] does.
fn window_zscore(w: &[f64]) -> f64 {
    let n = w.len() as f64;
    let mean = w.iter().sum::<f64>() / n;
    let var = w.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    let sd = var.sqrt();
    if sd <= 1e-12 * mean.abs().max(1.0) {
        return 0.0;
    }
    (w[w.len() - 1] - mean) / sd
}

/// Sample std of the consecutive differences of `w` (log closes → log returns).
fn window_sample_std_of_diffs(w: &[f64]) -> f64 {
    let k = (w.len() - 1) as f64;
    let mean = (w[w.len() - 1] - w[0]) / k;
    let ss = w
        .windows(2)
        .map(|p| {
            let d = p[1] - p[0] - mean;
            d * d
        })
        .sum::<f64>();
    (ss / (k - 1.0)).sqrt()
}

/// The feature set one closed candle at a time, for the live path.
///
/// Holds O(1) state per indicator (the longest buffer is 25 closes), and produces exactly
/// the row [`compute_features_with_funding`] produces for the same candle of the same
/// series, when [`FeatureStream::set_funding_rate`] is told each settled rate before the
/// first candle that opens at or after its settlement time.
#[derive(Debug, Clone)]
pub struct FeatureStream {
    seen: usize,
    closes: std::collections::VecDeque<f64>,
    rsi: RsiStream,
    bb: BollingerStream,
    atr: AtrStream,
    macd: MacdStream,
    adx: AdxStream,
    vz: VolumeZStream,
    vol: RollingVolStream,
    funding: Option<f64>,
}

impl FeatureStream {
    /// Creates an empty stream; the first row comes with candle index [`WARMUP`].
    ///
    /// # Errors
    /// None in practice; the fixed periods of the feature set are valid. Kept fallible so a future
    /// version with parameters does not change the signature.
    pub fn new() -> Result<Self, SignalError> {
        Ok(Self {
            seen: 0,
            closes: std::collections::VecDeque::with_capacity(26),
            rsi: RsiStream::new(14)?,
            bb: BollingerStream::new(20, 2.0)?,
            atr: AtrStream::new(14)?,
            macd: MacdStream::new(12, 26, 9)?,
            adx: AdxStream::new(14)?,
            vz: VolumeZStream::new(20)?,
            vol: RollingVolStream::new(24)?,
            funding: None,
        })
    }

    /// Records a settled funding rate: it applies to candles fed from now on.
    ///
    /// # Errors
    /// [`SignalError::NotFinite`] for a non-finite rate (the stream is unchanged).
    pub fn set_funding_rate(&mut self, rate: f64) -> Result<(), SignalError> {
        if !rate.is_finite() {
            return Err(SignalError::NotFinite {
                series: "funding rate",
                index: self.seen,
            });
        }
        self.funding = Some(rate);
        Ok(())
    }

    /// Feeds the next closed candle (`high`, `low`, `close`, `volume`); returns its feature
    /// values once every feature is defined.
    ///
    /// # Errors
    /// [`SignalError::NotFinite`] for a non-finite input and [`SignalError::InvalidCandle`]
    /// for a non-positive close, both before any state changes.
    pub fn update(
        &mut self,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
    ) -> Result<Option<[f64; N_FEATURES]>, SignalError> {
        if ![high, low, close, volume].iter().all(|v| v.is_finite()) {
            return Err(SignalError::NotFinite {
                series: "high/low/close/volume",
                index: self.seen,
            });
        }
        if close <= 0.0 {
            return Err(SignalError::InvalidCandle {
                index: self.seen,
                reason: "close is not positive".into(),
            });
        }
        self.seen += 1;
        self.closes.push_back(close);
        if self.closes.len() > 25 {
            self.closes.pop_front();
        }
        let ret = |k: usize| {
            let len = self.closes.len();
            let prev = *self.closes.get(len.checked_sub(k + 1)?)?;
            let r = (close / prev).ln();
            r.is_finite().then_some(r)
        };
        let (r1, r4, r24) = (ret(1), ret(4), ret(24));
        let rsi = self.rsi.update(close)?;
        let bb = self.bb.update(close)?;
        let atr = self.atr.update(high, low, close)?;
        let macd = self.macd.update(close)?;
        let adx = self.adx.update(high, low, close)?;
        let vz = self.vz.update(volume)?;
        let vol = self.vol.update(close)?;
        let vals = [
            r1,
            r4,
            r24,
            rsi.map(|r| r / 100.0),
            bb.map(|b| b.percent_b),
            bb.and_then(|b| b.bandwidth),
            atr.map(|a| a / close),
            macd.map(|m| m.hist / close),
            adx.map(|a| a / 100.0),
            vz,
            vol,
            Some(funding_bp(self.funding)),
        ];
        let mut values = [0.0; N_FEATURES];
        for (slot, v) in values.iter_mut().zip(vals) {
            match v.filter(|v| v.is_finite()) {
                Some(v) => *slot = v,
                None => return Ok(None),
            }
        }
        Ok(Some(values))
    }
}
