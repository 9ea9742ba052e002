//! The password gate: concurrent guesses pay the whole schedule, one derivation at a time.
//!
//! The schedule is checked on tokio's paused clock (virtual time: the test takes
//! milliseconds, and a busy machine cannot make it pass or fail). Overlap is checked by
//! holding one derivation open and looking at what the others do meanwhile, not by timing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use perpdesk_vault::{MAX_QUEUED_CHECKS, PasswordGate, Vault, VaultError, VaultHeader};
use tokio::task::JoinSet;

use crate::{cheap_vault, pw};

/// Counts derivations running now and the most that ever ran together.
#[derive(Default)]
struct Runs {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Runs {
    /// A wrong-password unlock (a real Argon2id derivation) counted while it runs, held open
    /// until `release` (if any) says go.
    fn guess(
        self: &Arc<Self>,
        header: VaultHeader,
        release: Option<mpsc::Receiver<()>>,
    ) -> impl FnOnce() -> perpdesk_vault::Result<Vault> + Send + 'static {
        let runs = Arc::clone(self);
        move || {
            let now = runs.now.fetch_add(1, Ordering::SeqCst) + 1;
            runs.peak.fetch_max(now, Ordering::SeqCst);
            if let Some(release) = release {
                release
                    .recv()
                    .expect("the test releases the held derivation");
            }
            let outcome = Vault::unlock(&header, &pw("a wrong guess, long enough"));
            runs.now.fetch_sub(1, Ordering::SeqCst);
            outcome
        }
    }
}

