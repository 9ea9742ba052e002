//! Encrypted backups of the database, and restoring them.
//!
//! A backup (`perpdesk-backup-<UTC stamp>.pdbk`) is one file:
//!
//! ```text
//! magic "PDBACKUP" ‖ format version (u32 BE) ‖ header length (u32 BE) ‖ header JSON ‖ payload
//! ```
//!
//! The header holds the creation time, the schema version, the sizes and the vault's own
//! header (salt, Argon2 costs, verifier), so a backup opens on a fresh install with the
//! master password alone. The payload is a `VACUUM INTO` copy of the whole database sealed
//! with the vault key (AES-256-GCM); its associated data is the purpose plus the exact
//! header JSON, so a byte changed anywhere in the file, a truncated file, or a header moved
//! onto another payload fails authentication.
//!
//! Invariants:
//! - Nothing is written on any failure: files appear only by an atomic rename of a fully
//!   written and flushed temporary file, and temporary files are removed on every path.
//! - A restore never replaces the running database. It is verified (decrypted, then
//!   `quick_check` and the migration history) and staged as `perpdesk.db.restore`;
//!   [`apply_pending_restore`] swaps it in at the next start, before the engine opens, and
//!   keeps the replaced files as `perpdesk.db.before-restore-<stamp>`.
//! - [`Engine::import_backup`] only accepts a backup of this vault (the same vault header,
//!   or one it had before a password change), so restoring cannot silently switch to another
//!   vault; [`stage_restore`] is for a start whose database cannot be read, where there is
//!   no vault to compare with.
//! - A password change retires the old password for good: a backup made before it opens
//!   with the password of its day *and* needs the current one, and its secrets are re-sealed
//!   under the current vault header before it is staged, so the restored database unlocks
//!   with the current password only.
//! - The plaintext copy exists on disk only beside the live database (the same place and
//!   the same trust) or, while inspecting, as a private temporary file; never in the
//!   backup folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use perpdesk_store::{Store, StoreError};
use perpdesk_vault::{
    Aad, NONCE_LEN, PasswordGate, SEALED_VERSION, Sealed, Secret, SecretString, TAG_LEN, Vault,
    VaultError, VaultHeader,
};
use serde::{Deserialize, Serialize};

use crate::{AppError, Engine};

mod files;

use files::{
    Scratch, file_name, free_name, io, put_back, stamp, sync_dir, write_atomically, write_new,
};

/// The database file name inside the data folder (as the shell names it).
pub const DATABASE_FILE: &str = "perpdesk.db";
/// Beside [`DATABASE_FILE`]: a verified restore waiting for the next start.
pub const RESTORE_FILE: &str = "perpdesk.db.restore";
/// The extension of backup files.
pub const BACKUP_EXTENSION: &str = "pdbk";
const BACKUP_PREFIX: &str = "perpdesk-backup-";

const MAGIC: &[u8; 8] = b"PDBACKUP";
const FORMAT_VERSION: u32 = 1;
/// A header is a few hundred bytes; anything near this is not one.
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// The largest backup file read (and database backed up): the file and its decrypted copy
/// are held in memory, and a path to a device such as `/dev/zero` must not grow without end.
pub const MAX_BACKUP_BYTES: u64 = 1 << 30;
/// The associated data of a backup payload: account 0 (no account) and this purpose
/// followed by the header JSON.
const PURPOSE: &str = "perpdesk-backup/v1\n";
const AAD_ACCOUNT: i64 = 0;

/// What the header of a backup file says (authenticated with the payload).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupHeader {
    created_ms: i64,
    schema_version: i64,
    database_bytes: u64,
    payload_bytes: u64,
    vault: VaultHeader,
}

/// A backup as the UI sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupInfo {
    /// The backup file.
    pub path: String,
    /// Size of the backup file.
    pub bytes: u64,
    /// When it was made, UTC milliseconds (wall clock).
    pub created_ms: i64,
    /// The database schema version inside.
    pub schema_version: i64,
}

/// A verified backup staged for the next start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreStaged {
    /// The backup it came from.
    pub backup: BackupInfo,
    /// The staged database file.
    pub staged: String,
    /// What the user has to do next.
    pub message: String,
}

