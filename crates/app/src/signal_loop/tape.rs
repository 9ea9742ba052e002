//! A watched symbol's closed candles, held in 40 bytes each instead of a `Candle`'s 92.
//!
//! The loop keeps ~11,000 candles per symbol for the daily retraining; with 30 symbols
//! watched the plain `Vec<Candle>` was the Rust process's largest heap item (32 MiB,
//! heaptrack). The tape holds the same candles exactly: open times are implied by the first
//! one and the interval (the loop only ever holds a contiguous run), and each decimal is
//! packed into one `u64` with its sign, scale and mantissa, so every value comes back as
//! the very `Decimal` that went in (scale and trailing zeros included). A value whose
//! mantissa needs more than 58 bits (never seen from Binance, whose prices and volumes
//! carry at most 8 decimals) is kept whole beside the tape, so nothing is ever rounded.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use perpdesk_core::Candle;
use rust_decimal::Decimal;

/// Mantissa bits a packed value holds.
const MANTISSA_BITS: u32 = 58;
/// The scale field's marker for "kept whole beside the tape" (a `Decimal` scale is ≤ 28).
const SPILLED: u64 = 31;

/// Packs `d` as `mantissa << 6 | sign << 5 | scale`, or `None` when the mantissa is too wide.
fn pack(d: Decimal) -> Option<u64> {
    let m = u64::try_from(d.mantissa().unsigned_abs()).ok()?;
    if m >> MANTISSA_BITS != 0 {
        return None;
    }
    let sign = u64::from(d.is_sign_negative());
    Some(m << 6 | sign << 5 | u64::from(d.scale()))
}

fn unpack(v: u64) -> Decimal {
    let m = v >> 6;
    // Both halves fit in u32 by construction (m < 2^58).
    let lo = (m & 0xFFFF_FFFF) as u32;
    let mid = (m >> 32) as u32;
    Decimal::from_parts(lo, mid, 0, v & 0b10_0000 != 0, (v & 0b1_1111) as u32)
}

/// A contiguous run of closed candles, oldest first.
#[derive(Debug, Clone)]
pub(super) struct CandleTape {
    step: Duration,
    /// Open time of the oldest held candle (meaningless while empty).
    first_open: DateTime<Utc>,
    /// Five packed values per candle: open, high, low, close, volume.
    values: VecDeque<[u64; 5]>,
    /// Candles dropped from the front since the tape began, so a spilled value's key (its
    /// candle's number since the beginning, and its field) survives trimming.
    dropped: u64,
    spilled: BTreeMap<(u64, usize), Decimal>,
}

impl CandleTape {
    /// An empty tape for candles `step` apart, with room for `capacity` of them (the
    /// loop's `keep_candles`, so a full tape never doubles its buffer).
    pub(super) fn new(step: Duration, capacity: usize) -> Self {
        Self {
            step,
            first_open: DateTime::<Utc>::MIN_UTC,
            values: VecDeque::with_capacity(capacity),
            dropped: 0,
            spilled: BTreeMap::new(),
        }
    }

    /// A tape holding `candles`, which must be contiguous (as the exchange's history is);
    /// a break keeps only the run after it, as [`push`](Self::push) would.
    pub(super) fn from_candles(step: Duration, capacity: usize, candles: &[Candle]) -> Self {
        let mut tape = Self::new(step, capacity.max(candles.len()));
        for c in candles {
            tape.push(c);
        }
        tape
    }

    pub(super) fn len(&self) -> usize {
        self.values.len()
    }

    /// Open time of the newest candle.
    pub(super) fn last_open(&self) -> Option<DateTime<Utc>> {
        let n = i32::try_from(self.values.len().checked_sub(1)?).ok()?;
        Some(self.first_open + self.step * n)
    }

    /// Appends `c`. A candle that does not follow the newest one by exactly one step
    /// starts the tape afresh with it (the loop restarts its history at a gap).
    pub(super) fn push(&mut self, c: &Candle) {
        if self
            .last_open()
            .is_none_or(|last| c.open_time != last + self.step)
        {
            self.clear();
            self.first_open = c.open_time;
        }
        let number = self.dropped + self.values.len() as u64;
        let fields = [c.open, c.high, c.low, c.close, c.volume];
        let mut packed = [0_u64; 5];
        for (field, (slot, d)) in packed.iter_mut().zip(fields).enumerate() {
            *slot = pack(d).unwrap_or_else(|| {
                self.spilled.insert((number, field), d);
                SPILLED
            });
        }
        self.values.push_back(packed);
    }

