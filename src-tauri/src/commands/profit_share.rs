//! The profit-share panel's summary, the app's own check of a signed statement, and the
//! exchange-records export the platform can check statements with (issue 20).

use perpdesk_app::UiError;
use perpdesk_app::records::Exported;
use perpdesk_app::statements::{ProfitShareSummary, StatementCheckView};
use tauri::State;

use crate::host::Host;

/// The period so far, the mark, what settling now would pay, the terms, the last settlement
/// and the statement key's public half.
#[tauri::command]
pub async fn profit_share_summary(host: State<'_, Host>) -> Result<ProfitShareSummary, UiError> {
    Ok(host.engine().await?.profit_share_summary().await?)
}

/// Checks a stored statement (`settlementId`) or a statement's text (`statement`) against
/// this profile's key and the records the account synced.
#[tauri::command]
pub async fn verify_statement(
    host: State<'_, Host>,
    settlement_id: Option<i64>,
    statement: Option<String>,
) -> Result<StatementCheckView, UiError> {
    Ok(host
        .engine()
        .await?
        .verify_statement(settlement_id, statement.as_deref())
        .await?)
}

/// Writes the account's synced trades, income and order client ids as an exchange-records
/// export (JSON) into the app's `exports/` folder.
#[tauri::command]
pub async fn export_exchange_records(host: State<'_, Host>) -> Result<Exported, UiError> {
    let engine = host.engine().await?;
    Ok(engine.export_records(host.exports_dir()).await?)
}