impl Engine {
    /// Writes an encrypted backup of the whole database into `dir` (created if missing),
    /// after checking the master password again.
    ///
    /// # Errors
    /// [`AppError::NotInitialized`] without a vault; [`AppError::WrongPassword`];
    /// [`AppError::Io`] when a file cannot be written; [`AppError::Store`] when the copy
    /// cannot be made or fails its check. Nothing is left behind on error.
    pub async fn export_backup(
        &self,
        dir: &Path,
        password: SecretString,
    ) -> Result<BackupInfo, AppError> {
        let header = self
            .stored_vault_header()
            .await?
            .ok_or(AppError::NotInitialized)?;
        // The password is checked like unlocking, throttle included: a backup is as good
        // a password oracle as the unlock dialog.
        let vault = self.unlock_throttled(header.clone(), password).await?;
        std::fs::create_dir_all(dir).map_err(io("create folder", dir))?;

        let now = Utc::now();
        let stamp = stamp(now);
        // The plaintext copy stays beside the live database, never in the backup folder.
        let scratch_dir = self
            .config
            .database
            .as_deref()
            .and_then(Path::parent)
            .map_or_else(std::env::temp_dir, Path::to_path_buf);
        let copy = Scratch(scratch_dir.join(format!(
            ".perpdesk-backup-{stamp}-{:08x}.db",
            getrandom::u32().unwrap_or(0)
        )));
        self.store.backup_to(&copy.0).await?;
        let schema_version = Store::verify_file(&copy.0).await?;
        let database = Secret::new(std::fs::read(&copy.0).map_err(io("read", &copy.0))?);
        drop(copy);
        if database.len() as u64 > MAX_BACKUP_BYTES - 1024 * 1024 {
            return Err(AppError::Conflict(format!(
                "the database ({} MiB) is larger than a backup may be ({} MiB)",
                database.len() >> 20,
                MAX_BACKUP_BYTES >> 20
            )));
        }

        let database_bytes = database.len() as u64;
        let backup = BackupHeader {
            created_ms: now.timestamp_millis(),
            schema_version,
            database_bytes,
            payload_bytes: (1 + NONCE_LEN + TAG_LEN) as u64 + database_bytes,
            vault: header,
        };
        let header_json = serde_json::to_string(&backup)
            .map_err(|e| AppError::Internal(format!("backup header: {e}")))?;
        let path = free_name(dir, &stamp);
        let target = path.clone();
        let bytes = tokio::task::spawn_blocking(move || -> Result<u64, AppError> {
            let purpose = format!("{PURPOSE}{header_json}");
            let sealed = vault
                .seal_secret(Aad::new(AAD_ACCOUNT, &purpose), &database)
                .map_err(|e| AppError::Internal(format!("sealing the backup: {e}")))?;
            drop(database);
            let len = u32::try_from(header_json.len())
                .map_err(|_| AppError::Internal("backup header too large".into()))?;
            // Written in parts: the database is not copied a third time.
            let parts: [&[u8]; 7] = [
                MAGIC,
                &FORMAT_VERSION.to_be_bytes(),
                &len.to_be_bytes(),
                header_json.as_bytes(),
                &[SEALED_VERSION],
                &sealed.nonce,
                &sealed.ciphertext,
            ];
            write_atomically(&target, &parts)?;
            Ok(parts.iter().map(|p| p.len() as u64).sum::<u64>())
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        tracing::info!(path = %path.display(), bytes, "backup written");
        Ok(BackupInfo {
            path: path.display().to_string(),
            bytes,
            created_ms: backup.created_ms,
            schema_version,
        })
    }

    /// Verifies a backup of this vault and stages it to replace the database in
    /// `data_dir` at the next start ([`apply_pending_restore`]).
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for a file that is not a backup, is truncated or damaged,
    /// or was made by another vault; [`AppError::WrongPassword`]; [`AppError::Io`]. Nothing
    /// is staged on error.
    pub async fn import_backup(
        &self,
        path: &Path,
        password: SecretString,
        data_dir: &Path,
    ) -> Result<RestoreStaged, AppError> {
        self.import_backup_with_current(path, password, None, data_dir)
            .await
    }

    /// [`Engine::import_backup`] for a backup that may predate the last password change:
    /// such a backup opens with `password` (the one of its day) and also needs `current`,
    /// the current master password; its secrets are then re-sealed under the current vault
    /// header, so the old password opens nothing after the restore.
    ///
    /// # Errors
    /// As [`Engine::import_backup`]; [`AppError::PasswordRequired`] (field
    /// `currentPassword`) for an older backup without `current`;
    /// [`AppError::WrongPassword`] when either password is wrong. Nothing is staged on error.
    pub async fn import_backup_with_current(
        &self,
        path: &Path,
        password: SecretString,
        current: Option<SecretString>,
        data_dir: &Path,
    ) -> Result<RestoreStaged, AppError> {
        let backup = read_backup(path)?;
        let header = &backup.0;
        // A fresh install has no vault yet; there is nothing to mix up.
        let mut reseal = None;
        if let Some(current_header) = self.stored_vault_header().await?
            && current_header != header.vault
        {
            // A backup made before a password change is this vault's, under the password
            // of its day (which opening it checks).
            let salts = self
                .store
                .setting::<Vec<String>>(crate::password::PREVIOUS_SALTS)
                .await?
                .unwrap_or_default();
            if salts.contains(&header.vault.salt) {
                let Some(current) = current else {
                    return Err(AppError::PasswordRequired {
                        field: "currentPassword".into(),
                        reason: "this backup was made before the master password was last \
                                 changed; restoring it needs the current master password too",
                    });
                };
                let header_json = current_header
                    .to_json()
                    .map_err(|e| AppError::Internal(format!("vault header: {e}")))?;
                let to = self.unlock_throttled(current_header, current).await?;
                reseal = Some(Reseal {
                    to,
                    header_json,
                    salts,
                });
            } else {
                return Err(AppError::invalid(
                    "backup",
                    format!(
                        "{} was made by another vault (a different master password or \
                         installation); only backups of this vault can be restored here",
                        file_name(path)
                    ),
                ));
            }
        }
        let vault = self
            .unlock_throttled(header.vault.clone(), password)
            .await
            .map_err(wrong_or_damaged(path))?;
        let vault = Arc::new(vault);
        let resealed = reseal.is_some();
        let reseal = reseal.map(|r| (vault.clone(), r));
        let (info, database) = decrypt_backup(path, backup, vault).await?;
        let mut staged = stage_database(path, info, database, data_dir, reseal).await?;
        if resealed {
            staged.message.push_str(
                " The backup was made before the master password was last changed; its keys \
                 were sealed again under the current password: after the restart, unlock \
                 with your current master password (the backup's old password opens nothing).",
            );
        }
        Ok(staged)
    }

    /// Opens a vault header with `password` through the engine's throttle.
    async fn unlock_throttled(
        &self,
        header: VaultHeader,
        password: SecretString,
    ) -> Result<Vault, AppError> {
        self.throttled(move || Vault::unlock(&header, &password))
            .await?
            .map_err(vault_error)
    }

    async fn stored_vault_header(&self) -> Result<Option<VaultHeader>, AppError> {
        self.store
            .setting::<String>(crate::engine::VAULT_HEADER)
            .await?
            .map(|json| {
                VaultHeader::from_json(&json)
                    .map_err(|e| AppError::Internal(format!("vault header: {e}")))
            })
            .transpose()
    }
}

/// Checks a backup with its master password: format, authentication of every byte, and
/// the database inside (`quick_check`, migration history).
///
/// # Errors
/// [`AppError::InvalidInput`] (not a backup, truncated, damaged, a database this build
/// cannot open); [`AppError::WrongPassword`]; [`AppError::Io`].
///
/// The password is checked through `gate` ([`Engine::password_gate`] when an engine runs),
/// so a backup file is no faster a password oracle than the unlock dialog.
pub async fn inspect_backup(
    path: &Path,
    password: SecretString,
    gate: &PasswordGate,
) -> Result<BackupInfo, AppError> {
    let (info, database) = open_backup(path, password, gate).await?;
    let scratch = Scratch(std::env::temp_dir().join(format!(
        ".perpdesk-inspect-{}-{:08x}.db",
        std::process::id(),
        getrandom::u32().unwrap_or(0)
    )));
    write_new(&scratch.0, &[database.expose()])?;
    drop(database);
    check_database_inside(path, &scratch.0).await?;
    Ok(info)
}

/// Verifies a backup (as [`inspect_backup`]) and stages it as [`RESTORE_FILE`] in
/// `data_dir`, replacing an earlier staged restore. For a start whose database cannot be
/// opened; a running engine uses [`Engine::import_backup`], which also checks the vault.
///
/// # Errors
/// As [`inspect_backup`]. Nothing is staged on error.
pub async fn stage_restore(
    path: &Path,
    password: SecretString,
    data_dir: &Path,
    gate: &PasswordGate,
) -> Result<RestoreStaged, AppError> {
    let (info, database) = open_backup(path, password, gate).await?;
    stage_database(path, info, database, data_dir, None).await
}

/// What re-sealing a backup from before a password change needs: the current vault and
/// its stored header, and the salts of this vault's earlier headers.
struct Reseal {
    to: Vault,
    header_json: String,
    salts: Vec<String>,
}

/// Writes a decrypted backup's database as the staged restore, after checking it; with
/// `reseal` (the backup's own vault and the current one), its secrets are moved to the
/// current vault header first.
async fn stage_database(
    path: &Path,
    info: BackupInfo,
    database: Secret,
    data_dir: &Path,
    reseal: Option<(Arc<Vault>, Reseal)>,
) -> Result<RestoreStaged, AppError> {
    std::fs::create_dir_all(data_dir).map_err(io("create folder", data_dir))?;
    let staged = data_dir.join(RESTORE_FILE);
    let tmp = Scratch(data_dir.join(format!("{RESTORE_FILE}.tmp")));
    // A leftover of an interrupted attempt is ours to replace.
    let _ = std::fs::remove_file(&tmp.0);
    write_new(&tmp.0, &[database.expose()])?;
    drop(database);
    check_database_inside(path, &tmp.0).await?;
    if let Some((from, reseal)) = reseal {
        let wal = Scratch(PathBuf::from(format!("{}-wal", tmp.0.display())));
        let shm = Scratch(PathBuf::from(format!("{}-shm", tmp.0.display())));
        let store = Store::open(&tmp.0).await?;
        let done = reseal_staged(&store, &from, reseal).await;
        // Closing checkpoints the WAL into the file, which alone is then the database.
        store.close().await;
        drop((wal, shm));
        done?;
    }
    std::fs::rename(&tmp.0, &staged).map_err(io("rename", &staged))?;
    sync_dir(data_dir);
    tracing::info!(backup = %path.display(), "restore staged for the next start");
    Ok(RestoreStaged {
        backup: info,
        staged: staged.display().to_string(),
        message: "The backup was verified and will replace the database when perpdesk \
                  restarts; restart perpdesk to finish the restore."
            .to_owned(),
    })
}

/// Re-seals every secret of a restored database from the backup's vault (`from`) to the
/// current one, and stores the current vault header with them, all in one transaction; the
/// list of earlier salts becomes the current vault's, plus the backup's own.
async fn reseal_staged(store: &Store, from: &Vault, reseal: Reseal) -> Result<(), AppError> {
    let Reseal {
        to,
        header_json,
        mut salts,
    } = reseal;
    let now = Utc::now();
    let old_header = store
        .setting::<String>(crate::engine::VAULT_HEADER)
        .await?
        .ok_or_else(|| AppError::Internal("the restored database has no vault header".into()))?;
    let backup_salt = VaultHeader::from_json(&old_header)
        .map_err(|e| AppError::Internal(format!("restored vault header: {e}")))?
        .salt;
    let rows = store.sealed_secrets().await?;
    let mut pairs = Vec::with_capacity(rows.len());
    for row in rows {
        let aad = crate::statements::sealed_aad(&row);
        // A backup from before API secrets were bound holds them in the first format; they
        // are re-sealed bound, which is the move the unlock would make.
        let sealed = Sealed::decode(&row.sealed)
            .and_then(|sealed| {
                from.open_secret(aad, &sealed).or_else(|e| match aad.key {
                    Some(_) => from.open_secret(aad.without_key(), &sealed),
                    None => Err(e),
                })
            })
            .and_then(|secret| to.seal_secret(aad, &secret))
            .map_err(|e| {
                AppError::Internal(format!(
                    "re-sealing the restored secret of account {}: {e}",
                    row.account_id
                ))
            })?;
        pairs.push((row, sealed.encode()));
    }
    store
        .replace_sealed_secrets(
            crate::engine::VAULT_HEADER,
            &old_header,
            &header_json,
            &pairs,
            now,
        )
        .await?;
    if !salts.contains(&backup_salt) {
        salts.push(backup_salt);
    }
    store
        .put_setting(crate::password::PREVIOUS_SALTS, &salts, now)
        .await?;
    Ok(())
}

/// Swaps a staged restore into place. The shell calls this before opening the engine.
/// The replaced database (with its `-wal`/`-shm`) is kept as
/// `perpdesk.db.before-restore-<stamp>`. Returns whether a restore was applied.
///
/// # Errors
/// [`AppError::InvalidInput`] when the staged file no longer verifies (it is moved aside
/// as `perpdesk.db.restore.rejected-<stamp>` and the database is left as it was);
/// [`AppError::Io`] when a rename fails (the previous files are put back).
pub async fn apply_pending_restore(data_dir: &Path) -> Result<bool, AppError> {
    let staged = data_dir.join(RESTORE_FILE);
    if !staged.exists() {
        return Ok(false);
    }
    let stamp = stamp(Utc::now());
    if let Err(e) = Store::verify_file(&staged).await {
        let rejected = data_dir.join(format!("{RESTORE_FILE}.rejected-{stamp}"));
        let _ = std::fs::rename(&staged, &rejected);
        return Err(AppError::invalid(
            "restore",
            format!(
                "the staged restore no longer verifies ({e}); the database was left as it was \
                 and the file moved to {}",
                rejected.display()
            ),
        ));
    }
    let db = data_dir.join(DATABASE_FILE);
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", db.display()));
        if from.exists() {
            let to = data_dir.join(format!("{DATABASE_FILE}.before-restore-{stamp}{suffix}"));
            if let Err(e) = std::fs::rename(&from, &to) {
                put_back(&moved);
                return Err(io("rename", &from)(e));
            }
            moved.push((from, to));
        }
    }
    if let Err(e) = std::fs::rename(&staged, &db) {
        put_back(&moved);
        return Err(io("rename", &staged)(e));
    }
    sync_dir(data_dir);
    tracing::info!(kept = moved.len(), "restore applied");
    Ok(true)
}

/// The newest backup in `dir` (by the time in its name), to offer when the database is
/// damaged.
pub fn latest_backup(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(BACKUP_PREFIX) && name.ends_with(&format!(".{BACKUP_EXTENSION}"))
        })
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .max_by_key(std::fs::DirEntry::file_name)
        .map(|e| e.path())
}

