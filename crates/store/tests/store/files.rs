//! Opening real files: reuse, damaged files and foreign files.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;

use perpdesk_store::{Store, StoreError};
use rust_decimal_macros::dec;

use crate::{at, fill, new_account};

/// Pseudo-random bytes without a dependency: std's per-process random hasher keys.
fn noise(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    let state = RandomState::new();
    let mut i = 0u64;
    while out.len() < len {
        let mut h = state.build_hasher();
        h.write_u64(i);
        out.extend_from_slice(&h.finish().to_le_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

async fn real_db(path: &Path, fills: i64) {
    let store = Store::open(path).await.expect("open");
    let acc = store
        .create_account(&new_account("main"), at(0))
        .await
        .expect("account");
    let batch: Vec<_> = (1..=fills)
        .map(|i| fill(i, i, dec!(1.5), dec!(0.01)))
        .collect();
    store.sync_batch(acc, &batch, &[]).await.expect("sync");
    // Closing checkpoints the WAL into the main file, so the file alone is the database.
    store.close().await;
}

#[tokio::test]
async fn reopening_keeps_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("perpdesk.db");
    real_db(&path, 100).await;
    let store = Store::open(&path).await.expect("reopen");
    let accounts = store.accounts().await.expect("accounts");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].secret_sealed, "v1:nonce:ciphertext");
    assert_eq!(
        store
            .fills(accounts[0].id, 0, i64::MAX)
            .await
            .expect("fills")
            .len(),
        100
    );
    assert!(store.quick_check().await.expect("check").is_empty());
}

#[tokio::test]
async fn a_file_of_random_bytes_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("noise.db");
    let bytes = noise(64 * 1024);
    std::fs::write(&path, &bytes).expect("write");
    let err = Store::open(&path).await.expect_err("not sqlite");
    assert!(matches!(err, StoreError::NotSqlite { .. }), "{err}");
    assert!(err.to_string().contains("noise.db"), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), bytes);
}

#[tokio::test]
async fn a_truncated_database_is_corrupt_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("truncated.db");
    real_db(&path, 5_000).await;
    let full = std::fs::read(&path).expect("read");
    assert!(
        full.len() > 64 * 1024,
        "need a multi-page file, got {}",
        full.len()
    );
    let truncated = &full[..full.len() / 2];
    std::fs::write(&path, truncated).expect("truncate");

    let err = Store::open(&path).await.expect_err("corrupt");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), truncated);
}

#[tokio::test]
async fn overwritten_pages_are_corrupt_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("scribbled.db");
    real_db(&path, 5_000).await;
    let mut bytes = std::fs::read(&path).expect("read");
    // Keep the header page so the file still claims to be SQLite, scribble on the b-trees.
    let start = 4096;
    let len = bytes.len() / 2;
    bytes[start..start + len].copy_from_slice(&noise(len));
    std::fs::write(&path, &bytes).expect("scribble");

    let err = Store::open(&path).await.expect_err("corrupt");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), bytes);
}

#[tokio::test]
async fn an_empty_file_is_a_new_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").expect("touch");
    let store = Store::open(&path).await.expect("open");
    assert!(store.accounts().await.expect("accounts").is_empty());
}
