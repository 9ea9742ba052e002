//! The one queue every master-password check goes through.
//!
//! [`Throttle`] alone computes a delay; a caller that reads it, releases the throttle and
//! then runs its attempt lets any number of concurrent guesses read the same small delay and
//! run side by side, each an Argon2id derivation of 128 MiB. [`PasswordGate`] holds one turn
//! across the wait *and* the attempt: guesses are paid for one after another, and at most one
//! derivation (hence at most one key's worth of memory) runs at a time.

use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::error::{Result, VaultError};
use crate::throttle::Throttle;

/// How many callers may wait for (or hold) the gate at once; more are refused at once with
/// [`VaultError::TooManyAttempts`] rather than queued for hours behind a flood of guesses.
pub const MAX_QUEUED_CHECKS: usize = 16;

/// Serialises every master-password check (unlock, password change, backup export and
/// import) and every other Argon2id run (vault creation), with [`Throttle`]'s growing delay
/// after wrong passwords.
///
/// A caller's turn lasts from the delay through the end of its derivation and the counting of
/// its outcome. The turn belongs to the blocking task doing the derivation, not to the
/// caller's future: a caller that gives up (its future dropped) does not free the gate while
/// its derivation still runs, and its outcome is still counted.
///
/// Needs a tokio runtime (the delay is a tokio sleep, the derivation a blocking task).
#[derive(Debug, Clone)]
pub struct PasswordGate {
    turn: Arc<tokio::sync::Mutex<()>>,
    throttle: Arc<Mutex<Throttle>>,
    queued: Arc<AtomicUsize>,
    max_queued: usize,
}

impl Default for PasswordGate {
    fn default() -> Self {
        Self::new()
    }
}

/// One place in the queue, given back when dropped, wherever that happens.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordGate {
    /// [`Throttle::new`]'s schedule (two free retries, then 1 s doubling to 30 s), at most
    /// [`MAX_QUEUED_CHECKS`] callers queued.
    #[must_use]
    pub fn new() -> Self {
        Self {
            turn: Arc::new(tokio::sync::Mutex::new(())),
            throttle: Arc::new(Mutex::new(Throttle::new())),
            queued: Arc::new(AtomicUsize::new(0)),
            max_queued: MAX_QUEUED_CHECKS,
        }
    }

    /// Changes the first delay and the cap of the schedule.
    #[must_use]
    pub fn with_schedule(self, base: Duration, cap: Duration) -> Self {
        let throttle = lock(&self.throttle).clone().with_schedule(base, cap);
        *lock(&self.throttle) = throttle;
        self
    }

    /// Changes how many callers may be queued (at least one).
    #[must_use]
    pub fn with_max_queued(mut self, max: usize) -> Self {
        self.max_queued = max.max(1);
        self
    }

    /// Consecutive wrong passwords so far.
    #[must_use]
    pub fn failures(&self) -> u32 {
        lock(&self.throttle).failures()
    }

    /// The wait the next check starts with, once it has its turn; the UI can show it as
    /// "try again in N s".
    #[must_use]
    pub fn next_delay(&self) -> Duration {
        lock(&self.throttle).next_delay()
    }

    /// Callers waiting for the gate or holding it.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// Waits for the turn, then for the throttle's delay, then runs `attempt` (an Argon2id
    /// derivation checking the master password: [`crate::Vault::unlock`], `resume`, a
    /// password change) on a blocking thread and counts its outcome: a
    /// [`VaultError::WrongPassword`] as a failure, a success as a reset, anything else not at
    /// all.
    ///
    /// # Errors
    /// Whatever `attempt` returns; [`VaultError::TooManyAttempts`] without waiting when
    /// [`MAX_QUEUED_CHECKS`] callers are queued already; [`VaultError::Interrupted`] if the
    /// runtime shut down under the attempt. A panic in `attempt` is resumed in the caller.
    pub async fn check<T, F>(&self, attempt: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T> + Send + 'static,
    {
        self.run(true, attempt).await
    }

    /// Waits for the turn and runs `work` (an Argon2id run that checks no password, such as
    /// [`crate::Vault::create`]) on a blocking thread: no delay and nothing counted, but never
    /// beside another derivation.
    ///
    /// # Errors
    /// As [`PasswordGate::check`].
    pub async fn exclusive<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T> + Send + 'static,
    {
        self.run(false, work).await
    }

    async fn run<T, F>(&self, counted: bool, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T> + Send + 'static,
    {
        let place = self.enter()?;
        let turn = Arc::clone(&self.turn).lock_owned().await;
        if counted {
            let delay = self.next_delay();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
        let throttle = Arc::clone(&self.throttle);
        let done = tokio::task::spawn_blocking(move || {
            let outcome = job();
            if counted {
                lock(&throttle).record(&outcome);
            }
            // The turn and the place end here, with the derivation, whether or not anyone
            // still awaits the outcome.
            drop(turn);
            drop(place);
            outcome
        })
        .await;
        match done {
            Ok(outcome) => outcome,
            Err(e) if e.is_panic() => panic::resume_unwind(e.into_panic()),
            Err(_) => Err(VaultError::Interrupted),
        }
    }

    fn enter(&self) -> Result<Place> {
        let before = self.queued.fetch_add(1, Ordering::AcqRel);
        let place = Place(Arc::clone(&self.queued));
        if before >= self.max_queued {
            return Err(VaultError::TooManyAttempts);
        }
        Ok(place)
    }
}

fn lock(m: &Mutex<Throttle>) -> MutexGuard<'_, Throttle> {
    // The throttle is a counter changed by single assignments; a panic elsewhere cannot leave
    // it half-updated.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
