//! The engine's start-up in the desktop app: where the paper exchange's market data is, what
//! it lists, a staged restore, the database check, and the background tasks. [`crate::App`]
//! runs it once, in the background from the window's setup, so the window appears before the
//! market data has loaded; the database opens on its own, so the first screen (which needs
//! only the vault's state) does not wait for the market either.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use perpdesk_store::Store;

use crate::venue::{DEFAULT_SPEED, PaperSymbol, PaperVenue};
use crate::{AppError, AppPaths, Engine, EngineConfig, Events};

/// How often the background tasks (signals, sync, reconciliation) run.
const BACKGROUND_EVERY: Duration = Duration::from_secs(5);

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

/// Starts the paper exchange; without market data, or when it cannot start, the app runs
/// without one (and says why in the log) rather than not at all.
pub(crate) async fn paper_venue(paths: &AppPaths) -> Option<PaperVenue> {
    let Some(dir) = market_data_dir() else {
        tracing::error!("no market data found for paper mode (set PERPDESK_SHARED)");
        return None;
    };
    PaperVenue::start_listing(
        &dir,
        &paper_symbols(),
        Some(DEFAULT_SPEED),
        Some(paths.data_dir.join("paper-exchange.json")),
    )
    .await
    .inspect_err(|e| tracing::error!(error = %e, "paper exchange could not start"))
    .ok()
}

/// The app's database file.
pub(crate) fn database_path(paths: &AppPaths) -> PathBuf {
    paths.data_dir.join("perpdesk.db")
}

/// The database at `db`: a restore staged by import_backup is swapped in before anything
/// opens the file; then a damaged database stops here with the last backup named, untouched.
pub(crate) async fn open_store(paths: &AppPaths, db: &std::path::Path) -> Result<Store, AppError> {
    if crate::backup::apply_pending_restore(&paths.data_dir).await? {
        tracing::warn!("a backup was restored at start");
    }
    crate::backup::check_database(db, &paths.exports_dir()).await?;
    Ok(Store::open(db).await?)
}

/// The engine over the opened database and the paper exchange (if it could start), with its
/// background tasks running.
pub(crate) fn start_engine(
    paths: &AppPaths,
    store: Store,
    paper: Option<PaperVenue>,
    paused: Arc<AtomicBool>,
) -> Arc<Engine> {
    let config = EngineConfig {
        database: Some(database_path(paths)),
        ..EngineConfig::default()
    };
    let engine = Engine::with_store(config, store, paper, Events::new());
    let engine = Arc::new(engine.with_pause_flag(paused));
    // Signals, sync and reconciliation run for as long as the app does.
    engine.spawn_background(BACKGROUND_EVERY);
    engine
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths_in(dir: &std::path::Path) -> AppPaths {
        let paths = AppPaths {
            data_dir: dir.join("data"),
            log_dir: dir.join("logs"),
        };
        paths.create_dirs().expect("folders");
        paths
    }

    #[tokio::test]
    async fn the_database_is_created_at_a_first_start_and_a_damaged_one_is_left_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = paths_in(dir.path());
        let db = paths.data_dir.join("perpdesk.db");

        let store = open_store(&paths, &db).await.expect("a first start opens");
        store.close().await;
        assert!(db.exists(), "the database was created");
        // Opened again, as at a returning start.
        open_store(&paths, &db)
            .await
            .expect("a returning start opens")
            .close()
            .await;

        // Truncated to nothing: refused, never reopened as an empty database.
        std::fs::write(&db, b"").expect("truncate");
        let err = open_store(&paths, &db)
            .await
            .expect_err("a damaged database is refused");
        assert_eq!(err.code(), crate::ErrorCode::InvalidInput);
        assert!(err.to_string().contains("left untouched"), "{err}");
        assert_eq!(std::fs::read(&db).expect("still there"), b"");
    }

    #[tokio::test]
    async fn the_first_screen_reads_the_vault_from_the_database_without_opening_the_engine() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = paths_in(dir.path());
        let app = crate::App::open(paths.clone()).expect("app");
        assert!(
            !app.first_screen_shown(std::time::Duration::from_millis(20))
                .await,
            "no page has asked yet: the wait ends at its bound"
        );
        let status = app.vault_status().await.expect("first start");
        assert_eq!(
            status,
            crate::VaultStatus {
                initialized: false,
                locked: true,
                auto_lock_minutes: 15
            }
        );
        assert!(
            app.engine.get().is_none(),
            "the engine (and with it the paper market) is not opened for the first screen"
        );
        assert!(
            app.first_screen_shown(std::time::Duration::ZERO).await,
            "the shell may open the engine now"
        );

        // A vault set up in an earlier run, its auto-lock changed from the default.
        let password = || perpdesk_vault::SecretString::new("a long enough password 1".into());
        let config = EngineConfig {
            kdf: perpdesk_vault::KdfParams::insecure_for_tests(),
            ..EngineConfig::default()
        };
        let store = app.store().await.expect("store");
        let earlier = Engine::with_store(config, store.clone(), None, Events::new());
        earlier.vault_setup(password()).await.expect("vault set up");
        earlier
            .set_auto_lock(30, Some(password()))
            .await
            .expect("auto-lock set");
        drop(earlier);
        drop(app);
        store.close().await;

        let returning = crate::App::open(paths).expect("app");
        let status = returning.vault_status().await.expect("returning start");
        assert_eq!(
            status,
            crate::VaultStatus {
                initialized: true,
                locked: true,
                auto_lock_minutes: 30
            }
        );
        assert!(returning.engine.get().is_none());
    }
}
