//! The crate's one error type.

use chrono::{DateTime, Utc};

/// Why a signal computation refused its input.
///
/// Every bad input is reported here rather than repaired silently: a wrong number in a
/// trading signal is worse than no number.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignalError {
    /// Fewer candles than the computation's warm-up needs.
    #[error("too few candles: {got}, need at least {needed}")]
    TooFewCandles { needed: usize, got: usize },
    /// A value is NaN or infinite (or did not fit an f64).
    #[error("series {series}: value at index {index} is not finite")]
    NotFinite { series: &'static str, index: usize },
    /// Two candles share an open time.
    #[error("candle {index} repeats the open time {open_time}")]
    Duplicate {
        index: usize,
        open_time: DateTime<Utc>,
    },
    /// A candle opens before its predecessor.
    #[error("candle {index} at {open_time} opens before the candle before it")]
    Unsorted {
        index: usize,
        open_time: DateTime<Utc>,
    },
    /// Consecutive candles are further apart than one interval.
    #[error("gap before candle {index} at {open_time}: {missing} candle(s) missing")]
    Gap {
        index: usize,
        open_time: DateTime<Utc>,
        missing: i64,
    },
    /// A candle is internally inconsistent (high < low, negative values, ...).
    #[error("candle {index}: {reason}")]
    InvalidCandle { index: usize, reason: String },
    /// Parallel input series differ in length.
    #[error("input series differ in length: {a} vs {b}")]
    LengthMismatch { a: usize, b: usize },
    /// A window, period or other parameter is out of range.
    #[error("bad parameter: {0}")]
    BadParam(String),
    /// The TA-Lib engine refused the call.
    #[error("ta-lib {indicator}: {code}")]
    Indicator {
        indicator: &'static str,
        code: String,
    },
    /// Features of one version were given to a model trained on another.
    #[error("feature-set version {found} does not match the model's version {expected}")]
    FeatureVersion { expected: u32, found: u32 },
    /// A value of a strategy book is unusable (`series` is weights, returns or funding).
    #[error("{series} of {asset} at bar {bar}: {reason}")]
    BookValue {
        series: &'static str,
        asset: String,
        bar: usize,
        reason: &'static str,
    },
    /// A line of the trial log is unusable.
    #[error("trial log line {line}: {reason}")]
    TrialLog { line: usize, reason: String },
    /// A model could not be fitted (e.g. a single class in the training window).
    #[error("cannot fit model: {0}")]
    Fit(String),
    /// A data file could not be parsed (`file` is its name).
    #[error("{file}: {reason}")]
    DataFile { file: String, reason: String },
    /// Two different candles of one symbol share an open time (e.g. in two files).
    #[error("{symbol}: two different candles open at {open_time}")]
    ConflictingCandles {
        symbol: String,
        open_time: DateTime<Utc>,
    },
    /// A strategy file is malformed or asks for something impossible.
    #[error("strategy file: {0}")]
    Strategy(String),
    /// A frozen model file is malformed or belongs to another strategy or feature spec.
    #[error("frozen model file: {0}")]
    FrozenModel(String),
}

impl SignalError {
    pub(crate) fn talib(indicator: &'static str, code: ta_lib::RetCode) -> Self {
        SignalError::Indicator {
            indicator,
            code: code.to_string(),
        }
    }
}
