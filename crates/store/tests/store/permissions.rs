//! Who may read the database files (Unix): the user alone, whatever the umask. With the
//! usual umask 022, files created with default modes are readable by every local account.
//!
//! The umask is process-wide; these tests set the common 022 (and never a stricter one), so
//! other tests running beside them create their files exactly as they would anyway.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use perpdesk_store::Store;
use rustix::fs::Mode;

use crate::{at, new_account};

fn umask_022() {
    rustix::process::umask(Mode::from_raw_mode(0o022));
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn assert_private(path: &Path) {
    let found = mode(path);
    assert_eq!(
        found,
        0o600,
        "{} is {found:o}, readable beyond its owner",
        path.display()
    );
}

/// The database and both files SQLite keeps beside it in WAL mode.
fn all_three(db: &Path) -> [PathBuf; 3] {
    [db.to_owned(), sibling(db, "-wal"), sibling(db, "-shm")]
}

#[tokio::test]
async fn a_new_database_its_wal_and_shm_are_private_under_umask_022() {
    umask_022();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("perpdesk.db");
    let store = Store::open(&db).await.expect("open");
    store
        .create_account(&new_account("main"), at(0))
        .await
        .expect("a write, so the WAL has content");
    for file in all_three(&db) {
        assert_private(&file);
    }
    store.checkpoint().await.expect("checkpoint");
    for file in all_three(&db) {
        assert_private(&file);
    }
    store.close().await;
    // Reopened, SQLite makes a fresh WAL and shared-memory file: private as well.
    let store = Store::open(&db).await.expect("reopen");
    store
        .create_account(&new_account("second"), at(1))
        .await
        .expect("write");
    for file in all_three(&db) {
        assert_private(&file);
    }
    store.close().await;
}

#[tokio::test]
async fn files_left_readable_by_an_earlier_build_are_made_private_on_open() {
    umask_022();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("perpdesk.db");
    let store = Store::open(&db).await.expect("create");
    store
        .create_account(&new_account("main"), at(0))
        .await
        .expect("a write that stays in the WAL");
    // What an earlier build left after a crash: the database with its WAL and
    // shared-memory file still beside it (copied while open, as a crash leaves them),
    // all three readable by everyone.
    let crashed = dir.path().join("crashed.db");
    for (from, to) in all_three(&db).iter().zip(all_three(&crashed).iter()) {
        std::fs::copy(from, to).expect("copy");
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    store.close().await;
    let store = Store::open(&crashed).await.expect("reopen");
    for file in all_three(&crashed) {
        assert_private(&file);
    }
    assert_eq!(
        store.accounts().await.expect("accounts").len(),
        1,
        "the WAL's commit is still there"
    );
    store.close().await;
}

#[tokio::test]
async fn a_backup_copy_is_private_under_umask_022() {
    umask_022();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("perpdesk.db");
    let store = Store::open(&db).await.expect("open");
    store
        .create_account(&new_account("main"), at(0))
        .await
        .expect("write");
    let copy = dir.path().join("copy.db");
    store.backup_to(&copy).await.expect("backup");
    assert_private(&copy);
    let in_memory = Store::open_in_memory().await.expect("memory");
    let copy = dir.path().join("memory-copy.db");
    in_memory.backup_to(&copy).await.expect("backup");
    assert_private(&copy);
    store.close().await;
}
