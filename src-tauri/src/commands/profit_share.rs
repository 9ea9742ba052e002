//! The profit-share panel's summary, the app's own check of a signed statement, and the
//! exchange-records export the platform can check statements with (issue 20).

use perpdesk_app::records::Exported;
use perpdesk_app::statements::{ProfitShareSummary, StatementCheckView};
use perpdesk_app::{App, UiError};
use tauri::State;

/// The period so far, the mark, what settling now would pay, the terms, the last settlement
/// and the statement key's public half.
#[tauri::command]
pub async fn profit_share_summary(app: State<'_, App>) -> Result<ProfitShareSummary, UiError> {
    Ok(app.engine().await?.profit_share_summary().await?)
}

/// Checks a stored statement (`settlementId`) or a statement's text (`statement`) against
/// this profile's key and the records the account synced.
#[tauri::command]
pub async fn verify_statement(
    app: State<'_, App>,
    settlement_id: Option<i64>,
    statement: Option<String>,
) -> Result<StatementCheckView, UiError> {
    Ok(app
        .engine()
        .await?
        .verify_statement(settlement_id, statement.as_deref())
        .await?)
}

/// Writes the account's synced trades, income and order client ids as an exchange-records
/// export (JSON) into the app's `exports/` folder.
#[tauri::command]
pub async fn export_exchange_records(app: State<'_, App>) -> Result<Exported, UiError> {
    let engine = app.engine().await?;
    Ok(engine.export_records(app.paths().exports_dir()).await?)
}
