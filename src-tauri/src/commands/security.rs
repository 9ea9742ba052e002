//! The master password: first run, unlock, lock, auto-lock, changing it, user activity.

use perpdesk_app::{App, UiError, VaultStatus};
use perpdesk_vault::SecretString;
use tauri::State;

/// Whether a master password exists and whether the vault is open.
#[tauri::command]
pub async fn vault_status(app: State<'_, App>) -> Result<VaultStatus, UiError> {
    app.vault_status().await
}

/// First run: sets the master password and opens a funded paper account.
#[tauri::command]
pub async fn vault_setup(
    app: State<'_, App>,
    password: SecretString,
) -> Result<VaultStatus, UiError> {
    let engine = app.engine().await?;
    Ok(engine.first_run(password).await?)
}

/// Opens the vault.
#[tauri::command]
pub async fn vault_unlock(
    app: State<'_, App>,
    password: SecretString,
) -> Result<VaultStatus, UiError> {
    let engine = app.engine().await?;
    Ok(engine.unlock(password).await?)
}

/// Locks the vault now.
#[tauri::command]
pub async fn vault_lock(app: State<'_, App>) -> Result<VaultStatus, UiError> {
    Ok(app.engine().await?.vault_lock().await?)
}

/// Changes the master password; every stored secret is re-sealed, all or nothing.
#[tauri::command]
pub async fn change_master_password(
    app: State<'_, App>,
    current_password: SecretString,
    new_password: SecretString,
) -> Result<VaultStatus, UiError> {
    let engine = app.engine().await?;
    Ok(engine
        .change_master_password(current_password, new_password)
        .await?)
}

/// The user is active (the UI calls this at most every 30 s on input): restarts the
/// vault's idle time. Returns whether the vault is unlocked.
#[tauri::command]
pub async fn note_activity(app: State<'_, App>) -> Result<bool, UiError> {
    Ok(app.engine().await?.note_activity())
}

/// Sets the idle minutes before the vault locks itself (0 = never); a longer time or never
/// needs the master password again.
#[tauri::command]
pub async fn set_auto_lock(
    app: State<'_, App>,
    minutes: u32,
    password: Option<SecretString>,
) -> Result<VaultStatus, UiError> {
    Ok(app.engine().await?.set_auto_lock(minutes, password).await?)
}

/// Writes an encrypted backup of the database into the app's `exports/` folder.
#[tauri::command]
pub async fn export_backup(
    app: State<'_, App>,
    password: SecretString,
) -> Result<perpdesk_app::backup::BackupInfo, UiError> {
    let engine = app.engine().await?;
    Ok(engine
        .export_backup(&app.paths().exports_dir(), password)
        .await?)
}

/// Verifies a backup and stages it; a restart finishes the restore. A backup from before
/// the last password change also needs `current_password`.
#[tauri::command]
pub async fn import_backup(
    app: State<'_, App>,
    path: String,
    password: SecretString,
    current_password: Option<SecretString>,
) -> Result<perpdesk_app::backup::RestoreStaged, UiError> {
    let engine = app.engine().await?;
    Ok(engine
        .import_backup_with_current(
            std::path::Path::new(path.trim()),
            password,
            current_password,
            &app.paths().data_dir,
        )
        .await?)
}
