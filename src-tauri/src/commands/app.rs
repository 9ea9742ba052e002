//! Commands about the app itself: its identity, mode and UI preferences.

use perpdesk_app::{App, AppError, AppInfo, Language, Preferences, UiError};
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_store::StoreExt;

/// The store file (in the app's data folder) and key that hold the UI preferences.
const PREFERENCES_FILE: &str = "preferences.json";
const PREFERENCES_KEY: &str = "preferences";

/// Returns the version, mode and folders for the header and the about line.
#[tauri::command]
pub fn app_info(app: State<'_, App>) -> AppInfo {
    app.info()
}

/// Returns the saved UI preferences, or the defaults (Chinese, signals panel).
#[tauri::command]
pub fn preferences<R: Runtime>(
    handle: AppHandle<R>,
    app: State<'_, App>,
) -> Result<Preferences, UiError> {
    let store = handle
        .store(app.paths().data_dir.join(PREFERENCES_FILE))
        .map_err(internal)?;
    Ok(Preferences::from_saved(store.get(PREFERENCES_KEY)))
}

/// The user's interface language for words the shell shows itself (notifications, the tray):
/// the saved preference, or the default when none is saved or the store cannot be read.
pub fn language<R: Runtime>(handle: &AppHandle<R>) -> Language {
    let app = handle.state::<App>();
    handle
        .store(app.paths().data_dir.join(PREFERENCES_FILE))
        .map(|store| Preferences::from_saved(store.get(PREFERENCES_KEY)).language)
        .unwrap_or_default()
}

/// Validates and saves the UI preferences; nothing is written when they are invalid.
#[tauri::command]
pub fn set_preferences<R: Runtime>(
    handle: AppHandle<R>,
    app: State<'_, App>,
    preferences: serde_json::Value,
) -> Result<Preferences, UiError> {
    let preferences = Preferences::from_json(preferences)?;
    let store = handle
        .store(app.paths().data_dir.join(PREFERENCES_FILE))
        .map_err(internal)?;
    store.set(PREFERENCES_KEY, serde_json::json!(preferences));
    store.save().map_err(internal)?;
    crate::tray::relabel(&handle, preferences.language);
    Ok(preferences)
}

/// Pauses or resumes live signal generation; returns the new state.
#[tauri::command]
pub fn set_signals_paused(app: State<'_, App>, paused: bool) -> bool {
    app.set_signals_paused(paused)
}

fn internal(err: impl std::fmt::Display) -> UiError {
    AppError::Internal(err.to_string()).to_ui()
}

/// Whether perpdesk starts with the user's session (off unless the user turns it on).
#[tauri::command]
pub fn autostart<R: Runtime>(handle: AppHandle<R>) -> Result<bool, UiError> {
    use tauri_plugin_autostart::ManagerExt;
    handle.autolaunch().is_enabled().map_err(internal)
}

/// Turns starting with the user's session on or off and returns the new state.
#[tauri::command]
pub fn set_autostart<R: Runtime>(handle: AppHandle<R>, on: bool) -> Result<bool, UiError> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = handle.autolaunch();
    if on {
        launcher.enable().map_err(internal)?;
    } else {
        launcher.disable().map_err(internal)?;
    }
    launcher.is_enabled().map_err(internal)
}
