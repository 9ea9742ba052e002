//! The edge test's one source of randomness: SplitMix64, seeded by the caller.
//!
//! SplitMix64 passes BigCrush, needs eight bytes of state and gives the same stream on every
//! platform, which is what reproducible resampling needs; cryptographic quality is not.

/// SplitMix64's increment of the state per draw (the golden ratio in 64 bits).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// A seeded SplitMix64 generator (Steele, Lea & Flood 2014).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The generator `new(seed)` becomes after `draws` calls of [`Self::next_u64`]: the state
    /// is a counter, so any point of the stream is reached at once (parallel nulls each start
    /// where the sequential stream would be).
    pub fn skipped(seed: u64, draws: u64) -> Self {
        SplitMix64(seed.wrapping_add(GAMMA.wrapping_mul(draws)))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index in `0..n` (0 when `n` is 0). Lemire's multiply-shift: the bias is at
    /// most `n / 2⁶⁴`, far below anything a resampling test can see.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A uniform number in `[0, 1)` with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_uniform_enough() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        assert_eq!(
            (0..5).map(|_| a.next_u64()).collect::<Vec<_>>(),
            (0..5).map(|_| b.next_u64()).collect::<Vec<_>>()
        );
        let mut counts = [0usize; 10];
        for _ in 0..100_000 {
            counts[a.below(10)] += 1;
        }
        // Each bucket expects 10,000 with a standard deviation of about 95.
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
        let mut c = SplitMix64::new(7);
        for _ in 0..1_234 {
            c.next_u64();
        }
        assert_eq!(SplitMix64::skipped(7, 1_234), c, "skipping is drawing");
        let u: f64 = (0..100_000).map(|_| a.unit()).sum::<f64>() / 100_000.0;
        assert!((u - 0.5).abs() < 0.005);
        assert_eq!(a.below(0), 0);
    }
}