/// Checks the database file before the engine opens it: a damaged, truncated or empty
/// file is reported (with the newest backup in `backup_dir`, if any) instead of being
/// opened, and is never recreated. A missing file is a first start.
///
/// # Errors
/// [`AppError::InvalidInput`] (field `database`) saying what is wrong and what to do.
pub async fn check_database(db: &Path, backup_dir: &Path) -> Result<(), AppError> {
    if !db.exists() {
        return Ok(());
    }
    match Store::verify_file(db).await {
        Ok(_) => Ok(()),
        // Another build's schema is Store::open's to report as it always has.
        Err(StoreError::InvalidData(_) | StoreError::Sqlx(_)) => Ok(()),
        Err(e) => {
            let offer = match latest_backup(backup_dir) {
                Some(b) => format!(
                    "The last backup is {}; restore it with your master password.",
                    b.display()
                ),
                None => "No backup was found; move the file aside to start with an empty \
                         database."
                    .to_owned(),
            };
            Err(AppError::invalid(
                "database",
                format!("{e}. It was left untouched. {offer}"),
            ))
        }
    }
}

// ----- reading ---------------------------------------------------------------------------

/// Parses the file's frame: header, its JSON (for the associated data) and the payload.
fn read_backup(path: &Path) -> Result<(BackupHeader, String, Sealed), AppError> {
    let name = file_name(path);
    // Missing, unreadable, not a regular file, too large or not a backup: one answer, so a
    // caller cannot probe which files exist or what they are.
    let not_backup = || {
        AppError::invalid(
            "backup",
            format!(
                "{name} cannot be used: it is missing, unreadable, not a regular file, larger \
                 than {} MiB, or not a perpdesk backup",
                MAX_BACKUP_BYTES >> 20
            ),
        )
    };
    let bytes = read_capped(path).ok_or_else(not_backup)?;
    let truncated = |have: usize, want: u64| {
        AppError::invalid(
            "backup",
            format!("{name} is truncated ({have} of {want} bytes); it cannot be restored"),
        )
    };
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(not_backup());
    }
    let word = |at: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_be_bytes(b))
    };
    let version = word(8).ok_or_else(|| truncated(bytes.len(), 16))?;
    if version != FORMAT_VERSION {
        return Err(AppError::invalid(
            "backup",
            format!(
                "{name} has backup format {version}; this perpdesk reads format {FORMAT_VERSION}"
            ),
        ));
    }
    let header_len = word(12).ok_or_else(|| truncated(bytes.len(), 16))? as usize;
    if header_len > MAX_HEADER_BYTES {
        return Err(damaged(&name));
    }
    let header_end = 16 + header_len;
    let header_json = bytes
        .get(16..header_end)
        .ok_or_else(|| truncated(bytes.len(), header_end as u64))?;
    let header_json = std::str::from_utf8(header_json)
        .map_err(|_| damaged(&name))?
        .to_owned();
    let header: BackupHeader = serde_json::from_str(&header_json).map_err(|_| damaged(&name))?;
    let payload = &bytes[header_end..];
    let want = header_end as u64 + header.payload_bytes;
    if (payload.len() as u64) < header.payload_bytes {
        return Err(truncated(bytes.len(), want));
    }
    if payload.len() as u64 != header.payload_bytes {
        return Err(damaged(&name));
    }
    let sealed = Sealed::from_bytes(payload).map_err(|_| damaged(&name))?;
    Ok((header, header_json, sealed))
}

