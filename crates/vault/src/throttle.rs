//! Growing delays after consecutive wrong master passwords.
//!
//! This slows someone guessing through the UI; it does nothing against an attacker with the
//! vault file, whom only the Argon2 cost slows. It lives in memory, so restarting the app
//! resets it: the Argon2 cost per attempt still applies.
//!
//! A `Throttle` is the schedule, not the queue: callers that may run concurrently go through
//! [`crate::PasswordGate`], which holds one turn across the delay and the attempt.

use std::time::Duration;

use crate::error::{Result, VaultError};
use crate::secret::SecretString;
use crate::vault::{Vault, VaultHeader};

/// How the throttle waits. Injectable so tests observe delays instead of sleeping through them.
pub trait Sleeper {
    /// Blocks for `duration`.
    fn sleep(&self, duration: Duration);
}

/// Sleeps the calling thread: call the throttle from a blocking task, never from an async one.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadSleeper;

impl Sleeper for ThreadSleeper {
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// Counts consecutive wrong passwords and delays the next attempt: 0, 0, 1 s, 2 s, 4 s, …
/// doubling up to a cap. Any other error (malformed header, …) neither counts nor resets.
#[derive(Debug, Clone)]
pub struct Throttle<S = ThreadSleeper> {
    failures: u32,
    free_attempts: u32,
    base: Duration,
    cap: Duration,
    sleeper: S,
}

impl Throttle<ThreadSleeper> {
    /// Two free retries, then 1 s doubling to a 30 s cap, sleeping the thread.
    #[must_use]
    pub fn new() -> Self {
        Self::with_sleeper(ThreadSleeper)
    }
}

impl Default for Throttle<ThreadSleeper> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Sleeper> Throttle<S> {
    /// The default schedule, waiting through `sleeper`.
    #[must_use]
    pub fn with_sleeper(sleeper: S) -> Self {
        Self {
            failures: 0,
            free_attempts: 2,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(30),
            sleeper,
        }
    }

    /// Changes the first delay and the cap.
    #[must_use]
    pub fn with_schedule(mut self, base: Duration, cap: Duration) -> Self {
        self.base = base;
        self.cap = cap;
        self
    }

    /// Consecutive wrong passwords so far.
    #[must_use]
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The wait before the next attempt; the UI can show it as "try again in N s".
    #[must_use]
    pub fn next_delay(&self) -> Duration {
        let Some(doublings) = self.failures.checked_sub(self.free_attempts) else {
            return Duration::ZERO;
        };
        // 2^31 s overflows nothing but is far past any cap; clamp the shift to keep it defined.
        let factor = 1u32 << doublings.min(31);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The sleeper, so tests can read what it recorded.
    #[must_use]
    pub fn sleeper(&self) -> &S {
        &self.sleeper
    }

    /// Waits [`Throttle::next_delay`], runs `attempt`, and counts a
    /// [`VaultError::WrongPassword`] as a failure or any success as a reset. Wrap every
    /// operation that checks the master password in it: unlock, resume, change of password.
    ///
    /// # Errors
    ///
    /// Whatever `attempt` returns.
    pub fn attempt<T>(&mut self, attempt: impl FnOnce() -> Result<T>) -> Result<T> {
        let delay = self.next_delay();
        if !delay.is_zero() {
            self.sleeper.sleep(delay);
        }
        let outcome = attempt();
        self.record(&outcome);
        outcome
    }

    /// Counts an attempt made elsewhere: a [`VaultError::WrongPassword`] as a failure, a
    /// success as a reset, anything else not at all. Reading [`Throttle::next_delay`],
    /// waiting and recording as separate steps lets concurrent callers all read the same
    /// small delay: [`crate::PasswordGate`] does the three in one turn.
    pub fn record<T>(&mut self, outcome: &Result<T>) {
        match outcome {
            Ok(_) => self.failures = 0,
            Err(VaultError::WrongPassword) => self.failures = self.failures.saturating_add(1),
            Err(_) => {}
        }
    }

    /// [`Vault::unlock`] through [`Throttle::attempt`].
    ///
    /// # Errors
    ///
    /// As [`Vault::unlock`].
    pub fn unlock(&mut self, header: &VaultHeader, password: &SecretString) -> Result<Vault> {
        self.attempt(|| Vault::unlock(header, password))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default)]
    struct Recorder(RefCell<Vec<Duration>>);

    impl Sleeper for Recorder {
        fn sleep(&self, d: Duration) {
            self.0.borrow_mut().push(d);
        }
    }

    #[test]
    fn schedule_doubles_then_caps_and_resets() {
        let mut t = Throttle::with_sleeper(Recorder::default());
        let secs: Vec<u64> = (0..9)
            .map(|_| {
                let d = t.next_delay().as_secs();
                let _ = t.attempt::<()>(|| Err(VaultError::WrongPassword));
                d
            })
            .collect();
        assert_eq!(secs, [0, 0, 1, 2, 4, 8, 16, 30, 30]);
        let slept: Vec<u64> = t
            .sleeper()
            .0
            .borrow()
            .iter()
            .map(Duration::as_secs)
            .collect();
        assert_eq!(slept, [1, 2, 4, 8, 16, 30, 30]);
        // Other errors leave the count alone; success resets it.
        let _ = t.attempt::<()>(|| Err(VaultError::BadEncoding("x".into())));
        assert_eq!(t.failures(), 9);
        t.attempt(|| Ok(())).unwrap();
        assert_eq!(t.failures(), 0);
        assert_eq!(t.next_delay(), Duration::ZERO);
    }

    #[test]
    fn huge_failure_counts_do_not_overflow() {
        let mut t = Throttle::with_sleeper(Recorder::default());
        t.failures = u32::MAX;
        assert_eq!(t.next_delay(), Duration::from_secs(30));
    }
}
