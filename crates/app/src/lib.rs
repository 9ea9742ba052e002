//! The application layer of perpdesk: the one API every user interface calls.
//!
//! The desktop shell (`src-tauri`) owns no behaviour: each of its commands parses arguments,
//! calls one function here and turns the [`AppError`] into `{code, message}`. Keeping the API
//! here means a second UI (a CLI, a test harness) gets the same behaviour and the same errors.
//!
//! Invariants:
//! - Nothing here knows Tauri, HTTP or SQL directly; those live in their own crates.
//! - Every error that reaches a UI carries a stable [`ErrorCode`]; internal failures show a
//!   short generic message and keep their detail for the log.
//! - The app starts in [`Mode::Paper`]; no key and no network is needed to use it.

pub mod accounts;
pub mod autotrade;
pub mod background;
pub mod backup;
pub mod books;
mod engine;
mod error;
pub mod events;
mod info;
pub mod logging;
mod mode;
mod password;
mod preferences;
pub mod records;
pub mod replay;
pub mod runtime;
mod safety;
mod session;
pub mod signal_loop;
pub mod startup;
pub mod statements;
pub mod study;
pub mod sync;
pub mod trading;
pub mod venue;
pub mod verifier;

pub use engine::{AccountView, Engine, EngineConfig, VaultStatus};
pub use error::{AppError, ErrorCode, UiError};
pub use events::{AppEvent, Direction, Events, Outbox};
pub use info::{AppInfo, AppPaths};
pub use mode::Mode;
pub use preferences::{Language, Panel, Preferences};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use perpdesk_store::Store;
use tokio::sync::OnceCell;

/// The running application: paths, mode, the switches every task reads, and the engine once
/// open.
///
/// One value of it lives for the whole process and is the desktop shell's one managed state,
/// shared by reference with every UI command, which is why its mutable parts are atomics or
/// set once rather than `&mut` methods.
#[derive(Debug)]
pub struct App {
    paths: AppPaths,
    mode: Mode,
    signals_paused: Arc<AtomicBool>,
    /// The database, opened once by whichever comes first of the engine and the first
    /// screen's vault check; a failure is kept, so every later command reports it too.
    store: OnceCell<Result<Store, UiError>>,
    /// Opened by the first command that needs it ([`startup`]), so the window appears before
    /// the market data has loaded; a failure is kept, so every later command reports it too.
    engine: OnceCell<Result<Arc<Engine>, UiError>>,
    /// Set once the page has had the vault's state, its first screen's one question.
    first_screen: tokio::sync::watch::Sender<bool>,
}

impl App {
    /// Creates the application in paper mode with its data and log folders.
    ///
    /// # Errors
    /// [`AppError::Io`] when a folder cannot be created.
    pub fn open(paths: AppPaths) -> Result<Self, AppError> {
        paths.create_dirs()?;
        Ok(Self {
            paths,
            mode: Mode::Paper,
            signals_paused: Arc::new(AtomicBool::new(false)),
            store: OnceCell::new(),
            engine: OnceCell::new(),
            first_screen: tokio::sync::watch::channel(false).0,
        })
    }

    /// The engine, opening it on first use ([`startup`]); every caller waits for the one
    /// opening.
    ///
    /// # Errors
    /// The reason the database could not be opened: a damaged file names the last backup
    /// and is never recreated empty.
    pub async fn engine(&self) -> Result<Arc<Engine>, UiError> {
        self.engine
            .get_or_init(|| async {
                // The market's files are parsed (CPU) while the database is restored,
                // checked and opened (disk; at a first start its tables are created).
                let (paper, store) = tokio::join!(startup::paper_venue(&self.paths), self.store());
                Ok(startup::start_engine(
                    &self.paths,
                    store?,
                    paper,
                    self.pause_flag(),
                ))
            })
            .await
            .clone()
    }

    /// The database, opened once ([`startup::open_store`]).
    async fn store(&self) -> Result<Store, UiError> {
        self.store
            .get_or_init(|| async {
                let db = startup::database_path(&self.paths);
                startup::open_store(&self.paths, &db).await.map_err(|e| {
                    tracing::error!(error = %e, "the database could not be opened");
                    e.to_ui()
                })
            })
            .await
            .clone()
    }

