//! Signed updates, never applied without the user's word.
//!
//! The updater plugin reads `latest.json` from the release endpoints in `tauri.conf.json`,
//! and every artifact it downloads must carry a minisign signature made by the release key
//! whose public half is in the same file (the private half exists only as a CI secret). Here:
//! the user's setting "check on start" (on by default; a check only looks), the one update
//! found and offered, and its download, verification and installation when the user says so.
//! A check never downloads; an install always verifies before it writes anything.
//! `latest.json` itself is unsigned, so `requireSignedVersion` makes the plugin compare its
//! announced version with the one inside the signature's trusted comment: an old release
//! replayed under a newer number is refused, and only versions above the running one are offered.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use perpdesk_app::UiError;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_store::StoreExt;
use tauri_plugin_updater::UpdaterExt;

/// The store file (in the app's data folder) and key of the update settings.
const SETTINGS_FILE: &str = "updater.json";
const SETTINGS_KEY: &str = "settings";

/// The user's update settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSettings {
    /// Look for a newer release at start (only looks: installing always asks).
    pub check_on_start: bool,
}

impl Default for UpdateSettings {
    fn default() -> Self {
        Self {
            check_on_start: true,
        }
    }
}

/// A newer release the user can choose to install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOffer {
    /// The release's version.
    pub version: String,
    /// The running version.
    pub current_version: String,
    /// The release notes, when the manifest has them.
    pub notes: Option<String>,
}

/// What an install did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInstalled {
    /// The version now installed; it runs from the next start.
    pub version: String,
}

/// Why an update could not be checked or installed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// Install was asked for before a check found anything.
    #[error("there is no update to install; check for updates first")]
    NothingOffered,
    /// The update server could not be reached, or its answer was unusable.
    #[error("the update server could not be reached or sent an unusable answer: {0}")]
    Unreachable(String),
    /// The download is not what the release key signed: tampered, or signed by another key.
    #[error(
        "the downloaded update is not signed by perpdesk's release key, so it was not installed ({0})"
    )]
    BadSignature(String),
    /// Genuinely signed, but for another version than the server announced: an older release
    /// replayed under a newer number (a downgrade), or a signature that names no version.
    #[error(
        "the downloaded update is signed as a different version than the update server announced, so it was not installed ({0})"
    )]
    WrongVersion(String),
    /// This build cannot update itself (no endpoints, unsupported system).
    #[error("this build cannot update itself: {0}")]
    Unsupported(String),
    /// Verified, but writing the new version failed; the running one is untouched.
    #[error("the update was verified but could not be installed: {0}")]
    Install(String),
}

impl UpdateError {
    /// Sorts the plugin's errors into what the user can act on.
    fn from_plugin(err: tauri_plugin_updater::Error) -> Self {
        use tauri_plugin_updater::Error as E;
        let text = err.to_string();
        match err {
            E::Minisign(_) | E::Base64(_) | E::SignatureUtf8(_) => Self::BadSignature(text),
            E::SignedVersionMismatch { .. } | E::MissingSignedVersion => Self::WrongVersion(text),
            E::EmptyEndpoints
            | E::UnsupportedArch
            | E::UnsupportedOs
            | E::InsecureTransportProtocol
            | E::FailedToDetermineExtractPath => Self::Unsupported(text),
            E::Reqwest(_)
            | E::Network(_)
            | E::ReleaseNotFound
            | E::Serialization(_)
            | E::UrlParse(_)
            | E::Semver(_)
            | E::TargetNotFound(_)
            | E::TargetsNotFound(_) => Self::Unreachable(text),
            _ => Self::Install(text),
        }
    }

    /// The `{code, message}` the UI shows; the codes are the app's own.
    pub fn to_ui(&self) -> UiError {
        let code = match self {
            Self::NothingOffered => "NotFound",
            Self::Unreachable(_) => "Unavailable",
            Self::BadSignature(_)
            | Self::WrongVersion(_)
            | Self::Unsupported(_)
            | Self::Install(_) => "Internal",
        };
        UiError {
            code,
            message: self.to_string(),
            rule: None,
        }
    }
}

/// The shell's update state: the offered release, waiting for the user.
pub struct Updates {
    offered: Mutex<Option<tauri_plugin_updater::Update>>,
    install_path: Option<PathBuf>,
}

impl Updates {
    /// Updates for the running app (installed over its own executable or AppImage).
    pub fn new() -> Self {
        Self {
            offered: Mutex::new(None),
            install_path: None,
        }
    }

