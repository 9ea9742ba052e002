//! The engine inside the shell: opened once, in the background, so the window appears
//! before the market data has loaded; every command awaits it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use perpdesk_app::venue::{DEFAULT_SPEED, PaperSymbol, PaperVenue};
use perpdesk_app::{AppError, AppPaths, Engine, EngineConfig, Events, UiError};
use tokio::sync::OnceCell;

/// Managed state: where the engine lives and the engine once open.
pub struct Host {
    paths: AppPaths,
    paused: Arc<AtomicBool>,
    engine: OnceCell<Result<Arc<Engine>, UiError>>,
}

impl Host {
    /// A host whose engine keeps its database in `paths.data_dir`.
    pub fn new(paths: AppPaths, paused: Arc<AtomicBool>) -> Self {
        Self {
            paths,
            paused,
            engine: OnceCell::new(),
        }
    }

    /// Where CSV exports and backups are written.
    pub fn exports_dir(&self) -> PathBuf {
        self.paths.data_dir.join("exports")
    }

    /// The data folder (the database, the paper exchange's state, a staged restore).
    pub fn data_dir(&self) -> PathBuf {
        self.paths.data_dir.clone()
    }

    /// The engine, opening it on first use.
    ///
    /// # Errors
    /// The reason the database could not be opened: a damaged file names the last backup
    /// and is never recreated empty.
    pub async fn engine(&self) -> Result<Arc<Engine>, UiError> {
        self.engine
            .get_or_init(|| async {
                open(self.paths.clone(), self.paused.clone())
                    .await
                    .map_err(|e| e.to_ui())
            })
            .await
            .clone()
    }
}

/// Where the paper exchange's market data is: `PERPDESK_SHARED/data` when set (the README's
/// commands set it), else the `shared/data` folder beside the checkout of a development
/// build.
pub fn market_data_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PERPDESK_SHARED")
        && !dir.is_empty()
    {
        return Some(PathBuf::from(dir).join("data"));
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .take(5)
        .map(|d| d.join("shared").join("data"))
        .chain(
            exe.ancestors()
                .skip(1)
                .take(5)
                .map(|d| d.join("..").join("shared").join("data")),
        )
        .find(|d| d.is_dir())
}

/// What the paper exchange lists: the built-in symbols, or a developer's load-test list from
/// `PERPDESK_PAPER_SYMBOLS` (see [`PaperSymbol::parse_list`]; a bad list is reported and the
/// built-in symbols are used).
fn paper_symbols() -> Vec<PaperSymbol> {
    match std::env::var("PERPDESK_PAPER_SYMBOLS") {
        Ok(text) if !text.trim().is_empty() => PaperSymbol::parse_list(&text)
            .inspect(|list| {
                tracing::info!(
                    symbols = list.len(),
                    "paper symbols from PERPDESK_PAPER_SYMBOLS"
                )
            })
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "PERPDESK_PAPER_SYMBOLS ignored");
                PaperSymbol::defaults()
            }),
        _ => PaperSymbol::defaults(),
    }
}

async fn open(paths: AppPaths, paused: Arc<AtomicBool>) -> Result<Arc<Engine>, AppError> {
    let paper = match market_data_dir() {
        Some(dir) => match PaperVenue::start_listing(
            &dir,
            &paper_symbols(),
            Some(DEFAULT_SPEED),
            Some(paths.data_dir.join("paper-exchange.json")),
        )
        .await
        {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::error!(error = %e, "paper exchange could not start");
                None
            }
        },
        None => {
            tracing::error!("no market data found for paper mode (set PERPDESK_SHARED)");
            None
        }
    };
    // A restore staged by import_backup is swapped in before anything opens the file; then
    // a damaged database stops here with the last backup named, untouched.
    if perpdesk_app::backup::apply_pending_restore(&paths.data_dir).await? {
        tracing::warn!("a backup was restored at start");
    }
    let db = paths.data_dir.join("perpdesk.db");
    perpdesk_app::backup::check_database(&db, &paths.data_dir.join("exports")).await?;
    let config = EngineConfig {
        database: Some(db),
        ..EngineConfig::default()
    };
    let engine = Engine::open(config, paper, Events::new())
        .await
        .inspect_err(|e| tracing::error!(error = %e, "engine could not open"))?;
    let engine = Arc::new(engine.with_pause_flag(paused));
    // Signals, sync and reconciliation run for as long as the app does.
    engine.spawn_background(std::time::Duration::from_secs(5));
    Ok(engine)
}
