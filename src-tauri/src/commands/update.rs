//! Updates: the setting, a check, and an install only when the user asks (`crate::update`).

use perpdesk_app::{App, AppError, UiError};
use tauri::{AppHandle, Runtime, State};

use crate::update::{UpdateInstalled, UpdateOffer, UpdateSettings, Updates};

/// The update settings (check on start: on unless the user turned it off).
#[tauri::command]
pub fn update_settings<R: Runtime>(
    handle: AppHandle<R>,
    app: State<'_, App>,
) -> Result<UpdateSettings, UiError> {
    crate::update::settings(&handle, &app.paths().data_dir).map_err(internal)
}

/// Saves the update settings and returns them.
#[tauri::command]
pub fn set_update_settings<R: Runtime>(
    handle: AppHandle<R>,
    app: State<'_, App>,
    check_on_start: bool,
) -> Result<UpdateSettings, UiError> {
    let settings = UpdateSettings { check_on_start };
    crate::update::save_settings(&handle, &app.paths().data_dir, settings).map_err(internal)?;
    Ok(settings)
}

/// Looks for a newer release; `null` when this is the newest. Downloads nothing.
#[tauri::command]
pub async fn check_update<R: Runtime>(
    handle: AppHandle<R>,
    updates: State<'_, Updates>,
) -> Result<Option<UpdateOffer>, UiError> {
    updates.check(&handle).await.map_err(|e| e.to_ui())
}

/// Downloads, verifies and installs the release the last check offered.
#[tauri::command]
pub async fn install_update(updates: State<'_, Updates>) -> Result<UpdateInstalled, UiError> {
    updates.install().await.map_err(|e| e.to_ui())
}

fn internal(err: String) -> UiError {
    AppError::Internal(err).to_ui()
}
