//! Records (交易记录) and the profit share (分润).

use perpdesk_app::records::{Exported, LedgerSettings, LedgerView, StatementView, TradeView};
use perpdesk_app::sync::SyncReport;
use perpdesk_app::{App, AppError, UiError};
use perpdesk_core::{Period, PeriodPnl};
use tauri::State;

fn period(name: &str) -> Result<Period, AppError> {
    match name {
        "day" | "daily" => Ok(Period::Day),
        "week" | "weekly" => Ok(Period::Week),
        "month" | "monthly" => Ok(Period::Month),
        other => Err(AppError::invalid(
            "period",
            format!("unknown period {other:?}; use day, week or month"),
        )),
    }
}

/// Stored fills, newest first.
#[tauri::command]
pub async fn trades(
    app: State<'_, App>,
    symbol: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> Result<Vec<TradeView>, UiError> {
    Ok(app
        .engine()
        .await?
        .trades(symbol.as_deref(), from_ms, to_ms)
        .await?)
}

/// Realised PnL, commission, funding and net per period.
#[tauri::command]
pub async fn pnl(app: State<'_, App>, period: String) -> Result<Vec<PeriodPnl>, UiError> {
    let p = self::period(&period)?;
    Ok(app.engine().await?.pnl(p).await?)
}

/// Reconciles and syncs now; progress arrives as `sync_progress` events.
#[tauri::command]
pub async fn sync_now(app: State<'_, App>) -> Result<SyncReport, UiError> {
    Ok(app.engine().await?.sync_now().await?)
}

/// Writes a CSV export into the app's `exports/` folder.
#[tauri::command]
pub async fn export_csv(
    app: State<'_, App>,
    kind: String,
    period: Option<String>,
) -> Result<Exported, UiError> {
    let p = period.as_deref().map(self::period).transpose()?;
    let engine = app.engine().await?;
    Ok(engine
        .export_csv(app.paths().exports_dir(), &kind, p)
        .await?)
}

/// The ledger, its totals, the high-water mark and what is owed now.
#[tauri::command]
pub async fn ledger(app: State<'_, App>) -> Result<LedgerView, UiError> {
    Ok(app.engine().await?.ledger().await?)
}

/// Statement totals per period.
#[tauri::command]
pub async fn statements(
    app: State<'_, App>,
    period: String,
) -> Result<Vec<StatementView>, UiError> {
    let p = self::period(&period)?;
    Ok(app.engine().await?.statements(p).await?)
}

/// The profit-share settings.
#[tauri::command]
pub async fn ledger_settings(app: State<'_, App>) -> Result<LedgerSettings, UiError> {
    Ok(app.engine().await?.ledger_settings().await?)
}

/// Validates and saves the profit-share settings.
#[tauri::command]
pub async fn set_ledger_settings(
    app: State<'_, App>,
    platform_ratio: String,
    mode: String,
    include_manual: bool,
    period: String,
    password: Option<perpdesk_vault::SecretString>,
) -> Result<LedgerSettings, UiError> {
    let settings = LedgerSettings {
        platform_ratio: platform_ratio.trim().parse().map_err(|_| {
            AppError::invalid(
                "platform_ratio",
                format!("{platform_ratio:?} is not a number"),
            )
        })?,
        mode: serde_json::from_value(serde_json::Value::String(mode.clone()))
            .map_err(|_| AppError::invalid("mode", format!("unknown mode {mode:?}")))?,
        include_manual,
        period: serde_json::from_value(serde_json::Value::String(period.clone())).map_err(
            |_| {
                AppError::invalid(
                    "period",
                    format!("unknown period {period:?}; use daily, weekly or monthly"),
                )
            },
        )?,
    };
    Ok(app
        .engine()
        .await?
        .set_ledger_settings(settings, password)
        .await?)
}

/// Settles what is owed now (an append-only settlement row).
#[tauri::command]
pub async fn settle(app: State<'_, App>) -> Result<serde_json::Value, UiError> {
    Ok(app.engine().await?.settle().await?)
}