/// Yields until `done` holds. The runtime is single-threaded with a paused clock, so
/// yielding lets every task reach its next await without time moving.
async fn until(mut done: impl FnMut() -> bool) {
    while !done() {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn concurrent_wrong_guesses_wait_out_the_whole_schedule() {
    let (_, header) = cheap_vault();
    let gate = PasswordGate::new();
    let runs = Arc::new(Runs::default());
    let started = tokio::time::Instant::now();
    let mut guesses = JoinSet::new();
    for _ in 0..8 {
        let gate = gate.clone();
        let guess = runs.guess(header.clone(), None);
        guesses.spawn(async move { gate.check(guess).await });
    }
    while let Some(outcome) = guesses.join_next().await {
        assert_eq!(
            outcome.expect("the task ran").unwrap_err(),
            VaultError::WrongPassword
        );
    }
    // Two free tries, then 1, 2, 4, 8, 16 s and the 30 s cap: 61 s before the eighth
    // guess could start, however the calls arrived.
    let schedule = Duration::from_secs(1 + 2 + 4 + 8 + 16 + 30);
    assert!(
        started.elapsed() >= schedule,
        "8 concurrent guesses took {:?}, the schedule says {schedule:?}",
        started.elapsed()
    );
    assert_eq!(gate.failures(), 8);
    assert_eq!(runs.peak.load(Ordering::SeqCst), 1);
    assert_eq!(gate.next_delay(), Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn only_one_derivation_runs_at_a_time() {
    let (_, header) = cheap_vault();
    let gate = PasswordGate::new();
    let runs = Arc::new(Runs::default());
    let (release, held) = mpsc::channel();
    let mut guesses = JoinSet::new();
    {
        let gate = gate.clone();
        let guess = runs.guess(header.clone(), Some(held));
        guesses.spawn(async move { gate.check(guess).await });
    }
    until(|| runs.now.load(Ordering::SeqCst) == 1).await;
    for _ in 0..7 {
        let gate = gate.clone();
        let guess = runs.guess(header.clone(), None);
        guesses.spawn(async move { gate.check(guess).await });
    }
    // Every other guess has arrived and is queued behind the one held open...
    until(|| gate.queued() == 8).await;
    // ...and none of them is deriving beside it.
    assert_eq!(runs.now.load(Ordering::SeqCst), 1);
    release.send(()).expect("the held derivation waits");
    while let Some(outcome) = guesses.join_next().await {
        assert_eq!(
            outcome.expect("the task ran").unwrap_err(),
            VaultError::WrongPassword
        );
    }
    assert_eq!(runs.peak.load(Ordering::SeqCst), 1);
    assert_eq!(gate.queued(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_caller_that_gives_up_neither_frees_the_gate_early_nor_escapes_the_count() {
    let (_, header) = cheap_vault();
    let gate = PasswordGate::new();
    let runs = Arc::new(Runs::default());
    let (release, held) = mpsc::channel();
    let abandoned = {
        let gate = gate.clone();
        let guess = runs.guess(header.clone(), Some(held));
        tokio::spawn(async move { gate.check(guess).await })
    };
    until(|| runs.now.load(Ordering::SeqCst) == 1).await;
    abandoned.abort();
    assert!(abandoned.await.expect_err("aborted").is_cancelled());
    // The derivation it started still holds the turn.
    assert_eq!(gate.queued(), 1);
    let next = {
        let gate = gate.clone();
        let guess = runs.guess(header.clone(), None);
        tokio::spawn(async move { gate.check(guess).await })
    };
    until(|| gate.queued() == 2).await;
    assert_eq!(runs.now.load(Ordering::SeqCst), 1, "the next guess waits");
    release.send(()).expect("the held derivation waits");
    assert_eq!(
        next.await.expect("ran").unwrap_err(),
        VaultError::WrongPassword
    );
    assert_eq!(runs.peak.load(Ordering::SeqCst), 1);
    assert_eq!(gate.failures(), 2, "the abandoned guess counted too");
}

#[tokio::test(start_paused = true)]
async fn a_right_password_resets_the_schedule_and_creation_waits_its_turn() {
    let (_, header) = cheap_vault();
    let gate = PasswordGate::new();
    for _ in 0..3 {
        let wrong = header.clone();
        gate.check(move || Vault::unlock(&wrong, &pw("not the password at all")))
            .await
            .unwrap_err();
    }
    assert_eq!(gate.next_delay(), Duration::from_secs(2));
    let right = header.clone();
    gate.check(move || Vault::unlock(&right, &pw(crate::PASSWORD)))
        .await
        .expect("the right password");
    assert_eq!((gate.failures(), gate.next_delay()), (0, Duration::ZERO));
    // Other errors neither count nor reset.
    let mut damaged = header;
    damaged.salt = "%%%".into();
    let outcome = gate
        .check(move || Vault::unlock(&damaged, &pw(crate::PASSWORD)))
        .await;
    assert!(matches!(outcome, Err(VaultError::BadEncoding(_))));
    assert_eq!(gate.failures(), 0);
    // A derivation that checks no password still takes a turn, and counts nothing.
    let created = gate
        .exclusive(|| {
            Vault::create(
                &pw(crate::NEW_PASSWORD),
                perpdesk_vault::KdfParams::insecure_for_tests(),
            )
        })
        .await;
    assert!(created.is_ok());
    assert_eq!(gate.failures(), 0);
}

#[tokio::test(start_paused = true)]
async fn callers_beyond_the_queue_limit_are_refused_at_once() {
    let (_, header) = cheap_vault();
    let gate = PasswordGate::new();
    let runs = Arc::new(Runs::default());
    let (release, held) = mpsc::channel();
    let mut guesses = JoinSet::new();
    {
        let gate = gate.clone();
        let guess = runs.guess(header.clone(), Some(held));
        guesses.spawn(async move { gate.check(guess).await });
    }
    until(|| runs.now.load(Ordering::SeqCst) == 1).await;
    for _ in 1..MAX_QUEUED_CHECKS {
        let gate = gate.clone();
        let guess = runs.guess(header.clone(), None);
        guesses.spawn(async move { gate.check(guess).await });
    }
    until(|| gate.queued() == MAX_QUEUED_CHECKS).await;
    let refused = gate.check(runs.guess(header.clone(), None)).await;
    assert_eq!(refused.unwrap_err(), VaultError::TooManyAttempts);
    assert_eq!(gate.queued(), MAX_QUEUED_CHECKS, "a refusal holds no place");
    release.send(()).expect("the held derivation waits");
    while let Some(outcome) = guesses.join_next().await {
        outcome.expect("the task ran").unwrap_err();
    }
    assert_eq!(gate.failures(), u32::try_from(MAX_QUEUED_CHECKS).unwrap());
}
