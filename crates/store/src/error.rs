use std::path::PathBuf;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file is not an SQLite database at all (wrong header), so nothing was touched.
    #[error("{path} is not an SQLite database: {detail}")]
    NotSqlite { path: PathBuf, detail: String },
    /// The file is an SQLite database that failed its integrity check or cannot be read.
    /// It was left exactly as found; restore it from a backup or move it aside.
    #[error("database {path} is corrupt: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    /// The file could not be read from the filesystem.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Applying the embedded migrations failed (including a database written by a newer
    /// perpdesk, whose migrations this build does not know).
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// SQLite or the driver refused an operation.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// The write clashes with what is stored (a duplicate id, a refused state change, a
    /// concurrent update).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored or supplied value does not make sense (unparsable decimal, unknown enum
    /// name, a missing source record).
    #[error("invalid data: {0}")]
    InvalidData(String),
}

impl StoreError {
    pub(crate) fn invalid(what: impl Into<String>) -> Self {
        Self::InvalidData(what.into())
    }
}