    /// Updates that install over `path` instead of the running app (tests, a packaged
    /// copy elsewhere).
    pub fn installing_to(path: PathBuf) -> Self {
        Self {
            offered: Mutex::new(None),
            install_path: Some(path),
        }
    }

    fn updater<R: Runtime>(
        &self,
        app: &AppHandle<R>,
    ) -> Result<tauri_plugin_updater::Updater, UpdateError> {
        let mut builder = app.updater_builder();
        if let Some(path) = &self.install_path {
            builder = builder.executable_path(path);
        }
        builder.build().map_err(UpdateError::from_plugin)
    }

    /// Asks the release endpoints for a newer version and remembers it as the offer; `None`
    /// when the running version is the newest. Downloads nothing.
    ///
    /// # Errors
    /// [`UpdateError::Unreachable`] or [`UpdateError::Unsupported`].
    pub async fn check<R: Runtime>(
        &self,
        app: &AppHandle<R>,
    ) -> Result<Option<UpdateOffer>, UpdateError> {
        let found = self
            .updater(app)?
            .check()
            .await
            .map_err(UpdateError::from_plugin)?;
        let offer = found.as_ref().map(|u| UpdateOffer {
            version: u.version.clone(),
            current_version: u.current_version.clone(),
            notes: u.body.clone(),
        });
        *self.offered.lock().unwrap_or_else(PoisonError::into_inner) = found;
        Ok(offer)
    }

    /// Downloads the offered release, verifies its signature against the release key and
    /// installs it. A refused signature leaves the offer in place and installs nothing.
    ///
    /// # Errors
    /// [`UpdateError::NothingOffered`], [`UpdateError::Unreachable`],
    /// [`UpdateError::BadSignature`], [`UpdateError::WrongVersion`] or [`UpdateError::Install`].
    pub async fn install(&self) -> Result<UpdateInstalled, UpdateError> {
        let update = self
            .offered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(UpdateError::NothingOffered)?;
        // `download` verifies the bytes before returning them; `install` verifies again, so
        // nothing unverified can reach the installer even if this code changes.
        let bytes = update
            .download(|_, _| {}, || {})
            .await
            .map_err(UpdateError::from_plugin)?;
        update.install(bytes).map_err(UpdateError::from_plugin)?;
        tracing::info!(version = %update.version, "update installed; it runs from the next start");
        *self.offered.lock().unwrap_or_else(PoisonError::into_inner) = None;
        Ok(UpdateInstalled {
            version: update.version,
        })
    }
}

impl Default for Updates {
    fn default() -> Self {
        Self::new()
    }
}

/// The saved update settings, or the defaults (check on start).
///
/// # Errors
/// When the settings file cannot be opened.
pub fn settings<R: Runtime>(
    app: &AppHandle<R>,
    data_dir: &std::path::Path,
) -> Result<UpdateSettings, String> {
    let store = app
        .store(data_dir.join(SETTINGS_FILE))
        .map_err(|e| e.to_string())?;
    Ok(store
        .get(SETTINGS_KEY)
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

/// Saves the update settings.
///
/// # Errors
/// When the settings file cannot be written.
pub fn save_settings<R: Runtime>(
    app: &AppHandle<R>,
    data_dir: &std::path::Path,
    settings: UpdateSettings,
) -> Result<(), String> {
    let store = app
        .store(data_dir.join(SETTINGS_FILE))
        .map_err(|e| e.to_string())?;
    store.set(SETTINGS_KEY, serde_json::json!(settings));
    store.save().map_err(|e| e.to_string())
}

/// At start, when the user lets it: looks for a newer release in the background and tells the
/// page (`update-available`), which asks the user. A failed check is only logged: being
/// offline must not nag.
pub fn check_on_start<R: Runtime>(app: AppHandle<R>, data_dir: PathBuf) {
    match settings(&app, &data_dir) {
        Ok(s) if s.check_on_start => {}
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(error = %e, "update settings unreadable; not checking");
            return;
        }
    }
    tauri::async_runtime::spawn(async move {
        let updates = app.state::<Updates>();
        match updates.check(&app).await {
            Ok(Some(offer)) => {
                tracing::info!(version = %offer.version, "update available");
                if let Err(e) = app.emit(crate::events::UPDATE_AVAILABLE, &offer) {
                    tracing::warn!(error = %e, "could not tell the page about the update");
                }
            }
            Ok(None) => tracing::info!("no newer release"),
            Err(e) => tracing::warn!(error = %e, "update check at start failed"),
        }
    });
}