    /// Drops the oldest candles so at most `keep` remain.
    pub(super) fn keep_newest(&mut self, keep: usize) {
        let excess = self.values.len().saturating_sub(keep);
        if excess == 0 {
            return;
        }
        self.values.drain(..excess);
        self.dropped += excess as u64;
        self.first_open += self.step * i32::try_from(excess).unwrap_or(i32::MAX);
        let kept = self.spilled.split_off(&(self.dropped, 0));
        self.spilled = kept;
    }

    pub(super) fn clear(&mut self) {
        self.dropped += self.values.len() as u64;
        self.values.clear();
        self.spilled.clear();
    }

    /// The newest `limit` candles (all when fewer are held), oldest first.
    pub(super) fn newest(&self, limit: usize) -> Vec<Candle> {
        let from = self.values.len().saturating_sub(limit);
        (from..self.values.len()).map(|i| self.candle(i)).collect()
    }

    fn candle(&self, i: usize) -> Candle {
        let number = self.dropped + i as u64;
        let [open, high, low, close, volume] =
            std::array::from_fn(|field| match self.values[i][field] {
                SPILLED => self.spilled[&(number, field)],
                v => unpack(v),
            });
        Candle {
            open_time: self.first_open + self.step * i32::try_from(i).unwrap_or(i32::MAX),
            open,
            high,
            low,
            close,
            volume,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn candle(hour: i64, close: &str) -> Candle {
        let d = |s: &str| Decimal::from_str(s).expect("test decimal");
        Candle {
            open_time: DateTime::from_timestamp_millis(1_650_000_000_000 / 3_600_000 * 3_600_000)
                .expect("test time")
                + Duration::hours(hour),
            open: d("21178.60"),
            high: d("21200.00"),
            low: d("0.00000001"),
            close: d(close),
            volume: d("123456.789"),
        }
    }

    #[test]
    fn gives_back_every_decimal_exactly_scale_and_sign_included() {
        let closes = [
            "21178.65358223",
            "21178.60",
            "-0.5",
            "0",
            "-0",
            "288230376151711743", // 2^58 − 1: the widest packed mantissa
            "288230376151711744", // 2^58: kept whole
            "79228162514264337593543950335", // Decimal::MAX
            "0.0000000000000000000000000001",
        ];
        let candles: Vec<Candle> = closes
            .iter()
            .enumerate()
            .map(|(h, c)| candle(h as i64, c))
            .collect();
        let tape = CandleTape::from_candles(Duration::hours(1), 0, &candles);
        let back = tape.newest(usize::MAX);
        assert_eq!(back, candles);
        for (b, c) in back.iter().zip(&candles) {
            assert_eq!(b.close.to_string(), c.close.to_string());
            assert_eq!(b.close.scale(), c.close.scale());
            assert_eq!(b.close.is_sign_negative(), c.close.is_sign_negative());
        }
        assert_eq!(
            tape.spilled.len(),
            2,
            "only the two wide mantissas are kept whole"
        );
    }

    #[test]
    fn trimming_keeps_the_newest_and_their_spilled_values() {
        let candles: Vec<Candle> = (0..10)
            .map(|h| {
                let wide = if h % 3 == 0 {
                    "100000000000000000000"
                } else {
                    "1.5"
                };
                candle(h, wide)
            })
            .collect();
        let mut tape = CandleTape::from_candles(Duration::hours(1), 0, &candles);
        tape.keep_newest(4);
        assert_eq!(tape.newest(usize::MAX), candles[6..]);
        assert_eq!(tape.newest(2), candles[8..]);
        assert_eq!(tape.spilled.len(), 2, "h = 6 and 9 are the wide ones left");
        assert_eq!(tape.last_open(), Some(candles[9].open_time));
        tape.push(&candle(10, "2"));
        tape.keep_newest(4);
        assert_eq!(tape.newest(usize::MAX)[..3], candles[7..]);
        assert_eq!(tape.len(), 4);
    }

    #[test]
    fn a_candle_that_does_not_follow_starts_the_tape_afresh() {
        let mut tape = CandleTape::from_candles(
            Duration::hours(1),
            3,
            &[
                candle(0, "1"),
                candle(1, "2"),
                candle(2, "100000000000000000000"),
            ],
        );
        tape.push(&candle(5, "3"));
        assert_eq!(tape.newest(usize::MAX), vec![candle(5, "3")]);
        assert!(tape.spilled.is_empty());
        tape.clear();
        assert_eq!(tape.len(), 0);
        assert_eq!(tape.last_open(), None);
        tape.push(&candle(7, "4"));
        assert_eq!(tape.newest(9), vec![candle(7, "4")]);
    }
}
