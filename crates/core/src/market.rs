//! Market data: candles and their intervals.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A kline interval, as Binance names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Interval {
    #[serde(rename = "1m")]
    M1,
    #[serde(rename = "3m")]
    M3,
    #[serde(rename = "5m")]
    M5,
    #[serde(rename = "15m")]
    M15,
    #[serde(rename = "30m")]
    M30,
    #[serde(rename = "1h")]
    H1,
    #[serde(rename = "2h")]
    H2,
    #[serde(rename = "4h")]
    H4,
    #[serde(rename = "6h")]
    H6,
    #[serde(rename = "8h")]
    H8,
    #[serde(rename = "12h")]
    H12,
    #[serde(rename = "1d")]
    D1,
}

impl Interval {
    /// All intervals, shortest first.
    pub const ALL: [Interval; 12] = [
        Interval::M1,
        Interval::M3,
        Interval::M5,
        Interval::M15,
        Interval::M30,
        Interval::H1,
        Interval::H2,
        Interval::H4,
        Interval::H6,
        Interval::H8,
        Interval::H12,
        Interval::D1,
    ];

    /// Returns the interval's length.
    pub fn duration(self) -> Duration {
        Duration::minutes(self.minutes())
    }

    /// Returns the interval's length in minutes.
    pub fn minutes(self) -> i64 {
        match self {
            Interval::M1 => 1,
            Interval::M3 => 3,
            Interval::M5 => 5,
            Interval::M15 => 15,
            Interval::M30 => 30,
            Interval::H1 => 60,
            Interval::H2 => 120,
            Interval::H4 => 240,
            Interval::H6 => 360,
            Interval::H8 => 480,
            Interval::H12 => 720,
            Interval::D1 => 1440,
        }
    }

    /// Returns Binance's name for the interval (`"1h"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::M1 => "1m",
            Interval::M3 => "3m",
            Interval::M5 => "5m",
            Interval::M15 => "15m",
            Interval::M30 => "30m",
            Interval::H1 => "1h",
            Interval::H2 => "2h",
            Interval::H4 => "4h",
            Interval::H6 => "6h",
            Interval::H8 => "8h",
            Interval::H12 => "12h",
            Interval::D1 => "1d",
        }
    }

    /// Parses Binance's name for an interval.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == s)
    }
}

/// Why a candle is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CandleError {
    #[error("candle at {open_time}: high {high} is below low {low}")]
    HighBelowLow {
        open_time: DateTime<Utc>,
        high: Decimal,
        low: Decimal,
    },
    #[error("candle at {open_time}: open or close lies outside [low, high]")]
    OutsideRange { open_time: DateTime<Utc> },
    #[error("candle at {open_time}: negative price or volume")]
    Negative { open_time: DateTime<Utc> },
}

/// One OHLCV candle. Prices are exact decimals as the exchange printed them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candle {
    pub open_time: DateTime<Utc>,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    /// Volume in the base asset.
    pub volume: Decimal,
}

impl Candle {
    /// Checks the candle's internal consistency.
    ///
    /// # Errors
    /// Returns [`CandleError`] when high < low, open/close fall outside the range, or a value
    /// is negative.
    pub fn validate(&self) -> Result<(), CandleError> {
        let open_time = self.open_time;
        if [self.open, self.high, self.low, self.close, self.volume]
            .iter()
            .any(|v| v.is_sign_negative() && !v.is_zero())
        {
            return Err(CandleError::Negative { open_time });
        }
        if self.high < self.low {
            return Err(CandleError::HighBelowLow {
                open_time,
                high: self.high,
                low: self.low,
            });
        }
        let inside = |p: Decimal| p >= self.low && p <= self.high;
        if !inside(self.open) || !inside(self.close) {
            return Err(CandleError::OutsideRange { open_time });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    #[test]
    fn interval_names_round_trip() {
        for i in Interval::ALL {
            assert_eq!(Interval::parse(i.as_str()), Some(i));
            let json = serde_json::to_string(&i).unwrap();
            assert_eq!(json, format!("\"{}\"", i.as_str()));
        }
        assert_eq!(Interval::H1.duration(), Duration::hours(1));
        assert_eq!(Interval::parse("7m"), None);
    }

    #[test]
    fn refuses_inconsistent_candles() {
        let c = Candle {
            open_time: Utc.timestamp_millis_opt(1_609_459_200_000).unwrap(),
            open: dec!(28948.19),
            high: dec!(29055),
            low: dec!(28706),
            close: dec!(29015),
            volume: dec!(8037.588),
        };
        assert!(c.validate().is_ok());
        let bad = Candle {
            high: dec!(28000),
            ..c.clone()
        };
        assert!(matches!(
            bad.validate(),
            Err(CandleError::HighBelowLow { .. })
        ));
        let bad = Candle {
            close: dec!(30000),
            ..c
        };
        assert!(matches!(
            bad.validate(),
            Err(CandleError::OutsideRange { .. })
        ));
    }
}
