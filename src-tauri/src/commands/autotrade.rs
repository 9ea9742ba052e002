//! Auto-trading of signals per symbol (the switch in 预测信号): off until the user turns it
//! on, and turning it on needs their confirmation.

use perpdesk_app::autotrade::AutoTrade;
use perpdesk_app::{App, AppError, UiError};
use tauri::State;

/// The auto-trade settings; a symbol not listed is not traded.
#[tauri::command]
pub async fn auto_trade(app: State<'_, App>) -> Result<AutoTrade, UiError> {
    Ok(app.engine().await?.auto_trade().await?)
}

/// Saves the auto-trade settings; turning a symbol on needs `confirm: true`, and anything
/// that trades more needs the master password again.
#[tauri::command]
pub async fn set_auto_trade(
    app: State<'_, App>,
    settings: serde_json::Value,
    confirm: Option<bool>,
    password: Option<perpdesk_vault::SecretString>,
) -> Result<AutoTrade, UiError> {
    // Parsed here rather than by Tauri so a malformed value comes back as InvalidInput.
    let settings: AutoTrade = serde_json::from_value(settings)
        .map_err(|e| AppError::invalid("settings", e.to_string()))?;
    Ok(app
        .engine()
        .await?
        .set_auto_trade(settings, confirm.unwrap_or(false), password)
        .await?)
}
