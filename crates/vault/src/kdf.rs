//! Argon2id key derivation and its cost parameters.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Result, VaultError};

/// Bytes in an AES-256 key.
pub const KEY_LEN: usize = 32;

/// Bytes of random salt per vault.
pub const SALT_LEN: usize = 16;

/// Upper bounds accepted from a stored header. Without them, an attacker who can write the
/// header file could make every unlock allocate terabytes or spin for hours.
const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024;
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 16;

/// Argon2id cost parameters, stored in the vault header so a vault keeps opening after the
/// defaults change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory per derivation, in KiB.
    pub m_cost_kib: u32,
    /// Passes over that memory.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// OWASP's Password Storage Cheat Sheet minimum for Argon2id (19 MiB, 2 passes, 1 lane):
    /// the floor [`crate::Vault::create`] enforces outside tests.
    pub const OWASP_MINIMUM: Self = Self {
        m_cost_kib: 19 * 1024,
        t_cost: 2,
        p_cost: 1,
    };

    /// The default for new vaults: 128 MiB, 4 passes, 1 lane. Chosen from the `unlock` bench
    /// on the project's 2-core build machine, where 64 MiB × 3 unlocked in ~0.20 s (below the
    /// 0.3–1 s band) and the OWASP minimum in ~26 ms; this setting aims at ~0.5 s, leaving room
    /// either way for slower and faster desktops. [`KdfParams::calibrate`] re-tunes per machine.
    pub const RECOMMENDED: Self = Self {
        m_cost_kib: 128 * 1024,
        t_cost: 4,
        p_cost: 1,
    };

    /// Builds parameters without checking them; [`KdfParams::validate`] does that.
    #[must_use]
    pub const fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Self {
        Self {
            m_cost_kib,
            t_cost,
            p_cost,
        }
    }

    /// Trivially cheap parameters (8 KiB, 1 pass) so test suites stay fast. They give no
    /// protection at all, which is why they exist only in test builds.
    #[cfg(any(test, feature = "test-params"))]
    #[must_use]
    pub const fn insecure_for_tests() -> Self {
        Self {
            m_cost_kib: 8,
            t_cost: 1,
            p_cost: 1,
        }
    }

    /// Whether every cost is at least OWASP's recommendation.
    #[must_use]
    pub fn is_at_least_owasp(&self) -> bool {
        let floor = Self::OWASP_MINIMUM;
        self.m_cost_kib >= floor.m_cost_kib
            && self.t_cost >= floor.t_cost
            && self.p_cost >= floor.p_cost
    }

    /// Checks the parameters are ones Argon2 accepts and within the bounds this crate will spend.
    ///
    /// # Errors
    ///
    /// [`VaultError::InvalidParams`] naming the offending value.
    pub fn validate(&self) -> Result<()> {
        self.argon2_params().map(drop)
    }

    fn argon2_params(&self) -> Result<Params> {
        if self.m_cost_kib > MAX_M_COST_KIB {
            return Err(VaultError::InvalidParams(format!(
                "memory cost {} KiB exceeds the limit of {MAX_M_COST_KIB} KiB",
                self.m_cost_kib
            )));
        }
        if self.t_cost > MAX_T_COST {
            return Err(VaultError::InvalidParams(format!(
                "time cost {} exceeds the limit of {MAX_T_COST}",
                self.t_cost
            )));
        }
        if self.p_cost > MAX_P_COST {
            return Err(VaultError::InvalidParams(format!(
                "parallelism {} exceeds the limit of {MAX_P_COST}",
                self.p_cost
            )));
        }
        Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(KEY_LEN))
            .map_err(|e| VaultError::InvalidParams(e.to_string()))
    }

    /// Derives a 256-bit key from `password` and `salt` with Argon2id v0x13.
    ///
    /// # Errors
    ///
    /// [`VaultError::InvalidParams`] if the parameters or salt are out of range.
    pub(crate) fn derive(&self, password: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.argon2_params()?);
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        argon
            .hash_password_into(password, salt, key.as_mut())
            .map_err(|e| VaultError::InvalidParams(e.to_string()))?;
        Ok(key)
    }

    /// Times one derivation with these parameters on this machine (with a throwaway password).
    ///
    /// # Errors
    ///
    /// [`VaultError::InvalidParams`] if the parameters are out of range.
    pub fn measure(&self) -> Result<Duration> {
        let started = Instant::now();
        self.derive(b"calibration password", &[0x5a; SALT_LEN])?;
        Ok(started.elapsed())
    }

    /// Picks parameters whose derivation takes about `target` on this machine, never below
    /// OWASP's minimum and never above `max_m_cost_kib` of memory. It times the OWASP minimum,
    /// extrapolates (Argon2 time is close to linear in memory × passes), then times that guess
    /// and corrects once, because large memory costs more per KiB than the small probe shows
    /// (cache misses). Cost: one minimum derivation plus about one `target`.
    ///
    /// # Errors
    ///
    /// [`VaultError::InvalidParams`] if the timing derivation fails (it cannot with the
    /// built-in minimum, short of memory exhaustion).
    pub fn calibrate(target: Duration, max_m_cost_kib: u32) -> Result<Self> {
        let probe = Self::OWASP_MINIMUM;
        let guess = Self::fit(probe, probe.measure()?, target, max_m_cost_kib);
        Ok(Self::fit(guess, guess.measure()?, target, max_m_cost_kib))
    }

    /// The arithmetic of [`KdfParams::calibrate`], separate so it is testable without timing:
    /// given that `probe` took `took`, spend the budget for `target` on memory first (it is
    /// what makes GPU/ASIC attacks expensive), up to `max_m_cost_kib`, then on passes.
    #[must_use]
    pub fn fit(probe: Self, took: Duration, target: Duration, max_m_cost_kib: u32) -> Self {
        let floor = Self::OWASP_MINIMUM;
        let probe_work = f64::from(probe.m_cost_kib) * f64::from(probe.t_cost);
        let per_unit = took.as_secs_f64().max(1e-9) / probe_work;
        let budget = target.as_secs_f64() / per_unit;
        let max_m = max_m_cost_kib.max(floor.m_cost_kib);
        let m =
            (budget / f64::from(floor.t_cost)).clamp(f64::from(floor.m_cost_kib), f64::from(max_m));
        let t = (budget / m)
            .round()
            .clamp(f64::from(floor.t_cost), f64::from(MAX_T_COST));
        // Both values are clamped into u32 ranges above, so the casts cannot truncate.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (m, t) = (m as u32, t as u32);
        // Round memory down to whole MiB so stored headers stay readable.
        let m = (m / 1024 * 1024).max(floor.m_cost_kib);
        Self::new(m, t, probe.p_cost.max(floor.p_cost))
    }
}

