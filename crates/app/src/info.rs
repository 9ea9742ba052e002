use std::path::PathBuf;

use serde::Serialize;

use crate::{AppError, Mode};

/// Where the app keeps its files. The shell resolves them from the OS conventions.
#[derive(Debug, Clone)]
pub struct AppPaths {
    /// Databases, the vault and the preferences store.
    pub data_dir: PathBuf,
    /// Rotating log files.
    pub log_dir: PathBuf,
}

impl AppPaths {
    /// Creates the data and log folders, private to the user on Unix (0700, also when they
    /// exist already): whatever the umask gave the files inside, no other local account can
    /// reach them. Windows: the folders inherit the profile's ACL.
    pub(crate) fn create_dirs(&self) -> Result<(), AppError> {
        for dir in [&self.data_dir, &self.log_dir] {
            private_dir(dir)?;
        }
        Ok(())
    }

    /// Where CSV exports and backups are written (and a damaged database's backups are
    /// looked for).
    pub fn exports_dir(&self) -> PathBuf {
        self.data_dir.join("exports")
    }
}

/// Creates `dir` (and its parents) and makes it 0700 on Unix, whatever the umask.
///
/// # Errors
/// [`AppError::Io`] when the folder cannot be made or its mode cannot be set.
pub(crate) fn private_dir(dir: &std::path::Path) -> Result<(), AppError> {
    let failed = |action| {
        move |source| AppError::Io {
            action,
            path: dir.display().to_string(),
            source,
        }
    };
    std::fs::create_dir_all(dir).map_err(failed("create folder"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(failed("make private"))?;
    }
    Ok(())
}

/// What the dashboard's header and "about" line show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// The product name.
    pub name: String,
    /// The app's version.
    pub version: String,
    /// The trading mode shown on the badge.
    pub mode: Mode,
    /// The data folder, for the user to back up.
    pub data_dir: String,
    /// The log folder, for bug reports.
    pub log_dir: String,
    /// Whether live signal generation is paused.
    pub signals_paused: bool,
}
