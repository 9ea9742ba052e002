//! The app's log files: one per UTC day in the log folder, each private to the user.
//!
//! A log line may name accounts, orders and balances, so the files are 0600 on Unix by
//! themselves (created so, and older ones made so at start), not only shielded by the 0700
//! folder: a file copied or moved out of the folder keeps its mode. A general-purpose appender
//! creates its files with the umask's mode, which is why this one exists.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{NaiveDate, Utc};

use crate::AppError;

const PREFIX: &str = "perpdesk.";
const SUFFIX: &str = ".log";

/// The app's daily log files in one folder; a `tracing_subscriber` writer.
#[derive(Debug)]
pub struct LogFiles {
    dir: PathBuf,
    kept: usize,
    current: Mutex<Option<(NaiveDate, File)>>,
}

impl LogFiles {
    /// Opens (creating) today's file in `dir`, which is made private (0700) first; log files
    /// left readable by an earlier build are made 0600. `kept` is how many daily files stay;
    /// older ones are deleted when the day turns.
    ///
    /// # Errors
    /// [`AppError::Io`] when the folder or today's file cannot be made private or opened.
    pub fn open(dir: &Path, kept: usize) -> Result<Self, AppError> {
        crate::info::private_dir(dir)?;
        for old in log_files(dir) {
            private_file(&old)?;
        }
        let files = Self {
            dir: dir.to_owned(),
            kept: kept.max(1),
            current: Mutex::new(None),
        };
        let today = Utc::now().date_naive();
        let file = files.open_day(today)?;
        *files.lock() = Some((today, file));
        Ok(files)
    }

    /// The file that holds the lines of `day`.
    #[must_use]
    pub fn path_for(&self, day: NaiveDate) -> PathBuf {
        self.dir
            .join(format!("{PREFIX}{}{SUFFIX}", day.format("%Y-%m-%d")))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(NaiveDate, File)>> {
        // A panic while writing a line leaves the file usable; keep logging.
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn open_day(&self, day: NaiveDate) -> Result<File, AppError> {
        let path = self.path_for(day);
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(|source| AppError::Io {
            action: "open log file",
            path: path.display().to_string(),
            source,
        })?;
        // An existing file keeps its mode through `open`; make it private too.
        private_file(&path)?;
        Ok(file)
    }

    /// Deletes all but the newest `kept` daily files.
    fn prune(&self) {
        let mut files = log_files(&self.dir);
        // The date in the name sorts as text.
        files.sort();
        let excess = files.len().saturating_sub(self.kept);
        for old in &files[..excess] {
            if let Err(e) = std::fs::remove_file(old) {
                eprintln!("perpdesk: removing the old log {}: {e}", old.display());
            }
        }
    }

    fn write_line(&self, buf: &[u8]) -> std::io::Result<()> {
        let today = Utc::now().date_naive();
        let mut current = self.lock();
        if current.as_ref().is_none_or(|(day, _)| *day != today) {
            let file = self
                .open_day(today)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            *current = Some((today, file));
            drop(current);
            self.prune();
            current = self.lock();
        }
        match current.as_mut() {
            Some((_, file)) => file.write_all(buf),
            None => Ok(()),
        }
    }
}

/// The log files (by their name) in `dir`.
fn log_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        })
        .collect()
}

fn private_file(path: &Path) -> Result<(), AppError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| AppError::Io {
                action: "make log file private",
                path: path.display().to_string(),
                source,
            },
        )?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// One line's writer: the formatted line arrives in one `write`, which takes the lock once.
#[derive(Debug)]
pub struct LogLine<'a>(&'a LogFiles);

impl Write for LogLine<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_line(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogFiles {
    type Writer = LogLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LogLine(self)
    }
}

/// The file layer the desktop app logs with: plain text (no colour codes) into `files`.
pub fn file_layer<S>(
    files: LogFiles,
) -> tracing_subscriber::fmt::Layer<
    S,
    tracing_subscriber::fmt::format::DefaultFields,
    tracing_subscriber::fmt::format::Format,
    LogFiles,
>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(files)
}

/// Sends every panic's message and place to the log as an error before the default report
/// (stderr) runs, so a crash in a background task is in the files the user can send. The
/// message is what the panicking code formatted: secrets print as `REDACTED` there.
pub fn log_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(%place, %message, "panic");
        default(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_newest_daily_files_are_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = LogFiles::open(dir.path(), 2).expect("open");
        for day in ["2020-01-01", "2020-01-02", "2020-01-03"] {
            std::fs::write(dir.path().join(format!("perpdesk.{day}.log")), "old\n").expect("old");
        }
        std::fs::write(dir.path().join("notes.txt"), "mine").expect("other file");
        files.prune();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let today = files.path_for(Utc::now().date_naive());
        let today = today.file_name().expect("name").to_string_lossy();
        assert_eq!(left, ["notes.txt", "perpdesk.2020-01-03.log", &today]);
    }
}
