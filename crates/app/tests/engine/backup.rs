//! Encrypted backups: what is inside, what is refused (and that a refusal writes nothing),
//! and a restore that a fresh engine on the same data folder sees.

use std::path::{Path, PathBuf};

use perpdesk_app::backup::{
    RESTORE_FILE, apply_pending_restore, check_database, inspect_backup, latest_backup,
    stage_restore,
};
use perpdesk_app::{AppError, Engine, ErrorCode};
use perpdesk_core::Side;
use perpdesk_vault::PasswordGate;
use rust_decimal_macros::dec;

use crate::support::{PASSWORD, engine_with, pw, secret_forms, start_sim, ticket};

const OTHER_PASSWORD: &str = "another vault entirely 77 zebra";

/// Places one bracketed market order on the paper account.
async fn trade(engine: &Engine) {
    let mut probe = ticket(Side::Buy, dec!(500), dec!(1), dec!(1), dec!(1));
    probe.stop_loss = None;
    probe.take_profit = None;
    let entry = engine
        .preview_order(&probe)
        .await
        .expect("preview")
        .preview
        .entry_price;
    engine
        .place_order(&ticket(Side::Buy, dec!(500), entry, dec!(2), dec!(2)))
        .await
        .expect("placed");
}

async fn journal_len(engine: &Engine) -> usize {
    let account = engine.active_account_id().await.expect("account");
    engine
        .store()
        .journal_recent(account, 1000)
        .await
        .expect("journal")
        .len()
}

fn paper_secret(engine: &Engine) -> String {
    let sim = engine.paper().expect("paper").running();
    let ex = sim.shared.exchange.lock().expect("lock");
    // Accounts: the support key (0) and the first-run paper account (1).
    ex.accounts[1].secret.clone()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn assert_invalid(err: &AppError, words: &str) {
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
    assert!(err.to_string().contains(words), "{err:?} lacks {words:?}");
}

#[tokio::test]
async fn a_backup_holds_no_secret_and_opens_only_with_the_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine_with(start_sim().await, None).await;
    trade(&engine).await;
    let backups = dir.path().join("backups");

    let err = engine
        .export_backup(&backups, pw(OTHER_PASSWORD))
        .await
        .expect_err("wrong password");
    assert_eq!(err.code(), ErrorCode::WrongPassword);
    assert!(
        files_in(&backups).is_empty(),
        "nothing written on a refusal"
    );

    let info = engine
        .export_backup(&backups, pw(PASSWORD))
        .await
        .expect("export");
    let path = PathBuf::from(&info.path);
    assert_eq!(
        files_in(&backups),
        vec![path.clone()],
        "no temporary file left"
    );
    assert_eq!(latest_backup(&backups), Some(path.clone()));
    let bytes = std::fs::read(&path).expect("read");
    assert_eq!(bytes.len() as u64, info.bytes);

    let secret = paper_secret(&engine);
    assert!(secret.len() >= 16, "a real secret: {secret:?}");
    let forms = secret_forms(&secret);
    for form in &forms {
        assert!(
            !contains(&bytes, form.as_bytes()),
            "the backup holds the secret as {form:?}"
        );
    }
    // The database pages are sealed, not merely free of the secret.
    assert!(!contains(&bytes, b"SQLite format 3"));
    assert!(!contains(&bytes, b"exchange_accounts"));

    let inspected = inspect_backup(&path, pw(PASSWORD), &PasswordGate::new())
        .await
        .expect("inspect");
    assert_eq!(inspected.created_ms, info.created_ms);
    assert_eq!(inspected.schema_version, info.schema_version);
    let err = inspect_backup(&path, pw(OTHER_PASSWORD), &PasswordGate::new())
        .await
        .expect_err("wrong password");
    assert_eq!(err.code(), ErrorCode::WrongPassword);
}

