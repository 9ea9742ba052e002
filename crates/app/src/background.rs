//! Long computations (the daily family study, a model's retraining) on a thread of their own
//! at a lower scheduling priority, so the window keeps drawing while they run.
//!
//! Measured with `tests/e2e/examples/desktop_perf.rs` on 2 cores: the study's walk-forward
//! keeps both cores busy for seconds, and a frame of 68 ms fell exactly on a retraining. On
//! Linux the thread lowers its own nice value to [`NICE`] (per thread there, inherited by the
//! threads it starts, e.g. the walk-forward's workers), so the webview's processes win the CPU
//! when both want it and the computation takes whatever is left; it finishes no later on an
//! idle machine. Elsewhere the priority is left alone: on macOS `setpriority` would lower the
//! whole process, the window included. A lower priority cannot be raised again without
//! privileges, which is why this is a fresh thread and never one of tokio's pooled ones.

use std::fmt;

/// The nice value background work runs at, at least (0 is normal, 19 the lowest).
pub const NICE: i32 = 10;

/// The background thread ended without an answer: it panicked, or could not be started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped(String);

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "background work stopped: {}", self.0)
    }
}

impl std::error::Error for Stopped {}

/// Starts `work` at once on a new thread named `name` at the background priority; the
/// returned future waits for its answer without blocking the async threads. (Started before
/// the first poll, like `spawn_blocking`, so a caller may wait on the work's progress
/// messages first.)
///
/// # Errors
/// [`Stopped`] when the thread cannot be started or `work` panics.
pub fn run<T, F>(name: &str, work: F) -> impl Future<Output = Result<T, Stopped>> + use<T, F>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let started = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            lower_priority();
            // The receiver is gone only when the caller stopped waiting; nothing to tell.
            let _ = tx.send(work());
        })
        .map_err(|e| Stopped(format!("thread not started: {e}")));
    async move {
        started?;
        rx.await
            .map_err(|_| Stopped("the computation panicked".into()))
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // `None` is the calling thread on Linux, whose nice value is per thread. An app the user
    // already started at a lower priority keeps it.
    let lowered = rustix::process::getpriority_process(None).and_then(|now| {
        if now < NICE {
            rustix::process::setpriority_process(None, NICE)
        } else {
            Ok(())
        }
    });
    if let Err(error) = lowered {
        tracing::debug!(%error, "background work runs at the app's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_answers_from_a_lower_priority_thread_and_the_caller_keeps_its_own() {
        let before = own_priority();
        let (answer, inside) = run("perpdesk-test", || (6 * 7, own_priority()))
            .await
            .expect("answer");
        assert_eq!(answer, 42);
        if cfg!(target_os = "linux") {
            assert_eq!(inside, before.max(NICE), "the work's thread is niced");
        }
        assert_eq!(own_priority(), before, "the caller's thread is not");
    }

    #[tokio::test]
    async fn a_panic_in_the_work_is_an_error_not_a_hang() {
        let r: Result<(), Stopped> = run("perpdesk-test", || panic!("boom")).await;
        let e = r.expect_err("panicked");
        assert!(e.to_string().contains("panicked"), "{e}");
    }

    #[cfg(target_os = "linux")]
    fn own_priority() -> i32 {
        rustix::process::getpriority_process(None).expect("own priority")
    }

    #[cfg(not(target_os = "linux"))]
    fn own_priority() -> i32 {
        0
    }
}
