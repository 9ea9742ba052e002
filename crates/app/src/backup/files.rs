//! The backup's file handling: private temporary files removed on every path, fresh names,
//! and writes that leave a file either absent or complete (flushed, renamed, folder synced).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{BACKUP_EXTENSION, BACKUP_PREFIX};
use crate::AppError;

/// A temporary file removed when dropped, on every path out.
pub(super) struct Scratch(pub(super) PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub(super) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> AppError {
    let path = path.display().to_string();
    move |source| AppError::Io {
        action,
        path,
        source,
    }
}

pub(super) fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

pub(super) fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%S%3fZ").to_string()
}

/// `perpdesk-backup-<stamp>.pdbk`, with a counter if that name is taken.
pub(super) fn free_name(dir: &Path, stamp: &str) -> PathBuf {
    let mut path = dir.join(format!("{BACKUP_PREFIX}{stamp}.{BACKUP_EXTENSION}"));
    let mut n = 1;
    while path.exists() {
        path = dir.join(format!("{BACKUP_PREFIX}{stamp}-{n}.{BACKUP_EXTENSION}"));
        n += 1;
    }
    path
}

/// Creates `path` (which must not exist), private to the user, and flushes it to disk.
pub(super) fn write_new(path: &Path, parts: &[&[u8]]) -> Result<(), AppError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io("create", path))?;
    let written = parts
        .iter()
        .try_for_each(|p| file.write_all(p))
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(io("write", path)(e));
    }
    Ok(())
}

/// Writes beside `path` and renames, so `path` is either absent or complete.
pub(super) fn write_atomically(path: &Path, parts: &[&[u8]]) -> Result<(), AppError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let tmp = Scratch(dir.join(format!(".{}.tmp", file_name(path))));
    let _ = std::fs::remove_file(&tmp.0);
    write_new(&tmp.0, parts)?;
    std::fs::rename(&tmp.0, path).map_err(io("rename", path))?;
    sync_dir(dir);
    Ok(())
}

/// Makes a rename durable where the platform allows it (best effort).
pub(super) fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

pub(super) fn put_back(moved: &[(PathBuf, PathBuf)]) {
    for (from, to) in moved.iter().rev() {
        let _ = std::fs::rename(to, from);
    }
}