#[tokio::test]
async fn damaged_truncated_and_foreign_backups_are_refused_and_stage_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let engine = engine_with(start_sim().await, None).await;
    trade(&engine).await;
    let info = engine
        .export_backup(&dir.path().join("backups"), pw(PASSWORD))
        .await
        .expect("export");
    let good = std::fs::read(&info.path).expect("read");

    // One byte flipped in the middle of the sealed payload.
    let flipped = dir.path().join("flipped.pdbk");
    let mut bytes = good.clone();
    let at = bytes.len() - 100;
    bytes[at] ^= 0x01;
    std::fs::write(&flipped, &bytes).expect("write");
    let err = inspect_backup(&flipped, pw(PASSWORD), &PasswordGate::new())
        .await
        .expect_err("flipped");
    assert_invalid(&err, "damaged");
    let err = engine
        .import_backup(&flipped, pw(PASSWORD), &data)
        .await
        .expect_err("flipped");
    assert_invalid(&err, "damaged");

    // A byte flipped in the header's own fields (the creation time) fails too.
    let header_flip = dir.path().join("header.pdbk");
    let mut bytes = good.clone();
    let pos = bytes
        .windows(10)
        .position(|w| w == b"created_ms")
        .expect("header field")
        + 13;
    bytes[pos] = if bytes[pos] == b'1' { b'2' } else { b'1' };
    std::fs::write(&header_flip, &bytes).expect("write");
    let err = inspect_backup(&header_flip, pw(PASSWORD), &PasswordGate::new())
        .await
        .expect_err("header");
    assert_invalid(&err, "damaged");

    // Truncated: cut in the payload, and cut inside the header.
    for (name, keep) in [("cut.pdbk", good.len() / 2), ("short.pdbk", 40)] {
        let cut = dir.path().join(name);
        std::fs::write(&cut, &good[..keep]).expect("write");
        let err = engine
            .import_backup(&cut, pw(PASSWORD), &data)
            .await
            .expect_err("truncated");
        assert_invalid(&err, "truncated");
    }

    // Not a backup at all.
    let junk = dir.path().join("junk.pdbk");
    std::fs::write(&junk, b"SQLite format 3\0 and then some").expect("write");
    let err = inspect_backup(&junk, pw(PASSWORD), &PasswordGate::new())
        .await
        .expect_err("junk");
    assert_invalid(&err, "not a perpdesk backup");

    // A backup of another vault: refused whichever password is given.
    // `engine_with` always uses the support password; this vault is made by hand.
    let foreign_engine = Engine::open(
        perpdesk_app::EngineConfig {
            database: None,
            kdf: perpdesk_vault::KdfParams::insecure_for_tests(),
            rest: perpdesk_binance::RestConfig::default(),
        },
        None,
        perpdesk_app::Events::new(),
    )
    .await
    .expect("open");
    foreign_engine
        .vault_setup(pw(OTHER_PASSWORD))
        .await
        .expect("setup");
    let foreign = foreign_engine
        .export_backup(&dir.path().join("foreign"), pw(OTHER_PASSWORD))
        .await
        .expect("foreign export");
    let foreign = PathBuf::from(foreign.path);
    inspect_backup(&foreign, pw(OTHER_PASSWORD), &PasswordGate::new())
        .await
        .expect("a sound backup of its own vault");
    for password in [PASSWORD, OTHER_PASSWORD] {
        let err = engine
            .import_backup(&foreign, pw(password), &data)
            .await
            .expect_err("foreign");
        assert_invalid(&err, "another vault");
    }

    assert!(
        files_in(&data).is_empty(),
        "nothing staged: {:?}",
        files_in(&data)
    );
    assert!(!data.join(RESTORE_FILE).exists());
}