/// The whole of a regular file of at most [`MAX_BACKUP_BYTES`]; `None` for anything else.
/// The kind is checked before opening (opening a FIFO would wait for a writer) and again
/// on the open file, and the read itself stops past the cap.
fn read_capped(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let small_file = |m: std::fs::Metadata| m.is_file() && m.len() <= MAX_BACKUP_BYTES;
    if !std::fs::metadata(path).is_ok_and(small_file) {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    if !file.metadata().is_ok_and(small_file) {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_BACKUP_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() as u64 <= MAX_BACKUP_BYTES).then_some(bytes)
}

/// Reads, unlocks and decrypts a backup; returns its description and the database bytes.
async fn open_backup(
    path: &Path,
    password: SecretString,
    gate: &PasswordGate,
) -> Result<(BackupInfo, Secret), AppError> {
    let backup = read_backup(path)?;
    let vault = unlock(backup.0.vault.clone(), password, gate)
        .await
        .map_err(wrong_or_damaged(path))?;
    decrypt_backup(path, backup, Arc::new(vault)).await
}

/// A wrong password stays that (and a refused turn at the password gate); any other failure to open a backup's header means the
/// file is damaged.
fn wrong_or_damaged(path: &Path) -> impl FnOnce(AppError) -> AppError + '_ {
    move |e| match e {
        // A full password queue is "try again", not a verdict on the file.
        e @ (AppError::WrongPassword | AppError::Conflict(_)) => e,
        _ => damaged(&file_name(path)),
    }
}