impl KdfParams {
    /// Each cost the larger of `self`'s and `other`'s: a re-keying aims at today's target
    /// but never weakens the vault it replaces in any dimension (memory, passes, lanes).
    #[must_use]
    pub fn raised_to(self, other: Self) -> Self {
        Self {
            m_cost_kib: self.m_cost_kib.max(other.m_cost_kib),
            t_cost: self.t_cost.max(other.t_cost),
            p_cost: self.p_cost.max(other.p_cost),
        }
    }
}

/// The Argon2id cost a vault should have on this machine today: what a password change
/// re-tunes to ([`crate::Vault::begin_password_change_retuned`]), so costs follow faster
/// hardware instead of staying at whatever the vault was created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfTarget {
    /// How long one derivation should take here.
    pub time: Duration,
    /// The most memory one derivation may use, in KiB; the rest of the budget goes to passes.
    pub max_m_cost_kib: u32,
    /// Costs never chosen below, whatever the timing says.
    pub floor: KdfParams,
}

impl KdfTarget {
    /// About half a second per derivation, at most 128 MiB (the memory one unlock uses
    /// today, which the password gate allows one at a time), never below
    /// [`KdfParams::RECOMMENDED`].
    pub const DEFAULT: Self = Self {
        time: Duration::from_millis(500),
        max_m_cost_kib: 128 * 1024,
        floor: KdfParams::RECOMMENDED,
    };

