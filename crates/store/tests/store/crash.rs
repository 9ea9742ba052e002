//! Crash safety: a writer killed with SIGKILL loses nothing it reported committed.
//!
//! The writer is this test binary re-run as a child process on the ignored test
//! `crash::child_writer`, which does nothing unless `CHILD_DB` names a database.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use perpdesk_store::Store;
use rust_decimal_macros::dec;

use crate::{at, fill, new_account};

const CHILD_DB: &str = "PERPDESK_STORE_CRASH_CHILD_DB";
const BATCH: i64 = 50;

#[tokio::test]
#[ignore = "the writer half of crash_safety, run as its child process"]
async fn child_writer() {
    let Ok(path) = std::env::var(CHILD_DB) else {
        return;
    };
    let store = Store::open(&path).await.expect("child open");
    let acc = match store.accounts().await.expect("accounts").first() {
        Some(a) => a.id,
        None => store
            .create_account(&new_account("crash"), at(0))
            .await
            .expect("account"),
    };
    // Trade id n is written at time n, so the newest time is the last committed id.
    let mut next = store.last_fill_time(acc).await.expect("last").unwrap_or(0) + 1;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let batch: Vec<_> = (next..next + BATCH)
            .map(|i| fill(i, i, dec!(0.00000001), dec!(0.5)))
            .collect();
        store
            .sync_batch(acc, &batch, &[])
            .await
            .expect("child sync");
        next += BATCH;
        // Printed only after COMMIT returned: the parent holds us to every number we print.
        println!("committed {}", next - 1);
    }
}

fn random_ms(lo: u64, hi: u64) -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(lo ^ hi);
    lo + h.finish() % (hi - lo)
}

#[tokio::test]
async fn killed_writer_loses_no_committed_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crash.db");
    let exe = std::env::current_exe().expect("test binary");
    let mut reported_total = 0;
    for round in 0..5 {
        let mut child = Command::new(&exe)
            .args(["crash::child_writer", "--exact", "--ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(CHILD_DB, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let reported = Arc::new(AtomicI64::new(0));
        let seen = Arc::clone(&reported);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(n) = line.strip_prefix("committed ") {
                    seen.store(n.trim().parse().unwrap_or(0), Ordering::SeqCst);
                }
            }
        });
        // Wait for the first commit of this round, then kill at a random moment.
        let start = Instant::now();
        while reported.load(Ordering::SeqCst) <= reported_total
            && start.elapsed() < Duration::from_secs(30)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(random_ms(20, 400)));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        reader.join().expect("reader");
        let committed = reported.load(Ordering::SeqCst);
        assert!(
            committed > reported_total,
            "round {round}: child never committed"
        );
        reported_total = committed;

        let store = Store::open(&path).await.expect("reopen after SIGKILL");
        assert!(store.quick_check().await.expect("check").is_empty());
        let acc = store.accounts().await.expect("accounts")[0].id;
        let fills = store.fills(acc, 1, committed + 1).await.expect("fills");
        assert_eq!(
            fills.len() as i64,
            committed,
            "round {round}: lost committed rows"
        );
        // Batches are atomic: whatever exists beyond the report is whole batches.
        let last = store.last_fill_time(acc).await.expect("last").unwrap_or(0);
        assert_eq!(last % BATCH, 0, "round {round}: a partial batch survived");
        eprintln!("round {round}: SIGKILL after {committed} committed rows, all present");
        store.close().await;
    }
}