    /// Whether a master password exists and whether the vault is open. The first screen
    /// asks this, so it is answered from the database while the engine still loads the paper
    /// market: until the engine is open the vault cannot be, since only the engine opens it.
    ///
    /// # Errors
    /// The reason the database could not be opened or read.
    pub async fn vault_status(&self) -> Result<VaultStatus, UiError> {
        if let Some(engine) = self.engine.get() {
            return Ok(engine.clone()?.vault_status().await?);
        }
        let status = VaultStatus::read(&self.store().await?, true).await?;
        self.first_screen.send_replace(true);
        Ok(status)
    }

    /// Waits until the page has had its first screen's answer, or `at_most`; says which.
    ///
    /// The shell opens the engine in the background after this: parsing the paper market
    /// takes both cores for most of a second, and while the window is still starting it
    /// would slow the first screen (measured: the page's own HTML came 300 ms late).
    /// `at_most` bounds the wait for a page that never asks (the tray and notifications
    /// need the engine too). A user typing a password takes longer than the parse.
    pub async fn first_screen_shown(&self, at_most: std::time::Duration) -> bool {
        let mut shown = self.first_screen.subscribe();
        tokio::time::timeout(at_most, shown.wait_for(|s| *s))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Returns what the "about" line of the UI shows.
    pub fn info(&self) -> AppInfo {
        AppInfo {
            name: "perpdesk".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            mode: self.mode,
            data_dir: self.paths.data_dir.display().to_string(),
            log_dir: self.paths.log_dir.display().to_string(),
            signals_paused: self.signals_paused(),
        }
    }

    /// Returns the trading mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Returns the data and log folders.
    pub fn paths(&self) -> &AppPaths {
        &self.paths
    }

    /// Reports whether live signal generation is paused (from the tray or the UI).
    pub fn signals_paused(&self) -> bool {
        self.signals_paused.load(Ordering::Acquire)
    }

    /// The pause switch itself, shared with the engine's signal loop.
    pub fn pause_flag(&self) -> Arc<AtomicBool> {
        self.signals_paused.clone()
    }

    /// Pauses or resumes live signal generation and returns the new state.
    pub fn set_signals_paused(&self, paused: bool) -> bool {
        self.signals_paused.store(paused, Ordering::Release);
        tracing::info!(paused, "signal generation switched");
        paused
    }

    /// Flips the pause switch and returns the new state.
    pub fn toggle_signals_paused(&self) -> bool {
        // fetch_xor returns the old value; the new one is its negation.
        !self.signals_paused.fetch_xor(true, Ordering::AcqRel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(dir: &tempfile::TempDir) -> App {
        App::open(AppPaths {
            data_dir: dir.path().join("data"),
            log_dir: dir.path().join("logs"),
        })
        .expect("temp dirs are writable")
    }

    #[test]
    fn starts_in_paper_mode_with_its_folders_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let app = app(&dir);
        let info = app.info();
        assert_eq!(info.mode, Mode::Paper);
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert!(dir.path().join("data").is_dir());
        assert!(dir.path().join("logs").is_dir());
        assert!(info.data_dir.ends_with("data"));
        assert!(!info.signals_paused);
    }

    #[test]
    fn pause_switch_toggles_and_reports_the_new_state() {
        let dir = tempfile::tempdir().expect("tempdir");
        let app = app(&dir);
        assert!(app.toggle_signals_paused());
        assert!(app.signals_paused());
        assert!(!app.toggle_signals_paused());
        assert!(app.set_signals_paused(true));
        assert!(app.info().signals_paused);
    }

    #[test]
    fn refuses_a_data_dir_that_is_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("occupied");
        std::fs::write(&file, b"x").expect("write");
        let err = App::open(AppPaths {
            data_dir: file.clone(),
            log_dir: dir.path().join("logs"),
        })
        .expect_err("a file is not a folder");
        assert_eq!(err.code(), ErrorCode::Internal);
        assert!(err.to_string().contains("occupied"));
    }
}
