//! Exchange accounts (API配置).

use perpdesk_app::accounts::{ConnectionReport, NewKey};
use perpdesk_app::{AccountView, App, AppError, UiError};
use rust_decimal::Decimal;
use tauri::State;

/// Lists the accounts; secrets never cross, keys only as their last four characters.
#[tauri::command]
pub async fn accounts(app: State<'_, App>) -> Result<Vec<AccountView>, UiError> {
    Ok(app.engine().await?.accounts().await?)
}

/// Opens a paper account with a starting balance.
#[tauri::command]
pub async fn create_paper_account(
    app: State<'_, App>,
    name: String,
    balance: String,
) -> Result<AccountView, UiError> {
    let balance: Decimal = balance
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("balance", format!("{balance:?} is not a number")))?;
    Ok(app
        .engine()
        .await?
        .create_paper_account(&name, balance)
        .await?)
}

/// Binds a testnet or live key after testing it.
#[tauri::command]
pub async fn add_account(
    app: State<'_, App>,
    name: String,
    environment: String,
    api_key: String,
    // Deserialized straight into the wiping type; the JSON text of the request, which Tauri
    // owns, is not ours to wipe (SECURITY.md).
    api_secret: perpdesk_vault::SecretString,
) -> Result<AccountView, UiError> {
    let environment = serde_json::from_value(serde_json::Value::String(environment.clone()))
        .map_err(|_| {
            AppError::invalid(
                "environment",
                format!("unknown environment {environment:?}"),
            )
        })?;
    let (view, _report) = app
        .engine()
        .await?
        .add_account(NewKey {
            name,
            environment,
            api_key,
            api_secret,
        })
        .await?;
    Ok(view)
}

/// Renames an account or replaces its key.
#[tauri::command]
pub async fn update_account(
    app: State<'_, App>,
    id: i64,
    name: String,
    api_key: Option<String>,
    api_secret: Option<perpdesk_vault::SecretString>,
) -> Result<AccountView, UiError> {
    let key = match (api_key.as_deref(), api_secret.as_ref().map(|s| s.expose())) {
        (Some(k), Some(s)) if !k.is_empty() || !s.is_empty() => Some((k, s)),
        (None | Some(""), None | Some("")) => None,
        _ => {
            return Err(AppError::invalid("apiSecret", "a new key needs its secret too").into());
        }
    };
    Ok(app.engine().await?.update_account(id, &name, key).await?)
}

/// Archives an account (refused while it has positions).
#[tauri::command]
pub async fn remove_account(app: State<'_, App>, id: i64) -> Result<(), UiError> {
    Ok(app.engine().await?.remove_account(id).await?)
}

/// Makes an account the one trades go to.
#[tauri::command]
pub async fn set_active_account(
    app: State<'_, App>,
    id: i64,
    confirm_live: Option<bool>,
) -> Result<AccountView, UiError> {
    Ok(app
        .engine()
        .await?
        .set_active_account(id, confirm_live.unwrap_or(false))
        .await?)
}

/// Runs every connection check on a saved account.
#[tauri::command]
pub async fn test_connection(app: State<'_, App>, id: i64) -> Result<ConnectionReport, UiError> {
    Ok(app.engine().await?.test_connection(id).await?)
}