    /// Measures this machine ([`KdfParams::calibrate`]) and returns the parameters for the
    /// target, raised to the floor. Costs about one derivation of the target's length.
    ///
    /// # Errors
    /// [`VaultError::InvalidParams`] if a timing derivation fails or the floor is out of range.
    pub fn params(&self) -> Result<KdfParams> {
        let tuned = KdfParams::calibrate(self.time, self.max_m_cost_kib)?.raised_to(self.floor);
        tuned.validate()?;
        Ok(tuned)
    }
}

impl Default for KdfTarget {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::RECOMMENDED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recommended_meets_owasp() {
        assert!(KdfParams::RECOMMENDED.is_at_least_owasp());
        assert!(KdfParams::OWASP_MINIMUM.is_at_least_owasp());
        assert!(!KdfParams::insecure_for_tests().is_at_least_owasp());
        KdfParams::RECOMMENDED.validate().unwrap();
    }

    #[test]
    fn absurd_params_are_refused() {
        for p in [
            KdfParams::new(u32::MAX, 2, 1),
            KdfParams::new(19456, 1000, 1),
            KdfParams::new(19456, 2, 200),
            KdfParams::new(19456, 0, 1),
            KdfParams::new(1, 1, 1),
        ] {
            assert!(
                matches!(p.validate(), Err(VaultError::InvalidParams(_))),
                "{p:?}"
            );
        }
    }

    #[test]
    fn derivation_is_deterministic_and_salted() {
        let p = KdfParams::insecure_for_tests();
        let a = p.derive(b"pw", &[1; SALT_LEN]).unwrap();
        let b = p.derive(b"pw", &[1; SALT_LEN]).unwrap();
        let c = p.derive(b"pw", &[2; SALT_LEN]).unwrap();
        assert_eq!(*a, *b);
        assert_ne!(*a, *c);
    }

    #[test]
    fn raised_to_takes_the_larger_of_each_cost() {
        let old = KdfParams::new(256 * 1024, 2, 1);
        let target = KdfParams::new(128 * 1024, 6, 1);
        assert_eq!(old.raised_to(target), KdfParams::new(256 * 1024, 6, 1));
        assert_eq!(target.raised_to(old), KdfParams::new(256 * 1024, 6, 1));
        assert_eq!(old.raised_to(old), old);
    }

    #[test]
    fn the_default_target_never_goes_below_the_recommended_costs() {
        let t = KdfTarget::DEFAULT;
        assert_eq!(t.floor, KdfParams::RECOMMENDED);
        assert!(t.max_m_cost_kib >= KdfParams::RECOMMENDED.m_cost_kib);
        // A target of no time at all still yields the floor.
        let none = KdfTarget {
            time: Duration::ZERO,
            max_m_cost_kib: 64 * 1024,
            floor: KdfParams::new(24 * 1024, 3, 1),
        };
        assert_eq!(none.params().unwrap(), KdfParams::new(24 * 1024, 3, 1));
    }

    #[test]
    fn fit_scales_memory_then_passes() {
        let probe = KdfParams::OWASP_MINIMUM;
        // The probe took 50 ms; a 500 ms target is 10× the work.
        let fitted = KdfParams::fit(
            probe,
            Duration::from_millis(50),
            Duration::from_millis(500),
            64 * 1024,
        );
        assert_eq!(fitted.m_cost_kib, 64 * 1024);
        // 10 × 19456 × 2 / 65536 ≈ 5.9 → 6 passes.
        assert_eq!(fitted.t_cost, 6);
        // A slow machine never drops below the floor.
        let slow = KdfParams::fit(
            probe,
            Duration::from_secs(5),
            Duration::from_millis(500),
            64 * 1024,
        );
        assert_eq!(slow, KdfParams::OWASP_MINIMUM);
        // Memory-limited budget: stays within the cap.
        let mid = KdfParams::fit(
            probe,
            Duration::from_millis(100),
            Duration::from_millis(200),
            1 << 20,
        );
        assert!(
            mid.m_cost_kib <= 1 << 20 && mid.is_at_least_owasp(),
            "{mid:?}"
        );
    }
}