/// Issue 16, item 8: only a regular file of bounded size is read, and whatever the reason a
/// path cannot be used, the answer is the same (no oracle for which files exist).
#[tokio::test]
async fn a_path_that_is_not_a_small_regular_backup_gets_one_answer_and_nothing_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let engine = engine_with(start_sim().await, None).await;
    let case = |name: &str| dir.path().join("cases").join(name).join("x.pdbk");
    for name in ["missing", "folder", "huge", "junk", "device", "fifo"] {
        std::fs::create_dir_all(case(name).parent().expect("parent")).expect("dir");
    }
    std::fs::create_dir(case("folder")).expect("a folder named like a backup");
    // Sparse: larger than the cap without using the disk.
    std::fs::File::create(case("huge"))
        .and_then(|f| f.set_len(perpdesk_app::backup::MAX_BACKUP_BYTES + 1))
        .expect("sparse file");
    std::fs::write(case("junk"), b"not a backup at all").expect("junk");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/dev/zero", case("device")).expect("symlink");
        let fifo = std::process::Command::new("mkfifo")
            .arg(case("fifo"))
            .status()
            .expect("mkfifo");
        assert!(fifo.success());
    }
    let mut answers = std::collections::BTreeSet::new();
    for name in ["missing", "folder", "huge", "junk", "device", "fifo"] {
        let path = case(name);
        if !cfg!(unix) && matches!(name, "device" | "fifo") {
            continue;
        }
        let err = engine
            .import_backup(&path, pw(PASSWORD), &data)
            .await
            .expect_err(name);
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{name}: {err}");
        answers.insert(err.to_ui().message);
        let err = inspect_backup(&path, pw(PASSWORD), &PasswordGate::new())
            .await
            .expect_err(name);
        answers.insert(err.to_ui().message);
    }
    assert_eq!(answers.len(), 1, "{answers:#?}");
    assert!(!data.exists(), "nothing staged");
}

#[tokio::test]
async fn an_imported_backup_replaces_the_database_at_the_next_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let db = data.join("perpdesk.db");
    let backups = dir.path().join("backups");

    let engine = engine_with(start_sim().await, Some(db.clone())).await;
    trade(&engine).await;
    let at_backup = journal_len(&engine).await;
    assert!(at_backup > 0);
    let info = engine
        .export_backup(&backups, pw(PASSWORD))
        .await
        .expect("export");
    // Work after the backup, which the restore must undo.
    trade(&engine).await;
    assert!(journal_len(&engine).await > at_backup);

    let staged = engine
        .import_backup(Path::new(&info.path), pw(PASSWORD), &data)
        .await
        .expect("import");
    assert!(staged.message.contains("restart"), "{}", staged.message);
    assert!(data.join(RESTORE_FILE).exists());
    let stray: Vec<_> = files_in(&data)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("tmp"))
        })
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
    // The running database is untouched until the restart.
    assert!(journal_len(&engine).await > at_backup);
    engine.store().close().await;
    drop(engine);

    assert!(apply_pending_restore(&data).await.expect("apply"));
    assert!(!data.join(RESTORE_FILE).exists());
    let kept: Vec<_> = files_in(&data)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("perpdesk.db.before-restore-"))
        .collect();
    assert!(!kept.is_empty(), "the replaced database is kept");
    assert!(
        !apply_pending_restore(&data).await.expect("apply again"),
        "nothing left to apply"
    );
    check_database(&db, &backups).await.expect("healthy");

    let engine = engine_with(start_sim().await, Some(db.clone())).await;
    assert_eq!(journal_len(&engine).await, at_backup);
    engine.store().close().await;
}

#[tokio::test]
async fn a_damaged_database_is_reported_with_the_last_backup_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let db = data.join("perpdesk.db");
    let backups = dir.path().join("backups");

    let engine = engine_with(start_sim().await, Some(db.clone())).await;
    trade(&engine).await;
    let at_backup = journal_len(&engine).await;
    let info = engine
        .export_backup(&backups, pw(PASSWORD))
        .await
        .expect("export");
    engine.store().close().await;
    drop(engine);

    // Truncated to nothing, then to half: never reopened as an empty database.
    let whole = std::fs::read(&db).expect("read db");
    for keep in [0, whole.len() / 2] {
        std::fs::write(&db, &whole[..keep]).expect("truncate");
        let err = check_database(&db, &backups)
            .await
            .expect_err("damaged database");
        assert_invalid(&err, &info.path);
        assert_eq!(
            std::fs::metadata(&db).expect("still there").len(),
            keep as u64
        );
    }

    // The recovery path: stage the last backup without an engine, apply, reopen.
    let last = latest_backup(&backups).expect("a backup");
    let err = stage_restore(&last, pw(OTHER_PASSWORD), &data, &PasswordGate::new())
        .await
        .expect_err("wrong password");
    assert_eq!(err.code(), ErrorCode::WrongPassword);
    assert!(!data.join(RESTORE_FILE).exists());
    stage_restore(&last, pw(PASSWORD), &data, &PasswordGate::new())
        .await
        .expect("stage");
    assert!(apply_pending_restore(&data).await.expect("apply"));
    check_database(&db, &backups).await.expect("healthy again");
    let engine = engine_with(start_sim().await, Some(db.clone())).await;
    assert_eq!(journal_len(&engine).await, at_backup);
    engine.store().close().await;
}

