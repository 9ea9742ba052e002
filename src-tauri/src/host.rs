//! The engine inside the shell: opened once, in the background, so the window appears
//! before the market data has loaded; every command awaits it.

use std::path::PathBuf;
use std::sync::Arc;

use perpdesk_app::venue::{DEFAULT_SPEED, PaperVenue};
use perpdesk_app::{AppError, AppPaths, Engine, EngineConfig, Events, UiError};
use tokio::sync::OnceCell;

/// Managed state: where the engine lives and the engine once open.
pub struct Host {
    paths: AppPaths,
    engine: OnceCell<Result<Arc<Engine>, String>>,
}

impl Host {
    /// A host whose engine keeps its database in `paths.data_dir`.
    pub fn new(paths: AppPaths) -> Self {
        Self {
            paths,
            engine: OnceCell::new(),
        }
    }

    /// The engine, opening it on first use.
    ///
    /// # Errors
    /// `Internal` when the database could not be opened (the log says why).
    pub async fn engine(&self) -> Result<Arc<Engine>, UiError> {
        self.engine
            .get_or_init(|| open(self.paths.clone()))
            .await
            .clone()
            .map_err(|m| AppError::Internal(m).to_ui())
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

async fn open(paths: AppPaths) -> Result<Arc<Engine>, String> {
    let paper = match market_data_dir() {
        Some(dir) => match PaperVenue::start(
            &dir,
            Some(DEFAULT_SPEED),
            Some(paths.data_dir.join("paper-exchange.json")),
        )
        .await {
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
    let config = EngineConfig {
        database: Some(paths.data_dir.join("perpdesk.db")),
        ..EngineConfig::default()
    };
    let engine = Engine::open(config, paper, Events::new())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "engine could not open");
            e.to_string()
        })?;
    Ok(Arc::new(engine))
}
