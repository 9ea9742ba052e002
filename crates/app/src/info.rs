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
    pub(crate) fn create_dirs(&self) -> Result<(), AppError> {
        for dir in [&self.data_dir, &self.log_dir] {
            std::fs::create_dir_all(dir).map_err(|source| AppError::Io {
                action: "create folder",
                path: dir.display().to_string(),
                source,
            })?;
        }
        Ok(())
    }
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