/// Decrypts a read backup with its opened vault; returns its description and the database.
async fn decrypt_backup(
    path: &Path,
    (header, header_json, sealed): (BackupHeader, String, Sealed),
    vault: Arc<Vault>,
) -> Result<(BackupInfo, Secret), AppError> {
    let name = file_name(path);
    let purpose = format!("{PURPOSE}{header_json}");
    let database = tokio::task::spawn_blocking(move || {
        vault.open_secret(Aad::new(AAD_ACCOUNT, &purpose), &sealed)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|_| damaged(&name))?;
    if database.len() as u64 != header.database_bytes {
        return Err(damaged(&name));
    }
    let bytes = std::fs::metadata(path).map_err(io("read", path))?.len();
    Ok((
        BackupInfo {
            path: path.display().to_string(),
            bytes,
            created_ms: header.created_ms,
            schema_version: header.schema_version,
        },
        database,
    ))
}

/// Verifies the decrypted database written at `copy`.
async fn check_database_inside(backup: &Path, copy: &Path) -> Result<i64, AppError> {
    Store::verify_file(copy).await.map_err(|e| {
        let why = match e {
            StoreError::InvalidData(d) => d
                .split_once(": ")
                .map_or(d.clone(), |(_, why)| why.to_owned()),
            StoreError::Corrupt { detail, .. } | StoreError::NotSqlite { detail, .. } => {
                format!("the database inside is damaged: {detail}")
            }
            other => other.to_string(),
        };
        AppError::invalid(
            "backup",
            format!("{} cannot be restored: {why}", file_name(backup)),
        )
    })
}

fn damaged(name: &str) -> AppError {
    AppError::invalid(
        "backup",
        format!(
            "{name} is damaged or was made by another vault: it failed its integrity check \
             and cannot be restored"
        ),
    )
}

async fn unlock(
    header: VaultHeader,
    password: SecretString,
    gate: &PasswordGate,
) -> Result<Vault, AppError> {
    crate::engine::gated(gate.check(move || Vault::unlock(&header, &password)).await)?
        .map_err(vault_error)
}

fn vault_error(e: VaultError) -> AppError {
    match e {
        VaultError::WrongPassword => AppError::WrongPassword,
        other => AppError::Internal(format!("vault: {other}")),
    }
}
