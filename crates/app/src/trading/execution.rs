//! The execution side of the engine, as its own type over exactly what it needs: the store
//! (the order journal and the audit log), the events, the clock records are stamped with,
//! and, per call, the session whose venue client sends. It has no vault, no signals and no
//! study: the compiler proves that sending, protecting and flattening cannot reach them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use perpdesk_store::Store;

use crate::Events;
use crate::session::Session;
use crate::venue::PaperVenue;

/// Sends, protects, flattens and cancels; owned by [`crate::Engine`], which looks the session
/// up (through the vault) and the limits up before it calls in.
#[derive(Debug)]
pub(crate) struct Execution {
    pub(super) store: Store,
    pub(super) events: Events,
    clock: RecordClock,
    seq: AtomicU32,
}

/// "Now" for records made without a session: the paper exchange's replay clock in a
/// paper-only world, else the wall clock.
#[derive(Clone)]
struct RecordClock(Option<Arc<PaperVenue>>);

impl std::fmt::Debug for RecordClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "RecordClock(paper)"
        } else {
            "RecordClock(wall)"
        })
    }
}

impl Execution {
    /// Execution over `store` and `events`, stamping records by `paper`'s clock if any.
    pub(crate) fn new(store: Store, events: Events, paper: Option<Arc<PaperVenue>>) -> Self {
        Self {
            store,
            events,
            clock: RecordClock(paper),
            // A random start: a restarted process at the same (paused replay) millisecond
            // would otherwise make the ticket ids the last one used, and the journal
            // refuses a reused client id.
            seq: AtomicU32::new(getrandom::u32().unwrap_or(0)),
        }
    }

    /// A fresh number for ticket ids made in the same millisecond.
    pub(crate) fn next_seq(&self) -> u32 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// "Now" for records: the session's exchange clock, else [`RecordClock`].
    pub(crate) fn now(&self, session: Option<&Session>) -> DateTime<Utc> {
        if let Some(s) = session {
            return s.client.now();
        }
        let ms = self
            .clock
            .0
            .as_ref()
            .map_or_else(|| Utc::now().timestamp_millis(), |p| p.now_ms());
        DateTime::from_timestamp_millis(ms).unwrap_or_else(Utc::now)
    }

    /// Appends to the audit log (who did what, never a secret). The record that matters for
    /// money is the order journal; a failed audit write is logged, not allowed to undo an
    /// action that already happened.
    pub(crate) async fn audit(&self, actor: &str, action: &str, details: serde_json::Value) {
        if let Err(e) = self
            .store
            .audit(actor, action, &details, self.now(None))
            .await
        {
            tracing::error!(error = %e, action, "audit log write failed");
        }
    }
}