#[tokio::test]
async fn backup_passwords_are_throttled_like_unlocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine_with(start_sim().await, None).await;
    let backups = dir.path().join("backups");
    let info = engine
        .export_backup(&backups, pw(PASSWORD))
        .await
        .expect("export");
    let path = PathBuf::from(&info.path);
    let data = dir.path().join("data");

    // Export and import guess the same password the unlock dialog does, so misses on either
    // count together: two free, then the wait grows (1 s before the third).
    // The schedule is read from the gate rather than the free misses timed: an Argon2 run on a
    // loaded machine has no upper bound.
    let mut took = Vec::new();
    for attempt in 0..3 {
        let expected = if attempt < 2 { 0 } else { 1 };
        assert_eq!(
            engine.password_gate().next_delay(),
            std::time::Duration::from_secs(expected)
        );
        let started = std::time::Instant::now();
        let err = if attempt % 2 == 0 {
            engine
                .export_backup(&backups, pw(OTHER_PASSWORD))
                .await
                .expect_err("wrong password")
        } else {
            engine
                .import_backup(&path, pw(OTHER_PASSWORD), &data)
                .await
                .expect_err("wrong password")
        };
        assert_eq!(err.code(), ErrorCode::WrongPassword);
        took.push(started.elapsed());
    }
    assert!(took[2] >= std::time::Duration::from_secs(1), "{took:?}");
    assert!(!data.join(RESTORE_FILE).exists(), "nothing staged");
    assert_eq!(files_in(&backups), vec![path.clone()], "nothing written");
    // The right password still works and resets the count.
    engine
        .import_backup(&path, pw(PASSWORD), &data)
        .await
        .expect("import");
    assert!(data.join(RESTORE_FILE).exists());
}

#[tokio::test]
async fn opening_a_backup_file_waits_its_turn_at_the_engines_password_gate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine_with(start_sim().await, None).await;
    let info = engine
        .export_backup(&dir.path().join("backups"), pw(PASSWORD))
        .await
        .expect("export");
    let path = PathBuf::from(&info.path);
    let gate = engine.password_gate();
    let data = dir.path().join("data");

    // Four guesses at once, through the two paths that open a file without the engine's
    // vault: they are paid one after another (0 + 0 + 1 + 2 s), not all at the free price.
    let started = std::time::Instant::now();
    let (a, b, c, d) = tokio::join!(
        inspect_backup(&path, pw(OTHER_PASSWORD), gate),
        inspect_backup(&path, pw(OTHER_PASSWORD), gate),
        stage_restore(&path, pw(OTHER_PASSWORD), &data, gate),
        stage_restore(&path, pw(OTHER_PASSWORD), &data, gate),
    );
    let took = started.elapsed();
    for err in [a.map(|_| ()), b.map(|_| ()), c.map(|_| ()), d.map(|_| ())] {
        assert_eq!(err.expect_err("wrong").code(), ErrorCode::WrongPassword);
    }
    assert!(took >= std::time::Duration::from_secs(3), "{took:?}");
    assert_eq!(gate.failures(), 4);
    assert_eq!(gate.queued(), 0);
    assert!(!data.join(RESTORE_FILE).exists(), "nothing staged");
    // The misses count for the unlock dialog too: the engine's next guess waits 4 s first.
    assert_eq!(gate.next_delay(), std::time::Duration::from_secs(4));
}
